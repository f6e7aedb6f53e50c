"""WSGI middleware: media requests under a URL prefix are answered by the core, the rest pass through.

    >>> from s3media_wsgi import Media, LocalStorage, MediaMiddleware
    >>> media = Media(LocalStorage("media", base_url="/media/"), secret_key=SECRET)
    >>> app = MediaMiddleware(app, media, prefix="/media/")

Every decision is :class:`~s3media_wsgi.responder.MediaResponder`'s: in
development (local storage) stored files are served from disk and a signed
resize URL makes the resize on its first request, then serves it; in
production (S3) a request only arrives here when the bucket's website 404 rule
redirects a missing resize to the app: it is made, stored, and the browser is
sent back to the bucket with a 301.  This class only translates WSGI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from webob import Request

from .media import Media
from .responder import DEFAULT_RETRY_AFTER, REDIRECT_CACHE_CONTROL, MediaResponder
from .static import DEFAULT_CACHE_CONTROL
from .upload_api import Authorize
from .wsgi import StartResponse, WSGIHeaders, send

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MediaMiddleware:
    """Wrap the WSGI *app*; requests under *prefix* are media, the rest go to *app* untouched.

    :param app: the host WSGI application.
    :param media: the :class:`~s3media_wsgi.Media` whose files and resizes are served.
    :param prefix: URL path prefix, starting and ending with ``/``.
    :param serve_local: serve files from local disk; None means "when the
        storage's objects are local files" (:class:`~s3media_wsgi.LocalStorage`).
        When False, a resize request makes the resize and redirects to
        ``storage.url(key)``.
    :param cache_control: ``Cache-Control`` of files served from disk.
    :param retry_after: seconds sent in ``Retry-After`` when storage is down.
    :param uploads: turns the upload routes on: a function of the request
        (a :class:`webob.Request` here) returning whether this user may upload
        (a ``str``: yes, and their upload receipts are bound to it).
    :param cors_origins: origins allowed to call the upload routes cross-origin.
    :param delivery: ``"website"``, ``"serve"`` or ``"private"``; see
        :class:`~s3media_wsgi.responder.MediaResponder`.

        >>> from webob import Request
        >>> wrapped = MediaMiddleware(app, media, prefix="/media/")
        >>> Request.blank("/about").get_response(wrapped).text
        'host app'
        >>> Request.blank(media.resize_url(media_id, "40x30")).get_response(wrapped).content_type
        'image/jpeg'
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
        uploads: Authorize | None = None,
        cors_origins: Iterable[str] = (),
        delivery: str | None = None,
    ) -> None:
        self.app = app
        self.responder = MediaResponder(
            media,
            prefix,
            serve_local,
            cache_control=cache_control,
            retry_after=retry_after,
            uploads=uploads,
            cors_origins=cors_origins,
            delivery=delivery,
        )
        self.media = media
        self.prefix = self.responder.prefix
        self.serve_local = self.responder.serve_local

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # The hot path of every request the host app serves: one lookup, one
        # comparison, nothing else.
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return self.app(environ, start_response)
        request = Request(environ)
        response = self.responder.respond(
            environ.get("REQUEST_METHOD", "GET"),
            path,
            WSGIHeaders(environ),
            query=environ.get("QUERY_STRING", ""),
            body=environ.get("wsgi.input"),
            request=request,
            origin=request.host_url,
        )
        assert response is not None  # under the prefix, the responder always answers
        return send(response, environ, start_response)


__all__ = ["DEFAULT_RETRY_AFTER", "REDIRECT_CACHE_CONTROL", "MediaMiddleware"]
