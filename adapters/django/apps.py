"""App config: the template tags, the settings check, fields on MediaStorage adopted, cleanup connected."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps


class S3MediaConfig(AppConfig):
    """``"s3media_wsgi.adapters.django"`` in ``INSTALLED_APPS`` selects this config."""

    name = "s3media_wsgi.adapters.django"
    label = "s3media"
    verbose_name = "s3media"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from . import _watch_settings, checks  # noqa: F401  (importing registers the check)
        from .cleanup import connect

        _watch_settings()
        _adopt()
        connect()
        setting_changed.connect(_storages_changed, dispatch_uid="s3media_wsgi.adapters.django.storages")


def _adopt() -> None:
    from .storage import adopt_fields

    adopt_fields(apps.get_models())


def _storages_changed(setting: str = "", **kwargs: Any) -> None:
    if setting == "STORAGES":
        from .cleanup import forget

        _adopt()
        forget()
