"""The storage contract (:mod:`s3media_wsgi.storage.contract_suite`), run against every built-in backend."""

from __future__ import annotations

import os

from s3media_wsgi.storage import LocalStorage, S3Storage, Storage
from s3media_wsgi.storage.contract_suite import StorageContract


class TestBuiltinBackends(StorageContract):
    """Both backends, through the ``storage`` fixture of conftest.py."""

    def stored_files(self, storage: Storage) -> list[str]:
        """Everything the backend holds, temp files included (checked outside the protocol)."""
        if isinstance(storage, LocalStorage):
            return sorted(
                os.path.relpath(os.path.join(here, name), storage.root).replace(os.sep, "/")
                for here, _, names in os.walk(storage.root)
                for name in names
            )
        assert isinstance(storage, S3Storage)
        response = storage.client.list_objects_v2(Bucket=storage.bucket)
        return sorted(item["Key"] for item in response.get("Contents", ()))
