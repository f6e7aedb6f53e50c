"""Django adapter.

    INSTALLED_APPS = [..., "s3media_wsgi.adapters.django"]
    MIDDLEWARE = ["s3media_wsgi.adapters.django.middleware.S3MediaMiddleware", ...]   # first
    S3MEDIA = {
        "SECRET_KEY": os.environ["S3MEDIA_SECRET_KEY"],
        "STORAGE": "local",          # or "s3" with "BUCKET", "REGION", ...
        "LOCAL_ROOT": BASE_DIR / "media",
    }

Keys are those of :mod:`s3media_wsgi.settings`, upper case.  ``"ENABLED": False``
removes the middleware (templates and :func:`get_media` keep working).  In
templates: ``{% load s3media %}`` then ``{% media_url id %}``,
``{% resize_url id "400x300" mode="fill" %}``, ``{% picture id sizes="320,640" alt="" %}``.
In views: ``get_media().put(request.FILES["photo"])``.  In models:
``fields.MediaField`` (a media id, uploaded straight from the browser by its
form field's widget; ``"UPLOADS": "s3media_wsgi.adapters.django.permissions.is_staff"``
says who may upload).

This module imports nothing from Django at import time (only the core), because
Django imports it to find the app config before settings are ready.
"""

from __future__ import annotations

import threading
from typing import Any

from ...errors import ConfigError
from ...media import Media
from ...settings import MediaSettings, parse_settings

#: Name of the Django setting holding the media settings dict.
SETTING_NAME = "S3MEDIA"

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def get_settings() -> MediaSettings:
    """``settings.S3MEDIA`` parsed (cached until the setting changes).

    Raises :class:`~s3media_wsgi.errors.ConfigError` when it is missing or invalid.
    """
    cached = _cache.get("settings")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from django.conf import settings

    _watch_settings()
    raw = getattr(settings, SETTING_NAME, None)
    if raw is None:
        raise ConfigError(
            f'settings.{SETTING_NAME} is missing: add {SETTING_NAME} = {{"SECRET_KEY": ...}} to your settings'
        )
    parsed = parse_settings(raw, upper=True, container=SETTING_NAME)
    _cache.setdefault("settings", parsed)
    return _cache["settings"]  # type: ignore[no-any-return]


def get_media() -> Media:
    """The process's Media, built once from ``settings.S3MEDIA``.

    Rebuilt after ``override_settings(S3MEDIA=...)`` (on Django's
    ``setting_changed`` signal), so tests can switch configurations.  In a view::

        media_id = get_media().put(request.FILES["photo"])
    """
    cached = _cache.get("media")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    with _lock:
        # Built under a lock: two threads racing here would make two storages
        # and two decode limits where the settings promise one.
        if "media" not in _cache:
            _cache["media"] = Media.from_settings(get_settings())
        return _cache["media"]  # type: ignore[no-any-return]


def reset(**kwargs: Any) -> None:
    """Forget the cached settings and Media (connected to ``setting_changed``)."""
    if kwargs.get("setting", SETTING_NAME) == SETTING_NAME:
        with _lock:
            _cache.clear()


def _watch_settings() -> None:
    from django.core.signals import setting_changed

    # dispatch_uid makes repeated calls connect once.
    setting_changed.connect(reset, dispatch_uid="s3media_wsgi.adapters.django.reset")


__all__ = ["SETTING_NAME", "get_media", "get_settings", "reset"]
