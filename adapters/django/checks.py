"""System check: ``manage.py check`` (and every ``runserver``) reports bad ``S3MEDIA`` settings.

Ids: ``s3media.E001`` missing, ``s3media.E002`` not a dict, ``s3media.E003``
a value is invalid; ``s3media.W001`` the middleware is not first in
``MIDDLEWARE`` (others, such as GZip or CommonMiddleware's APPEND_SLASH, would
then rewrite media responses or answer media URLs themselves); for each
``FileField``/``ImageField`` on MediaStorage, ``s3media.E005`` its
``max_length`` is too short for media ids, ``s3media.E006`` its storage's
``legacy`` alias is not in ``STORAGES``.  Parsing only: the checks do no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.db.models.fields.files import FileField

from ...errors import ConfigError
from ...settings import parse_settings
from . import SETTING_NAME
from .naming import MIN_MAX_LENGTH
from .storage import uses_media_storage

_EXAMPLE = (
    f'{SETTING_NAME} = {{"SECRET_KEY": os.environ["S3MEDIA_SECRET_KEY"], "STORAGE": "local", '
    '"LOCAL_ROOT": BASE_DIR / "media"}'
)


@register("s3media")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Errors for a missing, malformed or invalid ``settings.S3MEDIA``."""
    raw = getattr(settings, SETTING_NAME, None)
    if raw is None:
        return [
            Error(
                f"settings.{SETTING_NAME} is missing.",
                hint=f"Add {_EXAMPLE} to your settings.",
                id="s3media.E001",
            )
        ]
    if not isinstance(raw, Mapping):
        return [
            Error(
                f"settings.{SETTING_NAME} must be a dict, not {type(raw).__name__}.",
                hint=f"Write it as {_EXAMPLE}.",
                id="s3media.E002",
            )
        ]
    try:
        parsed = parse_settings(raw, upper=True, container=SETTING_NAME)
    except ConfigError as exc:
        return [
            Error(
                f"settings.{SETTING_NAME} is invalid: {exc}",
                hint="Fix that key; see the s3media_wsgi.settings docs for every key and its type.",
                id="s3media.E003",
            )
        ]
    return _middleware_order() if parsed.enabled else []


@register("s3media")
def check_media_storage_fields(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Errors for file fields on MediaStorage that cannot hold an id, or whose legacy storage is missing."""
    found: list[CheckMessage] = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, FileField) or not uses_media_storage(field):
                continue
            if isinstance(field.max_length, int) and field.max_length < MIN_MAX_LENGTH:
                found.append(
                    Error(
                        f"{field.max_length} characters (max_length) cannot hold a media id.",
                        hint=f"Make max_length at least {MIN_MAX_LENGTH} (ids fit FileField's default, 100).",
                        obj=field,
                        id="s3media.E005",
                    )
                )
            alias = getattr(field.storage, "legacy_alias", None)
            if alias is not None and (alias == "default" or alias not in settings.STORAGES):
                found.append(
                    Error(
                        f"MediaStorage's legacy storage {alias!r} is not in STORAGES.",
                        hint='Name the alias of the storage the files were saved to before, e.g. "legacy", '
                        "and add it to STORAGES (it may not be the default storage itself).",
                        obj=field,
                        id="s3media.E006",
                    )
                )
    return found


MIDDLEWARE_PATH = "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware"


def _middleware_order() -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE_PATH in middleware and middleware[0] != MIDDLEWARE_PATH:
        return [
            Warning(
                f"{MIDDLEWARE_PATH} is not first in MIDDLEWARE.",
                hint="Move it to the top, so the middleware above it (GZip, APPEND_SLASH redirects, sessions) "
                "does not rewrite media responses or answer media URLs itself.",
                id="s3media.W001",
            )
        ]
    return []


__all__ = ["check_media_storage_fields", "check_settings"]
