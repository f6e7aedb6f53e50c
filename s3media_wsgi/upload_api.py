"""The upload routes under the middleware's prefix: what ``@uppy/aws-s3`` calls, and ours.

Off unless an authorisation hook is given (``uploads=``): the hook gets the
framework's request and says whether this user may upload: False, True, or a
string (a user id, a session key) that also allows it and to which the upload
receipts the confirm route hands out are bound.  Routes, relative
to the prefix (``companionEndpoint`` is the prefix without its trailing ``/``):

=================================================  ======================================================
``GET  s3/params?filename=&type=``                 sign a form upload: ``{method, url, fields, expires}``
``POST s3/multipart`` ``{filename, type}``          start a multipart upload: ``{key, uploadId}``
``GET  s3/multipart/<uploadId>/<n>?key=&size=``    sign part *n*: ``{url}``; with ``size`` (optional: Uppy
                                                   does not send it, ``uploader.js`` does) the URL accepts
                                                   only a part of exactly that many bytes, and a size that
                                                   would break ``max_upload_bytes`` is refused (413)
``GET  s3/multipart/<uploadId>?key=``              the parts so far: ``[{PartNumber, ETag, Size}]``
``POST s3/multipart/<uploadId>/complete``          ``{parts}`` -> ``{location, key}``
``DELETE s3/multipart/<uploadId>?key=``            abort: ``{}``
``POST s3/confirm`` ``{key}``                       check and keep: ``{id, url, content_type, width, height,
                                                   info, receipt}`` (``info``: ``MediaInfo.as_dict()``)
=================================================  ======================================================

The ``receipt`` is what a form sends back instead of the bare id (see
:mod:`s3media_wsgi.receipts`): when the hook returned a ``str`` (the user's
key, say) rather than ``True``, the receipt is bound to it, and only a
request for which the hook returns the same ``str`` gets the id back.  It
carries the id's stored value (the id with its size and placeholder, see
:attr:`MediaId.stored <s3media_wsgi.MediaId.stored>`), signed, so the form
stores the info without reading storage and without trusting what the page
says of it.

With local storage two more routes stand in for S3 (their signature is their
authorisation, as S3's is): ``POST s3/local/upload`` (the form: at most
:data:`MAX_FORM_PARTS` parts and :data:`MAX_FORM_FIELDS_BYTES` of text
fields, refused as soon as it breaks either, the file streamed to a temporary
file) and ``PUT s3/local/part`` (a part, answered with an ``ETag``).  Bodies
are read to their ``Content-Length`` and never a byte further; JSON bodies
are at most :data:`MAX_JSON_BYTES` and nest at most 32 levels (checked before
parsing: 413 or 400).  Upload ids are never paths: local ones are 32 hex
digits, S3's have S3's shape without ``..`` or a leading ``/``.  Errors are
JSON ``{"error": "<a message a page can show>"}`` with a 4xx (or 5xx) status,
decided by :func:`~s3media_wsgi.answers.answer_for` as the resize side's are
(the same ``Retry-After``); calls that change state must be
``Content-Type: application/json`` (so a cross-site form cannot make them);
CORS headers are sent only to configured origins.  ``s3/confirm`` confirms a
pending upload once: an id that is media already (a media id is in every URL
of it) is answered 409 ``{"error": "This upload was confirmed already."}``,
with no URL and no receipt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any
from urllib.parse import parse_qs

from .answers import DEFAULT_RETRY_AFTER, answer_for
from .bounded import MAX_JSON_DEPTH, BodyTooShort, JSONRefused, loads_json, read_exactly
from .errors import UploadError, UploadTooLarge
from .formdata import Form, FormRefused, read_form
from .limits import too_large_message
from .media import Media
from .response import MediaResponse
from .uploads import LocalUploads

log = logging.getLogger("s3media_wsgi")

#: The authorisation hook: the framework's request in, may this user upload out
#: (a string: yes, and the upload receipts are bound to it).
Authorize = Callable[[Any], bool | str]

#: Largest JSON body read (a completion of 10,000 parts is about 600 KB).
MAX_JSON_BYTES = 1024 * 1024
#: Most parts a local form upload may have: the signed fields (key, Content-Type, policy,
#: signature) and the file are five; the rest is room for fields a client adds (ignored).
MAX_FORM_PARTS = 16
#: Most bytes of a form's text fields in all (the signed policy is under 1 KB).
MAX_FORM_FIELDS_BYTES = 64 * 1024
#: Headers a cross-origin page may send to the routes.
_ALLOW_HEADERS = "Content-Type, Authorization, X-Requested-With"


class UploadAPI:
    """Answer the upload routes for *media*; see the module docs.

    :param authorize: the hook; the routes are off (404) without one.
    :param cors_origins: origins (``"https://app.example.com"``) allowed to
        call the routes from another origin; none by default.
    :param retry_after: seconds of ``Retry-After`` for a temporary failure
        without a hint of its own (the middleware passes its own, so the
        resize side and the routes say the same).
    """

    def __init__(
        self,
        media: Media,
        authorize: Authorize | None,
        cors_origins: Iterable[str] = (),
        *,
        retry_after: int = DEFAULT_RETRY_AFTER,
    ) -> None:
        if authorize is not None and not callable(authorize):
            raise TypeError(f"uploads must be a function of the request returning a bool or a str, not {authorize!r}")
        self.media = media
        self.authorize = authorize
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self.retry_after = retry_after
        target = media.direct_uploads.target
        self._local = target if isinstance(target, LocalUploads) else None

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
        except Exception as exc:
            return self._failure(exc, route, cors)

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
                "info": media_id.info.as_dict() if media_id.info is not None else None,
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
            size = _size_param(query.get("size"))
            return {"url": media.sign_upload_part(key, upload_id, int(last) if len(last) < 6 else 0, size=size)}
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
                raise UploadTooLarge(too_large_message(self.media.max_upload_bytes))
            form = _read_form(headers, body, length, self.media.max_upload_bytes)
            try:
                assert form.file is not None  # _read_form refuses a form without one
                key = self._local.receive_post(form.fields, form.file, form.size)
            finally:
                form.close()
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

    def _failure(self, exc: Exception, route: str, cors: list[tuple[str, str]]) -> MediaResponse:
        """*exc* answered as JSON, decided by :func:`~s3media_wsgi.answers.answer_for` (as the resize side's)."""
        answer = answer_for(exc, self.retry_after)
        log.log(
            answer.level,
            "upload route %r: %d: %s",
            route,
            answer.status,
            exc,
            exc_info=True if answer.traceback else None,
        )
        response = _json(answer.status, {"error": answer.shown}, cors)
        if answer.retry_after is not None:
            response.headers.append(("Retry-After", str(answer.retry_after)))
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
    """The JSON object a request carries: read to its ``Content-Length`` exactly, size and depth bounded first."""
    content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise UploadError(415, "Send this request as Content-Type: application/json.")
    length = _content_length(headers)
    if body is None or length is None:
        raise UploadError(411, "A Content-Length is needed.")
    if length > MAX_JSON_BYTES:
        raise UploadError(413, f"The request body is too large (over {MAX_JSON_BYTES} bytes).")
    try:
        data = loads_json(read_exactly(body, length) or b"{}", max_bytes=MAX_JSON_BYTES)
    except BodyTooShort:
        raise UploadError(400, "The request body is shorter than its Content-Length.") from None
    except JSONRefused as exc:
        if "deeper" in str(exc):
            raise UploadError(400, f"The request body nests deeper than {MAX_JSON_DEPTH} levels.") from None
        raise UploadError(400, "The request body is not JSON.") from None
    if not isinstance(data, dict):
        raise UploadError(400, "The request body must be a JSON object.")
    return data


def _size_param(value: str | None) -> int | None:
    """The ``size`` of a part-sign request: None when absent, else a positive whole number of bytes."""
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 15 or int(value) < 1:
        raise UploadError(400, "size must be the part's length: a positive whole number of bytes.")
    return int(value)


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise UploadError(400, f"{name} is missing.")
    return value


def _read_form(headers: Mapping[str, str], body: IO[bytes], length: int, max_file_bytes: int) -> Form:
    """The local upload form: its text fields and its one file, named ``file`` (streamed to a temporary file).

    Bounded before parsing (see :mod:`s3media_wsgi.formdata`): at most
    :data:`MAX_FORM_PARTS` parts and :data:`MAX_FORM_FIELDS_BYTES` of text
    fields, a file of at most *max_file_bytes*, the body read to its
    ``Content-Length`` and not a byte further.  A form breaking a bound is
    refused (400) as soon as it does, before the rest is read.  The caller
    closes the form.
    """
    try:
        form = read_form(
            body,
            length,
            headers.get("Content-Type") or "",
            max_parts=MAX_FORM_PARTS,
            max_field_bytes=MAX_FORM_FIELDS_BYTES,
            max_file_bytes=max_file_bytes,
        )
    except FormRefused as exc:
        message = str(exc)
        if "larger than" in message and "file" in message:
            raise UploadTooLarge(too_large_message(max_file_bytes)) from None
        if "parts" in message:
            message += f": a form carries its signed fields (at most {MAX_FORM_PARTS - 1}) and the file"
        raise UploadError(400, "The upload is refused: " + message + ".") from None
    if form.file is None or form.file_field != "file":
        form.close()
        raise UploadError(400, "The form must carry one file, in a field named 'file'.")
    return form


__all__ = ["MAX_FORM_FIELDS_BYTES", "MAX_FORM_PARTS", "MAX_JSON_BYTES", "Authorize", "UploadAPI"]
