"""``s3media check``: a deployment checked one line at a time, down to a resize round trip."""

from __future__ import annotations

import argparse
import http.client
import io
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from .. import bucket as documents
from ..errors import ConfigError, MediaError, StorageError
from ..ids import INTERNAL_MARK
from ..media import Media
from ..responder import MediaResponder
from ..response import MediaResponse
from ..storage.s3 import S3Storage
from ..uploads import PENDING_PREFIX
from .advice import _client_error, explain, setup_command
from .config import PREFIX, Loaded, _app_url, build_media, load_settings
from .output import FAILED, OK, Console, Report, UsageError
from .setup import read_cors, read_lifecycle, read_policy, read_public_access_block, read_website

#: Largest body read from an HTTP answer during ``check``.
MAX_PROBE_BODY = 8 * 1024 * 1024
#: Seconds one HTTP request of ``check`` may take.
PROBE_TIMEOUT = 15.0
#: The probe image's size, and the resize ``check`` asks for.
PROBE_SIZE = (64, 48)
PROBE_RESIZE = "32x24"


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
            rung = f"{arn}/0/{INTERNAL_MARK}ladder.json"
            if documents.denies_internal(policy, self.bucket):
                self.report.ok("source ladder", "anonymous reads of <id>/_* are denied")
            elif not documents.public_grants(policy, self.bucket, "s3:GetObject", rung):
                self.report.ok("source ladder", "the bucket policy does not make <id>/_* public")
            else:
                self.report.fail(
                    "source ladder",
                    "anyone may read <id>/_*: the source ladder's rungs would be served (a bucket set up before it)",
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
