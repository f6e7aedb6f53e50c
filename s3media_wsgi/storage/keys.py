"""The one rule for storage keys, used by every backend and by the middleware.

A key is the last thing standing between a request path and the file system or
the bucket, so both backends refuse the same shapes, even those S3 would
accept: the contract suite can then hold them to one behaviour.  The
middleware turns a request path into a key with the same function, so what it
would ask for and what a backend would accept never disagree.

Keys are what :mod:`s3media_wsgi.ids` makes: ASCII letters, digits, ``-``,
``_`` and ``.`` in ``/``-separated segments.  Anything else (non-ASCII, ``%``
left by double encoding, spaces, backslashes, NUL) is not a key of ours.

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

# The whole rule in one linear pattern (segments cannot overlap: each ends at
# a "/"), tried first; the slow path below only explains a refusal.
_KEY_RE = re.compile(r"(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_ALLOWED = re.compile(r"[^A-Za-z0-9_./-]")


def validate_key(key: object) -> str:
    """Return *key* when it is a safe storage key, else raise :class:`InvalidPath`.

    Safe means: a non-empty ``str`` of ``/``-separated, non-empty segments of
    ASCII letters, digits, ``-``, ``_`` and ``.``, no leading ``/``, no segment
    starting with ``.`` (so no ``.``, ``..`` or dotfile, and never a backend's
    temporary file), at most :data:`MAX_KEY_BYTES` bytes and
    :data:`MAX_SEGMENT_BYTES` a segment.

    >>> validate_key("a/b.jpg")
    'a/b.jpg'
    """
    if not isinstance(key, str):
        raise InvalidPath(f"storage key must be str, got {type(key).__name__}")
    if not key:
        raise InvalidPath("storage key is empty")
    if len(key) > MAX_KEY_BYTES:  # ASCII only, so characters are bytes
        raise InvalidPath(f"storage key is {len(key)} characters, over the {MAX_KEY_BYTES} limit")
    if _KEY_RE.fullmatch(key) and (len(key) <= MAX_SEGMENT_BYTES or _segments_fit(key)):
        return key
    bad = _ALLOWED.search(key)
    if bad:
        raise InvalidPath(f"unsafe storage key {key!r}: contains {bad.group()!r}")
    if key.startswith("/"):
        raise InvalidPath(f"unsafe storage key {key!r}: starts with '/'")
    for segment in key.split("/"):
        if not segment:
            raise InvalidPath(f"unsafe storage key {key!r}: empty segment")
        if segment.startswith("."):
            raise InvalidPath(f"unsafe storage key {key!r}: segment {segment!r} starts with '.'")
        if len(segment) > MAX_SEGMENT_BYTES:
            raise InvalidPath(f"storage key {key!r}: a segment is over {MAX_SEGMENT_BYTES} bytes")
    raise AssertionError(f"validate_key: no reason found to refuse {key!r}")  # pragma: no cover


def _segments_fit(key: str) -> bool:
    return all(len(segment) <= MAX_SEGMENT_BYTES for segment in key.split("/"))


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
