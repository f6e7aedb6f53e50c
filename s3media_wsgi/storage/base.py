"""The storage protocol every backend implements.

Keys are ``/``-separated strings made by :mod:`s3media_wsgi.ids`; backends still
check them, because a key is the last thing standing between a request and the
file system or the bucket.  One contract test suite
(``tests/test_storage_contract.py``) runs against every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

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
        objects are files here also declares it with a class attribute
        ``local_files = True``: the middleware then serves them from disk by
        default (optional; absent means False).
        """
        ...


@dataclass(frozen=True)
class ObjectInfo:
    """What :meth:`UploadStorage.head` learns of an object without reading it."""

    size: int
    #: The stored ``Content-Type``, when the backend keeps one.
    content_type: str | None = None


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


__all__ = [
    "IMMUTABLE_CACHE_CONTROL",
    "PRIVATE_IMMUTABLE_CACHE_CONTROL",
    "ObjectInfo",
    "ObjectStorage",
    "PostTarget",
    "Storage",
    "UploadStorage",
    "keeps_private",
]
