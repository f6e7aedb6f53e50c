"""Key and prefix checks shared by every storage backend.

A key is the last thing standing between a request path and the file system or
the bucket, so both backends refuse the same shapes, even those S3 would
accept: the contract suite can then hold them to one behaviour.

    >>> validate_key("3c72aedc/ba25/41e6/a569/406c8f413974/cat.gif/cat.gif")
    '3c72aedc/ba25/41e6/a569/406c8f413974/cat.gif/cat.gif'
    >>> validate_key("a/../b")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.InvalidPath: unsafe storage key 'a/../b': segment '..' starts with '.'
"""

from __future__ import annotations

import re

from ..errors import InvalidPath

#: S3's limit on a key, in UTF-8 bytes; applied to every backend alike.
MAX_KEY_BYTES = 1024
#: Most file systems refuse longer names; checked here so it is InvalidPath, not OSError.
MAX_SEGMENT_BYTES = 255

# Control characters (NUL included) and the backslash: Windows paths, log
# injection and header splitting all start with one of these.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")


def validate_key(key: object) -> str:
    """Return *key* when it is a safe storage key, else raise :class:`InvalidPath`.

    Safe means: a non-empty ``str`` of ``/``-separated, non-empty segments, no
    leading ``/``, no segment starting with ``.`` (so no ``.``, ``..`` or
    dotfile, and never a backend's temporary file), no backslash, no control
    character, at most :data:`MAX_KEY_BYTES` bytes.

    >>> validate_key("a/b.jpg")
    'a/b.jpg'
    """
    if not isinstance(key, str):
        raise InvalidPath(f"storage key must be str, got {type(key).__name__}")
    if not key:
        raise InvalidPath("storage key is empty")
    bad = _FORBIDDEN.search(key)
    if bad:
        raise InvalidPath(f"unsafe storage key {key!r}: contains {bad.group()!r}")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates from a badly decoded path
        raise InvalidPath(f"unsafe storage key {key!r}: not valid Unicode") from None
    if size > MAX_KEY_BYTES:
        raise InvalidPath(f"storage key is {size} bytes, over the {MAX_KEY_BYTES} limit")
    if key.startswith("/"):
        raise InvalidPath(f"unsafe storage key {key!r}: starts with '/'")
    for segment in key.split("/"):
        if not segment:
            raise InvalidPath(f"unsafe storage key {key!r}: empty segment")
        if segment.startswith("."):
            raise InvalidPath(f"unsafe storage key {key!r}: segment {segment!r} starts with '.'")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidPath(f"storage key {key!r}: a segment is over {MAX_SEGMENT_BYTES} bytes")
    return key


def validate_prefix(prefix: object) -> str:
    """Return *prefix* when it is a safe key followed by ``/``, else raise :class:`InvalidPath`.

    >>> validate_prefix("3c72aedc/ba25/")
    '3c72aedc/ba25/'
    """
    if not isinstance(prefix, str) or not prefix.endswith("/"):
        raise InvalidPath(f"storage prefix must be a str ending in '/', got {prefix!r}")
    validate_key(prefix[:-1])
    return prefix


__all__ = ["MAX_KEY_BYTES", "MAX_SEGMENT_BYTES", "validate_key", "validate_prefix"]
