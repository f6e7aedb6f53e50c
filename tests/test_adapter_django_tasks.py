"""Eager presets as a Django task (``s3media_wsgi.adapters.django.tasks``), through the tasks framework's backport.

Django 5.2 has no ``django.tasks``; the ``django-tasks`` package is its
backport, with the same API.  Its ImmediateBackend runs a task as it is
enqueued; its DummyBackend keeps it, as a queue would, for the test to run as
a worker does (the task found by its path, called with the stored arguments).
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_testapp import configure

configure()

import images  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402
from django_tasks import TaskResultStatus, default_task_backend  # noqa: E402
from django_tasks.backends.dummy import DummyBackend  # noqa: E402

from s3media_wsgi import Media, ids  # noqa: E402
from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django import tasks as media_tasks  # noqa: E402

PRESETS = {
    "card": {"size": "640x", "format": "webp", "eager": True},
    "thumb": {"size": "160x160", "mode": "fill", "eager": True},
}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def upload(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": get_media().put(request.FILES["photo"])})


urlpatterns = [path("upload", upload)]


@pytest.fixture
def media_settings(tmp_path: Path, secret: str) -> dict[str, object]:
    return {
        "SECRET_KEY": secret,
        "LOCAL_ROOT": str(tmp_path / "media"),
        "PRESETS": PRESETS,
        "ENQUEUE": "s3media_wsgi.adapters.django.tasks.enqueue",
    }


@pytest.fixture
def immediate(media_settings: dict[str, object]) -> Iterator[None]:
    with override_settings(S3MEDIA=media_settings, ROOT_URLCONF=__name__, TASKS=IMMEDIATE):
        yield


@pytest.fixture
def queued(media_settings: dict[str, object]) -> Iterator[None]:
    with override_settings(S3MEDIA=media_settings, ROOT_URLCONF=__name__, TASKS=DUMMY):
        default_task_backend.clear()
        yield
        default_task_backend.clear()


def post_photo() -> str:
    photo = io.BytesIO(images.jpeg(1200, 900))
    photo.name = "cat.jpg"
    response = Client().post("/upload", {"photo": photo})
    assert response.status_code == 200, response.content
    return str(response.json()["id"])


def eager_keys(media: Media, media_id: str) -> list[str]:
    return sorted(media.resize_key(media_id, name) for name in PRESETS)


def test_the_settings_name_the_task_and_an_upload_runs_it_on_the_immediate_backend(
    immediate: None, decoded_sizes: list[Any]
) -> None:
    media = get_media()
    assert media.enqueue is media_tasks.enqueue
    media_id = post_photo()
    keys = eager_keys(media, media_id)
    assert all(media.storage.exists(key) for key in keys)  # made within the upload's request (immediate)
    decoded_sizes.clear()
    card = media.resize_key(media_id, "card")
    assert media.fetch_resize(card)[1] == media.storage.get(card)
    assert decoded_sizes == []  # its first request finds it made


def test_a_queued_task_is_the_id_alone_and_a_worker_finds_it_by_its_path(queued: None) -> None:
    media = get_media()
    media_id = post_photo()
    keys = eager_keys(media, media_id)
    assert not any(media.storage.exists(key) for key in keys)  # queued, not run

    [result] = default_task_backend.results
    assert result.status == TaskResultStatus.READY
    assert result.task.module_path == "s3media_wsgi.adapters.django.tasks.make_eager"
    assert (result.args, result.kwargs) == ([media_id], {})
    assert len(json.dumps([result.args, result.kwargs])) < 100

    # What a backend's worker does: import the task by its path, call it with the stored arguments.
    task = import_string(result.task.module_path)
    assert task is media_tasks.make_eager
    assert sorted(task.call(*result.args, **result.kwargs)) == keys
    assert all(media.storage.exists(key) for key in keys)


def test_a_task_whose_original_is_gone_logs_and_succeeds(immediate: None, caplog: pytest.LogCaptureFixture) -> None:
    media = get_media()
    media_id = media.put(images.jpeg(300, 200), filename="gone.jpg")  # its eager presets made at once
    media.delete(media_id)  # the original and its resizes: gone before the task below runs
    assert not media.storage.exists(ids.original_key(media_id))
    with caplog.at_level(logging.WARNING, logger="s3media_wsgi"):
        result = media_tasks.make_eager.enqueue(str(media_id))
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == []
    assert any(f"eager presets of {media_id} not made: no original" in r.getMessage() for r in caplog.records)


def test_a_backend_that_cannot_take_the_task_does_not_fail_the_upload(
    queued: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the task backend's broker is down")

    monkeypatch.setattr(DummyBackend, "enqueue", down)
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        media_id = post_photo()
    assert get_media().storage.exists(ids.original_key(media_id))
    assert any("not enqueued" in r.getMessage() and media_id in r.getMessage() for r in caplog.records)


def test_without_a_tasks_framework_the_import_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "django.tasks", None)  # Django 5.2 has none; made certain here
    monkeypatch.setitem(sys.modules, "django_tasks", None)
    wanted = r"Django 6\.0 or later, or on Django [0-9.]+ the django-tasks package \(pip install django-tasks\)"
    with pytest.raises(ImportError, match=wanted):
        media_tasks._task_decorator()
