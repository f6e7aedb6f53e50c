"""The rules for the two URL settings: the middleware's prefix and a storage's base URL.

Every place that takes one (the middleware, the storages, the settings parser)
calls these, so a value accepted in one place is accepted everywhere.

    >>> check_prefix("/media/")
    '/media/'
    >>> check_prefix("/media files/")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: prefix must be a URL path of ASCII letters, ... got '/media files/'
"""

from __future__ import annotations

import re

from .errors import ConfigError

# Segments of letters, digits, "-", "_" and "."; PATH_INFO arrives as
# latin-1-decoded bytes, so anything but plain ASCII would never match what
# browsers send, and a space or "%" would have to be written encoded.
_PREFIX_RE = re.compile(r"/(?:[A-Za-z0-9_.-]+/)+")


def check_prefix(value: object, name: str = "prefix") -> str:
    """*value* if it is a usable middleware prefix, else :class:`ConfigError` naming *name*.

    ``/`` alone is refused: every request would be a media request and the
    application behind the middleware would never be reached.  ``.`` and
    ``..`` segments are refused too (clients and proxies remove them).
    """
    if isinstance(value, str) and _PREFIX_RE.fullmatch(value):
        if not any(segment in (".", "..") for segment in value.split("/")):
            return value
    raise ConfigError(
        f"{name} must be a URL path of ASCII letters, digits, '-', '_', '.' and '/', starting and ending "
        f"with '/', such as '/media/'; got {value!r}"
    )


def check_base_url(value: object, name: str = "base_url") -> str:
    """*value* if it is a URL prefix ending in ``/`` (absolute, or a path), else :class:`ConfigError`.

    >>> check_base_url("https://media.example.com/")
    'https://media.example.com/'
    """
    if not isinstance(value, str) or not value.strip() or not value.endswith("/") or value != value.strip():
        raise ConfigError(f"{name} must be a URL (or path) ending in '/', such as '/media/'; got {value!r}")
    return value


__all__ = ["check_base_url", "check_prefix"]
