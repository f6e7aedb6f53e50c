"""Storage backends: :class:`LocalStorage` for development, :class:`S3Storage` for production."""

from .base import IMMUTABLE_CACHE_CONTROL, PRIVATE_IMMUTABLE_CACHE_CONTROL, Storage
from .local import LocalStorage
from .s3 import S3Storage

__all__ = ["IMMUTABLE_CACHE_CONTROL", "PRIVATE_IMMUTABLE_CACHE_CONTROL", "LocalStorage", "S3Storage", "Storage"]
