"""Every limit's default, the one check for a limit's value, and the one "too large" message.

``Media``, the image engine and the settings parser all take these limits;
they take their defaults and their validation from here.

    >>> positive_int(4096, "max_side")
    4096
    >>> positive_int(0, "max_side")
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: max_side must be a positive int, not 0
"""

from __future__ import annotations

import math

from .errors import ConfigError

#: Largest source image (width x height) ever decoded.
DEFAULT_MAX_PIXELS = 50_000_000
#: Largest side of a resize.
DEFAULT_MAX_SIDE = 4096
#: Most frames of an animation kept; longer ones give their first frame.
DEFAULT_MAX_FRAMES = 100
#: Largest upload ``Media.put`` accepts.
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def positive_int(value: object, name: str) -> int:
    """*value* if it is an int >= 1 (not a bool), else :class:`ConfigError` naming *name*."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive int, not {value!r}")
    return value


def human_size(n: int) -> str:
    """*n* bytes for a person: ``"50 MiB"``, ``"1.5 KiB"``, ``"12 bytes"``.

    >>> human_size(50 * 1024 * 1024), human_size(1536), human_size(12)
    ('50 MiB', '1.5 KiB', '12 bytes')
    """
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} bytes"


def too_large_message(limit_bytes: int) -> str:
    """What a person is told when a file is over *limit_bytes*: the one wording of it.

    >>> too_large_message(100_000)
    'File too large: the limit is 97.7 KiB.'
    """
    return f"File too large: the limit is {human_size(limit_bytes)}."


#: Longest time setting accepted: anything longer is a mistake (or a unit mix-up).
MAX_SECONDS = 24 * 3600


def positive_number(value: object, name: str) -> float:
    """*value* as a float in (0, :data:`MAX_SECONDS`], else :class:`ConfigError` naming *name* (seconds)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= MAX_SECONDS
    ):
        raise ConfigError(f"{name} must be a number of seconds > 0 and <= {MAX_SECONDS}, not {value!r}")
    return float(value)


__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "human_size",
    "positive_int",
    "positive_number",
    "too_large_message",
]
