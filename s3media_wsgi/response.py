"""What the core answers a media request with, in no framework's terms.

A :class:`MediaResponse` is a status, a list of headers and a body that is
either bytes or a range of an open file.  The WSGI middleware, the Pyramid
tween and the Django middleware each turn it into their own response; none of
them decides anything.

    >>> r = MediaResponse(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not found")
    >>> r.status_line, r.header("content-type")
    ('404 Not Found', 'text/plain; charset=utf-8')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import IO

#: Bytes read per chunk when streaming a file.
BLOCK_SIZE = 64 * 1024

Headers = list[tuple[str, str]]


def status_line(code: int) -> str:
    """The status line for *code*, e.g. ``"206 Partial Content"``.

    >>> status_line(599)
    '599 Error'
    """
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Error"


class FileBody:
    """Iterate over ``length`` bytes of an open file from ``start``; close it in :meth:`close`.

    A class rather than a generator: a WSGI server may call ``close()`` without
    ever iterating, and an unstarted generator would then never close the file.
    It has no ``fileno()``, so no server can hand it to ``sendfile()`` and send
    past ``length``.

        >>> body = FileBody(open(__file__, "rb"), 0, 10)
        >>> len(b"".join(body)); body.close()
        10
    """

    __slots__ = ("_fh", "_start", "_length", "_block")

    def __init__(self, fh: IO[bytes], start: int, length: int, block_size: int = BLOCK_SIZE) -> None:
        self._fh = fh
        self._start = start
        self._length = length
        self._block = block_size

    def __iter__(self) -> Iterator[bytes]:
        fh = self._fh
        fh.seek(self._start)
        remaining = self._length
        while remaining > 0:
            chunk = fh.read(min(self._block, remaining))
            if not chunk:
                # The file shrank under us: stop rather than loop forever.
                break
            remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._fh.close()


@dataclass
class MediaResponse:
    """One answer of the core: *status*, *headers*, and *body* or ``length`` bytes of *file* from *offset*.

    When *file* is set, the response owns it: whoever sends the response calls
    :meth:`close` (or hands the file to something that will).
    """

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    file: IO[bytes] | None = None
    offset: int = 0
    length: int = 0
    #: The size of *file*: ``offset == 0 and length == file_size`` means the whole file.
    file_size: int = 0

    @property
    def status_line(self) -> str:
        """``"200 OK"``: the status as WSGI and Django's ``reason`` want it."""
        return status_line(self.status)

    @property
    def whole_file(self) -> bool:
        """True when the body is all of *file* (a server may ``sendfile()`` it)."""
        return self.file is not None and self.offset == 0 and self.length == self.file_size

    def header(self, name: str) -> str | None:
        """The first value of header *name* (any case), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def file_body(self, block_size: int = BLOCK_SIZE) -> FileBody:
        """The file's range as an iterable that closes the file; only when *file* is set."""
        if self.file is None:
            raise ValueError("this response has no file body")
        return FileBody(self.file, self.offset, self.length, block_size)

    def close(self) -> None:
        """Close the file, if any (safe to call twice)."""
        if self.file is not None:
            self.file.close()


__all__ = ["BLOCK_SIZE", "FileBody", "Headers", "MediaResponse", "status_line"]
