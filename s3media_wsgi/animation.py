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
the logical screen.  :func:`s3media_wsgi.structure.scan_gif` reads those frame
descriptors without decoding anything, so the engine can check the real size
before Pillow sees the file; :func:`frames` checks it again after every seek.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

from PIL import Image, features

from .errors import ImageTooLarge, MediaError

log = logging.getLogger("s3media_wsgi")

#: Formats whose animations we read frame by frame.
ANIMATED_SOURCES = frozenset({"GIF", "WEBP"})
#: Output formats (``ResizeSpec.format``) that can carry an animation.
#: AVIF when Pillow can write it (its sequences carry no loop count:
#: browsers loop them).
ANIMATED_OUTPUTS = frozenset({"gif", "webp", *(("avif",) if features.check("avif") else ())})

#: Browsers show GIF frames of 0-10 ms as 100 ms; WebP has no such rule, so a
#: GIF copied into WebP would otherwise race.  Missing delays get the same value.
_DEFAULT_DURATION_MS = 100


def frame_count(im: Image.Image) -> int:
    """Frames in *im* as its header (or frame index) says, without decoding pixels.

    A JPEG's extra pictures (MPO: depth maps, previews) are not frames.  Not
    for GIF: Pillow walks every frame to count them, use
    :func:`s3media_wsgi.structure.scan_gif`.
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
    such a frame is decoded.  A frame after the first that does not decode
    (corrupt or cut short) ends the sequence: the frames before it are kept.
    """
    size = im.size
    for index in range(count):
        try:
            im.seek(index)
            if im.size != size:
                raise ImageTooLarge(f"GIF frame {index} grows the image from {size} to {im.size}")
            rgba = im.convert("RGBA")
        except (MediaError, MemoryError):
            raise
        except Exception as exc:
            if index == 0:
                raise
            # A later frame that does not decode ends the animation there, as
            # browsers play such a file: the frames before it are still good.
            log.warning("animation cut at frame %d of %d: it does not decode (%s: %s)", index, count,
                        type(exc).__name__, exc)  # fmt: skip
            return
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
    elif fmt == "avif":
        pil_format = "AVIF"
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
    "frame_count",
    "frames",
    "write",
]
