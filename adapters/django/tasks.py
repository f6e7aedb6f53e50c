"""Eager presets as a Django task: the upload enqueues the media id, the task backend's worker makes the resizes.

Django's tasks framework (``django.tasks``, Django 6.0 on) or, on older
Django, its backport, the ``django-tasks`` package
(``pip install django-tasks``, and ``"django_tasks"`` in ``INSTALLED_APPS``).
Name :func:`enqueue` in the settings, next to the eager presets::

    S3MEDIA = {
        ...,
        "PRESETS": {"card": {"size": "640x", "format": "webp", "eager": True}},
        "ENQUEUE": "s3media_wsgi.adapters.django.tasks.enqueue",
    }

Each upload then enqueues :func:`make_eager` with its media id alone (a
JSON string) on the default backend of ``settings.TASKS``.  Whatever runs
that backend's tasks (the worker of a database or RQ backend, say) runs it
with the site's own settings: ``get_media().make_eager(media_id)``.  The
default backend, ``ImmediateBackend``, runs it at once, inside the upload's
request: fine for development and tests, while a real backend takes the
work out of the request.

Like a models module, this module is imported once Django's settings are
configured (its task binds to a backend of ``settings.TASKS``): name it in
settings, never import it from a settings file.

A backend that cannot take the task (its broker down) fails only the
enqueue: the upload succeeds, the Media logs it, and each resize is made by
its first request.  A task whose original was deleted meanwhile logs a
warning and ends.
"""

from __future__ import annotations

import importlib
from typing import Any

import django

from ...eager import EagerJob
from . import get_media


def _task_decorator() -> Any:
    """``django.tasks.task``, else the backport's ``django_tasks.task``; ImportError naming what to install."""
    for module in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(module).task
        except ImportError:
            continue
    raise ImportError(
        "s3media_wsgi.adapters.django.tasks needs Django's tasks framework: Django 6.0 or later, "
        f"or on Django {django.get_version()} the django-tasks package (pip install django-tasks)"
    )


_task = _task_decorator()


@_task()  # type: ignore[untyped-decorator]  # the framework's decorator, found at import: typed Any here
def make_eager(media_id: str) -> list[str]:
    """The task: make the eager presets of *media_id* still missing; the keys stored (none when its original is gone).

    Enqueued as ``make_eager.enqueue(media_id)``; a worker finds it by its
    path, ``s3media_wsgi.adapters.django.tasks.make_eager``.
    """
    return get_media().make_eager(media_id)


def enqueue(job: EagerJob) -> None:
    """``S3MEDIA["ENQUEUE"]``: enqueue :func:`make_eager` with *job*'s media id on the default task backend."""
    make_eager.enqueue(str(job.media_id))


__all__ = ["enqueue", "make_eager"]
