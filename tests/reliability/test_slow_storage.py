"""A slow or broken S3 must not take the host app down.

The app (a trivial host app wrapped in MediaMiddleware) runs under waitress with
8 threads; S3 is moto's server behind a fault proxy that can hang, answer 500,
cut bodies or drop connections.  Before the storage guard, one cold resize
against a hung S3 took 150-210 s to answer 503 and eight of them froze the
host app for as long.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from faultproxy import FaultProxy
from images import jpeg
from PIL import Image
from servers import serve_wsgi

from s3media_wsgi import Media, MediaMiddleware, S3Storage

SECRET = "reliability-secret-0123456789-abcdefghij"


def host_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def fetch(base: str, path: str, timeout: float = 60, *, json_body: dict[str, Any] | None = None) -> Reply:
    """One GET (or, with *json_body*, a JSON POST) on a new connection (no redirects followed), timed."""
    parts = urlsplit(base)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        if json_body is None:
            conn.request("GET", path)
        else:
            body, headers = json.dumps(json_body), {"Content-Type": "application/json"}
            conn.request("POST", path, body=body, headers=headers)
        res = conn.getresponse()
        body = res.read()
        headers = {k.lower(): v for k, v in res.getheaders()}
    finally:
        conn.close()
    return Reply(res.status, headers, body, time.perf_counter() - started)


@dataclass
class Rig:
    media: Media
    proxy: FaultProxy
    bucket: str
    s3: Any  # a client straight to moto, around the proxy
    original: str

    def cold_path(self) -> str:
        """A signed resize path never asked for before."""
        width = 100 + next(_sizes)
        return "/media/" + self.media.resize_key(self.original, f"{width}x{width}")

    def objects(self) -> dict[str, bytes]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {o["Key"]: self.s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read() for o in listing}


_sizes = iter(range(10_000))


@pytest.fixture
def rig(fault_proxy: FaultProxy, moto_endpoint: str) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(**media_options: Any) -> Rig:
        s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
        bucket = f"rel-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        storage_options = {k: media_options.pop(k) for k in ("read_timeout", "max_attempts") if k in media_options}
        storage = S3Storage(
            bucket,
            region="us-east-1",
            endpoint_url=fault_proxy.url,
            base_url=f"{moto_endpoint}/{bucket}/",
            **storage_options,
        )
        media = Media(storage, secret_key=SECRET, **media_options)
        original = media.put(jpeg(800, 600), filename="photo.jpg")
        made.append(Rig(media, fault_proxy, bucket, s3, original))
        return made[-1]

    yield make
    fault_proxy.set("pass")  # release anything still hung before the proxy stops


def assert_no_partial_objects(rig: Rig, original_bytes: bytes | None = None) -> None:
    """Every stored object is whole: the original byte for byte, each resize a decodable image."""
    import io

    for key, data in rig.objects().items():
        if key == f"{rig.original}/{rig.original.rsplit('/', 1)[-1]}":
            assert original_bytes is None or data == original_bytes
            continue
        with Image.open(io.BytesIO(data)) as im:
            im.load()


def test_a_hung_s3_answers_503_within_the_default_budget(rig: Callable[..., Rig]) -> None:
    # Production defaults: 2 s connect, 5 s read, 3 attempts, 10 s budget.
    r = rig()
    r.proxy.set("hang")
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        reply = fetch(base, r.cold_path())
    assert reply.status == 503
    assert reply.headers["retry-after"].isdigit()
    # The budget (10 s) plus at most one read timeout (5 s), with room for a
    # loaded machine; it took 150-210 s before.
    assert reply.seconds < 25


def test_the_host_app_keeps_answering_while_s3_hangs(rig: Callable[..., Rig]) -> None:
    # The default bound (4 requests inside storage) on an 8-thread server; a
    # shorter budget only keeps the test short.
    r = rig(storage_budget=4, read_timeout=2, breaker_threshold=100)
    r.proxy.set("hang")
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        with ThreadPoolExecutor(8) as pool:
            cold = [pool.submit(fetch, base, r.cold_path()) for _ in range(8)]
            time.sleep(0.5)  # let them reach S3 and hang
            passing = [fetch(base, "/page", timeout=10) for _ in range(20)]
            replies = [f.result(timeout=30) for f in cold]
    assert all(p.status == 200 for p in passing)
    # Every host-app request answered promptly although eight media requests
    # arrived while S3 hung: only four could wait for it, the others waited
    # half a second for a slot and were answered 503.
    assert max(p.seconds for p in passing) < 1.0
    assert all(reply.status == 503 for reply in replies)
    busy = [reply for reply in replies if reply.seconds < 1.5]
    assert len(busy) >= 4
    assert all(reply.headers["retry-after"] == "1" for reply in busy)


def test_breaker_fails_fast_then_recovers_without_restart(rig: Callable[..., Rig]) -> None:
    r = rig(breaker_threshold=3, breaker_cooldown=2, read_timeout=0.5, max_attempts=1, storage_budget=5)
    r.proxy.set("hang")
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        for _ in range(3):
            assert fetch(base, r.cold_path()).status == 503
        r.proxy.reset()
        fast = [fetch(base, r.cold_path()) for _ in range(5)]
        assert all(reply.status == 503 for reply in fast)
        assert max(reply.seconds for reply in fast) < 0.3
        assert 1 <= int(fast[0].headers["retry-after"]) <= 2
        assert r.proxy.requests == []  # an open circuit does not even try S3

        r.proxy.set("pass")
        time.sleep(2.2)  # the cooldown
        path = r.cold_path()
        recovered = fetch(base, path)
        assert recovered.status == 301
        assert recovered.headers["location"].endswith(path.removeprefix("/media/"))
        assert fetch(base, r.cold_path()).status == 301
    assert_no_partial_objects(r)


@pytest.mark.parametrize("mode", ["error500", "drop"])
def test_s3_errors_are_503_never_500(rig: Callable[..., Rig], mode: str) -> None:
    r = rig(breaker_threshold=100)
    r.proxy.set(mode)
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        replies = [fetch(base, r.cold_path()) for _ in range(3)]
        assert [reply.status for reply in replies] == [503, 503, 503]
        assert all("retry-after" in reply.headers for reply in replies)
        assert max(reply.seconds for reply in replies) < 15
        r.proxy.set("pass")
        assert fetch(base, r.cold_path()).status == 301
    assert_no_partial_objects(r)


def test_a_cut_original_makes_no_resize(rig: Callable[..., Rig]) -> None:
    r = rig(breaker_threshold=100)
    before = r.objects()
    r.proxy.set("cut", methods={"GET"})
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        replies = [fetch(base, r.cold_path()) for _ in range(3)]
    assert [reply.status for reply in replies] == [503, 503, 503]
    assert r.objects() == before  # nothing stored from half an original
    assert_no_partial_objects(r, before[next(iter(before))])


def test_a_slow_but_working_s3_still_serves(rig: Callable[..., Rig]) -> None:
    # 0.5 s per S3 call is slow, not broken: three calls fit the budget.
    r = rig()
    r.proxy.set("delay", seconds=0.5)
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        reply = fetch(base, r.cold_path())
    assert reply.status == 301
    assert 1.5 <= reply.seconds < 10


def test_racers_for_one_cold_resize_make_it_once_while_s3_is_slow(rig: Callable[..., Rig]) -> None:
    r = rig(max_storage_requests=2)
    r.proxy.set("delay", seconds=0.3)
    path = r.cold_path()
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=16) as base:
        with ThreadPoolExecutor(16) as pool:
            replies = list(pool.map(lambda _: fetch(base, path), range(16)))
    # Followers wait for the leader without taking a storage slot of their own.
    assert [reply.status for reply in replies] == [301] * 16
    puts = [p for m, p in r.proxy.requests if m == "PUT" and p.endswith(path.rsplit("/", 1)[-1])]
    assert len(puts) == 1
    threading.Event().wait(0)  # nothing left running: the pool is joined


# --- a dripping S3, and the upload routes (hostile round three, rows 6 and 7) --------------------


def post_json(base: str, path: str, payload: dict[str, Any], timeout: float = 60) -> Reply:
    """One JSON POST on a new connection, timed."""
    return fetch(base, path, timeout, json_body=payload)


def pages_while(base: str, busy: Callable[[], bool]) -> list[Reply]:
    """The host app's own page, asked every 0.1 s while *busy()*."""
    replies = []
    while busy():
        replies.append(fetch(base, "/page", timeout=10))
        time.sleep(0.1)
    return replies


#: The budget these tests give a request: short, to keep them short.
BUDGET = 3.0
#: Scheduling noise allowed on top of the budget (2 shared cores).
ROOM = 2.5


def test_row6_a_dripping_s3_cannot_hold_resize_requests_past_the_budget(rig: Callable[..., Rig]) -> None:
    # One byte a second: always inside the 5 s read timeout, so only a bound
    # on the whole call ends it.  Before: still waiting after a minute.
    r = rig(storage_budget=BUDGET, breaker_threshold=100)
    r.proxy.set("drip", seconds=1.0)
    with serve_wsgi(MediaMiddleware(host_app, r.media), threads=8) as base:
        with ThreadPoolExecutor(8) as pool:
            cold = [pool.submit(fetch, base, r.cold_path(), 30) for _ in range(8)]
            time.sleep(0.5)
            passing = pages_while(base, lambda: not all(f.done() for f in cold))
            replies = [f.result(timeout=40) for f in cold]
    assert [reply.status for reply in replies] == [503] * 8
    assert max(reply.seconds for reply in replies) < BUDGET + ROOM
    assert passing and max(p.seconds for p in passing) < 1.0
    assert_calls_end(r)


def assert_calls_end(r: Rig) -> None:
    """The cancelled S3 calls end soon (their sockets were shut down): no pool thread stays stuck."""
    calls = r.media.storage._calls  # type: ignore[attr-defined]
    deadline = time.monotonic() + 3
    while calls.busy and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls.busy == 0
    assert calls.threads <= calls.size


def test_row6_a_dripping_body_is_cut_at_the_budget(rig: Callable[..., Rig]) -> None:
    from s3media_wsgi.errors import StorageUnavailable

    r = rig(storage_budget=BUDGET, breaker_threshold=100)
    key = f"{r.original}/{r.original.rsplit('/', 1)[-1]}"
    r.proxy.set("drip", seconds=0.5, drip="body")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable), r.media.guard.request():
        with r.media.guard.call():
            r.media.storage.get(key)
    assert time.monotonic() - started < BUDGET + ROOM


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_row7_upload_routes_answer_503_within_the_budget_and_the_host_app_keeps_answering(
    rig: Callable[..., Rig], mode: str
) -> None:
    # Before: confirm and multipart start skipped the slots and the budget:
    # 15 s each against a hung S3 (a minute and more against a dripping one),
    # and the host app's pages waited as long.
    from s3media_wsgi import ids
    from s3media_wsgi.uploads import pending_key

    r = rig(storage_budget=BUDGET, max_storage_requests=4, breaker_threshold=100)
    app = MediaMiddleware(host_app, r.media, uploads=lambda request: True)
    r.proxy.set(mode, seconds=1.0)
    calls: list[tuple[str, dict[str, Any]]] = []
    for n in range(4):
        calls.append(("/media/s3/confirm", {"key": pending_key(ids.new_id(f"p{n}.jpg"))}))
        calls.append(("/media/s3/multipart", {"filename": f"big{n}.jpg", "type": "image/jpeg"}))
    with serve_wsgi(app, threads=8) as base:
        with ThreadPoolExecutor(8) as pool:
            sent = [pool.submit(post_json, base, path, payload, 30) for path, payload in calls]
            time.sleep(0.5)
            passing = pages_while(base, lambda: not all(f.done() for f in sent))
            replies = [f.result(timeout=40) for f in sent]
    assert [reply.status for reply in replies] == [503] * 8, [reply.body for reply in replies]
    assert all(reply.headers["retry-after"].isdigit() for reply in replies)
    # Four got a storage slot and used up the budget; the others waited half
    # a second for a slot.
    assert max(reply.seconds for reply in replies) < BUDGET + ROOM
    assert len([reply for reply in replies if reply.seconds < 1.5]) >= 4
    assert passing and max(p.seconds for p in passing) < 1.0
    assert_calls_end(r)
