"""The ``s3media`` command (also ``python -m s3media_wsgi``): production tooling for s3media_wsgi.

Subcommands::

    s3media setup-bucket BUCKET --app-url URL   create and configure a bucket for a delivery mode
    s3media setup-cdn BUCKET --dry-run          print a CloudFront DistributionConfig for it
    s3media check                               check a deployment, down to a resize round trip
    s3media put PATH...                         store files (folders recursively), print their ids
    s3media url ID [--size 400x300 ...]         print the URL of an original or of a resize
    s3media delete ID...                        delete media: the original and every resize
    s3media purge-resizes ID...                 delete every resize, keep the originals

Settings are read from ``S3MEDIA_*`` environment variables exactly as the app
reads them (:func:`~s3media_wsgi.settings.parse_settings`), and flags
(``--bucket``, ``--region``, ``--endpoint-url``, ``--base-url``, ``--prefix``,
``--delivery``) override them.  AWS credentials come from boto3's usual places.

Exit codes: 0 everything succeeded; 1 a check or an operation failed (the
output says which, and how to fix it); 2 a usage or configuration error (the
message names the flag or setting to fix); 130 interrupted.

The documents ``setup-bucket`` applies are built by :mod:`s3media_wsgi.bucket`,
so ``--dry-run`` prints exactly what a real run applies.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import logging
import os
import secrets
import stat
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from PIL import Image
from tqdm import tqdm

from . import bucket as documents
from . import ids
from .bounded import READ_CHUNK
from .errors import ConfigError, MediaError, StorageError
from .factory import build_storage
from .media import Media
from .media import _size as human_size
from .responder import DELIVERIES, MediaResponder
from .response import MediaResponse
from .settings import MediaSettings, parse_settings
from .storage.local import LocalStorage
from .storage.s3 import S3Storage
from .uploads import PENDING_PREFIX

#: What every setting's environment variable starts with.
PREFIX = "S3MEDIA_"

OK = 0
FAILED = 1
USAGE = 2
INTERRUPTED = 130

#: Flags that set a setting, by setting: a flag given wins over the environment.
SETTING_FLAGS = {
    "bucket": "--bucket",
    "region": "--region",
    "endpoint_url": "--endpoint-url",
    "base_url": "--base-url",
    "prefix": "--prefix",
    "delivery": "--delivery",
}

#: Largest body read from an HTTP answer during ``check``.
MAX_PROBE_BODY = 8 * 1024 * 1024
#: Seconds one HTTP request of ``check`` may take.
PROBE_TIMEOUT = 15.0
#: The probe image's size, and the resize ``check`` asks for.
PROBE_SIZE = (64, 48)
PROBE_RESIZE = "32x24"

EXIT_CODES = """\
exit codes:
  0    everything succeeded (check: every check passed)
  1    a check or an operation failed: the output says which, and how to fix it
  2    usage or configuration error: the message names the flag or S3MEDIA_* setting to fix
  130  interrupted (Ctrl-C)"""

SETTINGS_HELP = """\
settings:
  Read from S3MEDIA_* environment variables, as the app reads them (S3MEDIA_STORAGE,
  S3MEDIA_BUCKET, S3MEDIA_REGION, S3MEDIA_ENDPOINT_URL, S3MEDIA_BASE_URL, S3MEDIA_PREFIX,
  S3MEDIA_DELIVERY, S3MEDIA_PRIVATE, S3MEDIA_SECRET_KEY...); the flags override them.
  A bucket given as a flag or argument means S3MEDIA_STORAGE=s3; --delivery private
  means S3MEDIA_PRIVATE=true.  AWS credentials come from boto3's usual places
  (AWS_ACCESS_KEY_ID..., AWS_PROFILE, an IAM role)."""


class UsageError(Exception):
    """A usage or configuration error: exit 2, the message names what to fix."""


class Failed(Exception):
    """An operation failed: exit 1, the message says what happened and how to fix it."""


# --- output ------------------------------------------------------------------------------


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _encodes(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class Console:
    """Where output goes, and how it looks.

    On a terminal (and unless ``NO_COLOR`` is set) check results are ``✔``/``✘``
    in colour; anywhere else (a pipe, a file, a CI log) they are the plain
    words ``[ok]``, ``[FAIL]`` and ``[skip]``, which grep and any encoding can
    read.
    """

    def __init__(self, out: TextIO, err: TextIO, environ: Mapping[str, str]) -> None:
        self.out = out
        self.err = err
        self.tty = _isatty(out)
        self.fancy = self.tty and not environ.get("NO_COLOR") and _encodes(out, "✔✘–→")
        self.arrow = "→" if _encodes(out, "→") else "->"

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def mark(self, status: str) -> str:
        if not self.fancy:
            return {"ok": "[ok]  ", "fail": "[FAIL]", "skip": "[skip]"}[status]
        symbol, colour = {"ok": ("✔", "32"), "fail": ("✘", "31"), "skip": ("–", "2")}[status]
        return f"\033[{colour}m{symbol}\033[0m"


class Report:
    """The lines of ``check``: one per check, with how to fix each failure."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.passed = self.failed = self.skipped = 0

    def line(self, status: str, name: str, detail: str, fix: str = "") -> None:
        self.console.print(f"{self.console.mark(status)} {name}: {detail}")
        if fix:
            self.console.print(f"    fix: {fix}")

    def ok(self, name: str, detail: str) -> None:
        self.passed += 1
        self.line("ok", name, detail)

    def fail(self, name: str, problem: str, fix: str = "") -> None:
        self.failed += 1
        self.line("fail", name, problem, fix)

    def skip(self, name: str, reason: str) -> None:
        self.skipped += 1
        self.line("skip", name, reason)

    def summary(self) -> None:
        total = self.passed + self.failed
        skipped = f" ({self.skipped} skipped)" if self.skipped else ""
        if self.failed:
            self.console.print(f"{self.failed} of {total} checks failed{skipped}")
        else:
            self.console.print(f"all {total} checks passed{skipped}")


# --- settings ------------------------------------------------------------------------------


@dataclass
class Loaded:
    """Parsed settings, and whether the secret is a throwaway (none was set)."""

    settings: MediaSettings
    throwaway_secret: bool

    @property
    def delivery(self) -> str:
        """The delivery mode, as the responder chooses it when none is set."""
        return self.settings.delivery or ("private" if self.settings.private else "website")


def load_settings(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    bucket: str | None = None,
    need_secret: bool = False,
) -> Loaded:
    """The settings of ``S3MEDIA_*`` variables in *environ*, with the flags in *args* over them.

    A command that signs nothing works without ``S3MEDIA_SECRET_KEY``: a
    throwaway secret stands in (the parser requires one).  Every problem is a
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
        raw[PREFIX + "BUCKET"] = bucket
        given[PREFIX + "BUCKET"] = "the BUCKET argument"
    if PREFIX + "BUCKET" in given and PREFIX + "STORAGE" not in given:
        # Naming a bucket on the command line means S3, whatever the environment
        # says about development; the local folder then does not apply.
        raw[PREFIX + "STORAGE"] = "s3"
        raw.pop(PREFIX + "LOCAL_ROOT", None)
    if getattr(args, "delivery", None) == "private":
        raw.setdefault(PREFIX + "PRIVATE", "true")
    throwaway = False
    if not raw.get(PREFIX + "SECRET_KEY") and not raw.get(PREFIX + "MEDIA_FACTORY"):
        if need_secret:
            raise UsageError(
                f"{PREFIX}SECRET_KEY is required by this command: set it to the app's secret "
                "(resize URLs are signed with it)"
            )
        raw[PREFIX + "SECRET_KEY"] = secrets.token_urlsafe(48)
        throwaway = True
    try:
        settings = parse_settings(raw, prefix=PREFIX)
    except ConfigError as exc:
        raise UsageError(_naming_flags(str(exc), given)) from None
    return Loaded(settings, throwaway)


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


# --- S3 failures, said with what to do ---------------------------------------------------------


def _client_error(exc: BaseException) -> tuple[str, int, str] | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    error = response.get("Error") or {}
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return str(error.get("Code") or ""), status, str(error.get("Message") or "")


def _error_code(exc: BaseException) -> str:
    found = _client_error(exc)
    return found[0] if found else ""


def explain(exc: BaseException, action: str, bucket: str, setup: str) -> tuple[str, str]:
    """``(what happened, how to fix it)`` for a failed S3 call (or a StorageError around one)."""
    from botocore import exceptions as bx

    cause: BaseException = exc
    while isinstance(cause, StorageError) and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, bx.NoCredentialsError):
        return (
            f"{action}: no AWS credentials found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where an IAM role applies",
        )
    if isinstance(cause, (bx.ConnectionError, bx.HTTPClientError)):
        return (
            f"{action}: S3 cannot be reached: {cause}",
            f"check {PREFIX}ENDPOINT_URL and {PREFIX}REGION, and the network",
        )
    found = _client_error(cause)
    if found is None:
        return f"{action}: {exc}", ""
    code, status, message = found
    detail = f"{action}: {code or 'error'} (HTTP {status})"
    if code == "NoSuchBucket" or (status == 404 and action.startswith("bucket")):
        return f"bucket {bucket!r} does not exist", f"{setup}, or fix {PREFIX}BUCKET"
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
        return (
            f"{detail}: the credentials were refused",
            "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile), and this machine's clock",
        )
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
        return f"{detail}: the bucket is in another region", f"set {PREFIX}REGION to the bucket's region"
    if status == 403:
        return (
            f"{detail}: access denied",
            "allow it in the IAM policy of these credentials (for the app's own: "
            f"`s3media setup-bucket {bucket} --app-url URL --dry-run` prints it as AppIAMPolicy)",
        )
    return f"{detail} {message}".rstrip(), ""


def setup_command(bucket: str, delivery: str, app_url: str | None) -> str:
    """The ``setup-bucket`` command line that fixes a bucket's configuration, for messages."""
    words = ["s3media", "setup-bucket", bucket, "--app-url", app_url or "https://YOUR-APP.example.com"]
    if delivery != "website":
        words += ["--delivery", delivery]
    return "run: " + " ".join(words)


# --- setup-bucket -------------------------------------------------------------------------------


def _read(call: Callable[[], Any], missing: tuple[str, ...]) -> Any:
    """The answer of *call*, or None when S3 says the document does not exist (one of *missing*)."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        if _error_code(exc) in missing:
            return None
        raise


def read_policy(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_policy(Bucket=bucket), ("NoSuchBucketPolicy",))
    return None if answer is None else dict(json.loads(answer["Policy"]))


def read_public_access_block(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_public_access_block(Bucket=bucket), ("NoSuchPublicAccessBlockConfiguration",))
    return None if answer is None else dict(answer["PublicAccessBlockConfiguration"])


def read_website(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_website(Bucket=bucket), ("NoSuchWebsiteConfiguration",))
    if answer is None:
        return None
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def read_cors(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_cors(Bucket=bucket), ("NoSuchCORSConfiguration",))
    return None if answer is None else {"CORSRules": list(answer.get("CORSRules", []))}


def read_lifecycle(client: Any, bucket: str) -> dict[str, Any] | None:
    answer = _read(lambda: client.get_bucket_lifecycle_configuration(Bucket=bucket), ("NoSuchLifecycleConfiguration",))
    return None if answer is None else {"Rules": list(answer.get("Rules", []))}


def _same_rules(actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> bool:
    return len(actual) == len(expected) and all(documents.matches(a, e) for a, e in zip(actual, expected))


def _ensure_bucket(client: Any, bucket: str, region: str | None) -> str:
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
        return "exists"
    except ClientError as exc:
        found = _client_error(exc)
        if not found or found[1] != 404:
            raise
    params: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**params)
    return f"created ({region or 'us-east-1'})"


def _apply_public_access_block(client: Any, bucket: str, wanted: dict[str, Any]) -> str:
    if documents.matches(read_public_access_block(client, bucket), wanted):
        return "unchanged"
    client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted)
    return "applied"


def _apply_policy(client: Any, bucket: str, ours: dict[str, Any] | None) -> str:
    existing = read_policy(client, bucket)
    wanted = documents.merged_policy(existing, ours)
    if wanted is None:
        if existing is None:
            return "unchanged (none)"
        client.delete_bucket_policy(Bucket=bucket)
        return "removed s3media's statements (none left)"
    if existing is not None and _same_rules(documents.statements(existing), wanted["Statement"]):
        return "unchanged"
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted))
    return "applied"


def _apply_website(client: Any, bucket: str, wanted: dict[str, Any] | None) -> str:
    existing = read_website(client, bucket)
    if wanted is None:
        if existing is None:
            return "unchanged (off)"
        client.delete_bucket_website(Bucket=bucket)
        return "turned off"
    if existing is not None and documents.matches(existing, wanted):
        if _same_rules(existing.get("RoutingRules") or [], wanted["RoutingRules"]):
            return "unchanged"
    client.put_bucket_website(Bucket=bucket, WebsiteConfiguration=wanted)
    return "applied"


def _apply_cors(client: Any, bucket: str, rule: dict[str, Any]) -> str:
    existing = (read_cors(client, bucket) or {}).get("CORSRules", [])
    if any(r.get("ID") == rule["ID"] and documents.matches(r, rule) for r in existing):
        return "unchanged"
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": documents.merged_rules(existing, rule)})
    return "applied"


def _apply_lifecycle(client: Any, bucket: str, rule: dict[str, Any]) -> str:
    existing = (read_lifecycle(client, bucket) or {}).get("Rules", [])
    if any(r.get("ID") == rule["ID"] and documents.matches(r, rule) for r in existing):
        return "unchanged"
    rules = documents.merged_rules(existing, rule)
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    return "applied"


def cmd_setup_bucket(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    loaded = load_settings(args, environ, bucket=args.bucket)
    settings = loaded.settings
    delivery = loaded.delivery
    app_url = _app_url(args.app_url)
    assert app_url is not None  # required by the parser
    if settings.acl and settings.acl.startswith("public"):
        raise UsageError(
            f"{PREFIX}ACL = {settings.acl!r} would be refused: this bucket blocks public ACLs "
            "(in website mode its bucket policy makes objects public); remove it"
        )
    try:
        docs = documents.bucket_documents(
            args.bucket, delivery, app_url, settings.prefix, [*settings.cors_origins, *args.cors_origin]
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.dry_run:
        region = settings.region or _default_region()
        console.print(json.dumps({"Bucket": args.bucket, "Region": region, "Delivery": delivery, **docs}, indent=2))
        console.note(f"dry run: nothing was applied to bucket {args.bucket!r}")
        return OK

    storage = s3_storage(loaded)
    client = storage.client
    bucket = storage.bucket
    block = docs["PublicAccessBlockConfiguration"]
    steps: list[tuple[str, Callable[[], str], str]] = [
        ("bucket", lambda: _ensure_bucket(client, bucket, storage.region), f"s3://{bucket}"),
    ]
    if delivery == "website":
        # Public bucket policies must be allowed before one is put.
        steps += [
            (
                "public access block",
                lambda: _apply_public_access_block(client, bucket, block),
                "ACLs blocked; public bucket policies allowed",
            ),
            (
                "bucket policy",
                lambda: _apply_policy(client, bucket, docs["Policy"]),
                f"anyone may read {bucket}/*, nobody may list it; anonymous reads of uploads/* denied",
            ),
        ]
    else:
        # s3media's public statements go before public policies are blocked.
        steps += [
            ("bucket policy", lambda: _apply_policy(client, bucket, docs["Policy"]), "no public statement"),
            (
                "public access block",
                lambda: _apply_public_access_block(client, bucket, block),
                "all on: nothing in the bucket is public",
            ),
        ]
    website = docs["WebsiteConfiguration"]
    cors = docs["CORSConfiguration"]["CORSRules"][0]
    steps += [
        (
            "website hosting",
            lambda: _apply_website(client, bucket, website),
            f"404s redirect (302) to {documents.redirect_target(website)}" if website else "",
        ),
        (
            "CORS",
            lambda: _apply_cors(client, bucket, cors),
            f"POST and PUT from {', '.join(cors['AllowedOrigins'])}; ETag exposed",
        ),
        (
            "lifecycle",
            lambda: _apply_lifecycle(client, bucket, docs["LifecycleConfiguration"]["Rules"][0]),
            "uploads/ expire after 1 day; incomplete multipart uploads are aborted after 1 day",
        ),
    ]
    for name, step, detail in steps:
        try:
            state = step()
        except Exception as exc:  # botocore's errors, said with what to do
            problem, fix = explain(exc, f"{name}", bucket, setup_command(bucket, delivery, app_url))
            console.print(f"{console.mark('fail')} {name}: {problem}")
            if fix:
                console.print(f"    fix: {fix}")
            return FAILED
        console.print(f"{console.mark('ok')} {name}: {state}" + (f" — {detail}" if detail else ""))
    console.print()
    console.print("IAM policy for the app (attach it to the app's role or user; only what s3media_wsgi uses):")
    console.print(json.dumps(docs["AppIAMPolicy"], indent=2))
    return OK


def _default_region() -> str | None:
    import boto3

    region: str | None = boto3.session.Session().region_name
    return region


# --- setup-cdn --------------------------------------------------------------------------------------


def cmd_setup_cdn(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    loaded = load_settings(args, environ, bucket=args.bucket)
    settings = loaded.settings
    delivery = loaded.delivery
    region = settings.region or _default_region()
    if not region:
        raise UsageError(
            f"{PREFIX}REGION (or --region) is required: the CDN's origin is the bucket's regional endpoint"
        )
    app_url = _app_url(args.app_url)
    try:
        config = documents.distribution_config(
            args.bucket,
            region,
            delivery,
            app_url=app_url,
            prefix=settings.prefix,
            domain=args.domain,
            certificate_arn=args.certificate_arn,
            origin_access_control_id=args.oac_id,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    console.print(json.dumps(config, indent=2))
    base = f"https://{args.domain}/" if args.domain else "https://<the distribution's domain>.cloudfront.net/"
    notes = []
    if delivery == "serve" and not args.oac_id:
        notes.append(
            "first create the origin access control (put its Id in OriginAccessControlId):\n"
            "  aws cloudfront create-origin-access-control --origin-access-control-config file://oac.json\n"
            "  with oac.json: " + json.dumps(documents.origin_access_control_config(args.bucket))
        )
    notes.append(
        "create the distribution with this document saved as distribution.json:\n"
        "  aws cloudfront create-distribution --distribution-config file://distribution.json"
    )
    if delivery == "serve":
        notes.append(
            "then let it read the bucket: add these statements to the bucket policy (with the distribution's ARN):\n  "
            + json.dumps(documents.cdn_read_statements(args.bucket))
        )
    notes.append(f"then set {PREFIX}BASE_URL={base}" + (f" and {PREFIX}DELIVERY=serve" if delivery == "serve" else ""))
    if not args.dry_run:
        notes.insert(0, "s3media does not call CloudFront: apply the document above with the AWS CLI.")
    console.note("\n".join(notes))
    return OK


# --- check ------------------------------------------------------------------------------------------


def http_get(url: str, timeout: float = PROBE_TIMEOUT) -> tuple[int, dict[str, str], bytes]:
    """One GET of *url*, redirects not followed: ``(status, headers in lower case, body)``."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read(MAX_PROBE_BODY)
    finally:
        connection.close()


def probe_image() -> bytes:
    """A small PNG made here: what ``check`` stores and resizes."""
    image = Image.new("RGB", PROBE_SIZE, (40, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # anything Pillow cannot read is "not an image" here
        return None


def _body(answer: MediaResponse) -> bytes:
    if answer.file is None:
        return answer.body
    try:
        answer.file.seek(answer.offset)
        return answer.file.read(answer.length)
    finally:
        answer.close()


class Checker:
    """The checks of ``s3media check``, in order; each reports one line."""

    def __init__(
        self, loaded: Loaded, media: Media, responder: MediaResponder, report: Report, app_url: str | None
    ) -> None:
        self.loaded = loaded
        self.settings = loaded.settings
        self.media = media
        self.storage = media.storage
        self.responder = responder
        self.report = report
        self.app_url = app_url
        self.delivery = responder.delivery if not responder.serve_local else "local"
        bucket = getattr(self.storage, "bucket", "")
        self.bucket: str = bucket if isinstance(bucket, str) else ""
        self.setup = setup_command(self.bucket, responder.delivery, app_url)

    def run(self) -> None:
        self.check_settings()
        if isinstance(self.storage, S3Storage):
            self.check_credentials()
            if self.check_bucket():
                self.check_access()
                if self.responder.delivery == "website":
                    self.check_website()
                self.check_cors()
                self.check_lifecycle()
                self.check_objects()
                self.check_resize()
            else:
                for name in ("access", "website", "CORS", "lifecycle", "objects", "resize"):
                    if name != "website" or self.responder.delivery == "website":
                        self.report.skip(name, "the bucket cannot be used")
        else:
            self.check_objects()
            self.check_resize()

    # -- each check -----------------------------------------------------------------------

    def check_settings(self) -> None:
        where = (
            f"bucket {self.bucket} ({self.storage.region or 'default region'})"
            if isinstance(self.storage, S3Storage)
            else f"{type(self.storage).__name__}"
        )
        detail = f"{where}, delivery {self.delivery}, prefix {self.settings.prefix}, base_url {self.storage.base_url}"
        if self.loaded.throwaway_secret:
            detail += f"; {PREFIX}SECRET_KEY is not set: a throwaway secret signs the probe's URL"
        self.report.ok("settings", detail)

    def check_credentials(self) -> None:
        import boto3

        credentials = boto3.session.Session().get_credentials()
        if credentials is None:
            self.report.fail(
                "credentials",
                "no AWS credentials found",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where an IAM role applies",
            )
        else:
            self.report.ok("credentials", f"found ({getattr(credentials, 'method', 'unknown source')})")

    def _failed(self, name: str, exc: BaseException, action: str) -> None:
        problem, fix = explain(exc, action, self.bucket, self.setup)
        self.report.fail(name, problem, fix)

    def check_bucket(self) -> bool:
        assert isinstance(self.storage, S3Storage)
        try:
            self.storage.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # botocore's errors, said with what to do
            self._failed("bucket", exc, "bucket")
            return False
        self.report.ok("bucket", f"s3://{self.bucket} is reachable with these credentials")
        return True

    def _config(self, name: str, reader: Callable[[Any, str], Any], permission: str) -> tuple[bool, Any]:
        """``(read, document)``: a document that cannot be read is reported as a failure here."""
        from botocore.exceptions import ClientError

        assert isinstance(self.storage, S3Storage)
        try:
            return True, reader(self.storage.client, self.bucket)
        except ClientError as exc:
            found = _client_error(exc)
            if found and found[1] == 403:
                self.report.fail(
                    name,
                    f"cannot read the bucket's {name} configuration ({found[0]})",
                    f"run check with credentials allowed {permission} (e.g. those that ran setup-bucket)",
                )
                return False, None
            self._failed(name, exc, f"reading the {name} configuration")
            return False, None
        except Exception as exc:  # unreachable, no credentials...
            self._failed(name, exc, f"reading the {name} configuration")
            return False, None

    def check_access(self) -> None:
        read_block, block = self._config("access", read_public_access_block, "s3:GetBucketPublicAccessBlock")
        if not read_block:
            return
        read_pol, policy = self._config("access", read_policy, "s3:GetBucketPolicy")
        if not read_pol:
            return
        arn = documents.bucket_arn(self.bucket)
        everyone_reads = documents.public_grants(policy, self.bucket, "s3:GetObject", f"{arn}/0/probe.jpg")
        everyone_lists = documents.public_grants(policy, self.bucket, "s3:ListBucket", arn)
        if self.responder.delivery == "website":
            problems = []
            if block and (block.get("BlockPublicPolicy") or block.get("RestrictPublicBuckets")):
                problems.append("Block Public Access blocks public bucket policies")
            if not everyone_reads:
                problems.append(f"the bucket policy does not let everyone read objects (s3:GetObject on {arn}/*)")
            if everyone_lists:
                problems.append("the bucket policy lets everyone list the bucket: ids are secret only while unlisted")
            if problems:
                self.report.fail("access", "; ".join(problems), self.setup)
            else:
                self.report.ok("access", "anyone may read objects, nobody may list them (website mode)")
            pending = f"{arn}/{PENDING_PREFIX}0/probe.jpg"
            if documents.denies_pending(policy, self.bucket):
                self.report.ok("pending uploads", "anonymous reads of uploads/* are denied")
            elif not documents.public_grants(policy, self.bucket, "s3:GetObject", pending):
                self.report.ok("pending uploads", "the bucket policy does not make uploads/* public")
            else:
                self.report.fail(
                    "pending uploads",
                    "anyone may read uploads/*: files nobody confirmed would be served",
                    self.setup,
                )
            return
        problems = []
        if not block or not all(block.get(k) for k in documents.public_access_block("private")):
            problems.append("Block Public Access is not fully on")
        if everyone_reads or everyone_lists:
            problems.append("the bucket policy makes objects public")
        if problems:
            self.report.fail("access", "; ".join(problems) + f" ({self.responder.delivery} mode)", self.setup)
        else:
            self.report.ok("access", f"Block Public Access is on: nothing is public ({self.responder.delivery} mode)")

    def check_website(self) -> None:
        read, website = self._config("website", read_website, "s3:GetBucketWebsite")
        if read:
            problem = documents.routing_problem(website, self.settings.prefix, self.app_url)
            if problem:
                self.report.fail("website", problem, self.setup)
            else:
                self.report.ok("website", f"404s redirect (302) to {documents.redirect_target(website)}")
        base = urlsplit(self.storage.base_url)
        host = base.hostname or ""
        if not self.settings.endpoint_url and host.endswith(".amazonaws.com") and "s3-website" not in host:
            region = self.storage.region if isinstance(self.storage, S3Storage) else None
            endpoint = documents.website_endpoint(self.bucket, region or "REGION")
            self.report.fail(
                "base_url",
                f"{self.storage.base_url} is the bucket's REST endpoint, which answers a missing resize with an "
                "error instead of sending it to the app",
                f"set {PREFIX}BASE_URL to http://{endpoint}/ or to your CDN's URL (https://media.example.com/)",
            )

    def check_cors(self) -> None:
        read, cors = self._config("CORS", read_cors, "s3:GetBucketCORS")
        if not read:
            return
        origins = list(self.settings.cors_origins)
        if self.app_url:
            origins.insert(0, documents.app_origin(self.app_url))
        problem = documents.cors_problem(cors, origins)
        if problem:
            self.report.fail("CORS", f"{problem}: browsers cannot upload straight to the bucket", self.setup)
            return
        allowed = sorted({o for r in (cors or {}).get("CORSRules", []) for o in r.get("AllowedOrigins", [])})
        self.report.ok("CORS", f"POST and PUT allowed from {', '.join(allowed)}; ETag exposed")

    def check_lifecycle(self) -> None:
        read, lifecycle = self._config("lifecycle", read_lifecycle, "s3:GetLifecycleConfiguration")
        if not read:
            return
        problem = documents.lifecycle_problem(lifecycle)
        if problem:
            self.report.fail("lifecycle", f"{problem}: abandoned uploads would be kept (and paid for)", self.setup)
        else:
            self.report.ok("lifecycle", "pending uploads expire, incomplete multipart uploads are aborted")

    def check_objects(self) -> None:
        storage = self.storage
        folder = f"s3media-check/{uuid.uuid4().hex}/"
        key = folder + "probe.txt"
        data = f"s3media check {key}".encode()
        step = "put"
        try:
            if not storage.put(key, data, "text/plain"):
                raise StorageError(f"{key} existed already")
            step = "get"
            if storage.get(key) != data:
                raise StorageError(f"{key} came back different")
            step = "delete"  # as Media.delete does: list the prefix, delete what it holds
            if storage.delete_prefix(folder) != 1 or storage.exists(key):
                raise StorageError(f"{key} is still there after its deletion")
        except MediaError as exc:
            self._failed("objects", exc, f"{step} of a probe object")
            return
        self.report.ok("objects", "a probe object was written, read back, listed and deleted")

    def check_resize(self) -> None:
        try:
            media_id = self.media.put(probe_image(), filename="s3media-check.png")
        except MediaError as exc:
            self._failed("resize", exc, "storing a probe image")
            return
        try:
            self._resize_round_trip(media_id)
        finally:
            try:
                self.media.delete(media_id)
            except MediaError as exc:
                self._failed("clean-up", exc, f"deleting the probe media {media_id}")

    def _resize_round_trip(self, media_id: str) -> None:
        key = self.media.resize_key(media_id, PROBE_RESIZE)
        url = self.media.resize_url(media_id, PROBE_RESIZE)
        delivery = self.delivery
        if delivery == "website":
            self._website_loop(url, key)
        answer = self.responder.respond("GET", self.settings.prefix + key, {})
        assert answer is not None  # under the prefix
        location = answer.header("Location") or ""
        # Files on this machine are served from disk, in every mode.
        expected = {"website": 301, "serve": 200, "private": 302, "local": 200}[delivery]
        if answer.status != expected:
            said = _body(answer)[:200].decode("utf-8", "replace").strip()
            self.report.fail(
                "resize",
                f"the app answered {answer.status} ({said}), not {expected}, to a signed resize URL",
                "run s3media check -v to see the library's log lines",
            )
            return
        if answer.status == 200:
            self._image("resize", _body(answer), f"the app made the resize and served it ({delivery} mode)")
            return
        if delivery == "website" and location != self.storage.url(key):
            self.report.fail("resize", f"the app redirected to {location}, not to {self.storage.url(key)}")
            return
        if not location.startswith(("http://", "https://")):
            self.report.ok("resize", f"the app made the resize and redirected to {location} (not fetched: relative)")
            return
        try:
            status, headers, body = http_get(location)
        except OSError as exc:
            self.report.fail(
                "resize",
                f"the app redirected to {location}, which cannot be fetched: {exc}",
                f"check {PREFIX}BASE_URL (and the CDN or website endpoint behind it)",
            )
            return
        if status != 200:
            self.report.fail(
                "resize",
                f"the app redirected to {location}, which answered {status}",
                "check the bucket policy (run check's access line) and "
                f"{PREFIX}BASE_URL" + (f"; {self.setup}" if delivery == "website" else ""),
            )
            return
        how = "a presigned URL" if delivery == "private" else "storage"
        self._image("resize", body, f"the app made the resize, redirected ({answer.status}) to {how}, which served it")

    def _image(self, name: str, data: bytes, detail: str) -> None:
        size = _image_size(data)
        wanted = tuple(int(n) for n in PROBE_RESIZE.split("x"))
        if size != wanted:
            self.report.fail(name, f"the resize is not a {PROBE_RESIZE} image (got {size or 'no image'})")
        else:
            self.report.ok(name, f"{detail}: a {PROBE_RESIZE} image")

    def _website_loop(self, url: str, key: str) -> None:
        """The cold half of the loop: the bucket's website sends a missing resize to the app."""
        if self.settings.endpoint_url:
            self.report.skip(
                "website loop",
                f"not probed: {PREFIX}ENDPOINT_URL is set, and S3-compatible services rarely serve website "
                "routing rules",
            )
            return
        if not url.startswith(("http://", "https://")):
            self.report.skip("website loop", f"not probed: {url} is not an absolute URL")
            return
        try:
            status, headers, _ = http_get(url)
        except OSError as exc:
            self.report.fail("website loop", f"GET {url} failed: {exc}", f"check {PREFIX}BASE_URL")
            return
        location = headers.get("location", "")
        wanted = f"{self.app_url}{self.settings.prefix}{key}" if self.app_url else f"{self.settings.prefix}{key}"
        if status in (302, 307) and location.endswith(wanted):
            self.report.ok(
                "website loop", f"a missing resize at {self.storage.base_url} redirects ({status}) to the app"
            )
        else:
            self.report.fail(
                "website loop",
                f"GET of a missing resize answered {status}{' to ' + location if location else ''}, "
                f"not a 302 to {wanted}",
                f"{PREFIX}BASE_URL must be the bucket's website endpoint or a CDN in front of it; {self.setup}",
            )


def cmd_check(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    loaded = load_settings(args, environ)
    media = build_media(loaded)
    try:
        responder = MediaResponder(
            media, prefix=loaded.settings.prefix, serve_local=loaded.settings.serve_local, delivery=loaded.delivery
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    report = Report(console)
    Checker(loaded, media, responder, report, _app_url(args.app_url)).run()
    report.summary()
    return FAILED if report.failed else OK


# --- put / url / delete / purge-resizes ---------------------------------------------------------------


class _Refused(Exception):
    """A path ``put`` refuses before handing its bytes to Media; the message says why."""


def _files(paths: Sequence[str]) -> Iterator[tuple[str, int, str | None]]:
    """``(path, size, problem)`` of every file under *paths*, folders walked in name order, hidden entries skipped.

    *problem* is None for a regular file, else why it cannot be stored: no
    such path, not a regular file (a device, a pipe, a socket: reading one
    could block or never end), or a folder that cannot be listed.  Inside a
    folder, entries that are not regular files (links to nowhere, pipes...)
    are passed over, as hidden ones are.
    """
    for given in paths:
        try:
            info = os.stat(given)
        except (FileNotFoundError, NotADirectoryError):
            yield given, 0, "no such file or folder"
            continue
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            yield given, 0, f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
            continue
        if stat.S_ISREG(info.st_mode):
            yield given, info.st_size, None
        elif stat.S_ISDIR(info.st_mode):
            failures: list[OSError] = []
            for folder, subfolders, names in os.walk(given, onerror=failures.append):
                subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
                for name in sorted(names):
                    full = str(Path(folder, name))
                    try:
                        entry = os.stat(full)
                    except OSError:  # a link to nowhere, or gone since it was listed
                        continue
                    if not name.startswith(".") and stat.S_ISREG(entry.st_mode):
                        yield full, entry.st_size, None
            for failure in failures:
                yield str(failure.filename or given), 0, f"cannot be read: {failure.strerror or failure}"
        else:
            yield given, 0, "not a regular file (a device, a pipe or a socket)"


def _read_file(path: str, limit: int) -> bytes:
    """At most *limit* + 1 bytes of the regular file *path*: enough to know it is over *limit*, never more.

    Opened without waiting (a pipe swapped in since it was listed is refused,
    not waited on); :class:`_Refused` when it is no longer a regular file or
    has grown over *limit*, :class:`OSError` when it cannot be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("not a regular file (a device, a pipe or a socket)")
        if info.st_size > limit:
            raise _Refused(f"File too large: the limit is {human_size(limit)}.")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def cmd_put(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    media = build_media(load_settings(args, environ), args.storage_budget)
    files = list(_files(args.paths))
    total = sum(size for _, size, _ in files)
    bar: Any = tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=console.out,
        disable=not console.tty,
        dynamic_ncols=True,
        desc="put",
    )
    stored = refused = 0
    limit = media.max_upload_bytes

    def say(text: str, stream: TextIO) -> None:
        # A file name need not be text: an undecodable byte arrives as a lone
        # surrogate, which no stream can write.  Shown escaped instead.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        text = text.encode(encoding, "backslashreplace").decode(encoding)
        if console.tty:
            tqdm.write(text, file=stream)
        else:
            print(text, file=stream, flush=True)

    try:
        for path, size, problem in files:
            try:
                if problem is not None:
                    raise _Refused(problem)
                if size > limit:  # judged by its size: not one byte read
                    raise _Refused(f"File too large: the limit is {human_size(limit)}.")
                try:
                    data = _read_file(path, limit)
                except OSError as exc:
                    raise _Refused(f"cannot be read: {exc.strerror or exc}") from None
                media_id = media.put(data, filename=os.path.basename(path))
            except (_Refused, MediaError) as exc:
                refused += 1
                say(f"{path}: refused: {exc}", console.err)
            else:
                stored += 1
                say(f"{path} {console.arrow} {media_id}", console.out)
            bar.update(size)
    finally:
        bar.close()
    console.note(f"{stored} stored, {refused} refused")
    return FAILED if refused else OK


def _check_ids(values: Sequence[str]) -> list[str]:
    found = []
    for value in values:
        if not ids.is_id(value):
            raise UsageError(f"not a media id: {value!r} (ids look like 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg)")
        found.append(value)
    return found


def cmd_url(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    options = {"mode": args.mode, "quality": args.quality, "format": args.format, "upscale": args.upscale or None}
    if args.size is None and any(v is not None for v in options.values()):
        raise UsageError("--mode, --format, --quality and --upscale describe a resize: give --size too")
    (media_id,) = _check_ids([args.id])
    media = build_media(load_settings(args, environ, need_secret=args.size is not None))
    try:
        url = media.resize_url(media_id, args.size, **options) if args.size else media.url(media_id)
    except MediaError as exc:  # a bad size, mode, format or quality: nothing was asked of storage
        raise UsageError(str(exc)) from None
    app_url = _app_url(args.app_url)
    if app_url and url.startswith("/"):
        url = app_url + url
    console.print(url)
    return OK


def cmd_delete(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    media_ids = _check_ids(args.ids)
    media = build_media(load_settings(args, environ), args.storage_budget)
    failed = 0
    for media_id in media_ids:
        try:
            count = media.delete(media_id)
        except MediaError as exc:
            failed += 1
            problem, fix = explain(exc, f"delete {media_id}", getattr(media.storage, "bucket", ""), "")
            console.note(f"{media_id}: failed: {problem}" + (f" (fix: {fix})" if fix else ""))
            continue
        console.print(f"{media_id}: {count} object{'s' if count != 1 else ''} deleted")
    return FAILED if failed else OK


def _keys_of(storage: object, media_id: str) -> list[str]:
    """Every stored key of *media_id* (original and resizes).

    The storage protocol can delete a prefix but not list one, so this lists
    it itself: with the S3 client of an :class:`~s3media_wsgi.S3Storage`, in
    the folder of a :class:`~s3media_wsgi.LocalStorage` (files being written,
    hidden until published, are left alone).
    """
    prefix = ids.key_prefix(media_id)
    if isinstance(storage, S3Storage):
        return storage.list_keys(prefix)
    if isinstance(storage, LocalStorage):
        folder = storage.root.joinpath(*media_id.split("/"))
        if not folder.is_dir():
            return []
        return sorted(prefix + p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    raise UsageError(f"purge-resizes works with S3 and local storage, not {type(storage).__name__}")


def _delete_keys(storage: object, keys: list[str]) -> None:
    if isinstance(storage, S3Storage):
        storage.delete_keys(keys)  # a thousand a request
    elif isinstance(storage, LocalStorage):
        for key in keys:
            storage.delete(key)


def cmd_purge_resizes(args: argparse.Namespace, console: Console, environ: Mapping[str, str]) -> int:
    media_ids = _check_ids(args.ids)
    media = build_media(load_settings(args, environ), args.storage_budget)
    storage = media.storage
    failed = 0
    for media_id in media_ids:
        original = ids.original_key(media_id)
        try:
            # One guarded request per id: its listing and deletes share --storage-budget.
            with media.guard.request(), media.guard.call():
                keys = _keys_of(storage, media_id)
                resizes = [k for k in keys if k != original]
                _delete_keys(storage, resizes)
        except (MediaError, Failed) as exc:
            failed += 1
            console.note(f"{media_id}: failed: {exc}")
            continue
        except Exception as exc:  # botocore's errors, said with what to do
            failed += 1
            problem, fix = explain(exc, f"purge {media_id}", getattr(storage, "bucket", ""), "")
            console.note(f"{media_id}: failed: {problem}" + (f" (fix: {fix})" if fix else ""))
            continue
        kept = "original kept" if original in keys else "no original stored"
        console.print(f"{media_id}: {len(resizes)} resize{'s' if len(resizes) != 1 else ''} deleted, {kept}")
    return FAILED if failed else OK


# --- the parser ---------------------------------------------------------------------------------------


#: Seconds of storage time the CLI gives one file (put) or one id (delete, purge-resizes).
CLI_STORAGE_BUDGET = 300.0


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def _budget_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--storage-budget",
        type=_seconds,
        default=CLI_STORAGE_BUDGET,
        metavar="SECONDS",
        help=f"storage time {what} may take, retries included, before it fails (default {CLI_STORAGE_BUDGET:g})",
    )


def _epilog(examples: str) -> str:
    return f"examples:\n{examples}\n\n{SETTINGS_HELP}\n\n{EXIT_CODES}"


def _setting_flags(parser: argparse.ArgumentParser, *, bucket: bool = True) -> None:
    group = parser.add_argument_group("settings (override the S3MEDIA_* environment variables)")
    if bucket:
        group.add_argument("--bucket", help="S3 bucket (S3MEDIA_BUCKET); implies S3MEDIA_STORAGE=s3")
    group.add_argument("--region", help="the bucket's AWS region (S3MEDIA_REGION)")
    group.add_argument("--endpoint-url", help="an S3-compatible endpoint (S3MEDIA_ENDPOINT_URL)")
    group.add_argument("--base-url", help="URL prefix of stored files (S3MEDIA_BASE_URL)")
    group.add_argument("--prefix", help="the middleware's URL prefix (S3MEDIA_PREFIX), default /media/")
    group.add_argument(
        "--delivery",
        choices=DELIVERIES,
        help="how resizes reach browsers (S3MEDIA_DELIVERY): website (public bucket, website routing rule), "
        "serve (private bucket, the app or a CDN serves images), private (302 to presigned URLs)",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="show the library's log lines")


def make_parser() -> argparse.ArgumentParser:
    """The ``s3media`` argument parser (every subcommand's ``--help`` shows examples)."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="s3media",
        description="Set up and check a bucket for s3media_wsgi, and manage media from a shell.",
        epilog=_epilog(
            "  s3media setup-bucket photos --app-url https://app.example.com --region eu-west-1\n"
            "  s3media check --bucket photos --app-url https://app.example.com\n"
            "  s3media put ./photos\n"
            "  s3media <command> --help"
        ),
        formatter_class=raw,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    setup = commands.add_parser(
        "setup-bucket",
        help="create a bucket if missing and configure it for a delivery mode (idempotent)",
        description=(
            "Create BUCKET if it is missing and apply, idempotently, what the delivery mode needs: Block Public\n"
            "Access, the bucket policy (website mode: public reads, no listing, pending uploads denied), website\n"
            "hosting with a routing rule sending 404s to the app (website mode; off otherwise), CORS for direct\n"
            "uploads, and a lifecycle rule cleaning up uploads/.  s3media's entries in the bucket policy, CORS and\n"
            "lifecycle rules are replaced and everyone else's are kept.  Then prints the app's least-privilege\n"
            "IAM policy.  --dry-run prints every document as one JSON object and applies nothing."
        ),
        epilog=_epilog(
            "  s3media setup-bucket photos --app-url https://app.example.com --region eu-west-1\n"
            "  s3media setup-bucket photos --app-url https://app.example.com --delivery private --dry-run"
        ),
        formatter_class=raw,
    )
    setup.add_argument("bucket", metavar="BUCKET", help="the bucket's name")
    setup.add_argument("--app-url", required=True, help="the app's public URL, where the bucket sends missing resizes")
    setup.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="URL",
        help="another origin whose pages upload to the bucket (repeatable; the app's origin and "
        "S3MEDIA_CORS_ORIGINS are always allowed)",
    )
    setup.add_argument("--dry-run", action="store_true", help="print the documents as JSON, apply nothing")
    _setting_flags(setup, bucket=False)
    setup.set_defaults(run=cmd_setup_bucket)

    cdn = commands.add_parser(
        "setup-cdn",
        help="print a CloudFront DistributionConfig for the bucket",
        description=(
            "Print a CloudFront DistributionConfig (JSON, on stdout) for `aws cloudfront create-distribution\n"
            "--distribution-config file://distribution.json`, and on stderr the steps around it.  website mode:\n"
            "the bucket's website endpoint as an HTTP origin, TTLs min 0 / default 0 / max one year (the routing\n"
            "rule's 302 is never cached, stored objects are for a year).  serve mode: an origin group, the bucket\n"
            "(origin access control) first, the app second, failing over on 403 and 404.  private mode has no\n"
            "distribution (presigned URLs address S3; CloudFront signing is out of scope): exit 2.\n"
            "s3media never calls CloudFront: with or without --dry-run, apply the document with the AWS CLI."
        ),
        epilog=_epilog(
            "  s3media setup-cdn photos --dry-run --region eu-west-1 --domain media.example.com "
            "> distribution.json\n"
            "  s3media setup-cdn photos --dry-run --delivery serve --app-url https://app.example.com"
        ),
        formatter_class=raw,
    )
    cdn.add_argument("bucket", metavar="BUCKET", help="the bucket's name")
    cdn.add_argument("--dry-run", action="store_true", help="print the document (s3media never applies it)")
    cdn.add_argument("--domain", help="your media domain (an alias of the distribution), e.g. media.example.com")
    cdn.add_argument("--certificate-arn", help="ARN of the ACM certificate (us-east-1) for --domain")
    cdn.add_argument("--app-url", help="the app's public URL (serve mode: the failover origin)")
    cdn.add_argument("--oac-id", help="Id of the origin access control CloudFront signs with (serve mode)")
    _setting_flags(cdn, bucket=False)
    cdn.set_defaults(run=cmd_setup_cdn)

    check = commands.add_parser(
        "check",
        help="check a deployment: credentials, bucket, its configuration, a resize round trip",
        description=(
            "Check what the app needs, one line each: credentials, the bucket, public access for the mode, the\n"
            "website routing rule (website mode), CORS, the lifecycle rule, a probe object's round trip, and a\n"
            "resize round trip in the mode (a probe image stored, its resize asked of the app's responder\n"
            "in-process and followed as browsers would, then deleted).  Each failure says how to fix it.\n"
            "On a terminal results are ✔/✘ (NO_COLOR or a pipe: [ok]/[FAIL]/[skip])."
        ),
        epilog=_epilog(
            "  S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=photos S3MEDIA_REGION=eu-west-1 s3media check\n"
            "  s3media check --bucket photos --delivery private --app-url https://app.example.com"
        ),
        formatter_class=raw,
    )
    check.add_argument("--app-url", help="the app's public URL: checked against the routing rule and CORS")
    _setting_flags(check)
    check.set_defaults(run=cmd_check)

    put = commands.add_parser(
        "put",
        help="store files (folders recursively) and print their ids",
        description=(
            "Store each file (folders recursively, hidden entries skipped) with Media.put and print\n"
            "`path → id`; refusals go to stderr with the reason.  A progress bar over bytes shows when\n"
            "stdout is a terminal."
        ),
        epilog=_epilog("  s3media put ./photos cat.jpg\n  s3media put --bucket photos ./photos > ids.txt"),
        formatter_class=raw,
    )
    put.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder")
    _budget_flag(put, "each file")
    _setting_flags(put)
    put.set_defaults(run=cmd_put)

    url = commands.add_parser(
        "url",
        help="print the URL of an original, or of a resize",
        description="Print the URL of media ID, or with --size the signed URL of a resize (needs S3MEDIA_SECRET_KEY).",
        epilog=_epilog(
            "  s3media url 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg\n"
            "  s3media url 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg --size 400x300 --mode fit "
            "--format webp --quality 80"
        ),
        formatter_class=raw,
    )
    url.add_argument("id", metavar="ID", help="a media id, as put printed it")
    url.add_argument("--size", help="400x300, 400x, x300 or a preset name")
    url.add_argument("--mode", choices=("fit", "fill"), help="fit (inside the box) or fill (cover it, cropped)")
    url.add_argument("--format", help="jpg, png, webp, avif or gif (default: the original's)")
    url.add_argument("--quality", type=int, help="1-95 (default 85)")
    url.add_argument("--upscale", action="store_true", help="let a small image grow")
    url.add_argument("--app-url", help="make a relative URL (answered by the app) absolute")
    _setting_flags(url)
    url.set_defaults(run=cmd_url)

    delete = commands.add_parser(
        "delete",
        help="delete media: the original and every resize",
        description="Delete each ID's original and every resize of it.  An id with nothing stored is not an error.",
        epilog=_epilog("  s3media delete 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"),
        formatter_class=raw,
    )
    delete.add_argument("ids", nargs="+", metavar="ID", help="a media id")
    _budget_flag(delete, "each id")
    _setting_flags(delete)
    delete.set_defaults(run=cmd_delete)

    purge = commands.add_parser(
        "purge-resizes",
        help="delete every resize of the ids, keep the originals",
        description=(
            "Delete every resize of each ID and keep its original: the next request of a resize makes it again\n"
            "(after changing the engine or its settings, say).  CDN copies stay until they expire or are\n"
            "invalidated."
        ),
        epilog=_epilog("  s3media purge-resizes 3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"),
        formatter_class=raw,
    )
    purge.add_argument("ids", nargs="+", metavar="ID", help="a media id")
    _budget_flag(purge, "each id")
    _setting_flags(purge)
    purge.set_defaults(run=cmd_purge_resizes)
    return parser


def _logging(verbose: bool) -> None:
    logger = logging.getLogger("s3media_wsgi")
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    elif not logger.handlers:
        # The command says what went wrong itself; without this, Python's last-resort
        # handler would print the library's warnings a second time.
        logger.addHandler(logging.NullHandler())


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``s3media`` with *argv* (default: the command line); return its exit code.

    *environ* gives the ``S3MEDIA_*`` settings (default ``os.environ``).
    Never raises :class:`SystemExit`: ``--help`` and usage errors return their code.
    """
    environ = os.environ if environ is None else environ
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else USAGE
    console = Console(out, err, environ)
    _logging(args.verbose)
    try:
        code: int = args.run(args, console, environ)
        return code
    except UsageError as exc:
        print(f"s3media {args.command}: error: {exc}", file=err, flush=True)
        return USAGE
    except Failed as exc:
        print(f"s3media {args.command}: {exc}", file=err, flush=True)
        return FAILED
    except KeyboardInterrupt:
        print("s3media: interrupted", file=err, flush=True)
        return INTERRUPTED


__all__ = ["EXIT_CODES", "FAILED", "OK", "USAGE", "Console", "load_settings", "main", "make_parser"]
