"""The storage contract's test suite: run it against your backend.

Every built-in backend passes it (``tests/test_storage_contract.py``).  To run
it against your own, subclass :class:`StorageContract` in a test module,
give the class (or its module, or a ``conftest.py``) a ``storage`` fixture
that yields a fresh, empty backend, and implement :meth:`~StorageContract.stored_files`::

    import pytest
    from s3media_wsgi.storage.contract_suite import StorageContract

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            return MyStorage(tmp_path)

        def stored_files(self, storage):
            return sorted(...)  # every object the backend holds, temp files included

The optional parts of the contract (:mod:`s3media_wsgi.storage.base`) are
tested when the backend has them and skipped when it does not.  This module
needs pytest (a test dependency, not one of the library's).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from ..errors import InvalidPath, NotFound
from .base import (
    ObjectStorage,
    Storage,
    can_delete_keys,
    can_list_keys,
    can_list_objects,
    delete_keys,
    list_keys,
    list_objects,
    put_remakeable,
    url_life,
)

BAD_KEYS: list[Any] = [
    "",
    ".",
    "..",
    "../a",
    "a/../b",
    "a/..",
    "a/./b",
    "/a",
    "/a/b",
    ".hidden",
    "a/.hidden",
    "a/.tmp-123",
    "a\\b",
    "..\\a",
    "a\x00b",
    "a\nb",
    "a//b",
    "a/",
    "a/b/",
    "a" * 1025,
    None,
    b"a/b",
    42,
]


def _payload(size: int, seed: int = 0) -> bytes:
    """*size* bytes that differ with *seed* (the contract stores bytes, whatever they are)."""
    return bytes((seed + i) % 251 for i in range(size))


class StorageContract:
    """The tests every backend passes; see the module's docstring for how to run them against yours."""

    def stored_files(self, storage: Storage) -> list[str]:
        """Everything the backend holds, temp files included (checked outside the protocol)."""
        raise NotImplementedError("a StorageContract subclass says what its backend holds: implement stored_files")

    def test_implements_protocol(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)

    def test_put_get_roundtrip(self, storage: Storage) -> None:
        data = _payload(64 * 48)
        assert storage.put("abc/def/photo.jpg", data, "image/jpeg") is True
        assert storage.get("abc/def/photo.jpg") == data
        assert self.stored_files(storage) == ["abc/def/photo.jpg"]

    def test_empty_object_roundtrips(self, storage: Storage) -> None:
        assert storage.put("e/empty.txt", b"", "text/plain") is True
        assert storage.exists("e/empty.txt")
        assert storage.get("e/empty.txt") == b""

    def test_second_put_returns_false_and_keeps_first_content(self, storage: Storage) -> None:
        first, second = _payload(8 * 8, 1), _payload(8 * 8, 2)
        assert storage.put("k/img", first, "image/png") is True
        assert storage.put("k/img", second, "image/jpeg") is False
        assert storage.get("k/img") == first
        assert self.stored_files(storage) == ["k/img"]

    def test_exists(self, storage: Storage) -> None:
        assert storage.exists("x/y.bin") is False
        storage.put("x/y.bin", b"1", "application/octet-stream")
        assert storage.exists("x/y.bin") is True
        # A "folder" is not an object.
        assert storage.exists("x") is False

    def test_get_missing_is_not_found(self, storage: Storage) -> None:
        with pytest.raises(NotFound):
            storage.get("no/such/key.jpg")
        storage.put("no/such/other.jpg", b"1", "image/jpeg")
        with pytest.raises(NotFound):
            storage.get("no/such")

    def test_delete_prefix_removes_exactly_that_prefix(self, storage: Storage) -> None:
        doomed = ["a/b/1.jpg", "a/b/2.jpg", "a/b/deep/er/3.jpg"]
        kept = ["a/bc/1.jpg", "a/b.jpg", "a/c/b/1.jpg", "b/1.jpg", "ab/1.jpg"]
        for key in doomed + kept:
            assert storage.put(key, key.encode(), "image/jpeg")
        assert storage.delete_prefix("a/b/") == len(doomed)
        for key in doomed:
            assert not storage.exists(key)
        for key in kept:
            assert storage.get(key) == key.encode()
        assert self.stored_files(storage) == sorted(kept)
        assert storage.delete_prefix("a/b/") == 0

    def test_delete_prefix_missing_returns_zero(self, storage: Storage) -> None:
        storage.put("keep/me.jpg", b"x", "image/jpeg")
        assert storage.delete_prefix("nothing/here/") == 0
        assert storage.delete_prefix("keep/me.jpg/") == 0
        assert storage.exists("keep/me.jpg")

    def test_delete_prefix_then_put_again(self, storage: Storage) -> None:
        storage.put("p/q/r.jpg", b"old", "image/jpeg")
        assert storage.delete_prefix("p/") == 1
        assert storage.put("p/q/r.jpg", b"new", "image/jpeg") is True
        assert storage.get("p/q/r.jpg") == b"new"

    @pytest.mark.parametrize("prefix", ["a/b", "", "/", "../", "a/../", "a//", ".x/", None])
    def test_delete_prefix_rejects_bad_prefix(self, storage: Storage, prefix: Any) -> None:
        storage.put("a/b/c.jpg", b"x", "image/jpeg")
        with pytest.raises(InvalidPath):
            storage.delete_prefix(prefix)
        assert self.stored_files(storage) == ["a/b/c.jpg"]

    def test_url_shape(self, storage: Storage) -> None:
        assert storage.base_url.endswith("/")
        key = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.gif/cat.gif"
        assert storage.url(key) == storage.base_url + key

    @pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
    def test_invalid_keys_rejected_and_nothing_written(self, storage: Storage, key: Any) -> None:
        with pytest.raises(InvalidPath):
            storage.put(key, b"evil", "text/plain")
        with pytest.raises(InvalidPath):
            storage.get(key)
        with pytest.raises(InvalidPath):
            storage.exists(key)
        with pytest.raises(InvalidPath):
            storage.url(key)
        assert storage.local_path(key) is None
        assert self.stored_files(storage) == []

    def test_invalid_path_is_a_not_found(self) -> None:
        # Callers answer 404 for both, so a probe cannot tell them apart.
        assert issubclass(InvalidPath, NotFound)

    def test_concurrent_put_same_key_one_winner(self, storage: Storage) -> None:
        writers = 8
        payloads = [bytes([i]) * (256 * 1024 + i) for i in range(writers)]
        results: list[bool | None] = [None] * writers
        errors: list[BaseException] = []
        barrier = threading.Barrier(writers)

        def write(i: int) -> None:
            try:
                barrier.wait()
                results[i] = storage.put("race/same.bin", payloads[i], "application/octet-stream")
            except BaseException as exc:  # surfaced below, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert results.count(True) == 1
        assert results.count(False) == writers - 1
        winner = results.index(True)
        assert storage.get("race/same.bin") == payloads[winner]
        assert self.stored_files(storage) == ["race/same.bin"]

    def test_five_mib_roundtrip(self, storage: Storage) -> None:
        data = os.urandom(5 * 1024 * 1024)
        assert storage.put("big/blob.bin", data, "application/octet-stream") is True
        assert storage.get("big/blob.bin") == data

    # --- the optional parts: tested when the backend has them -----------------------------

    def test_list_keys_lists_exactly_the_prefix(self, storage: Storage) -> None:
        if not can_list_keys(storage):
            pytest.skip("no list_keys")
        keys = ["l/m/1.jpg", "l/m/2.jpg", "l/m/deep/3.jpg"]
        for key in [*keys, "l/mn/1.jpg", "l/m.jpg"]:
            assert storage.put(key, b"x", "image/jpeg")
        assert sorted(list_keys(storage, "l/m/")) == keys
        assert list_keys(storage, "none/here/") == []
        with pytest.raises(InvalidPath):
            list_keys(storage, "l/m")

    def test_list_objects_gives_sizes_and_times(self, storage: Storage) -> None:
        if not can_list_objects(storage):
            pytest.skip("no list_objects")
        before = time.time() - 120  # clocks of a remote storage may be a little off
        for key, data in {"o/p/1.jpg": b"x", "o/p/deep/2.jpg": b"xyz", "o/q/3.jpg": b"xy"}.items():
            assert storage.put(key, data, "image/jpeg")
        listed = {item.key: item for item in list_objects(storage, "o/p/")}
        assert {key: item.size for key, item in listed.items()} == {"o/p/1.jpg": 1, "o/p/deep/2.jpg": 3}
        assert all(before <= item.modified <= time.time() + 120 for item in listed.values())
        assert {item.key for item in list_objects(storage)} >= {"o/p/1.jpg", "o/p/deep/2.jpg", "o/q/3.jpg"}
        assert list_objects(storage, "none/here/") == []
        with pytest.raises(InvalidPath):
            list_objects(storage, "o/p")

    def test_delete_keys_deletes_exactly_those(self, storage: Storage) -> None:
        if not can_delete_keys(storage):
            pytest.skip("no delete_keys or delete")
        for key in ("d/1.jpg", "d/2.jpg", "d/3.jpg"):
            assert storage.put(key, b"x", "image/jpeg")
        assert delete_keys(storage, ["d/1.jpg", "d/3.jpg"]) == 2
        assert self.stored_files(storage) == ["d/2.jpg"]
        assert delete_keys(storage, []) == 0

    def test_copy_is_conditional(self, storage: Storage) -> None:
        if not isinstance(storage, ObjectStorage):
            pytest.skip("not an ObjectStorage")
        assert storage.put("c/src.bin", b"source", "application/octet-stream")
        assert storage.copy("c/src.bin", "c/dst.bin") is True
        assert storage.get("c/dst.bin") == b"source"
        assert storage.put("c/other.bin", b"other", "application/octet-stream")
        assert storage.copy("c/other.bin", "c/dst.bin") is False
        assert storage.get("c/dst.bin") == b"source"

    def test_a_remakeable_put_is_a_put(self, storage: Storage) -> None:
        assert put_remakeable(storage, "r/resize.jpg", b"made", "image/jpeg") is True
        assert put_remakeable(storage, "r/resize.jpg", b"again", "image/jpeg") is False
        assert storage.get("r/resize.jpg") == b"made"

    def test_url_life_is_seconds(self, storage: Storage) -> None:
        assert url_life(storage) >= 0


__all__ = ["BAD_KEYS", "StorageContract"]
