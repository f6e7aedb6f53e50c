"""``s3media put``, ``url``, ``delete`` and ``purge-resizes``: media managed from a shell."""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from .. import ids
from ..bounded import READ_CHUNK
from ..errors import MediaError
from ..limits import too_large_message
from ..media import Media
from .advice import explain
from .config import _app_url, build_media, load_settings
from .output import FAILED, OK, Console, Failed, UsageError


class _Refused(Exception):
    """A path ``put`` refuses before handing its bytes to Media; the message says why."""


def _files(paths: Sequence[str]) -> Iterator[tuple[str, int, str | None]]:
    """``(path, size, problem)`` of every file under *paths*, folders walked in name order, hidden entries skipped.

    *problem* is None for a regular file, else why it cannot be stored: no
    such path, not a regular file (a device, a pipe, a socket: reading one
    could block or never end), or a folder that cannot be listed.  Inside a
    folder, entries that are not regular files (links to nowhere, pipes...)
    are passed over, as hidden ones are.
    """
    for given in paths:
        try:
            info = os.stat(given)
        except (FileNotFoundError, NotADirectoryError):
            yield given, 0, "no such file or folder"
            continue
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            yield given, 0, f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
            continue
        if stat.S_ISREG(info.st_mode):
            yield given, info.st_size, None
        elif stat.S_ISDIR(info.st_mode):
            failures: list[OSError] = []
            for folder, subfolders, names in os.walk(given, onerror=failures.append):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for name in sorted(names):
                    full = str(Path(folder, name))
                    try:
                        entry = os.stat(full)
                    except OSError:  # a link to nowhere, or gone since it was listed
                        continue
                    if not name.startswith(".") and stat.S_ISREG(entry.st_mode):
                        yield full, entry.st_size, None
            for failure in failures:
                yield str(failure.filename or given), 0, f"cannot be read: {failure.strerror or failure}"
        else:
            yield given, 0, "not a regular file (a device, a pipe or a socket)"


def _read_file(path: str, limit: int) -> bytes:
    """At most *limit* + 1 bytes of the regular file *path*: enough to know it is over *limit*, never more.

    Opened without waiting (a pipe swapped in since it was listed is refused,
    not waited on); :class:`_Refused` when it is no longer a regular file or
    has grown over *limit*, :class:`OSError` when it cannot be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("not a regular file (a device, a pipe or a socket)")
        if info.st_size > limit:
            raise _Refused(too_large_message(limit))
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def cmd_put(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    media = build_media(load_settings(args, environ), args.storage_budget)
    files = list(_files(args.paths))
    total = sum(size for _, size, _ in files)
    bar: Any = tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=console.out,
        disable=not console.tty,
        dynamic_ncols=True,
        desc="put",
    )
    stored = refused = 0
    limit = media.max_upload_bytes

    def say(text: str, stream: TextIO) -> None:
        # A file name need not be text: an undecodable byte arrives as a lone
        # surrogate, which no stream can write.  Shown escaped instead.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        text = text.encode(encoding, "backslashreplace").decode(encoding)
        if console.tty:
            tqdm.write(text, file=stream)
        else:
            print(text, file=stream, flush=True)

    try:
        for path, size, problem in files:
            try:
                if problem is not None:
                    raise _Refused(problem)
                if size > limit:  # judged by its size: not one byte read
                    raise _Refused(too_large_message(limit))
                try:
                    data = _read_file(path, limit)
                except OSError as exc:
                    raise _Refused(f"cannot be read: {exc.strerror or exc}") from None
                media_id = media.put(data, filename=os.path.basename(path))
            except (_Refused, MediaError) as exc:
                refused += 1
                say(f"{path}: refused: {exc}", console.err)
            else:
                stored += 1
                say(f"{path} {console.arrow} {media_id}", console.out)
            bar.update(size)
    finally:
        bar.close()
    console.note(f"{stored} stored, {refused} refused")
    return FAILED if refused else OK


def _check_ids(values: Sequence[str]) -> list[str]:
    found = []
    for value in values:
        if not ids.is_id(value):
            raise UsageError(f"not a media id: {value!r} (ids look like 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg)")
        found.append(value)
    return found


def cmd_url(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    options = {"mode": args.mode, "quality": args.quality, "format": args.format, "upscale": args.upscale or None}
    if args.size is None and (args.focus is not None or any(v is not None for v in options.values())):
        raise UsageError("--mode, --format, --quality, --upscale and --focus describe a resize: give --size too")
    if args.focus is not None:
        options["focus"] = args.focus
    (media_id,) = _check_ids([args.id])
    media = build_media(load_settings(args, environ, need_secret=args.size is not None))
    try:
        url = media.resize_url(media_id, args.size, **options) if args.size else media.url(media_id)
    except MediaError as exc:  # a bad size, mode, format or quality: nothing was asked of storage
        raise UsageError(str(exc)) from None
    app_url = _app_url(args.app_url)
    if app_url and url.startswith("/"):
        url = app_url + url
    console.print(url)
    return OK


def cmd_delete(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    media_ids = _check_ids(args.ids)
    media = build_media(load_settings(args, environ), args.storage_budget)
    failed = 0
    for media_id in media_ids:
        try:
            count = media.delete(media_id)
        except MediaError as exc:
            failed += 1
            problem, fix = explain(exc, f"delete {media_id}", getattr(media.storage, "bucket", ""), "")
            console.note(f"{media_id}: failed: {problem}" + (f" (fix: {fix})" if fix else ""))
            continue
        console.print(f"{media_id}: {count} object{'s' if count != 1 else ''} deleted")
    return FAILED if failed else OK


def _purge_resizes(media: Media, media_id: str) -> tuple[int, bool]:
    """``(resizes deleted, whether an original is stored)`` for *media_id*, through :meth:`Media.purge_resizes`."""
    # One guarded request per id: its listing, deletes and check share --storage-budget.
    with media.guard.request():
        return media.purge_resizes(media_id), media.exists(media_id)


def cmd_purge_resizes(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    media_ids = _check_ids(args.ids)
    media = build_media(load_settings(args, environ), args.storage_budget)
    storage = media.storage
    failed = 0
    for media_id in media_ids:
        try:
            deleted, original_stored = _purge_resizes(media, media_id)
        except (MediaError, Failed) as exc:
            failed += 1
            console.note(f"{media_id}: failed: {exc}")
            continue
        except Exception as exc:  # botocore's errors, said with what to do
            failed += 1
            problem, fix = explain(exc, f"purge {media_id}", getattr(storage, "bucket", ""), "")
            console.note(f"{media_id}: failed: {problem}" + (f" (fix: {fix})" if fix else ""))
            continue
        kept = "original kept" if original_stored else "no original stored"
        console.print(f"{media_id}: {deleted} resize{'s' if deleted != 1 else ''} deleted, {kept}")
    return FAILED if failed else OK
