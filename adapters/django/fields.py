"""``MediaField``: a model field holding a media id, uploaded straight to storage from its form.

    from s3media_wsgi.adapters.django.fields import MediaField

    class Photo(models.Model):
        title = models.CharField(max_length=100)
        image = MediaField()                 # required
        banner = MediaField(blank=True)      # optional: "" when empty (None with null=True)

The column is a ``varchar`` of :data:`MAX_STORED_LENGTH` characters holding
the id's *stored value* (:attr:`MediaId.stored <s3media_wsgi.MediaId.stored>`):
the id, then what the upload pass learned (type, bytes, width and height, the
ThumbHash placeholder, the dominant colour).  On an instance the value is a
:class:`MediaValue`, a ``str`` (the plain id) with that info and URLs::

    photo.image.url                               # the original
    photo.image.resize_url("400x300", mode="fill")
    photo.image.picture(sizes=[320, 640], alt=photo.title, placeholder=True)
    photo.image.width, photo.image.info.placeholder

and ``{% picture photo.image sizes="320,640" placeholder=True %}`` in
templates: the ``<img>`` gets its ``width``/``height`` (no layout shift) and
its placeholder from the row itself, with no I/O.

Rows holding a plain id (saved before the info was stored, or from code
assigning a bare string) keep working: their value has no info.  A column
made with the older default of :data:`MAX_ID_LENGTH` (126) keeps working too,
storing plain ids only (system check ``s3media.W002``): ``makemigrations``
then writes a plain ``AlterField`` to the new length.  Lookups compare ids:
``Photo.objects.filter(image=media_id)`` finds the row whatever info it
stores (``image=`` only; ``__in`` and the other lookups compare the stored text).

Its form field (:class:`MediaFormField`, so model forms and the admin) renders
a :class:`~.widgets.MediaUploadWidget`: the browser uploads the file straight
to storage with ``uploader.js``, the middleware's ``s3/confirm`` answers the
new id with a *receipt* (a signed token naming the id, valid a few hours, and
bound to the uploader when the ``uploads`` hook answered a ``str``: the
ready-made hooks answer the user's key), and the form submits the receipt.
Ids are not secret (they are in every URL of a file), so the form field takes,
for a file:

- a receipt, which must verify for the user sending the form (it carries the
  upload's info, signed by the server: the field stores it without reading storage)
  (:func:`~s3media_wsgi.adapters.django.check_upload_receipt`: the ``uploads``
  hook is asked about the current request, which the media middleware keeps;
  refused ``receipt``: forged, expired, someone else's, or a user the hook
  refuses);
- or the bare id the field holds already (the form's initial value: the row's
  own file, kept unchanged on edit; so the initial value is trusted: never
  fill a form's ``initial`` from the request); any other bare id is refused
  (``id``: "choose the file again"), and anything else is not an id (``invalid``).

Then the id must still be stored (``unconfirmed``: deleted since, or never
confirmed; ``unavailable``: storage did not answer).  The cleaned value is the
:class:`MediaValue` of the id: model code sees ids, never receipts.

The widget also lets the person set the picture's *focus* (a click, a tap or
the arrow keys on it, see :mod:`~s3media_wsgi.adapters.django.focus`), sent
in the input ``<name>-focus`` as ``"x,y"`` (fractions 0-1 of the upright
picture) or ``""`` for none.  The field stores it in the value's info
(``info.focus``, the ``f`` field of the stored value), so every ``fill`` crop
of the row is placed on it unless told otherwise
(``photo.image.resize_url("300x300", mode="fill")``, ``admin_thumbnail``,
``{% picture %}`` with ``mode="fill"``).  Anything but such a point (``auto``,
``faces``, numbers outside 0-1, NaN, a long text) is refused (``focus``); a
form sent without the input keeps the focus the value had.  Changing only
the focus keeps the id: the file is neither uploaded again nor deleted (a row
holding a plain id gets an info holding the focus alone, with no I/O).

The model field itself (``full_clean``) checks only that a value is a
well-formed id whose original is stored: what your own code assigns (an id
``get_media().put`` returned, say) is trusted, as any value code sets on a
model.  Take ids from a browser through the form field only, or check their
receipt with :func:`~s3media_wsgi.adapters.django.check_upload_receipt`.

The upload needs the middleware's upload routes: ``S3MEDIA["UPLOADS"]`` names
who may upload (in the admin, ``"s3media_wsgi.adapters.django.permissions.is_staff"``).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import lookups
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from ...errors import InvalidId, InvalidResize, InvalidUpload, MediaError
from ...ids import MAX_EXT, MAX_STEM, MAX_STORED_LENGTH, STORED_SEPARATOR, is_id
from ...media import MediaId
from ...picture import SafeHTML
from ...receipts import is_receipt
from . import check_upload_receipt, get_media
from .focus import focus_text, parse_focus
from .widgets import MediaUploadWidget

#: The longest media id: 36 characters of uuid in five folders, "/", then a filename
#: of at most MAX_STEM characters, ".", and MAX_EXT characters (126).
MAX_ID_LENGTH = 36 + 1 + MAX_STEM + 1 + MAX_EXT
#: The column's default length: the longest stored value (an id with its info).
DEFAULT_MAX_LENGTH = MAX_STORED_LENGTH

ERROR_MESSAGES: dict[str, Any] = {
    "invalid": _("Not a file uploaded to this site: choose the file again."),
    "id": _("This file was not uploaded with this form: choose the file again."),
    "receipt": _("This upload is not valid here, or has expired: choose the file again."),
    "unconfirmed": _("This upload was not confirmed, or no longer exists: choose the file again."),
    "unavailable": _("Storage is unavailable: try again shortly."),
    "focus": _("Not a focus point of the picture: click the picture again, or reset its focus."),
}


class MediaValue(MediaId):
    """The value of a :class:`MediaField` on an instance: the media id (a ``str``) with its URLs.

    Each URL is built by :func:`~s3media_wsgi.adapters.django.get_media`'s
    Media, with no I/O.  ``info`` (a :class:`~s3media_wsgi.MediaInfo`),
    ``width`` and ``height`` come from the row's stored value, or from what
    ``put``, ``confirm_upload`` or a receipt gave when assigned; None for a
    row holding a plain id.
    """

    @property
    def url(self) -> str:
        """The URL of the original."""
        return get_media().url(self)

    def resize_url(self, size: str, **options: Any) -> str:
        """A signed resize URL: ``resize_url("400x300", mode="fill", format="webp")``."""
        return get_media().resize_url(self, size, **options)

    def picture(self, **kwargs: Any) -> SafeHTML:
        """Responsive ``<picture>`` markup (see :func:`s3media_wsgi.picture.picture` for the arguments)."""
        return get_media().picture(self, **kwargs)


def media_value(value: object) -> MediaValue | str | None:
    """*value* as a field holds it: None, ``""`` (blank), or a :class:`MediaValue`.

    A :class:`~s3media_wsgi.MediaId` keeps its info, a stored value (what the
    column holds) is read back with its own; anything else becomes a value
    with no info, which validation then refuses when it is no id.
    """
    if value is None or isinstance(value, MediaValue):
        return value
    if isinstance(value, str) and not value:
        return ""
    try:
        return MediaValue.from_stored(value)
    except InvalidId:
        return MediaValue(str(value))


def with_focus(value: MediaValue, focus: tuple[float, float] | None) -> MediaValue:
    """*value* with *focus* in its info (``MediaInfo.focus``: where ``fill`` crops are centred; None: the centre).

    :meth:`MediaId.with_focus <s3media_wsgi.MediaId.with_focus>`: nothing is read from storage, and the id
    is the same, so the row's file is kept (the no-orphans cleanup compares ids).
    """
    return value.with_focus(focus)


def stored_text(value: MediaValue, max_length: int | None) -> str:
    """What the column gets for *value*: its stored value, or the plain id when that does not fit."""
    if not is_id(value):
        return str(value)  # no id: validation refuses it; written as given by code that skips validation
    stored = value.stored
    return stored if max_length is None or len(stored) <= max_length else str(value)


def check_media_id(value: str, messages: Mapping[str, Any]) -> None:
    """Raise ``ValidationError`` unless *value* is a well-formed id whose original is stored.

    Codes: ``invalid`` (not an id), ``unconfirmed`` (no such original: never
    confirmed, deleted or made up), ``unavailable`` (storage did not answer).
    """
    if not is_id(value):
        raise ValidationError(messages["invalid"], code="invalid")
    try:
        stored = get_media().exists(value)
    except MediaError:
        raise ValidationError(messages["unavailable"], code="unavailable") from None
    if not stored:
        raise ValidationError(messages["unconfirmed"], code="unconfirmed")


class MediaBoundField(forms.BoundField):
    """A refused value is not rendered again: the widget shows the initial value (the stored file) instead.

    So a forged receipt, someone else's id or an unconfirmed upload is never
    echoed back into the page (nor shown as a thumbnail), and saving again
    keeps what was stored; the field's error asks for the file again.  A
    receipt the field accepted is rendered again as is (another field was
    refused): the form can be sent again without uploading again.
    """

    def value(self) -> Any:
        if self.form.is_bound and self.name in self.form.errors:
            return self.field.prepare_value(self.initial)
        return super().value()


class MediaFormField(forms.CharField):
    """The form field of :class:`MediaField`: an upload receipt, or the id it holds already; see the module docs.

    :param accept: the file chooser's ``accept`` (``"image/*"``), when no
        *widget* is given.
    """

    widget = MediaUploadWidget
    default_error_messages = ERROR_MESSAGES

    def __init__(self, *, accept: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_ID_LENGTH)
        if accept is not None and "widget" not in kwargs:
            kwargs["widget"] = MediaUploadWidget(accept=accept)
        super().__init__(**kwargs)
        self._bound: weakref.ref[forms.BoundField] | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> MediaFormField:
        result: MediaFormField = super().__deepcopy__(memo)
        result._bound = None  # a copy belongs to another form
        return result

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {}  # no maxlength or minlength on a file chooser

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> forms.BoundField:
        # Each form has its own copy of the field: remembering its bound field tells clean() the
        # form's initial value (the row's file), which Django gives FileField only.
        bound = MediaBoundField(form, self, field_name)
        self._bound = weakref.ref(bound)
        return bound

    def initial_id(self) -> str:
        """The id the field holds already (its form's initial value), ``""`` for none."""
        bound = self._bound() if self._bound is not None else None
        initial = bound.initial if bound is not None else None
        return str(initial) if initial is not None and is_id(initial) else ""

    def to_python(self, value: Any) -> Any:
        sent_focus = getattr(value, "focus", None)  # the widget's focus input, None when not sent
        found = self._media_value(value)
        if not isinstance(found, MediaValue) or not isinstance(sent_focus, str):
            return found
        try:
            focus = parse_focus(sent_focus)
        except InvalidResize:
            raise ValidationError(self.error_messages["focus"], code="focus") from None
        return with_focus(found, focus)

    def _media_value(self, value: Any) -> Any:
        stripped = super().to_python(value)
        if stripped in self.empty_values:
            return media_value(stripped)  # "" or, with empty_value=None (a null=True model field), None
        text = str(stripped)
        initial = self.initial_id()
        if initial and text == initial:
            bound = self._bound() if self._bound is not None else None
            return media_value(bound.initial if bound is not None else initial)  # keeps a known size
        if is_receipt(text):
            try:
                return media_value(check_upload_receipt(text))  # the id with its signed info
            except InvalidUpload:
                raise ValidationError(self.error_messages["receipt"], code="receipt") from None
        if is_id(text):
            raise ValidationError(self.error_messages["id"], code="id")
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value not in self.empty_values:
            check_media_id(str(value), self.error_messages)

    def has_changed(self, initial: Any, data: Any) -> bool:
        # Compared as sent, without checking a receipt (that is clean's work).
        if self.disabled:
            return False
        if ("" if data is None else str(data).strip()) != ("" if initial is None else str(initial)):
            return True
        sent_focus = getattr(data, "focus", None)
        if not isinstance(sent_focus, str):
            return False  # no focus sent: the field keeps the one it has
        try:
            sent = parse_focus(sent_focus)
        except InvalidResize:
            return True  # clean() says what is wrong with it
        info = getattr(initial, "info", None)
        return focus_text(sent) != focus_text(getattr(info, "focus", None))


class MediaDescriptor(DeferredAttribute):
    """Every value assigned to the field becomes a :class:`MediaValue` (None and ``""`` stay as they are)."""

    def __set__(self, instance: models.Model, value: object) -> None:
        instance.__dict__[self.field.attname] = media_value(value)


class MediaExact(lookups.Exact):
    """``image=media_id`` compares ids: a row matches whether it stores the plain id or the id with its info."""

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, str) and self.rhs:
            return str(media_value(self.rhs))  # a stored value or a MediaValue: its plain id
        return super().get_prep_lookup()

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = super().as_sql(compiler, connection)
        if not isinstance(self.rhs, str) or not is_id(self.rhs):
            return sql, tuple(params)
        # The id, or the id followed by its info: a prefix that no other id has (";" is never in an id).
        with_info = lookups.StartsWith(self.lhs, self.rhs + STORED_SEPARATOR)
        prefix_sql, prefix_params = with_info.as_sql(compiler, connection)
        return f"({sql} OR {prefix_sql})", (*params, *prefix_params)


def _is_admin_default(widget: object) -> bool:
    """True for the admin's text input, which it gives every ``CharField`` (so every subclass) by default."""
    admin_widgets = sys.modules.get("django.contrib.admin.widgets")
    if admin_widgets is None:
        return False
    cls = widget if isinstance(widget, type) else type(widget)
    return cls is admin_widgets.AdminTextInputWidget


class MediaField(models.CharField):  # type: ignore[type-arg]
    """A media id with its info, uploaded from the browser; see the module docs.

    ``max_length`` defaults to :data:`DEFAULT_MAX_LENGTH` (512, the longest
    stored value).  System checks: less than :data:`MAX_ID_LENGTH` is an
    error (``s3media.E004``: ids would not fit); less than 512 a warning
    (``s3media.W002``: values that do not fit are stored as the plain id,
    without their info).  Migrations record the field as
    ``s3media_wsgi.adapters.django.fields.MediaField`` with its ``max_length``.
    """

    description = _("Media id (s3media_wsgi)")
    descriptor_class = MediaDescriptor
    default_error_messages = ERROR_MESSAGES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", DEFAULT_MAX_LENGTH)
        super().__init__(*args, **kwargs)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_id_length()]

    def _check_id_length(self) -> list[checks.CheckMessage]:
        if isinstance(self.max_length, int) and self.max_length < MAX_ID_LENGTH:
            return [
                checks.Error(
                    f"MediaField.max_length is {self.max_length}: media ids may be {MAX_ID_LENGTH} characters long.",
                    hint=f"Remove max_length, or make it at least {MAX_ID_LENGTH}.",
                    obj=self,
                    id="s3media.E004",
                )
            ]
        if isinstance(self.max_length, int) and self.max_length < DEFAULT_MAX_LENGTH:
            return [
                checks.Warning(
                    f"MediaField.max_length is {self.max_length}: values longer than that are stored as the plain "
                    f"id, without their width, height and placeholder.",
                    hint=f"Remove max_length (or make it {DEFAULT_MAX_LENGTH}) and run makemigrations: "
                    "a plain AlterField, rows already stored keep working.",
                    obj=self,
                    id="s3media.W002",
                )
            ]
        return []

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> MediaValue | str | None:
        return media_value(value)

    def to_python(self, value: Any) -> Any:
        return media_value(super().to_python(value))

    def get_prep_value(self, value: Any) -> Any:
        value = media_value(super().get_prep_value(value))
        if not isinstance(value, MediaValue):
            return value  # None or ""
        return stored_text(value, self.max_length)

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if value not in self.empty_values:
            check_media_id(str(value), self.error_messages)

    def value_to_string(self, obj: models.Model) -> str:
        # What dumpdata writes: the column's text, info included (loaddata reads it back).
        value = self.get_prep_value(self.value_from_object(obj))
        return "" if value is None else str(value)

    def formfield(self, **kwargs: Any) -> Any:
        if _is_admin_default(kwargs.get("widget")):
            del kwargs["widget"]  # the admin asks for a text input: the upload widget it is
        return super().formfield(**{"form_class": MediaFormField, **kwargs})


MediaField.register_lookup(MediaExact)


__all__ = [
    "DEFAULT_MAX_LENGTH",
    "ERROR_MESSAGES",
    "MAX_ID_LENGTH",
    "MediaBoundField",
    "MediaDescriptor",
    "MediaExact",
    "MediaField",
    "MediaFormField",
    "MediaValue",
    "check_media_id",
    "media_value",
    "stored_text",
    "with_focus",
]
