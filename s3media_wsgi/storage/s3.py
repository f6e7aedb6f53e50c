"""Storage in an S3 bucket (or anything speaking the S3 API), for production.

    >>> S3Storage("my-media", region="eu-west-1", base_url="https://media.example.com/")
    S3Storage('my-media', region='eu-west-1', base_url='https://media.example.com/')
    >>> storage.put("module/b.jpg", data, "image/jpeg"), storage.put("module/b.jpg", b"other", "image/jpeg")
    (True, False)

(In these examples ``storage`` is an S3Storage on a test S3 server.)

Writes are conditional (``If-None-Match: *``): the first writer of a key wins
and every later one gets False, so nothing is ever overwritten, even by
another process or host.  Every object is sent with :data:`IMMUTABLE_CACHE_CONTROL`
because a key never changes content; a private bucket's with
:data:`PRIVATE_IMMUTABLE_CACHE_CONTROL`, so no shared cache keeps them.
"""

from __future__ import annotations

import enum
import functools
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from ..errors import AlreadyExists, ConfigError, NotFound, StorageError, StorageUnavailable
from ..limits import positive_int, positive_number
from ..resilience import DEFAULT_CALL_THREADS, CallPool, check_budget, check_cancelled, current_job
from ..urls import check_base_url
from .base import (
    IMMUTABLE_CACHE_CONTROL,
    PRIVATE_IMMUTABLE_CACHE_CONTROL,
    ListedObject,
    ObjectInfo,
    PostTarget,
    keeps_private,
)
from .keys import validate_key, validate_prefix
from .presign import Credentials, GetSigner
from .s3_errors import CREDENTIALS_ADVICE, classify, denied_advice, error_fields

#: S3 deletes at most this many keys per DeleteObjects request.
DELETE_BATCH = 1000

#: Client defaults for a request path: a browser is waiting.  botocore's own
#: (60 s reads, several attempts) let one cold resize against an S3 that stopped
#: answering hold a server thread for minutes.  With these, one call gives up
#: after at most 3 x (2 + 5) s plus backoff, and the media request's storage
#: budget (:mod:`s3media_wsgi.resilience`) stops it sooner.
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 5.0
DEFAULT_MAX_ATTEMPTS = 3
#: Least life of a private bucket's presigned URLs, in seconds.
DEFAULT_URL_EXPIRES = 3600
#: Largest object one CopyObject copies (S3's limit); larger ones use a multipart copy.
COPY_LIMIT = 5 * 1024**3
#: Bytes read per chunk of a GET body; the storage budget is checked between chunks.
READ_CHUNK = 256 * 1024

T = TypeVar("T")

CANNED_ACLS = frozenset(
    {
        "private",
        "public-read",
        "public-read-write",
        "authenticated-read",
        "aws-exec-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    }
)

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-[0-9]+|[a-z0-9-]{1,40}")
_ENDPOINT_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")

# Which S3 error is which kind of failure, and what a 403 must say: storage/s3_errors.py.


class _Default(enum.Enum):
    """The type of :data:`DEFAULT`."""

    CACHE_CONTROL = "default"


#: ``cache_control`` left at its default: public or private immutable, as the bucket is.
DEFAULT: Final = _Default.CACHE_CONTROL


def _check_bucket(bucket: object) -> str:
    """Return *bucket* if it follows S3's naming rules, else raise ConfigError."""
    if (
        not isinstance(bucket, str)
        or not _BUCKET_RE.match(bucket)
        or ".." in bucket
        or ".-" in bucket
        or "-." in bucket
        or _IP_RE.match(bucket)
    ):
        raise ConfigError(
            f"S3 bucket name {bucket!r} is invalid: use 3-63 characters of lower-case letters, "
            "digits, '-' and '.', starting and ending with a letter or digit"
        )
    return bucket


class S3Storage:
    """Objects in the S3 bucket *bucket*; ``base_url + key`` is where they are served.

    :param bucket: bucket name.
    :param region: AWS region; also used by the default *base_url*.  When None,
        boto3's usual lookup (``AWS_DEFAULT_REGION``, config file) applies.
    :param base_url: URL prefix ending in ``/``.  Default
        ``https://<bucket>.s3.<region>.amazonaws.com/``, the REST endpoint
        (with *endpoint_url*: ``<endpoint_url>/<bucket>/``, path style),
        which answers a missing resize with 403/404 XML.  For on-demand
        resizing, use the bucket's *website* endpoint (whose 404 redirect rule
        sends the browser to your app) or a CDN in front of it.
    :param endpoint_url: for S3-compatible services (MinIO, moto, R2...).
    :param client: a ready boto3 S3 client (then the settings below that
        configure a client are not used).
    :param acl: canned ACL sent with each object, e.g. ``"public-read"``; by
        default none is sent (buckets with ACLs disabled refuse any).
    :param connect_timeout: seconds to open a connection (default 2).
    :param read_timeout: seconds to wait for bytes from S3 (default 5).
    :param max_attempts: tries per request, first included (default 3; botocore
        "standard" retries: backoff on throttling, 5xx and dropped connections).
        Every attempt first checks the media request's storage budget, so
        retries stop when the budget is used up.
    :param call_threads: threads that run this storage's calls under a
        media request's budget (default 8).  The caller waits for a call at
        most the budget left, whatever S3 does (one byte every two seconds
        never trips a read timeout), then gets a 503 at once while the call
        is cancelled (its socket shut down).  Should cancels not end them,
        at most this many threads wait on S3: with all taken, the next call
        is refused at once (503), never queued.  See
        :class:`~s3media_wsgi.resilience.CallPool`.
    :param cache_control: ``Cache-Control`` stored with each object (and
        bound into direct uploads); None for none.  By default
        :data:`IMMUTABLE_CACHE_CONTROL`, or :data:`PRIVATE_IMMUTABLE_CACHE_CONTROL`
        for a private bucket, whose own value must say ``private`` (or
        ``no-store``): anything else would let a shared cache keep private media.
    :param private: the bucket is private: :meth:`url` gives presigned GET
        URLs (signed locally, the same within a time window), and resizes are
        served through the app (see the ``private`` delivery mode).
    :param url_expires: least life of a presigned URL, in seconds (default
        3600, at most 7 days less the window).

    One client is made per storage and shared by every thread (boto3 clients
    are thread-safe; sessions are not, so one is made here, not per request).

    >>> S3Storage("my-media", region="eu-west-1").url("a/b.jpg")
    'https://my-media.s3.eu-west-1.amazonaws.com/a/b.jpg'
    """

    bucket: str
    region: str | None
    base_url: str
    acl: str | None
    cache_control: str | None
    #: Objects are not files on this machine: nothing is served from disk.
    local_files = False

    def __init__(
        self,
        bucket: str,
        region: str | None = None,
        base_url: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
        *,
        acl: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        cache_control: str | None | Literal[_Default.CACHE_CONTROL] = DEFAULT,
        private: bool = False,
        url_expires: int = DEFAULT_URL_EXPIRES,
        call_threads: int = DEFAULT_CALL_THREADS,
    ) -> None:
        self.bucket = _check_bucket(bucket)
        if region is not None and (not isinstance(region, str) or not _REGION_RE.fullmatch(region)):
            raise ConfigError(f"S3Storage region must look like 'eu-west-1', got {region!r}")
        if endpoint_url is not None and (not isinstance(endpoint_url, str) or not _ENDPOINT_RE.fullmatch(endpoint_url)):
            raise ConfigError(
                f"S3Storage endpoint_url must be an http(s) URL such as 'http://127.0.0.1:9000', got {endpoint_url!r}"
            )
        if acl is not None and acl not in CANNED_ACLS:
            raise ConfigError(f"S3Storage acl={acl!r} is not a canned ACL; use one of {sorted(CANNED_ACLS)} or None")
        positive_int(max_attempts, "S3Storage max_attempts")
        positive_number(connect_timeout, "S3Storage connect_timeout")
        positive_number(read_timeout, "S3Storage read_timeout")
        if cache_control is DEFAULT:
            cache_control = PRIVATE_IMMUTABLE_CACHE_CONTROL if private else IMMUTABLE_CACHE_CONTROL
        elif cache_control is not None and (
            not isinstance(cache_control, str) or not cache_control.strip() or not cache_control.isprintable()
        ):
            raise ConfigError(f"S3Storage cache_control must be a non-empty str or None, got {cache_control!r}")
        elif private and cache_control is not None and not keeps_private(cache_control):
            raise ConfigError(
                f"a private bucket's cache_control must say 'private' (or 'no-store'), got {cache_control!r}: "
                "anything else lets a shared cache (a proxy, a CDN) keep private media; leave it unset for "
                f"{PRIVATE_IMMUTABLE_CACHE_CONTROL!r}"
            )
        self.acl = acl
        self.cache_control = cache_control
        self._calls = CallPool(call_threads, "s3media-s3")
        self._session: Any = None
        if client is None:
            client = self._make_client(region, endpoint_url, connect_timeout, read_timeout, max_attempts)
        self.client = client
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is not None:
            # Before every attempt, retries included: an exception raised here
            # is not retried by botocore, it ends the call at once.
            events.register("before-send.s3", _check_budget_before_send, unique_id="s3media_wsgi.budget")
        _cancellable_connections(client)
        self.region = region or getattr(getattr(client, "meta", None), "region_name", None)
        if base_url is None:
            if endpoint_url:
                # An S3-compatible service (MinIO, moto, R2...): its own host,
                # path style, never an amazonaws.com name it does not answer.
                base_url = f"{endpoint_url.rstrip('/')}/{self.bucket}/"
            elif not self.region:
                raise ConfigError("S3Storage needs region= (or base_url=) to build public URLs")
            else:
                base_url = f"https://{self.bucket}.s3.{self.region}.amazonaws.com/"
        self.private = bool(private)
        self.signer: GetSigner | None = None
        if self.private:
            if acl is not None and acl.startswith("public"):
                raise ConfigError(f"S3Storage private=True cannot send acl={acl!r}")
            if not self.region:
                raise ConfigError("S3Storage private=True needs region= to sign URLs")
            # Presigned URLs address S3 itself, whatever base_url says (a CDN
            # in front of a private bucket needs its own signing).
            rest = (
                f"{endpoint_url.rstrip('/')}/{self.bucket}/"
                if endpoint_url
                else f"https://{self.bucket}.s3.{self.region}.amazonaws.com/"
            )
            self.signer = GetSigner(rest, self.region, self._credentials, url_expires)
            base_url = rest
        self.base_url = check_base_url(base_url, "S3Storage base_url")

    def _make_client(
        self,
        region: str | None,
        endpoint_url: str | None,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
    ) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            signature_version="s3v4",
            # total_max_attempts counts the first try; botocore's "max_attempts"
            # key would count retries only, making max_attempts=1 mean two tries.
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            region_name=region,
        )
        # A private session: boto3's default session is not safe to share.
        self._session = boto3.session.Session()
        return self._session.client("s3", endpoint_url=endpoint_url, config=config)

    def _credentials(self) -> Credentials:
        """The current credentials (refreshed when temporary), for signing URLs locally."""
        source = self._session.get_credentials() if self._session is not None else None
        if source is None:  # a client given ready: its signer holds them
            source = getattr(getattr(self.client, "_request_signer", None), "_credentials", None)
        if source is None:
            raise StorageError("S3 has no credentials to sign URLs with: give the app AWS credentials")
        frozen = source.get_frozen_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, region={self.region!r}, base_url={self.base_url!r})"

    # --- errors --------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        """Turn botocore failures during *action* on *key* into s3media_wsgi errors.

        404 -> NotFound, precondition failures -> AlreadyExists; unreachable,
        timeouts, 5xx and throttling -> StorageUnavailable (503, retry);
        anything else (access denied, missing bucket, bad credentials) ->
        StorageError (500), whose message names the setting to fix.  Nothing
        is logged here: the caller's boundary logs each failure once.
        """
        from botocore import exceptions as bx

        where = f"s3://{self.bucket}/{key}"
        try:
            yield
        except bx.ClientError as exc:
            code, status, message = error_fields(exc.response)
            detail = f"S3 {action} {where}: {code or 'error'} (HTTP {status}) {message}".rstrip()
            kind = classify(code, status)
            if kind == "no_bucket":
                raise StorageError(f"{detail}; check the bucket setting ({self.bucket!r})") from exc
            if kind == "not_found":
                raise NotFound(detail) from exc
            if kind == "conflict":
                raise AlreadyExists(detail) from exc
            if kind == "unavailable":
                raise StorageUnavailable(detail) from exc
            if kind == "credentials":
                raise StorageError(f"{detail}; {CREDENTIALS_ADVICE}") from exc
            if kind == "denied":
                raise StorageError(f"{detail}; {denied_advice(self.bucket)}") from exc
            raise StorageError(detail) from exc
        except (
            bx.ConnectionError,
            bx.ReadTimeoutError,
            bx.ConnectionClosedError,
            bx.ResponseStreamingError,
            bx.IncompleteReadError,
        ) as exc:
            # ConnectionError covers EndpointConnectionError, ConnectTimeoutError
            # and proxy failures: the network, not the request.
            raise StorageUnavailable(f"S3 {action} {where}: unreachable: {exc}") from exc
        except bx.HTTPClientError as exc:
            # Anything else the HTTP client raised (an invalid header value, a
            # timeout it cannot represent) is a setting, not an outage.
            raise StorageError(
                f"S3 {action} {where}: the request could not be sent: {exc}; check the settings"
            ) from exc
        except bx.NoCredentialsError as exc:
            raise StorageError(
                f"S3 {action} {where}: {exc}; give the app AWS credentials (an IAM role, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            ) from exc
        except bx.BotoCoreError as exc:  # bad parameters, a broken config file...
            raise StorageError(f"S3 {action} {where}: {exc}") from exc

    def _call(self, action: str, key: str, fn: Callable[[], T]) -> T:
        """``fn()`` (botocore calls, bodies read), bounded in wall-clock time by the budget; errors translated."""
        with self._errors(action, key):
            return self._calls.run(fn, f"S3 {action} s3://{self.bucket}/{key}")

    # --- the protocol --------------------------------------------------------

    def url(self, key: str, *, download_name: str | None = None) -> str:
        """``base_url + key``, after checking *key* (no I/O); for a private bucket, a presigned GET.

        A presigned URL is the same string for every call within a time
        window (see :class:`~s3media_wsgi.storage.presign.GetSigner`), valid at
        least ``url_expires`` seconds; *download_name* makes the browser save
        it under that (sanitised) name.

        >>> storage.url("a/b.jpg")
        'https://media.example.com/a/b.jpg'
        """
        key = validate_key(key)
        if self.signer is not None:
            return self.signer.url(key, download_name=download_name)
        if download_name is not None:
            raise ConfigError(
                "download_name needs a private bucket (S3Storage(private=True)): public URLs are not signed"
            )
        return self.base_url + key

    def url_life(self) -> int:
        """Seconds a URL :meth:`url` gives now stays valid: a private bucket's presigned GET; 0 for a public one."""
        return self.signer.remaining() if self.signer is not None else 0

    def local_path(self, key: str) -> Path | None:
        """Always None: objects are not on this machine."""
        return None

    def get(self, key: str) -> bytes:
        """The bytes of *key* (one GET); :class:`NotFound` when absent.

        >>> storage.put("get/b.jpg", data, "image/jpeg") and storage.get("get/b.jpg")[:2]
        b'\\xff\\xd8'
        """
        key = validate_key(key)
        action = f"S3 get s3://{self.bucket}/{key}"

        def get() -> bytes:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            chunks = []
            # Not "with Body as ...": that yields the raw urllib3 stream,
            # which skips botocore's length check (a cut body must fail).
            body = response["Body"]
            try:
                for chunk in body.iter_chunks(READ_CHUNK):
                    check_cancelled(action)
                    check_budget(action)
                    chunks.append(chunk)
            finally:
                body.close()
            return b"".join(chunks)

        return self._call("get", key, get)

    def exists(self, key: str) -> bool:
        """True when *key* is stored (one HEAD).

        >>> before = storage.exists("exists/b.jpg")
        >>> before, storage.put("exists/b.jpg", data, "image/jpeg"), storage.exists("exists/b.jpg")
        (False, True, True)
        """
        key = validate_key(key)
        try:
            self._call("exists", key, lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except NotFound:
            return False
        return True

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        """Store *data* at *key* unless it exists (one conditional PUT); True when written.

        >>> storage.put("put/b.jpg", data, "image/jpeg")
        True
        """
        key = validate_key(key)
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": memoryview(data).tobytes() if not isinstance(data, bytes) else data,
            "ContentType": content_type,
            # The write fails with 412 when the key exists: first writer wins.
            "IfNoneMatch": "*",
        }
        if self.cache_control:
            params["CacheControl"] = self.cache_control
        if self.acl:
            params["ACL"] = self.acl
        try:
            self._call("put", key, lambda: self.client.put_object(**params))
        except AlreadyExists:
            # 412: someone wrote it first.  409: a write of it is in flight;
            # keys never change content, so that one is as good as ours.
            return False
        return True

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under *prefix* (ending in ``/``); return how many.

        >>> [storage.put(f"gone/{n}.jpg", data, "image/jpeg") for n in range(3)]
        [True, True, True]
        >>> storage.delete_prefix("gone/")
        3
        """
        prefix = validate_prefix(prefix)
        return self.delete_keys(self.list_keys(prefix))

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under *prefix* (ending in ``/``), one LIST a thousand keys."""
        prefix = validate_prefix(prefix)

        def listing() -> list[str]:
            keys: list[str] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", ()))
            return keys

        return self._call("list", prefix, listing)

    def list_objects(self, prefix: str = "") -> list[ListedObject]:
        """Every object under *prefix* (``""``: the whole bucket) with its size and time; one LIST a thousand."""
        prefix = "" if prefix == "" else validate_prefix(prefix)

        def listing() -> list[ListedObject]:
            found: list[ListedObject] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(
                    ListedObject(item["Key"], int(item.get("Size", 0)), item["LastModified"].timestamp())
                    for item in page.get("Contents", ())
                )
            return found

        return self._call("list", prefix or "/", listing)

    def delete_keys(self, keys: list[str]) -> int:
        """Delete *keys* (absent ones are fine), a thousand a request; return how many."""
        keys = [validate_key(key) for key in keys]
        count = 0
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            count += self._call("delete", batch[0], functools.partial(self._delete_batch, batch))
        return count

    # --- objects one by one, and direct uploads (UploadStorage) -----------------

    def head(self, key: str) -> ObjectInfo:
        """Size and ``Content-Type`` of *key* (one HEAD); :class:`NotFound` when absent."""
        key = validate_key(key)
        response = self._call("head", key, lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        return ObjectInfo(int(response.get("ContentLength", 0)), response.get("ContentType"))

    def read(self, key: str, length: int) -> bytes:
        """The first *length* bytes of *key* (one ranged GET)."""
        key = validate_key(key)

        def read() -> bytes:
            response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max(0, length - 1)}")
            body = response["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
            return data

        return self._call("get", key, read)[:length]

    def copy(self, source: str, key: str) -> bool:
        """Copy *source* to *key* inside the bucket unless *key* exists; True when copied.

        Server-side: the bytes never pass through the app.  Up to 5 GB a
        single CopyObject, above that boto3's managed multipart copy.
        """
        source, key = validate_key(source), validate_key(key)
        if self.exists(key):
            return False
        info = self.head(source)
        extra: dict[str, Any] = {"MetadataDirective": "COPY"}
        if self.acl:
            extra["ACL"] = self.acl

        def copy() -> None:
            if info.size <= COPY_LIMIT:
                self.client.copy_object(
                    Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source}, **extra
                )
            else:  # pragma: no cover - needs an object over 5 GB
                self.client.copy({"Bucket": self.bucket, "Key": source}, self.bucket, key, ExtraArgs=extra)

        self._call("copy", key, copy)
        return True

    def delete(self, key: str) -> None:
        """Delete *key* (one DELETE; absent keys are fine)."""
        key = validate_key(key)
        self._call("delete", key, lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    def presign_post(
        self, key: str, *, content_type: str, min_bytes: int, max_bytes: int, expires_in: int
    ) -> PostTarget:
        """A presigned POST (SigV4 policy, signed here: no request) bound to *key* and its conditions.

        The policy binds the exact key, ``Content-Type``, ``Cache-Control``
        (that of stored objects), the ACL when one is configured, and the
        size range; S3 refuses any form that differs.
        """
        key = validate_key(key)
        fields: dict[str, str] = {"Content-Type": content_type}
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", min_bytes, max_bytes],
        ]
        if self.cache_control:
            fields["Cache-Control"] = self.cache_control
            conditions.append({"Cache-Control": self.cache_control})
        if self.acl:
            fields["acl"] = self.acl
            conditions.append({"acl": self.acl})
        with self._errors("presign", key):
            post = self.client.generate_presigned_post(
                self.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
            )
        return PostTarget(post["url"], dict(post["fields"]))

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        """Start a multipart upload of *key* (one request); its upload id."""
        key = validate_key(key)
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "ContentType": content_type}
        if self.cache_control:
            params["CacheControl"] = self.cache_control
        if self.acl:
            params["ACL"] = self.acl
        response = self._call("create multipart upload", key, lambda: self.client.create_multipart_upload(**params))
        return str(response["UploadId"])

    def presign_upload_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int, *, size: int | None = None
    ) -> str:
        """A presigned PUT URL for one part (signed here: no request).

        With *size*, ``Content-Length`` is among the signed headers
        (``X-Amz-SignedHeaders=content-length;host``): S3 refuses a part of
        any other length.
        """
        key = validate_key(key)
        params: dict[str, object] = {
            "Bucket": self.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
        }
        if size is not None:
            params["ContentLength"] = size
        with self._errors("presign part", key):
            url: str = self.client.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_in)
        return url

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, object]]:
        """The parts uploaded so far (every page)."""
        key = validate_key(key)

        def listing() -> list[dict[str, object]]:
            parts: list[dict[str, object]] = []
            paginator = self.client.get_paginator("list_parts")
            for page in paginator.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
                for part in page.get("Parts", ()):
                    parts.append({"PartNumber": part["PartNumber"], "ETag": part["ETag"], "Size": part["Size"]})
            return parts

        return self._call("list parts", key, listing)

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[dict[str, object]]) -> str:
        """Assemble *parts* into *key*; its URL."""
        key = validate_key(key)
        self._call(
            "complete multipart upload",
            key,
            lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
            ),
        )
        return self.url(key)

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts."""
        key = validate_key(key)
        self._call(
            "abort multipart upload",
            key,
            lambda: self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id),
        )

    def _delete_batch(self, keys: list[str]) -> int:
        response = self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )
        errors = response.get("Errors") or []
        if errors:
            first = errors[0]
            raise StorageError(
                f"S3 delete s3://{self.bucket}/: {len(errors)} of {len(keys)} keys not deleted, "
                f"first {first.get('Key')!r}: {first.get('Code')} {first.get('Message', '')}".rstrip()
            )
        return len(keys)


def _check_budget_before_send(request: Any = None, **kwargs: Any) -> None:
    action = f"S3 {getattr(request, 'method', 'request')} {getattr(request, 'url', '')}".rstrip()
    check_cancelled(action)
    check_budget(action)


def _shut_down(connection: Any) -> None:
    """Wake a thread blocked on *connection*'s socket: shutdown(), unlike close(), ends a recv() at once."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


class _Cancellable:
    """Mixed into botocore's connection classes: each request registers with the job sending it."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        job = current_job()
        if job is not None:
            job.on_cancel(lambda: _shut_down(self))
        return super().request(*args, **kwargs)  # type: ignore[misc]


def _cancellable_connections(client: Any) -> None:
    """Make *client*'s HTTP connections register with the :class:`~s3media_wsgi.resilience.Job` sending on them.

    A cancelled job then shuts its connection's socket down, so a call stuck
    in a recv() (S3 dripping its answer) ends at once and its pool thread is
    free again; the broken connection is discarded, not reused.  Done on this
    client's own connection pools (botocore's ``_pool_classes_by_scheme``,
    shared by its proxy pools); a client built otherwise keeps its classes,
    and a cancelled call then ends at its next read timeout.
    """
    try:
        from botocore.awsrequest import (
            AWSHTTPConnection,
            AWSHTTPConnectionPool,
            AWSHTTPSConnection,
            AWSHTTPSConnectionPool,
        )

        classes = client._endpoint.http_session._pool_classes_by_scheme
    except (ImportError, AttributeError):  # pragma: no cover - another botocore
        return
    if not isinstance(classes, dict):  # pragma: no cover - another botocore
        return

    class HTTPConnection(_Cancellable, AWSHTTPConnection):  # type: ignore[misc]
        pass

    class HTTPSConnection(_Cancellable, AWSHTTPSConnection):  # type: ignore[misc]
        pass

    class HTTPConnectionPool(AWSHTTPConnectionPool):  # type: ignore[misc]
        ConnectionCls = HTTPConnection

    class HTTPSConnectionPool(AWSHTTPSConnectionPool):  # type: ignore[misc]
        ConnectionCls = HTTPSConnection

    classes["http"] = HTTPConnectionPool
    classes["https"] = HTTPSConnectionPool


__all__ = [
    "CANNED_ACLS",
    "DEFAULT",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_READ_TIMEOUT",
    "DELETE_BATCH",
    "S3Storage",
]
