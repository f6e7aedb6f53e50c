"""``manage.py s3media``: the ``s3media`` subcommands on ``settings.S3MEDIA``, ``import`` and ``gc``;
on local storage and on S3 (moto's server), through ``call_command``."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

django = pytest.importorskip("django")

from django_testapp import configure, s3media_setting, storages  # noqa: E402

configure()

import images  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.test import override_settings  # noqa: E402
from django_testapp.models import Photo, Picture  # noqa: E402

from s3media_wsgi import ids  # noqa: E402
from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django.management.commands.s3media import cli_environ  # noqa: E402


@pytest.fixture(params=["local", "s3"])
def conf(request: pytest.FixtureRequest, tmp_path: Path, secret: str, db: None) -> Iterator[dict[str, Any]]:
    value: dict[str, Any] = s3media_setting("local", secret, tmp_path / "media")
    if request.param == "s3":
        endpoint, bucket = request.getfixturevalue("moto_endpoint"), request.getfixturevalue("s3_bucket")
        value = s3media_setting("s3", secret, "", endpoint, bucket)
    with override_settings(S3MEDIA=value, STORAGES=storages(tmp_path / "uploads")):
        yield value


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("s3media", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(code: int, *args: str) -> str:
    with pytest.raises(CommandError) as failed:
        run(*args)
    assert failed.value.returncode == code, failed.value
    return str(failed.value)


# --- the s3media subcommands read settings.S3MEDIA ---------------------------------------------------


def test_settings_not_the_environment(conf: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3MEDIA_BUCKET", "not-this-one")  # the environment's S3MEDIA_* are not read
    environ = cli_environ()
    assert environ.get("S3MEDIA_BUCKET") == conf.get("BUCKET") and environ["S3MEDIA_SECRET_KEY"] == conf["SECRET_KEY"]
    media = get_media()
    media_id = media.put(images.jpeg(80, 60))
    out, _ = run("url", media_id, "--size", "40x30", "--mode", "fill")
    assert out.strip() == media.resize_url(media_id, "40x30", mode="fill")
    photo = Path(conf.get("LOCAL_ROOT", "/nonexistent")).parent / "upload.png"
    photo.write_bytes(images.png(30, 20))
    out, _ = run("put", str(photo))
    stored = out.split()[-1]
    assert ids.is_id(stored) and media.exists(stored)
    out, _ = run("delete", stored)
    assert not media.exists(stored)
    fails(2, "url")  # a usage error: exit code 2


def test_unknown_subcommand_is_a_usage_error(conf: dict[str, Any]) -> None:
    fails(2, "no-such-command")


# --- import ------------------------------------------------------------------------------------------


def legacy_rows(tmp_path: Path) -> list[Picture]:
    """Rows saved before the switch, on Django's FileSystemStorage (one whose file is gone since)."""
    with override_settings(STORAGES=storages(tmp_path / "uploads", media=False)):
        rows = [
            Picture.objects.create(title=f"old{n}", image=SimpleUploadedFile(f"Cat {n}.JPG", images.jpeg(60 + n, 40)))
            for n in range(3)
        ]
        gone = Picture.objects.create(title="gone", image=SimpleUploadedFile("gone.jpg", images.jpeg(20, 20)))
    os.unlink(tmp_path / "uploads" / gone.image.name)
    return [*rows, gone]


def test_import_moves_legacy_files_into_media(conf: dict[str, Any], tmp_path: Path) -> None:
    rows = legacy_rows(tmp_path)
    with override_settings(STORAGES=storages(tmp_path / "uploads", media=False)):
        legacy_sizes = sum(Picture.objects.get(pk=row.pk).image.size for row in rows[:3])
    fresh = Picture.objects.create(title="new", image=SimpleUploadedFile("new.jpg", images.jpeg(30, 30)))
    # A dry run first: rows and bytes, nothing changed.
    out, err = run("import", "django_testapp.Picture.image", "--dry-run")
    assert f"dry run: 4 rows to import, {legacy_sizes} bytes" in out
    assert f"row {rows[3].pk}: {rows[3].image.name}:" in err  # the missing file, named
    assert [Picture.objects.get(pk=row.pk).image.name for row in rows] == [row.image.name for row in rows]
    message = fails(1, "import", "django_testapp.Picture.image", "--batch-size", "2")
    assert "1 rows not imported" in message
    media = get_media()
    for n, row in enumerate(rows[:3]):
        moved = Picture.objects.get(pk=row.pk)
        assert ids.is_id(moved.image.name) and moved.image.name.endswith(f"/cat-{n}.jpg")
        assert (moved.width, moved.height) == (60 + n, 40)
        assert media.exists(moved.image.name)
        media.create_resize(media.resize_key(moved.image.name, "20x20"))  # its resizes work now
        assert (tmp_path / "uploads" / row.image.name).is_file()  # the legacy file is kept (no --delete-old)
    assert Picture.objects.get(pk=rows[3].pk).image.name == rows[3].image.name  # left as it was
    assert Picture.objects.get(pk=fresh.pk).image.name == fresh.image.name
    # Run again: only the row that failed is tried again.
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("s3media", "import", "django_testapp.Picture.image", stdout=out, stderr=err)
    assert "imported 0 of 1 rows" in out.getvalue() and rows[3].image.name in err.getvalue()


def test_import_deletes_old_files_when_asked(conf: dict[str, Any], tmp_path: Path) -> None:
    rows = legacy_rows(tmp_path)[:3]
    Picture.objects.filter(title="gone").delete()
    out, _ = run("import", "django_testapp.Picture.image", "--delete-old")
    assert "imported 3 of 3 rows" in out
    assert not any((tmp_path / "uploads" / row.image.name).exists() for row in rows)


def test_import_refuses_what_it_cannot_import(conf: dict[str, Any], tmp_path: Path) -> None:
    assert "app_label.Model.field" in fails(2, "import", "Picture.image")
    assert "not a FileField" in fails(2, "import", "django_testapp.Picture.title")
    assert "No installed app" in fails(2, "import", "nope.Picture.image")
    with override_settings(STORAGES=storages(tmp_path / "uploads", media=False)):
        assert "not on MediaStorage" in fails(2, "import", "django_testapp.Picture.image")
    fails(2, "import", "django_testapp.Picture.image", "--batch-size", "0")


# --- gc ------------------------------------------------------------------------------------------------


def test_gc_finds_unreferenced_originals_after_a_grace_period(conf: dict[str, Any]) -> None:
    media = get_media()
    held_by_photo = media.put(images.jpeg(40, 30))
    Photo.objects.create(title="kept", image=held_by_photo)
    held_by_picture = Picture.objects.create(title="kept", image=SimpleUploadedFile("k.jpg", images.jpeg(40, 30)))
    orphan = media.put(images.jpeg(50, 30), filename="orphan.jpg")
    media.create_resize(media.resize_key(orphan, "20x20"))
    orphan_bytes = len(media.get(orphan)) + len(media.storage.get(media.resize_key(orphan, "20x20")))
    out, _ = run("gc")  # a day of grace by default: all of them are too young
    assert "would delete 0 originals" in out
    time.sleep(1.2)
    out, _ = run("gc", "--grace", "1")
    assert f"dry run: would delete 1 originals no row holds, {orphan_bytes} bytes" in out
    assert media.exists(orphan)  # a dry run by default
    out, _ = run("gc", "--grace", "1", "--delete")
    assert f"deleted 1 originals no row holds, {orphan_bytes} bytes" in out
    assert not media.exists(orphan) and media.exists(held_by_photo) and media.exists(held_by_picture.image.name)
    assert not media.storage.exists(media.resize_key(orphan, "20x20"))


def test_gc_stops_on_a_value_it_cannot_read(conf: dict[str, Any]) -> None:
    from django.db import connection

    media = get_media()
    orphan = media.put(images.jpeg(20, 20))
    with connection.cursor() as cursor:  # a value no code of ours writes
        cursor.execute("INSERT INTO django_testapp_photo (title, image, banner) VALUES ('x', 'not-an-id', '')")
    time.sleep(1.2)
    assert "nothing deleted" in fails(1, "gc", "--grace", "1", "--delete")
    assert media.exists(orphan)
