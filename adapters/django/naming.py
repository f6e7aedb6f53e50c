"""Names on MediaStorage: how a file's name becomes a media id's filename, and a legacy name's derived id.

Pure functions, no Django and no I/O.
"""

from __future__ import annotations

import functools
import hashlib

from ... import ids
from ...errors import ConfigError

#: Characters of an id before its filename: 32 hex digits in five folders, and "/".
ID_PREFIX_LENGTH = 37
#: The shortest ``max_length`` a field on this storage may have (a one-letter stem and the longest extension).
MIN_MAX_LENGTH = ID_PREFIX_LENGTH + 1 + 1 + ids.MAX_EXT


def fitting_filename(name: str, max_length: int | None) -> str:
    """The normalised filename of *name*, short enough that an id ending in it has at most *max_length* characters.

    >>> fitting_filename("photos/2024/" + "a" * 90 + ".JPEG", 100)
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.jpg'
    """
    filename = ids.normalise_filename(name)
    if max_length is None:
        return filename
    if max_length < MIN_MAX_LENGTH:
        raise ConfigError(f"max_length {max_length} is too short for media ids: make it at least {MIN_MAX_LENGTH}")
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = ext, ""
    # The real type's extension replaces ext on put: keep room for the longest one.
    room = max_length - ID_PREFIX_LENGTH - 1 - ids.MAX_EXT
    stem = stem[:room].strip("-") or "file"
    return f"{stem}.{ext}" if ext else stem


#: The length a derived id is made to fit: FileField's default ``max_length``.
DERIVED_MAX_LENGTH = 100


@functools.lru_cache(maxsize=4096)  # pages build many URLs of the same few names
def derived_id(name: str, alias: str | None, max_length: int = DERIVED_MAX_LENGTH) -> str:
    """The media id the legacy file *name* of the storage *alias* becomes (always the same).

    A hash of the alias and the name in five folders, then the name's filename,
    fitting *max_length* (at most :data:`DERIVED_MAX_LENGTH`):

    >>> derived_id("photos/2024/Cat.JPEG", "legacy")
    '81b8aa11/453f/de92/1ba9/3ca29dcf0cc9/cat.jpg'
    """
    digest = hashlib.sha256(f"{alias or ''}\0{name}".encode()).hexdigest()
    filename = fitting_filename(name, min(max_length, DERIVED_MAX_LENGTH))
    return f"{digest[:8]}/{digest[8:12]}/{digest[12:16]}/{digest[16:20]}/{digest[20:32]}/{filename}"


__all__ = ["DERIVED_MAX_LENGTH", "ID_PREFIX_LENGTH", "MIN_MAX_LENGTH", "derived_id", "fitting_filename"]
