"""``manage.py s3media COMMAND``: the ``s3media`` subcommands on ``settings.S3MEDIA``, plus ``import`` and ``gc``.

    manage.py s3media check --app-url https://app.example.com
    manage.py s3media put ./photos
    manage.py s3media url ID --size 400x300
    manage.py s3media import photos.Photo.image --dry-run     # first: how many rows and bytes
    manage.py s3media import photos.Photo.image --batch-size 200
    manage.py s3media gc                                      # dry: count and bytes of unreferenced originals
    manage.py s3media gc --delete --grace 172800

The ``s3media`` subcommands (``setup-bucket``, ``setup-cdn``, ``check``,
``put``, ``url``, ``delete``, ``purge-resizes``) take their settings from
``settings.S3MEDIA`` instead of ``S3MEDIA_*`` environment variables (their
flags still override them).  ``import`` and ``gc`` are Django's own: see
:mod:`s3media_wsgi.adapters.django.sweep`.  Exit codes are the ``s3media``
command's (1: an operation failed, 2: a usage or configuration error).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ..... import cli
from .....errors import MediaError
from .....settings import DJANGO_SETTING, ENV_PREFIX
from ... import get_media
from ...sweep import DEFAULT_BATCH, DEFAULT_GRACE, UnknownValue, collect_garbage, import_field, resolve_field

#: The subcommands this module runs itself; every other one is the ``s3media`` command's.
OWN = ("import", "gc")


def cli_environ() -> dict[str, Any]:
    """The environment the ``s3media`` command sees: ``settings.S3MEDIA`` as ``S3MEDIA_*`` keys, over no others."""
    from django.conf import settings

    environ: dict[str, Any] = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    for key, value in (getattr(settings, DJANGO_SETTING, None) or {}).items():
        environ[ENV_PREFIX + str(key).upper()] = value
    return environ


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


class Command(BaseCommand):
    help = (
        "Media tooling on settings.S3MEDIA: the s3media command's subcommands (setup-bucket, setup-cdn, check, "
        "put, url, delete, purge-resizes), and import (a FileField's legacy files into media) and gc "
        "(unreferenced originals). `manage.py s3media COMMAND --help` for each."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", metavar="COMMAND", help=f"{', '.join(OWN)}, or an s3media subcommand")
        parser.add_argument("rest", nargs=argparse.REMAINDER, help="its arguments")

    def handle(self, *args: Any, **options: Any) -> None:
        command, rest = options["subcommand"], list(options["rest"])
        if command == "import":
            self._import(rest)
        elif command == "gc":
            self._gc(rest)
        else:
            # The streams under Django's wrappers, which would end each print()'s pieces with a newline.
            out: TextIO = getattr(self.stdout, "_out", sys.stdout)
            err: TextIO = getattr(self.stderr, "_out", sys.stderr)
            code = cli.main([command, *rest], environ=cli_environ(), stdout=out, stderr=err)
            if code:
                raise CommandError(f"s3media {command} exited with {code}", returncode=code)

    def _parser(self, name: str, description: str) -> argparse.ArgumentParser:
        return argparse.ArgumentParser(prog=f"manage.py s3media {name}", description=description)

    def _parse(self, parser: argparse.ArgumentParser, rest: list[str]) -> argparse.Namespace:
        try:
            return parser.parse_args(rest)
        except SystemExit as exc:  # --help (0) or a usage error (2), already printed
            if exc.code:
                raise CommandError("usage error", returncode=cli.USAGE) from None
            raise

    def _import(self, rest: list[str]) -> None:
        parser = self._parser("import", "Move a FileField's legacy files into media and rewrite its rows.")
        parser.add_argument("field", help="app_label.Model.field, on MediaStorage")
        parser.add_argument("--dry-run", action="store_true", help="count the rows and bytes; change nothing")
        parser.add_argument("--batch-size", type=_positive(int), default=DEFAULT_BATCH, help="rows per transaction")
        parser.add_argument("--delete-old", action="store_true", help="delete each legacy file once its row moved")
        args = self._parse(parser, rest)
        try:
            model, file_field = resolve_field(args.field)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=cli.USAGE) from None
        try:
            report = import_field(
                model,
                file_field,
                batch_size=args.batch_size,
                dry_run=args.dry_run,
                delete_old=args.delete_old,
                progress=None if args.dry_run else self.stderr.write,
            )
        except MediaError as exc:
            raise CommandError(f"import stopped: {exc}", returncode=cli.FAILED) from None
        for pk, name, why in report.failed:
            self.stderr.write(f"row {pk}: {name}: {why}")
        if args.dry_run:
            self.stdout.write(f"dry run: {report.rows} rows to import, {report.bytes} bytes")
            return
        self.stdout.write(f"imported {report.imported} of {report.rows} rows, {report.bytes} bytes stored")
        if report.failed:
            raise CommandError(f"{len(report.failed)} rows not imported (see above)", returncode=cli.FAILED)

    def _gc(self, rest: list[str]) -> None:
        parser = self._parser("gc", "Find (and with --delete, delete) originals no row holds.")
        parser.add_argument(
            "--grace",
            type=_positive(float),
            default=DEFAULT_GRACE,
            metavar="SECONDS",
            help=f"count only originals stored longer ago than this (default {DEFAULT_GRACE})",
        )
        parser.add_argument("--delete", action="store_true", help="delete them (the default is a dry run)")
        args = self._parse(parser, rest)
        try:
            garbage = collect_garbage(get_media(), grace=args.grace, delete=args.delete)
        except UnknownValue as exc:
            raise CommandError(f"gc stopped, nothing deleted: {exc}", returncode=cli.FAILED) from None
        except MediaError as exc:
            raise CommandError(f"gc stopped: {exc}", returncode=cli.FAILED) from None
        verb = "deleted" if args.delete else "dry run: would delete"
        self.stdout.write(f"{verb} {len(garbage.ids)} originals no row holds, {garbage.bytes} bytes")
        if not args.delete and garbage.ids:
            self.stdout.write("run again with --delete to delete them")
