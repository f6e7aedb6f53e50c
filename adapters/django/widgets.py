"""``MediaUploadWidget``: a file chooser that uploads straight to storage, for :class:`~.fields.MediaField`.

It renders, in one ``<div data-s3media-upload>``:

- a hidden input named after the field, holding what the form submits: the
  current media id at first, the upload's receipt once a file is uploaded;
- the current file, linked (with a thumbnail when it is an image);
- a file chooser with no name (the file itself is never part of the form);
- a "Remove" button when the field is not required (shown while it holds a file);
- a ``<progress>`` bar and a status line;
- the focus picker (:mod:`.focus`) over the image, a signed ``fit`` resize,
  with its own hidden input ``<name>-focus``: where the person says the
  subject is, which ``fill`` crops keep (shown for images, videos and PDFs;
  hidden until there is one);
- a ``<script type="module">`` (``media_widget.js``, beside this module) that
  uploads the chosen file with the middleware's ``uploader.js``, puts the
  receipt ``s3/confirm`` answered in the hidden input, and blocks the form's
  submission while an upload runs; then ``focus_picker.js`` (its listeners,
  set once a page).  A file just uploaded is shown in the picker from the
  person's own disk (no request, no URL to sign in the page).

The upload routes must be on: ``S3MEDIA["UPLOADS"]`` names the hook saying
who may upload (for the admin, :func:`~.permissions.is_staff`).  The form
does not need ``enctype="multipart/form-data"``.  The server never trusts
what the browser puts in the hidden input: :class:`~.fields.MediaFormField`
takes a receipt that verifies for the user sending the form, or the id the
field held already, and checks that its file is stored.  Rendered again with a
receipt (the form refused another field), the widget keeps the receipt and
shows the file it names, when the receipt verifies for the current request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ...errors import InvalidResize, MediaError
from ...formats import by_ext
from ...ids import extension, filename, is_id
from ...previews import previewable
from ...receipts import is_receipt
from ...responder import uploader_url
from . import check_upload_receipt, get_media, get_settings
from . import focus as focus_picker

#: The widget's script, put inline after each widget (it sets its listeners once per page).
SCRIPT = Path(__file__).with_name("media_widget.js").read_text(encoding="utf-8")

#: The box of the thumbnail of the current image.
THUMBNAIL = "160x160"


class SentValue(str):
    """What the widget read from a form's data: the hidden input's text, and the focus input's (None: not sent)."""

    focus: str | None

    def __new__(cls, value: str, focus: str | None = None) -> SentValue:
        self = super().__new__(cls, value)
        self.focus = focus
        return self


class MediaUploadWidget(forms.Widget):
    """The widget of :class:`~.fields.MediaFormField`; see the module docs.

    :param attrs: attributes of the file chooser (``id`` among them, so a
        ``<label for>`` opens it).
    :param accept: the chooser's ``accept`` (``"image/*"``); a hint to the
        browser only: what is accepted is the ``allowed_types`` setting.
    """

    #: No template: :meth:`render` writes the markup itself, so there is no template folder to
    #: find or to package.
    template_name = ""

    def __init__(self, attrs: dict[str, Any] | None = None, accept: str | None = None) -> None:
        super().__init__(attrs)
        self.accept = accept

    def use_required_attribute(self, initial: Any) -> bool:
        # A hidden input cannot be required in the browser; the field checks it on the server.
        return False

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = data.get(name)
        if value is None:
            return None
        focus = data.get(focus_picker.focus_name(name))
        return SentValue(str(value), focus if isinstance(focus, str) else None)

    def format_value(self, value: Any) -> str:
        return "" if value is None else str(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        prefix = get_settings().prefix
        context["widget"].update(
            {
                "endpoint": prefix.rstrip("/"),
                "uploader_url": uploader_url(prefix),
                "accept": self.accept,
            }
        )
        return context

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        current = widget["value"]
        shown = self.shown_id(current)
        chooser_attrs = {**widget["attrs"], "type": "file", "data-s3media-file": True}
        if widget["accept"]:
            chooser_attrs["accept"] = widget["accept"]
        # An optional field can be emptied: the button shows while there is a file.
        hidden = "" if current else mark_safe(" hidden")
        remove = (
            format_html(' <button type="button" data-s3media-clear{}>{}</button>', hidden, "Remove")
            if not self.is_required
            else ""
        )
        html = format_html(
            '<div class="s3media-upload" data-s3media-upload data-state="{}" data-endpoint="{}" data-uploader="{}">'
            '<input type="hidden" name="{}" value="{}" data-s3media-id>'
            "<span data-s3media-current>{}</span> "
            "<input{}>{}"
            ' <progress data-s3media-progress max="1" value="0" hidden></progress>'
            ' <span data-s3media-status role="status" aria-live="polite"></span>'
            "{}"
            "</div>"
            '<script type="module">{}</script>'
            '<script type="module">{}</script>',
            "done" if current else "empty",
            widget["endpoint"],
            widget["uploader_url"],
            widget["name"],
            current,
            self.current(shown),
            flatatt(chooser_attrs),
            remove,
            self.picker(name, widget["attrs"].get("id", ""), value, shown),
            mark_safe(SCRIPT),
            mark_safe(focus_picker.SCRIPT),
        )
        return html

    @staticmethod
    def focus_of(value: Any, shown: str) -> str:
        """The focus input's text: what the form sent (*value* read back), else the focus *shown*'s info holds."""
        sent = getattr(value, "focus", None)
        if isinstance(sent, str):
            try:
                return focus_picker.focus_text(focus_picker.parse_focus(sent))  # never echoed back as sent
            except InvalidResize:
                pass
        info = getattr(value, "info", None) or getattr(shown, "info", None)  # a row's value, or a receipt's id
        return focus_picker.focus_text(getattr(info, "focus", None))

    @staticmethod
    def picker(name: str, field_id: str, value: Any, shown: str) -> SafeString:
        """The focus picker over *shown* (a signed ``fit`` resize); hidden when there is no picture to show."""
        focus = MediaUploadWidget.focus_of(value, shown)
        url, width, height = "", None, None
        kind = by_ext(extension(shown)) if is_id(shown) else None
        if kind is not None and (kind.is_image or previewable(kind.kind)):
            try:
                url = get_media().resize_url(shown, focus_picker.PICKER_SIZE)
            except MediaError:  # a size strict_presets does not allow: no picture to point at
                url = ""
            info = getattr(value, "info", None) or getattr(shown, "info", None)
            width, height = getattr(info, "width", None), getattr(info, "height", None)
        return focus_picker.picker_html(name, field_id, focus, url, width, height)

    @staticmethod
    def shown_id(value: str) -> str:
        """The id of the file to show for *value*: itself, the id a receipt valid here names, or ``""``."""
        if is_id(value) or not is_receipt(value):
            return value
        try:
            return check_upload_receipt(value)
        except MediaError:
            return ""

    @staticmethod
    def current(value: str) -> SafeString:
        """The current file, linked, with a thumbnail when it is an image, a video or a PDF; nothing for no id."""
        if not is_id(value):
            return mark_safe("")
        media = get_media()
        link = format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', media.url(value), filename(value))
        kind = by_ext(extension(value))
        if kind is None or not (kind.is_image or previewable(kind.kind)):
            return link
        try:
            thumbnail = media.resize_url(value, THUMBNAIL)
        except MediaError:  # a size strict_presets does not allow: the link alone
            return link
        return format_html('<img src="{}" alt="" class="s3media-thumbnail"> {}', thumbnail, link)


#: The script of :class:`MediaListWidget`, put inline after each one (listeners set once per page).
LIST_SCRIPT = Path(__file__).with_name("media_list_widget.js").read_text(encoding="utf-8")

#: The box of each item's thumbnail in a :class:`MediaListWidget` (filled: square tiles).
LIST_THUMBNAIL = "96x96"

#: Uploads a :class:`MediaListWidget` runs at once; the other chosen files wait their turn.
LIST_CONCURRENCY = 3


class MediaListWidget(forms.Widget):
    """The widget of :class:`~.lists.MediaListFormField`: several files, uploaded at once, in order.

    It renders, in one ``<div data-s3media-list>``:

    - an ordered list, one ``<li data-s3media-item>`` a file: a hidden input
      named after the field (the item's id, or its upload's receipt: what the
      form submits, in this order), a thumbnail (a square resize; the file's
      dominant colour as placeholder until it loads), a link to the file, a
      progress bar and status line, and "Move up", "Move down" and "Remove"
      buttons (keyboard and touch; drag and drop works too);
    - a file chooser with ``multiple`` and no name (files never go in the form);
    - a status line for the whole list;
    - a ``<script type="module">`` (``media_list_widget.js``, beside this
      module): each chosen file becomes an item at once (a local preview as
      its thumbnail), and is uploaded with ``uploader.js``,
      :data:`LIST_CONCURRENCY` at a time, with its own progress bar; a file the
      server refuses shows the server's message and sends nothing; the others
      are kept.  The form cannot be sent while an upload runs.

    :param attrs: attributes of the file chooser (``id`` among them).
    :param accept: the chooser's ``accept``; a hint to the browser only.
    :param max_items: the most items (the form field sets it); the script
        refuses the files past it, and the server checks again.
    """

    template_name = ""

    def __init__(
        self, attrs: dict[str, Any] | None = None, accept: str | None = None, max_items: int | None = None
    ) -> None:
        super().__init__(attrs)
        self.accept = accept
        self.max_items = max_items

    def use_required_attribute(self, initial: Any) -> bool:
        return False

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        getter = getattr(data, "getlist", None)
        if getter is not None:
            return [str(value) for value in getter(name)]
        value = data.get(name)
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value]
        return [] if value is None else [str(value)]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        # No item at all is a value (the list emptied), never "not sent".
        return False

    def format_value(self, value: Any) -> list[str]:
        if value is None or value == "":
            return []
        if isinstance(value, (list, tuple)):
            return [item if isinstance(item, str) else str(item) for item in value]  # a MediaValue keeps its info
        return [str(value)]

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        context = self.get_context(name, value, attrs)["widget"]
        prefix = get_settings().prefix
        chooser_attrs = {**context["attrs"], "type": "file", "multiple": True, "data-s3media-files": True}
        if self.accept:
            chooser_attrs["accept"] = self.accept
        items = mark_safe("".join(self.item(name, item) for item in self.format_value(value) if item))
        return format_html(
            '<div class="s3media-list" data-s3media-list data-name="{}" data-endpoint="{}" data-uploader="{}"'
            ' data-max="{}" data-concurrency="{}">'
            '<ol class="s3media-items" data-s3media-items>{}</ol>'
            "<input{}>"
            ' <span data-s3media-list-status role="status" aria-live="polite"></span>'
            "</div>"
            '<script type="module">{}</script>',
            name,
            prefix.rstrip("/"),
            uploader_url(prefix),
            self.max_items or "",
            LIST_CONCURRENCY,
            items,
            flatatt(chooser_attrs),
            mark_safe(LIST_SCRIPT),
        )

    @staticmethod
    def item(name: str, value: str) -> SafeString:
        """One item: *value* (an id, or a receipt valid here) and the file it names; nothing for anything else."""
        shown = MediaUploadWidget.shown_id(value)
        if not is_id(shown):
            return mark_safe("")  # not a file of this site: not rendered back
        media = get_media()
        colour = getattr(getattr(shown, "info", None), "colour", None) or "#ddd"
        thumbnail = mark_safe("")
        kind = by_ext(extension(shown))
        if kind is not None and (kind.is_image or previewable(kind.kind)):
            try:
                thumbnail = format_html(
                    '<img src="{}" alt="" width="96" height="96" loading="lazy">',
                    media.resize_url(shown, LIST_THUMBNAIL, mode="fill"),
                )
            except MediaError:  # a size strict_presets does not allow: the placeholder alone
                pass
        return format_html(
            '<li class="s3media-item" data-s3media-item data-state="done" draggable="true">'
            '<input type="hidden" name="{}" value="{}" data-s3media-value>'
            '<span class="s3media-thumb" data-s3media-thumb style="background-color: {}">{}</span> '
            '<a href="{}" target="_blank" rel="noopener" data-s3media-name>{}</a>'
            ' <progress data-s3media-progress max="1" value="1" hidden></progress>'
            ' <span data-s3media-status role="status"></span>'
            "{}</li>",
            name,
            value,
            colour if _is_colour(colour) else "#ddd",
            thumbnail,
            media.url(shown),
            filename(shown),
            ITEM_BUTTONS,
        )


#: The buttons of every item (the script builds the same for new ones).
ITEM_BUTTONS = mark_safe(
    ' <button type="button" data-s3media-move="-1" aria-label="Move up" title="Move up">&uarr;</button>'
    ' <button type="button" data-s3media-move="1" aria-label="Move down" title="Move down">&darr;</button>'
    ' <button type="button" data-s3media-remove aria-label="Remove" title="Remove">&times;</button>'
)


def _is_colour(value: str) -> bool:
    """True for ``#rgb``/``#rrggbb``: the only colours put in a style attribute."""
    return len(value) in (4, 7) and value[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in value[1:])


__all__ = ["LIST_CONCURRENCY", "LIST_THUMBNAIL", "MediaListWidget", "MediaUploadWidget"]
