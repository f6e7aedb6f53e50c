"""Django REST framework: a serializer field that takes an upload receipt and gives back the id and its URL.

    from rest_framework import serializers
    from s3media_wsgi.adapters.django.rest import MediaReceiptField

    class PhotoSerializer(serializers.ModelSerializer):
        image = MediaReceiptField()

        class Meta:
            model = Photo
            fields = ["id", "title", "image"]

A client uploads straight to storage through the middleware's upload routes,
then sends the receipt ``s3/confirm`` answered, exactly as the model form's
widget does (:mod:`~s3media_wsgi.adapters.django.fields`): the receipt must
verify for the user of the request (the serializer's ``context["request"]``,
asked of the ``UPLOADS`` hook), and its file must still be stored.  On an
update, the id the instance holds already is taken as well (the client sends
back what it read).  Any other value is refused with the field's message; the
validated value is the id (a ``MediaValue``), so the model sees ids, never
receipts.  Read, the field is ``{"id": ..., "url": ...}`` (``null`` when empty),
with no I/O.  The field can back a ``MediaField`` or a ``FileField`` on
:class:`~s3media_wsgi.adapters.django.storage.MediaStorage`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ... import ids
from ...errors import InvalidUpload, MediaError
from ...receipts import is_receipt
from . import check_upload_receipt, get_media
from .fields import ERROR_MESSAGES, MediaValue, media_value
from .storage import media_value as field_file_value


class MediaReceiptField(serializers.Field):  # type: ignore[type-arg]
    """An upload receipt in, ``{"id", "url"}`` out; see the module docs."""

    default_error_messages = {key: str(message) for key, message in ERROR_MESSAGES.items()}

    def _held_id(self) -> str:
        """The id the instance being updated holds already (``""`` for none)."""
        instance = getattr(self.parent, "instance", None)
        source = self.source or self.field_name or ""
        value = getattr(instance, source, None) if instance is not None and source and source != "*" else None
        held = str(field_file_value(value) or "") if value is not None else ""
        return held if ids.is_id(held) else ""

    def to_internal_value(self, data: Any) -> MediaValue:
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        text = data.strip()
        held = self._held_id()
        if held and text == held:
            return MediaValue(held)
        if not is_receipt(text):
            self.fail("id" if ids.is_id(text) else "invalid")
        try:
            media_id = check_upload_receipt(text, self.context.get("request"))
        except InvalidUpload:
            self.fail("receipt")
        try:
            stored = get_media().exists(media_id)
        except MediaError:
            self.fail("unavailable")
        if not stored:
            self.fail("unconfirmed")
        value = media_value(media_id)
        assert isinstance(value, MediaValue)
        return value

    def to_representation(self, value: Any) -> dict[str, str] | None:
        media_id = str(field_file_value(value) or "")
        if not media_id:
            return None
        if not ids.is_id(media_id):  # a legacy name of a FileField: its URL, no id
            return {"id": "", "url": str(value.url) if hasattr(value, "url") else ""}
        return {"id": media_id, "url": get_media().url(media_id)}


__all__ = ["MediaReceiptField"]
