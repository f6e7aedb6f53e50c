"""The ``s3media`` command (also ``python -m s3media_wsgi``): production tooling for s3media_wsgi.

Subcommands::

    s3media setup-bucket BUCKET --app-url URL   create and configure a bucket for a delivery mode
    s3media setup-cdn BUCKET --dry-run          print a CloudFront DistributionConfig for it
    s3media check                               check a deployment, down to a resize round trip
    s3media put PATH...                         store files (folders recursively), print their ids
    s3media url ID [--size 400x300 ...]         print the URL of an original or of a resize
    s3media delete ID...                        delete media: the original and every resize
    s3media purge-resizes ID...                 delete every resize, keep the originals

Settings are read from ``S3MEDIA_*`` environment variables exactly as the app
reads them (:func:`~s3media_wsgi.settings.parse_settings`), and flags
(``--bucket``, ``--region``, ``--endpoint-url``, ``--base-url``, ``--prefix``,
``--delivery``) override them.  AWS credentials come from boto3's usual places.

Exit codes: 0 everything succeeded; 1 a check or an operation failed (the
output says which, and how to fix it); 2 a usage or configuration error (the
message names the flag or setting to fix); 130 interrupted.

The documents ``setup-bucket`` applies are built by :mod:`s3media_wsgi.bucket`,
so ``--dry-run`` prints exactly what a real run applies.

The package, one job a module: :mod:`.output` (exit codes, the console,
``check``'s report), :mod:`.config` (settings from the environment and the
flags), :mod:`.advice` (S3 failures said with what to do), :mod:`.setup`
(``setup-bucket``, ``setup-cdn``), :mod:`.check` (``check``),
:mod:`.media_commands` (``put``, ``url``, ``delete``, ``purge-resizes``),
:mod:`.parser` (the argument parser); this module runs the command (:func:`main`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from .config import load_settings
from .output import EXIT_CODES, FAILED, INTERRUPTED, OK, USAGE, Console, Failed, UsageError
from .parser import make_parser


def _logging(verbose: bool) -> None:
    logger = logging.getLogger("s3media_wsgi")
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    elif not logger.handlers:
        # The command says what went wrong itself; without this, Python's last-resort
        # handler would print the library's warnings a second time.
        logger.addHandler(logging.NullHandler())


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``s3media`` with *argv* (default: the command line); return its exit code.

    *environ* gives the ``S3MEDIA_*`` settings (default ``os.environ``).
    Never raises :class:`SystemExit`: ``--help`` and usage errors return their code.
    """
    environ = os.environ if environ is None else environ
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else USAGE
    console = Console(out, err, environ)
    _logging(args.verbose)
    try:
        code: int = args.run(args, console, environ)
        return code
    except UsageError as exc:
        print(f"s3media {args.command}: error: {exc}", file=err, flush=True)
        return USAGE
    except Failed as exc:
        print(f"s3media {args.command}: {exc}", file=err, flush=True)
        return FAILED
    except KeyboardInterrupt:
        print("s3media: interrupted", file=err, flush=True)
        return INTERRUPTED


__all__ = ["EXIT_CODES", "FAILED", "OK", "USAGE", "Console", "load_settings", "main", "make_parser"]
