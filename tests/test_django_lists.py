"""``MediaListField``: its value, its form field (receipts, kept ids, hostile lists), its widget, the admin, cleanup.

Through Django's own test Client, forms and admin, on SQLite in memory, with files uploaded the
way a browser does (``s3/params``, the form POSTed to the middleware's local stand-in for S3,
``s3/confirm``, whose receipt the form sends back).  The real-browser test of the admin's widget
is ``tests/browser/test_browser_django_lists.py``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

django = pytest.importorskip("django")

from django_testapp import configure  # noqa: E402

configure()

import images  # noqa: E402
from django import forms  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, TestCase, override_settings  # noqa: E402
from django_testapp.models import Album, Photo  # noqa: E402
from test_django_field import (  # noqa: E402
    ERROR_MESSAGES,
    MIDDLEWARE,
    STAFF_HOOK,
    send_file,
    staff_client,
    upload_for_a_form,
)

from s3media_wsgi import MediaId  # noqa: E402
from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django.cleanup import held_anywhere, stored_names  # noqa: E402
from s3media_wsgi.adapters.django.fields import MediaValue  # noqa: E402
from s3media_wsgi.adapters.django.lists import (  # noqa: E402
    LIST_ERROR_MESSAGES,
    MediaList,
    MediaListField,
    MediaListFormField,
    media_list,
)
from s3media_wsgi.adapters.django.sweep import UnknownValue, referenced_ids  # noqa: E402
from s3media_wsgi.adapters.django.thumbnails import admin_thumbnail  # noqa: E402
from s3media_wsgi.adapters.django.widgets import LIST_SCRIPT, MediaListWidget  # noqa: E402
from s3media_wsgi.ids import new_id  # noqa: E402

ADD_URL = "/admin/django_testapp/album/add/"


class AlbumForm(forms.ModelForm):
    class Meta:
        model = Album
        fields = ["title", "images", "extras"]


def item_error(position: int, code: str) -> str:
    return str(LIST_ERROR_MESSAGES["item"]) % {"position": position, "message": ERROR_MESSAGES[code]}


@pytest.fixture
def conf(tmp_path: Path, secret: str, migrated: None) -> Iterator[dict[str, object]]:
    """Local storage, staff may upload; each test in a transaction rolled back at its end."""
    value: dict[str, object] = {"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "media"), "UPLOADS": STAFF_HOOK}
    with transaction.atomic():
        with override_settings(S3MEDIA=value, MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"):
            yield value
        transaction.set_rollback(True)


@pytest.fixture
def staff(conf: dict[str, object]) -> Client:
    return staff_client("editor")


def with_info(receipt: str) -> MediaId:
    """The id a receipt names, with the info it carries (read, not verified: the test's own receipt)."""
    return MediaId.from_stored(receipt.split(":")[0])


@pytest.fixture
def receipts(staff: Client) -> Iterator[list[tuple[str, str]]]:
    """Three confirmed uploads of the staff user: (id, receipt) each."""
    yield [upload_for_a_form(staff, images.jpeg(40 + i, 30)) for i in range(3)]


# --- the value on an instance ----------------------------------------------------------------------


def test_the_value_is_a_list_of_media_values_stored_as_a_json_array(conf: dict[str, object]) -> None:
    media = get_media()
    first, second = media.put(images.jpeg(320, 200), filename="a.jpg"), media.put(images.jpeg(30, 40), filename="b.jpg")
    album = Album.objects.create(title="Two", images=[first, str(second)])
    again = Album.objects.get(pk=album.pk)
    assert isinstance(again.images, MediaList) and again.images == [first, second]
    assert all(isinstance(item, MediaValue) for item in again.images)
    assert again.images[0].url == media.url(first) and (again.images[0].width, again.images[0].height) == (320, 200)
    assert again.images[1].info is None  # assigned as a plain id: stored as one
    assert again.images[0].resize_url("80x80", mode="fill") == media.resize_url(first, "80x80", mode="fill")
    assert again.images[0].picture(sizes=[100]).startswith("<picture>")
    with connection.cursor() as cursor:
        cursor.execute("SELECT images, extras FROM django_testapp_album WHERE id = %s", [album.pk])
        images_column, extras_column = cursor.fetchone()
    assert json.loads(images_column) == [first.stored, str(second)] and extras_column == "[]"
    assert again.extras == [] and Album(title="new").extras == []
    # The column's text, JSON, anything: a list of what is in it.
    assert media_list('["' + str(second) + '"]') == [second] and media_list("") == [] and media_list(None) is None


def test_full_clean_checks_count_ids_and_storage(conf: dict[str, object]) -> None:
    media = get_media()
    stored = media.put(images.jpeg(20, 20))
    Album(title="ok", images=[stored]).full_clean()
    for value, error in (
        ([], "This field cannot be blank."),
        ([stored, "../../etc/passwd"], item_error(2, "invalid")),
        ([new_id("gone.jpg")], item_error(1, "unconfirmed")),
        ([stored] * 6, str(LIST_ERROR_MESSAGES["max_items"]) % {"max": 5, "extra": 1}),
    ):
        with pytest.raises(ValidationError) as refused:
            Album(title="bad", images=value).full_clean()
        assert refused.value.message_dict == {"images": [error]}, value


# --- the form field ----------------------------------------------------------------------------------


def test_receipts_make_a_list_in_the_order_sent(staff: Client, receipts: list[tuple[str, str]]) -> None:
    ids = [media_id for media_id, _ in receipts]
    sent = [receipt for _, receipt in receipts]
    response = staff.post(ADD_URL, {"title": "Three", "images": [sent[2], sent[0], sent[1]], "_save": "1"})
    assert response.status_code == 302, response.content.decode()
    album = Album.objects.get()
    assert album.images == [ids[2], ids[0], ids[1]] and album.extras == []
    assert all(item.info is not None and item.info.placeholder for item in album.images)  # the receipts' info


def test_kept_ids_move_and_leave_and_new_ones_join_on_edit(staff: Client, receipts: list[tuple[str, str]]) -> None:
    (a, ra), (b, rb), (c, rc) = receipts
    album = Album.objects.create(title="Edit", images=[with_info(ra), b])
    url = f"/admin/django_testapp/album/{album.pk}/change/"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff.post(url, {"title": "Edit", "images": [rc, a], "_save": "1"})  # b removed, a moved last
    assert response.status_code == 302, response.content.decode()
    album.refresh_from_db()
    assert album.images == [c, a] and album.images[1].info is not None  # a kept with the info it held
    assert not get_media().exists(b) and get_media().exists(a) and get_media().exists(c)  # b: deleted after commit


def test_anything_but_receipts_and_the_rows_own_ids_is_refused(conf: dict[str, object]) -> None:
    editor, other = staff_client("editor2"), staff_client("other")
    (mine, my_receipt), (theirs, their_receipt) = upload_for_a_form(editor), upload_for_a_form(other)
    album = Album.objects.create(title="Mine", images=[mine])
    url = f"/admin/django_testapp/album/{album.pk}/change/"
    forged = my_receipt[:-4] + ("0000" if not my_receipt.endswith("0000") else "1111")
    cases = {
        "someone else's receipt": ([mine, their_receipt], item_error(2, "receipt")),
        "someone else's id": ([mine, str(theirs)], item_error(2, "id")),
        "a forged receipt": ([forged], item_error(1, "receipt")),
        "not an id": (["<script>alert(1)</script>"], item_error(1, "invalid")),
        "a huge value": (["x" * 100_000], item_error(1, "invalid")),
        "a pending key": ([send_file(editor)], item_error(1, "invalid")),
        "too many": ([my_receipt] * 6, str(LIST_ERROR_MESSAGES["max_items"]) % {"max": 5, "extra": 1}),
        "nothing (required)": ([], "This field is required."),
    }
    for name, (values, message) in cases.items():
        response = editor.post(url, {"title": "Changed", "images": values, "_save": "1"})
        assert response.status_code == 200, name  # the form again, never a 500
        page = response.content.decode()
        assert message in html.unescape(page), name
        # The refused list is not rendered back: the row's own list is.
        assert "alert(1)" not in page and str(theirs) not in page and "x" * 1000 not in page, name
        assert re.findall(r'name="images" value="([^"]*)"', page) == [mine], name
        album.refresh_from_db()
        assert album.title == "Mine" and album.images == [mine], name  # nothing saved
    assert get_media().exists(theirs) and get_media().exists(mine)
    # More values than Django reads at all: its own refusal, a 400.
    flood = editor.post(url, {"title": "Flood", "images": ["x"] * 1500, "_save": "1"})
    assert flood.status_code == 400
    album.refresh_from_db()
    assert album.images == [mine]


def test_a_huge_list_is_refused_before_any_receipt_is_checked(
    conf: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    monkeypatch.setattr("s3media_wsgi.adapters.django.lists.check_upload_receipt", checked.append)
    form = AlbumForm({"title": "Flood", "images": ["a:1:" + "0" * 32] * 900})
    assert not form.is_valid() and form.errors.as_data()["images"][0].code == "max_items"
    assert checked == []


def test_the_same_file_twice_is_kept_once_and_unconfirmed_files_are_refused(
    staff: Client, receipts: list[tuple[str, str]]
) -> None:
    (a, _), (b, _), _ = receipts
    ra, rb = get_media().upload_receipt(a), get_media().upload_receipt(b)  # bound to no one: no request here
    form = AlbumForm({"title": "Twice", "images": [ra, rb, ra]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["images"] == [a, b]
    get_media().delete(b)
    form = AlbumForm({"title": "Gone", "images": [ra, rb]})
    assert not form.is_valid() and form.errors["images"] == [item_error(2, "unconfirmed")]


def test_an_emptied_optional_list_is_saved_empty(staff: Client, receipts: list[tuple[str, str]]) -> None:
    (a, _), (b, _), _ = receipts
    album = Album.objects.create(title="Extras", images=[a], extras=[b])
    url = f"/admin/django_testapp/album/{album.pk}/change/"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = staff.post(url, {"title": "Extras", "images": [a], "_save": "1"})  # no "extras" value at all
    assert response.status_code == 302, response.content.decode()
    album.refresh_from_db()
    assert album.extras == [] and not get_media().exists(b)


# --- the widget and the admin -----------------------------------------------------------------------------


def test_the_admin_renders_the_list_widget_with_its_items(staff: Client, receipts: list[tuple[str, str]]) -> None:
    (a, ra), (b, _), _ = receipts
    album = Album.objects.create(title="Shown", images=[with_info(ra), b])
    page = staff.get(f"/admin/django_testapp/album/{album.pk}/change/").content.decode()
    assert page.count("data-s3media-list ") == 2 and page.count(f'<script type="module">{LIST_SCRIPT}</script>') == 2
    assert 'data-name="images"' in page and 'data-max="5"' in page and 'data-concurrency="3"' in page
    values = re.findall(r'<input type="hidden" name="images" value="([^"]*)" data-s3media-value>', page)
    assert values == [a, b]  # in order
    assert get_media().resize_url(a, "96x96", mode="fill").replace("&", "&amp;") in page
    colour = with_info(ra).info.colour  # type: ignore[union-attr]
    assert f"background-color: {colour}" in page  # the placeholder, from the row alone
    chooser = re.search(r"<input ([^>]*data-s3media-files[^>]*)>", page)
    assert chooser is not None and "multiple" in chooser.group(1) and "name=" not in chooser.group(1)
    assert page.count('data-s3media-move="-1"') == 2 and page.count("data-s3media-remove aria-label") == 2
    assert "<textarea" not in page
    # The change list: the first item's thumbnail.
    listing = staff.get("/admin/django_testapp/album/").content.decode()
    assert get_media().resize_url(a, "60x60", mode="fill").replace("&", "&amp;") in listing


def test_admin_thumbnail_of_an_empty_list_is_a_dash(conf: dict[str, object]) -> None:
    assert admin_thumbnail("extras")(Album(title="none")) == "—"


def test_the_widget_reads_every_value_and_never_says_omitted() -> None:
    widget = MediaListWidget()
    from django.http import QueryDict

    data = QueryDict("images=a&images=b&other=c")
    assert widget.value_from_datadict(data, {}, "images") == ["a", "b"]
    assert widget.value_from_datadict({"images": "a"}, {}, "images") == ["a"]
    assert widget.value_omitted_from_data(QueryDict(""), {}, "images") is False
    assert "uploadDetailed" in LIST_SCRIPT and '"submit"' in LIST_SCRIPT and "concurrency" in LIST_SCRIPT


def test_a_receipt_is_rendered_back_when_another_field_is_refused(
    staff: Client, receipts: list[tuple[str, str]]
) -> None:
    (a, ra), _, _ = receipts
    response = staff.post(ADD_URL, {"title": "", "images": [ra], "_save": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and "This field is required." in page
    assert f'name="images" value="{ra}"' in page and get_media().url(a) in page
    assert Album.objects.count() == 0


# --- model field details -----------------------------------------------------------------------------


def test_deconstruct_and_the_migration_match_the_model(migrated: None) -> None:
    name, path, args, kwargs = MediaListField(max_items=5, blank=True).deconstruct()
    assert path == "s3media_wsgi.adapters.django.lists.MediaListField"
    assert kwargs == {"max_items": 5, "blank": True}
    assert MediaListField().deconstruct()[3] == {}
    call_command("makemigrations", "django_testapp", "--check", "--dry-run", verbosity=0)


def test_a_max_items_out_of_bounds_is_a_system_check_error() -> None:
    field = MediaListField(max_items=0)
    field.set_attributes_from_name("files")
    field.model = Album
    assert [error.id for error in field.check()] == ["s3media.E007"]


def test_the_form_field_takes_its_max_from_the_model() -> None:
    field = Album._meta.get_field("images").formfield()
    assert isinstance(field, MediaListFormField) and field.max_items == 5 and field.required
    assert Album._meta.get_field("extras").formfield().required is False


# --- no orphans -----------------------------------------------------------------------------------------


def test_removed_and_deleted_items_go_after_commit_nothing_on_rollback(conf: dict[str, object]) -> None:
    media = get_media()
    a, b, c = (media.put(images.jpeg(20, 20)) for _ in range(3))
    with TestCase.captureOnCommitCallbacks(execute=True):
        album = Album.objects.create(title="Gone", images=[a, b, c])
    assert stored_names(album.images) == (str(a), str(b), str(c))
    with TestCase.captureOnCommitCallbacks(execute=False) as pending:
        album.images = [c, a]
        album.save()
        assert media.exists(b)  # not before the commit
    assert len(pending) == 1
    for callback in pending:
        callback()
    assert not media.exists(b) and media.exists(a) and media.exists(c)
    # A rollback deletes nothing.
    with TestCase.captureOnCommitCallbacks(execute=True) as done:
        try:
            with transaction.atomic():
                album.images = []
                album.save()
                Album.objects.filter(pk=album.pk).delete()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert done == [] and media.exists(a) and media.exists(c)
    album = Album.objects.get(pk=album.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):
        album.delete()
    assert not media.exists(a) and not media.exists(c)


def test_a_file_another_row_holds_is_kept(conf: dict[str, object]) -> None:
    media = get_media()
    shared, in_photo, own = (media.put(images.jpeg(20, 20)) for _ in range(3))
    with TestCase.captureOnCommitCallbacks(execute=True):
        Album.objects.create(title="Other", images=[shared])
        Photo.objects.create(title="Photo", image=in_photo)
        album = Album.objects.create(title="This", images=[shared, in_photo, own])
    assert held_anywhere(str(shared)) and held_anywhere(str(own))
    with TestCase.captureOnCommitCallbacks(execute=True):
        album.delete()
    assert media.exists(shared) and media.exists(in_photo) and not media.exists(own)
    # And a MediaField's replaced file is kept while a list holds it.
    photo = Photo.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        Album.objects.create(title="Holder", images=[in_photo])
        photo.image = shared
        photo.save()
    assert media.exists(in_photo)


def test_gc_sees_every_item_of_every_list(conf: dict[str, object]) -> None:
    media = get_media()
    a, b, loose = (media.put(images.jpeg(20, 20)) for _ in range(3))
    Album.objects.create(title="Held", images=[a], extras=[b])
    Album.objects.create(title="Empty", images=[])
    held = referenced_ids()
    assert {str(a), str(b)} <= held and str(loose) not in held
    Album.objects.create(title="Bad", images=["not-an-id"])
    with pytest.raises(UnknownValue):
        referenced_ids()
