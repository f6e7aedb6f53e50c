"""Where the subject of a picture is: the point a ``fill`` crop keeps nearest its centre.

A crop with ``focus="auto"`` is taken around the region that draws the eye,
measured when the resize is made on the picture the engine has already
decoded (drafted or reduced, before the crop), so it costs a few small
images' worth of Pillow operations (the README's "crops that keep the
subject" has the measurements).  The measure is built like libvips'
``attention`` crop, in three maps of a copy at most :data:`MAP_SIDE` pixels
a side:

- **detail**: edges of a copy four times larger, averaged down, so texture
  and text count even when one pixel of the map covers several strokes;
- **distinctness**: how far each pixel's colour is from the picture's
  median colour (the background, when there is one);
- **skin**: pixels whose colour lies in the usual range of skin tones.

Each map loses its own median (what is everywhere is background, even a
textured or skin-coloured one), the three are added, and the point is the
weighted centre of the strongest columns and rows.  A ``fill`` crop slides
along one axis only, so a column and a row profile say all a crop can use.

``focus="faces"`` tries the finders of :data:`FINDERS` in order: the face
finder of the ``faces`` extra (``pip install 's3media-wsgi[faces]'``, OpenCV's
frontal-face cascade), then this measure when it finds no face or the extra
is missing (said once in the log, never an error).

Points are fractions of the image given, in its own orientation and
whatever its scale: the engine turns them upright.

    >>> from PIL import Image, ImageDraw
    >>> im = Image.new("RGB", (400, 200), "white")
    >>> ImageDraw.Draw(im).ellipse((40, 120, 80, 160), fill="red")
    >>> x, y = attention_point(im)  # the disc's centre is at (0.15, 0.7)
    >>> 0.12 < x < 0.2 and 0.65 < y < 0.75
    True
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from PIL import Image, ImageChops, ImageFilter, ImageOps

log = logging.getLogger("s3media_wsgi")

#: The longest side of the maps, in pixels: a crop is placed to within about
#: 1/64 of the picture, which is all a subject's centre needs, for a few ms.
MAP_SIDE = 64
#: How much larger the copy the detail map is measured on is, per side.
DETAIL_SCALE = 4
#: Skin tones in YCbCr (Cb, Cr ranges, and the least luma): the usual chroma box.
_SKIN_CB = (77, 122)
_SKIN_CR = (138, 173)
#: Skin over more than this share of the picture is a close-up or a beige wall: no help to place a crop.
_SKIN_MOST = 1 / 3
_SKIN_MIN_Y = 40
#: Differences from the median colour up to this are shading, not a subject.
_SHADING = 24
#: Weights of the maps in the sum (out of 1 each).
_WEIGHTS = {"detail": 1.0, "distinct": 0.5, "skin": 1.0}


def _within(size: tuple[int, int], side: int) -> tuple[int, int]:
    w, h = size
    if max(w, h) <= side:
        return w, h
    scale = side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _rgb(im: Image.Image) -> Image.Image:
    """*im* in RGB; transparent parts become the median of what is opaque (a background)."""
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        page = Image.new("RGB", rgba.size, (128, 128, 128))
        page.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        return page
    return im.convert("RGB")


def _median(band: Image.Image) -> int:
    half, seen = (band.width * band.height) / 2, 0
    for value, count in enumerate(band.histogram()):
        seen += count
        if seen >= half:
            return value
    return 0


def _less_median(band: Image.Image, weight: float, floor: int = 0) -> Image.Image:
    """*band* (L) less its median and *floor*, never below 0, times *weight*."""
    median = _median(band) + floor
    return band.point([max(0, min(255, round((v - median) * weight))) for v in range(256)])


def saliency_map(im: Image.Image) -> Image.Image:
    """The attention map of *im* (any mode): L, at most :data:`MAP_SIDE` a side, 0 where nothing stands out."""
    size = _within(im.size, MAP_SIDE)
    big = _within(im.size, MAP_SIDE * DETAIL_SCALE)
    # Sampling first costs only the pixels kept; averaging after keeps texture as contrast.
    sampled = im if big == im.size else im.resize(big, Image.Resampling.NEAREST)
    rgb = _rgb(sampled)
    small = rgb.resize(size, Image.Resampling.BOX)

    edges = rgb.convert("L").filter(ImageFilter.FIND_EDGES)
    if edges.width > 2 and edges.height > 2:
        # A filter sees the picture's border as an edge: it is not one.
        edges = ImageOps.expand(edges.crop((1, 1, edges.width - 1, edges.height - 1)), 1, 0)
    edges = edges.resize(size, Image.Resampling.BOX)
    detail = _less_median(edges, _WEIGHTS["detail"])

    red, green, blue = (_median(band) for band in small.split())
    background = Image.new("RGB", size, (red, green, blue))
    diff = ImageChops.difference(small, background).split()
    off_median = ImageChops.lighter(ImageChops.lighter(diff[0], diff[1]), diff[2])
    # A colour a little off the median is shading (a gradient, a vignette), not a subject.
    distinct = _less_median(off_median, _WEIGHTS["distinct"], _SHADING)

    y, cb, cr = small.convert("YCbCr").split()
    skin = ImageChops.multiply(
        ImageChops.multiply(
            cb.point(lambda v: 255 if _SKIN_CB[0] <= v <= _SKIN_CB[1] else 0),
            cr.point(lambda v: 255 if _SKIN_CR[0] <= v <= _SKIN_CR[1] else 0),
        ),
        y.point(lambda v: 255 if v >= _SKIN_MIN_Y else 0),
    )
    total = ImageChops.add(detail, distinct)
    if skin.histogram()[255] <= _SKIN_MOST * size[0] * size[1]:
        # Skin tones count where they stand out from the background: a warm wall is not a face.
        standing_out = off_median.point(lambda v: round(255 * _WEIGHTS["skin"]) if v > _SHADING else 0)
        total = ImageChops.add(total, ImageChops.multiply(skin, standing_out))
    return total


def _centre(profile: Sequence[float]) -> float | None:
    """The weighted centre of the strongest values of *profile*, as a fraction of its length; None if all 0."""
    peak = max(profile)
    if peak <= 0:
        return None
    # Only what is at least half the peak: a faint second thing does not pull the crop away from the first.
    floor = peak / 2
    weights = [(v - floor) ** 2 if v > floor else 0.0 for v in profile]
    total = sum(weights)
    return (sum(w * (i + 0.5) for i, w in enumerate(weights)) / total) / len(profile)


def attention_point(im: Image.Image) -> tuple[float, float]:
    """The point of *im* a crop should keep: fractions of its width and height (the centre if nothing stands out)."""
    heat = saliency_map(im)
    w, h = heat.size
    columns = list(heat.resize((w, 1), Image.Resampling.BOX).tobytes())
    rows = list(heat.resize((1, h), Image.Resampling.BOX).tobytes())
    x, y = _centre(columns), _centre(rows)
    return (0.5 if x is None else x), (0.5 if y is None else y)


class FocusFinder(Protocol):
    """One way to find where a picture's subject is."""

    #: Named in the log when it cannot run.
    name: str

    def find(self, im: Image.Image) -> tuple[float, float] | None:
        """The subject's point in fractions of *im*; None when this finder sees none."""


class Attention:
    """The attention measure of this module: always finds a point."""

    name = "attention"

    def find(self, im: Image.Image) -> tuple[float, float] | None:
        return attention_point(im)


#: The longest side of the copy faces are looked for in, and the smallest face looked for, as a
#: share of its shorter side: a face that small hardly decides a crop, and each smaller scale
#: searched costs more than all the larger ones (``benchmarks/bench_focus.py`` has the costs).
FACE_SIDE = 240
FACE_LEAST = 1 / 10


class Faces:
    """OpenCV's frontal-face Haar cascade (the ``faces`` extra): the centre of the faces, weighted by area."""

    name = "faces"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cascade: Any = None
        self._cv2: Any = None
        self._numpy: Any = None
        self._missing: str | None = None

    def available(self) -> bool:
        """True when OpenCV and its cascade load (once); False, said once in the log, when not."""
        with self._lock:
            if self._cascade is not None:
                return True
            if self._missing is not None:
                return False
            try:
                import cv2
                import numpy
            except ImportError as exc:
                self._missing = f"{exc}; pip install 's3media-wsgi[faces]'"
            else:
                # The wheel's own copy of the cascade, beside the module (cv2.data.haarcascades).
                folder = os.path.join(os.path.dirname(str(cv2.__file__)), "data")
                cascade = cv2.CascadeClassifier(os.path.join(folder, "haarcascade_frontalface_default.xml"))
                if cascade.empty():
                    self._missing = "OpenCV's frontal-face cascade did not load"
                else:
                    self._cv2, self._numpy, self._cascade = cv2, numpy, cascade
                    return True
        log.warning("focus='faces' falls back to 'auto' on every image: %s", self._missing)
        return False

    def find(self, im: Image.Image) -> tuple[float, float] | None:
        if not self.available():
            return None
        size = _within(im.size, FACE_SIDE)
        if size != im.size:
            # Sampling to twice the size first costs only the pixels kept; the average then smooths it.
            sampled = im.resize(_within(im.size, FACE_SIDE * 2), Image.Resampling.NEAREST)
            im = sampled.resize(size, Image.Resampling.BOX)
        grey = _rgb(im).convert("L")
        pixels = self._cv2.equalizeHist(self._numpy.asarray(grey))
        side = max(16, round(min(size) * FACE_LEAST))
        # The cascade object is read-only while detecting; OpenCV allows it from many threads.
        found = self._cascade.detectMultiScale(pixels, scaleFactor=1.2, minNeighbors=5, minSize=(side, side))
        if len(found) == 0:
            return None
        total = sum(float(w * h) for _, _, w, h in found)
        x = sum(float((fx + fw / 2) * fw * fh) for fx, _, fw, fh in found) / total
        y = sum(float((fy + fh / 2) * fw * fh) for _, fy, fw, fh in found) / total
        return x / size[0], y / size[1]


_faces = Faces()
_said_no_face = threading.Event()

#: The finders each focus name tries, in order; the first point found is used.
FINDERS: dict[str, tuple[FocusFinder, ...]] = {
    "auto": (Attention(),),
    "faces": (_faces, Attention()),
}


def find_point(im: Image.Image, focus: str) -> tuple[float, float]:
    """The point the finders of *focus* (``"auto"`` or ``"faces"``) give for *im*, in its fractions."""
    finders = FINDERS[focus]
    for finder in finders:
        point = finder.find(im)
        if point is not None:
            return point
        if finder is _faces and _faces.available() and not _said_no_face.is_set():
            _said_no_face.set()
            log.info("focus='faces': no face found in an image, its crop is placed by 'auto' (said once)")
    return 0.5, 0.5


__all__ = ["FINDERS", "MAP_SIDE", "Attention", "Faces", "FocusFinder", "attention_point", "find_point", "saliency_map"]
