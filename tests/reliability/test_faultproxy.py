"""The reliability harness itself: FaultProxy's modes against moto with a real boto3
client, and the serve_wsgi (``tests/servers.py``) / peak_rss_mib_of helpers.

These tests also pin down what each fault looks like through boto3 (which exception,
after how long), which is what the library's error mapping has to handle.  The client
never retries (total_max_attempts=1) so each fault is seen exactly once.
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from faultproxy import FaultProxy
from servers import serve_wsgi

READ_TIMEOUT = 1.0
# Scheduling noise allowed on top of a timeout (2 cores, other tests running).
SLACK = 1.0


def make_client(endpoint_url: str, read_timeout: float = READ_TIMEOUT) -> Any:
    """A boto3 S3 client with short timeouts and no retries, as the brief of this suite asks."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        config=Config(
            connect_timeout=1,
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": 1},
        ),
    )


def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll *condition* until true or *timeout* seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return condition()
        time.sleep(0.02)
    return True


def new_threads(before: set[threading.Thread]) -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t not in before and t.is_alive()}


@pytest.fixture
def client(fault_proxy: FaultProxy) -> Any:
    return make_client(fault_proxy.url)


@pytest.fixture
def stored(s3_client: Any, s3_bucket: str) -> tuple[str, str, bytes]:
    """(bucket, key, data): a 1 MiB object written straight to moto, not through the proxy."""
    data = os.urandom(1 << 20)
    s3_client.put_object(Bucket=s3_bucket, Key="stored.bin", Body=data)
    return s3_bucket, "stored.bin", data


# --- pass --------------------------------------------------------------------------


def test_pass_round_trips_a_3_mib_object_on_one_keep_alive_connection(
    fault_proxy: FaultProxy, client: Any, s3_bucket: str
) -> None:
    data = os.urandom(3 << 20)
    # botocore sends "Expect: 100-continue" on both kinds of body; the proxy answers it.
    client.put_object(Bucket=s3_bucket, Key="a.bin", Body=data)
    client.put_object(Bucket=s3_bucket, Key="b.bin", Body=io.BytesIO(data))

    assert client.get_object(Bucket=s3_bucket, Key="a.bin")["Body"].read() == data
    assert client.get_object(Bucket=s3_bucket, Key="b.bin")["Body"].read() == data
    assert client.head_object(Bucket=s3_bucket, Key="a.bin")["ContentLength"] == len(data)
    with pytest.raises(ClientError) as missing:
        client.head_object(Bucket=s3_bucket, Key="nope")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    assert fault_proxy.requests == [
        ("PUT", f"/{s3_bucket}/a.bin"),
        ("PUT", f"/{s3_bucket}/b.bin"),
        ("GET", f"/{s3_bucket}/a.bin"),
        ("GET", f"/{s3_bucket}/b.bin"),
        ("HEAD", f"/{s3_bucket}/a.bin"),
        ("HEAD", f"/{s3_bucket}/nope"),
    ]
    assert fault_proxy.connections_accepted == 1  # botocore reused its pooled connection


def test_requests_keep_the_query_string_and_reset_forgets_them(
    fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]
) -> None:
    bucket, _, _ = stored
    client.list_objects_v2(Bucket=bucket)
    [(method, path)] = fault_proxy.requests
    assert method == "GET" and path.startswith(f"/{bucket}?") and "list-type=2" in path

    fault_proxy.reset()
    assert fault_proxy.requests == [] and fault_proxy.connections_accepted == 0


# --- delay -------------------------------------------------------------------------


def test_delay_answers_after_the_delay(fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]) -> None:
    bucket, key, data = stored
    fault_proxy.set("delay", seconds=0.4)
    started = time.monotonic()
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert 0.4 <= time.monotonic() - started < 0.4 + SLACK


def test_delay_beyond_the_read_timeout_is_a_read_timeout(
    fault_proxy: FaultProxy, stored: tuple[str, str, bytes]
) -> None:
    bucket, key, _ = stored
    impatient = make_client(fault_proxy.url, read_timeout=0.3)
    fault_proxy.set("delay", seconds=0.8)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        impatient.head_object(Bucket=bucket, Key=key)
    assert time.monotonic() - started < 0.3 + SLACK


# --- hang --------------------------------------------------------------------------


def test_hang_is_a_read_timeout_and_pass_releases_the_hung_handler(
    fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]
) -> None:
    bucket, key, data = stored
    before = set(threading.enumerate())
    fault_proxy.set("hang")
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        client.get_object(Bucket=bucket, Key=key)
    assert READ_TIMEOUT * 0.9 <= time.monotonic() - started < READ_TIMEOUT + SLACK
    assert len(new_threads(before)) == 1  # the proxy thread still holding the hung request

    fault_proxy.set("pass")
    # The released handler forwards, finds the client gone (it timed out) and ends.
    assert wait_until(lambda: not new_threads(before))
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_a_request_hung_when_pass_is_set_is_forwarded(fault_proxy: FaultProxy, stored: tuple[str, str, bytes]) -> None:
    bucket, key, data = stored
    patient = make_client(fault_proxy.url, read_timeout=5)
    fault_proxy.set("hang")
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(patient.get_object(Bucket=bucket, Key=key)["Body"].read()))
    worker.start()
    assert wait_until(lambda: len(fault_proxy.requests) == 1)
    time.sleep(0.2)
    assert results == []  # still hanging

    fault_proxy.set("pass")
    worker.join(timeout=3)
    assert not worker.is_alive() and results == [data]


def test_stop_releases_hung_requests_promptly_and_leaves_no_thread(
    moto_endpoint: str, stored: tuple[str, str, bytes]
) -> None:
    bucket, key, _ = stored
    before = set(threading.enumerate())
    errors: list[BaseException] = []
    proxy = FaultProxy(moto_endpoint).start()
    patient = make_client(proxy.url, read_timeout=5)

    def hung_get() -> None:
        try:
            patient.get_object(Bucket=bucket, Key=key)
        except Exception as exc:
            errors.append(exc)

    proxy.set("hang")
    worker = threading.Thread(target=hung_get)
    worker.start()
    assert wait_until(lambda: len(proxy.requests) == 1)

    started = time.monotonic()
    proxy.stop()  # raises if a proxy thread survives
    assert time.monotonic() - started < 1.0
    worker.join(timeout=3)
    assert not worker.is_alive()
    assert [type(e) for e in errors] == [ConnectionClosedError]
    assert not new_threads(before)


# --- error500 ----------------------------------------------------------------------


def test_error500_is_a_client_error_without_contacting_s3(fault_proxy: FaultProxy, client: Any, s3_bucket: str) -> None:
    fault_proxy.set("error500")
    # The key does not exist: had the request reached moto, the answer would be 404.
    with pytest.raises(ClientError) as got:
        client.get_object(Bucket=s3_bucket, Key="missing")
    assert got.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert got.value.response["Error"]["Code"] == "InternalError"

    # HEAD answers have no body, so botocore only knows the status.
    with pytest.raises(ClientError) as got:
        client.head_object(Bucket=s3_bucket, Key="missing")
    assert got.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert got.value.response["Error"]["Code"] == "500"

    # The connection stays usable after a 500, as with S3.
    fault_proxy.set("pass")
    client.put_object(Bucket=s3_bucket, Key="after", Body=b"ok")
    assert fault_proxy.connections_accepted == 1


# --- cut ---------------------------------------------------------------------------


def test_cut_breaks_a_streamed_body_in_the_middle(
    fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]
) -> None:
    bucket, key, data = stored
    fault_proxy.set("cut")
    response = client.get_object(Bucket=bucket, Key=key)  # status and headers arrive whole
    assert response["ContentLength"] == len(data)
    with pytest.raises((ResponseStreamingError, IncompleteReadError)):
        response["Body"].read()

    fault_proxy.set("pass")
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_cut_xml_answer_becomes_a_500_client_error(
    fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]
) -> None:
    """botocore turns an S3 200 whose XML it cannot parse into a 500 (so it can be retried)."""
    bucket, _, _ = stored
    fault_proxy.set("cut")
    with pytest.raises(ClientError) as got:
        client.list_objects_v2(Bucket=bucket)
    assert got.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_cut_of_a_bodiless_answer_is_harmless_to_the_next_request(
    fault_proxy: FaultProxy, client: Any, s3_bucket: str
) -> None:
    for attempt in range(3):
        fault_proxy.set("cut")
        client.put_object(Bucket=s3_bucket, Key=f"k{attempt}", Body=b"x" * 1000)
        fault_proxy.set("pass")
        assert client.head_object(Bucket=s3_bucket, Key=f"k{attempt}")["ContentLength"] == 1000


# --- drop --------------------------------------------------------------------------


def test_drop_is_a_connection_closed_error(
    fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]
) -> None:
    bucket, key, data = stored
    fault_proxy.set("drop")
    calls: list[Callable[[], Any]] = [
        lambda: client.get_object(Bucket=bucket, Key=key),
        lambda: client.head_object(Bucket=bucket, Key=key),
        lambda: client.put_object(Bucket=bucket, Key="new", Body=b"x"),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(ConnectionClosedError):
            call()
        assert time.monotonic() - started < SLACK

    fault_proxy.set("pass")
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == data


# --- methods -------------------------------------------------------------------------


# --- drip --------------------------------------------------------------------------


def test_drip_sends_a_byte_at_a_time_within_the_read_timeout(fault_proxy: FaultProxy, s3_bucket: str) -> None:
    # Every recv() returns within the interval, so a 1 s read timeout never
    # fires although the answer takes far longer than a second.
    fault_proxy.set("drip", seconds=0.2)
    host, port = fault_proxy.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT) as sock:
        sock.sendall(f"HEAD /{s3_bucket} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        started = time.monotonic()
        received = b""
        while time.monotonic() - started < 1.5:
            received += sock.recv(100)
        assert 5 <= len(received) <= 10  # a byte per 0.2 s, never more than one per recv
        assert b"HTTP/1.1 200 OK".startswith(received)
        fault_proxy.set("pass")  # the rest at once
        while not received.endswith(b"\r\n\r\n"):
            received += sock.recv(4096)
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")


def test_drip_of_the_body_sends_the_headers_at_once(
    fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]
) -> None:
    bucket, key, data = stored
    fault_proxy.set("drip", seconds=0.2, drip="body")
    started = time.monotonic()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    assert time.monotonic() - started < SLACK  # headers came at once
    assert body.read(3) == data[:3]  # three bytes, one per interval, no read timeout
    assert 0.3 <= time.monotonic() - started < 0.4 + SLACK
    fault_proxy.set("pass")
    assert data[3:] == body.read()
    with pytest.raises(ValueError, match="drip"):
        fault_proxy.set("drip", drip="headers")


def test_methods_restricts_the_fault(fault_proxy: FaultProxy, client: Any, stored: tuple[str, str, bytes]) -> None:
    bucket, key, _ = stored
    fault_proxy.set("error500", methods={"get"})
    assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == 1 << 20
    client.put_object(Bucket=bucket, Key="other", Body=b"x")
    with pytest.raises(ClientError):
        client.get_object(Bucket=bucket, Key=key)

    fault_proxy.set("drop", methods="PUT")  # a single method as a str
    client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with pytest.raises(ConnectionClosedError):
        client.put_object(Bucket=bucket, Key="other", Body=b"x")


def test_set_rejects_unknown_modes_and_negative_delays(fault_proxy: FaultProxy) -> None:
    with pytest.raises(ValueError):
        fault_proxy.set("slow")
    with pytest.raises(ValueError):
        fault_proxy.set("delay", seconds=-1)
    assert fault_proxy.mode == "pass"


# --- plain HTTP framing: chunked upstream answers, chunked request bodies ------------------


def _chunky_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    """Echoes POST bodies; answers GET in several chunks without Content-Length (so waitress chunks it)."""
    if environ["REQUEST_METHOD"] == "POST":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))])
        return iter([body])
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Seen-Host", environ.get("HTTP_HOST", ""))])
    return iter([b"part-%d;" % n for n in range(50)])


def test_chunked_answers_and_chunked_bodies_pass_through() -> None:
    expected = b"".join(b"part-%d;" % n for n in range(50))
    with serve_wsgi(_chunky_app, threads=2) as upstream, FaultProxy(upstream) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/x", headers={"Host": "bucket.example:1234"})
            answer = conn.getresponse()
            assert answer.read() == expected
            assert answer.getheader("Content-Length") == str(len(expected))
            assert answer.getheader("Transfer-Encoding") is None
            assert answer.getheader("X-Seen-Host") == "bucket.example:1234"  # Host forwarded as sent

            conn.request("HEAD", "/x")
            answer = conn.getresponse()
            assert answer.status == 200 and answer.read() == b""

            body = os.urandom(100_000)
            conn.request("POST", "/echo", body=iter([body[:30_000], body[30_000:]]), encode_chunked=True)
            answer = conn.getresponse()
            assert answer.read() == body
        finally:
            conn.close()
        assert proxy.connections_accepted == 1


# --- serve_wsgi ----------------------------------------------------------------------


def test_serve_wsgi_runs_requests_on_that_many_threads_and_stops_cleanly() -> None:
    def slow_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        time.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    def fetch(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=5) as answer:
            body: bytes = answer.read()
            return body

    before = set(threading.enumerate())
    with serve_wsgi(slow_app, threads=8) as url, ThreadPoolExecutor(8) as pool:
        started = time.monotonic()
        bodies = list(pool.map(fetch, [f"{url}/{n}" for n in range(8)]))
        elapsed = time.monotonic() - started
        port = int(url.rsplit(":", 1)[1])
    assert bodies == [b"ok"] * 8
    assert elapsed < 1.2, f"8 requests of 0.3 s took {elapsed:.2f} s: not served in parallel"

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert wait_until(lambda: not new_threads(before)), new_threads(before)


# --- peak_rss_mib_of ---------------------------------------------------------------------


def test_peak_rss_mib_of_measures_growth_after_baseline(peak_rss_mib_of: Callable[..., tuple[float, str]]) -> None:
    growth, out = peak_rss_mib_of(
        """
        import images          # tests/ is on PYTHONPATH
        baseline()
        blob = b"x" * (64 << 20)
        print("made", len(blob))
        """,
        timeout=30,
    )
    assert 60 <= growth < 100
    assert out == f"made {64 << 20}\n"

    idle, _ = peak_rss_mib_of("baseline()", timeout=30)
    assert idle < 5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak is only reset on Linux")
def test_peak_rss_mib_of_ignores_memory_freed_before_baseline(
    peak_rss_mib_of: Callable[..., tuple[float, str]],
) -> None:
    growth, _ = peak_rss_mib_of(
        """
        setup = b"s" * (128 << 20)
        del setup
        baseline()
        blob = b"x" * (32 << 20)
        """,
        timeout=30,
    )
    assert 28 <= growth < 60


def test_peak_rss_mib_of_requires_baseline(peak_rss_mib_of: Callable[..., tuple[float, str]]) -> None:
    with pytest.raises(AssertionError, match="never called baseline"):
        peak_rss_mib_of("x = 1", timeout=30)
