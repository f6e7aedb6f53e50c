"""The Storage contract, run against every backend (the ``storage`` fixture)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from images import jpeg, png

from s3media_wsgi.errors import InvalidPath, NotFound
from s3media_wsgi.storage import LocalStorage, S3Storage, Storage

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


def stored_files(storage: Storage) -> list[str]:
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


def test_implements_protocol(storage: Storage) -> None:
    assert isinstance(storage, Storage)


def test_put_get_roundtrip(storage: Storage) -> None:
    data = jpeg(64, 48)
    assert storage.put("abc/def/photo.jpg", data, "image/jpeg") is True
    assert storage.get("abc/def/photo.jpg") == data
    assert stored_files(storage) == ["abc/def/photo.jpg"]


def test_empty_object_roundtrips(storage: Storage) -> None:
    assert storage.put("e/empty.txt", b"", "text/plain") is True
    assert storage.exists("e/empty.txt")
    assert storage.get("e/empty.txt") == b""


def test_second_put_returns_false_and_keeps_first_content(storage: Storage) -> None:
    first, second = png(8, 8), jpeg(8, 8)
    assert storage.put("k/img", first, "image/png") is True
    assert storage.put("k/img", second, "image/jpeg") is False
    assert storage.get("k/img") == first
    assert stored_files(storage) == ["k/img"]


def test_exists(storage: Storage) -> None:
    assert storage.exists("x/y.bin") is False
    storage.put("x/y.bin", b"1", "application/octet-stream")
    assert storage.exists("x/y.bin") is True
    # A "folder" is not an object.
    assert storage.exists("x") is False


def test_get_missing_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.get("no/such/key.jpg")
    storage.put("no/such/other.jpg", b"1", "image/jpeg")
    with pytest.raises(NotFound):
        storage.get("no/such")


def test_delete_prefix_removes_exactly_that_prefix(storage: Storage) -> None:
    doomed = ["a/b/1.jpg", "a/b/2.jpg", "a/b/deep/er/3.jpg"]
    kept = ["a/bc/1.jpg", "a/b.jpg", "a/c/b/1.jpg", "b/1.jpg", "ab/1.jpg"]
    for key in doomed + kept:
        assert storage.put(key, key.encode(), "image/jpeg")
    assert storage.delete_prefix("a/b/") == len(doomed)
    for key in doomed:
        assert not storage.exists(key)
    for key in kept:
        assert storage.get(key) == key.encode()
    assert stored_files(storage) == sorted(kept)
    assert storage.delete_prefix("a/b/") == 0


def test_delete_prefix_missing_returns_zero(storage: Storage) -> None:
    storage.put("keep/me.jpg", b"x", "image/jpeg")
    assert storage.delete_prefix("nothing/here/") == 0
    assert storage.delete_prefix("keep/me.jpg/") == 0
    assert storage.exists("keep/me.jpg")


def test_delete_prefix_then_put_again(storage: Storage) -> None:
    storage.put("p/q/r.jpg", b"old", "image/jpeg")
    assert storage.delete_prefix("p/") == 1
    assert storage.put("p/q/r.jpg", b"new", "image/jpeg") is True
    assert storage.get("p/q/r.jpg") == b"new"


@pytest.mark.parametrize("prefix", ["a/b", "", "/", "../", "a/../", "a//", ".x/", None])
def test_delete_prefix_rejects_bad_prefix(storage: Storage, prefix: Any) -> None:
    storage.put("a/b/c.jpg", b"x", "image/jpeg")
    with pytest.raises(InvalidPath):
        storage.delete_prefix(prefix)
    assert stored_files(storage) == ["a/b/c.jpg"]


def test_url_shape(storage: Storage) -> None:
    assert storage.base_url.endswith("/")
    key = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.gif/cat.gif"
    assert storage.url(key) == storage.base_url + key


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_invalid_keys_rejected_and_nothing_written(storage: Storage, key: Any) -> None:
    with pytest.raises(InvalidPath):
        storage.put(key, b"evil", "text/plain")
    with pytest.raises(InvalidPath):
        storage.get(key)
    with pytest.raises(InvalidPath):
        storage.exists(key)
    with pytest.raises(InvalidPath):
        storage.url(key)
    assert storage.local_path(key) is None
    assert stored_files(storage) == []


def test_invalid_path_is_a_not_found() -> None:
    # Callers answer 404 for both, so a probe cannot tell them apart.
    assert issubclass(InvalidPath, NotFound)


def test_concurrent_put_same_key_one_winner(storage: Storage) -> None:
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
    assert stored_files(storage) == ["race/same.bin"]


def test_five_mib_roundtrip(storage: Storage) -> None:
    data = os.urandom(5 * 1024 * 1024)
    assert storage.put("big/blob.bin", data, "application/octet-stream") is True
    assert storage.get("big/blob.bin") == data
