"""Resize in horizontal bands on every CPU: the pixels of one call, sooner.

Pillow releases the GIL while it resamples, so one downscale split into
bands runs on several cores at once.  Each band asks Pillow for its own
output rows, with a box that starts where those rows start in the whole
resize and the same scale, so every row gets the same filter at the same
place; Pillow clips filters at the edges of the image, not of the box, so
band edges are not image edges.  What remains is float rounding inside
Pillow (it keeps boxes as 32-bit floats): a band differs from the one-call
result by a unit in some pixels, by more in a few saturated ones, at 51 dB
or better, with no seam (``tests/test_bands.py`` holds both).

The caller's thread resizes the first band itself; the others go to a small
process-wide pool.  When the pool is busy with another request's bands, a
band not yet started is taken back and done by the caller, so a request
never waits for a helper.  On an idle server a cold resize takes about
``1/bands`` of the time (2 cores, Lanczos: 800x600 RGB to 400x300 9.6 ->
5.4 ms; a 4 MP RGBA PNG to 300x300 73 -> 55 ms, its premultiplying staying on
one thread so as to hold no more memory than one call).  On a server whose
workers already keep every core busy there is nothing to gain (``make
bench-peers``, 8 clients on 2 workers and 2 cores: 72-73 req/s of 2 MP
JPEGs with two bands, 72-91 without, within that machine's noise), and the
extra threads are one more thing to reason about.  So bands are asked for
(``ImageLimits.resize_bands``), not the default.

Upscales, small resizes (whose work is less than a hand-off costs), resizes
that Pillow starts with ``reduce()``, and modes other than RGB, RGBA, L and
LA run in one call.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

#: Source pixels (in the box) a band must have for splitting to pay off.
MIN_BAND_PIXELS = 200_000
#: Most bands one resize is split into, whatever ``resize_bands`` asks.
MAX_BANDS = 8

#: Filters resized in bands (Pillow's convolutions; NEAREST is an affine transform).
_FILTERS = (
    Image.Resampling.BOX,
    Image.Resampling.BILINEAR,
    Image.Resampling.HAMMING,
    Image.Resampling.BICUBIC,
    Image.Resampling.LANCZOS,
)
#: Modes resized in bands (others, such as 16-bit, in one call).
_BANDED_MODES = ("RGB", "RGBA", "L", "LA")
#: Modes Pillow filters premultiplied, and the premultiplied mode.
_MODES_WITH_ALPHA = {"RGBA": "RGBa", "LA": "La"}

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # Threads are started as bands ask for them, up to MAX_BANDS - 1.
            _pool = ThreadPoolExecutor(max_workers=MAX_BANDS - 1, thread_name_prefix="s3media-band")
        return _pool


def _forget_pool() -> None:
    # A forked child (a gunicorn worker) has none of its parent's threads.
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def band_count(src_pixels: float, out_height: int, wanted: int) -> int:
    """How many bands a resize reading *src_pixels* into *out_height* rows gets, *wanted* at most."""
    return max(1, min(wanted, MAX_BANDS, int(src_pixels // MIN_BAND_PIXELS), out_height))


def resize(
    im: Image.Image,
    size: tuple[int, int],
    resample: Image.Resampling,
    box: tuple[float, float, float, float],
    reducing_gap: float | None = None,
    bands: int = 1,
) -> Image.Image:
    """``im.resize(size, resample, box=box, reducing_gap=reducing_gap)``, in up to *bands* bands when it pays."""
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    bands = band_count(box_w * box_h, size[1], bands)
    if (
        bands < 2
        or resample not in _FILTERS
        or im.mode not in _BANDED_MODES
        or box_w < size[0]
        or box_h < size[1]
        or (reducing_gap is not None and (box_w / size[0] >= 2 * reducing_gap or box_h / size[1] >= 2 * reducing_gap))
    ):
        return im.resize(size, resample, box=box, reducing_gap=reducing_gap)
    # Pillow filters colour with alpha premultiplied: convert once (as one call would), not per band.
    premultiplied = _MODES_WITH_ALPHA.get(im.mode)
    work = im.convert(premultiplied) if premultiplied else im
    work.load()
    out = Image.new(work.mode, size)
    scale = box_h / size[1]
    edges = [size[1] * i // bands for i in range(bands + 1)]
    band = functools.partial(_band, work, resample, size[0], scale, box)
    pool = _executor()
    jobs = [(pool.submit(band, top, bottom), top, bottom) for top, bottom in zip(edges[1:-1], edges[2:])]
    out.paste(band(0, edges[1]), (0, 0))
    for future, top, bottom in jobs:
        # Not started yet (the pool is busy with other requests): do it here.
        out.paste(band(top, bottom) if future.cancel() else future.result(), (0, top))
    return out.convert(im.mode) if premultiplied else out


def _band(
    im: Image.Image,
    resample: Image.Resampling,
    width: int,
    scale: float,
    box: tuple[float, float, float, float],
    top: int,
    bottom: int,
) -> Image.Image:
    """Output rows ``top`` to ``bottom`` of the whole resize."""
    return im.resize(
        (width, bottom - top), resample, box=(box[0], box[1] + top * scale, box[2], box[1] + bottom * scale)
    )
