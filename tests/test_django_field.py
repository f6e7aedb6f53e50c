"""``MediaField``: its value, its validation, its widget, the admin, migrations; the upload hooks; receipts.

Through Django's own test Client, forms and admin, on SQLite in memory, with
files uploaded the way a browser does: ``s3/params``, the form POSTed to the
URL it names (the middleware's local stand-in for S3), then ``s3/confirm``,
whose receipt the form sends back (never a bare id: only the row's own).
"""

from __future__ import annotations

import html
import io
import pickle
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

django = pytest.importorskip("django")

from django_testapp import configure  # noqa: E402

configure()  # shared with test_adapter_django.py: settings are configured once per process

import images  # noqa: E402
from django import forms  # noqa: E402
from django.contrib.auth.models import AnonymousUser, User  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.db.migrations.writer import MigrationWriter  # noqa: E402
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.test.utils import isolate_apps  # noqa: E402
from django_testapp.models import Photo  # noqa: E402

from s3media_wsgi import MediaId, MediaInfo  # noqa: E402
from s3media_wsgi.adapters.django import get_media  # noqa: E402
from s3media_wsgi.adapters.django.fields import (  # noqa: E402
    DEFAULT_MAX_LENGTH,
    ERROR_MESSAGES,
    MAX_ID_LENGTH,
    MediaField,
    MediaFormField,
    MediaValue,
    stored_text,
)
from s3media_wsgi.adapters.django.permissions import is_authenticated, is_staff  # noqa: E402
from s3media_wsgi.adapters.django.widgets import SCRIPT, MediaUploadWidget  # noqa: E402
from s3media_wsgi.errors import StorageUnavailable  # noqa: E402
from s3media_wsgi.ids import MAX_STORED_LENGTH, new_id  # noqa: E402
from s3media_wsgi.responder import uploader_url  # noqa: E402

MIDDLEWARE = [
    "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
STAFF_HOOK = "s3media_wsgi.adapters.django.permissions.is_staff"
ADD_URL = "/admin/django_testapp/photo/add/"
UNCONFIRMED = str(ERROR_MESSAGES["unconfirmed"])
INVALID = str(ERROR_MESSAGES["invalid"])
RECEIPT_REFUSED = str(ERROR_MESSAGES["receipt"])
NOT_UPLOADED_HERE = str(ERROR_MESSAGES["id"])


class PhotoForm(forms.ModelForm):
    class Meta:
        model = Photo
        fields = ["title", "image", "banner"]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def conf(tmp_path: Path, secret: str, db: None) -> Iterator[dict[str, object]]:
    value: dict[str, object] = {"SECRET_KEY": secret, "LOCAL_ROOT": str(tmp_path / "media"), "UPLOADS": STAFF_HOOK}
    with override_settings(S3MEDIA=value, MIDDLEWARE=MIDDLEWARE, ROOT_URLCONF="django_testapp.urls"):
        yield value


@pytest.fixture
def staff(conf: dict[str, object]) -> Client:
    """A client signed in as a superuser (so staff: the admin and the upload routes are open to it)."""
    client = Client()
    client.force_login(User.objects.create(username="editor", is_staff=True, is_superuser=True))
    return client


def send_file(client: Client, data: bytes | None = None, name: str = "cat.jpg") -> str:
    """Upload as a browser does, without confirming: the pending key."""
    params = client.get("/media/s3/params", {"filename": name, "type": "image/jpeg"})
    assert params.status_code == 200, params.content
    target = params.json()
    file = io.BytesIO(data or images.jpeg(400, 300))
    file.name = name
    sent = client.post(target["url"], {**target["fields"], "file": file})  # the file last, as S3 wants it
    assert sent.status_code == 204, sent.content
    return str(target["fields"]["key"])


def confirm(client: Client, key: str) -> str:
    confirmed = client.post("/media/s3/confirm", {"key": key}, content_type="application/json")
    assert confirmed.status_code == 200, confirmed.content
    return str(confirmed.json()["id"])


def upload(client: Client, data: bytes | None = None) -> str:
    """A confirmed direct upload: its id."""
    return confirm(client, send_file(client, data))


def pending_id(key: str) -> str:
    """The id a pending (never confirmed) upload would get: well formed, but nothing stored under it."""
    assert key.startswith("uploads/")
    return key.removeprefix("uploads/")


# --- the value on an instance ------------------------------------------------------------------


def test_the_value_is_the_id_with_its_urls(staff: Client) -> None:
    media_id = upload(staff)
    media = get_media()
    photo = Photo.objects.create(title="Cat", image=media_id)
    for value in (photo.image, Photo.objects.get(pk=photo.pk).image, Photo.objects.values_list("image", flat=True)[0]):
        assert isinstance(value, MediaValue) and value == media_id
        assert value.url == media.url(media_id)
        assert value.resize_url("80x60", mode="fill") == media.resize_url(media_id, "80x60", mode="fill")
        markup = value.picture(sizes=[100, 200], alt="A cat")
        assert markup.startswith("<picture>") and media.resize_url(media_id, "100x") in markup
    # Stored as the plain id; a blank field is "" (falsy), None stays None.
    with connection.cursor() as cursor:
        cursor.execute("SELECT image, banner FROM django_testapp_photo WHERE id = %s", [photo.pk])
        assert cursor.fetchone() == (media_id, "")
    assert Photo.objects.get(pk=photo.pk).banner == "" and not photo.banner
    photo.banner = None
    assert photo.banner is None
    assert type(pickle.loads(pickle.dumps(photo)).image) is MediaValue


def test_a_media_id_assigned_keeps_its_size(conf: dict[str, object]) -> None:
    stored = get_media().put(images.jpeg(320, 200), filename="wide.jpg")
    photo = Photo(title="Wide", image=stored)
    assert isinstance(photo.image, MediaValue) and (photo.image.width, photo.image.height) == (320, 200)
    # picture() knows the aspect ratio without any I/O: the <img> is sized to its largest width.
    assert 'width="100" height="62"' in photo.image.picture(sizes=[100])
    assert "width=" not in Photo(title="Wide", image=str(stored)).image.picture(sizes=[100])


# --- validation ------------------------------------------------------------------------------------


def test_an_unconfirmed_key_is_refused_by_the_form(staff: Client) -> None:
    key = send_file(staff)  # the file is in storage, pending: never confirmed
    media = get_media()
    # A bare id is never taken from a browser (but the field's own initial value): choose the file again.
    form = PhotoForm({"title": "Cat", "image": pending_id(key)})
    assert not form.is_valid() and form.errors["image"] == [NOT_UPLOADED_HERE]
    # A receipt (here one the app's code made, bound to no one) still needs its file stored.
    for missing in (pending_id(key), new_id("cat.jpg")):  # never confirmed; made up
        form = PhotoForm({"title": "Cat", "image": media.upload_receipt(missing)})
        assert not form.is_valid()
        assert form.errors["image"] == [UNCONFIRMED]
        assert form.errors.as_data()["image"][0].code == "unconfirmed"
    # The pending key itself is not an id at all; nor is anything else a client may make up.
    for forged in (key, "../../etc/passwd", "x" * 300, "<script>"):
        form = PhotoForm({"title": "Cat", "image": forged})
        assert not form.is_valid() and INVALID in form.errors["image"], forged
    assert Photo.objects.count() == 0


def test_a_confirmed_upload_is_accepted_and_saved(staff: Client) -> None:
    media_id = upload(staff)
    # Outside a request, only a receipt bound to no one holds (the app's own: media.upload_receipt(id)).
    form = PhotoForm({"title": "Cat", "image": get_media().upload_receipt(media_id), "banner": ""})
    assert form.is_valid(), form.errors
    assert isinstance(form.cleaned_data["image"], MediaValue) and form.cleaned_data["image"] == media_id
    photo = Photo.objects.get(pk=form.save().pk)
    assert photo.image == media_id and photo.banner == ""


def test_required_and_blank(conf: dict[str, object]) -> None:
    form = PhotoForm({"title": "Cat", "image": "", "banner": ""})
    assert not form.is_valid() and form.errors["image"] == ["This field is required."]
    assert "banner" not in form.errors


def test_full_clean_checks_storage_too(staff: Client) -> None:
    photo = Photo(title="Cat", image=new_id("cat.jpg"))
    with pytest.raises(ValidationError) as refused:
        photo.full_clean()
    assert refused.value.message_dict == {"image": [UNCONFIRMED]}
    photo.image = upload(staff)
    photo.full_clean()


def test_storage_down_is_said_as_such(conf: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    def down(media_id: str) -> bool:
        raise StorageUnavailable("timed out reaching bucket photos")

    monkeypatch.setattr(get_media(), "exists", down)
    form = PhotoForm({"title": "Cat", "image": get_media().upload_receipt(new_id("cat.jpg"))})
    assert not form.is_valid()
    assert form.errors["image"] == [str(ERROR_MESSAGES["unavailable"])]  # and not the bucket's name


# --- the widget ------------------------------------------------------------------------------------


def test_the_widget_renders_a_chooser_a_hidden_id_a_progress_bar_and_its_script(conf: dict[str, object]) -> None:
    markup = str(PhotoForm()["image"])
    assert markup.count('<div class="s3media-upload" data-s3media-upload ') == 1
    assert f'data-uploader="{uploader_url("/media/")}"' in markup and 'data-endpoint="/media"' in markup
    assert '<input type="hidden" name="image" value="" data-s3media-id>' in markup
    chooser = re.search(r'<input ([^>]*type="file"[^>]*)>', markup)
    assert chooser is not None
    assert 'id="id_image"' in chooser.group(1) and "name=" not in chooser.group(1)  # the file is not posted
    assert "maxlength" not in markup and "required" not in chooser.group(1)
    assert '<progress data-s3media-progress max="1" value="0" hidden></progress>' in markup
    assert f'<script type="module">{SCRIPT}</script>' in markup
    assert "uploadDetailed" in SCRIPT and '"submit"' in SCRIPT  # uploads with uploader.js, blocks submits
    # The required field has no "Remove" button; the optional one has.
    assert '<button type="button" data-s3media-clear' not in markup
    assert '<button type="button" data-s3media-clear hidden>Remove</button>' in str(PhotoForm()["banner"])
    # A form field may ask for images only.
    assert 'accept="image/*"' in str(MediaFormField(accept="image/*").widget.render("x", ""))


def test_the_widget_shows_the_current_image_and_escapes_anything_else(staff: Client) -> None:
    media_id = upload(staff)
    media = get_media()
    markup = str(PhotoForm(instance=Photo(title="Cat", image=media_id))["image"])
    assert f'value="{media_id}"' in markup
    assert f'<img src="{media.resize_url(media_id, "160x160")}"' in markup
    assert f'<a href="{media.url(media_id)}" target="_blank" rel="noopener">cat.jpg</a>' in markup
    banner = str(PhotoForm(instance=Photo(title="Cat", image=media_id, banner=media_id))["banner"])
    assert '<button type="button" data-s3media-clear>Remove</button>' in banner  # a file to remove
    thumbnail = re.search(r'<img src="([^"]+)"', markup)
    assert thumbnail is not None and staff.get(thumbnail.group(1)).status_code == 200
    forged = MediaUploadWidget().render("image", '"><script>alert(1)</script>')
    assert "<script>alert" not in forged and "&quot;&gt;&lt;script&gt;" in forged
    assert " src=" not in forged  # no picture loaded: no thumbnail, and the focus picker is hidden and empty
    assert '<div class="s3media-focus" data-s3media-focus hidden>' in forged


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_renders_the_upload_widget(staff: Client) -> None:
    page = staff.get(ADD_URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('<div class="s3media-upload" data-s3media-upload ') == 2  # image and banner
    assert '<input type="hidden" name="image" value="" data-s3media-id>' in text
    assert '<input type="text" name="image"' not in text  # not the admin's text input for a CharField
    assert uploader_url("/media/") in text and "<progress data-s3media-progress" in text
    # The label opens the file chooser.
    assert '<label class="required" for="id_image">Image:</label>' in text


def test_the_admin_saves_a_confirmed_upload_and_refuses_an_unconfirmed_one(staff: Client) -> None:
    unconfirmed = pending_id(send_file(staff))
    editor = User.objects.get(username="editor")
    for sent, message in (
        (unconfirmed, NOT_UPLOADED_HERE),
        (get_media().upload_receipt(unconfirmed, str(editor.pk)), UNCONFIRMED),
    ):
        refused = staff.post(ADD_URL, {"title": "Cat", "image": sent, "banner": "", "_save": "1"})
        assert refused.status_code == 200  # the form again, with the field's error
        assert html.escape(message) in refused.content.decode()
        # The refused value is not echoed back: the widget holds the initial value (none here).
        assert unconfirmed not in refused.content.decode()
        assert '<input type="hidden" name="image" value="" data-s3media-id>' in refused.content.decode()
    assert Photo.objects.count() == 0

    media_id, receipt = upload_for_a_form(staff)
    saved = staff.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"})
    assert saved.status_code == 302, saved.content.decode()
    photo = Photo.objects.get()
    assert photo.image == media_id and photo.banner == ""
    change_url = f"/admin/django_testapp/photo/{photo.pk}/change/"
    change = staff.get(change_url).content.decode()
    assert f'<input type="hidden" name="image" value="{media_id}" data-s3media-id>' in change
    assert get_media().resize_url(media_id, "160x160") in change
    # A made-up id on the change page: refused, the stored one shown again, nothing changed.
    forged = new_id("cat.jpg")
    refused = staff.post(change_url, {"title": "Dog", "image": forged, "banner": "", "_save": "1"}).content.decode()
    assert html.escape(NOT_UPLOADED_HERE) in refused and forged not in refused
    assert f'<input type="hidden" name="image" value="{media_id}" data-s3media-id>' in refused
    assert Photo.objects.get().title == "Cat" and Photo.objects.get().image == media_id


# --- who may upload ----------------------------------------------------------------------------


def test_upload_routes_ask_the_session_who_is_signed_in(conf: dict[str, object]) -> None:
    """The hooks run before Django's session and auth middleware, and read the session themselves."""
    anonymous = Client()
    params = {"filename": "cat.jpg", "type": "image/jpeg"}
    assert anonymous.get("/media/s3/params", params).status_code == 403
    member = Client()
    member.force_login(User.objects.create(username="member"))
    assert member.get("/media/s3/params", params).status_code == 403  # signed in, not staff
    with override_settings(S3MEDIA={**conf, "UPLOADS": "s3media_wsgi.adapters.django.permissions.is_authenticated"}):
        assert member.get("/media/s3/params", params).status_code == 200
        assert anonymous.get("/media/s3/params", params).status_code == 403
    staff = Client()
    staff.force_login(User.objects.create(username="editor", is_staff=True))
    assert staff.get("/media/s3/params", params).status_code == 200
    inactive = Client()
    inactive.force_login(User.objects.create(username="gone", is_staff=True, is_active=False))
    assert inactive.get("/media/s3/params", params).status_code == 403


def test_hooks_use_request_user_when_a_middleware_set_it(db: None) -> None:
    request = RequestFactory().get("/media/s3/params")
    request.user = AnonymousUser()
    assert not is_authenticated(request) and not is_staff(request)
    request.user = User(username="editor", is_staff=True)
    assert is_authenticated(request) and is_staff(request)


# --- migrations and checks -----------------------------------------------------------------------


def test_deconstruct_round_trips_through_a_migration() -> None:
    for field in (MediaField(), MediaField(blank=True, max_length=200, verbose_name="picture")):
        name, path, args, kwargs = field.deconstruct()
        assert path == "s3media_wsgi.adapters.django.fields.MediaField"
        assert MediaField(*args, **kwargs).deconstruct()[1:] == (path, args, kwargs)
        assert kwargs["max_length"] == field.max_length
        # As makemigrations writes it, then as a migration reads it back.
        source, imports = MigrationWriter.serialize(field)
        namespace: dict[str, object] = {}
        exec("\n".join(sorted(imports)), namespace)
        rebuilt = eval(source, namespace)
        assert type(rebuilt) is MediaField and rebuilt.deconstruct()[1:] == (path, args, kwargs)
    assert MediaField().max_length == DEFAULT_MAX_LENGTH == MAX_STORED_LENGTH == 512


def test_the_migration_of_the_test_app_matches_its_model(migrated: None) -> None:
    # --check exits non-zero when the model has changes its migrations do not have.
    call_command("makemigrations", "django_testapp", check=True, dry_run=True, verbosity=0)


def test_a_max_length_too_short_for_ids_is_a_system_check_error() -> None:
    with isolate_apps("django_testapp"):

        class Short(models.Model):
            image = MediaField(max_length=64)

            class Meta:
                app_label = "django_testapp"

        class IdsOnly(models.Model):
            image = MediaField(max_length=MAX_ID_LENGTH)  # a column made before the info was stored

            class Meta:
                app_label = "django_testapp"

        class Enough(models.Model):
            image = MediaField()

            class Meta:
                app_label = "django_testapp"

        (error,) = Short.check()
        assert error.id == "s3media.E004" and "126" in error.msg
        (warning,) = IdsOnly.check()
        assert warning.id == "s3media.W002" and "plain id" in warning.msg and "AlterField" in (warning.hint or "")
        assert Enough.check() == []


# --- receipts: a form attaches only what its user uploaded -----------------------------------------


def staff_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.create(username=username, is_staff=True, is_superuser=True))
    return client


def upload_for_a_form(client: Client, data: bytes | None = None) -> tuple[str, str]:
    """A confirmed direct upload: its id, and the receipt the confirm answered for a form to send back."""
    confirmed = client.post("/media/s3/confirm", {"key": send_file(client, data)}, content_type="application/json")
    assert confirmed.status_code == 200, confirmed.content
    answer = confirmed.json()
    assert "receipt" in answer, answer
    return str(answer["id"]), str(answer["receipt"])


def test_the_upload_flow_confirm_receipt_form_saves_the_id(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    assert receipt != media_id
    saved = staff.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"})
    assert saved.status_code == 302, saved.content.decode()
    photo = Photo.objects.get()
    assert photo.image == media_id and isinstance(photo.image, MediaValue)  # the id, never the receipt
    # The receipt carried the upload's info, signed: the row has it, with no read of storage to get it.
    info = photo.image.info
    assert info is not None and (photo.image.width, photo.image.height) == (400, 300) and info.placeholder
    assert re.fullmatch(r"#[0-9a-f]{6}", info.colour or "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT image FROM django_testapp_photo")
        (column,) = cursor.fetchone()
    assert column == photo.image.stored and column.startswith(media_id + ";") and "w=400;h=300" in column
    markup = photo.image.picture(sizes=[200], placeholder=True)
    assert 'width="200" height="150"' in markup and "background-image:url(data:image/png" in markup


def test_someone_elses_id_is_refused_by_the_form(conf: dict[str, object]) -> None:
    alice, mallory = staff_client("alice"), staff_client("mallory")
    media_id, _ = upload_for_a_form(alice)
    photo = Photo.objects.create(title="Alice's", image=media_id)
    # Ids are in every URL: the original's, and each signed resize URL.
    resize_url = photo.image.resize_url("80x60", mode="fill")
    from_url = re.search(r"/([0-9a-f]{8}/[0-9a-f]{4}/[0-9a-f]{4}/[0-9a-f]{4}/[0-9a-f]{12}/[^/]+?)/", resize_url)
    assert from_url is not None and from_url.group(1) == media_id
    for stolen in (media_id, from_url.group(1)):
        refused = mallory.post(ADD_URL, {"title": "Mine now", "image": stolen, "banner": stolen, "_save": "1"})
        assert refused.status_code == 200  # the form again, with the field's error
        page = refused.content.decode()
        assert html.escape(NOT_UPLOADED_HERE) in page
        assert stolen not in page  # not echoed back, no thumbnail of it
    assert list(Photo.objects.values_list("title", flat=True)) == ["Alice's"]
    # Nor on Mallory's own row (an edit): only that row's own file stays valid there.
    own_id, own_receipt = upload_for_a_form(mallory)
    own = Photo.objects.create(title="Mallory's", image=own_id)
    change_url = f"/admin/django_testapp/photo/{own.pk}/change/"
    refused = mallory.post(change_url, {"title": "Mallory's", "image": own_id, "banner": media_id, "_save": "1"})
    assert refused.status_code == 200 and html.escape(NOT_UPLOADED_HERE) in refused.content.decode()
    assert Photo.objects.get(pk=own.pk).banner == ""
    # The same refusal from a model form outside the admin (no request at all).
    form = PhotoForm({"title": "Mine", "image": media_id, "banner": ""})
    assert not form.is_valid() and form.errors["image"] == [NOT_UPLOADED_HERE]
    assert form.errors.as_data()["image"][0].code == "id"


def test_a_forged_or_expired_receipt_is_refused(staff: Client) -> None:
    media_id, receipt = upload_for_a_form(staff)
    media = get_media()
    stem, expires, signature = receipt.split(":")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    other_id = upload_for_a_form(staff)[0]
    forged = [
        f"{stem}:{expires}:{flipped}",  # the signature altered
        f"{stem}:{int(expires) + 3600}:{signature}",  # the expiry pushed back
        f"{other_id}:{expires}:{signature}",  # another id under this signature
        f"{media_id}:9999999999:{'0' * len(signature)}",  # made up
        media.upload_receipt(media_id, "someone-else"),  # signed, for someone else
        f"{media_id}:{expires}",  # not a receipt's shape
        "x" * 300 + ":1:2",
    ]
    user = User.objects.get(username="editor")
    expired = media.receipts.issue(media_id, str(user.pk), now=time.time() - media.receipts.expires_in - 60)
    for bad in [*forged, expired]:
        refused = staff.post(ADD_URL, {"title": "Cat", "image": bad, "banner": "", "_save": "1"})
        assert refused.status_code == 200, bad
        page = refused.content.decode()
        assert (
            html.escape(RECEIPT_REFUSED) in page
            or html.escape(INVALID) in page
            or html.escape(NOT_UPLOADED_HERE) in page
        ), bad
        assert html.escape(bad) not in page, bad
    assert Photo.objects.count() == 0
    # The genuine receipt still works.
    assert staff.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"}).status_code == 302


def test_a_receipt_bound_to_one_user_is_refused_for_another(conf: dict[str, object]) -> None:
    alice, mallory = staff_client("alice"), staff_client("mallory")
    media_id, receipt = upload_for_a_form(alice)
    refused = mallory.post(ADD_URL, {"title": "Mine", "image": receipt, "banner": "", "_save": "1"})
    assert refused.status_code == 200 and html.escape(RECEIPT_REFUSED) in refused.content.decode()
    assert receipt not in refused.content.decode()
    assert Photo.objects.count() == 0
    # A form validated outside any request cannot tell who sends it: a bound receipt is refused there too.
    form = PhotoForm({"title": "Mine", "image": receipt, "banner": ""})
    assert not form.is_valid() and form.errors["image"] == [RECEIPT_REFUSED]
    assert form.errors.as_data()["image"][0].code == "receipt"
    # Alice's own form takes it.
    saved = alice.post(ADD_URL, {"title": "Alice's", "image": receipt, "banner": "", "_save": "1"})
    assert saved.status_code == 302 and Photo.objects.get().image == media_id


def test_the_initial_value_survives_an_edit(conf: dict[str, object]) -> None:
    alice = staff_client("alice")
    media_id, receipt = upload_for_a_form(alice)
    assert alice.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"}).status_code == 302
    photo = Photo.objects.get()
    change_url = f"/admin/django_testapp/photo/{photo.pk}/change/"
    # The page holds the stored id (not a receipt); sent back unchanged, it stays.
    page = alice.get(change_url).content.decode()
    assert f'<input type="hidden" name="image" value="{media_id}" data-s3media-id>' in page
    edited = alice.post(change_url, {"title": "Tabby", "image": media_id, "banner": "", "_save": "1"})
    assert edited.status_code == 302, edited.content.decode()
    assert Photo.objects.get().title == "Tabby" and Photo.objects.get().image == media_id
    # Another editor may edit the row too: its own file is not theirs, but it is the row's.
    bob = staff_client("bob")
    edited = bob.post(change_url, {"title": "Bob's title", "image": media_id, "banner": "", "_save": "1"})
    assert edited.status_code == 302, edited.content.decode()
    # A model form given the instance: the same.
    form = PhotoForm({"title": "Cat", "image": media_id, "banner": ""}, instance=Photo.objects.get())
    assert form.is_valid(), form.errors
    assert not form.has_changed() or form.changed_data == ["title"]
    # A new file replaces it through a receipt.
    new_id_, new_receipt = upload_for_a_form(alice)
    replaced = alice.post(change_url, {"title": "Tabby", "image": new_receipt, "banner": "", "_save": "1"})
    assert replaced.status_code == 302 and Photo.objects.get().image == new_id_


def test_a_receipt_is_kept_when_another_field_is_refused(conf: dict[str, object]) -> None:
    alice = staff_client("alice")
    media_id, receipt = upload_for_a_form(alice)
    again = alice.post(ADD_URL, {"title": "", "image": receipt, "banner": "", "_save": "1"})  # the title missing
    assert again.status_code == 200
    page = again.content.decode()
    # The hidden input keeps the receipt (the form can be sent again as is) and the file is shown.
    assert f'<input type="hidden" name="image" value="{html.escape(receipt)}" data-s3media-id>' in page
    assert get_media().resize_url(media_id, "160x160") in page
    fixed = alice.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"})
    assert fixed.status_code == 302 and Photo.objects.get().image == media_id


def test_a_user_the_hook_refuses_cannot_hand_in_a_receipt(conf: dict[str, object]) -> None:
    alice = staff_client("alice")
    media_id, receipt = upload_for_a_form(alice)
    user = User.objects.get(username="alice")
    with override_settings(S3MEDIA={**conf, "UPLOADS": "test_django_field:nobody_may_upload"}):
        refused = alice.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"})
        assert refused.status_code == 200 and html.escape(RECEIPT_REFUSED) in refused.content.decode()
    # A hook answering True makes unbound receipts: any user it allows may hand one in.
    unbound = get_media().upload_receipt(media_id)
    with override_settings(S3MEDIA={**conf, "UPLOADS": "test_django_field:anyone_may_upload"}):
        bound = alice.post(ADD_URL, {"title": "Cat", "image": receipt, "banner": "", "_save": "1"})
        assert bound.status_code == 200 and html.escape(RECEIPT_REFUSED) in bound.content.decode()
        saved = alice.post(ADD_URL, {"title": "Cat", "image": unbound, "banner": "", "_save": "1"})
        assert saved.status_code == 302 and Photo.objects.get().image == media_id
    assert user.pk is not None


def test_model_code_assigning_ids_keeps_working(conf: dict[str, object]) -> None:
    """Trusted code (a view storing with media.put) assigns ids; full_clean checks only that they exist."""
    stored = get_media().put(images.jpeg(320, 200), filename="wide.jpg")
    photo = Photo(title="Wide", image=stored)
    photo.full_clean()
    photo.save()
    assert Photo.objects.get().image == stored


def nobody_may_upload(request: object) -> bool:
    return False


def anyone_may_upload(request: object) -> bool:
    return True


# --- the stored value: the id with its info in the one column -----------------------------------


def test_a_put_id_is_stored_with_its_info_and_read_back_with_no_io(conf: dict[str, object]) -> None:
    media_id = get_media().put(images.jpeg(320, 200), filename="wide.jpg")
    photo = Photo.objects.create(title="Wide", image=media_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT image FROM django_testapp_photo WHERE id = %s", [photo.pk])
        assert cursor.fetchone() == (media_id.stored,)
    loaded = Photo.objects.get(pk=photo.pk).image
    assert loaded == media_id and loaded.info == media_id.info and loaded.width == 320
    assert 'width="100" height="62"' in loaded.picture(sizes=[100], placeholder=True)


def test_rows_holding_a_plain_id_keep_working_and_lookups_compare_ids(conf: dict[str, object]) -> None:
    with_info = get_media().put(images.jpeg(40, 30), filename="a.jpg")
    plain = get_media().put(images.jpeg(40, 30), filename="b.jpg")
    a = Photo.objects.create(title="A", image=with_info)
    with connection.cursor() as cursor:  # a row saved before the info was stored
        cursor.execute("INSERT INTO django_testapp_photo (title, image, banner) VALUES ('B', %s, '')", [str(plain)])
    b = Photo.objects.get(title="B")
    assert b.image == plain and b.image.info is None and b.image.width is None
    assert "width=" not in b.image.picture(sizes=[100])  # no size known: none written, nothing read
    # Looked up by plain id, by MediaId or by stored value: the row, whatever it stores.
    for key, row in ((str(with_info), a), (with_info, a), (with_info.stored, a), (str(plain), b), (plain.stored, b)):
        assert list(Photo.objects.filter(image=key)) == [row], key
    assert not Photo.objects.filter(image=str(with_info)[:-1]).exists()  # a prefix of an id is another id
    assert Photo.objects.exclude(image=str(with_info)).get() == b
    # Saving the plain row again with its MediaId's info fills the column.
    b.image = plain
    b.save()
    assert Photo.objects.get(pk=b.pk).image.width == 40


def test_a_column_too_short_for_the_info_gets_the_plain_id() -> None:
    media_id = MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", info=MediaInfo("image/jpeg", 9, 8, 6, "AAAA"))
    value = MediaValue.from_stored(media_id)
    assert stored_text(value, 512) == media_id.stored
    assert stored_text(value, MAX_ID_LENGTH) == media_id.stored  # short enough: fits still
    assert stored_text(value, 50) == str(media_id)
    assert stored_text(MediaValue("not an id"), 512) == "not an id"  # code skipping validation: as given


def test_dumpdata_and_loaddata_keep_the_info(conf: dict[str, object], tmp_path: Path) -> None:
    media_id = get_media().put(images.jpeg(64, 48), filename="kept.jpg")
    Photo.objects.create(title="Kept", image=media_id)
    dump = tmp_path / "photos.json"
    call_command("dumpdata", "django_testapp.photo", output=str(dump), verbosity=0)
    assert media_id.stored in dump.read_text()
    Photo.objects.all().delete()
    call_command("loaddata", str(dump), verbosity=0)
    loaded = Photo.objects.get(title="Kept").image
    assert loaded == media_id and loaded.info == media_id.info
