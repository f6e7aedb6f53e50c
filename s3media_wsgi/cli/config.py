"""``s3media``'s settings: ``S3MEDIA_*`` variables with the command line's flags over them."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import bucket as documents
from ..delivery import default_delivery
from ..errors import ConfigError
from ..factory import build_storage
from ..media import Media
from ..settings import ENV_PREFIX, MediaSettings, parse_settings
from ..storage.s3 import S3Storage
from .output import UsageError

#: What every setting's environment variable starts with.
PREFIX = ENV_PREFIX

#: Flags that set a setting, by setting: a flag given wins over the environment.
SETTING_FLAGS = {
    "bucket": "--bucket",
    "region": "--region",
    "endpoint_url": "--endpoint-url",
    "base_url": "--base-url",
    "prefix": "--prefix",
    "delivery": "--delivery",
}

SETTINGS_HELP = """\
settings:
  Read from S3MEDIA_* environment variables, as the app reads them (S3MEDIA_STORAGE,
  S3MEDIA_BUCKET, S3MEDIA_REGION, S3MEDIA_ENDPOINT_URL, S3MEDIA_BASE_URL, S3MEDIA_PREFIX,
  S3MEDIA_DELIVERY, S3MEDIA_PRIVATE, S3MEDIA_SECRET_KEY...); the flags override them.
  A bucket (--bucket, setup's BUCKET argument, or S3MEDIA_BUCKET without S3MEDIA_STORAGE)
  means S3MEDIA_STORAGE=s3; --delivery private means S3MEDIA_PRIVATE=true.
  Without S3MEDIA_SECRET_KEY, the secret is read from .dev-secret in the current folder
  when there is one: where the examples (make demo, make demo-s3) keep their development
  secret, so run s3media in the folder the demo runs in.  AWS credentials come from
  boto3's usual places (AWS_ACCESS_KEY_ID..., AWS_PROFILE, an IAM role)."""

#: The file, in the current folder, where the examples keep a development secret
#: (examples/gallery_common.py: ``dev_secret``); read, never written, by the command.
DEV_SECRET_FILE = ".dev-secret"


@dataclass
class Loaded:
    """Parsed settings, and whether the secret is a throwaway (none was set)."""

    settings: MediaSettings
    throwaway_secret: bool

    @property
    def delivery(self) -> str:
        """The delivery mode, as the responder chooses it when none is set."""
        return self.settings.delivery or default_delivery(self.settings)


def load_settings(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    bucket: str | None = None,
    need_secret: bool = False,
) -> Loaded:
    """The settings of ``S3MEDIA_*`` variables in *environ*, with the flags in *args* over them.

    Without ``S3MEDIA_SECRET_KEY`` the examples' development secret is used
    (:data:`DEV_SECRET_FILE` in the current folder) when there is one; else a
    command that signs nothing works with a throwaway secret (the parser
    requires one).  Every problem is a
    :class:`UsageError` naming the variable, and the flag when a flag gave it.
    """
    raw: dict[str, Any] = {key: value for key, value in environ.items() if key.startswith(PREFIX)}
    given: dict[str, str] = {}
    for key, flag in SETTING_FLAGS.items():
        value = getattr(args, key, None)
        if value is not None:
            raw[PREFIX + key.upper()] = value
            given[PREFIX + key.upper()] = flag
    if bucket is not None:
        if getattr(args, "bucket", None) not in (None, bucket):
            raise UsageError(f"BUCKET {bucket!r} and --bucket {args.bucket!r} differ: give the bucket once")
        raw[PREFIX + "BUCKET"] = bucket
        given[PREFIX + "BUCKET"] = "the BUCKET argument"
    if PREFIX + "BUCKET" in given and PREFIX + "STORAGE" not in given:
        # Naming a bucket on the command line means S3, whatever the environment
        # says about development; the local folder then does not apply.
        raw[PREFIX + "STORAGE"] = "s3"
        raw.pop(PREFIX + "LOCAL_ROOT", None)
    elif raw.get(PREFIX + "BUCKET") and not raw.get(PREFIX + "STORAGE"):
        # A bucket in the environment means S3 too, unless S3MEDIA_STORAGE says otherwise.
        raw[PREFIX + "STORAGE"] = "s3"
    if getattr(args, "delivery", None) == "private":
        raw.setdefault(PREFIX + "PRIVATE", "true")
    throwaway = False
    if not raw.get(PREFIX + "SECRET_KEY") and not raw.get(PREFIX + "MEDIA_FACTORY"):
        dev_secret = _dev_secret()
        if dev_secret:
            raw[PREFIX + "SECRET_KEY"] = dev_secret
    if not raw.get(PREFIX + "SECRET_KEY") and not raw.get(PREFIX + "MEDIA_FACTORY"):
        if need_secret:
            raise UsageError(
                f"{PREFIX}SECRET_KEY is required by this command: set it to the app's secret "
                f"(resize URLs are signed with it), or run in the folder whose {DEV_SECRET_FILE} the demo made"
            )
        raw[PREFIX + "SECRET_KEY"] = secrets.token_urlsafe(48)
        throwaway = True
    try:
        settings = parse_settings(raw, prefix=PREFIX)
    except ConfigError as exc:
        raise UsageError(_naming_flags(str(exc), given)) from None
    return Loaded(settings, throwaway)


def _dev_secret() -> str:
    """The examples' development secret (:data:`DEV_SECRET_FILE` in the current folder), or "" when there is none."""
    try:
        return Path(DEV_SECRET_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def bucket_named(loaded: Loaded) -> str:
    """The bucket of *loaded* (setup's BUCKET argument, ``--bucket`` or ``S3MEDIA_BUCKET``), required."""
    if not loaded.settings.bucket:
        raise UsageError(f"a bucket is required: give BUCKET or --bucket, or set {PREFIX}BUCKET")
    return loaded.settings.bucket


def _naming_flags(message: str, given: Mapping[str, str]) -> str:
    flags = [f"{name} was given as {flag}" for name, flag in given.items() if name in message]
    return f"{message} ({'; '.join(flags)})" if flags else message


def _unusable(exc: ConfigError, settings: MediaSettings) -> UsageError:
    """A storage or Media that cannot be built, said in the command line's terms."""
    message = str(exc)
    if "region" in message and not settings.region:
        message += f" (set {PREFIX}REGION, or give --region)"
    return UsageError(message)


def build_media(loaded: Loaded, storage_budget: float | None = None) -> Media:
    """The Media of *loaded*'s settings; with *storage_budget*, each of its guarded calls gets that many seconds."""
    try:
        media = Media.from_settings(loaded.settings)
    except ConfigError as exc:
        raise _unusable(exc, loaded.settings) from None
    if storage_budget is not None:
        media.guard.budget_seconds = storage_budget
    return media


def s3_storage(loaded: Loaded) -> S3Storage:
    try:
        storage = build_storage(loaded.settings)
    except ConfigError as exc:
        raise _unusable(exc, loaded.settings) from None
    if not isinstance(storage, S3Storage):
        raise UsageError(f"this command needs S3: set {PREFIX}STORAGE=s3 and {PREFIX}BUCKET (or give a bucket)")
    return storage


def _app_url(value: str | None, name: str = "--app-url") -> str | None:
    if value is None:
        return None
    try:
        documents.parse_app_url(value, name)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return value.rstrip("/")
