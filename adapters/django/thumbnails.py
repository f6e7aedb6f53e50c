"""Thumbnails in the admin's change lists: a column of small signed resizes, with no storage call.

    from django.contrib import admin
    from s3media_wsgi.adapters.django.thumbnails import admin_thumbnail

    @admin.register(Product)
    class ProductAdmin(admin.ModelAdmin):
        list_display = ["name", admin_thumbnail("image"), "price"]

The field may be a ``MediaField``, a ``MediaListField`` (its first item) or a ``FileField``/``ImageField`` on
:class:`~s3media_wsgi.adapters.django.storage.MediaStorage`.  A legacy name
(stored before the switch) shows its original, scaled down by the browser.
A ``fill`` thumbnail of a ``MediaField`` is cropped on the row's focus, when
its form's picker set one (``info.focus``); centred otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ...variants import parse_size
from .storage import resize_url_of


def admin_thumbnail(
    field_name: str, size: str = "80x80", *, mode: str = "fill", description: str | None = None
) -> Callable[[models.Model], SafeString | str]:
    """A ``list_display`` column showing *field_name* resized to *size* (``"WxH"``; ``mode="fit"`` keeps it whole).

    The size is checked here, so a bad one fails when the admin is defined,
    not on every page.
    """
    width, height = parse_size(size)
    if not width or not height:
        raise ValueError(f"admin_thumbnail needs a box, WxH, not {size!r}")

    def thumbnail(obj: models.Model) -> SafeString | str:
        value: Any = getattr(obj, field_name)
        if isinstance(value, list):  # a MediaListField's MediaList: its first item stands for the row
            value = value[0] if value else None
        url = resize_url_of(value, size, mode=mode) if value else ""
        if not url:
            return "—"
        fit = "cover" if mode == "fill" else "contain"
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="" loading="lazy" style="object-fit: {}">',
            url,
            width,
            height,
            fit,
        )

    thumbnail.short_description = description or field_name.replace("_", " ")  # type: ignore[attr-defined]
    thumbnail.__name__ = f"{field_name}_thumbnail"
    return thumbnail


__all__ = ["admin_thumbnail"]
