"""``MediaListField``: several files in one column, in order, uploaded straight to storage from its form.

    from s3media_wsgi.adapters.django.lists import MediaListField

    class Album(models.Model):
        title = models.CharField(max_length=100)
        images = MediaListField(max_items=12)             # at least one
        extras = MediaListField(blank=True)               # may be empty

The column is text holding a JSON array of *stored values*
(:attr:`MediaId.stored <s3media_wsgi.MediaId.stored>`, as
:class:`~.fields.MediaField` stores one): the same on SQLite, PostgreSQL and
MySQL.  On an instance the value is a :class:`MediaList`, a ``list`` of
:class:`~.fields.MediaValue`\\ s, each with its ``url``, ``resize_url``,
``picture`` and ``info``, with no I/O::

    album.images[0].resize_url("400x300", mode="fill")
    {% for image in album.images %}{% picture image sizes="320,640" placeholder=True %}{% endfor %}

Its form field (:class:`MediaListFormField`, so model forms and the admin)
renders a :class:`~.widgets.MediaListWidget`: the browser uploads several files
at once, straight to storage, and the form submits one value per item, in the
order the user chose.  Each value must be, as for ``MediaField``, an upload
receipt valid for the user sending the form (a new file) or an id the list
holds already (kept, moved, or left out: removed); anything else refuses the
whole list with a message naming the item (``invalid``, ``id``, ``receipt``,
``unconfirmed``, ``unavailable`` as ``MediaField`` says them), and so do more
than ``max_items`` values (``max_items``, counted before any receipt is
checked).  The same file twice is kept once.  What is accepted is what the
``allowed_types`` setting accepts (the upload routes refuse the rest); the
chooser's ``accept`` (``MediaListFormField(accept="image/*")``) is a hint to
the browser only.

No orphans (:mod:`~s3media_wsgi.adapters.django.cleanup`): a file removed from
the list, or every file of a deleted row, is deleted once the transaction
commits, unless a row (this field or another watched one, of any model) still
holds it; a rolled back transaction deletes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from ...errors import InvalidUpload
from ...ids import is_id
from ...receipts import is_receipt
from . import check_upload_receipt
from .fields import ERROR_MESSAGES, MediaValue, check_media_id, media_value, stored_text
from .widgets import MediaListWidget

#: The most items a list holds unless the field says otherwise.
DEFAULT_MAX_ITEMS = 20
#: The most items any list may be given (each is checked in storage when its form is sent).
MAX_ITEMS_LIMIT = 1000

LIST_ERROR_MESSAGES: dict[str, Any] = {
    **ERROR_MESSAGES,
    "max_items": _("At most %(max)d files: remove %(extra)d."),
    "item": _("File %(position)d: %(message)s"),
    "not_a_list": _("Not a list of files: choose the files again."),
}


class MediaList(list[MediaValue]):
    """The value of a :class:`MediaListField` on an instance: a ``list`` of :class:`~.fields.MediaValue`.

    >>> MediaList(["3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"])[0].endswith("/cat.jpg")
    True

    Items assigned (``append``, slices, ``+=``) stay what they are given until
    the row is saved or validated; read back, each is a ``MediaValue``.
    """

    def __init__(self, items: Iterable[object] = ()) -> None:
        super().__init__(value for value in (media_value(item) for item in items) if isinstance(value, MediaValue))

    @property
    def ids(self) -> list[str]:
        """The plain ids, in order."""
        return [str(item) for item in self]


def media_list(value: object) -> MediaList | None:
    """*value* as the field holds it: None, or a :class:`MediaList`.

    A list or tuple of ids (or stored values, or ``MediaId``\\ s), or the
    column's JSON text.  Text that is not a JSON array becomes a list of one
    value (which validation refuses unless it is an id).
    """
    if value is None or isinstance(value, MediaList):
        return value
    if isinstance(value, str):
        if not value:
            return MediaList()
        try:
            decoded = json.loads(value)
        except ValueError:
            return MediaList([value])
        value = decoded if isinstance(decoded, list) else [value]
    if isinstance(value, (list, tuple)):
        return MediaList(item for item in value if isinstance(item, str) and item)
    return MediaList([str(value)])


class MediaListDescriptor(DeferredAttribute):
    """Every value assigned to the field becomes a :class:`MediaList` (None stays None)."""

    def __set__(self, instance: models.Model, value: object) -> None:
        instance.__dict__[self.field.attname] = media_list(value)


class MediaListBoundField(forms.BoundField):
    """A refused list is not rendered again: the widget shows the row's list (see ``MediaBoundField``)."""

    def value(self) -> Any:
        if self.form.is_bound and self.name in self.form.errors:
            return self.field.prepare_value(self.initial)
        return super().value()


class MediaListFormField(forms.Field):
    """The form field of :class:`MediaListField`: receipts and the ids the list holds; see the module docs.

    :param max_items: the most files (checked before anything else).
    :param accept: the file chooser's ``accept`` (``"image/*"``), when no *widget* is given.
    """

    widget = MediaListWidget
    default_error_messages = LIST_ERROR_MESSAGES

    def __init__(self, *, max_items: int = DEFAULT_MAX_ITEMS, accept: str | None = None, **kwargs: Any) -> None:
        self.max_items = max_items
        if "widget" not in kwargs:
            kwargs["widget"] = MediaListWidget(accept=accept)
        super().__init__(**kwargs)
        self.widget.max_items = max_items
        self._initial: list[MediaValue] = []

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> forms.BoundField:
        # Each form has its own copy of the field: the bound field's initial value is the row's list,
        # the only ids the form may keep (as MediaFormField does for one id).
        bound = MediaListBoundField(form, self, field_name)
        self._initial = list(media_list(bound.initial) or [])
        return bound

    def prepare_value(self, value: Any) -> Any:
        listed = value if isinstance(value, (list, tuple)) else media_list(value)
        return [item if isinstance(item, str) else str(item) for item in listed or []]  # MediaValues keep their info

    def to_python(self, value: Any) -> MediaList:
        if value in self.empty_values:
            return MediaList()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            raise ValidationError(self.error_messages["not_a_list"], code="not_a_list")
        texts = [item.strip() for item in value if item.strip()]
        # The count first: a huge list is refused before any receipt is verified or file looked up.
        if len(texts) > self.max_items:
            raise ValidationError(
                self.error_messages["max_items"],
                code="max_items",
                params={"max": self.max_items, "extra": len(texts) - self.max_items},
            )
        kept = {str(item): item for item in self._initial}
        items: list[MediaValue] = []
        seen: set[str] = set()
        for position, text in enumerate(texts, 1):
            item = self._item(position, text, kept)
            if str(item) not in seen:  # the same file twice: kept once
                seen.add(str(item))
                items.append(item)
        return MediaList(items)

    def _item(self, position: int, text: str, kept: Mapping[str, MediaValue]) -> MediaValue:
        if text in kept:
            return kept[text]  # the row's own, with the info it holds
        code = "invalid"  # anything longer than a receipt is this too: is_receipt bounds the length
        if is_receipt(text):
            try:
                value = media_value(check_upload_receipt(text))  # the id with its signed info
            except InvalidUpload:
                code = "receipt"
            else:
                if isinstance(value, MediaValue):
                    return value
        elif is_id(text):
            code = "id"
        raise self._refused(position, code)

    def _refused(self, position: int, code: str) -> ValidationError:
        message = self.error_messages[code]
        return ValidationError(
            self.error_messages["item"], code=code, params={"position": position, "message": message}
        )

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        for position, item in enumerate(value or [], 1):
            try:
                check_media_id(str(item), self.error_messages)
            except ValidationError as error:
                raise self._refused(position, str(error.code)) from None

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        sent = data if isinstance(data, (list, tuple)) else ([] if data in self.empty_values else [data])
        return [str(item).strip() for item in sent] != [str(item) for item in self.prepare_value(initial)]


class MediaListField(models.Field):  # type: ignore[type-arg]
    """An ordered list of media ids with their info, uploaded from the browser; see the module docs.

    :param max_items: the most files a row holds (default :data:`DEFAULT_MAX_ITEMS`);
        checked by the form field and by ``full_clean``.

    ``blank=True`` lets the list be empty (``[]``; ``None`` with ``null=True``
    and nothing assigned).  Migrations record it as
    ``s3media_wsgi.adapters.django.lists.MediaListField`` with its ``max_items``.
    """

    description = _("List of media ids (s3media_wsgi)")
    descriptor_class = MediaListDescriptor
    default_error_messages = LIST_ERROR_MESSAGES
    empty_values = [None, "", [], ()]

    def __init__(self, *args: Any, max_items: int = DEFAULT_MAX_ITEMS, **kwargs: Any) -> None:
        self.max_items = max_items
        if not kwargs.get("null"):
            kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.max_items != DEFAULT_MAX_ITEMS:
            kwargs["max_items"] = self.max_items
        if kwargs.get("default") is list:
            del kwargs["default"]
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if not isinstance(self.max_items, int) or not 1 <= self.max_items <= MAX_ITEMS_LIMIT:
            errors.append(
                checks.Error(
                    f"MediaListField.max_items is {self.max_items!r}: it must be between 1 and {MAX_ITEMS_LIMIT}.",
                    obj=self,
                    id="s3media.E007",
                )
            )
        return errors

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> MediaList | None:
        return media_list(value)

    def to_python(self, value: Any) -> Any:
        return media_list(value)

    def get_prep_value(self, value: Any) -> Any:
        listed = media_list(super().get_prep_value(value))
        if listed is None:
            return None
        return json.dumps([stored_text(item, None) for item in listed], separators=(",", ":"))

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        listed = media_list(value) or MediaList()
        if len(listed) > self.max_items:
            raise ValidationError(
                self.error_messages["max_items"],
                code="max_items",
                params={"max": self.max_items, "extra": len(listed) - self.max_items},
            )
        for position, item in enumerate(listed, 1):
            try:
                check_media_id(str(item), self.error_messages)
            except ValidationError as error:
                message = self.error_messages[str(error.code)]
                raise ValidationError(
                    self.error_messages["item"], code=error.code, params={"position": position, "message": message}
                ) from None

    def value_to_string(self, obj: models.Model) -> str:
        value = self.get_prep_value(self.value_from_object(obj))
        return "" if value is None else str(value)

    def formfield(self, **kwargs: Any) -> Any:
        defaults: dict[str, Any] = {"form_class": MediaListFormField, "max_items": self.max_items}
        # Skip models.Field.formfield's choices and empty_value handling: a list has neither.
        defaults.update(kwargs)
        form_class = defaults.pop("form_class")
        defaults.pop("choices_form_class", None)
        field_kwargs = {
            "required": not self.blank,
            "label": self.verbose_name.capitalize() if isinstance(self.verbose_name, str) else self.verbose_name,
            "help_text": self.help_text,
            **defaults,
        }
        if self.has_default() and not callable(self.default):
            field_kwargs.setdefault("initial", self.default)
        return form_class(**field_kwargs)


__all__ = [
    "DEFAULT_MAX_ITEMS",
    "LIST_ERROR_MESSAGES",
    "MAX_ITEMS_LIMIT",
    "MediaList",
    "MediaListBoundField",
    "MediaListDescriptor",
    "MediaListField",
    "MediaListFormField",
    "media_list",
]
