"""Eager presets on RQ (examples/eager_rq.py): what an upload pays to enqueue, and a worker's time per job.

``python benchmarks/bench_eager_queue.py [N]``: a redis-server of its own on
127.0.0.1 (tests/servers.py starts it; Debian's ``redis-server`` must be
installed), local storage in a temporary folder, N uploads of a 1600x1200
JPEG with two eager presets, then one ``rq worker --burst`` per worker class
to run their N jobs: RQ's forking ``Worker``, the recipe's ``eager_rq.Worker``
(the Media built once, before the forks) and ``SimpleWorker`` (no fork).
Times are wall-clock, the worker's start-up included: a report, not a test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "examples")]

from PIL import Image  # noqa: E402
from servers import serve_redis  # noqa: E402

WORKERS = ("rq.worker.Worker", "eager_rq.Worker", "rq.worker.SimpleWorker")
PRESETS = {
    "card": {"size": "640x", "format": "webp", "eager": True},
    "thumb": {"size": "160x160", "mode": "fill", "eager": True},
}


def photo(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def main(count: int) -> None:
    data = photo(1600, 1200)
    with serve_redis() as server, tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        for name in [n for n in os.environ if n.startswith("S3MEDIA_")]:
            del os.environ[name]  # the example reads each as a setting
        os.environ.update(
            {
                "S3MEDIA_LOCAL_ROOT": f"{folder}/media",
                "S3MEDIA_SECRET_KEY": "bench-secret-0123456789-abcdefghijklmn",
                "S3MEDIA_PRESETS": json.dumps(PRESETS),
                "S3MEDIA_ENQUEUE": "eager_rq:enqueue",
                "REDIS_URL": server.url,
            }
        )
        import wsgi_app

        media = wsgi_app.media_from_env()
        rq = Path(sys.executable).with_name("rq")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "examples")}
        print(f"{count} uploads of a 1600x1200 JPEG, 2 eager presets, then one burst worker for their {count} jobs")
        for worker in WORKERS:
            started = time.perf_counter()
            ids = [media.put(data, filename="p.jpg") for _ in range(count)]
            put = (time.perf_counter() - started) / count
            started = time.perf_counter()
            command = [str(rq), "worker", "--burst", "-q", "--url", server.url, "--serializer", "json", "-w", worker]
            subprocess.run([*command, "s3media-eager"], env=env, check=True)
            work = time.perf_counter() - started
            made = sum(media.storage.exists(media.resize_key(i, "card")) for i in ids)
            print(
                f"{worker:24} put {put * 1000:5.1f} ms each (enqueue included); "
                f"worker {work:5.2f} s, {work / count * 1000:4.0f} ms a job; {made}/{count} made"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
