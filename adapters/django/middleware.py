"""``S3MediaMiddleware``: answers media requests with the core, passes the rest on.

Put it first in ``MIDDLEWARE`` so media responses skip sessions, CSRF and the
rest, and no other middleware rewrites their headers::

    MIDDLEWARE = ["s3media_wsgi.adapters.django.middleware.S3MediaMiddleware", ...]

The core is WSGI; Django's request carries its WSGI environ (under ASGI, one
is made from ``request.META``), so the core runs on it unchanged and its status,
headers and body become a streaming Django response.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

import webob
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

from ...media import Media
from ...middleware import MediaMiddleware
from . import get_media, get_settings

# Set in the environ by the inner app: the core did not answer, Django should.
_PASS_THROUGH = "s3media_wsgi.pass_through"


def _pass_through(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The app the core middleware wraps: it only records that it was reached."""
    environ[_PASS_THROUGH] = True
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]


class S3MediaMiddleware:
    """Django middleware running the core :class:`~s3media_wsgi.MediaMiddleware`.

    Raises ``MiddlewareNotUsed`` when ``S3MEDIA["ENABLED"]`` is false.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not get_settings().enabled:
            raise MiddlewareNotUsed("S3MEDIA['ENABLED'] is false")
        self.get_response = get_response
        self._core: tuple[Media, MediaMiddleware] | None = None

    def _core_for(self, media: Media) -> MediaMiddleware:
        # Rebuilt only when get_media() gives a new Media (override_settings in tests).
        current = self._core
        if current is None or current[0] is not media:
            settings = get_settings()
            core = MediaMiddleware(_pass_through, media, prefix=settings.prefix, serve_local=settings.serve_local)
            current = (media, core)
            self._core = current
        return current[1]

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        core = self._core_for(get_media())
        # The core's own first test, made here too so that pages of the app
        # don't pay for a round trip through WSGI.
        if not request.path_info.startswith(core.prefix):
            return self.get_response(request)
        environ = _environ(request)
        status, headers, app_iter = webob.Request(environ).call_application(core)
        if environ.pop(_PASS_THROUGH, False):
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
            return self.get_response(request)
        return _to_django(status, headers, app_iter)


def _environ(request: HttpRequest) -> dict[str, Any]:
    """The request's WSGI environ; under ASGI (no environ), one made from ``request.META``.

    The core reads only the method, the path and request headers, all of
    which ``META`` carries; a media request has no body to read.
    """
    environ = getattr(request, "environ", None)
    if environ is not None:
        return environ  # type: ignore[no-any-return]
    made = dict(request.META)
    made.setdefault("REQUEST_METHOD", request.method or "GET")
    made.setdefault("PATH_INFO", request.path_info)
    made.setdefault("SCRIPT_NAME", "")
    made.setdefault("QUERY_STRING", "")
    made.setdefault("SERVER_NAME", "localhost")
    made.setdefault("SERVER_PORT", "80")
    made.setdefault("SERVER_PROTOCOL", "HTTP/1.1")
    made.setdefault("wsgi.url_scheme", request.scheme or "http")
    made.setdefault("wsgi.input", io.BytesIO())
    made.setdefault("wsgi.errors", sys.stderr)
    return made


def _to_django(status: str, headers: list[tuple[str, str]], app_iter: Iterable[bytes]) -> StreamingHttpResponse:
    """A streaming Django response with exactly the core's status, headers and body."""
    code, _, reason = status.partition(" ")
    response = StreamingHttpResponse(app_iter, status=int(code), reason=reason or None)
    # Django adds a default text/html Content-Type; the core's headers replace it,
    # and a response the core sent without one (304, 301) must not gain one.
    del response["Content-Type"]
    seen: set[str] = set()
    for name, value in headers:
        key = name.lower()
        # Django keeps one value per header; a repeated one is joined, as HTTP
        # allows for list-valued headers (the core never sends Set-Cookie).
        response[name] = f"{response[name]}, {value}" if key in seen else value
        seen.add(key)
    return response


__all__ = ["S3MediaMiddleware"]
