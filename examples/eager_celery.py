"""Eager presets made by Celery workers, Redis the broker: the app sends a media id, a worker makes the resizes.

The same recipe as ``eager_rq.py``, for an app that runs Celery already.
Install Celery with its Redis transport (``pip install -e '.[celery]'``,
or ``pip install 'celery[redis]'``); the library imports neither.

**The app** names :func:`enqueue` in its settings; an upload's request
only publishes a small message::

    export CELERY_BROKER_URL=redis://127.0.0.1:6379/0
    export S3MEDIA_PRESETS='{"card": {"size": "640x", "format": "webp", "eager": true}}'
    export S3MEDIA_ENQUEUE=eager_celery:enqueue
    python examples/wsgi_app.py

**The workers** run with the same environment, so they build the same
``Media`` with the app's own function, ``wsgi_app.media_from_env``::

    PYTHONPATH=examples celery -A eager_celery worker --queues s3media-eager

The task, ``s3media.make_eager``, takes the id alone, as JSON (pickle is
not accepted).  There is no result backend: the resizes in storage are the
result.

**When things go wrong** nothing reaches the uploader:

- Broker down: the upload still succeeds.  The message is not retried
  (``retry=False``; a connection is tried for at most ``CONNECT_TIMEOUT``
  seconds), the ``Media`` logs "eager presets of … not enqueued", and each
  resize is made by its first request.
- The original deleted before a worker got to it: the worker's ``Media``
  logs a warning, and the task ends making nothing.
- Any other failure (storage down, say) fails the task: Celery logs it and
  the worker goes on with the next one.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from celery import Celery
from wsgi_app import media_from_env

from s3media_wsgi import Media

#: The queue the app sends to and the workers consume (``--queues``).
QUEUE = "s3media-eager"
#: Seconds an upload waits at most to reach the broker.
CONNECT_TIMEOUT = 1.0

app = Celery("eager_celery", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_default_queue=QUEUE,
    broker_connection_timeout=CONNECT_TIMEOUT,
    broker_transport_options={"socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": 2 * CONNECT_TIMEOUT},
    broker_connection_retry_on_startup=True,
    # A worker takes one message at a time and acknowledges it once done: one that dies
    # mid-resize leaves its message for another.
    worker_prefetch_multiplier=1,
    task_acks_late=True,
)


@functools.cache
def worker_media() -> Media:
    """The worker's Media: the app's, from the same environment."""
    return media_from_env()


@app.task(name="s3media.make_eager")
def make_eager(media_id: str) -> list[str]:
    """The task a worker runs: make the eager presets of *media_id* still missing; the keys it stored."""
    return worker_media().make_eager(media_id)


def enqueue(job: Any) -> None:
    """The app's ``enqueue``: send ``s3media.make_eager(job.media_id)``; raises when the broker cannot take it."""
    make_eager.apply_async((str(job.media_id),), retry=False)


__all__ = ["QUEUE", "app", "enqueue", "make_eager", "worker_media"]
