"""Eager presets made by RQ workers: the app puts a media id on a Redis queue, a worker makes the resizes.

A preset marked ``"eager": True`` is made right after each upload.  By
default a couple of threads of the app's own process do it; with this
module the app hands the work to `RQ <https://python-rq.org/>`_ instead,
and workers anywhere (other processes, other machines) make the resizes
and store them where their resize URLs point.  The library imports
neither RQ nor Redis: install them for this recipe
(``pip install -e '.[rq]'``, or ``pip install rq``).

**The app** names :func:`enqueue` in its settings, next to its presets;
the upload's request only puts a small job on the queue::

    export REDIS_URL=redis://127.0.0.1:6379/0
    export S3MEDIA_PRESETS='{"card": {"size": "640x", "format": "webp", "eager": true}}'
    export S3MEDIA_ENQUEUE=eager_rq:enqueue
    python examples/wsgi_app.py

(or ``Media(..., enqueue=eager_rq.enqueue)`` in code.)

**The workers** run with the very same environment, so they build the same
``Media`` (the same storage, secret and presets: a resize key depends on
all three) with the app's own function, ``wsgi_app.media_from_env``::

    PYTHONPATH=examples rq worker -w eager_rq.Worker --url "$REDIS_URL" --serializer json s3media-eager

Each job is ``eager_rq.make_eager(media_id)``, stored as JSON, about a
hundred bytes: the name of the function and the id, never the image.  A
worker reads the original once, decodes it once, and stores every eager
preset still missing (:meth:`Media.make_eager <s3media_wsgi.Media.make_eager>`).

**When things go wrong** nothing reaches the uploader:

- Redis down or unreachable: the upload still succeeds.  ``enqueue``
  raises (a refused connection at once; a host that does not answer
  after ``CONNECT_TIMEOUT`` or ``ANSWER_TIMEOUT`` seconds, tried twice),
  the ``Media`` logs "eager presets of … not enqueued" and moves on, and
  each resize is made by its first request, as without eager presets.
- The original deleted before a worker got to it: the worker's ``Media``
  logs a warning and the job ends, making nothing (nothing to retry).
- Any other failure (storage down, say) fails the job: RQ logs it and
  keeps it in its failed-job registry; ``rq requeue --all --serializer
  json --queue s3media-eager`` puts it back.  The worker goes on with
  the next job.

RQ's worker forks a child per job: a decode's memory goes back to the
system when the child ends, and a crash ends one job, not the worker.
:class:`Worker` builds the ``Media`` before the first fork, so each child
inherits it (RQ's own ``rq.Worker`` would import this module and build a
``Media`` in every child: about three times the time per job;
``benchmarks/bench_eager_queue.py`` measures it).
``-w rq.worker.SimpleWorker`` runs the jobs in the worker process itself.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import rq
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from rq.serializers import JSONSerializer
from wsgi_app import media_from_env

from s3media_wsgi import Media

#: The queue's name, for ``rq worker``.
QUEUE = "s3media-eager"
#: Seconds an upload waits at most to reach Redis, and for its answer.
CONNECT_TIMEOUT = 1.0
ANSWER_TIMEOUT = 2.0
#: Seconds one job may take (a large image on a slow storage), and how long RQ keeps its result.
JOB_TIMEOUT = 120
RESULT_TTL = 600


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@functools.cache
def queue() -> Queue:
    """The queue, on a connection made once per process (redis-py's pool is thread-safe)."""
    connection = Redis.from_url(
        redis_url(),
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=ANSWER_TIMEOUT,
        retry=Retry(NoBackoff(), 1),  # one more try (a pooled connection Redis closed), then the upload goes on
    )
    return Queue(QUEUE, connection=connection, serializer=JSONSerializer)


def enqueue(job: Any) -> None:
    """The app's ``enqueue``: put ``make_eager(job.media_id)`` on the queue; raises when Redis cannot take it."""
    queue().enqueue(
        make_eager,
        str(job.media_id),
        job_timeout=JOB_TIMEOUT,
        result_ttl=RESULT_TTL,
        description=f"eager presets of {job.media_id}",
    )


@functools.cache
def worker_media() -> Media:
    """The worker's Media: the app's, from the same environment."""
    return media_from_env()


class Worker(rq.Worker):
    """RQ's worker (a child forked per job), its Media built once, before the first fork.

    ``rq worker -w eager_rq.Worker``: each job's child inherits this module,
    its imports and the Media, instead of importing and building them anew.
    """

    def work(self, *args: Any, **kwargs: Any) -> bool:
        worker_media()
        return bool(super().work(*args, **kwargs))


def make_eager(media_id: str) -> list[str]:
    """The job a worker runs: make the eager presets of *media_id* still missing; the keys it stored."""
    return worker_media().make_eager(media_id)


__all__ = ["QUEUE", "Worker", "enqueue", "make_eager", "queue", "worker_media"]
