"""Responsive ``<picture>`` markup built from signed resize URLs, without I/O.

Every framework helper (Jinja global, Django tag, Pyramid renderer global)
calls :func:`picture`; :meth:`Media.picture <s3media_wsgi.Media.picture>` is
the same function as a method.

    >>> html = media.picture(media_id, sizes=[320, 640], formats=["webp", "jpg"], alt="A cat")
    >>> for tag in html.split("><"): print(tag)
    <picture
    source type="image/webp" srcset="/media/.../320x-fit-85-noupscale-....webp 320w, ....webp 640w" sizes="100vw"
    img src="/media/.../640x-....jpg" srcset="... 320w, ... 640w" sizes="100vw" alt="A cat" width="640" height="480" ...
    /picture>

Sizes
-----
``mode="fit"`` (the default) takes widths: ``[320, 640]`` or ``"320,640"``; the
height follows the image.  ``mode="fill"`` crops to a box, so the height must be
known: give widths plus ``aspect="16:9"``, or boxes ``["320x180", "640x360"]``.
Boxes also work with ``fit`` (each rendition then fits inside its box).
Preset names work too (``["thumb", "card"]``), and are the way to use
``picture`` with ``strict_presets``: each preset keeps its own mode, quality
and upscale, and takes the ``<source>``'s format unless it fixes one.

Width and height
----------------
``width``/``height`` are the *original's* pixel size.  When omitted they come
from the id when it is the :class:`~s3media_wsgi.MediaId` that
:meth:`~s3media_wsgi.Media.put` returned, or the stored value
(:attr:`MediaId.stored <s3media_wsgi.MediaId.stored>`) an app kept of it.  Knowing them lets the ``<img>`` carry
``width``/``height`` (so the page does not jump while loading) and caps the
renditions at the original's width: without ``upscale`` a wider one would come
out no wider anyway, so those are replaced by one at the original's width.
For ``fill`` the box gives the aspect ratio, so ``width``/``height`` are
always written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from . import placeholders, previews
from .errors import InvalidResize
from .formats import MIME_BY_EXT, by_ext, output_format
from .ids import MediaId
from .variants import DEFAULT_QUALITY, MODES, UNSET, FocusArg, Presets, parse_size


class URLSource(Protocol):
    """What :func:`picture` needs of a :class:`~s3media_wsgi.Media`: its presets and signed URLs."""

    presets: Presets

    def resize_url(
        self,
        media_id: str,
        size: str,
        mode: str | None = ...,
        quality: int | None = ...,
        format: str | None = ...,
        upscale: bool | None = ...,
        *,
        focus: FocusArg = ...,
    ) -> str: ...


#: Widths used when the caller gives none.
DEFAULT_SIZES = (320, 640, 1280)
#: Formats tried in order; the last is the ``<img>`` fallback every browser reads.
DEFAULT_FORMATS = ("avif", "webp", "jpg")

# Plain attribute names only (class, id, data-*, aria-*): nothing a template
# could use to break out of the tag.
_ATTR_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*$")
# Attributes this module writes itself; set them through the named arguments.
_RESERVED = frozenset({"src", "srcset", "sizes", "width", "height", "alt", "loading", "decoding"})
_ASPECT_RE = re.compile(r"^\s*([1-9][0-9]{0,5})\s*[:/x]\s*([1-9][0-9]{0,5})\s*$")


class SafeHTML(str):
    """A string of markup that is already escaped.

    ``__html__`` makes Jinja (``Markup``) and Django (``conditional_escape``)
    insert it as is, never escaping it a second time.

        >>> SafeHTML("<b>x</b>").__html__()
        '<b>x</b>'
    """

    def __html__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class _Rendition:
    size: str  # what resize_url is given: "640x", "640x360" or a preset name
    width: int  # the srcset descriptor
    height: int | None  # the box height, when there is one
    preset: bool = False  # size is a preset name: its own options apply


def _items(value: Iterable[Any] | str, name: str) -> list[Any]:
    """A list from a list, or from a comma-separated string (template tags pass those)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    try:
        return list(value)
    except TypeError:
        raise InvalidResize(f"{name} must be a list or a comma-separated string, got {value!r}") from None


def _aspect(aspect: object) -> tuple[int, int] | None:
    if aspect is None:
        return None
    if isinstance(aspect, (tuple, list)) and len(aspect) == 2:
        aspect = f"{aspect[0]}:{aspect[1]}"
    m = _ASPECT_RE.match(aspect) if isinstance(aspect, str) else None
    if not m:
        raise InvalidResize(f"aspect must look like '16:9', got {aspect!r}")
    return int(m[1]), int(m[2])


def _box(item: object) -> tuple[int, int]:
    """``(width, height)`` of a box such as ``"640x360"``: both sides, as :func:`parse_size` reads them."""
    try:
        w, h = parse_size(item)  # type: ignore[arg-type]
    except InvalidResize:
        w = h = None
    if w is None or h is None:
        raise InvalidResize(f"each size must be a width (640) or a box ('640x360'), got {item!r}")
    return w, h


def _preset(presets: Presets, name: str) -> _Rendition:
    """A rendition for the preset *name*: its width is the srcset descriptor."""
    w, h = presets.box(name)
    if w is None:
        raise InvalidResize(f"preset {name!r} has no width ({presets[name]['size']!r}), so it cannot go in a srcset")
    return _Rendition(name, w, h if presets.mode(name) == "fill" else None, preset=True)


def _preset_url(media: URLSource, media_id: str, name: str, fmt: str, focus: FocusArg = UNSET) -> str:
    """The preset's URL in *fmt*; a preset that fixes another format cannot give one."""
    fixed = media.presets.fixed_format(name)
    if focus is not UNSET and media.presets.mode(name) != "fill":
        focus = UNSET  # a fit preset among crops has nothing to place
    if fixed is None:
        return media.resize_url(media_id, name, format=fmt, focus=focus)
    if fixed != fmt:
        raise InvalidResize(
            f"preset {name!r} is always {fixed}, so it cannot fill the {fmt} source: "
            f"give formats=[{fixed!r}] or use presets without a format"
        )
    return media.resize_url(media_id, name, focus=focus)


def _renditions(
    presets: Presets, sizes: Iterable[Any] | str, mode: str, aspect: tuple[int, int] | None
) -> list[_Rendition]:
    out: list[_Rendition] = []
    for item in _items(sizes, "sizes"):
        if isinstance(item, str) and item in presets:
            out.append(_preset(presets, item))
            continue
        if isinstance(item, str) and item.isdigit():
            item = int(item)
        if isinstance(item, int) and not isinstance(item, bool) and item > 0:
            if aspect is not None:
                h = max(1, round(item * aspect[1] / aspect[0]))
                out.append(_Rendition(f"{item}x{h}", item, h))
            elif mode == "fill":
                raise InvalidResize("mode='fill' needs aspect='16:9' or sizes given as boxes such as '640x360'")
            else:
                out.append(_Rendition(f"{item}x", item, None))
            continue
        box = _box(item)
        if aspect is not None:
            raise InvalidResize("give either aspect or boxes such as '640x360' in sizes, not both")
        out.append(_Rendition(item, *box))
    if not out:
        raise InvalidResize("sizes is empty: give at least one width")
    out.sort(key=lambda r: r.width)
    unique: list[_Rendition] = []
    for r in out:
        if unique and unique[-1].width == r.width:
            raise InvalidResize(f"sizes has the width {r.width} twice; srcset needs distinct widths")
        unique.append(r)
    return unique


def _cap_width(renditions: list[_Rendition], original_width: int | None, upscale: bool) -> list[_Rendition]:
    """Replace renditions wider than the original by one at the original's width.

    Without upscale they would come out no wider than the original, and a
    srcset descriptor promising more would make browsers pick them for
    screens they cannot fill.
    """
    if upscale or original_width is None or renditions[-1].width <= original_width:
        return renditions
    if any(r.preset for r in renditions):
        return renditions  # presets are fixed sizes: nothing to replace them with
    kept = [r for r in renditions if r.width < original_width]
    widest = next(r for r in renditions if r.width >= original_width)
    if widest.height is None:
        kept.append(_Rendition(f"{original_width}x", original_width, None))
    else:
        h = max(1, round(widest.height * original_width / widest.width))
        kept.append(_Rendition(f"{original_width}x{h}", original_width, h))
    return kept


def _display_size(
    largest: _Rendition, mode: str, original: tuple[int, int] | None, upscale: bool
) -> tuple[int, int] | None:
    """Pixel size of the largest rendition: the ``<img>`` width/height attributes."""
    if (mode == "fill" or largest.preset) and largest.height is not None:
        return largest.width, largest.height
    if original is None:
        return None
    ow, oh = original
    scale = largest.width / ow
    if largest.height is not None:
        scale = min(scale, largest.height / oh)
    if not upscale:
        scale = min(scale, 1.0)
    return max(1, round(ow * scale)), max(1, round(oh * scale))


def _original_size(media_id: str, width: int | None, height: int | None) -> tuple[int, int] | None:
    if width is not None or height is not None:
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)):
            raise InvalidResize(f"width and height must both be positive ints, got {width!r} and {height!r}")
        return width, height  # type: ignore[return-value]
    w, h = getattr(media_id, "width", None), getattr(media_id, "height", None)
    if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
        return w, h
    return None


def _placeholder_style(media_id: str) -> str:
    """The CSS background of *media_id*'s placeholder, from its ``.info``; "" when it has none."""
    info = getattr(media_id, "info", None)
    code, colour = getattr(info, "placeholder", None), getattr(info, "colour", None)
    if isinstance(code, str) and code:
        try:
            url = placeholders.data_url(code)
        except (ValueError, IndexError):  # not a ThumbHash we made: no placeholder rather than an error
            url = None
        if url is not None:
            return f"background-image:url({url});background-size:cover;background-repeat:no-repeat"
    if isinstance(colour, str) and re.fullmatch(r"#[0-9a-f]{6}", colour):
        return f"background-color:{colour}"
    return ""


def _attr(name: str, value: object) -> str:
    if value is True:
        return f" {name}"
    return f' {name}="{html.escape(str(value), quote=True)}"'


def _user_attrs(attrs: Mapping[str, Any] | None) -> str:
    if not attrs:
        return ""
    parts = []
    for name in sorted(attrs):
        if not isinstance(name, str) or not _ATTR_NAME_RE.match(name):
            raise InvalidResize(f"attribute name {name!r} is not allowed; use names such as 'class' or 'data-id'")
        lower = name.lower()
        if lower in _RESERVED:
            raise InvalidResize(f"set {lower!r} through picture()'s own argument, not attrs")
        if lower.startswith("on"):
            raise InvalidResize(f"event handler attribute {name!r} is not allowed in attrs")
        value = attrs[name]
        if value is None or value is False:
            continue
        parts.append(_attr(name, value))
    return "".join(parts)


def picture(
    media: URLSource,
    media_id: str,
    sizes: Iterable[int | str] | str = DEFAULT_SIZES,
    formats: Iterable[str] | str = DEFAULT_FORMATS,
    mode: str = "fit",
    alt: str = "",
    attrs: Mapping[str, Any] | None = None,
    width: int | None = None,
    height: int | None = None,
    sizes_attr: str = "100vw",
    loading: str | None = "lazy",
    *,
    aspect: str | tuple[int, int] | None = None,
    quality: int = DEFAULT_QUALITY,
    upscale: bool = False,
    placeholder: bool = False,
    focus: FocusArg = UNSET,
) -> SafeHTML:
    """``<picture>`` markup for *media_id*: one ``<source>`` per modern format, an ``<img>`` fallback.

    :param sizes: widths (fit), or boxes ``"WxH"``; see the module docs.
    :param formats: output formats in order of preference; the last one is the
        ``<img>`` fallback (use ``png`` there for images with transparency).
    :param mode: ``fit`` or ``fill``.
    :param alt: the ``alt`` text (always written, empty by default).
    :param attrs: extra ``<img>`` attributes, e.g. ``{"class": "photo"}``;
        ``True`` writes a bare attribute, ``None``/``False`` leaves it out.
    :param width: the original's width in pixels (with *height*).
    :param height: the original's height in pixels (with *width*).
    :param sizes_attr: the ``<img sizes>`` media condition list.
    :param loading: ``"lazy"``, ``"eager"``, or None to leave it out.
    :param aspect: ``"16:9"``: make every width a box of that shape (needed by fill).
    :param placeholder: when *media_id* carries ``.info`` (a :class:`~s3media_wsgi.MediaId`
        from ``put`` or ``confirm_upload``, or its stored value), show its ThumbHash as the ``<img>``'s
        CSS background until the image arrives (a tiny ``data:`` PNG decoded
        here, no I/O, no JavaScript), or its dominant colour when it has no
        placeholder.  Inline styles and ``data:`` images must be allowed by
        the page's Content-Security-Policy (``style-src 'unsafe-inline'``,
        ``img-src data:``).
    :param focus: where ``fill`` crops are placed: a point ``(x, y)`` (or
        ``"0.3,0.25"``) in fractions of the upright original, ``"auto"``,
        ``"faces"``, or None for the centre; not given, each crop takes the
        id's ``info.focus``, else its preset's (see
        :meth:`Media.resize_url <s3media_wsgi.Media.resize_url>`).  Refused
        with ``mode="fit"``.

    Every URL is a signed resize URL, built without any I/O; every attribute
    value is escaped.  A video or a PDF is shown by its still (a poster
    frame, page 1; :mod:`s3media_wsgi.previews`); an id of another file that
    is not an image (audio) is refused with
    :class:`~s3media_wsgi.errors.InvalidResize`: link to it with
    ``media.url(id)`` instead.

        >>> picture(media, media_id, [320, 640], formats=["webp", "jpg"]).count(" 640w")
        2
    """
    if mode not in MODES:
        raise InvalidResize(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if focus is not UNSET and mode != "fill":
        raise InvalidResize("focus chooses where a crop is taken: it needs mode='fill'")
    media_id = MediaId.from_stored(media_id)  # a stored value: its id, with its size and placeholder
    stored = by_ext(str(media_id).rpartition(".")[2]) if "." in str(media_id).rsplit("/", 1)[-1] else None
    if stored is not None and not stored.is_image and not previews.previewable(stored.kind):
        raise InvalidResize(
            f"{media_id} is a {stored.label}, not an image: it has no resizes; link to it with media.url(id)"
        )
    try:
        fmts = [output_format(str(f)) for f in _items(formats, "formats")]
    except ValueError as exc:
        raise InvalidResize(f"formats: {exc}") from None
    if not fmts:
        raise InvalidResize("formats is empty: give at least the fallback format, e.g. ['jpg']")
    if len(set(fmts)) != len(fmts):
        raise InvalidResize(f"formats lists a format twice: {fmts}")
    if loading not in (None, "lazy", "eager"):
        raise InvalidResize(f"loading must be 'lazy', 'eager' or None, not {loading!r}")

    original = _original_size(media_id, width, height)
    renditions = _renditions(media.presets, sizes, mode, _aspect(aspect))
    renditions = _cap_width(renditions, original[0] if original else None, upscale)

    def srcset(fmt: str) -> tuple[str, list[str]]:
        urls = [
            _preset_url(media, media_id, r.size, fmt, focus)
            if r.preset
            else media.resize_url(
                media_id, r.size, mode=mode, quality=quality, format=fmt, upscale=upscale, focus=focus
            )
            for r in renditions
        ]
        return ", ".join(f"{url} {r.width}w" for url, r in zip(urls, renditions)), urls

    parts = ["<picture>"]
    for fmt in fmts[:-1]:
        attributes = _attr("type", MIME_BY_EXT[fmt]) + _attr("srcset", srcset(fmt)[0]) + _attr("sizes", sizes_attr)
        parts.append(f"<source{attributes}>")

    fallback_srcset, fallback_urls = srcset(fmts[-1])
    img = [
        _attr("src", fallback_urls[len(fallback_urls) // 2]),
        _attr("srcset", fallback_srcset),
        _attr("sizes", sizes_attr),
        _attr("alt", alt),
    ]
    shown = _display_size(renditions[-1], mode, original, upscale)
    if shown is not None:
        img += [_attr("width", shown[0]), _attr("height", shown[1])]
    if loading is not None:
        img.append(_attr("loading", loading))
    img.append(_attr("decoding", "async"))
    if placeholder:
        style = _placeholder_style(media_id)
        if style:
            given = dict(attrs or {})
            if given.get("style"):
                style += ";" + str(given["style"])
            img.append(_attr("style", style))
            attrs = {k: v for k, v in given.items() if k != "style"}
    parts.append(f"<img{''.join(img)}{_user_attrs(attrs)}>")
    parts.append("</picture>")
    return SafeHTML("".join(parts))


__all__ = ["DEFAULT_FORMATS", "DEFAULT_SIZES", "SafeHTML", "URLSource", "picture"]
