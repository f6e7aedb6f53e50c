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
says who may upload), and ``lists.MediaListField`` (several, in order, uploaded at
once by its widget).  A form taking an upload from the browser takes its
receipt (what ``s3/confirm`` answers), never a bare id: :func:`check_upload_receipt`
gives the id back, for the user of the current request only.

This module imports nothing from Django at import time (only the core), because
Django imports it to find the app config before settings are ready.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from ...errors import ConfigError, InvalidUpload
from ...factory import middleware_kwargs
from ...media import Media
from ...settings import DJANGO_SETTING, MediaSettings, parse_settings

#: Name of the Django setting holding the media settings dict.
SETTING_NAME = DJANGO_SETTING

_lock = threading.Lock()
_cache: dict[str, Any] = {}
#: The request the media middleware is handling in this context (thread, task), for form fields.
_request: ContextVar[Any] = ContextVar("s3media_request", default=None)


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


def get_upload_hook() -> Callable[[Any], bool | str] | None:
    """The ``S3MEDIA["UPLOADS"]`` hook, loaded (None when the upload routes are off)."""
    if "uploads" not in _cache:
        hook = middleware_kwargs(get_settings()).get("uploads")  # ConfigError when it is no function
        _cache.setdefault("uploads", hook)
    return _cache["uploads"]  # type: ignore[no-any-return]


def current_request() -> Any:
    """The ``HttpRequest`` the media middleware is handling in this thread (or task); None outside one.

    The middleware keeps it for the length of every request, its view
    included, so that a form field, which is given no request, can ask the
    ``uploads`` hook about the user sending it.
    """
    return _request.get()


def check_upload_receipt(receipt: str, request: Any = None) -> str:
    """The media id *receipt* was issued for, when the user of *request* may hand it in.

    *request* defaults to :func:`current_request`.  The ``uploads`` hook is
    asked about it as the upload routes ask: a ``str`` it answers is the
    binding the receipt must carry (the user's key: only its uploader gets
    the id back), ``True`` means an unbound receipt; a hook refusing the user
    refuses every receipt.  Without a hook (the routes are off: receipts come
    from your own ``get_media().upload_receipt(id)``) or without a request,
    only unbound receipts hold.  Raises
    :class:`~s3media_wsgi.errors.InvalidUpload` when the receipt is forged,
    expired or bound to someone else.  No I/O but what the hook does.
    """
    request = current_request() if request is None else request
    hook = get_upload_hook()
    bound_to: str | None = None
    if hook is not None and request is not None:
        allowed = hook(request)
        if not allowed:
            raise InvalidUpload("You may not upload files.")
        bound_to = allowed if isinstance(allowed, str) else None
    return get_media().check_receipt(receipt, bound_to)


def reset(**kwargs: Any) -> None:
    """Forget the cached settings and Media (connected to ``setting_changed``)."""
    if kwargs.get("setting", SETTING_NAME) == SETTING_NAME:
        with _lock:
            _cache.clear()


def _watch_settings() -> None:
    from django.core.signals import setting_changed

    # dispatch_uid makes repeated calls connect once.
    setting_changed.connect(reset, dispatch_uid="s3media_wsgi.adapters.django.reset")


__all__ = [
    "SETTING_NAME",
    "check_upload_receipt",
    "current_request",
    "get_media",
    "get_settings",
    "get_upload_hook",
    "reset",
]
