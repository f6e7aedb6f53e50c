"""The upload routes under the middleware's prefix: what ``@uppy/aws-s3`` calls, and ours.

Off unless an authorisation hook is given (``uploads=``): the hook gets the
framework's request and says whether this user may upload: False, True, or a
string (a user id, a session key) that also allows it and to which the upload
receipts the confirm route hands out are bound.  Routes, relative
to the prefix (``companionEndpoint`` is the prefix without its trailing ``/``):

===========================================  ======================================================
``GET  s3/params?filename=&type=``           sign a form upload: ``{method, url, fields, expires}``
``POST s3/multipart`` ``{filename, type}``    start a multipart upload: ``{key, uploadId}``
``GET  s3/multipart/<uploadId>/<n>?key=``    sign part *n*: ``{url}``
``GET  s3/multipart/<uploadId>?key=``        the parts so far: ``[{PartNumber, ETag, Size}]``
``POST s3/multipart/<uploadId>/complete``    ``{parts}`` -> ``{location, key}``
``DELETE s3/multipart/<uploadId>?key=``      abort: ``{}``
``POST s3/confirm`` ``{key}``                 check and keep: ``{id, url, content_type, width, height, receipt}``
===========================================  ======================================================

The ``receipt`` is what a form sends back instead of the bare id (see
:mod:`s3media_wsgi.receipts`): when the hook returned a ``str`` (the user's
key, say) rather than ``True``, the receipt is bound to it, and only a
request for which the hook returns the same ``str`` gets the id back.

With local storage two more routes stand in for S3 (their signature is their
authorisation, as S3's is): ``POST s3/local/upload`` (the form) and ``PUT
s3/local/part`` (a part, answered with an ``ETag``).  Errors are JSON
``{"error": "<a message a page can show>"}`` with a 4xx (or 5xx) status;
calls that change state must be ``Content-Type: application/json`` (so a
cross-site form cannot make them); CORS headers are sent only to configured
origins.  ``s3/confirm`` confirms a pending upload once: an id that is media
already (a media id is in every URL of it) is answered 409 ``{"error": "This
upload was confirmed already."}``, with no URL and no receipt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any
from urllib.parse import parse_qs

from webob import Request

from .errors import (
    Busy,
    ImageTooLarge,
    InvalidUpload,
    MediaError,
    NotAnImage,
    StorageUnavailable,
    UnsupportedMediaType,
    UploadTooLarge,
)
from .media import Media
from .response import MediaResponse
from .uploads import LocalUploads

log = logging.getLogger("s3media_wsgi")

#: The authorisation hook: the framework's request in, may this user upload out
#: (a string: yes, and the upload receipts are bound to it).
Authorize = Callable[[Any], bool | str]

#: Largest JSON body read (a completion of 10,000 parts is about 600 KB).
MAX_JSON_BYTES = 1024 * 1024
#: Headers a cross-origin page may send to the routes.
_ALLOW_HEADERS = "Content-Type, Authorization, X-Requested-With"

# Errors whose own message is written for the person uploading.
_SHOWN = (UnsupportedMediaType, UploadTooLarge, ImageTooLarge, NotAnImage, InvalidUpload)


class UploadError(Exception):
    """A refusal of the routes themselves (not the core's): status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class UploadAPI:
    """Answer the upload routes for *media*; see the module docs.

    :param authorize: the hook; the routes are off (404) without one.
    :param cors_origins: origins (``"https://app.example.com"``) allowed to
        call the routes from another origin; none by default.
    """

    def __init__(self, media: Media, authorize: Authorize | None, cors_origins: Iterable[str] = ()) -> None:
        if authorize is not None and not callable(authorize):
            raise TypeError(f"uploads must be a function of the request returning a bool or a str, not {authorize!r}")
        self.media = media
        self.authorize = authorize
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self._local = media._uploads if isinstance(media._uploads, LocalUploads) else None

    @property
    def enabled(self) -> bool:
        return self.authorize is not None

    def respond(
        self,
        method: str,
        route: str,
        headers: Mapping[str, str],
        query: str,
        body: IO[bytes] | None,
        request: Any,
        origin: str | None = None,
    ) -> MediaResponse:
        """The answer to *method* on *route* (the path after the prefix, starting with ``s3/``).

        *origin* (``scheme://host``) makes the local routes' URLs absolute:
        Uppy parses the URLs it is given, and a path alone is not a URL.
        """
        cors = self._cors(headers.get("Origin"))  # the page's origin, for CORS
        try:
            if not self.enabled:
                raise UploadError(404, "Not found")
            if method == "OPTIONS":
                return self._preflight(cors)
            if route.startswith("s3/local/"):
                return self._local_route(method, route, headers, query, body, cors, origin)
            granted = self.authorize(request)  # type: ignore[misc]
            if not granted:
                raise UploadError(403, "You may not upload files.")
            bound_to = granted if isinstance(granted, str) else None
            payload = self._route(method, route, headers, _query(query), body, bound_to)
            if route == "s3/params" or (route.startswith("s3/multipart/") and method == "GET"):
                payload = _absolute(payload, origin)  # the URLs to send the file to
            return _json(200, payload, cors)
        except UploadError as exc:
            return _json(exc.status, {"error": str(exc)}, cors)
        except MediaError as exc:
            return self._media_error(exc, route, cors)
        except Exception:
            log.exception("upload route %r failed", route)
            return _json(500, {"error": MediaError.public_message}, cors)

    # --- the JSON routes -------------------------------------------------------------------

    def _route(
        self,
        method: str,
        route: str,
        headers: Mapping[str, str],
        query: dict[str, str],
        body: Any,
        bound_to: str | None = None,
    ) -> Any:
        media = self.media
        if route == "s3/params" and method == "GET":
            upload = media.presign_upload(query.get("filename", ""), query.get("type", ""))
            return {k: upload[k] for k in ("method", "url", "fields", "expires")} | {"headers": {}}
        if route == "s3/multipart" and method == "POST":
            data = _json_body(headers, body)
            started = media.create_multipart_upload(_text(data, "filename"), _text(data, "type"))
            return {"key": started["key"], "uploadId": started["upload_id"]}
        if route == "s3/confirm" and method == "POST":
            # Pending uploads only: an id read in a URL gets 409 (AlreadyConfirmed), no URL, no receipt.
            media_id = media.confirm_upload(_text(_json_body(headers, body), "key"), pending_only=True)
            return {
                "id": str(media_id),
                "url": media.url(media_id),
                "content_type": media_id.content_type,
                "width": media_id.width,
                "height": media_id.height,
                "receipt": media.upload_receipt(media_id, bound_to),
            }
        if route.startswith("s3/multipart/"):
            return self._multipart(method, route.removeprefix("s3/multipart/"), headers, query, body)
        raise UploadError(404 if method in ("GET", "POST", "DELETE") else 405, "Not found")

    def _multipart(self, method: str, rest: str, headers: Mapping[str, str], query: dict[str, str], body: Any) -> Any:
        media = self.media
        key = query.get("key", "")
        upload_id, _, last = rest.rpartition("/")
        if method == "POST" and last == "complete" and upload_id:
            parts = _json_body(headers, body).get("parts")
            location = media.complete_multipart_upload(key, upload_id, parts)  # type: ignore[arg-type]
            return {"location": location, "key": key}
        if method == "GET" and upload_id and last.isascii() and last.isdigit():
            return {"url": media.sign_upload_part(key, upload_id, int(last))}
        if method == "GET" and rest:
            return media.list_upload_parts(key, rest)
        if method == "DELETE" and rest:
            media.abort_multipart_upload(key, rest)
            return {}
        raise UploadError(404, "Not found")

    # --- local storage's stand-ins for S3 ------------------------------------------------

    def _local_route(
        self,
        method: str,
        route: str,
        headers: Mapping[str, str],
        query: str,
        body: IO[bytes] | None,
        cors: list[tuple[str, str]],
        origin: str | None = None,
    ) -> MediaResponse:
        if self._local is None:
            raise UploadError(404, "Not found")
        length = _content_length(headers)
        if body is None or length is None:
            raise UploadError(411, "A Content-Length is needed.")
        if route == "s3/local/upload" and method == "POST":
            # The form's own fields are small; the file is at most the limit.
            if length > self.media.max_upload_bytes + 64 * 1024:
                raise UploadTooLarge(f"the request is {length} bytes, over the upload limit")
            fields, upload, size = _read_form(headers, body, length)
            # The parsed field owns its (spooled) file: it stays referenced while read.
            key = self._local.receive_post(fields, upload.file, size)
            # As S3 answers: where the object is (absolute: clients parse it) and its ETag.
            location = self.media.storage.url(key)
            if origin and location.startswith("/"):
                location = origin.rstrip("/") + location
            headers_out = [("Location", location), ("Access-Control-Expose-Headers", "Location, ETag")]
            return MediaResponse(204, [*cors, *headers_out, ("Content-Length", "0")])
        if route == "s3/local/part" and method == "PUT":
            etag = self._local.receive_part(_query(query), body, length, self.media.max_upload_bytes)
            return MediaResponse(
                200, [*cors, ("ETag", etag), ("Access-Control-Expose-Headers", "ETag"), ("Content-Length", "0")]
            )
        raise UploadError(405 if route in ("s3/local/upload", "s3/local/part") else 404, "Not found")

    # --- CORS, errors ---------------------------------------------------------------------

    def _cors(self, origin: str | None) -> list[tuple[str, str]]:
        if not origin or origin.rstrip("/") not in self.cors_origins:
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Credentials", "true"),
        ]

    def _preflight(self, cors: list[tuple[str, str]]) -> MediaResponse:
        if not cors:
            raise UploadError(403, "Cross-origin uploads are not allowed from this origin.")
        return MediaResponse(
            204,
            [
                *cors,
                ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
                ("Access-Control-Allow-Headers", _ALLOW_HEADERS),
                ("Access-Control-Expose-Headers", "ETag"),
                ("Access-Control-Max-Age", "600"),
                ("Content-Length", "0"),
            ],
        )

    def _media_error(self, exc: MediaError, route: str, cors: list[tuple[str, str]]) -> MediaResponse:
        status = exc.status_code
        message = str(exc) if isinstance(exc, _SHOWN) else exc.public_message
        extra = []
        if isinstance(exc, (StorageUnavailable, Busy)):
            # Temporary (storage down or slow, no decode slot or memory now): the
            # client is told when to try again, and a pending upload was kept.
            log.warning("upload route %r: unavailable for now: %s", route, exc)
            extra.append(("Retry-After", str(exc.retry_after or 5)))
        elif status >= 500:
            log.error("upload route %r failed: %s", route, exc)
        else:
            log.info("upload route %r refused (%d): %s", route, status, exc)
        response = _json(status, {"error": message}, cors)
        response.headers.extend(extra)
        return response


def _absolute(payload: Any, origin: str | None) -> Any:
    """*payload* with a path-only ``url`` (a local route) made absolute on *origin*."""
    if origin and isinstance(payload, dict) and isinstance(payload.get("url"), str) and payload["url"].startswith("/"):
        return {**payload, "url": origin.rstrip("/") + payload["url"]}
    return payload


def _json(status: int, payload: Any, cors: list[tuple[str, str]]) -> MediaResponse:
    body = json.dumps(payload).encode("utf-8")
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        *cors,
    ]
    return MediaResponse(status, headers, body)


def _query(query: str) -> dict[str, str]:
    # Form-encoded, as Uppy sends it: "+" is a space.  The first value of each name.
    return {name: values[0] for name, values in parse_qs(query[:8192], keep_blank_values=True).items()}


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Content-Length")
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 15:
        return None
    return int(value)


def _json_body(headers: Mapping[str, str], body: IO[bytes] | None) -> dict[str, Any]:
    content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise UploadError(415, "Send this request as Content-Type: application/json.")
    length = _content_length(headers)
    if body is None or length is None:
        raise UploadError(411, "A Content-Length is needed.")
    if length > MAX_JSON_BYTES:
        raise UploadError(413, "The request body is too large.")
    try:
        data = json.loads(body.read(length) or b"{}")
    except ValueError:
        raise UploadError(400, "The request body is not JSON.") from None
    if not isinstance(data, dict):
        raise UploadError(400, "The request body must be a JSON object.")
    return data


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise UploadError(400, f"{name} is missing.")
    return value


def _read_form(headers: Mapping[str, str], body: IO[bytes], length: int) -> tuple[dict[str, str], Any, int]:
    """The text fields, the file field and its size of a multipart form.

    WebOb parses it, spooling big files to disk; the file field closes its
    file when it is collected, so the caller keeps it while reading.
    """
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": headers.get("Content-Type") or "",
        "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
    }
    try:
        form = Request(environ).POST
    except Exception:
        raise UploadError(400, "The upload is not a multipart form.") from None
    fields: dict[str, str] = {}
    file = None
    for name, value in form.items():
        if hasattr(value, "file"):
            if name != "file" or file is not None:
                raise UploadError(400, "The form must carry one file, in a field named 'file', last.")
            file = value
        elif isinstance(value, str) and file is None:
            fields[name] = value
    if file is None:
        raise UploadError(400, "The form carries no file.")
    file.file.seek(0, 2)
    size = file.file.tell()
    file.file.seek(0)
    return fields, file, size


__all__ = ["MAX_JSON_BYTES", "Authorize", "UploadAPI"]
