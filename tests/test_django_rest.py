"""``MediaReceiptField``: a Django REST framework serializer field taking upload receipts, through DRF's own
request factory and ModelSerializer, with files uploaded the way a browser does (the middleware's routes)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

django = pytest.importorskip("django")
pytest.importorskip("rest_framework")

from django_testapp import configure  # noqa: E402

configure()

import images  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django_testapp.models import Photo  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.test import APIRequestFactory, force_authenticate  # noqa: E402

from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django.fields import ERROR_MESSAGES, MediaValue  # noqa: E402
from s3media_wsgi.adapters.django.permissions import user_binding  # noqa: E402
from s3media_wsgi.adapters.django.rest import MediaReceiptField  # noqa: E402
from s3media_wsgi.ids import new_id  # noqa: E402

MIDDLEWARE = [
    "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


class PhotoSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    image = MediaReceiptField()

    class Meta:
        model = Photo
        fields = ["id", "title", "image"]


@pytest.fixture
def conf(tmp_path: Path, secret: str, migrated: None) -> Iterator[dict[str, Any]]:
    value = {
        "SECRET_KEY": secret,
        "LOCAL_ROOT": str(tmp_path / "media"),
        "UPLOADS": "s3media_wsgi.adapters.django.permissions.is_authenticated",
    }
    with transaction.atomic():
        with override_settings(S3MEDIA=value, MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"):
            yield value
        transaction.set_rollback(True)


def uploaded(user: User) -> tuple[str, str]:
    """A file uploaded and confirmed by *user* through the middleware's routes: its id and receipt."""
    client = Client()
    client.force_login(user)
    params = client.get("/media/s3/params", {"filename": "cat.jpg", "type": "image/jpeg"}).json()
    file = io.BytesIO(images.jpeg(120, 90))
    file.name = "cat.jpg"
    assert client.post(params["url"], {**params["fields"], "file": file}).status_code == 204
    confirmed = client.post("/media/s3/confirm", {"key": params["fields"]["key"]}, content_type="application/json")
    assert confirmed.status_code == 200, confirmed.content
    answer = confirmed.json()
    return str(answer["id"]), str(answer["receipt"])


def request_of(user: User) -> Request:
    raw = APIRequestFactory().post("/photos/", {}, format="json")
    force_authenticate(raw, user=user)
    request = Request(raw)
    request.user  # noqa: B018  (authenticates now, as a view would)
    return request


def test_a_receipt_is_taken_for_its_uploader(conf: dict[str, Any]) -> None:
    alice = User.objects.create(username="alice")
    media_id, receipt = uploaded(alice)
    serializer = PhotoSerializer(data={"title": "Cat", "image": receipt}, context={"request": request_of(alice)})
    assert serializer.is_valid(), serializer.errors
    assert isinstance(serializer.validated_data["image"], MediaValue)
    photo = serializer.save()
    assert Photo.objects.get(pk=photo.pk).image == media_id
    # Read back: the id and its URL, no receipt.
    assert PhotoSerializer(photo).data["image"] == {"id": media_id, "url": get_media().url(media_id)}


def test_refusals(conf: dict[str, Any]) -> None:
    alice, bob = User.objects.create(username="alice"), User.objects.create(username="bob")
    media_id, receipt = uploaded(alice)
    cases = {
        "receipt": receipt,  # alice's, sent by bob
        "id": media_id,  # a bare id, even a stored one
        "invalid": "../../etc/passwd",
    }
    for code, value in cases.items():
        serializer = PhotoSerializer(data={"title": "x", "image": value}, context={"request": request_of(bob)})
        assert not serializer.is_valid()
        assert serializer.errors["image"] == [str(ERROR_MESSAGES[code])], code
    # A receipt, bound to bob, of a file not stored (never confirmed, or deleted since).
    gone = get_media().upload_receipt(new_id("cat.jpg"), user_binding(bob))
    serializer = PhotoSerializer(data={"title": "x", "image": gone}, context={"request": request_of(bob)})
    assert not serializer.is_valid() and serializer.errors["image"] == [str(ERROR_MESSAGES["unconfirmed"])]
    for value in (None, 12, ["x"], ""):
        serializer = PhotoSerializer(data={"title": "x", "image": value}, context={"request": request_of(bob)})
        assert not serializer.is_valid(), value
    assert Photo.objects.count() == 0


def test_an_update_keeps_the_id_it_holds(conf: dict[str, Any]) -> None:
    alice = User.objects.create(username="alice")
    media_id, _ = uploaded(alice)
    photo = Photo.objects.create(title="Cat", image=media_id)
    context = {"request": request_of(User.objects.create(username="editor"))}
    serializer = PhotoSerializer(photo, data={"title": "Renamed", "image": media_id}, context=context)
    assert serializer.is_valid(), serializer.errors
    assert serializer.save().title == "Renamed"
    other, _ = uploaded(alice)
    serializer = PhotoSerializer(photo, data={"title": "Swapped", "image": other}, context=context)
    assert not serializer.is_valid() and serializer.errors["image"] == [str(ERROR_MESSAGES["id"])]
    assert PhotoSerializer(Photo(title="empty", image="")).data["image"] is None
