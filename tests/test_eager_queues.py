"""Eager presets through a real task queue: RQ on a real ``redis-server``, its worker a real process.

The recipe is examples/eager_rq.py: the app's Media (built from ``S3MEDIA_*``
variables by the WSGI example's ``media_from_env``) names ``eager_rq:enqueue``,
storage is moto's S3 server, and ``rq worker --burst`` runs the jobs in its own
processes, with a Media built from the same environment.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

from s3media_wsgi import Media, ids

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PRESETS = {
    "card": {"size": "640x", "format": "webp", "eager": True},
    "thumb": {"size": "160x160", "mode": "fill", "eager": True},
    "hero": {"size": "1600x"},  # not eager: made by its first request only
}
#: Seconds a burst worker gets to run the few jobs of a test.
WORKER_TIMEOUT = 120


def photo(width: int, height: int) -> bytes:
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def eager_keys(media: Media, media_id: str) -> list[str]:
    return sorted(media.resize_key(media_id, name) for name in ("card", "thumb"))


@pytest.fixture
def app_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str, moto_endpoint: str, s3_bucket: str
) -> dict[str, str]:
    """The environment the app and its workers share: S3 (moto), the presets, RQ as ``enqueue``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    env = {
        "S3MEDIA_STORAGE": "s3",
        "S3MEDIA_BUCKET": s3_bucket,
        "S3MEDIA_REGION": "us-east-1",
        "S3MEDIA_ENDPOINT_URL": moto_endpoint,
        "S3MEDIA_SECRET_KEY": secret,
        "S3MEDIA_PRESETS": json.dumps(PRESETS),
        "S3MEDIA_ENQUEUE": "eager_rq:enqueue",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def recipe(app_env: dict[str, str]) -> Iterator[ModuleType]:
    """examples/eager_rq.py, imported by the name its jobs carry (``eager_rq``), its caches empty."""
    module = importlib.import_module("eager_rq")
    module.queue.cache_clear()
    module.worker_media.cache_clear()
    yield module
    module.queue.cache_clear()
    module.worker_media.cache_clear()


def app_media() -> Media:
    """The app's Media, as the WSGI example builds it from the environment."""
    return importlib.import_module("wsgi_app").media_from_env()


def run_worker(redis_url: str) -> subprocess.CompletedProcess[str]:
    """``rq worker --burst`` on the recipe's queue, with the test's environment: it returns once the queue is empty."""
    rq = Path(sys.executable).with_name("rq")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [str(rq), "worker", "--burst", "--url", redis_url, "--serializer", "json", "s3media-eager"],
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
    )


def test_a_worker_process_makes_the_eager_presets_from_a_job_that_is_only_the_id(
    recipe: ModuleType, redis_url: str, monkeypatch: pytest.MonkeyPatch, decoded_sizes: list[Any]
) -> None:
    from redis import Redis
    from rq.job import Job
    from rq.serializers import JSONSerializer

    monkeypatch.setenv("REDIS_URL", redis_url)
    media = app_media()
    assert media.enqueue is recipe.enqueue  # named by the settings, S3MEDIA_ENQUEUE
    media_id = media.put(photo(1600, 1200), filename="p.jpg")
    keys = eager_keys(media, media_id)
    assert not any(media.storage.exists(key) for key in keys)  # the upload made none: the queue holds them

    redis = Redis.from_url(redis_url)
    [job_id] = recipe.queue().job_ids
    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    assert (job.func_name, list(job.args), job.kwargs) == ("eager_rq.make_eager", [media_id], {})
    # What Redis holds for the call (RQ compresses its serialized form): JSON of the name and the id, nothing else.
    raw = redis.hget(f"rq:job:{job_id}", "data")
    assert isinstance(raw, bytes) and len(raw) < 200
    assert json.loads(zlib.decompress(raw)) == ["eager_rq.make_eager", None, [media_id], {}]

    started = time.perf_counter()
    worker = run_worker(redis_url)
    elapsed = time.perf_counter() - started
    assert worker.returncode == 0, worker.stderr
    assert all(media.storage.exists(key) for key in keys), worker.stderr
    assert not media.storage.exists(media.resize_key(media_id, "hero"))
    job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    assert job.get_status() == "finished" and sorted(job.return_value() or []) == keys
    print(f"burst worker, 1 job of 2 presets from a 1600x1200 JPEG: {elapsed:.2f} s")

    # The first request for an eager size finds it made: the stored bytes, no decode in this process.
    decoded_sizes.clear()
    card = media.resize_key(media_id, "card")
    body = media.fetch_resize(card)[1]
    assert body == media.storage.get(card) and Image.open(io.BytesIO(body)).format == "WEBP"
    assert decoded_sizes == []
    media.fetch_resize(media.resize_key(media_id, "hero"))  # not eager: its first request decodes
    assert decoded_sizes == [(1600, 1200)]


def test_a_job_whose_original_was_deleted_is_logged_and_the_worker_goes_on(
    recipe: ModuleType, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    media = app_media()
    gone = media.put(photo(800, 600), filename="gone.jpg")
    kept = media.put(photo(800, 600), filename="kept.jpg")
    media.storage.delete(ids.original_key(gone))  # deleted while its job waits in the queue
    assert len(recipe.queue().job_ids) == 2

    worker = run_worker(redis_url)
    assert worker.returncode == 0, worker.stderr
    assert f"eager presets of {gone} not made: its original is gone" in worker.stderr
    assert "Traceback" not in worker.stderr
    assert all(media.storage.exists(key) for key in eager_keys(media, kept)), worker.stderr
    assert not any(media.storage.exists(key) for key in eager_keys(media, gone))
    assert recipe.queue().job_ids == []


def test_with_redis_down_the_upload_succeeds_and_its_eager_work_is_skipped_and_logged(
    recipe: ModuleType, own_redis_server: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    monkeypatch.setenv("REDIS_URL", own_redis_server.url)
    media = app_media()
    media.put(photo(400, 300))
    assert len(recipe.queue().job_ids) == 1  # up: the job is queued

    own_redis_server.stop()
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        started = time.perf_counter()
        media_id = media.put(photo(400, 300), filename="while-down.jpg")
        elapsed = time.perf_counter() - started
    assert elapsed < recipe.CONNECT_TIMEOUT + 2  # one refused connection, not a hang
    assert media.storage.exists(ids.original_key(media_id))
    [record] = [r for r in caplog.records if r.name == "s3media_wsgi" and media_id in r.getMessage()]
    assert "not enqueued" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], redis.ConnectionError)
    keys = eager_keys(media, media_id)
    assert not any(media.storage.exists(key) for key in keys)
    # Its first request makes it, as without eager presets.
    body = media.fetch_resize(media.resize_key(media_id, "thumb"))[1]
    assert Image.open(io.BytesIO(body)).size == (160, 160)
