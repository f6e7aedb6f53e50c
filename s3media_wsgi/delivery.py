"""The delivery-mode rules, in one place: which modes exist, which one a storage gets, what each needs.

A resize request that reaches the app while files are not served from disk is
answered by the delivery mode:

* ``website``: 301 back to the bucket's website endpoint or CDN (the S3-website
  404 loop); the default for a public bucket.  A private bucket has no website.
* ``serve``: the image bytes themselves (what a CDN's origin failover needs).
* ``private``: 302 to a presigned GET; the default for a private bucket, and
  it needs one (unless files are served from disk anyway).

A private bucket's resize URLs must reach the app, so they point at the
middleware's prefix (:func:`resize_base_url_for`).

    >>> class Bucket:
    ...     private = True
    >>> default_delivery(Bucket()), resize_base_url_for(Bucket(), "/files/")
    ('private', '/files/')
    >>> choose_delivery(None, Bucket(), serve_local=False)
    'private'
    >>> choose_delivery("website", Bucket(), serve_local=False)
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.ConfigError: a private bucket has no website endpoint: ...
"""

from __future__ import annotations

from .errors import ConfigError
from .storage.base import is_private

#: How resize requests that reach the app are answered when the storage is not local:
#: ``website`` (301 to the bucket or CDN, the S3-website 404 loop), ``serve`` (the
#: image itself, for a CDN's origin failover), ``private`` (302 to a presigned GET).
DELIVERIES = ("website", "serve", "private")
#: The middleware's default prefix, where a private bucket's resize URLs point when no prefix is known.
DEFAULT_PREFIX = "/media/"


def default_delivery(storage: object) -> str:
    """The mode used when none is set: ``private`` for a private bucket, else ``website``."""
    return "private" if is_private(storage) else "website"


def parse_delivery(value: object, name: str = "delivery") -> str:
    """*value* as a known mode (case-insensitive); *name* spells the setting in the error."""
    mode = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(mode, str) or mode not in DELIVERIES:
        raise ConfigError(f"{name} must be one of {', '.join(DELIVERIES)}, got {value!r}")
    return mode


def choose_delivery(delivery: str | None, storage: object, serve_local: bool) -> str:
    """The mode a responder uses: *delivery*, or the storage's default; refused when the two cannot work.

    ``private`` needs a private bucket (unless files are served from disk);
    a private bucket has no website endpoint, so never ``website``.
    """
    private = is_private(storage)
    mode = parse_delivery(delivery) if delivery else default_delivery(storage)
    if mode == "private" and not private and not serve_local:
        raise ConfigError("delivery='private' needs a private bucket: S3Storage(..., private=True)")
    if mode == "website" and private:
        raise ConfigError(
            "a private bucket has no website endpoint: use delivery='private' (302 to presigned URLs) "
            "or 'serve' (the app answers with the image)"
        )
    return mode


def resize_base_url_for(storage: object, prefix: str = DEFAULT_PREFIX, delivery: str | None = None) -> str | None:
    """Where resize URLs point when ``resize_base_url`` is not set: *prefix* when the app must answer them.

    The app answers a private bucket's resizes (and those of the ``private``
    mode), so their URLs go through the middleware under *prefix*; any other
    storage's resize URLs point at the storage itself (None).

        >>> resize_base_url_for(object(), "/files/") is None
        True
        >>> resize_base_url_for(object(), "/files/", delivery="private")
        '/files/'
    """
    if is_private(storage) or delivery == "private":
        return prefix
    return None


__all__ = [
    "DEFAULT_PREFIX",
    "DELIVERIES",
    "choose_delivery",
    "default_delivery",
    "is_private",
    "parse_delivery",
    "resize_base_url_for",
]
