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

Every setting is declared once, by a :func:`define` call in this module (its
key, converter, default, group, one line of doc).  The key tuples
(:data:`KNOWN_KEYS`, :data:`MEDIA_KEYS`...), the converters the parser uses,
the factory's keyword lists and the README's settings table
(:func:`markdown_table`, ``python -m s3media_wsgi.settings --markdown``) follow
from it; the typed :class:`MediaSettings` field and the keyword of ``Media``,
``S3Storage`` or the middleware of the same name are checked against it by the
tests.

    >>> SECRET = "demo-secret-0123456789-abcdefghijk"
    >>> s = parse_settings({"S3MEDIA_SECRET_KEY": SECRET, "S3MEDIA_MAX_PIXELS": "1000"}, prefix="S3MEDIA_")
    >>> s.storage, s.prefix, s.max_pixels
    ('local', '/media/', 1000)
    >>> parse_settings({"S3MEDIA_SECRET_KEY": SECRET, "S3MEDIA_MAX_PIXELS": "abc"}, prefix="S3MEDIA_")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: S3MEDIA_MAX_PIXELS must be an integer, got 'abc'
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .bounded import JSONRefused, loads_json
from .delivery import DEFAULT_PREFIX, parse_delivery
from .errors import ConfigError
from .imaging import ImageLimits
from .limits import DEFAULT_MAX_SIDE, positive_int, positive_number
from .previews import PreviewLimits
from .signing import Secret, secret_keys
from .sniff import TYPES
from .storage.s3 import CANNED_ACLS
from .urls import check_base_url, check_prefix
from .variants import load_presets

#: Largest JSON document a setting (``presets``, ``image_limits``) may be, in
#: UTF-8 bytes; it may nest no deeper than :data:`~s3media_wsgi.bounded.MAX_JSON_DEPTH`.
MAX_SETTING_JSON_BYTES = 64 * 1024
#: Built-in storages; any other value of ``storage`` is a dotted path to a factory.
STORAGES = ("local", "s3")

# The same words Pyramid's asbool accepts; anything else is refused, not False.
_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0"})
# "package.module:attribute" or "package.module.attribute".
_DOTTED_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::[A-Za-z_][A-Za-z0-9_.]*)?")


@dataclass(frozen=True)
class MediaSettings:
    """Parsed, validated settings: plain data, nothing built.

    :mod:`s3media_wsgi.factory` builds storage, :class:`~s3media_wsgi.Media`
    and the middleware from them.  ``None`` means "the library's default":
    ``serve_local`` None lets the middleware decide (serve from disk exactly
    when the storage's objects are local files); ``base_url`` None means the
    storage's default (the prefix for local storage, the bucket's URL for S3).
    ``storage`` is ``"local"``, ``"s3"`` or the dotted path of a callable that
    returns a storage; ``media_factory`` the dotted path of a callable that
    returns a ready Media (then no storage or Media key may be set).

        >>> s = parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk"})
        >>> s.storage, s.local_root, s.prefix, s.serve_local is None
        ('local', 'media', '/media/', True)
    """

    secret_key: tuple[Secret, ...] = ()
    storage: str = "local"
    local_root: str = "media"
    base_url: str | None = None
    bucket: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    acl: str | None = None
    cache_control: str | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_attempts: int | None = None
    private: bool | None = None
    url_expires: int | None = None
    call_threads: int | None = None
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    strict_presets: bool = False
    max_pixels: int | None = None
    max_side: int | None = None
    max_frames: int | None = None
    max_upload_bytes: int | None = None
    allowed_types: tuple[str, ...] | None = None
    max_concurrent_decodes: int | None = None
    check_pixels: bool | None = None
    keep_metadata: bool | None = None
    ladder: bool | None = None
    image_limits: ImageLimits | None = None
    preview_limits: PreviewLimits | None = None
    upload_expires: int | None = None
    resize_base_url: str | None = None
    storage_budget: float | None = None
    max_storage_requests: int | None = None
    breaker_threshold: int | None = None
    breaker_cooldown: float | None = None
    on_confirm: str | None = None
    enqueue: str | None = None
    prefix: str = DEFAULT_PREFIX
    serve_local: bool | None = None
    retry_after: int | None = None
    local_cache_control: str | None = None
    uploads: str | None = None
    cors_origins: tuple[str, ...] = ()
    delivery: str | None = None
    enabled: bool = True
    delete_replaced: bool = True
    media_factory: str | None = None


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
    return positive_int(value, name)


def as_count(value: object, name: str) -> int:
    """An int >= 0, or a string of one (``"0"`` is fine)."""
    if isinstance(value, str) and value.strip() == "0":
        return 0
    if value == 0 and not isinstance(value, bool):
        return 0
    return as_int(value, name)


def as_seconds(value: object, name: str) -> float:
    """A number of seconds > 0, or a string of one (``"2.5"``)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    return positive_number(value, name)


def as_str(value: object, name: str) -> str:
    """A non-empty string, stripped, without control characters (they would end up in headers)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    if not value.strip().isprintable():
        # Surrogates are not printable either: an undecodable byte of an environment variable.
        raise ConfigError(
            f"{name} must not contain control characters (such as a line break) or undecodable bytes, got {value!r}"
        )
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
    """A dict of presets, or the same as a JSON object (for ``.ini`` files and env vars).

    The JSON is parsed within bounds (:data:`MAX_SETTING_JSON_BYTES`, 32 levels).
    """
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = loads_json(value, max_bytes=MAX_SETTING_JSON_BYTES)
        except JSONRefused as exc:
            raise ConfigError(f"{name} must be a JSON object of presets: {exc}") from None
    if not isinstance(value, Mapping):
        raise ConfigError(
            f'{name} must be a dict such as {{"thumb": {{"size": "200x200", "mode": "fill"}}}}, '
            f"got {type(value).__name__}"
        )
    return dict(value)


def _presets_within(presets: Mapping[str, Any], max_side: int, name: str) -> dict[str, dict[str, Any]]:
    try:
        return load_presets(presets, max_side)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _url_prefix(value: object, name: str) -> str:
    return check_prefix(as_str(value, name), name)


def _base_url(value: object, name: str) -> str:
    return check_base_url(as_str(value, name), name)


def _storage(value: object, name: str) -> str:
    kind = as_str(value, name)
    if kind.lower() in STORAGES:
        return kind.lower()
    return as_dotted(kind, name, f"one of {', '.join(STORAGES)}, or the dotted path of a function returning a storage")


def as_dotted(value: object, name: str, what: str = "a dotted path such as 'myapp.media:build'") -> str:
    """A dotted path (``"pkg.module:attr"`` or ``"pkg.module.attr"``); nothing is imported here."""
    text = as_str(value, name)
    if not _DOTTED_RE.fullmatch(text) or ("." not in text and ":" not in text):
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    return text


def _allowed_types(value: object, name: str) -> tuple[str, ...]:
    kinds = tuple(str(kind).strip().lower() for kind in as_list(value, name))
    unknown = sorted(set(kinds) - set(TYPES))
    if unknown or not kinds:
        raise ConfigError(f"{name} must list kinds among {', '.join(sorted(TYPES))}; got {value!r}")
    return kinds


def as_image_limits(value: object, name: str) -> ImageLimits:
    """An :class:`~s3media_wsgi.imaging.ImageLimits`, or a dict (a JSON object in ini files) of its fields.

    The JSON is parsed within the same bounds as :func:`as_presets`'.
    """
    return _limits(ImageLimits, value, name, '{"max_avif_pixels": 4000000}', "image limits")


def as_preview_limits(value: object, name: str) -> PreviewLimits:
    """A :class:`~s3media_wsgi.previews.PreviewLimits`, or a dict (a JSON object in ini files) of its fields."""
    return _limits(PreviewLimits, value, name, '{"max_pages": 2000}', "preview limits")


_L = TypeVar("_L", ImageLimits, PreviewLimits)


def _limits(cls: type[_L], value: object, name: str, example: str, what: str) -> _L:
    """*cls* from itself or from a dict (or JSON object) of its fields: ints where the default is an int."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            value = loads_json(value, max_bytes=MAX_SETTING_JSON_BYTES)
        except JSONRefused as exc:
            raise ConfigError(f"{name} must be a JSON object of {what}: {exc}") from None
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a dict such as {example}, got {type(value).__name__}")
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        raise ConfigError(f"{name} has unknown limits {unknown}; known: {', '.join(sorted(defaults))}")
    try:
        given: dict[str, Any] = {
            key: (as_int if isinstance(defaults[key], int) else as_seconds)(v, f"{name}[{key!r}]")
            for key, v in value.items()
        }
        return cls(**given)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _origins(value: object, name: str) -> tuple[str, ...]:
    origins = tuple(str(o).strip().rstrip("/") for o in as_list(value, name))
    for origin in origins:
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?", origin):
            raise ConfigError(f"{name} must list origins such as 'https://app.example.com', got {origin!r}")
    return origins


def _delivery(value: object, name: str) -> str:
    as_str(value, name)  # a non-empty string without control characters, first
    return parse_delivery(value, name)


def _acl(value: object, name: str) -> str:
    acl = as_str(value, name)
    if acl not in CANNED_ACLS:
        raise ConfigError(f"{name} must be a canned ACL ({', '.join(sorted(CANNED_ACLS))}), got {value!r}")
    return acl


def _secrets(value: object, name: str) -> tuple[Secret, ...]:
    # Bytes (os.urandom) are one secret, never split on newlines or commas.
    keys: object = [value] if isinstance(value, bytes) else as_list(value, name)
    try:
        return tuple(secret_keys(keys))
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


# --- the registry: every setting, declared once --------------------------------------

#: The parts a setting belongs to: ``storage`` and ``media_factory`` choose what is
#: built; ``local``/``s3`` are keywords of the storage of that kind; ``media`` of
#: :class:`~s3media_wsgi.Media`; ``middleware`` of the middleware (and of each adapter);
#: ``adapters`` read by a framework adapter only (never a keyword of the core).
GROUPS = ("storage", "local", "s3", "media", "middleware", "adapters", "factory")


@dataclass(frozen=True)
class Setting:
    """One setting: its key (lower case), how a value is converted, its default, its groups, one line of doc.

    *default* is the value :class:`MediaSettings` holds when the key is not set
    (None means "the library's default", which *shown* describes for the docs);
    *keyword* is the name of the keyword it becomes when that differs from the key.
    """

    name: str
    convert: Callable[[object, str], Any]
    default: Any
    groups: tuple[str, ...]
    doc: str
    shown: str = "—"
    keyword: str | None = None


#: Every setting by key, in the order the docs list them; filled by :func:`define` below.
SETTINGS: dict[str, Setting] = {}


def define(
    name: str,
    convert: Callable[[object, str], Any],
    default: Any,
    group: str | tuple[str, ...],
    doc: str,
    shown: str = "—",
    keyword: str | None = None,
) -> Setting:
    """Declare a setting: the one place a new key is added (parser, :class:`MediaSettings`
    check, factory keywords, framework spellings and the README table all follow it)."""
    groups = (group,) if isinstance(group, str) else group
    if name in SETTINGS or not set(groups) <= set(GROUPS) or not groups:
        raise ValueError(f"setting {name!r} is defined twice or has an unknown group {groups!r}")
    SETTINGS[name] = setting = Setting(name, convert, default, groups, doc, shown, keyword)
    return setting


_LIMITS = "(see [Limits](#limits-you-can-rely-on))"
# fmt: off
define("storage", _storage, "local", "storage",
       "`local`, `s3`, or the dotted path of a function returning a storage (`myapp.media:make_storage`)", "`local`")
define("local_root", as_path, "media", "local", "folder of `LocalStorage`", "`media`")
define("base_url", _base_url, None, ("local", "s3"),
       "URL prefix of stored files (a bucket website or CDN URL for S3)",
       "the prefix (local); the bucket's URL, or `<endpoint_url>/<bucket>/` (S3)")
define("bucket", as_str, None, "s3", "S3 bucket")
define("region", as_str, None, "s3", "the bucket's AWS region")
define("endpoint_url", as_str, None, "s3", "an S3-compatible endpoint (MinIO, R2…)")
define("acl", _acl, None, "s3", "canned ACL sent with each S3 object", "none")
define("cache_control", as_str, None, "s3", "`Cache-Control` stored with each S3 object",
       "a year, `immutable` (`public`; for a private bucket `private`, and a value of your own must say `private` "
       "or `no-store`)")
define("connect_timeout", as_seconds, None, "s3", "S3 client: seconds to open a connection", "2")
define("read_timeout", as_seconds, None, "s3", "S3 client: seconds to wait for bytes from S3", "5")
define("max_attempts", as_int, None, "s3", "S3 client: tries per call, the first included", "3")
define("private", as_bool, None, "s3", "a [private bucket](#three-delivery-modes): presigned GETs", "off")
define("url_expires", as_int, None, "s3", "least life of a private bucket's presigned GETs, in seconds", "3600")
define("call_threads", as_int, None, "s3",
       "threads per S3 storage that run its calls under a request's wall-clock budget (a call cut off at the "
       "deadline holds one until it ends)", "8")
define("secret_key", _secrets, (), "media",
       "one secret, or several (a list; one per line or comma-separated in ini files); the first signs",
       "**required**")
define("presets", as_presets, {}, "media",
       "named sizes (a JSON object in ini files); one with `\"eager\": true` is made right after each upload", "none")
define("strict_presets", as_bool, False, "media", "only preset sizes are built and served", "off")
define("max_pixels", as_int, None, "media", f"largest source image ever decoded, in pixels {_LIMITS}", "50 MP")
define("max_side", as_int, None, "media", f"largest side of a resize {_LIMITS}", "4096")
define("max_frames", as_int, None, "media", f"most frames of an animation kept {_LIMITS}", "100")
define("max_upload_bytes", as_int, None, "media", f"largest upload `put` accepts {_LIMITS}", "50 MiB")
define("allowed_types", _allowed_types, None, "media",
       "kinds `put` accepts (a list; comma-separated in ini files)", "every known kind")
define("max_concurrent_decodes", as_int, None, "media", "images worked on at once per process", "CPUs")
define("check_pixels", as_bool, None, "media",
       "`put` and `confirm_upload` decode each image's first frame and refuse corrupt pixel data", "on")
define("keep_metadata", as_bool, None, "media",
       "store JPEG, PNG and WebP originals as uploaded; off: location, maker notes, XMP and comments are "
       "removed without re-encoding (ICC profile and orientation kept)", "off")
define("ladder", as_bool, None, "media",
       "make each image's source ladder (copies at 1/2 to 1/8 size) at upload; cold resizes read it", "on")
define("image_limits", as_image_limits, None, "media",
       "the engine's other limits (`ImageLimits` fields: `max_metadata_bytes`, `max_jpeg_scans`, "
       "`max_avif_pixels`…; a JSON object in ini files)", "see [Limits](#limits-you-can-rely-on)")
define("preview_limits", as_preview_limits, None, "media",
       "what a still or the facts of a video or a PDF may cost (`PreviewLimits` fields: `max_duration`, "
       "`max_pages`, `max_pdf_inflated`…; a JSON object in ini files)", "see `s3media_wsgi.previews`")
define("upload_expires", as_int, None, "media", "seconds a signed direct upload stays valid", "600")
define("resize_base_url", _base_url, None, "media", "where resize URLs point instead of the storage",
       "the prefix for a private bucket")
define("storage_budget", as_seconds, None, "media",
       f"storage guard: seconds of storage time one media request may use {_LIMITS}", "10 s")
define("max_storage_requests", as_int, None, "media",
       f"storage guard: media requests waiting for storage at once per process {_LIMITS}", "4")
define("breaker_threshold", as_int, None, "media",
       f"storage guard: failures in a row that open the circuit breaker {_LIMITS}", "5")
define("breaker_cooldown", as_seconds, None, "media",
       f"storage guard: seconds the open breaker fails calls at once {_LIMITS}", "10 s")
define("on_confirm", as_dotted, None, "media",
       "dotted path of `hook(upload)` run on each checked direct upload before it is published; "
       "refuses by raising `UploadRefusedByApp`", "none")
define("enqueue", as_dotted, None, "media",
       "dotted path of `enqueue(job)` that runs the work of eager presets (a task queue)", "threads of this process")
define("prefix", _url_prefix, DEFAULT_PREFIX, "middleware",
       "URL prefix the middleware answers (ASCII letters, digits, `-_.` and `/`; not `/` alone)", "`/media/`")
define("serve_local", as_bool, None, "middleware", "serve stored files from disk", "on for local storage")
define("retry_after", as_count, None, "middleware", "seconds in `Retry-After` of a 503", "5")
define("local_cache_control", as_str, None, "middleware", "`Cache-Control` of files served from disk",
       "`public, max-age=3600`", keyword="cache_control")
define("uploads", as_dotted, None, "middleware",
       "dotted path of `authorize(request) -> bool`; turns the "
       "[upload routes](#direct-uploads-browsers-send-files-straight-to-storage) on", "off")
define("cors_origins", _origins, (), "middleware",
       "origins allowed to call the upload routes from another origin", "none")
define("delivery", _delivery, None, "middleware",
       "`website`, `serve` or `private`: how resize requests that reach the app are answered "
       "([delivery modes](#three-delivery-modes))", "`website`; `private` for a private bucket")
define("enabled", as_bool, True, "middleware", "answer media requests (helpers keep working when off)", "on")
define("delete_replaced", as_bool, True, "adapters",
       "Django: delete a row's replaced or deleted media once the transaction commits", "on")
define("media_factory", as_dotted, None, "factory",
       "dotted path of a function returning a ready `Media` (then no storage or Media key is set)")
# fmt: on


def _keys(group: str) -> tuple[str, ...]:
    return tuple(name for name, setting in SETTINGS.items() if group in setting.groups)


#: Keys of the storage, by kind.  ``base_url`` belongs to both.
LOCAL_KEYS = _keys("local")
S3_KEYS = _keys("s3")
#: Keys of :class:`~s3media_wsgi.Media`: each is the keyword of the same name.
MEDIA_KEYS = _keys("media")
#: Keys of the middleware (and of each framework adapter).  ``local_cache_control``
#: is the middleware's ``cache_control`` (files served from disk), named apart
#: from the S3 objects' ``cache_control``.
MIDDLEWARE_KEYS = _keys("middleware")
#: Keys only framework adapters read (the Django adapter's cleanup of replaced media).
ADAPTER_KEYS = _keys("adapters")
#: Every key the parser knows, lower case, in the order the docs list them.
KNOWN_KEYS = tuple(SETTINGS)
_CONVERTERS: dict[str, Callable[[object, str], Any]] = {name: s.convert for name, s in SETTINGS.items()}


def markdown_table() -> str:
    """The README's settings table, one row per setting, made from :data:`SETTINGS`.

    ``python -m s3media_wsgi.settings --markdown`` prints it; a test checks the README holds exactly it.

        >>> print(markdown_table().splitlines()[3])
        | `local_root` | folder of `LocalStorage` | `media` |
    """
    rows = ["| key | meaning | default |", "| --- | --- | --- |"]
    rows += [f"| `{s.name}` | {s.doc} | {s.shown} |" for s in SETTINGS.values()]
    return "\n".join(rows) + "\n"


# --- how each framework spells a key ----------------------------------------------

#: Prefix of the keys in environment variables (the ``s3media`` CLI) and in Flask's ``app.config``.
ENV_PREFIX = "S3MEDIA_"
#: Prefix of the keys in Pyramid's settings (``.ini`` files).
PYRAMID_PREFIX = "s3media."
#: Django's setting holding a dict of upper-case keys.
DJANGO_SETTING = "S3MEDIA"


def spelling(key: str, prefix: str = "", upper: bool | None = None, container: str | None = None) -> str:
    """*key* as a user writes it: under *prefix*, upper case (by default when *prefix* is), inside *container*.

    >>> spelling("max_side", ENV_PREFIX), spelling("max_side", PYRAMID_PREFIX)
    ('S3MEDIA_MAX_SIDE', 's3media.max_side')
    >>> spelling("max_side", upper=True, container=DJANGO_SETTING)
    'S3MEDIA["MAX_SIDE"]'
    """
    if upper is None:
        upper = prefix.isupper()
    written = prefix + (key.upper() if upper else key)
    return f'{container}["{written}"]' if container else written


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
        >>> parse_settings({"SECRET_KEY": SECRET, "PREFIX": "/m/"}, upper=True, container="S3MEDIA").prefix
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
        return spelling(key, prefix, upper, container)

    known = {spelling(k, prefix, upper): k for k in KNOWN_KEYS}
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

    values = {key: _CONVERTERS[key](value, spell(key)) for key, value in raw.items()}
    if "presets" in values:
        values["presets"] = _presets_within(
            values["presets"], values.get("max_side", DEFAULT_MAX_SIDE), spell("presets")
        )

    if "media_factory" in values:
        # A ready Media: storage and Media keys would be silently ignored.
        ignored = [k for k in values if k in MEDIA_KEYS or k in LOCAL_KEYS or k in S3_KEYS or k == "storage"]
        if ignored:
            names = ", ".join(spell(k) for k in ignored)
            raise ConfigError(
                f"{names} has no effect when {spell('media_factory')} is set (the factory builds the Media); "
                "remove it, or pass it to Media in the factory"
            )
        return MediaSettings(**values)

    if "secret_key" not in raw:
        raise ConfigError(
            f"{spell('secret_key')} is required: set it to a secret of 32+ characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` (never commit it)"
        )
    kind = values.get("storage", "local")
    if kind == "s3" and "bucket" not in values:
        raise ConfigError(f"{spell('bucket')} is required when {spell('storage')} is 's3'")
    own = {"local": LOCAL_KEYS, "s3": S3_KEYS}.get(kind, ())
    stray = [k for k in dict.fromkeys(LOCAL_KEYS + S3_KEYS) if k in values and k not in own]
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


if __name__ == "__main__":  # pragma: no cover - python -m s3media_wsgi.settings --markdown
    import sys

    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m s3media_wsgi.settings --markdown  (prints the README's settings table)")
    sys.stdout.write(markdown_table())


__all__ = [
    "ADAPTER_KEYS",
    "DJANGO_SETTING",
    "ENV_PREFIX",
    "GROUPS",
    "KNOWN_KEYS",
    "LOCAL_KEYS",
    "MAX_SETTING_JSON_BYTES",
    "MEDIA_KEYS",
    "MIDDLEWARE_KEYS",
    "PYRAMID_PREFIX",
    "S3_KEYS",
    "SETTINGS",
    "STORAGES",
    "MediaSettings",
    "Setting",
    "as_bool",
    "as_count",
    "as_dotted",
    "as_int",
    "as_list",
    "as_path",
    "as_presets",
    "as_seconds",
    "as_str",
    "define",
    "markdown_table",
    "parse_settings",
    "spelling",
]
