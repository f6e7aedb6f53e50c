"""Eager presets through real task queues on a real ``redis-server``: RQ, and Celery (Redis its broker).

The recipes are examples/eager_rq.py and examples/eager_celery.py: the app's
Media (built from ``S3MEDIA_*`` variables by the WSGI example's
``media_from_env``) names ``eager_rq:enqueue`` or ``eager_celery:enqueue``,
storage is moto's S3 server, and the queue's own worker command (``rq worker
--burst``, ``celery worker``) runs the jobs in processes of its own, with a
Media built from the same environment.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import socket
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
    # The examples read every S3MEDIA_* variable as a setting: none but these (`make test` sets one of its own).
    for name in [n for n in os.environ if n.startswith("S3MEDIA_")]:
        monkeypatch.delenv(name)
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


def run_worker(redis_url: str, **changed: str) -> subprocess.CompletedProcess[str]:
    """``rq worker --burst`` (the recipe's worker class) on its queue, with the test's environment.

    It returns once the queue is empty.
    """
    rq = Path(sys.executable).with_name("rq")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")]), **changed}
    return subprocess.run(
        [str(rq), "worker", "--burst", "-w", "eager_rq.Worker", "--url", redis_url, "--serializer", "json"]
        + ["s3media-eager"],
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
    assert f"eager presets of {gone} not made: no original" in worker.stderr
    assert "Traceback" not in worker.stderr
    assert all(media.storage.exists(key) for key in eager_keys(media, kept)), worker.stderr
    assert not any(media.storage.exists(key) for key in eager_keys(media, gone))
    assert recipe.queue().job_ids == []


def test_jobs_that_fail_are_kept_by_rq_and_made_once_requeued(
    recipe: ModuleType, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis import Redis
    from rq.registry import FailedJobRegistry

    monkeypatch.setenv("REDIS_URL", redis_url)
    media = app_media()
    uploaded = [media.put(photo(600, 400), filename=f"{n}.jpg") for n in range(2)]
    job_ids = recipe.queue().job_ids

    # The worker's storage is down (nothing listens at its endpoint): each job fails, the worker goes on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    worker = run_worker(redis_url, S3MEDIA_ENDPOINT_URL=closed, S3MEDIA_MAX_ATTEMPTS="1")
    assert worker.returncode == 0, worker.stderr
    failed = FailedJobRegistry(queue=recipe.queue())
    assert sorted(failed.get_job_ids()) == sorted(job_ids), worker.stdout + worker.stderr
    assert "StorageUnavailable" in worker.stdout + worker.stderr
    assert not any(media.storage.exists(key) for media_id in uploaded for key in eager_keys(media, media_id))

    # Once storage is back, `rq requeue --all` and a worker make them.
    rq = Path(sys.executable).with_name("rq")
    requeue = [str(rq), "requeue", "--all", "--url", redis_url, "--serializer", "json", "--queue", recipe.QUEUE]
    subprocess.run(requeue, check=True, capture_output=True, timeout=WORKER_TIMEOUT)
    assert run_worker(redis_url).returncode == 0
    assert all(media.storage.exists(key) for media_id in uploaded for key in eager_keys(media, media_id))
    assert Redis.from_url(redis_url).llen(f"rq:queue:{recipe.QUEUE}") == 0


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
    print(f"RQ, Redis down: the upload took {elapsed:.3f} s")
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


# --- Celery, Redis the broker (examples/eager_celery.py) ---------------------------------------------


@pytest.fixture
def celery_recipe(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A function of the broker's URL: examples/eager_celery.py imported anew for it, named ``eager_celery``."""

    def load(broker_url: str) -> ModuleType:
        monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
        monkeypatch.setenv("S3MEDIA_ENQUEUE", "eager_celery:enqueue")
        module = importlib.import_module("eager_celery")
        return importlib.reload(module)  # its Celery app reads the broker's URL at import

    yield load
    sys.modules.pop("eager_celery", None)


class CeleryWorker:
    """``celery worker`` on the recipe's queue, a process of its own, stopped (warm shutdown) on leaving."""

    def __init__(self, broker_url: str, log: Path) -> None:
        celery = Path(sys.executable).with_name("celery")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")])}
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(celery), "-A", "eager_celery", "worker", "--queues", "s3media-eager", "--pool", "solo"]
                + ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def __enter__(self) -> CeleryWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(check: Any, worker: CeleryWorker, seconds: float = WORKER_TIMEOUT) -> None:
    """Poll *check* until true (a bounded wait); fails with the worker's log."""
    deadline = time.monotonic() + seconds
    while not check():
        assert worker.process.poll() is None, f"the worker ended:\n{worker.output()}"
        assert time.monotonic() < deadline, f"not done within {seconds} s:\n{worker.output()}"
        time.sleep(0.1)


def queue_length(url: str) -> int:
    """Messages waiting in the recipe's queue (Celery's Redis transport keeps a queue as a list)."""
    from redis import Redis

    with Redis.from_url(url) as client:
        return int(client.llen("s3media-eager"))


def test_celery_a_worker_process_makes_the_eager_presets_from_a_message_that_is_only_the_id(
    celery_recipe: Any, redis_url: str, tmp_path: Path, decoded_sizes: list[Any]
) -> None:
    import base64

    from redis import Redis

    recipe = celery_recipe(redis_url)
    media = app_media()
    assert media.enqueue is recipe.enqueue
    gone = media.put(photo(800, 600), filename="gone.jpg")
    media_id = media.put(photo(1600, 1200), filename="p.jpg")
    media.storage.delete(ids.original_key(gone))  # deleted while its message waits
    keys = eager_keys(media, media_id)
    assert not any(media.storage.exists(key) for key in keys)

    redis = Redis.from_url(redis_url)
    messages = [json.loads(raw) for raw in redis.lrange("s3media-eager", 0, -1)]
    assert len(messages) == 2
    for message in messages:
        assert message["headers"]["task"] == "s3media.make_eager"
        assert message["content-type"] == "application/json"
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert kwargs == {} and args in ([gone], [media_id])

    with CeleryWorker(redis_url, tmp_path / "celery.log") as worker:
        wait_until(lambda: all(media.storage.exists(key) for key in keys), worker)
        wait_until(lambda: f"eager presets of {gone} not made: no original" in worker.output(), worker)
        wait_until(lambda: queue_length(redis_url) == 0, worker)
    assert worker.process.returncode == 0, worker.output()
    assert not any(media.storage.exists(key) for key in eager_keys(media, gone))

    decoded_sizes.clear()
    card = media.resize_key(media_id, "card")
    assert media.fetch_resize(card)[1] == media.storage.get(card)
    assert decoded_sizes == []  # the first request finds it made


def test_celery_with_the_broker_down_the_upload_succeeds_and_its_eager_work_is_skipped_and_logged(
    celery_recipe: Any, own_redis_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import kombu.exceptions

    recipe = celery_recipe(own_redis_server.url)
    media = app_media()
    media.put(photo(400, 300))
    assert queue_length(own_redis_server.url) == 1  # up: the message is there

    own_redis_server.stop()
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        started = time.perf_counter()
        media_id = media.put(photo(400, 300), filename="while-down.jpg")
        elapsed = time.perf_counter() - started
    print(f"Celery, broker down: the upload took {elapsed:.3f} s")
    assert elapsed < recipe.CONNECT_TIMEOUT + 4  # refused and not retried, not a hang
    assert media.storage.exists(ids.original_key(media_id))
    [record] = [r for r in caplog.records if r.name == "s3media_wsgi" and media_id in r.getMessage()]
    assert "not enqueued" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], kombu.exceptions.OperationalError)
    assert not any(media.storage.exists(key) for key in eager_keys(media, media_id))
