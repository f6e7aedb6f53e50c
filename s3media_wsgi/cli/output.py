"""How ``s3media`` talks: exit codes, the two ways a command fails, the console and ``check``'s report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

OK = 0
FAILED = 1
USAGE = 2
INTERRUPTED = 130

EXIT_CODES = """\
exit codes:
  0    everything succeeded (check: every check passed)
  1    a check or an operation failed: the output says which, and how to fix it
  2    usage or configuration error: the message names the flag or S3MEDIA_* setting to fix
  130  interrupted (Ctrl-C)"""

SETTINGS_HELP = """\
settings:
  Read from S3MEDIA_* environment variables, as the app reads them (S3MEDIA_STORAGE,
  S3MEDIA_BUCKET, S3MEDIA_REGION, S3MEDIA_ENDPOINT_URL, S3MEDIA_BASE_URL, S3MEDIA_PREFIX,
  S3MEDIA_DELIVERY, S3MEDIA_PRIVATE, S3MEDIA_SECRET_KEY...); the flags override them.
  A bucket given as a flag or argument means S3MEDIA_STORAGE=s3; --delivery private
  means S3MEDIA_PRIVATE=true.  AWS credentials come from boto3's usual places
  (AWS_ACCESS_KEY_ID..., AWS_PROFILE, an IAM role)."""


class UsageError(Exception):
    """A usage or configuration error: exit 2, the message names what to fix."""


class Failed(Exception):
    """An operation failed: exit 1, the message says what happened and how to fix it."""


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _encodes(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Console:
    """Where output goes, and how it looks.

    On a terminal (and unless ``NO_COLOR`` is set) check results are ``✔``/``✘``
    in colour; anywhere else (a pipe, a file, a CI log) they are the plain
    words ``[ok]``, ``[FAIL]`` and ``[skip]``, which grep and any encoding can
    read.
    """

    def __init__(self, out: TextIO, err: TextIO, environ: Mapping[str, str]) -> None:
        self.out = out
        self.err = err
        self.tty = _isatty(out)
        self.fancy = self.tty and not environ.get("NO_COLOR") and _encodes(out, "✔✘–→")
        self.arrow = "→" if _encodes(out, "→") else "->"

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def mark(self, status: str) -> str:
        if not self.fancy:
            return {"ok": "[ok]  ", "fail": "[FAIL]", "skip": "[skip]"}[status]
        symbol, colour = {"ok": ("✔", "32"), "fail": ("✘", "31"), "skip": ("–", "2")}[status]
        return f"\033[{colour}m{symbol}\033[0m"


class Report:
    """The lines of ``check``: one per check, with how to fix each failure."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.passed = self.failed = self.skipped = 0

    def line(self, status: str, name: str, detail: str, fix: str = "") -> None:
        self.console.print(f"{self.console.mark(status)} {name}: {detail}")
        if fix:
            self.console.print(f"    fix: {fix}")

    def ok(self, name: str, detail: str) -> None:
        self.passed += 1
        self.line("ok", name, detail)

    def fail(self, name: str, problem: str, fix: str = "") -> None:
        self.failed += 1
        self.line("fail", name, problem, fix)

    def skip(self, name: str, reason: str) -> None:
        self.skipped += 1
        self.line("skip", name, reason)

    def summary(self) -> None:
        total = self.passed + self.failed
        skipped = f" ({self.skipped} skipped)" if self.skipped else ""
        if self.failed:
            self.console.print(f"{self.failed} of {total} checks failed{skipped}")
        else:
            self.console.print(f"all {total} checks passed{skipped}")
