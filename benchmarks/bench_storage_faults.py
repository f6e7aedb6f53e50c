"""What a hung or dripping S3 costs a media request, and what the storage call pool costs a healthy one.

    python benchmarks/bench_storage_faults.py            # production defaults: 10 s budget, 5 s reads, 3 attempts

S3 is moto's server behind the reliability suite's fault proxy; the app is a
trivial host app in MediaMiddleware under waitress with 8 threads.  For each
fault (hang; drip: one byte every 2 s) and each route (a cold resize, POST
s3/confirm, POST s3/multipart), 8 clients ask at once; printed are the median
and the maximum seconds to their answers, their statuses, and the slowest
page of the host app asked meanwhile.  Then the extra cost of one S3 call on
a healthy moto: the same HEAD run in the caller's thread and through the
pool (inside a budget).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(name, "testing")  # moto takes any
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE.parent / "tests" / "reliability")]

import boto3  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from images import jpeg  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from servers import serve_wsgi  # noqa: E402
from test_slow_storage import fetch, host_app, pages_while, post_json  # noqa: E402

from s3media_wsgi import Media, MediaMiddleware, S3Storage, ids  # noqa: E402
from s3media_wsgi.resilience import CallPool, budget  # noqa: E402
from s3media_wsgi.uploads import pending_key  # noqa: E402

SECRET = "bench-secret-0123456789-abcdefghijklmn"
CLIENTS = 8


def main() -> None:
    handoff()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
    logging.getLogger("s3media_wsgi").setLevel(logging.CRITICAL)  # the 503s are the point
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench")
    with FaultProxy(endpoint) as proxy:
        storage = S3Storage("bench", region="us-east-1", endpoint_url=proxy.url)
        overhead(storage)
        for fault, seconds in (("hang", 0.0), ("drip", 2.0)):
            for route in ("resize", "confirm", "multipart"):
                # A fresh Media each time: a closed circuit and free slots.
                media = Media(storage, secret_key=SECRET, breaker_threshold=1000)
                original = media.put(jpeg(800, 600), filename="photo.jpg")
                app = MediaMiddleware(host_app, media, uploads=lambda request: True)
                proxy.set(fault, seconds=seconds)
                with serve_wsgi(app, threads=8) as base, ThreadPoolExecutor(CLIENTS) as pool:
                    futures = []
                    for n in range(CLIENTS):
                        if route == "resize":
                            path = "/media/" + media.resize_key(original, f"{100 + n}x{100 + n}")
                            futures.append(pool.submit(fetch, base, path, 120))
                        elif route == "confirm":
                            payload = {"key": pending_key(ids.new_id(f"p{n}.jpg"))}
                            futures.append(pool.submit(post_json, base, "/media/s3/confirm", payload, 120))
                        else:
                            payload = {"filename": f"big{n}.jpg", "type": "image/jpeg"}
                            futures.append(pool.submit(post_json, base, "/media/s3/multipart", payload, 120))
                    time.sleep(0.5)
                    pages = pages_while(base, lambda: not all(f.done() for f in futures))
                    replies = [f.result() for f in futures]
                    proxy.set("pass")
                seconds_ = sorted(r.seconds for r in replies)
                waited = [t for t in seconds_ if t >= 1]  # those that got a storage slot
                refused = seconds_[: len(seconds_) - len(waited)] or [0.0]
                print(
                    f"{fault:5} {route:9} statuses {sorted({r.status for r in replies})}  all: median "
                    f"{statistics.median(seconds_):5.2f} s, max {seconds_[-1]:5.2f} s;  "
                    f"{len(waited)} with a slot: median {statistics.median(waited or [0]):5.2f} s;  "
                    f"{len(seconds_) - len(waited)} without: max {max(refused):.2f} s;"
                    f"  slowest page {max((p.seconds for p in pages), default=0):.3f} s",
                    flush=True,
                )
    moto.stop()


def handoff(rounds: int = 20000) -> None:
    """The pool's own cost: a call that does nothing, in the caller's thread and through the pool."""
    pool = CallPool(8, "bench")

    def noop() -> None:
        return None

    with budget(1e9):
        for _ in range(1000):
            pool.run(noop)
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(rounds):
                pool.run(noop)
            runs.append((time.perf_counter() - started) / rounds)
    started = time.perf_counter()
    for _ in range(rounds):
        noop()
    inline = (time.perf_counter() - started) / rounds
    print(f"pool hand-over of a call that does nothing: {(statistics.median(runs) - inline) * 1e6:.0f} us", flush=True)


def overhead(storage: S3Storage, rounds: int = 300) -> None:
    key = f"bench/{uuid.uuid4().hex}.bin"
    storage.put(key, b"x", "application/octet-stream")

    def timed(inside_budget: bool) -> float:
        best = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(rounds):
                if inside_budget:
                    with budget(10):
                        storage.exists(key)
                else:
                    storage.exists(key)
            best.append((time.perf_counter() - started) / rounds)
        return statistics.median(best)

    timed(True)  # warm up: connections, pool threads
    inline, pooled = timed(False), timed(True)
    print(
        f"one HEAD on healthy moto: {inline * 1e3:.3f} ms inline, {pooled * 1e3:.3f} ms through the pool: "
        f"{(pooled - inline) * 1e6:+.0f} us a call",
        flush=True,
    )


if __name__ == "__main__":
    main()
