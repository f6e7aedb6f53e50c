"""Resize every frame of an animated GIF or WebP and write the frames back as one animation.

Only :mod:`s3media_wsgi.imaging` calls this module; it decides *whether* an
animation may stay animated (frame and pixel limits) and hands over a function
that turns one upright RGBA source frame into one output frame.

    >>> red, blue = Image.new("RGBA", (8, 8), "red"), Image.new("RGBA", (8, 8), "blue")
    >>> data = write([(red, 50), (blue, 50)], "gif", {}, loop=0)
    >>> Image.open(io.BytesIO(data)).n_frames
    2

A GIF's header does not bound its frames: each frame says where it goes and
how big it is, and Pillow grows the picture to hold a frame that reaches past
the logical screen.  :func:`scan_gif` reads those frame descriptors without
decoding anything, so the engine can check the real size before Pillow sees
the file, and stops counting once the count no longer matters.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image

from .errors import ImageTooLarge, NotAnImage

#: Formats whose animations we read frame by frame.
ANIMATED_SOURCES = frozenset({"GIF", "WEBP"})
#: Output formats (``ResizeSpec.format``) that can carry an animation.
ANIMATED_OUTPUTS = frozenset({"gif", "webp"})

#: Browsers show GIF frames of 0-10 ms as 100 ms; WebP has no such rule, so a
#: GIF copied into WebP would otherwise race.  Missing delays get the same value.
_DEFAULT_DURATION_MS = 100


#: The two GIF signatures (Pillow opens a file as GIF on the same test).
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")

_EXTENSION, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B
_COMMENT, _APPLICATION = 0xFE, 0xFF


@dataclass(frozen=True)
class GifLayout:
    """What :func:`scan_gif` found: how many frames, and the canvas they need.

    ``canvas`` is the logical screen grown to hold every frame walked, which
    is the size Pillow would grow the picture to while decoding them.

    >>> GifLayout(frames=3, canvas=(10, 10)).canvas
    (10, 10)
    """

    frames: int
    canvas: tuple[int, int]


def scan_gif(data: bytes, limit: int) -> GifLayout:
    """Walk the blocks of the GIF *data* up to frame ``limit + 1``; no pixel is decoded.

    The walk is strict where Pillow's reader is lenient, so that the two can
    never disagree about where the frames are: a byte between blocks that
    starts no block, an extension whose data begins with an empty sub-block,
    or a ``NETSCAPE2.0`` block without its loop sub-block make Pillow read the
    following bytes differently (as sub-block lengths, or skip them), which a
    crafted file uses to hide frames.  Such files are refused.  A missing
    trailer ends the file, as for Pillow.  The walk stops after ``limit + 1``
    frames: past any frame cap only the first frame is decoded.

    >>> screen = b"GIF89a" + (2).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(3)
    >>> scan_gif(screen + b";", 100)  # a 2 x 1 screen and no frame
    GifLayout(frames=0, canvas=(2, 1))

    Raises :class:`NotAnImage` when *data* is not a GIF this walk can vouch for.
    """
    if len(data) < 13 or not data.startswith(GIF_SIGNATURES):
        raise NotAnImage("not a GIF")
    width, height = struct.unpack_from("<HH", data, 6)
    pos = 13 + _colour_table_size(data[10])
    end = len(data)
    frames = 0
    while pos < end and frames <= limit:
        block = data[pos]
        pos += 1
        if block == _TRAILER:
            break
        if block == _EXTENSION:
            pos = _skip_extension(data, pos)
        elif block == _IMAGE:
            if pos + 9 > end:
                break  # a cut-off descriptor: Pillow cannot read that frame either
            left, top, w, h = struct.unpack_from("<4H", data, pos)
            width, height = max(width, left + w), max(height, top + h)
            frames += 1
            # Local colour table, then the LZW code size byte, then the data.
            pos += 9 + _colour_table_size(data[pos + 8]) + 1
            pos = _skip_sub_blocks(data, pos)
        else:
            raise NotAnImage(f"GIF has a stray byte 0x{block:02x} at offset {pos - 1}")
    return GifLayout(frames, (width, height))


def _skip_extension(data: bytes, pos: int) -> int:
    """Skip the extension whose label is at *pos*; refuse the shapes Pillow reads differently."""
    if pos + 1 >= len(data):
        return len(data)
    label, first = data[pos], data[pos + 1]
    # Pillow reads one sub-block before looking for the end of the chain: an
    # empty first sub-block (other than a comment's) makes it take the next
    # byte as a length.
    if first == 0 and label != _COMMENT:
        raise NotAnImage(f"GIF extension 0x{label:02x} at offset {pos - 1} has no data")
    if data[pos + 2 : pos + 13] == b"NETSCAPE2.0" and label == _APPLICATION:
        loop_at = pos + 2 + first
        # Likewise for the loop sub-block Pillow reads after the identifier.
        if loop_at >= len(data) or data[loop_at] == 0:
            raise NotAnImage(f"GIF NETSCAPE2.0 block at offset {pos - 1} has no loop data")
    return _skip_sub_blocks(data, pos + 1)


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    # Each sub-block is a length byte and that many bytes; a zero length ends the chain.
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos


def frame_count(im: Image.Image) -> int:
    """Frames in *im* as its header (or frame index) says, without decoding pixels.

    A JPEG's extra pictures (MPO: depth maps, previews) are not frames.  Not
    for GIF: Pillow walks every frame to count them, use :func:`scan_gif`.
    """
    if im.format in ("JPEG", "MPO"):
        return 1
    return max(1, int(getattr(im, "n_frames", 1)))


def frames(
    im: Image.Image, count: int, transform: Callable[[Image.Image], Image.Image]
) -> Iterator[tuple[Image.Image, int]]:
    """Yield ``(transform(frame as RGBA), duration_ms)`` for the first *count* frames of *im*.

    Pillow composites GIF and WebP frames onto the canvas as it seeks, so each
    frame converted to RGBA is the full picture a viewer would show.  Every
    frame must keep the size *im* had when it was checked: a GIF frame can
    make Pillow grow the picture, and :class:`ImageTooLarge` is raised before
    such a frame is decoded.
    """
    size = im.size
    for index in range(count):
        im.seek(index)
        if im.size != size:
            raise ImageTooLarge(f"GIF frame {index} grows the image from {size} to {im.size}")
        rgba = im.convert("RGBA")
        # WebP learns a frame's duration only when it decodes it: read it after.
        duration = im.info.get("duration")
        if not isinstance(duration, (int, float)) or duration <= 10:
            duration = _DEFAULT_DURATION_MS
        yield transform(rgba), int(duration)


def write(
    sequence: list[tuple[Image.Image, int]] | Iterator[tuple[Image.Image, int]],
    fmt: str,
    params: dict[str, Any],
    loop: int | None,
) -> bytes:
    """Encode ``(frame, duration_ms)`` pairs as an animated *fmt* (``gif`` or ``webp``).

    *params* are the encoder's quality settings; *loop* is the source's loop
    count (``None``: the source plays once).  Frames carry no metadata.
    """
    items = list(sequence)
    images = [im for im, _ in items]
    for im in images:
        # GIF's writer copies the first frame's info (comments, extensions) into the file.
        im.info = {}
    options: dict[str, Any] = {
        "save_all": True,
        "append_images": images[1:],
        "duration": [d for _, d in items],
        **params,
    }
    if fmt == "gif":
        if loop is not None:
            options["loop"] = loop
        if any(im.mode == "RGBA" and _has_clear_pixels(im) for im in images):
            # Transparent pixels must show the page, not the previous frame.
            options["disposal"] = 2
        pil_format = "GIF"
    elif fmt == "webp":
        options["loop"] = 1 if loop is None else loop
        pil_format = "WEBP"
    else:  # pragma: no cover - imaging only calls with ANIMATED_OUTPUTS
        raise ValueError(f"{fmt} cannot be animated")
    buf = io.BytesIO()
    images[0].save(buf, pil_format, **options)
    return buf.getvalue()


def _has_clear_pixels(im: Image.Image) -> bool:
    low, _ = im.getchannel("A").getextrema()
    return isinstance(low, (int, float)) and low < 255


__all__ = [
    "ANIMATED_OUTPUTS",
    "ANIMATED_SOURCES",
    "GIF_SIGNATURES",
    "GifLayout",
    "frame_count",
    "frames",
    "scan_gif",
    "write",
]
