"""``MediaStorage``: Django's storage contract on local storage and on S3 (moto's server), ImageField
dimensions without a read, template tags on FieldFiles without storage calls, legacy names, and the
deletion of replaced media after commit.

The model (``django_testapp.Picture``) is one written before the media layer: an ``ImageField`` and
a ``FileField`` on the default storage.  The tests switch ``STORAGES["default"]`` to MediaStorage with
``override_settings``, as a project switches its settings.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

django = pytest.importorskip("django")

from django_testapp import configure, s3media_setting, storages  # noqa: E402

configure()  # shared with the other Django test modules: settings are configured once per process

import images  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.images import get_image_dimensions  # noqa: E402
from django.core.files.storage import FileSystemStorage, default_storage  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models.fields.files import FieldFile, ImageFieldFile  # noqa: E402
from django.template import Context, Template  # noqa: E402
from django.test import Client, TestCase, override_settings  # noqa: E402
from django_testapp.models import Photo, Picture  # noqa: E402

from s3media_wsgi import ids  # noqa: E402
from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django.naming import derived_id  # noqa: E402
from s3media_wsgi.adapters.django.storage import (  # noqa: E402
    MIN_MAX_LENGTH,
    MediaFieldFile,
    MediaImageFieldFile,
    MediaRefused,
    MediaStorage,
    fitting_filename,
)
from s3media_wsgi.errors import ConfigError  # noqa: E402
from s3media_wsgi.storage.base import list_objects  # noqa: E402

MIDDLEWARE = [
    "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def legacy_root(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture(params=["local", "s3"])
def conf(
    request: pytest.FixtureRequest, tmp_path: Path, secret: str, legacy_root: Path, db: None
) -> Iterator[dict[str, Any]]:
    """``S3MEDIA`` on local storage, or on S3 (moto's server), with STORAGES switched to MediaStorage."""
    value: dict[str, Any] = s3media_setting("local", secret, tmp_path / "media")
    if request.param == "s3":
        endpoint, bucket = request.getfixturevalue("moto_endpoint"), request.getfixturevalue("s3_bucket")
        value = s3media_setting("s3", secret, "", endpoint, bucket)
    with override_settings(
        S3MEDIA=value, STORAGES=storages(legacy_root), MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"
    ):
        yield value


@pytest.fixture
def local_conf(tmp_path: Path, secret: str, legacy_root: Path, db: None) -> Iterator[dict[str, Any]]:
    value: dict[str, Any] = {"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "media")}
    with override_settings(
        S3MEDIA=value, STORAGES=storages(legacy_root), MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"
    ):
        yield value


class Calls:
    """Every call of the media storage's methods, by name (wrapping the instance's methods)."""

    NAMES = ("get", "read", "head", "exists", "put", "delete", "delete_prefix", "list_keys", "copy")

    def __init__(self, storage: Any) -> None:
        self.names: list[str] = []
        for name in self.NAMES:
            method = getattr(storage, name, None)
            if method is not None:
                setattr(storage, name, self._wrap(name, method))

    def _wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.names.append(name)
            return method(*args, **kwargs)

        return wrapper

    @property
    def reads(self) -> list[str]:
        return [name for name in self.names if name in ("get", "read", "head", "exists")]


@pytest.fixture
def calls(conf: dict[str, Any]) -> Calls:
    return Calls(get_media().storage)


def upload(data: bytes | None = None, name: str = "cat.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or images.jpeg(400, 300), content_type="image/jpeg")


# --- Django's storage contract ------------------------------------------------------------------


def test_save_returns_a_media_id_that_fits_the_field(conf: dict[str, Any]) -> None:
    storage = MediaStorage()
    name = storage.save("photos/2024/My Holiday.JPEG", ContentFile(images.jpeg(200, 100)), max_length=100)
    assert ids.is_id(name) and name.endswith("/my-holiday.jpg")
    assert (name.width, name.height) == (200, 100)  # type: ignore[attr-defined]
    # The longest name a browser sends still fits FileField's default max_length.
    long = storage.save("x/" + "Long name " * 30 + ".png", ContentFile(images.png(20, 10)), max_length=100)
    assert ids.is_id(long) and len(long) <= 100 and long.endswith(".png")
    # The real type decides the extension, whatever the name says.
    sniffed = storage.save("not-a-gif.gif", ContentFile(images.png(20, 10)), max_length=100)
    assert sniffed.endswith("/not-a-gif.png")
    # Saving the same name twice makes two files: no name is ever taken (get_available_name asks nothing).
    again = storage.save("photos/2024/My Holiday.JPEG", ContentFile(images.jpeg(200, 100)), max_length=100)
    assert again != name and storage.get_available_name(name) == name


def test_fitting_filename_bounds() -> None:
    for max_length in (MIN_MAX_LENGTH, 60, 100, 255):
        name = fitting_filename("a" * 300 + ".jpeg", max_length)
        assert len(ids.new_id(name)) + ids.MAX_EXT - 3 <= max_length
    with pytest.raises(ConfigError, match="at least"):
        fitting_filename("cat.jpg", MIN_MAX_LENGTH - 1)


def test_open_exists_size_url_delete(conf: dict[str, Any]) -> None:
    storage = MediaStorage()
    data = images.jpeg_with_metadata(200, 150)
    name = storage.save("cat.jpg", ContentFile(data), max_length=100)
    media = get_media()
    with storage.open(name) as fh:
        stored = fh.read()
    assert stored == media.get(name) and b"Exif" not in stored[:4096]  # cleaned by the upload pass
    assert storage.exists(name) and not storage.exists(ids.new_id("cat.jpg"))
    assert storage.size(name) == len(stored)
    assert storage.size(str(name)) == len(stored)  # a plain name (a row's): asked of storage
    assert storage.url(name) == media.url(name)
    resize = media.resize_url(name, "50x50", mode="fill")
    assert storage.resize_url(name, "50x50", mode="fill") == resize
    media.create_resize(media.resize_key(name, "50x50", mode="fill"))
    storage.delete(name)
    assert not storage.exists(name) and not media.storage.exists(media.resize_key(name, "50x50", mode="fill"))
    storage.delete(name)  # absent: nothing happens
    with pytest.raises(FileNotFoundError):
        storage.open(name)
    with pytest.raises(FileNotFoundError):
        storage.size(str(name))
    with pytest.raises(NotImplementedError):
        storage.path(name)
    with pytest.raises(ValueError, match="read-only"):
        storage.open(name, "wb")


def test_listdir_lists_ids_as_files_and_leaves_resizes_out(conf: dict[str, Any]) -> None:
    storage = MediaStorage()
    name = storage.save("cat.jpg", ContentFile(images.jpeg(60, 40)), max_length=100)
    media = get_media()
    media.create_resize(media.resize_key(name, "20x20"))
    folder, _, file = name.rpartition("/")
    assert storage.listdir(folder) == ([], [file])
    top = name.split("/")[0]
    dirs, files = storage.listdir(top)
    assert dirs == [name.split("/")[1]] and files == []
    assert top in storage.listdir("")[0] and "uploads" not in storage.listdir("")[0]


def test_modified_time(conf: dict[str, Any]) -> None:
    storage = MediaStorage()
    name = storage.save("cat.jpg", ContentFile(images.jpeg(60, 40)), max_length=100)
    if conf.get("STORAGE") == "s3":
        with pytest.raises(NotImplementedError):
            storage.get_modified_time(name)
    else:
        stamp = storage.get_modified_time(name)
        assert isinstance(stamp, datetime) and stamp.tzinfo is not None
        assert abs((datetime.now(stamp.tzinfo) - stamp).total_seconds()) < 60


def test_a_refused_file_is_a_400_and_stores_nothing(conf: dict[str, Any]) -> None:
    storage = MediaStorage()
    media = get_media()
    for bad in (b"<html><script>alert(1)</script></html>", images.truncated_jpeg(), b"\x00" * 100):
        with pytest.raises(MediaRefused) as refused:
            storage.save("evil.jpg", ContentFile(bad), max_length=100)
        assert refused.value.error.status_code < 500 and str(refused.value)
    assert media.storage.list_keys("uploads/") == [] if hasattr(media.storage, "list_keys") else True
    # Django turns SuspiciousFileOperation into a 400, never a 500.
    from django.core.exceptions import SuspiciousOperation

    assert isinstance(refused.value, SuspiciousOperation)


# --- ImageField: dimensions without a second read ------------------------------------------------


def test_image_field_dimensions_come_from_the_upload_pass(conf: dict[str, Any], calls: Calls) -> None:
    # Stored turned (EXIF orientation 6): upright it is 120x80, Django's own read of the bytes says 80x120.
    data = images.oriented_jpeg(6, 120, 80)
    assert get_image_dimensions(io.BytesIO(data)) == (80, 120)
    picture = Picture(title="Upright", image=upload(data, "turned.jpg"))
    picture.save()
    assert isinstance(picture.image, MediaImageFieldFile) and ids.is_id(picture.image.name)
    assert (picture.width, picture.height) == (120, 80)
    assert calls.reads == [] and calls.names.count("put") == 1  # one write, no read
    row = Picture.objects.get(pk=picture.pk)
    assert (row.image.width, row.image.height) == (120, 80)  # the model's fields: no read either
    assert calls.reads == []
    # Without dimension fields to read, a row's image falls back to Django's own read of the file.
    assert isinstance(row.attachment, MediaFieldFile) and not row.attachment


def test_django_reads_the_file_when_nothing_knows_its_size(conf: dict[str, Any], calls: Calls) -> None:
    picture = Picture.objects.create(title="raw", image=upload(images.jpeg(64, 48)))
    Picture.objects.filter(pk=picture.pk).update(width=None, height=None)  # as a row saved without them
    calls.names.clear()
    row = Picture.objects.get(pk=picture.pk)  # Django fills empty dimension fields when loading
    assert (row.width, row.height) == (64, 48) and (row.image.width, row.image.height) == (64, 48)
    assert calls.reads == ["get"]  # the one read Django needs
    assert type(Picture(title="new").image) is MediaImageFieldFile


def test_django_own_field_files_come_back_when_the_storage_does(legacy_root: Path, db: None) -> None:
    field = Picture._meta.get_field("image")
    with override_settings(STORAGES=storages(legacy_root, media=False)):
        assert field.attr_class is ImageFieldFile
        assert Picture._meta.get_field("attachment").attr_class is FieldFile
    with override_settings(STORAGES=storages(legacy_root)):
        assert field.attr_class is MediaImageFieldFile


# --- template tags and helpers on FieldFiles: no storage call per URL -----------------------------

PAGE = Template(
    "{% load s3media %}{% for p in pictures %}"
    '<a href="{% media_url p.image %}">{% resize_url p.image "400x300" mode="fill" %}</a>'
    '{% picture p.image sizes="320,640" alt=p.title %}\n{% endfor %}'
)


def test_tags_take_field_files_without_storage_calls(conf: dict[str, Any], calls: Calls) -> None:
    for n in range(5):
        Picture.objects.create(title=f"p{n}", image=ContentFile(images.jpeg(800, 600), name=f"p{n}.jpg"))
    pictures = list(Picture.objects.order_by("pk"))
    calls.names.clear()
    html = PAGE.render(Context({"pictures": pictures}))
    assert calls.names == []  # 15 URLs, not one storage call
    media = get_media()
    for picture in pictures:
        media_id = picture.image.name
        assert media.url(media_id) in html
        assert media.resize_url(media_id, "400x300", mode="fill") in html
        assert media.resize_url(media_id, "320x") in html
        # The row's width and height size the <img>: no layout shift, and no read.
        assert picture.image.picture(sizes=[320, 640], alt=picture.title) in html
    assert html.count('width="640" height="480"') == 5
    assert calls.names == []
    first = pictures[0]
    assert first.image.resize_url("100x100", mode="fill") == media.resize_url(first.image.name, "100x100", mode="fill")
    assert first.image.url == media.url(first.image.name)


# --- names saved before the switch ------------------------------------------------------------------


def test_legacy_rows_keep_working(tmp_path: Path, secret: str, legacy_root: Path, db: None) -> None:
    before = storages(legacy_root, media=False)
    with override_settings(STORAGES=before):
        old = Picture.objects.create(title="old", image=SimpleUploadedFile("cat.jpg", images.jpeg(90, 60)))
    assert old.image.name == "photos/" + old.image.name.split("/")[1] + "/cat.jpg"
    legacy_file = legacy_root / old.image.name
    assert legacy_file.is_file()
    value = {"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "media")}
    with override_settings(
        S3MEDIA=value, STORAGES=storages(legacy_root), MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"
    ):
        media = get_media()
        row = Picture.objects.get(pk=old.pk)
        assert isinstance(row.image, MediaImageFieldFile)
        assert row.image.url == "/uploads/" + old.image.name
        assert row.image.size == legacy_file.stat().st_size
        with row.image.open() as fh:
            assert fh.read() == legacy_file.read_bytes()
        # Its resize URL is signed and built with no I/O; the first request makes the file media
        # under its derived id and redirects to that id's resize.
        derived = derived_id(old.image.name, "legacy")
        url = row.image.resize_url("40x40", mode="fill")
        assert url.startswith("/media/legacy/legacy/photos/") and not media.exists(derived)
        client = Client()
        redirect = client.get(url)
        assert redirect.status_code == 302 and redirect["Location"] == media.resize_url(derived, "40x40", mode="fill")
        assert media.exists(derived)
        resized = client.get(redirect["Location"])
        assert resized.status_code == 200 and resized["Content-Type"] == "image/jpeg"
        assert client.get(url).status_code == 302  # the second time: found, not stored again
        # Forged, altered or misdirected URLs find nothing; only GET and HEAD.
        assert client.get(url.replace("40x40", "400x400")).status_code == 404
        assert client.get(url.replace("/legacy/legacy/", "/legacy/other/")).status_code == 404
        assert client.get(url.replace("/legacy/legacy/", "/legacy/default/")).status_code == 404
        assert client.get(url.split("?")[0]).status_code == 404
        assert client.post(url).status_code == 405
        # Pages: the original's link, the resize and the <picture> (sized by the row) of the legacy file.
        html = PAGE.render(Context({"pictures": [row]}))
        assert html.count("/uploads/" + old.image.name) == 1 and 'width="90" height="60"' in html
        # resize_url, then the <picture>: its widths capped at the original's 90 pixels, so one rendition a
        # format (avif and webp <source>s, the jpg's <img> src and srcset).
        assert html.count("/media/legacy/legacy/photos/") == 1 + 2 + 2
        # import gives the row the same derived id: what the request stored is kept, not stored twice.
        call_command("s3media", "import", "django_testapp.Picture.image", stdout=io.StringIO())
        row = Picture.objects.get(pk=old.pk)
        assert row.image.name == derived and (row.width, row.height) == (90, 60)
        # A new file on the same row goes to media; the old one is deleted once the row is committed.
        with TestCase.captureOnCommitCallbacks(execute=True):
            row.image = SimpleUploadedFile("new.jpg", images.jpeg(30, 20))
            row.save()
        assert ids.is_id(row.image.name) and (row.width, row.height) == (30, 20)
        assert not media.exists(derived) and legacy_file.exists()  # import keeps the legacy file


def test_a_replaced_legacy_file_goes_with_its_derived_copy(local_conf: dict[str, Any], legacy_root: Path) -> None:
    with override_settings(STORAGES=storages(legacy_root, media=False)):
        old = Picture.objects.create(title="old", image=SimpleUploadedFile("dog.jpg", images.jpeg(50, 40)))
    media = get_media()
    row = Picture.objects.get(pk=old.pk)
    assert Client().get(row.image.resize_url("20x20")).status_code == 302
    derived = derived_id(old.image.name, "legacy")
    assert media.exists(derived)
    with TestCase.captureOnCommitCallbacks(execute=True):
        row.delete()
    assert not (legacy_root / old.image.name).exists() and not media.exists(derived)


def test_a_legacy_file_that_cannot_be_media_redirects_to_its_original(
    local_conf: dict[str, Any], legacy_root: Path
) -> None:
    with override_settings(STORAGES=storages(legacy_root, media=False)):
        lying = Picture.objects.create(title="png", image=SimpleUploadedFile("lies.jpg", images.png(30, 20)))
    row = Picture.objects.get(pk=lying.pk)
    client = Client()
    answer = client.get(row.image.resize_url("20x20"))
    assert answer.status_code == 302 and answer["Location"] == "/uploads/" + lying.image.name
    assert not get_media().exists(derived_id(lying.image.name, "legacy"))  # nothing stored
    (legacy_root / lying.image.name).unlink()
    assert client.get(row.image.resize_url("20x20")).status_code == 404  # gone from the old storage


def test_system_checks_of_fields_on_media_storage(local_conf: dict[str, Any], legacy_root: Path) -> None:
    from django.core.checks import run_checks

    assert [e.id for e in run_checks(tags=["s3media"]) if e.id in ("s3media.E005", "s3media.E006")] == []
    missing = {**storages(legacy_root), "legacy": None}
    del missing["legacy"]
    with override_settings(STORAGES=missing):
        errors = [e for e in run_checks(tags=["s3media"]) if e.id == "s3media.E006"]
        assert {e.obj for e in errors} == {Picture._meta.get_field("image"), Picture._meta.get_field("attachment")}
    field = Picture._meta.get_field("attachment")
    short, field.max_length = field.max_length, 40
    try:
        errors = [e for e in run_checks(tags=["s3media"]) if e.id == "s3media.E005"]
        assert [e.obj for e in errors] == [field] and "at least 47" in errors[0].hint
    finally:
        field.max_length = short


def test_legacy_resizes_under_asgi(local_conf: dict[str, Any], legacy_root: Path) -> None:
    import asyncio

    from django.test import AsyncClient

    (legacy_root / "photos").mkdir(parents=True)
    (legacy_root / "photos" / "async.jpg").write_bytes(images.jpeg(60, 40))
    url = MediaStorage(legacy="legacy").resize_url("photos/async.jpg", "30x")

    async def scenario() -> tuple[int, str]:
        response = await AsyncClient().get(url)
        return response.status_code, response["Location"]

    status, location = asyncio.run(scenario())
    derived = derived_id("photos/async.jpg", "legacy")
    assert (status, location) == (302, get_media().resize_url(derived, "30x")) and get_media().exists(derived)


def test_a_legacy_crop_keeps_its_focus_in_one_spelling(local_conf: dict[str, Any], legacy_root: Path) -> None:
    from django.test import Client

    (legacy_root / "photos").mkdir(parents=True, exist_ok=True)
    (legacy_root / "photos" / "wide.jpg").write_bytes(images.jpeg(120, 40))
    storage = MediaStorage(legacy="legacy")
    url = storage.resize_url("photos/wide.jpg", "30x30", mode="fill", focus=(0.1, 0.5))
    assert url == storage.resize_url("photos/wide.jpg", "30x30", mode="fill", focus="0.1,0.5")
    response = Client().get(url)
    derived = derived_id("photos/wide.jpg", "legacy")
    assert response.status_code == 302
    assert response["Location"] == get_media().resize_url(derived, "30x30", mode="fill", focus=(0.1, 0.5))
    assert "-f10x50-" in response["Location"]
    tampered = url.replace("focus=0.1", "focus=0.2")
    assert Client().get(tampered).status_code == 404


def test_legacy_storage_may_not_be_itself(local_conf: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="itself"):
        MediaStorage(legacy="default").exists("photos/cat.jpg")
    assert isinstance(MediaStorage().legacy, FileSystemStorage)  # MEDIA_ROOT, MEDIA_URL by default


# --- no orphans ----------------------------------------------------------------------------------------


def test_replaced_and_deleted_media_go_after_commit(conf: dict[str, Any]) -> None:
    media = get_media()
    with TestCase.captureOnCommitCallbacks(execute=True):
        picture = Picture.objects.create(title="a", image=upload(name="first.jpg"))
    first = picture.image.name
    with TestCase.captureOnCommitCallbacks(execute=False) as pending:
        picture.image = upload(name="second.jpg")
        picture.save()
        assert media.exists(first)  # not before the commit
    assert len(pending) == 1
    for callback in pending:
        callback()
    assert not media.exists(first) and media.exists(picture.image.name)
    second = picture.image.name
    with TestCase.captureOnCommitCallbacks(execute=True):
        picture.delete()
    assert not media.exists(second)


def test_a_rollback_deletes_nothing(conf: dict[str, Any]) -> None:
    media = get_media()
    picture = Picture.objects.create(title="a", image=upload())
    first = picture.image.name
    with TestCase.captureOnCommitCallbacks(execute=True) as done:
        try:
            with transaction.atomic():
                picture.image = upload(name="other.jpg")
                picture.save()
                Picture.objects.get(pk=picture.pk).delete()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert done == [] and media.exists(first)


def test_media_field_rows_too_and_a_shared_file_is_kept(conf: dict[str, Any]) -> None:
    media = get_media()
    shared, own = media.put(images.jpeg(40, 30)), media.put(images.jpeg(40, 30))
    with TestCase.captureOnCommitCallbacks(execute=True):
        one = Photo.objects.create(title="one", image=shared)
        Photo.objects.create(title="two", image=shared)
        one.image = own
        one.save()  # "shared" is still held by the row "two"
    assert media.exists(shared) and media.exists(own)
    with TestCase.captureOnCommitCallbacks(execute=True):
        one.delete()
    assert not media.exists(own) and media.exists(shared)
    # Held by another model's field: kept too.
    picture = Picture.objects.create(title="p", image=upload())
    with TestCase.captureOnCommitCallbacks(execute=True):
        photo = Photo.objects.create(title="copy", image=picture.image.name)
        photo.delete()
    assert media.exists(picture.image.name)


def test_the_setting_turns_it_off(local_conf: dict[str, Any]) -> None:
    media = get_media()
    with override_settings(S3MEDIA={**local_conf, "DELETE_REPLACED": False}):
        media = get_media()
        picture = Picture.objects.create(title="a", image=upload())
        with TestCase.captureOnCommitCallbacks(execute=True) as done:
            picture.delete()
        assert done == [] and media.exists(picture.image.name)


# --- a project switched by settings alone: its admin and its pages ------------------------------------


def test_the_admin_saves_and_shows_through_media_storage(local_conf: dict[str, Any], legacy_root: Path) -> None:
    client = Client()
    client.force_login(User.objects.create(username="editor", is_staff=True, is_superuser=True))
    with TestCase.captureOnCommitCallbacks(execute=True):
        added = client.post(
            "/admin/django_testapp/picture/add/",
            {"title": "Admin cat", "image": upload(images.jpeg(300, 200), "Admin Cat.jpg"), "attachment": ""},
        )
    assert added.status_code == 302, added.content.decode()[:2000]
    picture = Picture.objects.get(title="Admin cat")
    assert ids.is_id(picture.image.name) and (picture.width, picture.height) == (300, 200)
    media = get_media()
    thumbnail = media.resize_url(picture.image.name, "60x60", mode="fill")
    changelist = client.get("/admin/django_testapp/picture/")
    assert changelist.status_code == 200
    assert f'<img src="{thumbnail}" width="60" height="60"' in changelist.content.decode()
    shown = client.get(thumbnail)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    change = client.get(f"/admin/django_testapp/picture/{picture.pk}/change/")
    assert change.status_code == 200 and picture.image.url in change.content.decode()
    # The admin's link is served (by the media middleware: local storage) and so is a resize.
    served = client.get(picture.image.url)
    assert served.status_code == 200 and b"".join(served.streaming_content if served.streaming else [served.content])
    resized = client.get(picture.image.resize_url("60x60", mode="fill"))
    assert resized.status_code == 200
    # A type the media layer refuses is the field's error in the form: nothing stored.
    refused = client.post(
        "/admin/django_testapp/picture/add/",
        {"title": "bad", "image": upload(images.jpeg(30, 20)), "attachment": SimpleUploadedFile("a.html", b"<html>hi")},
    )
    assert refused.status_code == 200 and not Picture.objects.filter(title="bad").exists()
    assert "File type not accepted: HTML" in refused.content.decode()
    # A file refused only when stored (its pixels do not decode) is a 400, and what the row's save
    # stored before it (the image) goes too: nothing partial is left.
    refused = client.post(
        "/admin/django_testapp/picture/add/",
        {
            "title": "bad",
            "image": upload(images.jpeg(30, 20)),
            "attachment": SimpleUploadedFile("cut.jpg", images.truncated_jpeg()),
        },
    )
    assert refused.status_code == 400 and not Picture.objects.filter(title="bad").exists()
    stored = {item.key.rpartition("/")[0] for item in list_objects(media.storage)}
    assert {name for name in stored if ids.is_id(name)} == {picture.image.name}


def test_default_storage_is_media_storage_by_settings_alone(local_conf: dict[str, Any]) -> None:
    assert isinstance(default_storage, MediaStorage)
    name = default_storage.save("hello.png", io.BytesIO(images.png(10, 10)))
    assert ids.is_id(name) and default_storage.exists(name)
