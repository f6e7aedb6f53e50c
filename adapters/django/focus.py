"""The focus picker: where a person says a picture's subject is, so ``fill`` crops keep it.

A widget that shows a picture renders :func:`picker_html` beside its hidden
input and puts :data:`SCRIPT` (``focus_picker.js``, beside this module) in the
page once.  The picker is the picture (a signed ``fit`` resize, or the file
just chosen, straight from the person's own disk) with a marker on it: a click
or a tap puts the marker there, the arrow keys move it (5 hundredths a press,
1 with Shift), Escape or "Reset" takes it away (crops are then centred).  Two
small boxes preview a square and a 16:9 crop with CSS alone (``object-fit:
cover`` placed as the server places a crop), so no URL is signed in the page.
What the form submits is the input named ``<field>-focus``: ``""`` for none,
else ``"x,y"`` (fractions 0-1 of the upright picture), read by
:func:`parse_focus` on the server.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.html import format_html
from django.utils.safestring import SafeString

from ... import variants
from ...errors import InvalidResize

#: The picker's script, put inline once per widget (it sets its listeners once per page).
SCRIPT = Path(__file__).with_name("focus_picker.js").read_text(encoding="utf-8")

#: The box of the picture the picker shows (a ``fit`` resize).
PICKER_SIZE = "480x480"

#: What the name of the focus input adds to the field's.
SUFFIX = "-focus"


def focus_name(name: str) -> str:
    """The name of the focus input of the field *name*."""
    return name + SUFFIX


def focus_text(focus: object) -> str:
    """The focus input's value for *focus* (an ``info.focus``): ``"x,y"``, or ``""`` for none or one unreadable."""
    try:
        return variants.focus_text(variants.focus_point(focus))
    except InvalidResize:
        return ""


def parse_focus(text: str) -> tuple[float, float] | None:
    """The point a focus input sent, as ``MediaInfo.focus`` holds it; None for none (``""`` or the centre).

    Raises :class:`~s3media_wsgi.errors.InvalidResize` for anything but a
    point of two fractions 0-1 (``"auto"`` and ``"faces"`` are for URLs: a
    stored focus is a point); :func:`~s3media_wsgi.variants.focus_point`
    reads it, bounded.

        >>> parse_focus("0.333,0.25"), parse_focus(""), parse_focus("0.5,0.5")
        ((0.33, 0.25), None, None)
    """
    return variants.focus_point(text)


def picker_html(
    name: str, field_id: str, focus: str, image_url: str, width: int | None, height: int | None
) -> SafeString:
    """The picker's markup for the field *name*, holding *focus* (a :func:`focus_text`), over *image_url*.

    No *image_url*: the picker is rendered hidden, for the script to show once
    a picture is chosen.  *field_id* (the file chooser's) names its parts.
    The page needs :data:`SCRIPT` too, once (the widget puts it after itself).
    """
    base = f"{field_id or name}-focus"
    # "auto": the picture's own shape once loaded (a file chosen later may have another).
    ratio = f"aspect-ratio: auto {width} / {height}" if width and height else ""
    return format_html(
        '<div class="s3media-focus" data-s3media-focus{hidden}>'
        '<input type="hidden" name="{name}" value="{focus}" data-s3media-focus-value>'
        '<p id="{base}-help" class="s3media-focus-help">Focus point: click or tap the picture where its subject is, '
        "or select the picture and move the point with the arrow keys (Shift: small steps). Crops keep this point "
        "in view. Escape or Reset takes it away (crops are then centred).</p>"
        '<div class="s3media-focus-frame" data-s3media-focus-frame tabindex="0" role="application" '
        'aria-label="Focus point of the picture" aria-describedby="{base}-help {base}-status" '
        'style="position: relative; display: inline-block; max-width: 100%; cursor: crosshair; touch-action: none">'
        '<img{src} alt="" data-s3media-focus-image draggable="false" '
        'style="display: block; max-width: 100%; height: auto; max-height: 480px; {ratio}">'
        '<span data-s3media-focus-marker aria-hidden="true" hidden style="position: absolute; '
        "box-sizing: border-box; width: 1.5rem; height: 1.5rem; margin: -0.75rem 0 0 -0.75rem; "
        "border: 2px solid #fff; border-radius: 50%; "
        'box-shadow: 0 0 0 2px #000, inset 0 0 0 2px #000; pointer-events: none"></span>'
        "</div>"
        ' <button type="button" data-s3media-focus-reset>Reset focus</button>'
        ' <span id="{base}-status" data-s3media-focus-status role="status" aria-live="polite"></span>'
        '<div class="s3media-focus-previews" aria-hidden="true" style="display: flex; gap: .5rem; margin-top: .25rem">'
        '<img alt="" data-s3media-focus-preview="1:1"{src} '
        'style="width: 96px; height: 96px; object-fit: cover; object-position: 50% 50%">'
        '<img alt="" data-s3media-focus-preview="16:9"{src} '
        'style="width: 171px; height: 96px; object-fit: cover; object-position: 50% 50%">'
        "</div>"
        "</div>",
        hidden=SafeString("") if image_url else SafeString(" hidden"),
        name=focus_name(name),
        focus=focus,
        base=base,
        src=format_html(' src="{}"', image_url) if image_url else SafeString(""),
        ratio=ratio,
    )


__all__ = ["PICKER_SIZE", "SCRIPT", "SUFFIX", "focus_name", "focus_text", "parse_focus", "picker_html"]
