"""The one framework-neutral entry point: a media request in, a :class:`MediaResponse` (or None) out.

:meth:`MediaResponder.respond` owns every decision about a request under the
prefix: serve a stored file from disk, make a resize and serve it, or make it
and redirect to storage; and it owns the mapping from failure to status.  A
request outside the prefix gets None: the caller hands it to its application.
The WSGI middleware, the Pyramid tween and the Django middleware only
translate requests in and responses out.

    >>> responder = MediaResponder(media, prefix="/media/")
    >>> responder.respond("GET", "/about/", {}) is None
    True
    >>> answer = responder.respond("GET", media.resize_url(media_id, "40x30"), {"Range": "bytes=0-1"})
    >>> answer.status, answer.header("Content-Range"), answer.length
    (206, 'bytes 0-1/...', 2)
    >>> answer.close()
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import IO, Any
from urllib.parse import urlsplit

from .answers import DEFAULT_RETRY_AFTER, answer_for
from .delivery import DELIVERIES as DELIVERIES  # cli.py imports it from here
from .delivery import choose_delivery
from .errors import ConfigError, NotFound
from .ids import is_internal_key
from .media import Media
from .response import MediaResponse
from .static import DEFAULT_CACHE_CONTROL, FileResponder
from .storage.base import (
    IMMUTABLE_CACHE_CONTROL,
    PRIVATE_IMMUTABLE_CACHE_CONTROL,
    has_local_files,
    is_private,
    keeps_private,
    stored_cache_control,
    url_life,
)
from .storage.keys import validate_key
from .upload_api import Authorize, UploadAPI
from .uploads import PENDING_PREFIX
from .urls import check_prefix

log = logging.getLogger("s3media_wsgi")


#: How long a browser may cache the 301 from a resize URL to its stored copy:
#: from then on the resize exists, so the redirect stays right.
REDIRECT_CACHE_CONTROL = "public, max-age=86400"

_PLAIN = "text/plain; charset=utf-8"

#: Seconds a private redirect's ``max-age`` stays below its URL's remaining life.
PRIVATE_REDIRECT_MARGIN = 60

#: The uploader's unversioned name (answered with ``no-cache``); pages should use
#: :attr:`MediaResponder.uploader_url`, whose name carries a hash of the content.
UPLOADER = "uploader.js"
_UPLOADER_JS = (resources.files(__package__) / "assets" / UPLOADER).read_bytes()
_UPLOADER_HASH = hashlib.sha256(_UPLOADER_JS).hexdigest()[:12]
_NO_HEADERS: Mapping[str, str] = {}


def uploader_url(prefix: str) -> str:
    """Where a middleware under *prefix* serves ``uploader.js`` (a name that changes with its content).

    >>> uploader_url("/media/")
    '/media/uploader....js'
    """
    return f"{prefix}uploader.{_UPLOADER_HASH}.js"


def serves_local_files(storage: object) -> bool:
    """True when *storage* declares that its objects are files on this machine (``local_files``)."""
    return has_local_files(storage)


class MediaResponder:
    """Answer media requests under *prefix* for *media*.

    :param media: the :class:`~s3media_wsgi.Media` whose files and resizes are served.
    :param prefix: URL path prefix, starting and ending with ``/``.
    :param serve_local: serve stored files from disk; None means "when the
        storage says its objects are local files" (``storage.local_files``).
        When False, a resize request makes the resize and redirects to
        ``storage.url(key)``.
    :param cache_control: ``Cache-Control`` of files served from disk.
    :param retry_after: seconds sent in ``Retry-After`` when storage is down.
    :param uploads: the authorisation hook that turns the upload routes on
        (see :mod:`s3media_wsgi.upload_api`): called with the framework's
        request, it returns whether this user may upload (a string, such as
        the user's id, allows it and binds upload receipts to it).
    :param cors_origins: origins allowed to call the upload routes from
        another origin.
    :param delivery: how a resize request is answered when files are not
        served from disk: ``"website"`` (301 back to the bucket's website or
        CDN; the default for a public bucket), ``"serve"`` (the image bytes,
        with the stored objects' ``Cache-Control``, immutable by default and
        ``private`` for a private bucket: what a CDN's origin failover
        needs), ``"private"`` (302 to a presigned GET with
        ``Cache-Control: private, max-age`` below its life; the default, and
        the only other choice besides ``serve``, for a private bucket).

    Raises :class:`~s3media_wsgi.errors.ConfigError` at construction for a
    bad prefix, or when redirects would point back at the prefix itself (a
    remote storage such as S3 whose ``base_url`` is under it: every resize
    would redirect to itself forever).
    """

    def __init__(
        self,
        media: Media,
        prefix: str = "/media/",
        serve_local: bool | None = None,
        *,
        cache_control: str = DEFAULT_CACHE_CONTROL,
        retry_after: int = DEFAULT_RETRY_AFTER,
        uploads: Authorize | None = None,
        cors_origins: Iterable[str] = (),
        delivery: str | None = None,
    ) -> None:
        if not isinstance(media, Media):
            raise ConfigError(f"media must be a Media, got {type(media).__name__}")
        self.prefix = check_prefix(prefix)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigError(f"retry_after must be a non-negative int of seconds, not {retry_after!r}")
        self.media = media
        self.storage = media.storage
        self.serve_local = serves_local_files(media.storage) if serve_local is None else bool(serve_local)
        private = is_private(media.storage)
        self.delivery = choose_delivery(delivery, media.storage, self.serve_local)
        self.retry_after = retry_after
        #: What the serve mode sends: the stored objects' own, else immutable, private for a private bucket.
        self._serve_cache_control: str = stored_cache_control(media.storage) or (
            PRIVATE_IMMUTABLE_CACHE_CONTROL if private else IMMUTABLE_CACHE_CONTROL
        )
        if private and not keeps_private(self._serve_cache_control):
            # A storage of another kind that says it is private but stores its objects public.
            self._serve_cache_control = PRIVATE_IMMUTABLE_CACHE_CONTROL
        self._prefix_len = len(prefix)
        self._files = FileResponder(cache_control=cache_control)
        self.uploads = UploadAPI(media, uploads, cors_origins, retry_after=retry_after)
        self.uploader_name = f"uploader.{_UPLOADER_HASH}.js"
        base_path = urlsplit(media.storage.base_url).path
        if self.serve_local and not base_path.endswith(prefix):
            log.warning(
                "storage base_url %r does not end with the middleware prefix %r: "
                "URLs the app builds will not reach the middleware",
                media.storage.base_url,
                prefix,
            )
        if not serves_local_files(media.storage) and base_path.startswith(prefix):
            # (Local files under the prefix with serve_local=False are fine: a
            # web server in front serves them and sends misses to the app.)
            raise ConfigError(
                f"storage base_url {media.storage.base_url!r} is under the middleware prefix {prefix!r}, "
                "but files are not served from disk: every resize would redirect to itself. "
                "Set base_url to the bucket's website endpoint or your CDN (e.g. https://media.example.com/)"
            )

    def respond(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        *,
        query: str = "",
        body: IO[bytes] | None = None,
        request: Any = None,
        origin: str | None = None,
    ) -> MediaResponse | None:
        """The answer to *method* on *path* (the request's path, %-decoded), or None outside the prefix.

        *headers* are the request's headers, looked up by HTTP name
        (``headers.get("Range")``); Django's ``request.headers``, webob's
        ``request.headers`` and :class:`~s3media_wsgi.wsgi.WSGIHeaders` all
        qualify.  The upload routes also read *query* (the raw query string),
        *body* (the request body, a binary stream) and hand *request* (the
        framework's own request object) to the authorisation hook, and use
        *origin* (``scheme://host`` of the request) to make the URLs they hand
        out absolute, as browser upload libraries expect.  Never
        raises for anything a client can send: every failure is a response,
        and is logged once, here.
        """
        if not path.startswith(self.prefix):
            return None
        route = path[self._prefix_len :]
        if route == self.uploader_name or route == UPLOADER:
            return self._uploader(method, route)
        if route.startswith("s3/"):
            return self.uploads.respond(
                method, route, _NO_HEADERS if headers is None else headers, query, body, request, origin
            )
        head = method == "HEAD"
        try:
            if method not in ("GET", "HEAD"):
                return _plain(405, "Method not allowed", head, [("Allow", "GET, HEAD")])
            return self._media(method, path, _NO_HEADERS if headers is None else headers)
        except Exception as exc:
            return self._error(exc, path, head)

    @property
    def uploader_url(self) -> str:
        """Where the middleware serves ``uploader.js``, under a name that changes with its content.

        Pages import it from here; it may be cached for a year.
        """
        return uploader_url(self.prefix)

    def _uploader(self, method: str, route: str) -> MediaResponse:
        if method not in ("GET", "HEAD"):
            return _plain(405, "Method not allowed", method == "HEAD", [("Allow", "GET, HEAD")])
        versioned = route == self.uploader_name
        headers = [
            ("Content-Type", "text/javascript; charset=utf-8"),
            ("Content-Length", str(len(_UPLOADER_JS))),
            ("Cache-Control", "public, max-age=31536000, immutable" if versioned else "no-cache"),
            ("ETag", f'"{_UPLOADER_HASH}"'),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return MediaResponse(200, headers, b"" if method == "HEAD" else _UPLOADER_JS)

    def _media(self, method: str, path: str, headers: Mapping[str, str]) -> MediaResponse:
        # PATH_INFO is already %-decoded, so a "%" still in it means the
        # client encoded twice: refused by the key rule, never decoded again.
        key = validate_key(path[self._prefix_len :])
        if key.startswith(PENDING_PREFIX):
            # A direct upload not yet confirmed is not media: never served.
            raise NotFound(f"{key} is a pending upload")
        if is_internal_key(key):
            # The library's own objects (the source ladder): as private as an original ever is, or more.
            raise NotFound(f"{key} is not served")
        if self.serve_local:
            local = self.storage.local_path(key)
            if local is not None:
                return self._files.respond(method, headers, local)
        # Not a stored file: only a signed resize URL may go further.
        # create_resize checks the signature before any I/O, and does the one
        # existence check itself (for S3: HEAD, then GET + PUT if cold).
        head = method == "HEAD"
        if self.delivery == "serve" and not self.serve_local:
            key, data, content_type = self.media.fetch_resize(key)
            return MediaResponse(
                200,
                [
                    ("Content-Type", content_type),
                    ("Content-Length", str(len(data))),
                    ("Cache-Control", self._serve_cache_control),
                    ("ETag", '"' + key.rsplit("-", 1)[-1].partition(".")[0] + '"'),
                    ("X-Content-Type-Options", "nosniff"),
                ],
                b"" if head else data,
            )
        key = self.media.create_resize(key)
        if self.serve_local:
            local = self.storage.local_path(key)
            if local is not None:
                return self._files.respond(method, headers, local)
        if self.delivery == "private":
            life = url_life(self.storage)
            # Cached by the browser only, and never beyond the URL's own life.
            cache = f"private, max-age={max(0, life - PRIVATE_REDIRECT_MARGIN)}"
            return _plain(302, "Found", head, [("Location", self.storage.url(key)), ("Cache-Control", cache)])
        return _plain(
            301,
            "Moved Permanently",
            head,
            [("Location", self.storage.url(key)), ("Cache-Control", REDIRECT_CACHE_CONTROL)],
        )

    def _error(self, exc: Exception, path: str, head: bool) -> MediaResponse:
        """The one place a resize-side exception becomes a response, and the one place it is logged.

        :func:`~s3media_wsgi.answers.answer_for` decides (as for the upload
        routes): a :class:`~s3media_wsgi.errors.MediaError` answers with its
        class's ``status_code`` and ``public_message``: a temporary failure
        (storage outage, full queue) 503 with ``Retry-After`` (logged as a
        warning), a storage misconfiguration 500 (logged as an error naming
        what to fix), a client's mistake 4xx (logged at debug level).
        Anything else is a bug, logged with its traceback and answered with a
        bare 500.
        """
        answer = answer_for(exc, self.retry_after)
        extra: list[tuple[str, str]] = [("Cache-Control", "no-store")]
        if answer.retry_after is not None:
            extra.append(("Retry-After", str(answer.retry_after)))
        log.log(
            answer.level,
            "media request %r: %d: %s",
            path,
            answer.status,
            exc,
            exc_info=True if answer.traceback else None,
        )
        return _plain(answer.status, answer.public, head, extra)


def _plain(status: int, text: str, head: bool, extra: list[tuple[str, str]]) -> MediaResponse:
    body = text.encode("utf-8")
    headers = [
        ("Content-Type", _PLAIN),
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
        *extra,
    ]
    return MediaResponse(status, headers, b"" if head else body)


__all__ = [
    "DEFAULT_RETRY_AFTER",
    "REDIRECT_CACHE_CONTROL",
    "UPLOADER",
    "MediaResponder",
    "serves_local_files",
    "uploader_url",
]
