"""One parser for flat settings, shared by every framework adapter.

Each framework keeps its configuration differently, but the keys mean the same
everywhere; only their spelling changes:

=========  ==============================  ==============================
Framework  Where                           Spelling
=========  ==============================  ==============================
Flask      ``app.config``                  ``S3MEDIA_SECRET_KEY``
Pyramid    ``.ini`` / settings dict        ``s3media.secret_key``
Django     ``settings.S3MEDIA`` (a dict)   ``S3MEDIA = {"SECRET_KEY": ...}``
=========  ==============================  ==============================

Values may be real Python values or the strings an ``.ini`` file or the
environment gives (``"true"``, ``"50000000"``, a JSON object for presets, one
secret per line).  Every problem raises :class:`~s3media_wsgi.errors.ConfigError`
naming the key as the user spelled it, at startup, not on the first request.

    >>> s = parse_settings({"S3MEDIA_SECRET_KEY": "demo-secret-0123456789-abcdefghijk", "S3MEDIA_MAX_PIXELS": "1000"}, prefix="S3MEDIA_")
    >>> s.storage, s.prefix, s.max_pixels
    ('local', '/media/', 1000)
    >>> parse_settings({"S3MEDIA_SECRET_KEY": "demo-secret-0123456789-abcdefghijk", "S3MEDIA_MAX_PIXELS": "abc"}, prefix="S3MEDIA_")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: S3MEDIA_MAX_PIXELS must be an integer, got 'abc'
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .resilience import positive_number
from .signing import Secret, secret_keys
from .urls import check_base_url, check_prefix
from .variants import load_presets

if TYPE_CHECKING:
    from .media import Media
    from .middleware import MediaMiddleware
    from .storage.base import Storage

#: Every key the parser knows, lower case, in the order the docs list them.
KNOWN_KEYS = (
    "storage",
    "local_root",
    "base_url",
    "bucket",
    "region",
    "endpoint_url",
    "secret_key",
    "prefix",
    "serve_local",
    "presets",
    "strict_presets",
    "max_pixels",
    "max_upload_bytes",
    "storage_budget",
    "max_storage_requests",
    "breaker_threshold",
    "breaker_cooldown",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
    "enabled",
)
STORAGES = ("local", "s3")
_S3_ONLY = ("bucket", "region", "endpoint_url", "connect_timeout", "read_timeout", "max_attempts")
#: Settings passed to Media as they are, when set.
_MEDIA_OPTIONS = (
    "max_pixels",
    "max_upload_bytes",
    "storage_budget",
    "max_storage_requests",
    "breaker_threshold",
    "breaker_cooldown",
)
_LOCAL_ONLY = ("local_root",)

# The same words Pyramid's asbool accepts; anything else is refused, not False.
_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0"})
# Largest resize side Media accepts by default; presets are checked against it.
_MAX_SIDE = 4096


@dataclass(frozen=True)
class MediaSettings:
    """Parsed, validated settings: everything needed to build the media layer.

    ``prefix``, ``serve_local`` and ``enabled`` are options of the middleware
    (or the framework adapter), the rest configure storage and :class:`Media`.
    ``serve_local`` None lets the middleware decide (serve from disk exactly
    when the storage is local); ``base_url`` None means the storage's default
    (the prefix for local storage, the bucket's URL for S3).

        >>> s = parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk"})
        >>> s.storage, s.local_root, s.prefix, s.serve_local is None
        ('local', 'media', '/media/', True)
    """

    secret_key: tuple[Secret, ...]
    storage: str = "local"
    local_root: str = "media"
    base_url: str | None = None
    bucket: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    prefix: str = "/media/"
    serve_local: bool | None = None
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    strict_presets: bool = False
    max_pixels: int | None = None
    max_upload_bytes: int | None = None
    storage_budget: float | None = None
    max_storage_requests: int | None = None
    breaker_threshold: int | None = None
    breaker_cooldown: float | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_attempts: int | None = None
    enabled: bool = True

    def build_storage(self) -> Storage:
        """The storage backend these settings describe.

            >>> parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk"}).build_storage()   # doctest: +SKIP
            LocalStorage('/srv/app/media', base_url='/media/')
        """
        if self.storage == "s3":
            from .storage.s3 import S3Storage

            options: dict[str, Any] = {"bucket": self.bucket}
            for name in ("region", "base_url", "endpoint_url", "connect_timeout", "read_timeout", "max_attempts"):
                if getattr(self, name) is not None:
                    options[name] = getattr(self, name)
            return S3Storage(**options)
        from .storage.local import LocalStorage

        return LocalStorage(self.local_root, base_url=self.base_url or self.prefix)

    def build_media(self, media_class: type[Media] | None = None) -> Media:
        """A new :class:`~s3media_wsgi.Media` (or *media_class*) with these settings.

            >>> media = parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk"}).build_media()   # doctest: +SKIP
        """
        from .media import Media

        make = media_class or Media

        options: dict[str, Any] = {
            name: getattr(self, name) for name in _MEDIA_OPTIONS if getattr(self, name) is not None
        }
        return make(
            self.build_storage(),
            secret_key=list(self.secret_key),
            presets={name: dict(opts) for name, opts in self.presets.items()},
            strict_presets=self.strict_presets,
            **options,
        )

    def wrap(self, app: Any, media: Media | None = None) -> MediaMiddleware:
        """Wrap the WSGI *app* in the media middleware (building *media* if not given).

            >>> app = parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk"}).wrap(app)   # doctest: +SKIP
        """
        from .middleware import MediaMiddleware

        return MediaMiddleware(
            app,
            media if media is not None else self.build_media(),
            prefix=self.prefix,
            serve_local=self.serve_local,
        )


def middleware_options(settings: MediaSettings) -> dict[str, Any]:
    """The keyword arguments these settings give the middleware (or the core responder).

        >>> middleware_options(parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk"}))
        {'prefix': '/media/', 'serve_local': None}
    """
    return {"prefix": settings.prefix, "serve_local": settings.serve_local}


# --- converters: strings as ini files and environment variables give them -----


def as_bool(value: object, name: str) -> bool:
    """``True``/``False``, or a string such as ``"yes"``/``"off"``; anything else is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def as_int(value: object, name: str) -> int:
    """A positive int, or a string of one (``"50_000_000"`` is fine)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def as_seconds(value: object, name: str) -> float:
    """A number of seconds > 0, or a string of one (``"2.5"``)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    return positive_number(value, name)


def as_str(value: object, name: str) -> str:
    """A non-empty string, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    return value.strip()


def as_path(value: object, name: str) -> str:
    """A folder: a non-empty string or a path object (``BASE_DIR / "media"``)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return as_str(value, name)


def as_list(value: object, name: str) -> list[str]:
    """A list of strings; a string is split on newlines and commas.

    Secrets made by ``secrets.token_urlsafe`` never contain either.
    """
    if isinstance(value, str):
        items = [part.strip() for part in re.split(r"[\n,]", value)]
        return [item for item in items if item]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ConfigError(f"{name} must be a string or a list of strings, got {type(value).__name__}")


def as_presets(value: object, name: str) -> dict[str, dict[str, Any]]:
    """A dict of presets, or the same as a JSON object (for ``.ini`` files and env vars)."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a JSON object of presets: {exc}") from None
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{name} must be a dict such as {{\"thumb\": {{\"size\": \"200x200\", \"mode\": \"fill\"}}}}, "
            f"got {type(value).__name__}"
        )
    try:
        return load_presets(value, _MAX_SIDE)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _url_prefix(value: object, name: str) -> str:
    return check_prefix(as_str(value, name), name)


def _base_url(value: object, name: str) -> str:
    return check_base_url(as_str(value, name), name)


def _storage(value: object, name: str) -> str:
    kind = as_str(value, name).lower()
    if kind not in STORAGES:
        raise ConfigError(f"{name} must be one of {', '.join(STORAGES)}, got {value!r}")
    return kind


def _secrets(value: object, name: str) -> tuple[Secret, ...]:
    # Bytes (os.urandom) are one secret, never split on newlines or commas.
    keys: object = [value] if isinstance(value, bytes) else as_list(value, name)
    try:
        return tuple(secret_keys(keys))
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


_CONVERTERS: dict[str, Callable[[object, str], Any]] = {
    "storage": _storage,
    "local_root": as_path,
    "base_url": _base_url,
    "bucket": as_str,
    "region": as_str,
    "endpoint_url": as_str,
    "secret_key": _secrets,
    "prefix": _url_prefix,
    "serve_local": as_bool,
    "presets": as_presets,
    "strict_presets": as_bool,
    "max_pixels": as_int,
    "max_upload_bytes": as_int,
    "storage_budget": as_seconds,
    "max_storage_requests": as_int,
    "breaker_threshold": as_int,
    "breaker_cooldown": as_seconds,
    "connect_timeout": as_seconds,
    "read_timeout": as_seconds,
    "max_attempts": as_int,
    "enabled": as_bool,
}


# --- the parser ------------------------------------------------------------------


def parse_settings(
    mapping: Mapping[str, Any] | None,
    prefix: str = "",
    upper: bool | None = None,
    container: str | None = None,
) -> MediaSettings:
    """Parse the settings under *prefix* in *mapping* into :class:`MediaSettings`.

    :param prefix: what every key starts with (``"S3MEDIA_"``, ``"s3media."``),
        or ``""`` when *mapping* holds only media settings (Django's dict).
        Keys of *mapping* not starting with it are ignored; keys starting with it
        that are not known are an error, so a typo never passes silently.
    :param upper: keys are spelled upper case (``SECRET_KEY``).  By default,
        upper case exactly when *prefix* is (``"S3MEDIA_"`` yes, ``"s3media."``
        no, ``""`` no).
    :param container: the name of the setting that holds *mapping*, used only in
        error messages (``"S3MEDIA"`` gives ``S3MEDIA["SECRET_KEY"]``).

    A value of ``None`` counts as not set.

        >>> parse_settings({"s3media.secret_key": "demo-secret-0123456789-abcdefghijk", "s3media.serve_local": "off"},
        ...                prefix="s3media.").serve_local
        False
        >>> parse_settings({"SECRET_KEY": "demo-secret-0123456789-abcdefghijk", "PREFIX": "/m/"}, upper=True, container="S3MEDIA").prefix
        '/m/'
    """
    if upper is None:
        upper = prefix.isupper()
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, Mapping):
        what = container or "settings"
        raise ConfigError(f"{what} must be a dict of media settings, got {type(mapping).__name__}")

    def quote(written: str) -> str:
        return f'{container}["{written}"]' if container else written

    def spell(key: str) -> str:
        return quote(prefix + (key.upper() if upper else key))

    known = {prefix + (k.upper() if upper else k): k for k in KNOWN_KEYS}
    known_lower = {written.lower(): k for written, k in known.items()}
    raw: dict[str, Any] = {}
    for written, value in mapping.items():
        if not isinstance(written, str) or not written.startswith(prefix):
            continue
        key = known.get(written)
        if key is None:
            close = difflib.get_close_matches(written.lower(), [k.lower() for k in known], n=1)
            guess = f"did you mean {spell(known_lower[close[0]])}? " if close else ""
            names = ", ".join(spell(k) for k in KNOWN_KEYS)
            raise ConfigError(f"unknown media setting {quote(written)}; {guess}known settings: {names}")
        if value is not None:
            raw[key] = value

    if "secret_key" not in raw:
        raise ConfigError(
            f"{spell('secret_key')} is required: set it to a secret of 32+ characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` (never commit it)"
        )
    values = {key: _CONVERTERS[key](value, spell(key)) for key, value in raw.items()}

    kind = values.get("storage", "local")
    if kind == "s3" and "bucket" not in values:
        raise ConfigError(f"{spell('bucket')} is required when {spell('storage')} is 's3'")
    stray = [k for k in (_S3_ONLY if kind == "local" else _LOCAL_ONLY) if k in values]
    if stray:
        # A bucket set while storage is still 'local' would quietly write
        # production uploads to the server's disk: refuse instead.
        names = ", ".join(spell(k) for k in stray)
        storage = spell("storage")
        raise ConfigError(f"{names} has no effect when {storage} is {kind!r}; set {storage} or remove it")
    if values.get("strict_presets") and not values.get("presets"):
        raise ConfigError(
            f"{spell('strict_presets')} is on but {spell('presets')} is empty; define at least one preset"
        )
    return MediaSettings(**values)


__all__ = [
    "KNOWN_KEYS",
    "MediaSettings",
    "as_bool",
    "as_int",
    "as_list",
    "as_path",
    "as_presets",
    "as_seconds",
    "as_str",
    "middleware_options",
    "parse_settings",
]
