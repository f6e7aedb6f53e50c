"""``MediaField``: a model field holding a media id, uploaded straight to storage from its form.

    from s3media_wsgi.adapters.django.fields import MediaField

    class Photo(models.Model):
        title = models.CharField(max_length=100)
        image = MediaField()                 # required
        banner = MediaField(blank=True)      # optional: "" when empty (None with null=True)

The column is a ``varchar`` of :data:`MAX_ID_LENGTH` characters holding the
id.  On an instance the value is a :class:`MediaValue`, a ``str`` (the id)
with URLs::

    photo.image.url                               # the original
    photo.image.resize_url("400x300", mode="fill")
    photo.image.picture(sizes=[320, 640], alt=photo.title)

and ``{% picture photo.image sizes="320,640" %}`` in templates.

Its form field (:class:`MediaFormField`, so model forms and the admin) renders
a :class:`~.widgets.MediaUploadWidget`: the browser uploads the file straight
to storage with ``uploader.js``, the middleware's ``s3/confirm`` answers the
new id with a *receipt* (a signed token naming the id, valid a few hours, and
bound to the uploader when the ``uploads`` hook answered a ``str``: the
ready-made hooks answer the user's key), and the form submits the receipt.
Ids are not secret (they are in every URL of a file), so the form field takes,
for a file:

- a receipt, which must verify for the user sending the form
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
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from ...errors import InvalidUpload, MediaError
from ...ids import MAX_EXT, MAX_STEM, is_id
from ...media import MediaId
from ...picture import SafeHTML
from ...receipts import is_receipt
from . import check_upload_receipt, get_media
from .widgets import MediaUploadWidget

#: The longest media id: 36 characters of uuid in five folders, "/", then a filename
#: of at most MAX_STEM characters, ".", and MAX_EXT characters (126).
MAX_ID_LENGTH = 36 + 1 + MAX_STEM + 1 + MAX_EXT

ERROR_MESSAGES: dict[str, Any] = {
    "invalid": _("Not a file uploaded to this site: choose the file again."),
    "id": _("This file was not uploaded with this form: choose the file again."),
    "receipt": _("This upload is not valid here, or has expired: choose the file again."),
    "unconfirmed": _("This upload was not confirmed, or no longer exists: choose the file again."),
    "unavailable": _("Storage is unavailable: try again shortly."),
}


class MediaValue(MediaId):
    """The value of a :class:`MediaField` on an instance: the media id (a ``str``) with its URLs.

    Each URL is built by :func:`~s3media_wsgi.adapters.django.get_media`'s
    Media, with no I/O.  ``width`` and ``height`` are known when the value was
    assigned from what ``put`` or ``confirm_upload`` returned, None otherwise.
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
    """*value* as a field holds it: None, ``""`` (blank), or a :class:`MediaValue` (keeping a MediaId's size)."""
    if value is None or isinstance(value, MediaValue):
        return value
    text = str(value)
    if not text:
        return ""
    if isinstance(value, MediaId):
        return MediaValue(text, value.width, value.height, value.content_type)
    return MediaValue(text)


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
                return MediaValue(check_upload_receipt(text))
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
        return ("" if data is None else str(data).strip()) != ("" if initial is None else str(initial))


class MediaDescriptor(DeferredAttribute):
    """Every value assigned to the field becomes a :class:`MediaValue` (None and ``""`` stay as they are)."""

    def __set__(self, instance: models.Model, value: object) -> None:
        instance.__dict__[self.field.attname] = media_value(value)


def _is_admin_default(widget: object) -> bool:
    """True for the admin's text input, which it gives every ``CharField`` (so every subclass) by default."""
    admin_widgets = sys.modules.get("django.contrib.admin.widgets")
    if admin_widgets is None:
        return False
    cls = widget if isinstance(widget, type) else type(widget)
    return cls is admin_widgets.AdminTextInputWidget


class MediaField(models.CharField):  # type: ignore[type-arg]
    """A media id, uploaded from the browser; see the module docs.

    ``max_length`` defaults to :data:`MAX_ID_LENGTH` (a system check,
    ``s3media.E004``, refuses less).  Migrations record the field as
    ``s3media_wsgi.adapters.django.fields.MediaField`` with its ``max_length``.
    """

    description = _("Media id (s3media_wsgi)")
    descriptor_class = MediaDescriptor
    default_error_messages = ERROR_MESSAGES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_ID_LENGTH)
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
        return []

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> MediaValue | str | None:
        return media_value(value)

    def to_python(self, value: Any) -> Any:
        return media_value(super().to_python(value))

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else str(value)  # the plain id, not the subclass

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if value not in self.empty_values:
            check_media_id(str(value), self.error_messages)

    def formfield(self, **kwargs: Any) -> Any:
        if _is_admin_default(kwargs.get("widget")):
            del kwargs["widget"]  # the admin asks for a text input: the upload widget it is
        return super().formfield(**{"form_class": MediaFormField, **kwargs})


__all__ = [
    "ERROR_MESSAGES",
    "MAX_ID_LENGTH",
    "MediaBoundField",
    "MediaDescriptor",
    "MediaField",
    "MediaFormField",
    "MediaValue",
    "check_media_id",
    "media_value",
]
