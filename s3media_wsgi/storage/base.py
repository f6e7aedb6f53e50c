"""The storage contract: what a backend must provide, what it may, and the defaults.

Keys are ``/``-separated strings made by :mod:`s3media_wsgi.ids`; backends still
check them, because a key is the last thing standing between a request and the
file system or the bucket.

*Required* (:class:`Storage`): ``base_url``, ``url``, ``get``, ``exists``,
``put`` (a conditional write: False when the key is taken), ``delete_prefix``
and ``local_path``.  :class:`ObjectStorage` adds ``head``, ``read``, ``copy``
and ``delete`` (confirming direct uploads needs them); :class:`UploadStorage`
adds the presigned form and multipart calls (S3's direct uploads).

*Optional*, each with a default when absent (:data:`OPTIONAL` lists them):

``private`` (bool, default False)
    ``url`` gives expiring (presigned) URLs, so resizes are answered by the
    app; such a ``url`` also takes a keyword ``download_name``.
``local_files`` (bool, default False)
    objects are files on this machine: the middleware serves them from disk.
``cache_control`` (str or None, default None)
    the ``Cache-Control`` stored with each object.
``url_life()`` (default 0)
    seconds a URL that ``url`` gives now stays valid (0: it does not expire).
``takes_durable`` (bool, default False)
    ``put`` takes a keyword ``durable``; the core passes ``durable=False``
    for what it can make again (a resize), and a backend may then skip what
    makes a write survive a crash (never atomicity).
``list_keys(prefix)`` and ``delete_keys(keys)``
    every key under a prefix, and deleting a list of keys (the count
    deleted; without ``delete_keys``, ``delete`` one by one).  Needed by
    :meth:`Media.purge_resizes <s3media_wsgi.Media.purge_resizes>`.
``list_objects(prefix)``
    every object under a prefix (``""``: the whole storage) with its size
    and when it was stored (:class:`ListedObject`), for tools that sweep a
    storage (the Django adapter's ``gc``).

The core reads the optional parts only through the functions below, so this
module is the one place a default is written.  The contract test suite
(:mod:`s3media_wsgi.storage.contract_suite`) runs against both built-in
backends; subclass it to run it against yours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError

#: Keys never change content, so anything stored may be cached forever.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: The same for a private bucket's objects: kept by the browser, never by a shared cache (proxy, CDN).
PRIVATE_IMMUTABLE_CACHE_CONTROL = "private, max-age=31536000, immutable"


def keeps_private(cache_control: str) -> bool:
    """True when the ``Cache-Control`` value *cache_control* keeps a response out of shared caches.

    That is, it says ``private`` or ``no-store``, and not ``public``.

        >>> keeps_private(PRIVATE_IMMUTABLE_CACHE_CONTROL), keeps_private("max-age=60"), keeps_private("No-Store")
        (True, False, True)
    """
    directives = {part.split("=", 1)[0].strip().lower() for part in cache_control.split(",")}
    return "public" not in directives and bool({"private", "no-store"} & directives)


@runtime_checkable
class Storage(Protocol):
    """Where originals and resizes live."""

    #: URL prefix; ``base_url + key`` is the public URL of *key*.
    base_url: str

    def url(self, key: str) -> str:
        """Public URL of *key* (no I/O)."""
        ...

    def get(self, key: str) -> bytes:
        """Bytes stored at *key*; :class:`~s3media_wsgi.errors.NotFound` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """True when an object is stored at *key*."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        """Store *data* at *key* unless something is already there.

        Returns True when written, False when *key* already existed (and was left
        untouched).  The write is atomic: readers see the whole object or none.
        """
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with *prefix* (which ends in ``/``).

        Returns how many were deleted.
        """
        ...

    def local_path(self, key: str) -> Path | None:
        """A file on this machine holding *key*, for serving in development.

        Backends that are not on local disk return None.  A backend whose
        objects are files here also declares ``local_files = True`` (see the
        module's optional parts): the middleware then serves them from disk.
        """
        ...


@dataclass(frozen=True)
class ObjectInfo:
    """What :meth:`UploadStorage.head` learns of an object without reading it."""

    size: int
    #: The stored ``Content-Type``, when the backend keeps one.
    content_type: str | None = None


@dataclass(frozen=True)
class ListedObject:
    """One object a listing found: its key, its size, and when it was stored (seconds since the epoch)."""

    key: str
    size: int
    modified: float


@dataclass(frozen=True)
class PostTarget:
    """Where a browser POSTs a file, and the form fields it must send with it (before the file)."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class ObjectStorage(Storage, Protocol):
    """A storage whose objects can be looked at, read in part, copied and deleted one by one.

    Confirming a direct upload needs these; both built-in backends have them.
    """

    def head(self, key: str) -> ObjectInfo:
        """Size and type of *key*; :class:`~s3media_wsgi.errors.NotFound` if absent."""
        ...

    def read(self, key: str, length: int) -> bytes:
        """The first *length* bytes of *key* (all of it when shorter)."""
        ...

    def copy(self, source: str, key: str) -> bool:
        """Copy *source* to *key* unless *key* exists; True when copied."""
        ...

    def delete(self, key: str) -> None:
        """Delete *key* (nothing happens when it is absent)."""
        ...


@runtime_checkable
class UploadStorage(ObjectStorage, Protocol):
    """A storage browsers upload to directly: S3 (presigned POST and multipart uploads).

    Keys passed here are pending keys made by :mod:`s3media_wsgi.uploads`;
    conditions are bound into what is signed, so the browser cannot change them.
    """

    def presign_post(
        self, key: str, *, content_type: str, min_bytes: int, max_bytes: int, expires_in: int
    ) -> PostTarget:
        """A form upload of exactly *key*, of *content_type*, between *min_bytes* and *max_bytes*."""
        ...

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        """Start a multipart upload of *key*; its upload id."""
        ...

    def presign_upload_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int, *, size: int | None = None
    ) -> str:
        """A URL the browser PUTs one part to; with *size*, only a part of exactly that many bytes is accepted.

        *size* is passed only when the client gave it, so a storage written
        before it existed keeps working for clients that do not.
        """
        ...

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, object]]:
        """The parts uploaded so far: ``[{"PartNumber", "ETag", "Size"}]``."""
        ...

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[dict[str, object]]) -> str:
        """Assemble the parts into *key*; its location (URL)."""
        ...

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts."""
        ...


#: The optional parts of the contract and their defaults (a method's default: absent).
OPTIONAL: dict[str, Any] = {
    "private": False,
    "local_files": False,
    "cache_control": None,
    "url_life": None,
    "takes_durable": False,
    "list_keys": None,
    "delete_keys": None,
    "list_objects": None,
}


def _optional(storage: object, name: str) -> Any:
    """The one reading of an optional part of the contract: *storage*'s own, else the default."""
    return getattr(storage, name, OPTIONAL[name])


def is_private(storage: object) -> bool:
    """True when *storage*'s URLs are presigned (``private``): resizes are answered by the app."""
    return bool(_optional(storage, "private"))


def has_local_files(storage: object) -> bool:
    """True when *storage*'s objects are files on this machine (``local_files``)."""
    return bool(_optional(storage, "local_files"))


def stored_cache_control(storage: object) -> str | None:
    """The ``Cache-Control`` *storage* stores with each object (``cache_control``), or None."""
    value = _optional(storage, "cache_control")
    return value if isinstance(value, str) and value else None


def url_life(storage: object) -> int:
    """Seconds a URL *storage* gives now stays valid (``url_life()``); 0 when its URLs do not expire."""
    life: Callable[[], int] | None = _optional(storage, "url_life")
    return int(life()) if life is not None else 0


def put_remakeable(storage: Storage, key: str, data: bytes, content_type: str) -> bool:
    """:meth:`Storage.put` of something that can be made again (a resize): ``durable=False`` when it takes it."""
    if _optional(storage, "takes_durable"):
        put: Callable[..., bool] = storage.put
        return put(key, data, content_type, durable=False)
    return storage.put(key, data, content_type)


def can_list_keys(storage: object) -> bool:
    """True when *storage* lists keys under a prefix (``list_keys``)."""
    return _optional(storage, "list_keys") is not None


def can_delete_keys(storage: object) -> bool:
    """True when *storage* deletes single keys (``delete_keys``, or ``delete`` one by one)."""
    return _optional(storage, "delete_keys") is not None or isinstance(storage, ObjectStorage)


def list_keys(storage: Storage, prefix: str) -> list[str]:
    """Every key under *prefix* (ending in ``/``); :class:`ConfigError` when *storage* cannot list."""
    listing: Callable[[str], list[str]] | None = _optional(storage, "list_keys")
    if listing is None:
        raise ConfigError(f"{type(storage).__name__} cannot list keys (it has no list_keys)")
    return listing(prefix)


def can_list_objects(storage: object) -> bool:
    """True when *storage* lists objects with their size and time (``list_objects``)."""
    return _optional(storage, "list_objects") is not None


def list_objects(storage: Storage, prefix: str = "") -> list[ListedObject]:
    """Every object under *prefix* (``""`` or ending in ``/``) with its size and time; :class:`ConfigError` when
    *storage* cannot list them."""
    listing: Callable[[str], list[ListedObject]] | None = _optional(storage, "list_objects")
    if listing is None:
        raise ConfigError(f"{type(storage).__name__} cannot list objects (it has no list_objects)")
    return listing(prefix)


def delete_keys(storage: Storage, keys: list[str]) -> int:
    """Delete *keys* (absent ones are fine); how many.  With no ``delete_keys``, ``delete`` one by one."""
    batch: Callable[[list[str]], int] | None = _optional(storage, "delete_keys")
    if batch is not None:
        return batch(keys)
    if not isinstance(storage, ObjectStorage):
        raise ConfigError(f"{type(storage).__name__} cannot delete single keys (it has no delete_keys or delete)")
    for key in keys:
        storage.delete(key)
    return len(keys)


__all__ = [
    "IMMUTABLE_CACHE_CONTROL",
    "OPTIONAL",
    "ListedObject",
    "PRIVATE_IMMUTABLE_CACHE_CONTROL",
    "ObjectInfo",
    "ObjectStorage",
    "PostTarget",
    "Storage",
    "UploadStorage",
    "can_delete_keys",
    "can_list_keys",
    "can_list_objects",
    "delete_keys",
    "has_local_files",
    "is_private",
    "keeps_private",
    "list_keys",
    "list_objects",
    "put_remakeable",
    "stored_cache_control",
    "url_life",
]
