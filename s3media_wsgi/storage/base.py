"""The storage protocol every backend implements.

Keys are ``/``-separated strings made by :mod:`s3media_wsgi.ids`; backends still
check them, because a key is the last thing standing between a request and the
file system or the bucket.  One contract test suite
(``tests/test_storage_contract.py``) runs against every backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

#: Keys never change content, so anything stored may be cached forever.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


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


__all__ = ["IMMUTABLE_CACHE_CONTROL", "Storage"]
