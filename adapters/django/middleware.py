"""``S3MediaMiddleware``: answers media requests with the core, passes the rest on.

Put it first in ``MIDDLEWARE`` so media responses skip sessions, CSRF and the
rest, and no other middleware rewrites their headers::

    MIDDLEWARE = ["s3media_wsgi.adapters.django.middleware.S3MediaMiddleware", ...]

It translates only: the core's :class:`~s3media_wsgi.responder.MediaResponder`
decides, from the request's method, path and headers.  Files become a
``FileResponse`` under WSGI (so the server may ``sendfile()`` them) and a
response streamed from an asynchronous iterator under ASGI (so Django never
has to consume a synchronous one); everything else is a plain ``HttpResponse``.
The middleware works in both modes; the core's blocking work (storage,
decoding) runs in a worker thread under ASGI.

It also keeps each request it passes on, for the length of the view, where
:func:`~s3media_wsgi.adapters.django.current_request` finds it: a
:class:`~.fields.MediaFormField` checking an upload receipt asks the
``uploads`` hook about the user sending the form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.exceptions import MiddlewareNotUsed
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from ...factory import middleware_kwargs
from ...media import Media
from ...responder import MediaResponder
from ...response import BLOCK_SIZE, MediaResponse
from . import _request, get_media, get_settings, legacy


class S3MediaMiddleware:
    """Django middleware around the core :class:`~s3media_wsgi.responder.MediaResponder`.

    Built once, at startup: bad settings fail there, not on the first
    request.  Raises ``MiddlewareNotUsed`` when ``S3MEDIA["ENABLED"]`` is false.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        if not get_settings().enabled:
            raise MiddlewareNotUsed("S3MEDIA['ENABLED'] is false")
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self._core = self._build(get_media())

    @staticmethod
    def _build(media: Media) -> tuple[Media, MediaResponder]:
        return media, MediaResponder(media, **middleware_kwargs(get_settings()))

    def _responder(self) -> MediaResponder:
        media = get_media()
        if media is not self._core[0]:
            # The settings changed (override_settings in tests): follow them.
            self._core = self._build(media)
        return self._core[1]

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        core = self._responder()
        if not request.path_info.startswith(core.prefix):  # the hot path of every page
            return self._pass_on(request)
        if request.path_info.startswith(core.prefix + legacy.ROUTE):
            return legacy.answer(request, core.prefix)
        answer = core.respond(request.method or "GET", request.path_info, request.headers, **_extras(request))
        if answer is None:
            return self._pass_on(request)
        return to_django(answer)

    def _pass_on(self, request: HttpRequest) -> HttpResponseBase:
        token = _request.set(request)
        try:
            return self.get_response(request)  # type: ignore[no-any-return]
        finally:
            _request.reset(token)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        core = self._responder()
        if not request.path_info.startswith(core.prefix):
            return await self._apass_on(request)
        if request.path_info.startswith(core.prefix + legacy.ROUTE):
            answer_legacy = sync_to_async(legacy.answer, thread_sensitive=False)
            return await answer_legacy(request, core.prefix)
        # Storage calls and decoding block: keep them off the event loop.
        respond = sync_to_async(core.respond, thread_sensitive=False)
        answer = await respond(request.method or "GET", request.path_info, request.headers, **_extras(request))
        if answer is None:
            return await self._apass_on(request)
        return to_django(answer, asynchronous=True)

    async def _apass_on(self, request: HttpRequest) -> HttpResponseBase:
        # A synchronous view runs in a thread with a copy of this context: it sees the request too.
        token = _request.set(request)
        try:
            return await self.get_response(request)  # type: ignore[no-any-return]
        finally:
            _request.reset(token)


def _extras(request: HttpRequest) -> dict[str, Any]:
    """What the upload routes read: the query string, the body (the request is a file), the request."""
    try:
        origin: str | None = f"{request.scheme}://{request.get_host()}"
    except Exception:
        origin = None
    return {"query": request.META.get("QUERY_STRING", ""), "body": request, "request": request, "origin": origin}


class _FileRange:
    """``length`` bytes of an open file from ``offset``, as a file-like for ``FileResponse``.

    It has ``read`` and ``close`` only: no ``fileno`` (a server's
    ``sendfile()`` would send to the end of the file) and no ``name`` (Django
    would guess headers from it).
    """

    def __init__(self, fh: IO[bytes], offset: int, length: int) -> None:
        fh.seek(offset)
        self._fh = fh
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        chunk = self._fh.read(size)
        self._left -= len(chunk)
        return chunk

    def close(self) -> None:
        self._fh.close()


async def _aread(answer: MediaResponse) -> AsyncIterator[bytes]:
    body = answer.file_body(BLOCK_SIZE)
    chunks = iter(body)
    read = sync_to_async(lambda: next(chunks, b""), thread_sensitive=False)
    try:
        while chunk := await read():
            yield chunk
    finally:
        body.close()


def to_django(answer: MediaResponse, *, asynchronous: bool = False) -> HttpResponseBase:
    """A Django response with exactly the core's status, headers and body."""
    response: HttpResponseBase
    if answer.file is None:
        response = HttpResponse(answer.body, status=answer.status)
    elif asynchronous:
        response = StreamingHttpResponse(_aread(answer), status=answer.status)
    elif answer.whole_file:
        response = FileResponse(answer.file, status=answer.status)
    else:
        response = FileResponse(_FileRange(answer.file, answer.offset, answer.length), status=answer.status)
    # Django adds headers of its own (a default text/html Content-Type, a
    # guessed one for files, inline Content-Disposition): the core's replace
    # them all, and a response the core sent without one must not gain one.
    for name in list(response.headers):
        del response.headers[name]
    for name, value in answer.headers:
        # Django keeps one value per header; a repeated one is joined, as HTTP
        # allows for list-valued headers (the core never sends Set-Cookie).
        response.headers[name] = f"{response.headers[name]}, {value}" if name in response.headers else value
    response.reason_phrase = answer.status_line.partition(" ")[2]
    return response


__all__ = ["S3MediaMiddleware", "to_django"]
