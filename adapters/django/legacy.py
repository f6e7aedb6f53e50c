"""Resizes of legacy names: files saved before the switch to MediaStorage, resized on their first request.

A row saved before the switch holds the old storage's name
(``photos/2024/cat.jpg``).  Its resize URL (``{% resize_url photo.image
"400x300" %}``, ``photo.image.resize_url(...)``, ``picture``) is built with no
I/O, signed, and points to the media middleware::

    /media/legacy/<legacy alias>/photos/2024/cat.jpg?size=400x300&mode=fill&sig=...

On a request the middleware checks the signature, makes sure the file is
media under its **derived id** (a hash of the legacy storage's alias and the
name, then the name's filename: the same name always gives the same id), by
reading it from the legacy storage and putting it through
:meth:`Media.put <s3media_wsgi.Media.put>` the first time, and answers a
redirect (302) to the signed resize URL of that id.  ``manage.py s3media
import`` gives rows the same derived ids, so nothing made on a request is
made twice, and ``gc`` counts a derived id as held while a row holds its name.
A file refused as media (its real type is not what its name says, it is
no image, or too large) is answered with a redirect to its original.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect

from ...errors import AlreadyExists, MediaError
from ...ids import MediaId
from ...media import Media
from ...picture import SafeHTML, picture
from ...signing import HexSigner
from ...variants import UNSET, FocusArg, focus_text
from . import get_media, get_settings
from .naming import derived_id

#: The middleware's route for resizes of legacy names, under its prefix.
ROUTE = "legacy/"
#: The alias written in a URL when the legacy storage is the default one (a FileSystemStorage of MEDIA_ROOT).
NO_ALIAS = "-"
#: Longest legacy name a URL may carry.
MAX_NAME = 1024
_OPTIONS = ("mode", "quality", "format", "upscale", "focus")
_SALT = "s3media_wsgi.legacy-resize"
_lock = threading.Lock()
_signer: tuple[Media, HexSigner] | None = None


def _signer_now() -> HexSigner:
    global _signer
    media = get_media()
    current = _signer
    if current is None or current[0] is not media:
        with _lock:
            current = (media, HexSigner(get_settings().secret_key, salt=_SALT))
            _signer = current
    return current[1]


def _message(alias: str, name: str, size: str, options: dict[str, str]) -> str:
    return "\n".join([alias, name, size, *(f"{key}={options.get(key, '')}" for key in _OPTIONS)])


def resize_url(name: str, alias: str | None, size: str, **options: Any) -> str:
    """The signed URL of *name* (a legacy name of the storage *alias*) resized; no I/O.

    The size and options are checked now, as :meth:`Media.resize_url
    <s3media_wsgi.Media.resize_url>` checks them.
    """
    media = get_media()
    if "focus" in options:
        focus = options.pop("focus")
        if focus is not UNSET:
            options["focus"] = _focus_text(focus)  # one spelling signed, whatever form it came in
    given = {key: str(value).lower() for key, value in options.items() if value is not None}
    unknown = set(given) - set(_OPTIONS)
    if unknown:
        raise TypeError(f"unknown resize options: {', '.join(sorted(unknown))}")
    media.resize_key(derived_id(name, alias), size, **options)  # raises for a bad size or option
    alias_part = alias or NO_ALIAS
    query = {"size": size, **given, "sig": _signer_now().sign(_message(alias_part, name, size, given))}
    return f"{get_settings().prefix}{ROUTE}{quote(alias_part)}/{quote(name)}?{urlencode(query)}"


class LegacySource:
    """What :func:`s3media_wsgi.picture.picture` asks of a Media, for one legacy name: its legacy resize URLs."""

    def __init__(self, name: str, alias: str | None) -> None:
        self.name, self.alias = name, alias
        self.presets = get_media().presets

    def resize_url(
        self,
        media_id: str,
        size: str,
        mode: str | None = None,
        quality: int | None = None,
        format: str | None = None,
        upscale: bool | None = None,
        *,
        focus: FocusArg = UNSET,
    ) -> str:
        options: dict[str, Any] = {"mode": mode, "quality": quality, "format": format, "upscale": upscale}
        if focus is not UNSET:
            options["focus"] = _focus_text(focus)
        return resize_url(self.name, self.alias, size, **options)

    def picture(self, **kwargs: Any) -> SafeHTML:
        """``<picture>`` markup of the name's legacy resize URLs (the derived id stands for it)."""
        width, height = kwargs.pop("width", None), kwargs.pop("height", None)
        media_id = MediaId(derived_id(self.name, self.alias), width, height)
        return picture(self, media_id, **kwargs)


def _focus_text(focus: FocusArg) -> str:
    """*focus* as the one text a legacy URL signs (a point ``x,y``, a finder's name, or ``centre``)."""
    return focus_text(focus) or "centre"


def _legacy_storage(alias: str) -> Storage | None:
    if alias == NO_ALIAS:
        return FileSystemStorage()
    if alias == "default" or alias not in getattr(settings, "STORAGES", {}):
        return None
    return storages[alias]


def _options(raw: dict[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {key: raw[key] for key in _OPTIONS if key in raw}
    if "quality" in options:
        options["quality"] = int(options["quality"])
    if "upscale" in options:
        options["upscale"] = options["upscale"] == "true"
    return options


def answer(request: HttpRequest, prefix: str) -> HttpResponseBase:
    """The middleware's answer to a legacy resize URL: a redirect to the resize of the name's derived id."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(
            "Method not allowed.", status=405, content_type="text/plain", headers={"Allow": "GET, HEAD"}
        )
    alias, _, name = request.path_info[len(prefix) + len(ROUTE) :].partition("/")
    query = {key: request.GET[key] for key in ("size", "sig", *_OPTIONS) if key in request.GET}
    given = {key: value for key, value in query.items() if key in _OPTIONS}
    size, signature = query.get("size", ""), query.get("sig", "")
    storage = _legacy_storage(alias) if name and len(name) <= MAX_NAME and "\0" not in name else None
    if storage is None or not _signer_now().verify(_message(alias, name, size, given), signature):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    media = get_media()
    media_id = derived_id(name, None if alias == NO_ALIAS else alias)
    try:
        options = _options(given)
        if not media.exists(media_id):
            try:
                with storage.open(name, "rb") as fh:
                    media.put(fh, media_id=media_id)
            except AlreadyExists:
                pass  # another request stored it first
        target = media.resize_url(media_id, size, **options)
    except MediaError as exc:  # before ValueError: many of them are ValueErrors too
        if exc.status_code >= 500:
            return HttpResponse(exc.public_message, status=exc.status_code, content_type="text/plain")
        # Refused as media (its type is not what its name says, not an image, too large): its original.
        target = storage.url(name)
    except (FileNotFoundError, SuspiciousFileOperation, ValueError):  # gone, or a quality that is no number
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = "public, max-age=3600"
    return response


__all__ = ["NO_ALIAS", "ROUTE", "LegacySource", "answer", "resize_url"]
