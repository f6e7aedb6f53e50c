"""Answer for one file on local disk, as a careful static server would.

Used by the core responder in development, where stored files live in a
folder.  It answers conditional requests (304), single byte ranges (206/416),
HEAD, and marks every response so a browser never runs a user's file as a page.
The answer is a :class:`~s3media_wsgi.response.MediaResponse`; :meth:`FileResponder.serve`
sends it over WSGI.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
    ...     _ = f.write(b"0123456789"); f.flush()
    ...     r = FileResponder().respond("GET", {"Range": "bytes=2-4"}, f.name)
    ...     r.status, r.header("Content-Range"), r.length
    ...     r.close()
    (206, 'bytes 2-4/10', 3)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import IO, Any, Literal

from webob.byterange import Range
from webob.datetime_utils import parse_date, serialize_date
from webob.etag import AnyETag, ETagMatcher

from .errors import ConfigError, NotFound
from .formats import MIME_BY_EXT
from .response import BLOCK_SIZE, FileBody, Headers, MediaResponse, status_line
from .wsgi import StartResponse, WSGIHeaders, send

#: Request headers, looked up by their HTTP names (``headers.get("Range")``).
RequestHeaders = Mapping[str, str]

#: Default ``Cache-Control`` for served files.  Keys never change content, so a
#: year-long ``immutable`` policy would be correct; this responder serves the
#: development folder, though, where a developer may wipe ``media/`` or change
#: resize code and should see the result within the hour, not next year.  ETags
#: make revalidation after expiry a cheap 304.  Production files come from S3 or
#: a CDN with :data:`~s3media_wsgi.storage.IMMUTABLE_CACHE_CONTROL`.
DEFAULT_CACHE_CONTROL = "public, max-age=3600"

#: Types a browser may show inline; anything else is downloaded.
_INLINE_TOP_TYPES = ("image/", "video/", "audio/")

#: Longest conditional or Range header we parse.  Real ones are a few dozen
#: bytes; anything longer is treated as absent, so no parser ever runs over
#: an attacker's megabyte (RFC 9110 lets a server ignore Range and answer 200).
MAX_HEADER_CHARS = 4096

_BLANKS = " \t"
# Positions past any real file; longer numbers are clamped to it, so a hostile
# header never reaches int()'s 4300-digit limit and still means "very far".
_FAR = "9" * 18


def _clamp(digits: str) -> str:
    digits = digits.lstrip("0") or ("0" if digits else "")
    return _FAR if len(digits) > len(_FAR) else digits


def _digits(text: str) -> str | None:
    """*text* stripped of blanks if it is ASCII digits or empty, else None."""
    text = text.strip(_BLANKS)
    return text if text == "" or (text.isascii() and text.isdigit()) else None


def parse_single_range(header: str) -> tuple[str, str] | None:
    """``(first, last)`` digit strings of a one-range ``bytes=`` header, or None.

    A hand-written split rather than a regular expression: every step is a
    linear scan, so a hostile header costs time proportional to its length
    (and the caller caps that).  Only ASCII digits count (``str.isdigit``
    alone would take other scripts' digits).

        >>> parse_single_range("bytes=0-99"), parse_single_range("bytes = -5")
        (('0', '99'), ('', '5'))
        >>> parse_single_range("bytes=0-1,5-6") is None
        True
    """
    unit, eq, spec = header.partition("=")
    if not eq or unit.strip(_BLANKS).lower() != "bytes":
        return None
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    first, last = _digits(first), _digits(last)  # type: ignore[assignment]
    if first is None or last is None or not (first or last):
        return None
    return first, last


def _header(headers: RequestHeaders, name: str) -> str | None:
    """The header *name*, or None when absent or over :data:`MAX_HEADER_CHARS`."""
    value = headers.get(name)
    if not isinstance(value, str) or len(value) > MAX_HEADER_CHARS:
        return None
    return value


def _safe_date(value: str | None) -> datetime | None:
    """webob's parse_date, but None (never an exception) for any bad input."""
    if not value:
        return None
    try:
        return parse_date(value)  # type: ignore[no-any-return]
    except (ValueError, OverflowError, OSError, IndexError, TypeError):
        return None


class FileResponder:
    """Answer a GET or HEAD for one file on disk.

    :param cache_control: the ``Cache-Control`` sent with every file.
    :param block_size: bytes per chunk when streaming.

        >>> responder = FileResponder(cache_control="public, max-age=31536000, immutable")
        >>> from webob import Request
        >>> wsgi_app = lambda environ, start: responder.serve(environ, start, storage.local_path(media_id + "/cat.jpg"))
        >>> Request.blank("/", headers={"Range": "bytes=0-1"}).get_response(wsgi_app).body
        b'\xff\xd8'
    """

    def __init__(self, cache_control: str = DEFAULT_CACHE_CONTROL, block_size: int = BLOCK_SIZE) -> None:
        if not isinstance(cache_control, str) or not cache_control.strip() or not cache_control.isprintable():
            raise ConfigError(f"cache_control must be a header value on one line, got {cache_control!r}")
        self.cache_control = cache_control
        self.block_size = block_size
        # Sent with every file: never sniff a type, never run script, even
        # when a file is opened directly as a page.
        self._common: Headers = [
            ("Cache-Control", cache_control),
            ("Accept-Ranges", "bytes"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; sandbox"),
        ]

    def serve(
        self, environ: dict[str, Any], start_response: StartResponse, path: str | os.PathLike[str]
    ) -> Iterable[bytes]:
        """:meth:`respond` to a WSGI request, and send the answer."""
        method = environ.get("REQUEST_METHOD", "GET")
        return send(self.respond(method, WSGIHeaders(environ), path), environ, start_response, self.block_size)

    def respond(self, method: str, headers: RequestHeaders, path: str | os.PathLike[str]) -> MediaResponse:
        """The answer to *method* for the file at *path*, given the request's *headers*.

        Raises :class:`~s3media_wsgi.errors.NotFound` if *path* is not a
        regular file.  The file is opened once and ``fstat``-ed on its
        descriptor, so what is described in the headers is what is sent, even
        if the path is replaced meanwhile.  A response with a body owns the
        open file.
        """
        if method not in ("GET", "HEAD"):
            return MediaResponse(405, [("Allow", "GET, HEAD"), ("Content-Length", "0")])
        try:
            fh = open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(f"no file at {os.fspath(path)!r}") from exc
        try:
            response = self._respond(headers, fh, os.fspath(path), method == "HEAD")
        except BaseException:
            fh.close()
            raise
        if response.file is None:
            fh.close()
        return response

    def _respond(self, request: RequestHeaders, fh: IO[bytes], name: str, head: bool) -> MediaResponse:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise NotFound(f"not a regular file: {name!r}")
        size = st.st_size
        mtime = int(st.st_mtime)
        etag = f'"{size:x}-{st.st_mtime_ns:x}"'
        last_modified = serialize_date(mtime)

        if self._not_modified(request, etag, mtime):
            # RFC 9110 15.4.5: the validators and caching headers of the 200,
            # no Content-Type (there is no content).  The 200's length is
            # allowed (8.6); without it wsgiref would add "Content-Length: 0".
            return MediaResponse(
                304,
                [
                    ("ETag", etag),
                    ("Last-Modified", last_modified),
                    ("Cache-Control", self.cache_control),
                    ("Content-Length", str(size)),
                ],
            )

        headers = self._headers(name, etag, last_modified)

        status = 200
        start, length = 0, size
        range_header = None if head else _header(request, "Range")
        if range_header is not None and self._if_range_holds(request, etag, mtime):
            wanted = self._byte_range(range_header, size)
            if wanted == "unsatisfiable":
                headers.append(("Content-Range", f"bytes */{size}"))
                headers.append(("Content-Length", "0"))
                return MediaResponse(416, headers)
            if wanted is not None:
                start, stop = wanted
                length = stop - start
                status = 206
                headers.append(("Content-Range", f"bytes {start}-{stop - 1}/{size}"))

        headers.append(("Content-Length", str(length)))
        if head:
            return MediaResponse(status, headers)
        return MediaResponse(status, headers, file=fh, offset=start, length=length, file_size=size)

    def _headers(self, name: str, etag: str, last_modified: str) -> Headers:
        ext = name.rpartition(".")[2].lower() if "." in os.path.basename(name) else ""
        content_type = MIME_BY_EXT.get(ext, "application/octet-stream")
        headers = [
            ("Content-Type", content_type),
            ("ETag", etag),
            ("Last-Modified", last_modified),
            *self._common,
        ]
        if not content_type.startswith(_INLINE_TOP_TYPES):
            headers.append(("Content-Disposition", "attachment"))
        return headers

    @staticmethod
    def _not_modified(request: RequestHeaders, etag: str, mtime: int) -> bool:
        """RFC 9110 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
        inm = _header(request, "If-None-Match")
        if inm is not None:
            # webob's parser wants a space before each tag; clients may omit it.
            matcher = ETagMatcher.parse(inm.strip().replace(",", ", "), strong=False)
            return matcher is AnyETag or etag[1:-1] in matcher
        since = _safe_date(_header(request, "If-Modified-Since"))
        return since is not None and mtime <= since.timestamp()

    @staticmethod
    def _if_range_holds(request: RequestHeaders, etag: str, mtime: int) -> bool:
        """True when there is no If-Range, or it names this exact version (strong match).

        Written out rather than using webob's IfRange: RFC 9110 13.1.5 wants an
        exact date match (webob accepts any older date) and an unparseable
        date must simply not match (webob then compares with None).
        """
        value = request.get("If-Range")
        if value is None:
            return True
        if len(value) > MAX_HEADER_CHARS:
            return False  # too long to be a validator of ours: send the whole file
        value = value.strip()
        if value.startswith("W/"):
            return False  # a weak tag can never validate a range
        if value.startswith('"'):
            return bool(value == etag)
        when = _safe_date(value)
        return when is not None and when.timestamp() == mtime

    @staticmethod
    def _byte_range(header: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
        """``(start, stop)`` to send, ``"unsatisfiable"``, or None to send everything.

        Several ranges, other units and malformed headers all give None: RFC 9110
        lets a server ignore Range and answer 200 with the whole file.
        """
        if len(header) > MAX_HEADER_CHARS or size == 0:
            return None
        found = parse_single_range(header)
        if found is None:
            return None
        first, last = found
        parsed = Range.parse(f"bytes={_clamp(first)}-{_clamp(last)}")
        if parsed is None:
            return None  # last < first: an invalid range-spec
        if not first:
            # Suffix range: the last N bytes, the whole file if N >= size.
            if parsed.start == 0:
                return "unsatisfiable"  # "bytes=-0" asks for nothing
            return max(0, size + parsed.start), size
        if parsed.start >= size:
            return "unsatisfiable"
        stop = size if parsed.end is None else min(parsed.end, size)
        return parsed.start, stop


__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_CACHE_CONTROL",
    "MAX_HEADER_CHARS",
    "FileBody",
    "FileResponder",
    "RequestHeaders",
    "parse_single_range",
    "status_line",
]
