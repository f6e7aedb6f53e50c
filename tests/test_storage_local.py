"""LocalStorage specifics: containment, atomic writes, clean folders."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3media_wsgi.errors import ConfigError, InvalidPath, MediaError, NotFound, StorageError
from s3media_wsgi.storage import LocalStorage


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def all_dirs(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_dir())


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the storage root holding a secret."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"secret")
    return folder


# --- construction ------------------------------------------------------------


def test_root_created_and_resolved(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "x" / ".." / "new" / "deeper")
    assert storage.root == (tmp_path / "new" / "deeper").resolve()
    assert storage.root.is_dir()
    assert storage.base_url == "/media/"


def test_root_accepts_str(tmp_path: Path) -> None:
    storage = LocalStorage(str(tmp_path / "m"), base_url="https://cdn.example/m/")
    storage.put("a.txt", b"1", "text/plain")
    assert (tmp_path / "m" / "a.txt").read_bytes() == b"1"
    assert storage.url("a.txt") == "https://cdn.example/m/a.txt"


@pytest.mark.parametrize("base_url", ["/media", "", "https://cdn.example", None])
def test_base_url_must_end_with_slash(tmp_path: Path, base_url: Any) -> None:
    with pytest.raises(ConfigError, match="end"):
        LocalStorage(tmp_path, base_url=base_url)


def test_root_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ConfigError, match="folder"):
        LocalStorage(tmp_path / "file")


# --- symlinks and traversal ----------------------------------------------------


def test_symlinked_folder_escaping_root_is_refused(local_storage: LocalStorage, outside: Path) -> None:
    (local_storage.root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidPath):
        local_storage.get("evil/secret.txt")
    with pytest.raises(InvalidPath):
        local_storage.exists("evil/secret.txt")
    with pytest.raises(InvalidPath):
        local_storage.put("evil/new.txt", b"planted", "text/plain")
    with pytest.raises(InvalidPath):
        local_storage.put("evil/sub/new.txt", b"planted", "text/plain")
    with pytest.raises(InvalidPath):
        local_storage.delete_prefix("evil/")
    assert local_storage.local_path("evil/secret.txt") is None
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_symlinked_file_escaping_root_is_refused(local_storage: LocalStorage, outside: Path) -> None:
    (local_storage.root / "a").mkdir()
    (local_storage.root / "a" / "link.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(InvalidPath):
        local_storage.get("a/link.txt")
    with pytest.raises(InvalidPath):
        local_storage.put("a/link.txt", b"x", "text/plain")
    assert local_storage.local_path("a/link.txt") is None
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_dangling_symlink_escaping_root_is_refused(local_storage: LocalStorage, outside: Path) -> None:
    (local_storage.root / "dangling.txt").symlink_to(outside / "not-yet.txt")
    with pytest.raises(InvalidPath):
        local_storage.put("dangling.txt", b"planted", "text/plain")
    assert not (outside / "not-yet.txt").exists()


def test_symlink_loop_is_invalid_not_a_crash(local_storage: LocalStorage) -> None:
    (local_storage.root / "loop").symlink_to(local_storage.root / "loop")
    with pytest.raises(InvalidPath):
        local_storage.get("loop/x")
    assert local_storage.local_path("loop/x") is None


def test_symlink_staying_inside_root_is_followed(local_storage: LocalStorage) -> None:
    local_storage.put("real/a.txt", b"inside", "text/plain")
    (local_storage.root / "alias").symlink_to(local_storage.root / "real", target_is_directory=True)
    assert local_storage.get("alias/a.txt") == b"inside"
    assert local_storage.local_path("alias/a.txt") == local_storage.root / "real" / "a.txt"


@pytest.mark.parametrize(
    "key",
    ["../outside/secret.txt", "a/../../outside/secret.txt", "/etc/passwd", "..", "", ".", "a\\..\\b", None, 7],
)
def test_local_path_never_raises_for_bad_input(local_storage: LocalStorage, outside: Path, key: Any) -> None:
    assert local_storage.local_path(key) is None


def test_local_path_for_dirs_and_missing(local_storage: LocalStorage) -> None:
    local_storage.put("d/e/f.txt", b"1", "text/plain")
    assert local_storage.local_path("d") is None
    assert local_storage.local_path("d/e") is None
    assert local_storage.local_path("d/e/missing.txt") is None
    assert local_storage.local_path("d/e/f.txt/under-a-file") is None
    found = local_storage.local_path("d/e/f.txt")
    assert found == local_storage.root / "d" / "e" / "f.txt"
    assert found is not None and found.read_bytes() == b"1"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(alphabet=st.sampled_from("ab./\\\x00-é"), max_size=24))
def test_local_path_is_inside_root_or_none(local_storage: LocalStorage, key: str) -> None:
    found = local_storage.local_path(key)
    assert found is None or found.is_relative_to(local_storage.root)
    try:
        local_storage.get(key)
    except MediaError as exc:
        assert isinstance(exc, (InvalidPath, NotFound))


# --- writes ---------------------------------------------------------------------


def test_put_creates_folders_and_writes_whole_file(local_storage: LocalStorage) -> None:
    assert local_storage.put("one/two/three/f.bin", b"abc", "application/octet-stream")
    assert (local_storage.root / "one" / "two" / "three" / "f.bin").read_bytes() == b"abc"
    assert all_files(local_storage.root) == [os.path.join("one", "two", "three", "f.bin")]


def test_temp_file_is_hidden_and_in_target_folder(local_storage: LocalStorage, monkeypatch) -> None:
    seen: list[str] = []
    real_link = os.link

    def spy(src: str, dst: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(src)
        real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", spy)
    assert local_storage.put("t/f.txt", b"1", "text/plain")
    assert len(seen) == 1
    assert Path(seen[0]).parent == local_storage.root / "t"
    assert Path(seen[0]).name.startswith(".")
    assert not Path(seen[0]).exists()


def test_failed_link_leaves_no_temp_file(local_storage: LocalStorage, monkeypatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EIO, "simulated disk error")

    monkeypatch.setattr(os, "link", broken)
    with pytest.raises(StorageError, match="simulated disk error"):
        local_storage.put("f/g.txt", b"data", "text/plain")
    assert all_files(local_storage.root) == []


def test_failed_write_leaves_no_temp_file(local_storage: LocalStorage) -> None:
    with pytest.raises(TypeError):
        local_storage.put("f/g.txt", object(), "text/plain")  # type: ignore[arg-type]
    assert all_files(local_storage.root) == []
    assert not local_storage.exists("f/g.txt")


def test_failed_fsync_leaves_no_temp_file(local_storage: LocalStorage, monkeypatch) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.ENOSPC, "simulated full disk")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(StorageError, match="full disk"):
        local_storage.put("f/g.txt", b"data", "text/plain")
    assert all_files(local_storage.root) == []


def test_folder_fsync_skipped_only_when_not_durable(local_storage: LocalStorage, monkeypatch) -> None:
    # Resizes (durable=False) can be made again: their folder is not fsynced.
    # Their data still are, before the name is published; originals get both.
    from s3media_wsgi.storage import local

    folders: list[Path] = []
    files: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(local, "_fsync_dir", folders.append)
    monkeypatch.setattr(os, "fsync", lambda fd: (files.append(fd), real_fsync(fd))[1])
    assert local_storage.put("d/original.jpg", b"1", "image/jpeg") is True
    assert (len(files), len(folders)) == (1, 1)
    assert local_storage.put("d/resize.jpg", b"2", "image/jpeg", durable=False) is True
    assert (len(files), len(folders)) == (2, 1)
    assert local_storage.get("d/resize.jpg") == b"2"


def test_without_hard_links_falls_back_and_still_refuses_overwrite(local_storage: LocalStorage, monkeypatch) -> None:
    def unsupported(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", unsupported)
    assert local_storage.put("n/h.txt", b"first", "text/plain") is True
    assert local_storage.put("n/h.txt", b"second", "text/plain") is False
    assert local_storage.get("n/h.txt") == b"first"
    assert all_files(local_storage.root) == [os.path.join("n", "h.txt")]


def test_parent_is_a_file(local_storage: LocalStorage) -> None:
    local_storage.put("p/file.jpg", b"1", "image/jpeg")
    with pytest.raises(InvalidPath, match="parent"):
        local_storage.put("p/file.jpg/child.jpg", b"2", "image/jpeg")
    with pytest.raises(InvalidPath, match="parent"):
        local_storage.put("p/file.jpg/x/child.jpg", b"2", "image/jpeg")
    with pytest.raises(NotFound):
        local_storage.get("p/file.jpg/child.jpg")
    assert local_storage.exists("p/file.jpg/child.jpg") is False
    assert all_files(local_storage.root) == [os.path.join("p", "file.jpg")]


def test_key_that_is_a_folder(local_storage: LocalStorage) -> None:
    local_storage.put("q/r/s.jpg", b"1", "image/jpeg")
    with pytest.raises(InvalidPath, match="folder"):
        local_storage.put("q/r", b"2", "image/jpeg")
    with pytest.raises(NotFound):
        local_storage.get("q/r")
    assert all_files(local_storage.root) == [os.path.join("q", "r", "s.jpg")]


def test_segment_too_long_for_the_file_system_is_invalid(local_storage: LocalStorage) -> None:
    with pytest.raises(InvalidPath):
        local_storage.put("a/" + "x" * 256, b"1", "text/plain")
    assert all_files(local_storage.root) == []


def test_temp_files_are_never_served(local_storage: LocalStorage) -> None:
    (local_storage.root / "a").mkdir()
    (local_storage.root / "a" / ".tmp-abc").write_bytes(b"half")
    assert local_storage.local_path("a/.tmp-abc") is None
    with pytest.raises(InvalidPath):
        local_storage.get("a/.tmp-abc")


# --- deletes --------------------------------------------------------------------


def test_delete_removes_empty_folders_up_to_root(local_storage: LocalStorage) -> None:
    local_storage.put("3c/ba/41/a5/40/cat.gif/cat.gif", b"1", "image/gif")
    local_storage.put("3c/ba/41/a5/40/cat.gif/100x100.gif", b"2", "image/gif")
    local_storage.put("3c/ff/other.gif", b"3", "image/gif")
    assert local_storage.delete_prefix("3c/ba/41/a5/40/cat.gif/") == 2
    assert all_dirs(local_storage.root) == ["3c", os.path.join("3c", "ff")]
    assert local_storage.delete_prefix("3c/ff/") == 1
    assert all_dirs(local_storage.root) == []
    assert local_storage.root.is_dir()


def test_delete_counts_only_objects_and_removes_leftovers(local_storage: LocalStorage) -> None:
    local_storage.put("z/a.txt", b"1", "text/plain")
    (local_storage.root / "z" / ".tmp-stale").write_bytes(b"half")
    (local_storage.root / "z" / "empty").mkdir()
    assert local_storage.delete_prefix("z/") == 1
    assert all_files(local_storage.root) == []
    assert all_dirs(local_storage.root) == []


def test_delete_does_not_follow_symlinks_inside(local_storage: LocalStorage, outside: Path) -> None:
    local_storage.put("y/a.txt", b"1", "text/plain")
    (local_storage.root / "y" / "out").symlink_to(outside, target_is_directory=True)
    (local_storage.root / "y" / "out.txt").symlink_to(outside / "secret.txt")
    local_storage.delete_prefix("y/")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert not (local_storage.root / "y").exists()
