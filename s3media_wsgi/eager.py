"""Eager presets: the resizes a preset marked ``"eager": True`` names, made right after each upload.

After :meth:`Media.put <s3media_wsgi.Media.put>` stores an image, or
:meth:`Media.confirm_upload <s3media_wsgi.Media.confirm_upload>` publishes
one, the Media hands an :class:`EagerJob` to its ``enqueue``: by default a
:class:`ThreadRunner` (a small bounded pool of threads in this process),
or any ``enqueue(job)`` of the app (a task queue).  The job makes every
eager preset of that upload from one decode
(:meth:`ImageEngine.resize_many <s3media_wsgi.imaging.ImageEngine.resize_many>`)
and stores each at the key its resize URL names, so the first request for
it finds it made.  The upload's request never waits for it and never sees
its failures: they are logged, and a resize not made is made by its first
request as any other.

A task queue's worker needs only the id: ``enqueue=lambda job:
make_eager.delay(job.media_id)`` with a task calling
``media.make_eager(media_id)``, the worker's Media built from the app's
settings.  Recipes: ``examples/eager_rq.py`` (RQ) and
``examples/eager_celery.py`` (Celery); in Django,
``s3media_wsgi.adapters.django.tasks`` (Django's tasks framework).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

log = logging.getLogger("s3media_wsgi")

#: Threads of the default runner, and jobs it lets wait for them before it skips new ones.
DEFAULT_WORKERS = 2
DEFAULT_BACKLOG = 64


class _Maker(Protocol):
    def make_eager(self, media_id: str) -> list[str]: ...


class EagerJob:
    """Make the eager presets of *media_id*: call it (no argument), or send its ``media_id`` to a worker."""

    def __init__(self, media: _Maker, media_id: str) -> None:
        self.media = media
        self.media_id = media_id

    def __call__(self) -> list[str]:
        return self.media.make_eager(self.media_id)

    def __repr__(self) -> str:
        return f"EagerJob({self.media_id!r})"


#: What ``Media(enqueue=...)`` takes: a function given each job, which runs it (now or later, anywhere).
Enqueue = Callable[[EagerJob], object]


class ThreadRunner:
    """The default ``enqueue``: *workers* threads, started at the first job, and at most *backlog* jobs waiting.

    A job that finds the backlog full is skipped (logged): its resizes are
    made by their first requests instead.  A job's failure is logged with
    its traceback, never raised.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, backlog: int = DEFAULT_BACKLOG) -> None:
        self.workers = workers
        self._room = threading.BoundedSemaphore(workers + backlog)
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def __call__(self, job: Callable[[], object]) -> None:
        if not self._room.acquire(blocking=False):
            log.warning("%r skipped: the eager runner's backlog is full (first requests will make them)", job)
            return
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="s3media-eager")
            executor = self._executor
        try:
            executor.submit(self._run, job)
        except RuntimeError:  # the interpreter is shutting down
            self._room.release()

    def _run(self, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception:
            log.exception("%r failed (first requests will make its resizes)", job)
        finally:
            self._room.release()


__all__ = ["DEFAULT_BACKLOG", "DEFAULT_WORKERS", "EagerJob", "Enqueue", "ThreadRunner"]
