"""App config: loads the template tags and registers the settings check."""

from __future__ import annotations

from django.apps import AppConfig


class S3MediaConfig(AppConfig):
    """``"s3media_wsgi.adapters.django"`` in ``INSTALLED_APPS`` selects this config."""

    name = "s3media_wsgi.adapters.django"
    label = "s3media"
    verbose_name = "s3media"

    def ready(self) -> None:
        from . import _watch_settings, checks  # noqa: F401  (importing registers the check)

        _watch_settings()
