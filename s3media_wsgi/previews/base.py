"""The previewers' shared parts: the limits, what a still is asked for, the facts, the bounds, the base class.

See :mod:`s3media_wsgi.previews`.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from typing import ClassVar

from PIL import Image

from ..errors import ConfigError, ImageTooLarge, NotAnImage


@dataclass(frozen=True)
class PreviewLimits:
    """What one preview (or one upload's facts) of a video or a PDF may cost.

    The still itself is bounded like any decoded image: at most
    ``ImageLimits.max_pixels`` pixels, its memory reserved from
    ``ImageLimits.decode_memory`` before decoding, under a decode slot.

    >>> PreviewLimits().max_pages
    10000
    """

    #: A video or audio file that claims to last longer is refused (seconds).
    max_duration: float = 24 * 3600.0
    #: Without ``frame=``: how far into a video (seconds) a frame that is not
    #: black or blank is looked for; past it, the liveliest frame seen is used.
    search_seconds: float = 5.0
    #: ... and how many frames at most are decoded in that search.
    search_frames: int = 90
    #: Pixels of all the frames one preview may decode (a seek lands on the
    #: keyframe before ``frame=`` and decodes forward): 400 MP is about 2 s
    #: of H.264 here.  Past it the preview is refused.
    max_decoded_pixels: int = 400_000_000
    #: Wall-clock seconds one preview may spend decoding, checked between packets.
    max_seconds: float = 20.0
    #: A PDF of more pages is refused.
    max_pages: int = 10_000
    #: Largest side of a PDF page, in points (1/72 in): PDF's own limit is 14,400.
    max_page_points: float = 14_400.0
    #: A PDF page is rendered at the size its resize needs, never finer than this (dots per inch).
    max_render_dpi: float = 600.0
    #: Bytes that a PDF's compressed streams may inflate to, all together:
    #: checked by inflating them once, before PDFium reads the file.
    max_pdf_inflated: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"PreviewLimits.{f.name} must be a positive number, not {value!r}")


@dataclass(frozen=True)
class StillRequest:
    """What a resize asks of a still: a page, a frame time, and the box it will be resized into."""

    page: int = 1
    frame: float | None = None
    #: The output box (either side may be None), and whether the resize fills it:
    #: a PDF page is rendered just large enough for it.
    box: tuple[int | None, int | None] = (None, None)
    fill: bool = False


@dataclass(frozen=True)
class Facts:
    """What the upload pass learns of a video, an audio file or a PDF (None: unknown or not its kind)."""

    width: int | None = None
    height: int | None = None
    duration: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    frame_rate: float | None = None
    pages: int | None = None
    page_width: float | None = None
    page_height: float | None = None
    #: The poster (a frame, page 1), small, for the placeholder; None for audio.
    poster: Image.Image | None = None


class Work:
    """The bounds one preview runs within: its limits, the engine's memory budget and a deadline.

    ``reserve(nbytes, what)`` holds *nbytes* of the engine's decode memory
    (:class:`ImageTooLarge` when over it, :class:`~s3media_wsgi.errors.Busy` when it stays full).
    """

    def __init__(
        self,
        limits: PreviewLimits,
        max_pixels: int,
        reserve: Callable[[int, str], AbstractContextManager[None]],
    ) -> None:
        self.limits = limits
        self.max_pixels = max_pixels
        self.reserve = reserve
        self.deadline = time.monotonic() + limits.max_seconds

    def check_time(self, what: str) -> None:
        """:class:`ImageTooLarge` once this preview has run ``max_seconds``."""
        if time.monotonic() > self.deadline:
            raise ImageTooLarge(f"{what} took over PreviewLimits.max_seconds={self.limits.max_seconds:g}")

    def check_pixels(self, width: int, height: int, what: str) -> None:
        """:class:`NotAnImage` for no pixels, :class:`ImageTooLarge` over ``max_pixels``."""
        if width < 1 or height < 1:
            raise NotAnImage(f"{what} has no pixels ({width}x{height})")
        if width * height > self.max_pixels:
            raise ImageTooLarge(f"{what} is {width}x{height}, over max_pixels={self.max_pixels}")


class Previewer:
    """One kind of file made into a still: subclass, set the class attributes, implement :meth:`still`.

    :attr:`kinds` are the kinds of :mod:`s3media_wsgi.formats` it accepts;
    :attr:`module` the import its code needs and :attr:`extra` the package
    extra that installs it; :attr:`options` the resize options it honours
    (``"page"``, ``"frame"``).  Methods raise the library's errors
    (:class:`NotAnImage`, :class:`ImageTooLarge`); anything else a decoder
    raises on a hostile file is turned into :class:`NotAnImage` by the engine.
    """

    kinds: ClassVar[frozenset[str]] = frozenset()
    module: ClassVar[str] = ""
    extra: ClassVar[str] = ""
    options: ClassVar[frozenset[str]] = frozenset()
    #: False for a kind that has facts but no picture (audio).
    has_still: ClassVar[bool] = True

    @classmethod
    def available(cls) -> bool:
        """True when :attr:`module` can be imported here."""
        return not cls.module or importlib.util.find_spec(cls.module) is not None

    @classmethod
    def missing(cls) -> str:
        """The message for a preview asked of this kind where the extra is not installed."""
        return (
            f"no preview of this file: it needs the optional {cls.module!r} package "
            f"(pip install 's3media_wsgi[{cls.extra}]')"
        )

    def still(self, data: bytes, kind: str, request: StillRequest, work: Work) -> Image.Image:
        """The decoded still of *data* (of *kind*) for *request*: RGB or RGBA, upright."""
        raise NotAnImage(f"a {kind} file has no picture to preview")

    def facts(self, data: bytes, kind: str, work: Work) -> Facts:
        """What *data* (of *kind*) says of itself, with a small poster when it has a picture."""
        return Facts()


__all__ = ["Facts", "PreviewLimits", "Previewer", "StillRequest", "Work"]
