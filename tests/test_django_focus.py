"""The focus a person sets in ``MediaUploadWidget``: the form field stores it, crops keep it, the admin shows it.

Through Django's own test Client, forms and admin (SQLite in memory), with files uploaded the way a
browser does (``test_django_field.py``'s helpers); the picker itself runs in Chromium in
``tests/browser/test_browser_django_focus.py``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

django = pytest.importorskip("django")

from django_testapp import configure  # noqa: E402

configure()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, TestCase, override_settings  # noqa: E402
from django_testapp.models import Photo  # noqa: E402
from test_django_field import MIDDLEWARE, STAFF_HOOK, PhotoForm, upload_for_a_form  # noqa: E402

from s3media_wsgi import MediaId  # noqa: E402
from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django.fields import ERROR_MESSAGES, MediaValue, with_focus  # noqa: E402
from s3media_wsgi.adapters.django.focus import SCRIPT, focus_text, parse_focus  # noqa: E402
from s3media_wsgi.adapters.django.thumbnails import admin_thumbnail  # noqa: E402
from s3media_wsgi.adapters.django.widgets import MediaUploadWidget  # noqa: E402
from s3media_wsgi.errors import InvalidResize  # noqa: E402

ADD_URL = "/admin/django_testapp/photo/add/"
#: A crop placed on a point, in a resize URL.
FOCUSED = re.compile(r"-f[0-9]+x[0-9]+-")
NOT_A_FOCUS = html.escape(str(ERROR_MESSAGES["focus"]))


@pytest.fixture
def staff(tmp_path: Path, secret: str, db: None) -> Iterator[Client]:
    value = {"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "media"), "UPLOADS": STAFF_HOOK}
    with override_settings(S3MEDIA=value, MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"):
        client = Client()
        client.force_login(User.objects.create(username="editor", is_staff=True, is_superuser=True))
        yield client


def column() -> str:
    """What the row's ``image`` column holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT image FROM django_testapp_photo")
        (value,) = cursor.fetchone()
    return str(value)


def add(client: Client, receipt: str, focus: str | None) -> Photo:
    data = {"title": "Cat", "image": receipt, "banner": "", "_save": "1"}
    if focus is not None:
        data["image-focus"] = focus
    saved = client.post(ADD_URL, data)
    assert saved.status_code == 302, saved.content.decode()
    return Photo.objects.get()


# --- the focus text ------------------------------------------------------------------------------


def test_the_focus_input_is_read_as_a_point_in_hundredths() -> None:
    assert parse_focus("0.3,0.25") == (0.3, 0.25)
    assert parse_focus(" 0.333 , 0.251 ") == (0.33, 0.25)
    assert parse_focus("") is None and parse_focus("0.5,0.5") is None and parse_focus("centre") is None
    assert focus_text((0.3, 0.25)) == "0.3,0.25" and focus_text(None) == "" and focus_text((0.5, 0.5)) == ""
    assert focus_text((7.0, 1.0)) == ""  # a stored focus that is none: shown as none, never a 500
    for hostile in ("auto", "faces", "1.5,0", "-0.1,0.2", "nan,nan", "inf,0", "1e999,0", "0.1", "0.1,0.2,0.3",
                    "x" * 10_000, "0.1;0.2", "<script>,1"):  # fmt: skip
        with pytest.raises(InvalidResize):
            parse_focus(hostile)


def test_with_focus_keeps_the_id_and_the_rest_of_the_info() -> None:
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    plain = MediaValue(media_id)
    focused = with_focus(plain, (0.3, 0.25))
    assert focused == media_id and focused.stored == media_id + ";f=0.3,0.25"  # no I/O: the focus alone
    assert MediaId.from_stored(focused.stored).info == focused.info
    assert with_focus(plain, None) is plain
    full = MediaValue.from_stored(media_id + ";t=image/jpeg;b=10;w=400;h=300;c=#112233")
    moved = with_focus(full, (0.1, 0.9))
    assert moved.stored == media_id + ";t=image/jpeg;b=10;w=400;h=300;c=#112233;f=0.1,0.9"
    assert (moved.width, moved.height) == (400, 300)
    assert with_focus(moved, None).stored == full.stored


# --- the form field and the admin ------------------------------------------------------------------


def test_the_focus_sent_with_an_upload_is_stored_and_fill_urls_carry_it(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    photo = add(staff, receipt, "0.3,0.25")
    stored = column()
    assert stored.startswith(media_id + ";") and ";w=400;h=300;" in stored and stored.endswith(";f=0.3,0.25")
    assert photo.image == media_id and photo.image.info is not None and photo.image.info.focus == (0.3, 0.25)
    crop = photo.image.resize_url("300x300", mode="fill")
    assert "-f30x25" in crop
    assert not FOCUSED.search(photo.image.resize_url("300x300"))  # a fit has nothing to place
    assert not FOCUSED.search(photo.image.resize_url("300x300", mode="fill", focus=None))  # told otherwise
    # And the crop is made: the signed URL is served as an image.
    made = staff.get("/media/" + crop.split("/media/", 1)[1])
    assert made.status_code == 200 and made["Content-Type"] == "image/jpeg"


def test_no_focus_sent_stores_none_and_an_empty_one_too(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    photo = add(staff, receipt, None)
    assert "f=" not in column() and photo.image.info is not None and photo.image.info.focus is None
    assert not FOCUSED.search(photo.image.resize_url("300x300", mode="fill"))
    Photo.objects.all().delete()
    media_id, receipt = upload_for_a_form(staff)
    add(staff, receipt, "")
    assert "f=" not in column()


@pytest.mark.parametrize(
    "hostile", ["auto", "faces", "2,2", "-1,0.5", "nan,0.5", "0.5", "0.1,0.2,0.3", "x" * 5000, "0.5;w=9999,0"]
)
def test_a_hostile_focus_is_a_form_error_and_nothing_is_stored(staff: Client, hostile: str) -> None:
    media_id, receipt = upload_for_a_form(staff)
    refused = staff.post(
        ADD_URL, {"title": "Cat", "image": receipt, "image-focus": hostile, "banner": "", "_save": "1"}
    )
    assert refused.status_code == 200  # the form again, never a 500
    page = refused.content.decode()
    assert NOT_A_FOCUS in page
    assert Photo.objects.count() == 0
    if len(hostile) > 100:
        assert hostile not in page  # not echoed back


def test_changing_only_the_focus_keeps_the_media_and_its_file(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    photo = add(staff, receipt, "0.3,0.25")
    change_url = f"/admin/django_testapp/photo/{photo.pk}/change/"
    # The change form shows the picture in the picker, with the stored focus in its input.
    page = staff.get(change_url).content.decode()
    assert '<input type="hidden" name="image-focus" value="0.3,0.25" data-s3media-focus-value>' in page
    assert html.escape(get_media().resize_url(media_id, "480x480")) in page
    assert 'role="application" aria-label="Focus point of the picture"' in page
    # Only the focus changes: the same id, the info kept, the new focus stored, nothing deleted.
    before = column()
    with TestCase.captureOnCommitCallbacks(execute=True) as done:
        edited = staff.post(change_url, {"title": "Cat", "image": media_id, "image-focus": "0.8,0.1", "banner": "",
                                         "_save": "1"})  # fmt: skip
    assert edited.status_code == 302, edited.content.decode()
    assert not done  # no deletion was even scheduled: the row holds the same file
    assert column() == before.replace(";f=0.3,0.25", ";f=0.8,0.1")
    assert get_media().exists(media_id)
    assert "-f80x10" in Photo.objects.get().image.resize_url("300x300", mode="fill")
    # The admin's history says what changed: the image (its focus).
    form = PhotoForm({"title": "Cat", "image": media_id, "image-focus": "0.8,0.1", "banner": ""},
                     instance=Photo.objects.get())  # fmt: skip
    assert form.is_valid() and not form.has_changed()
    form = PhotoForm({"title": "Cat", "image": media_id, "image-focus": "", "banner": ""}, instance=Photo.objects.get())
    assert form.is_valid() and form.changed_data == ["image"]
    # Reset: back to none, the file still kept.
    with TestCase.captureOnCommitCallbacks(execute=True) as done:
        reset = staff.post(
            change_url, {"title": "Cat", "image": media_id, "image-focus": "", "banner": "", "_save": "1"}
        )
    assert reset.status_code == 302 and not done
    assert "f=" not in column() and column().startswith(media_id + ";t=image/jpeg;") and get_media().exists(media_id)
    # A form sent without the focus input (a client without the picker) keeps the stored focus.
    staff.post(change_url, {"title": "Cat", "image": media_id, "image-focus": "0.2,0.2", "banner": "", "_save": "1"})
    kept = staff.post(change_url, {"title": "Dog", "image": media_id, "banner": "", "_save": "1"})
    assert kept.status_code == 302 and column().endswith(";f=0.2,0.2") and Photo.objects.get().title == "Dog"


def test_a_new_file_still_replaces_the_old_one(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    photo = add(staff, receipt, "0.3,0.25")
    change_url = f"/admin/django_testapp/photo/{photo.pk}/change/"
    new_id, new_receipt = upload_for_a_form(staff)
    with TestCase.captureOnCommitCallbacks(execute=True):
        staff.post(change_url, {"title": "Cat", "image": new_receipt, "image-focus": "0.6,0.6", "banner": "",
                                "_save": "1"})  # fmt: skip
    assert column().startswith(new_id + ";") and column().endswith(";f=0.6,0.6")
    assert get_media().exists(new_id) and not get_media().exists(media_id)  # the replaced file went


def test_a_row_holding_a_plain_id_gets_a_focus_without_reading_storage(staff: Client) -> None:
    media_id, _ = upload_for_a_form(staff)
    photo = Photo.objects.create(title="Old", image=media_id)  # a row saved before the info was stored
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_testapp_photo SET image = %s", [media_id])
    change_url = f"/admin/django_testapp/photo/{photo.pk}/change/"
    with TestCase.captureOnCommitCallbacks(execute=True) as done:
        edited = staff.post(change_url, {"title": "Old", "image": media_id, "image-focus": "0.1,0.9", "banner": "",
                                         "_save": "1"})  # fmt: skip
    assert edited.status_code == 302 and not done
    assert column() == media_id + ";f=0.1,0.9"
    assert "-f10x90" in Photo.objects.get().image.resize_url("100x100", mode="fill")


def test_a_focus_is_kept_when_another_field_is_refused(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    again = staff.post(ADD_URL, {"title": "", "image": receipt, "image-focus": "0.7,0.2", "banner": "", "_save": "1"})
    assert again.status_code == 200
    page = again.content.decode()
    assert '<input type="hidden" name="image-focus" value="0.7,0.2" data-s3media-focus-value>' in page
    assert html.escape(get_media().resize_url(media_id, "480x480")) in page  # the picture, signed here
    # A focus sent with no file (the optional banner) is not stored, nor echoed back as sent.
    again = staff.post(ADD_URL, {"title": "", "image": receipt, "banner": "", "banner-focus": "<b>" * 50, "_save": "1"})
    assert again.status_code == 200 and "<b>" not in again.content.decode()
    assert '<input type="hidden" name="banner-focus" value="" data-s3media-focus-value>' in again.content.decode()


def test_the_widget_renders_a_hidden_picker_and_its_script_with_no_file(staff: Client) -> None:
    page = staff.get(ADD_URL).content.decode()
    assert page.count('<div class="s3media-focus" data-s3media-focus hidden>') == 2  # image and banner
    assert '<input type="hidden" name="image-focus" value="" data-s3media-focus-value>' in page
    assert SCRIPT in page and "globalThis.s3mediaFocusPicker" in SCRIPT
    markup = MediaUploadWidget().render("image", "")
    assert 'id="image-focus-help"' in markup and 'aria-describedby="image-focus-help image-focus-status"' in markup
    assert re.search(r"<img alt=\"\" data-s3media-focus-image", markup)  # no src: nothing to load


def test_the_change_list_thumbnail_is_cropped_on_the_rows_focus(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    photo = add(staff, receipt, "0.9,0.1")
    column_of = admin_thumbnail("image", "60x60")
    cell = str(column_of(photo))
    assert "-f90x10" in cell and html.escape(get_media().resize_url(photo.image, "60x60", mode="fill")) in cell
    assert not FOCUSED.search(str(admin_thumbnail("image", "60x60", mode="fit")(photo)))
    # The change list shows it: the test app's PhotoAdmin has that column, read from the row.
    changelist = staff.get("/admin/django_testapp/photo/")
    assert changelist.status_code == 200
    page = changelist.content.decode()
    thumbnail = re.search(r'<img src="([^"]+)" width="60" height="60"', page)
    assert thumbnail is not None and "-f90x10-" in thumbnail.group(1)
    made = staff.get(html.unescape(thumbnail.group(1)))
    assert made.status_code == 200 and made["Content-Type"] == "image/jpeg"
