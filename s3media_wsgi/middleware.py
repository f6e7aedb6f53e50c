"""WSGI middleware: serve and make media under a URL prefix, pass everything else through.

    >>> from s3media_wsgi import Media, LocalStorage, MediaMiddleware
    >>> media = Media(LocalStorage("media", base_url="/media/"), secret_key="demo-secret-0123456789-abcdefghijk")  # doctest: +SKIP
    >>> app = MediaMiddleware(app, media, prefix="/media/")                            # doctest: +SKIP

Under the prefix, in development (local storage), stored files are served from
disk and a signed resize URL makes the resize on its first request, then serves
it.  In production (S3), a request only arrives here when the bucket's website
404 rule redirects a missing resize to the app: it is made, stored, and the
browser is sent back to the bucket with a 301.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, InvalidPath, MediaError, StorageError
from .media import Media
from .static import DEFAULT_CACHE_CONTROL, FileResponder, status_line
from .storage.local import LocalStorage

log = logging.getLogger("s3media_wsgi")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]

#: Seconds a client is told to wait after a storage outage (``Retry-After``).
DEFAULT_RETRY_AFTER = 5

#: How long a browser may cache the 301 from a resize URL to its stored copy:
#: from then on the resize exists, so the redirect stays right.
REDIRECT_CACHE_CONTROL = "public, max-age=86400"

# Every key our ids make is lower-case ASCII letters, digits, "-", "." and "/".
# Anything else (non-ASCII, "%" left by double encoding, "\\", NUL, spaces) is
# not ours, whatever the storage would make of it.
_SAFE_REST = re.compile(r"[A-Za-z0-9_.\-/]+")

_PLAIN = "text/plain; charset=utf-8"


class MediaMiddleware:
    """Wrap the WSGI *app*; requests under *prefix* are media, the rest go to *app* untouched.

    :param app: the host WSGI application.
    :param media: the :class:`~s3media_wsgi.Media` whose files and resizes are served.
    :param prefix: URL path prefix, starting and ending with ``/``.
    :param serve_local: serve files from local disk; None means "when the storage
        is a :class:`~s3media_wsgi.LocalStorage`".  When False, a resize request
        makes the resize and redirects to ``storage.url(key)``.
    :param cache_control: ``Cache-Control`` of files served from disk.
    :param retry_after: seconds sent in ``Retry-After`` when storage is down.

        >>> app = MediaMiddleware(app, media, prefix="/media/")   # doctest: +SKIP
    """

    def __init__(
        self,
        app: WSGIApp,
        media: Media,
        prefix: str = "/media/",
        serve_local: bool | None = None,
        *,
        cache_control: str = DEFAULT_CACHE_CONTROL,
        retry_after: int = DEFAULT_RETRY_AFTER,
    ) -> None:
        if not isinstance(prefix, str) or not prefix.startswith("/") or not prefix.endswith("/"):
            raise ConfigError(f"prefix must start and end with '/', e.g. '/media/', not {prefix!r}")
        if not prefix.isascii() or "//" in prefix[1:] or not _SAFE_REST.fullmatch(prefix):
            # PATH_INFO arrives as latin-1-decoded bytes, so anything but plain
            # ASCII would never match what browsers send.
            raise ConfigError(f"prefix must be plain ASCII letters, digits, '-', '_', '.' and '/', not {prefix!r}")
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigError(f"retry_after must be a non-negative int of seconds, not {retry_after!r}")
        self.app = app
        self.media = media
        self.prefix = prefix
        self.serve_local = isinstance(media.storage, LocalStorage) if serve_local is None else bool(serve_local)
        self.retry_after = retry_after
        self._prefix_len = len(prefix)
        self._responder = FileResponder(cache_control=cache_control)
        if self.serve_local and not urlsplit(media.storage.base_url).path.endswith(prefix):
            log.warning(
                "storage base_url %r does not end with the middleware prefix %r: "
                "URLs the app builds will not reach the middleware",
                media.storage.base_url,
                prefix,
            )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # The hot path of every request the host app serves: one lookup, one
        # comparison, nothing else.
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return self.app(environ, start_response)
        return self._media(environ, start_response, path)

    # --- under the prefix -------------------------------------------------------

    def _media(self, environ: dict[str, Any], start_response: StartResponse, path: str) -> Iterable[bytes]:
        head = environ.get("REQUEST_METHOD") == "HEAD"
        try:
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                return self._reply(start_response, 405, b"Method not allowed", head, [("Allow", "GET, HEAD")])
            key = self._key(path)
            storage = self.media.storage
            if self.serve_local:
                local = storage.local_path(key)
                if local is not None:
                    return self._responder.serve(environ, start_response, local)
            # Not a stored file: only a signed resize URL may go further.
            # create_resize checks the signature before any I/O, and does the
            # one existence check itself (for S3: HEAD, then GET + PUT if cold).
            key = self.media.create_resize(key)
            if self.serve_local:
                local = storage.local_path(key)
                if local is not None:
                    return self._responder.serve(environ, start_response, local)
            return self._reply(
                start_response,
                301,
                b"Moved Permanently",
                head,
                [("Location", storage.url(key)), ("Cache-Control", REDIRECT_CACHE_CONTROL)],
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes one answer
            return self._error(exc, environ, start_response, head)

    def _key(self, path: str) -> str:
        """The storage key of a request path, or :class:`InvalidPath` if it is unsafe.

        PATH_INFO is already %-decoded by the server, so a ``%`` still in it
        means the client encoded twice: refused, never decoded again.
        """
        rest = path[self._prefix_len :]
        if not _SAFE_REST.fullmatch(rest):
            raise InvalidPath(f"unsafe characters in media path {path!r}")
        for segment in rest.split("/"):
            # Empty: "//" or a trailing "/".  Leading ".": ".", "..", dotfiles
            # and the storage's temporary files.
            if not segment or segment[0] == ".":
                raise InvalidPath(f"unsafe segment in media path {path!r}")
        return rest

    # --- responses ---------------------------------------------------------------

    def _error(
        self, exc: Exception, environ: dict[str, Any], start_response: StartResponse, head: bool
    ) -> Iterable[bytes]:
        """The one place an exception becomes a response.

        A :class:`~s3media_wsgi.errors.MediaError` answers with its class's
        ``status_code`` and ``public_message``; anything else is a bug, logged
        with its traceback and answered with a bare 500.
        """
        extra: list[tuple[str, str]] = []
        if isinstance(exc, MediaError):
            status, message = exc.status_code, exc.public_message
            if isinstance(exc, StorageError):
                retry_after = self.retry_after if exc.retry_after is None else exc.retry_after
                extra.append(("Retry-After", str(retry_after)))
                log.warning("storage failed for %r: %s", environ.get("PATH_INFO"), exc)
            elif status >= 500:
                log.exception("media error for %r", environ.get("PATH_INFO"))
            else:
                log.debug("media request %r refused (%d): %s", environ.get("PATH_INFO"), status, exc)
        else:
            status, message = 500, MediaError.public_message
            log.exception("unexpected error for %r", environ.get("PATH_INFO"))
        extra.append(("Cache-Control", "no-store"))
        return self._reply(start_response, status, message.encode("utf-8"), head, extra)

    @staticmethod
    def _reply(
        start_response: StartResponse, status: int, body: bytes, head: bool, extra: list[tuple[str, str]]
    ) -> list[bytes]:
        headers = [
            ("Content-Type", _PLAIN),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            *extra,
        ]
        start_response(status_line(status), headers)
        return [] if head else [body]


__all__ = ["DEFAULT_RETRY_AFTER", "REDIRECT_CACHE_CONTROL", "MediaMiddleware"]
