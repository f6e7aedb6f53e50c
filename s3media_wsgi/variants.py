"""Resize parameters and the variant names that carry them.

A variant is the last segment of a resize key or URL::

    400x300-fit-85-noupscale-0123456789abcdef0123456789abcdef.webp
    W  x H - mode-quality-upscale-signature                  .format

W or H may be empty for ``fit`` (``400x`` keeps the width, ``x300`` the height).
Numbers are written without leading zeros, so each set of parameters has exactly
one spelling; :func:`parse_variant` refuses any other.

Options that only some originals take come between the upscale segment and
the signature, each only when it is not at its default: ``-p3`` (page 3 of a
PDF; page 1 adds nothing) and ``-t12.5`` (a video's frame at 12.5 s; without
it a representative frame is chosen), in that order.  Seconds are written
with at most three decimals and no trailing zeros (``t0``, ``t1.25``).

A ``fill`` crop may carry a focus, the point it keeps nearest its centre, in a
segment before those: ``-f25x40`` (25% of the upright width, 40% of
its height, in whole hundredths), ``-fauto`` (the region of interest, found when
the resize is made) or ``-ffaces`` (faces, else as ``auto``).  The centre is no
segment at all, so a crop centred by default and one centred on purpose are the
same stored object:

    >>> ResizeSpec(300, 300, "fill", focus=normalise_focus((0.25, 0.4))).stem
    '300x300-fill-85-noupscale-f25x40'
    >>> normalise_focus((0.5, 0.5)) is None
    True

    >>> spec = ResizeSpec(400, 300, "fit", 85, False, "webp")
    >>> spec.stem
    '400x300-fit-85-noupscale'
    >>> parse_variant(spec.variant("0" * 32))[0] == spec
    True
    >>> ResizeSpec(640, None, format="webp", page=2, frame=None).stem
    '640x-fit-85-noupscale-p2'
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import ConfigError, InvalidPath, InvalidResize
from .formats import OUTPUT_FORMATS

MODES = ("fit", "fill")
#: Resize formats: the table's output formats (see :mod:`s3media_wsgi.formats`).
FORMATS = OUTPUT_FORMATS
DEFAULT_QUALITY = 85
MAX_QUALITY = 95
#: The highest page and the latest frame time (seconds) a variant can name.
MAX_PAGE = 99_999
MAX_FRAME_SECONDS = 359_999.999

#: Focus values found when the resize is made (see :mod:`s3media_wsgi.attention`).
FOCUS_FINDERS = ("auto", "faces")
#: Steps of a focus point per side: whole hundredths.  Finer would only tell apart
#: crops that differ by less than a pixel of a thumbnail; coarser shifts a
#: large crop visibly.  (A point differs from what was asked by at most half a
#: hundredth of the side: 10 px of a 4000 px photo.)
FOCUS_STEPS = 100
_CENTRE = (FOCUS_STEPS // 2, FOCUS_STEPS // 2)
#: A focus: None (the centre), ``"auto"``, ``"faces"``, or ``(x, y)`` in whole hundredths of the upright picture.
Focus = tuple[int, int] | str | None


class _Unset(enum.Enum):
    UNSET = "unset"


#: The default of every ``focus`` argument: not told.  A ``fill`` crop then
#: takes the focus of the id's ``info`` (a :class:`~s3media_wsgi.MediaId`
#: whose upload set one), else its preset's, else the centre; ``focus=None``
#: (or ``"centre"``) is the centre whatever those say.
UNSET = _Unset.UNSET
#: What a ``focus`` argument takes: see :func:`normalise_focus`, and :data:`UNSET` for not told.
FocusArg = tuple[float, float] | list[float] | str | None | _Unset
_FOCUS_TEXT_MAX = 40
_FOCUS_SEGMENT = r"(?:auto|faces|(?:100|[1-9]?[0-9])x(?:100|[1-9]?[0-9]))"
_SIZE_RE = re.compile(r"^([1-9][0-9]{0,5})?x([1-9][0-9]{0,5})?$")
_PRESET_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
VARIANT_RE = re.compile(
    r"^(?P<w>[1-9][0-9]{0,5})?x(?P<h>[1-9][0-9]{0,5})?"
    r"-(?P<mode>fit|fill)-(?P<q>[1-9][0-9]?)-(?P<up>upscale|noupscale)"
    rf"(?:-f(?P<focus>{_FOCUS_SEGMENT}))?"
    r"(?:-p(?P<page>[2-9]|[1-9][0-9]{1,4}))?"
    r"(?:-t(?P<frame>(?:0|[1-9][0-9]{0,5})(?:\.[0-9]{0,2}[1-9])?))?"
    rf"-(?P<sig>[0-9a-f]{{32}})\.(?P<fmt>{'|'.join(OUTPUT_FORMATS)})$"
)


@dataclass(frozen=True)
class ResizeSpec:
    """One fully resolved set of resize parameters."""

    width: int | None
    height: int | None
    mode: str = "fit"
    quality: int = DEFAULT_QUALITY
    upscale: bool = False
    format: str = "jpg"
    #: Where a ``fill`` crop is centred: see :data:`Focus` and :func:`normalise_focus`.
    focus: Focus = None
    #: The page of a PDF to preview (1: the first, the default).
    page: int = 1
    #: Seconds into a video of the frame to preview; None: a representative
    #: frame chosen near the start (leading black frames skipped).
    frame: float | None = None

    @cached_property
    def stem(self) -> str:
        """The variant without signature and extension: what the signature covers."""
        w = "" if self.width is None else str(self.width)
        h = "" if self.height is None else str(self.height)
        up = "upscale" if self.upscale else "noupscale"
        stem = f"{w}x{h}-{self.mode}-{self.quality}-{up}"
        if self.focus is not None:
            stem += "-f" + (self.focus if isinstance(self.focus, str) else f"{self.focus[0]}x{self.focus[1]}")
        if self.page != 1:
            stem += f"-p{self.page}"
        if self.frame is not None:
            stem += f"-t{frame_text(self.frame)}"
        return stem

    @property
    def focus_point(self) -> tuple[float, float] | None:
        """The focus as fractions of the upright width and height; None for the centre, ``auto`` or ``faces``."""
        if self.focus is None or isinstance(self.focus, str):
            return None
        return self.focus[0] / FOCUS_STEPS, self.focus[1] / FOCUS_STEPS

    def variant(self, signature: str) -> str:
        """The full variant name with *signature*."""
        return f"{self.stem}-{signature}.{self.format}"

    def message(self, media_id: str) -> str:
        """The canonical string that is signed: the id and every parameter."""
        return f"s3media-resize\n{media_id}\n{self.stem}\n{self.format}"

    def validate(self, max_side: int) -> ResizeSpec:
        """Raise :class:`InvalidResize` unless every parameter is in range."""
        if self.mode not in MODES:
            raise InvalidResize(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.format not in FORMATS:
            raise InvalidResize(f"format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if isinstance(self.quality, bool) or not isinstance(self.quality, int):
            raise InvalidResize(f"quality must be an int, not {self.quality!r}")
        if not 1 <= self.quality <= MAX_QUALITY:
            raise InvalidResize(f"quality must be 1..{MAX_QUALITY}, not {self.quality}")
        if self.width is None and self.height is None:
            raise InvalidResize("a size needs a width, a height or both")
        if self.mode == "fill" and (self.width is None or self.height is None):
            raise InvalidResize("fill needs both a width and a height, e.g. '300x300'")
        for side in (self.width, self.height):
            if side is not None and not 1 <= side <= max_side:
                raise InvalidResize(f"each side must be 1..{max_side} pixels, not {side}")
        if self.focus is not None:
            if normalise_focus(self.focus, steps=True) != self.focus:
                raise InvalidResize(f"focus must be as normalise_focus gives it, not {self.focus!r}")
            if self.mode != "fill":
                raise InvalidResize("focus chooses where a crop is taken: it needs mode='fill'")
        if isinstance(self.page, bool) or not isinstance(self.page, int) or not 1 <= self.page <= MAX_PAGE:
            raise InvalidResize(f"page must be an int 1..{MAX_PAGE}, not {self.page!r}")
        if self.frame is not None:
            frame = self.frame
            if isinstance(frame, bool) or not isinstance(frame, (int, float)) or not 0 <= frame <= MAX_FRAME_SECONDS:
                raise InvalidResize(f"frame must be seconds 0..{MAX_FRAME_SECONDS:g}, not {frame!r}")
            if float(frame_text(frame)) != frame:
                raise InvalidResize(f"frame is seconds to the millisecond at most, not {frame!r}")
        return self


def normalise_focus(value: object, *, steps: bool = False) -> Focus:
    """The canonical focus for *value*; :class:`InvalidResize` if it is none.

    *value* is None, ``"centre"`` (or ``"center"``), ``"auto"``, ``"faces"``,
    a point ``(x, y)`` of fractions 0-1 of the upright width and height, or the
    same written ``"0.3,0.25"`` (templates, settings and the command line pass
    strings).  A point is rounded to whole hundredths, and the centre is None.
    With *steps*, a point is given in hundredths already (a :class:`ResizeSpec`'s).

        >>> normalise_focus("0.333,0.25"), normalise_focus([1, 0]), normalise_focus("centre")
        ((33, 25), (100, 0), None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > _FOCUS_TEXT_MAX:
            raise InvalidResize(f"focus must be 'auto', 'faces', 'centre' or 'x,y', not a {len(value)}-character text")
        text = value.strip().lower()
        if text in FOCUS_FINDERS:
            return text
        if text in ("centre", "center"):
            return None
        parts = text.split(",")
        if len(parts) != 2:
            raise InvalidResize(f"focus must be 'auto', 'faces', 'centre' or 'x,y' (fractions 0-1), not {value!r}")
        try:
            value = (float(parts[0]), float(parts[1]))
        except ValueError:
            raise InvalidResize(f"focus must be two numbers 0-1 such as '0.3,0.25', not {value!r}") from None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InvalidResize(f"focus must be 'auto', 'faces', None or a point (x, y) of fractions 0-1, not {value!r}")
    point = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InvalidResize(f"focus must be a point of two numbers, not {value!r}")
        if steps:
            if not isinstance(v, int) or not 0 <= v <= FOCUS_STEPS:
                raise InvalidResize(f"a focus in steps must be two ints 0..{FOCUS_STEPS}, not {value!r}")
            point.append(v)
            continue
        if not math.isfinite(v) or not 0.0 <= v <= 1.0:
            raise InvalidResize(f"focus must be fractions 0-1 of the width and height, not {value!r}")
        point.append(math.floor(v * FOCUS_STEPS + 0.5))
    focus = (point[0], point[1])
    return None if focus == _CENTRE else focus


def focus_point(value: object) -> tuple[float, float] | None:
    """A focus as an upload's info keeps it (``MediaInfo.focus``): a point of fractions, or None for the centre.

    *value* is what :func:`normalise_focus` reads (``"0.3,0.25"``, a pair,
    None, ``""`` or ``"centre"``); a finder's name is refused with
    :class:`InvalidResize`: what a person stores is a point.

        >>> focus_point("0.333,0.25"), focus_point(""), focus_point((0.5, 0.5))
        ((0.33, 0.25), None, None)
    """
    if isinstance(value, str) and not value.strip():
        return None
    point = normalise_focus(value)
    if isinstance(point, str):
        raise InvalidResize(f"a saved focus is a point x,y of fractions 0-1, not {point!r}")
    return None if point is None else (point[0] / FOCUS_STEPS, point[1] / FOCUS_STEPS)


def focus_text(value: object) -> str:
    """The one text of a focus: ``"x,y"`` in fractions, a finder's name, or ``""`` for the centre.

    >>> focus_text((0.3, 0.25)), focus_text("AUTO"), focus_text(None)
    ('0.3,0.25', 'auto', '')
    """
    point = normalise_focus(value)
    if point is None:
        return ""
    if isinstance(point, str):
        return point
    return f"{point[0] / FOCUS_STEPS:g},{point[1] / FOCUS_STEPS:g}"


def frame_text(seconds: float) -> str:
    """The one spelling of a frame time: milliseconds at most, no trailing zeros.

    >>> frame_text(12.5), frame_text(0), frame_text(1.25)
    ('12.5', '0', '1.25')
    """
    ms = round(seconds * 1000)
    whole, frac = divmod(ms, 1000)
    return str(whole) if not frac else f"{whole}.{frac:03d}".rstrip("0")


def frame_seconds(value: object) -> float:
    """A frame time given by a caller (seconds, int or float), rounded to the millisecond.

    >>> frame_seconds(2), frame_seconds(0.0004)
    (2.0, 0.0)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidResize(f"frame must be a number of seconds, not {value!r}")
    return float(frame_text(value)) if value >= 0 else float(value)


def parse_size(size: str) -> tuple[int | None, int | None]:
    """Parse ``"400x300"``, ``"400x"`` or ``"x300"``.

    >>> parse_size("400x")
    (400, None)
    """
    m = _SIZE_RE.fullmatch(size) if isinstance(size, str) else None
    if not m or size == "x":
        raise InvalidResize(f"size must look like '400x300', '400x' or 'x300', not {size!r}")
    w, h = m.groups()
    return (int(w) if w else None, int(h) if h else None)


def parse_variant(variant: str) -> tuple[ResizeSpec, str]:
    """Parse a variant name into ``(spec, signature)``; :class:`InvalidPath` if malformed."""
    m = VARIANT_RE.fullmatch(variant) if isinstance(variant, str) else None
    if not m:
        raise InvalidPath(f"not a resize variant: {variant!r}")
    focus: Focus = None
    if m["focus"] is not None:
        # One spelling only: the centre has none, and only a crop has a focus.
        if m["mode"] != "fill" or m["focus"] == f"{_CENTRE[0]}x{_CENTRE[1]}":
            raise InvalidPath(f"not a resize variant: {variant!r}")
        if m["focus"] in FOCUS_FINDERS:
            focus = m["focus"]
        else:
            x, _, y = m["focus"].partition("x")
            focus = (int(x), int(y))
    spec = ResizeSpec(
        width=int(m["w"]) if m["w"] else None,
        height=int(m["h"]) if m["h"] else None,
        mode=m["mode"],
        quality=int(m["q"]),
        upscale=m["up"] == "upscale",
        format=m["fmt"],
        focus=focus,
        page=int(m["page"]) if m["page"] else 1,
        frame=float(m["frame"]) if m["frame"] is not None else None,
    )
    return spec, m["sig"]


def default_format(extension: str) -> str:
    """The output format for an original with *extension*: itself when it is one we write."""
    return extension if extension in FORMATS else "jpg"


def load_presets(presets: Mapping[str, Any] | None, max_side: int) -> dict[str, dict[str, Any]]:
    """Validate presets once, at construction.

    Each preset is a dict with ``size`` and optionally ``mode``, ``quality``,
    ``format``, ``upscale``, ``focus`` (``fill`` only: ``"auto"``, ``"faces"``
    or a point, see :func:`normalise_focus`) and ``eager`` (made right after
    each upload; not part of the resize it names).  Names must not look like sizes.
    """
    out: dict[str, dict[str, Any]] = {}
    allowed = {"size", "mode", "quality", "format", "upscale", "focus", "eager"}
    for name, options in (presets or {}).items():
        if not isinstance(name, str) or not _PRESET_NAME_RE.fullmatch(name) or _SIZE_RE.fullmatch(name):
            # A name that reads as a size ("x300") would shadow that size.
            raise ConfigError(f"preset name {name!r} must be a word such as 'thumb', not a size")
        if not isinstance(options, Mapping) or "size" not in options:
            raise ConfigError(f"preset {name!r} must be a dict with at least a 'size' key")
        unknown = set(options) - allowed
        if unknown:
            raise ConfigError(f"preset {name!r} has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        if not isinstance(options.get("upscale", False), bool):
            # bool("false") is True: a string here is a mistake, not a choice.
            raise ConfigError(f"preset {name!r}: upscale must be true or false, not {options['upscale']!r}")
        if not isinstance(options.get("eager", False), bool):
            raise ConfigError(f"preset {name!r}: eager must be true or false, not {options['eager']!r}")
        try:
            w, h = parse_size(options["size"])
            ResizeSpec(
                w,
                h,
                options.get("mode", "fit"),
                options.get("quality", DEFAULT_QUALITY),
                options.get("upscale", False),
                options.get("format") or "jpg",
                focus=normalise_focus(options.get("focus")),
            ).validate(max_side)
        except InvalidResize as exc:
            raise ConfigError(f"preset {name!r}: {exc}") from None
        out[name] = dict(options)
    return out


class Presets(Mapping[str, Mapping[str, Any]]):
    """Named sizes, and every rule about them: lookup, strict mode, fixed formats.

    A read-only mapping of name to options (``size`` and optionally ``mode``,
    ``quality``, ``format``, ``upscale``, ``focus``), validated once.  A preset marked
    ``"eager": True`` is listed in :attr:`eager` and the flag is not among its
    options: it changes when the resize is made, never the resize or its URL.  With *strict*,
    only preset sizes are built or served, and a call may change a preset
    only by choosing its format when the preset does not fix one, and its
    focus (where a crop is taken, which never changes its size).

        >>> presets = Presets({"thumb": {"size": "200x200", "mode": "fill"}}, strict=True)
        >>> presets.resolve("thumb", {"format": "webp"})
        ('200x200', {'mode': 'fill', 'format': 'webp'})
        >>> presets.box("thumb"), presets.fixed_format("thumb")
        ((200, 200), None)
    """

    def __init__(self, presets: Mapping[str, Any] | None = None, max_side: int = 4096, strict: bool = False) -> None:
        self._presets = load_presets(presets, max_side)
        #: The presets made right after each upload (see :mod:`s3media_wsgi.eager`), in their order.
        self.eager: tuple[str, ...] = tuple(
            name for name, options in self._presets.items() if options.pop("eager", False)
        )
        self.strict = bool(strict)
        if self.strict and not self._presets:
            raise ConfigError("strict_presets=True needs at least one preset")
        # What strict mode lets through: each preset's stem, with its format
        # when the preset fixes one (otherwise any format goes).
        self._admitted = {(_stem(options), options.get("format")) for options in self._presets.values()}

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        return self._presets[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._presets)

    def __len__(self) -> int:
        return len(self._presets)

    def __repr__(self) -> str:
        return f"Presets({self._presets!r}, strict={self.strict})"

    def resolve(self, size: str, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """``(size, options)`` for *size* (a preset name or ``"WxH"``) and a call's *options*.

        A preset's options apply, and a call's replace them; in strict mode a
        size that is no preset, or a change the preset does not allow, raises
        :class:`~s3media_wsgi.errors.InvalidResize`.
        """
        preset = self._presets.get(size)
        if preset is None:
            if self.strict:
                raise InvalidResize(f"strict_presets: {size!r} is not a preset ({', '.join(self._presets)})")
            return size, dict(options)
        if self.strict and set(options) - ({"format", "focus"} if "format" not in preset else {"focus"}):
            raise InvalidResize(f"strict_presets: preset {size!r} cannot be changed per call")
        merged = {**preset, **options}
        return merged.pop("size"), merged

    def admits(self, spec: ResizeSpec) -> bool:
        """True when a signed *spec* may be served: always, unless strict and no preset gives it."""
        if not self.strict:
            return True
        stem = spec.stem if spec.focus is None else dataclasses.replace(spec, focus=None).stem
        return (stem, None) in self._admitted or (stem, spec.format) in self._admitted

    def box(self, name: str) -> tuple[int | None, int | None]:
        """The ``(width, height)`` of preset *name*; either may be None (``"400x"``)."""
        return parse_size(self._presets[name]["size"])

    def mode(self, name: str) -> str:
        """The mode of preset *name* (``fit`` unless it says ``fill``)."""
        return str(self._presets[name].get("mode", "fit"))

    def fixed_format(self, name: str) -> str | None:
        """The format preset *name* always uses, or None when the caller (or the original) chooses."""
        fmt = self._presets[name].get("format")
        return None if fmt is None else str(fmt)


def _stem(options: Mapping[str, Any]) -> str:
    w, h = parse_size(options["size"])
    return ResizeSpec(
        w, h, options.get("mode", "fit"), options.get("quality", DEFAULT_QUALITY), options.get("upscale", False)
    ).stem


__all__ = [
    "DEFAULT_QUALITY",
    "FOCUS_FINDERS",
    "FOCUS_STEPS",
    "FORMATS",
    "MAX_FRAME_SECONDS",
    "MAX_PAGE",
    "MODES",
    "Focus",
    "FocusArg",
    "UNSET",
    "Presets",
    "ResizeSpec",
    "default_format",
    "frame_seconds",
    "focus_point",
    "focus_text",
    "frame_text",
    "load_presets",
    "normalise_focus",
    "parse_size",
    "parse_variant",
]
