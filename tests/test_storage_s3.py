"""S3Storage specifics, against moto's S3 server over real HTTP."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from images import jpeg

from s3media_wsgi.errors import ConfigError, NotFound, StorageError, StorageUnavailable
from s3media_wsgi.resilience import StorageGuard
from s3media_wsgi.storage import IMMUTABLE_CACHE_CONTROL, S3Storage

OWNER_ONLY = "FULL_CONTROL"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def make_storage(moto_endpoint: str, bucket: str, **kwargs: Any) -> S3Storage:
    """An S3Storage with its own client, built the way production builds it."""
    return S3Storage(bucket, region="us-east-1", endpoint_url=moto_endpoint, **kwargs)


class RequestCounter:
    """Counts HTTP requests a client sends, by operation name."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-send.s3.*", self)

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> None:
        self.names.append(event_name.rsplit(".", 1)[-1])

    def reset(self) -> None:
        self.names.clear()


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A local port bound but not listening: connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


# --- construction --------------------------------------------------------------


def test_default_base_url_is_the_regional_rest_endpoint() -> None:
    storage = S3Storage("my-media", region="eu-west-1")
    assert storage.base_url == "https://my-media.s3.eu-west-1.amazonaws.com/"
    assert storage.url("a/b.jpg") == "https://my-media.s3.eu-west-1.amazonaws.com/a/b.jpg"
    assert storage.local_path("a/b.jpg") is None


def test_client_is_configured_for_standard_retries_and_timeouts() -> None:
    storage = S3Storage("my-media", region="eu-west-1", connect_timeout=2, read_timeout=7, max_attempts=3)
    config = storage.client.meta.config
    assert config.signature_version == "s3v4"
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert storage.client.meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    "bucket",
    ["", "ab", "UPPER", "under_score", "-dash", "dash-", "a..b", "a.-b", "192.168.1.1", "x" * 64, None],
)
def test_bad_bucket_name_is_a_config_error(bucket: Any) -> None:
    with pytest.raises(ConfigError, match="bucket"):
        S3Storage(bucket, region="us-east-1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "https://cdn.example"},
        {"acl": "public"},
        {"max_attempts": 0},
        {"connect_timeout": 0},
        {"read_timeout": -1},
        {"cache_control": ""},
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        S3Storage("my-media", region="us-east-1", **kwargs)


# --- what is stored --------------------------------------------------------------


def test_content_type_and_cache_control_are_stored(s3_storage: S3Storage, s3_client, s3_bucket: str) -> None:
    data = jpeg(32, 32)
    assert s3_storage.put("a/b/photo.jpg", data, "image/jpeg")
    head = s3_client.head_object(Bucket=s3_bucket, Key="a/b/photo.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == IMMUTABLE_CACHE_CONTROL
    assert head["ContentLength"] == len(data)


def test_cache_control_can_be_changed_or_left_out(moto_endpoint: str, s3_client, s3_bucket: str) -> None:
    make_storage(moto_endpoint, s3_bucket, cache_control="max-age=60").put("c/1.txt", b"1", "text/plain")
    make_storage(moto_endpoint, s3_bucket, cache_control=None).put("c/2.txt", b"2", "text/plain")
    assert s3_client.head_object(Bucket=s3_bucket, Key="c/1.txt")["CacheControl"] == "max-age=60"
    assert "CacheControl" not in s3_client.head_object(Bucket=s3_bucket, Key="c/2.txt")


def test_no_acl_by_default(s3_storage: S3Storage, s3_client, s3_bucket: str) -> None:
    s3_storage.put("acl/private.jpg", b"x", "image/jpeg")
    grants = s3_client.get_object_acl(Bucket=s3_bucket, Key="acl/private.jpg")["Grants"]
    assert [g["Permission"] for g in grants] == [OWNER_ONLY]
    assert grants[0]["Grantee"]["Type"] == "CanonicalUser"


def test_acl_applied_when_set(moto_endpoint: str, s3_client, s3_bucket: str) -> None:
    storage = make_storage(moto_endpoint, s3_bucket, acl="public-read")
    storage.put("acl/public.jpg", b"x", "image/jpeg")
    grants = s3_client.get_object_acl(Bucket=s3_bucket, Key="acl/public.jpg")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants


# --- conditional writes ------------------------------------------------------------


def test_server_honours_if_none_match(s3_client, s3_bucket: str) -> None:
    """The server (moto here, S3 in production) refuses a second conditional write."""
    from botocore.exceptions import ClientError

    s3_client.put_object(Bucket=s3_bucket, Key="cond/k", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as caught:
        s3_client.put_object(Bucket=s3_bucket, Key="cond/k", Body=b"2", IfNoneMatch="*")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3_client.get_object(Bucket=s3_bucket, Key="cond/k")["Body"].read() == b"1"


def test_second_put_is_refused_by_the_server(moto_endpoint: str, s3_bucket: str) -> None:
    storage = make_storage(moto_endpoint, s3_bucket)
    counter = RequestCounter(storage.client)
    assert storage.put("cond/x.jpg", b"first", "image/jpeg") is True
    assert storage.put("cond/x.jpg", b"second", "image/jpeg") is False
    # No HEAD before writing: the refusal came from the conditional PUT itself.
    assert counter.names == ["PutObject", "PutObject"]
    assert storage.get("cond/x.jpg") == b"first"


# --- request counts -------------------------------------------------------------------


def test_each_operation_is_one_request(moto_endpoint: str, s3_bucket: str) -> None:
    storage = make_storage(moto_endpoint, s3_bucket)
    counter = RequestCounter(storage.client)

    assert storage.exists("n/a.jpg") is False
    assert counter.names == ["HeadObject"]
    counter.reset()
    assert storage.put("n/a.jpg", b"abc", "image/jpeg") is True
    assert counter.names == ["PutObject"]
    counter.reset()
    assert storage.exists("n/a.jpg") is True
    assert counter.names == ["HeadObject"]
    counter.reset()
    assert storage.get("n/a.jpg") == b"abc"
    assert counter.names == ["GetObject"]
    counter.reset()
    with pytest.raises(NotFound):
        storage.get("n/missing.jpg")
    assert counter.names == ["GetObject"]
    counter.reset()
    storage.url("n/a.jpg")
    storage.local_path("n/a.jpg")
    assert counter.names == []


def test_delete_prefix_batches_of_1000(moto_endpoint: str, s3_client, s3_bucket: str) -> None:
    keys = [f"many/{i:04d}.txt" for i in range(1003)]
    for key in keys:
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"")
    s3_client.put_object(Bucket=s3_bucket, Key="many-not/1.txt", Body=b"")
    storage = make_storage(moto_endpoint, s3_bucket)
    counter = RequestCounter(storage.client)
    assert storage.delete_prefix("many/") == 1003
    assert counter.names.count("DeleteObjects") == 2
    assert counter.names.count("ListObjectsV2") == 2
    left = s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [item["Key"] for item in left] == ["many-not/1.txt"]


def test_delete_errors_are_reported(s3_storage: S3Storage, caplog: pytest.LogCaptureFixture) -> None:
    s3_storage.put("d/1.txt", b"1", "text/plain")

    def report_failure(parsed: dict[str, Any], **kwargs: Any) -> None:
        # S3 reports per-key failures inside a 200 response; moto has no way to
        # provoke one, so the parsed response gets one added.
        parsed.setdefault("Errors", []).append({"Key": "d/1.txt", "Code": "AccessDenied", "Message": "simulated"})

    s3_storage.client.meta.events.register("after-call.s3.DeleteObjects", report_failure)
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        with pytest.raises(StorageError, match="AccessDenied"):
            s3_storage.delete_prefix("d/")
    assert any("d/1.txt" in r.getMessage() for r in caplog.records)


# --- failures ---------------------------------------------------------------------


def test_unreachable_endpoint_is_unavailable(refusing_port: int, caplog: pytest.LogCaptureFixture) -> None:
    storage = S3Storage(
        "my-media",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{refusing_port}",
        max_attempts=1,
        connect_timeout=1,
        read_timeout=1,
    )
    with caplog.at_level(logging.DEBUG, logger="s3media_wsgi"):
        with pytest.raises(StorageUnavailable, match="s3://my-media/a/b.jpg"):
            storage.get("a/b.jpg")
        with pytest.raises(StorageUnavailable):
            storage.put("a/b.jpg", b"1", "image/jpeg")
        with pytest.raises(StorageUnavailable):
            storage.exists("a/b.jpg")
        with pytest.raises(StorageUnavailable):
            storage.delete_prefix("a/")
    # The storage explains in its exceptions; the caller's boundary logs, once.
    assert caplog.records == []


def test_silent_endpoint_times_out_as_unavailable(silent_port: int) -> None:
    storage = S3Storage(
        "my-media",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{silent_port}",
        max_attempts=1,
        connect_timeout=1,
        read_timeout=0.3,
    )
    with pytest.raises(StorageUnavailable, match="unreachable"):
        storage.get("a/b.jpg")


def test_defaults_suit_a_request_path() -> None:
    config = S3Storage("my-media", region="eu-west-1").client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_budget_stops_botocore_retries(silent_port: int) -> None:
    # Ten attempts of 0.4 s would take 4 s and more with backoff; the budget
    # is checked before every attempt, so the call ends soon after 0.6 s.
    storage = S3Storage(
        "my-media",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{silent_port}",
        max_attempts=10,
        connect_timeout=1,
        read_timeout=0.4,
    )
    guard = StorageGuard(budget_seconds=0.6, threshold=100)
    started = time.perf_counter()
    with pytest.raises(StorageUnavailable, match="budget"):
        with guard.request(), guard.call():
            storage.exists("a/b.jpg")
    assert time.perf_counter() - started < 2.5


def test_budget_applies_to_a_client_given_ready(silent_port: int) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{silent_port}",
        region_name="us-east-1",
        config=Config(read_timeout=0.4, retries={"mode": "standard", "total_max_attempts": 10}),
    )
    storage = S3Storage("my-media", region="us-east-1", client=client)
    guard = StorageGuard(budget_seconds=0.6, threshold=100)
    started = time.perf_counter()
    with pytest.raises(StorageUnavailable, match="budget"):
        with guard.request(), guard.call():
            storage.get("a/b.jpg")
    assert time.perf_counter() - started < 2.5


def test_endpoint_without_base_url_gives_path_style_urls_on_that_endpoint() -> None:
    storage = S3Storage("my-media", region="us-east-1", endpoint_url="http://127.0.0.1:9000/")
    assert storage.base_url == "http://127.0.0.1:9000/my-media/"
    assert "amazonaws.com" not in storage.url("a/b.jpg")


def test_missing_bucket_is_a_storage_error(moto_endpoint: str) -> None:
    storage = make_storage(moto_endpoint, "no-such-bucket-s3media")
    with pytest.raises(StorageError, match="NoSuchBucket.*check the bucket setting") as caught:
        storage.put("a/b.jpg", b"1", "image/jpeg")
    assert not isinstance(caught.value, (NotFound, StorageUnavailable))
    assert caught.value.status_code == 500
    with pytest.raises(StorageError, match="no-such-bucket-s3media"):
        storage.get("a/b.jpg")
    with pytest.raises(StorageError):
        storage.delete_prefix("a/")


def test_server_errors_map_to_unavailable_and_access_denied_to_storage_error(s3_storage: S3Storage) -> None:
    from botocore.exceptions import ClientError

    def fail_with(code: str, status: int) -> None:
        def handler(**kwargs: Any) -> None:
            raise ClientError(
                {"Error": {"Code": code, "Message": "simulated"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                "GetObject",
            )

        s3_storage.client.meta.events.register_first("before-call.s3.GetObject", handler, unique_id="fail")

    fail_with("SlowDown", 503)
    with pytest.raises(StorageUnavailable, match="SlowDown"):
        s3_storage.get("a/b.jpg")
    s3_storage.client.meta.events.unregister("before-call.s3.GetObject", unique_id="fail")
    fail_with("AccessDenied", 403)
    with pytest.raises(StorageError, match="AccessDenied") as caught:
        s3_storage.get("a/b.jpg")
    assert not isinstance(caught.value, StorageUnavailable)


def test_access_denied_names_exactly_the_actions_the_printed_policy_grants(s3_storage: S3Storage) -> None:
    import re

    from botocore.exceptions import ClientError

    from s3media_wsgi.bucket import app_iam_policy

    def handler(**kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "simulated"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
            "GetObject",
        )

    s3_storage.client.meta.events.register_first("before-call.s3.GetObject", handler, unique_id="deny")
    with pytest.raises(StorageError) as caught:
        s3_storage.get("a/b.jpg")
    named = set(re.findall(r"s3:[A-Za-z]+", str(caught.value)))
    granted = {a for s in app_iam_policy(s3_storage.bucket)["Statement"] for a in s["Action"]}
    assert named == granted


# --- threads ------------------------------------------------------------------------


def test_one_storage_shared_by_eight_threads(moto_endpoint: str, s3_bucket: str) -> None:
    storage = make_storage(moto_endpoint, s3_bucket)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(10):
                key = f"t/{i}/{j}.bin"
                data = f"{i}-{j}".encode() * 100
                assert storage.put(key, data, "application/octet-stream") is True
                assert storage.exists(key)
                assert storage.get(key) == data
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert storage.delete_prefix("t/") == 80


def test_calls_under_a_budget_work_over_https_too() -> None:
    # The cancellable connection classes are made for http and https alike:
    # an unreachable https endpoint is a 503, never a TypeError (500).
    import urllib3

    from s3media_wsgi.errors import StorageUnavailable
    from s3media_wsgi.resilience import budget

    storage = S3Storage(
        "https-bucket", region="us-east-1", endpoint_url="https://127.0.0.1:9", connect_timeout=0.5, max_attempts=1
    )
    with budget(5), pytest.raises(StorageUnavailable):
        storage.exists("a/b.jpg")
    for scheme in ("http", "https"):
        connection_class = storage.client._endpoint.http_session._pool_classes_by_scheme[scheme].ConnectionCls
        connection = connection_class("127.0.0.1", 9, timeout=0.5)
        # Refused: the request went through our class down to the socket.
        with pytest.raises(urllib3.exceptions.NewConnectionError):
            connection.request("GET", "/")
        connection.close()
