"""Storage in a folder on local disk, for development and single-host setups.

    >>> storage = LocalStorage("files", base_url="/media/")
    >>> storage.put("a/b.txt", b"hi", "text/plain")
    True
    >>> storage.put("a/b.txt", b"other", "text/plain")   # never overwritten
    False
    >>> storage.url("a/b.txt")
    '/media/a/b.txt'

Writes are atomic and never overwrite: the bytes go to a hidden temporary file
in the target folder, then a hard link publishes them under the final name,
which the kernel refuses when that name exists.  The content type is not kept:
whoever serves the file derives it from the extension.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, InvalidPath, NotFound, StorageError
from ..formats import MIME_BY_EXT
from ..urls import check_base_url
from .base import ListedObject, ObjectInfo
from .keys import validate_key, validate_prefix

# errno values meaning "this file system cannot hard-link", as opposed to a real failure.
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
# A concurrent delete_prefix may remove a folder between mkdir and creating the
# temp file in it; that race is retried this many times before giving up.
_MKDIR_ATTEMPTS = 3


class LocalStorage:
    """Objects as files under *root*; ``base_url + key`` is where they are served.

    :param root: the folder; created (with parents) when missing.
    :param base_url: URL prefix, must end with ``/``.  With the middleware in
        development this is its prefix, e.g. ``"/media/"``.

    >>> LocalStorage("media", base_url="/media/").url("a/b.jpg")
    '/media/a/b.jpg'
    """

    root: Path
    base_url: str
    #: Objects are files under :attr:`root`: the middleware may serve them from disk.
    local_files = True
    #: :meth:`put` takes ``durable=False`` for what can be made again (see :mod:`~s3media_wsgi.storage.base`).
    takes_durable = True

    def __init__(self, root: str | os.PathLike[str], base_url: str = "/media/") -> None:
        check_base_url(base_url, "LocalStorage base_url")
        path = Path(root)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"LocalStorage root {str(path)!r} cannot be created as a folder: {exc}") from exc
        self.root = path.resolve()
        self.base_url = base_url

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r}, base_url={self.base_url!r})"

    # --- paths ---------------------------------------------------------------

    def _path(self, key: object) -> Path:
        """The resolved file path of *key*; InvalidPath unless it is inside root."""
        key = validate_key(key)
        try:
            # resolve() follows symlinks already on disk, so a link inside root
            # pointing elsewhere is caught by the containment check below.
            path = self.root.joinpath(*key.split("/")).resolve()
        except (OSError, RuntimeError) as exc:  # symlink loops: RuntimeError before 3.13
            raise InvalidPath(f"storage key {key!r} cannot be resolved: {exc}") from exc
        if path == self.root or not path.is_relative_to(self.root):
            raise InvalidPath(f"storage key {key!r} leads outside the storage root")
        return path

    def local_path(self, key: object) -> Path | None:
        """The file holding *key*, or None if it is missing, a folder or not a safe key.

        Never raises for bad input and never returns a path outside root: the
        development server calls this with raw request paths.

        >>> LocalStorage("media").local_path("../etc/passwd") is None
        True
        """
        try:
            path = self._path(key)
            return path if path.is_file() else None
        except (InvalidPath, OSError, ValueError):
            return None

    def url(self, key: str) -> str:
        """``base_url + key``, after checking *key*.

        >>> LocalStorage("media", base_url="/m/").url("a/b.png")
        '/m/a/b.png'
        """
        return self.base_url + validate_key(key)

    # --- reads ---------------------------------------------------------------

    def get(self, key: str) -> bytes:
        """The bytes of *key*; :class:`NotFound` when there is no such file.

        >>> storage.put("get/b.txt", b"hi", "text/plain")
        True
        >>> storage.get("get/b.txt")
        b'hi'
        """
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no object at {key!r} in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"reading {key!r} from {self.root} failed: {exc}") from exc

    def exists(self, key: str) -> bool:
        """True when *key* is a stored file (folders do not count).

        >>> before = storage.exists("exists/b.txt")
        >>> before, storage.put("exists/b.txt", b"hi", "text/plain"), storage.exists("exists/b.txt")
        (False, True, True)
        """
        return self._path(key).is_file()

    # --- writes --------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str, *, durable: bool = True) -> bool:
        """Store *data* at *key* unless a file is there; True when written.

        Readers see the whole file or nothing, and a temporary file is never
        left behind, whatever fails.  The data are fsynced before the name is
        published, so a crash never leaves a partial file under it; then the
        folder is fsynced, so that the name survives a power cut.  With
        ``durable=False`` (what :class:`~s3media_wsgi.Media` asks for resizes,
        which it can make again) that second fsync is skipped: after a power
        cut the name may be gone, and the resize is made again on its next
        request.  Originals are always written durably.

        >>> storage.put("put/b.txt", b"hi", "text/plain")
        True
        """
        path = self._path(key)
        if path.is_dir():
            raise InvalidPath(f"cannot store {key!r}: it is a folder in {self.root}")
        fd, tmp = self._temp_file(key, path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            written = self._publish(tmp, path)
            if written and durable:
                _fsync_dir(path.parent)
            return written
        except OSError as exc:
            raise StorageError(f"writing {key!r} to {self.root} failed: {exc}") from exc
        finally:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass

    def _temp_file(self, key: str, folder: Path) -> tuple[int, str]:
        """Create folder (and parents) and an empty hidden temp file in it."""
        for attempt in range(_MKDIR_ATTEMPTS):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                # A leading "." keeps the temp file out of every valid key, so
                # it is never served, listed or counted.
                return tempfile.mkstemp(prefix=".tmp-", dir=folder)
            except (FileExistsError, NotADirectoryError):
                raise InvalidPath(f"cannot store {key!r}: a parent of it is a file in {self.root}") from None
            except FileNotFoundError:
                if attempt == _MKDIR_ATTEMPTS - 1:
                    raise StorageError(f"folder for {key!r} keeps disappearing in {self.root}") from None
            except OSError as exc:
                raise StorageError(f"cannot create folder for {key!r} in {self.root}: {exc}") from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _publish(tmp: str, path: Path) -> bool:
        """Give *tmp* the name *path* unless that name exists; True when done."""
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
        # No hard links here (some network and FUSE file systems): fall back to
        # check-then-rename, which has a small race between two writers.
        if os.path.lexists(path):
            return False
        os.replace(tmp, path)
        return True

    # --- objects one by one (ObjectStorage) -------------------------------------

    def head(self, key: str) -> ObjectInfo:
        """Size of *key*, and the type its extension names (files keep no type).

        >>> storage.put("head/b.png", b"1234", "image/png"), storage.head("head/b.png")
        (True, ObjectInfo(size=4, content_type='image/png'))
        """
        path = self._path(key)
        try:
            size = path.stat().st_size if path.is_file() else -1
        except OSError as exc:
            raise StorageError(f"reading {key!r} in {self.root} failed: {exc}") from exc
        if size < 0:
            raise NotFound(f"no object at {key!r} in {self.root}")
        ext = key.rpartition(".")[2].lower() if "." in key.rsplit("/", 1)[-1] else ""
        return ObjectInfo(size, MIME_BY_EXT.get(ext))

    def read(self, key: str, length: int) -> bytes:
        """The first *length* bytes of *key*."""
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                return fh.read(length)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no object at {key!r} in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"reading {key!r} from {self.root} failed: {exc}") from exc

    def copy(self, source: str, key: str) -> bool:
        """Copy *source* to *key* unless *key* exists (atomic, as :meth:`put`); True when copied."""
        return self.put(key, self.get(source), "application/octet-stream")

    def delete(self, key: str) -> None:
        """Delete the file *key* (absent is fine); folders left empty go too."""
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except IsADirectoryError:
            raise InvalidPath(f"cannot delete {key!r}: it is a folder in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"deleting {key!r} in {self.root} failed: {exc}") from exc
        self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        """Delete the folder *prefix* (ending in ``/``) and all in it; return files deleted.

        Folders left empty above it are removed too, up to the root.  A missing
        prefix deletes nothing and returns 0.

        >>> storage.put("gone/b.txt", b"hi", "text/plain"), storage.delete_prefix("gone/")
        (True, 1)
        """
        prefix = validate_prefix(prefix)
        folder = self._path(prefix[:-1])
        if not folder.is_dir():
            return 0
        count = 0
        try:
            # Bottom-up, never following links: a symlink is removed, not entered.
            for here, dirs, files in os.walk(folder, topdown=False, followlinks=False):
                for name in files:
                    # Temp files of writes in flight go too, but are not objects.
                    if _remove(os.unlink, os.path.join(here, name)) and not name.startswith("."):
                        count += 1
                for name in dirs:
                    sub = os.path.join(here, name)
                    _remove(os.unlink if os.path.islink(sub) else os.rmdir, sub)
            _remove(os.rmdir, folder)
        except OSError as exc:
            raise StorageError(f"deleting {prefix!r} in {self.root} failed after {count} files: {exc}") from exc
        self._prune(folder.parent)
        return count

    def list_objects(self, prefix: str = "") -> list[ListedObject]:
        """Every object under *prefix* (``""``: all of them) with its size and time, sorted by key.

        >>> storage.put("swept/a.txt", b"abc", "text/plain"), storage.list_objects("swept/")[0].size
        (True, 3)
        """
        folder = self.root if prefix == "" else self._path(validate_prefix(prefix)[:-1])
        if not folder.is_dir():
            return []
        found: list[ListedObject] = []
        try:
            for here, dirs, files in os.walk(folder, followlinks=False):
                dirs[:] = [name for name in dirs if not name.startswith(".")]
                below = Path(here).relative_to(folder)
                for name in files:
                    if name.startswith("."):
                        continue  # a write in flight
                    stat = os.stat(os.path.join(here, name), follow_symlinks=False)
                    found.append(ListedObject(prefix + (below / name).as_posix(), stat.st_size, stat.st_mtime))
        except OSError as exc:
            raise StorageError(f"listing {prefix!r} in {self.root} failed: {exc}") from exc
        return sorted(found, key=lambda listed: listed.key)

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under *prefix* (ending in ``/``), sorted; files being written (hidden) are left out.

        >>> storage.put("listed/a.txt", b"a", "text/plain"), storage.list_keys("listed/")
        (True, ['listed/a.txt'])
        """
        prefix = validate_prefix(prefix)
        folder = self._path(prefix[:-1])
        if not folder.is_dir():
            return []
        keys: list[str] = []
        try:
            for here, dirs, files in os.walk(folder, followlinks=False):
                dirs[:] = [name for name in dirs if not name.startswith(".")]
                below = Path(here).relative_to(folder)
                keys.extend(prefix + (below / name).as_posix() for name in files if not name.startswith("."))
        except OSError as exc:
            raise StorageError(f"listing {prefix!r} in {self.root} failed: {exc}") from exc
        return sorted(keys)

    def delete_keys(self, keys: list[str]) -> int:
        """Delete *keys* (absent ones are fine); return how many were there."""
        count = 0
        for key in keys:
            there = self.exists(key)
            self.delete(key)
            count += there
        return count

    def _prune(self, folder: Path) -> None:
        """Remove *folder* and its parents while they are empty, stopping at root."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty (or already gone): its parents are not empty either
            folder = folder.parent


def _remove(remove: Callable[[str | Path], None], path: str | Path) -> bool:
    """Remove *path* with *remove*; False when a concurrent delete got there first."""
    try:
        remove(path)
        return True
    except FileNotFoundError:
        return False


def _fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["LocalStorage"]
