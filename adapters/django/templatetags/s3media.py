"""Template tags: ``{% load s3media %}``.

    {% media_url photo.media_id %}
    {% resize_url photo.media_id "400x300" mode="fill" %}
    {% picture photo.media_id sizes="320,640,1280" alt=photo.title class="photo" data_id=photo.pk %}

Each takes a stored value (a media id) or a ``FieldFile`` of a field on
:class:`~s3media_wsgi.adapters.django.storage.MediaStorage`
(``{% picture photo.image sizes="320,640" %}``): no storage call either way.
A legacy name (a file stored before the switch) gives its original's URL,
and ``picture`` a plain ``<img>`` of it.

``picture`` takes the arguments of :func:`s3media_wsgi.picture.picture`
(lists as comma-separated strings; ``attrs`` a dict from the context); any other keyword becomes an ``<img>``
attribute, with ``_`` written as ``-`` (``data_id`` → ``data-id``).
"""

from __future__ import annotations

import inspect
from typing import Any

from django import template
from django.db.models.fields.files import FieldFile
from django.utils.safestring import SafeString, mark_safe

from ....picture import picture as _picture
from ....responder import uploader_url as _uploader_url
from .. import get_media, get_settings
from ..storage import MediaFieldFile, legacy_img, legacy_url, media_value, resize_url_of

register = template.Library()

# The arguments picture() itself takes; every other keyword is an attribute.
_PICTURE_ARGS = frozenset(inspect.signature(_picture).parameters) - {"media", "media_id", "attrs"}


@register.simple_tag
def media_url(media_id: str | FieldFile) -> str:
    """URL of the original upload (an id, or a ``FieldFile``)."""
    legacy = legacy_url(media_id)
    return legacy if legacy is not None else get_media().url(media_value(media_id))


@register.simple_tag
def resize_url(media_id: str | FieldFile, size: str, **options: Any) -> str:
    """Signed resize URL: ``{% resize_url id "400x300" mode="fill" quality=80 %}`` (an id, or a ``FieldFile``)."""
    return resize_url_of(media_id, size, **options)


@register.simple_tag
def uploader_url() -> str:
    """Where the middleware serves ``uploader.js``: ``import {upload} from "{% uploader_url %}"``."""
    return _uploader_url(get_settings().prefix)


@register.simple_tag
def picture(media_id: str | FieldFile, **kwargs: Any) -> SafeString:
    """Responsive ``<picture>`` markup (already escaped by the core); an id, or a ``FieldFile``."""
    options = {k: v for k, v in kwargs.items() if k in _PICTURE_ARGS}
    attrs = dict(kwargs.get("attrs") or {})  # a dict from the context: attrs=photo_attrs
    attrs.update({k.replace("_", "-"): v for k, v in kwargs.items() if k not in _PICTURE_ARGS and k != "attrs"})
    legacy = legacy_url(media_id)
    if legacy is not None:
        if isinstance(media_id, MediaFieldFile):  # knows the size the row keeps
            return mark_safe(media_id.picture(**options, attrs=attrs))
        return mark_safe(legacy_img(legacy, {**options, "attrs": attrs}))
    return mark_safe(get_media().picture(media_value(media_id), attrs=attrs, **options))


__all__ = ["media_url", "picture", "register", "resize_url", "uploader_url"]
