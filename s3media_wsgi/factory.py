"""Build the media layer from parsed settings: the one place that turns settings into objects.

:func:`~s3media_wsgi.settings.parse_settings` returns plain data; this module
makes the storage from it and spells out the keyword arguments of
:class:`~s3media_wsgi.Media` and the middleware, each option under the name
it has in the settings.  ``Media.from_settings`` and every framework adapter
build through it.

    >>> from s3media_wsgi.settings import parse_settings
    >>> settings = parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk", "max_side": "2048"})
    >>> media_kwargs(settings)["max_side"], middleware_kwargs(settings)["prefix"]
    (2048, '/media/')
"""

from __future__ import annotations

import importlib
from typing import Any

from .delivery import resize_base_url_for
from .errors import ConfigError
from .settings import MEDIA_KEYS, MIDDLEWARE_KEYS, S3_KEYS, SETTINGS, MediaSettings
from .storage.base import Storage
from .storage.local import LocalStorage
from .storage.s3 import S3Storage

#: Settings of S3Storage passed as keywords, when set (the bucket is its first argument).
_S3_OPTIONS = tuple(key for key in S3_KEYS if key != "bucket")


def load_object(path: str, setting: str) -> Any:
    """The object at *path* (``"pkg.module:attr"`` or ``"pkg.module.attr"``); *setting* names it in errors."""
    module_name, colon, attribute = path.partition(":")
    if not colon:
        module_name, _, attribute = path.rpartition(".")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{setting} = {path!r} cannot be loaded: {exc}") from exc
    return found


def build_storage(settings: MediaSettings) -> Storage:
    """The storage the settings describe: local, S3, or what the ``storage`` factory returns."""
    if settings.storage == "s3":
        options = {name: getattr(settings, name) for name in _S3_OPTIONS if getattr(settings, name) is not None}
        return S3Storage(settings.bucket or "", **options)
    if settings.storage == "local":
        return LocalStorage(settings.local_root, base_url=settings.base_url or settings.prefix)
    factory = load_object(settings.storage, "storage")
    storage = factory() if callable(factory) else factory
    if not isinstance(storage, Storage):
        raise ConfigError(f"storage = {settings.storage!r} gave {type(storage).__name__}, not a storage")
    return storage


def media_kwargs(settings: MediaSettings) -> dict[str, Any]:
    """The keyword arguments of :class:`~s3media_wsgi.Media` (after the storage) these settings give.

    Only the options that are set: the rest keep Media's own defaults.
    """
    kwargs: dict[str, Any] = {}
    for name in MEDIA_KEYS:
        value = getattr(settings, name)
        if value is None or (name == "presets" and not value):
            continue
        if name == "secret_key":
            value = list(value)
        elif name == "presets":
            value = {preset: dict(options) for preset, options in value.items()}
        elif name in ("on_confirm", "enqueue"):
            value = load_object(value, name)
            if not callable(value):
                raise ConfigError(f"{name} = {getattr(settings, name)!r} is not a function")
        kwargs[name] = value
    if "resize_base_url" not in kwargs:
        # The app answers a private bucket's resize URLs (the settings stand for their storage here).
        base = resize_base_url_for(settings, settings.prefix, settings.delivery)
        if base is not None:
            kwargs["resize_base_url"] = base
    return kwargs


def middleware_kwargs(settings: MediaSettings) -> dict[str, Any]:
    """The keyword arguments of the middleware (and of the core responder) these settings give.

    ``enabled`` is not among them: an adapter that is not enabled builds no middleware.
    """
    kwargs: dict[str, Any] = {"prefix": settings.prefix, "serve_local": settings.serve_local}
    for name in MIDDLEWARE_KEYS:
        value = getattr(settings, name)
        if name in kwargs or name == "enabled" or value is None or value == ():
            continue
        if name == "uploads":
            value = load_object(value, "uploads")
            if not callable(value):
                raise ConfigError(f"uploads = {settings.uploads!r} is not a function of the request")
        kwargs[SETTINGS[name].keyword or name] = value
    return kwargs


__all__ = ["build_storage", "load_object", "media_kwargs", "middleware_kwargs"]
