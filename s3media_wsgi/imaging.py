"""Decode, resize and encode images with Pillow, inside hard limits.

Every check that protects the server happens before any pixel is decoded.
First :mod:`s3media_wsgi.structure` walks the file's container (segments,
chunks, blocks, boxes) without a decoder: a file cut short, a flood of empty
segments or sub-blocks, more than ``max_metadata_bytes`` of metadata or a
JPEG of more than ``max_jpeg_scans`` scans is refused there, in time linear
in the file.  Then the header: the decoder must be one we allow, the source
must have at most ``max_pixels`` pixels, the output at most ``max_side``
pixels a side and at most its format's output budget (``max_avif_pixels``
and the like: what one encode may cost).  A GIF's frames can be larger than
its header says, so for GIF the header is every frame descriptor up to
``max_frames + 1`` (read by the same walk, before Pillow opens the file),
and a GIF whose frames outgrow the first keeps to the first.  Big
JPEGs are not decoded at full size for a lossy thumbnail: libjpeg scales the
DCT while decoding (``draft``) to no less than twice the output for JPEG
(three times for WebP and AVIF, and one step finer above quality 85;
``ImageLimits.jpeg_draft`` trades this for time), and one Lanczos pass
(cropping through ``box=`` for ``fill``; in bands on several threads with
``ImageLimits.resize_bands``) does the rest; :data:`RESAMPLING` has the rule
and the measurements behind each format's policy.

    >>> from s3media_wsgi.variants import ResizeSpec
    >>> engine = ImageEngine()
    >>> out = engine.resize(photo_bytes, ResizeSpec(400, 300, "fit", 85, False, "webp"))
    >>> out.content_type, out.width, out.height
    ('image/webp', 400, 300)

Concurrency: all the work on an image (the structure walk, opening the header
in a probe, decoding, resizing and encoding) runs under a bounded semaphore:
one shared by the whole process with a slot per CPU by default, or the
engine's own with ``max_concurrency`` slots.  Pillow releases the GIL while it
works, so without the cap a burst of first requests would decode every
original at once and multiply peak memory; probes are inside it too, since
reading a hostile header can cost as much as a decode.  A count of images is
not a bound on memory (two 50 MP WebPs at once peaked at 1.5 GiB), so every
decode also reserves its estimated cost from a process-wide budget
(``ImageLimits.decode_memory``, 1 GiB by default) before it starts, and
waits for it within the same :data:`DECODE_WAIT`.  After a large one,
glibc's ``malloc_trim`` gives the freed pages back (:func:`release_free_memory`).

Nothing global is changed: not ``Image.MAX_IMAGE_PIXELS`` and not the warnings
filters (``warnings.catch_warnings`` is not thread-safe).  Our own
``max_pixels`` check runs first; Pillow's bomb check stays as a backstop.
"""

from __future__ import annotations

import ctypes
import dataclasses
import io
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from PIL import Image, ImageCms, ImageFile, JpegImagePlugin, features

try:  # HEIC (iPhone photos) when the optional pillow-heif is installed: pip install 's3media-wsgi[heic]'
    import pillow_heif
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    pillow_heif.register_heif_opener()

from . import animation, attention, placeholders, previews, structure
from . import bands as banded
from .errors import Busy, ImageTooLarge, MediaError, NotAnImage
from .formats import KIND_BY_PILLOW, MIME_BY_EXT, OUTPUT_FORMATS, PILLOW_DECODER, PILLOW_WRITER
from .limits import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE, positive_int
from .previews import Facts, PreviewLimits, StillRequest
from .sniff import SNIFF_BYTES, sniff
from .variants import ResizeSpec

#: Content-Type of each output format: the same table stored files are served with.
CONTENT_TYPES = {fmt: MIME_BY_EXT[fmt] for fmt in OUTPUT_FORMATS}

# EXIF orientation -> the transpose that makes the picture upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class Resampling(NamedTuple):
    """How the pixels of a resize to one output format are made."""

    #: JPEG sources: libjpeg decodes at the smallest of 1/2, 1/4 and 1/8
    #: scale that keeps at least this many times the output's pixels a side
    #: (None: always at full size).
    draft: float | None
    #: The filter for what remains after a draft.
    after_draft: Image.Resampling
    #: ``reducing_gap`` of :meth:`PIL.Image.Image.resize`: average blocks with
    #: ``reduce()`` while the remaining scale is at least this, then the filter
    #: (None: the filter all the way).  After a draft it only applies past
    #: libjpeg's smallest scale, 1/8.
    reducing_gap: float | None
    #: Outputs of a quality above this keep ``fine_draft`` times the output
    #: instead of ``draft``: a finer encoder keeps more of what a draft loses
    #: (None: one policy at every quality).
    fine_above: int | None = None
    #: The draft of outputs above ``fine_above`` (None: at full size).
    fine_draft: float | None = None


#: The resampling policy of each output format (and quality band): the
#: cheapest that keeps the quality rule, measured *after encoding*
#: (``python benchmarks/bench_quality.py --margins``).  The rule, for every
#: output format and size, on photos, line art and small text:
#:
#: * PSNR after encoding >= thumbor's (7.8.0, Pillow engine, defaults:
#:   ``draft(None, size)``, the libjpeg scale that keeps at least the output,
#:   then Lanczos all the way), at the 0.01 dB the tables show;
#: * within 0.3 dB of a full decode + Lanczos on photos, 1 dB on line art and
#:   text (png, lossless: exact).
#:
#: The sets: a synthetic photo with per-pixel sensor grain, line art of 1-3 px
#: lines and text in Pillow's default font at 10-256 px; as JPEGs of quality
#: 90 at 12 MP and 2 MP (drafted), and as 2 MP PNGs and 12 MP WebPs (decoded
#: whole); resized to fit 160x120 ... 2048x1536 and to fill 300x300.  Each
#: cell: the worst photo / the worst line art or text, PSNR(policy) -
#: PSNR(full decode + Lanczos), both encoded, in dB (png: the policy's own
#: PSNR); x where the rule is broken.  ms: the median in-process time of
#: eight photo resizes (12 MP and 2 MP to 160x120, 400x300, 1280x960 and fill
#: 300x300, as q85 JPEG), the time "cheapest" is about.
#:
#: ============== =====  ========== ========== ========== ========== ========== ========== ========== ==========
#: JPEG sources      ms  jpg q85    jpg q95    webp q85   webp q95   avif q85   avif q95   png        gif
#: ============== =====  ========== ========== ========== ========== ========== ========== ========== ==========
#: draft 1x         375  x-.79/-5.6 x-2.4/-9.2 x-1.3/-8.1 x-2.9/-10  x-1.7/-8.7 x-3.0/-9.9 x37.4/26.5 x-.52/-19
#: draft 1.5x       413  x-.18/-1.2 x-.74/-2.1 x-.38/-2.0 x-.96/-2.6 x-.39/-2.0 x-.63/-2.5 x43.8/32.2 x-.30/-14
#: draft 2x         554  -.10/-.82  x-.27/-2.1 x-.30/-1.8 x-.36/-2.6 x-.26/-1.9 x-.47/-2.5 x46.0/32.2 x-.13/-9.9
#: draft 3x         646  -.08/-.52  -.19/-.76  -.20/-.81  x-.23/-1.3 -.21/-.69  x-.31/-1.1 x48.9/36.8 x-.13/-6.1
#: draft 4x         655  -.05/-.21  -.14/-.33  -.17/-.60  -.21/-.73  x-.15/-.33 -.22/-.43  x49.0/36.8 x-.12/-4.7
#: no draft         999  x0/0       0/0        0/0        0/0        0/0        0/0        exact      x0/0
#: ============== =====  ========== ========== ========== ========== ========== ========== ========== ==========
#:
#: (draft 1x is thumbor's; at 1x the rule's first half always holds, the
#: second never.)  What decides each: jpg q85, a 2x draft (2x is the old
#: policy: the rule keeps it); a full decode breaks the rule, since thumbor's
#: 1/8-scale text at 160x120 from 12 MP encodes 0.07 dB better than the best
#: pipeline does.  jpg q95 needs 3x (2x loses 2.1 dB on text): a finer
#: encoder keeps more of what a draft loses, so qualities above 85 take one
#: step more (``fine_above``, ``fine_draft``; q86-q94 are not measured and
#: get the safer draft).  WebP and AVIF at q85 take 3x, a step less than the
#: old 4x (webp q85 at 3x is 0.004 dB below thumbor's at 12 MP to 200x150, and
#: avif q85 at 4x 0.015 dB below at 160x120: encoder noise, which the 0.01 dB
#: resolution passes and fails in turn); at q95 4x.  png is never drafted.
#: GIF: no policy keeps the rule (its palette moves PSNR by tenths of a dB
#: either way: every policy but thumbor's own is 0.24 dB below thumbor's at
#: 2 MP to 640x480, and thumbor's is 19 dB below the best on line art), so GIF
#: gets the best pipeline.  thumbor's model is its code for fit and for any
#: source that is not a JPEG; for fill, thumbor crops before it resizes and
#: Pillow's crop decodes in full, so its fill is the best pipeline and every
#: draft is below it there (the chosen policies by 0.11-0.28 dB): the rule
#: holds against the model, as drafting fills is what makes them cheap.
#:
#: Sources decoded whole (PNG, WebP, small JPEGs), same columns; thumbor's is
#: Lanczos all the way, the best pipeline, so only that meets the rule:
#:
#: ============== =====  ========== ========== ========== ========== ========== ========== ========== ==========
#: reducing_gap 2  2194  x-.08/-1.1 x-.19/-2.4 x-.12/-2.0 x-.29/-2.7 x-.16/-2.2 x-.27/-2.7 x47.9/37.0 x-.34/-11
#: reducing_gap 4  2308  x-.06/-.09 x-.05/-.18 x-.15/-.27 x-.06/-.27 x-.05/-.21 x-.05/-.24 x54.2/46.2 x-.08/-3.5
#: reducing_gap 8  2431  x-.06/-.04 x-.07/-.06 x+.00/-.08 x-.04/-.08 x-.04/-.05 x-.02/-.06 x56.6/55.5 x-.14/-.56
#: Lanczos only    2427  0/0        0/0        0/0        0/0        0/0        0/0        exact      0/0
#: ============== =====  ========== ========== ========== ========== ========== ========== ========== ==========
#:
#: (ms there: 2 MP PNG and 12 MP WebP photos, whose decodes dominate: ``reduce()``
#: saves 5-10% of a resize for what the rule refuses.)  ``ImageEngine.resize_many``
#: decodes once at the largest draft its outputs need, so a q95 output beside
#: q85 ones makes them finer, never coarser.
RESAMPLING: dict[str, Resampling] = {
    "jpg": Resampling(2.0, Image.Resampling.LANCZOS, None, fine_above=85, fine_draft=3.0),
    "webp": Resampling(3.0, Image.Resampling.LANCZOS, None, fine_above=85, fine_draft=4.0),
    "avif": Resampling(3.0, Image.Resampling.LANCZOS, None, fine_above=85, fine_draft=4.0),
    "png": Resampling(None, Image.Resampling.LANCZOS, None),
    "gif": Resampling(None, Image.Resampling.LANCZOS, None),
}


def resampling(fmt: str, quality: int) -> Resampling:
    """The policy a resize to *fmt* at *quality* uses (:data:`RESAMPLING`).

    >>> resampling("jpg", 95).draft > resampling("jpg", 85).draft
    True
    """
    policy = RESAMPLING[fmt]
    if policy.fine_above is not None and quality > policy.fine_above:
        return policy._replace(draft=policy.fine_draft, fine_above=None, fine_draft=None)
    return policy


#: Encoder settings chosen for thumbnails (see benchmarks/bench_imaging.py):
#: JPEG with optimised Huffman tables is ~11% smaller for ~0.4 ms at 400x300;
#: progressive JPEG is chosen by size (``ImageLimits.progressive_jpeg_pixels``).  WebP
#: method 4 (libwebp's default) takes ~16 ms at 400x300 against ~8 ms for
#: method 2, for a 7% smaller file that is encoded once and served many times.
#: AVIF speed 8 is ~3.5x faster than the default 6 for a file ~5% larger.
#: zlib level 4 compresses within ~4% of level 6 in a third of the time.
WEBP_METHOD = 4
AVIF_SPEED = 8
PNG_COMPRESS_LEVEL = 4

#: The source ladder (:mod:`s3media_wsgi.ladder`): copies of an original at
#: 1/2, 1/4 and 1/8 of its size, made from the upload check's decode, from
#: which later cold resizes read and decode far fewer bytes.  A rung's long
#: side is at least :data:`MIN_RUNG_SIDE`; the largest rungs are dropped
#: while the ladder is over :data:`LADDER_SHARE` of the original's bytes;
#: stills only (an animation has no ladder).
LADDER_DIVISORS = (2, 4, 8)
MIN_RUNG_SIDE = 256
#: Most bytes a ladder may take, as a share of its original's: the largest rungs go first.
LADDER_SHARE = 0.25
#: How rungs are stored, by format: a JPEG source's as JPEG, any other
#: source's as WebP.  The cheapest settings for which every resize a rung
#: serves stays within 0.1 dB of the same resize made from the original,
#: both encoded, against a full decode and one Lanczos pass (jpg, webp and
#: png outputs fit 160x120 ... 640x480 and fill 300x300; synthetic photos
#: with sensor grain, the worst case; ``python benchmarks/bench_ladder.py --formats``):
#:
#: ===========  ===================  ========  =======  ==================================
#: source       rungs as             worst dB  bytes    added to the upload check (CPU)
#: ===========  ===================  ========  =======  ==================================
#: 12 MP JPEG   JPEG q93 4:2:0        -0.26    24.8%
#: 12 MP JPEG   JPEG q85 4:4:4        -0.04    15.8%    +66 ms (the check alone: 43 ms)
#: 12 MP JPEG   JPEG q90 4:4:4        -0.003   22.3%    +67 ms
#: 12 MP JPEG   JPEG q93 4:4:4        +0.01     5.0%    (its 1/2 rung over budget)
#: 2 MP JPEG    JPEG q85 4:4:4        -0.09    17.1%    +9 ms (9 ms)
#: 2 MP JPEG    JPEG q90 4:4:4        -0.03    23.4%    +11 ms
#: 4 MP RGBA    WebP q85..q95 lossy   -0.15    3-6%
#: 4 MP RGBA    WebP lossless m0 q0   -0.03    24.5%    +128 ms (101 ms)
#: 4 MP RGBA    WebP lossless m4      -0.03    21.3%    +740 ms
#: 4 MP RGBA    PNG level 4           -0.03     5.5%    (its 1/2 rung over budget)
#: ===========  ===================  ========  =======  ==================================
#:
#: Chroma subsampling is what costs JPEG rungs: a rung subsampled again
#: loses 0.2-0.3 dB at any quality.  Lossy WebP loses the grain a
#: lossless output keeps.  q85 is the cheapest that holds on both JPEGs
#: (q90 keeps more margin for 40% more bytes).  (Times from a machine
#: shared with other work: to re-measure.)
RUNG_ENCODERS: dict[str, dict[str, Any]] = {
    "jpg": {"quality": 85, "optimize": True, "subsampling": 0},
    "webp": {"lossless": True, "method": 0, "quality": 0},
    "png": {"compress_level": PNG_COMPRESS_LEVEL},
}
#: The rungs' format for sources that are not JPEG (or JPEG-like with alpha).
RUNG_OTHER_FORMAT = "webp"
#: The filter each rung of a source that is not JPEG is made with, from the one above it.
RUNG_FILTER = Image.Resampling.LANCZOS
_LADDER_SOURCES = ("JPEG", "MPO", "PNG", "WEBP")

#: Most bytes of a source handed to its decoder in one call (Pillow's own is
#: 64 KiB); each call copies that much, so peak memory grows by up to this.
DECODE_BLOCK = 1024 * 1024

_WHITE = (255, 255, 255)
_sRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

Box = tuple[float, float, float, float]


class _Source(NamedTuple):
    """An opened image whose size is within the limits."""

    image: Image.Image
    #: How many frames, counted up to ``max_frames + 1``.
    frames: int
    #: Every frame is as big as the image: frames may be decoded beyond the first.
    animatable: bool


@dataclass(frozen=True)
class ImageLimits:
    """What a single image may cost.

    ``max_animation_pixels`` bounds an animation's *output* (width × height ×
    frames, all kept in memory until encoded); ``max_animation_source_pixels``
    bounds the decoding work (source width × height × frames).  An animation
    over either limit, or over ``max_frames``, is resized to its first frame.

    >>> ImageLimits(max_pixels=20_000_000).max_side
    4096
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    max_frames: int = DEFAULT_MAX_FRAMES
    max_animation_pixels: int = 25_000_000
    #: 150 MP of source frames is about 2.5 s of decoding here (500 MP took 8 s).
    max_animation_source_pixels: int = 150_000_000
    #: Metadata a source may carry (JPEG APPn/COM segments, PNG ancillary
    #: chunks, GIF comment and application extensions, WebP EXIF/XMP/ICCP).
    #: Real files: EXIF <= 64 KiB, XMP usually < 100 KiB (a few MiB when
    #: Photoshop piles up history, or a phone stores a depth map in extended
    #: XMP), ICC profiles 3 KiB (sRGB) to ~2 MiB (print CMYK).  Held in
    #: large segments it costs ~1x its size (8 MiB of APP2: +8 MiB peak,
    #: 10 ms); the floods that cost 45x are stopped by the count caps of
    #: :mod:`~s3media_wsgi.structure`.
    max_metadata_bytes: int = 8 * 1024 * 1024
    #: Scans of a progressive JPEG.  libjpeg runs each over every block of the
    #: picture: 6.6 ms a scan at 7000x7000 here (64 scans 0.54 s, 2,000 scans
    #: 13 s for one resize).  libjpeg/Pillow write 10, mozjpeg and Photoshop
    #: <= ~20; 64 leaves room for custom scan scripts.
    max_jpeg_scans: int = 64
    #: Output budgets: the most pixels one still output of each format may
    #: have, so that no encode costs more than ~1 s of CPU and ~150 MiB.  A
    #: resize upscaled from a 400x400 photo, on 2 cores (CPU time, peak RSS growth):
    #:
    #: - jpg:  16.8 MP 0.36 s, 114 MiB: max_side x max_side is affordable;
    #: - png:  6.0 MP 0.86-1.02 s, 30 MiB  (8.4 MP 1.2-1.3 s; 16.8 MP 2.2 s);
    #: - webp: 8.0 MP 0.85 s, 83 MiB       (10.7 MP 1.1 s; 16.8 MP 1.6 s, 166 MiB);
    #: - avif: 3.0 MP 0.86-0.95 s, 86 MiB  (4.2 MP 1.0-1.3 s; 16.8 MP 3.2 s, 452 MiB);
    #: - gif:  1.0 MP 0.71-0.76 s, 38 MiB  (1.5 MP 0.9-1.2 s; 16.8 MP 5.7 s, 288 MiB).
    #:
    #: GIF gets 2 MP (about 1.5 s) so that a 1600x1200 still stays possible.
    #: Animations are bounded by ``max_animation_pixels`` (all frames
    #: together) and, in WebP and AVIF, by that format's budget too: libwebp
    #: costs 0.24 s per MP of frames (25 MP of frames measured 5.9 s), GIF's
    #: encoder 0.05 s.
    max_jpg_pixels: int = 4096 * 4096
    #: Not a limit but a threshold: JPEG outputs of at least this many pixels
    #: are written progressive, smaller ones baseline (both with optimised
    #: Huffman tables).  Progressive costs 2.5x the encode time at every size
    #: (400x300: +1.2 ms; 1600x1200: +15 ms); from 800x600 up it saves
    #: bytes on every picture measured (photos 0.6-3.6%, text 7%) and draws a
    #: coarse picture early, while below it is a toss-up (400x300: +2.1% to
    #: -5.9%; 160x120: +1.8% to +9.8% on photos).  Set 1 to write every JPEG
    #: progressive (thumbor's default), ``max_jpg_pixels + 1`` to write none
    #: (``python benchmarks/bench_quality.py --progressive``).
    progressive_jpeg_pixels: int = 800 * 600
    #: Not a limit but a trade of quality for time: a JPEG source is decoded
    #: at the smallest of libjpeg's 1/2, 1/4 and 1/8 scales that keeps at
    #: least this many times a q85 JPEG output's size a side; each format's
    #: factor in :data:`RESAMPLING` is scaled by this over 2 (WebP and AVIF
    #: keep 1.5 times as many, outputs above q85 one step more; PNG and GIF
    #: outputs are never drafted), then Lanczos does the rest.  2 (the
    #: default) keeps the quality rule of :data:`RESAMPLING`: never below
    #: thumbor's, photos within 0.3 dB of a full decode once encoded, line
    #: art and text within 1 dB.  1 is what thumbor and sharp's
    #: ``fastShrinkOnLoad`` do: 2 MP to 400x300 is decoded straight at 1/4
    #: with nothing left to filter (about half the CPU: 17.7 -> 9.5 ms), for
    #: 0.2-0.8 dB less on photos and 2-6 dB less, visibly aliased, on line art
    #: and text (``python benchmarks/bench_quality.py``).  Larger values trade
    #: time for the last tenths of a dB.
    jpeg_draft: int = 2
    #: Not a limit: split a big downscale into up to this many horizontal
    #: bands resized on as many threads (:mod:`~s3media_wsgi.bands`).  Set
    #: it to the CPU count where resizes usually meet idle cores (a dev
    #: server, a lightly used site): on 2 cores a 2 MP JPEG's Lanczos pass
    #: goes from ~9.6 to ~5.4 ms.  1, the default, resizes in one call: on a
    #: server whose workers keep every core busy, bands have nothing to gain.
    resize_bands: int = 1
    #: Bytes the images being worked on at once in this process may cost
    #: together (1 GiB by default).  Before decoding, each probe-with-decode
    #: and each resize reserves its estimate, known from the header: the
    #: source's pixels times its kind's bytes per pixel
    #: (:data:`BYTES_PER_PIXEL`, measured by
    #: ``tests/reliability/test_decode_memory.py``), plus the output's pixels
    #: times its encoder's (:data:`ENCODE_BYTES_PER_PIXEL`).  A reservation
    #: that does not fit waits for what is left of the :data:`DECODE_WAIT`
    #: that began with the wait for a decode slot, then is answered
    #: :class:`Busy` (503); an estimate over the whole budget is refused as
    #: :class:`ImageTooLarge`.
    #: So a process's images cost about this at most together (the estimates
    #: are measured peaks, within ~10%), whatever ``max_concurrent_decodes``
    #: allows: with the defaults one 50 MP WebP (~860 MiB estimated, ~765 MiB
    #: measured) at a time, or a dozen 12 MP baseline JPEGs resized to PNG.
    #: Engines with the same value share one budget per process.
    decode_memory: int = 1024 * 1024 * 1024
    max_png_pixels: int = 6_000_000
    max_webp_pixels: int = 8_000_000
    max_avif_pixels: int = 3_000_000
    max_gif_pixels: int = 2_000_000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            positive_int(value, f"ImageLimits.{name}")

    def output_pixels(self, fmt: str) -> int:
        """The most pixels a still output in *fmt* (``"jpg"``, ``"avif"``...) may have.

        >>> ImageLimits().output_pixels("avif")
        3000000
        """
        budget: int = getattr(self, f"max_{fmt}_pixels")
        return budget


@dataclass(frozen=True)
class ImageInfo:
    """What :meth:`ImageEngine.probe` learns from a header; sizes are upright (EXIF applied).

    >>> ImageInfo("jpeg", 3000, 4000, 1).width
    3000
    """

    format: str
    width: int
    height: int
    #: Counted up to ``max_frames + 1``: past the cap the count makes no difference.
    frames: int
    #: The EXIF orientation (1-8) the sizes were made upright with.
    orientation: int = 1
    #: With ``probe(..., facts=True)``: the ThumbHash of the upright first
    #: frame and its dominant colour (``#rrggbb``), see :mod:`s3media_wsgi.placeholders`.
    placeholder: bytes | None = None
    colour: str | None = None
    #: With ``probe(..., ladder=True)``: the source ladder's rungs, largest first
    #: (see :data:`LADDER_DIVISORS`), each in the stored (not upright) orientation.
    rungs: tuple[Rendered, ...] = ()


@dataclass(frozen=True)
class Rendered:
    """An encoded resize.

    >>> Rendered(b"...", "image/png", 1, 1).content_type
    'image/png'
    """

    data: bytes
    content_type: str
    width: int
    height: int
    #: The point a ``fill`` crop was centred on as near as it could be, in
    #: fractions of the upright source (None: the centre).  For ``auto`` and
    #: ``faces``, the point found.
    focus: tuple[float, float] | None = None
    #: Every pixel kept exactly (a rung of the source ladder in PNG or lossless WebP).
    lossless: bool = False


@dataclass(frozen=True)
class Layout:
    """Where a resize takes its pixels from and how big it comes out.

    ``box`` is a region of the source (left, top, right, bottom) and ``size``
    the output, both in the source's stored (not yet upright) orientation.
    """

    box: Box
    size: tuple[int, int]

    def onto(self, original: Original, size: tuple[int, int]) -> Layout:
        """This plan (made for *original*) with its box mapped onto a copy of it of *size* pixels.

        >>> Layout((100.0, 0.0, 300.0, 200.0), (50, 50)).onto(Original(400, 200), (200, 100)).box
        (50.0, 0.0, 150.0, 100.0)
        """
        sx, sy = size[0] / original.width, size[1] / original.height
        box = self.box
        return Layout((box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy), self.size)


class Original(NamedTuple):
    """An original's size as stored (not upright) and its EXIF orientation: what a rung of its ladder stands for."""

    width: int
    height: int
    orientation: int = 1


def _round_div(num: int, den: int) -> int:
    # round(num / den) with halves up, in integers so 55.5 never becomes 55.
    return (2 * num + den) // (2 * den)


#: A point of the stored picture -> the same point of the upright one, per EXIF orientation (fractions).
_POINT_UPRIGHT = {
    2: lambda x, y: (1 - x, y),
    3: lambda x, y: (1 - x, 1 - y),
    4: lambda x, y: (x, 1 - y),
    5: lambda x, y: (y, x),
    6: lambda x, y: (1 - y, x),
    7: lambda x, y: (1 - y, 1 - x),
    8: lambda x, y: (y, 1 - x),
}
#: And back: a point of the upright picture -> the stored one.
_POINT_STORED = {
    2: lambda u, v: (1 - u, v),
    3: lambda u, v: (1 - u, 1 - v),
    4: lambda u, v: (u, 1 - v),
    5: lambda u, v: (v, u),
    6: lambda u, v: (v, 1 - u),
    7: lambda u, v: (1 - v, 1 - u),
    8: lambda u, v: (1 - v, u),
}


def upright_point(point: tuple[float, float], orientation: int) -> tuple[float, float]:
    """*point* (fractions of a picture stored with EXIF *orientation*) in the upright picture.

    >>> upright_point((0.25, 0.1), 6)
    (0.9, 0.25)
    """
    turn = _POINT_UPRIGHT.get(orientation)
    return point if turn is None else turn(*point)


def stored_point(point: tuple[float, float], orientation: int) -> tuple[float, float]:
    """*point* (fractions of the upright picture) in the picture as stored with EXIF *orientation*."""
    turn = _POINT_STORED.get(orientation)
    return point if turn is None else turn(*point)


def layout(
    src_w: int, src_h: int, spec: ResizeSpec, orientation: int = 1, focus: tuple[float, float] | None = None
) -> Layout:
    """Plan *spec* for a source of ``src_w`` × ``src_h`` stored with EXIF *orientation*.

    A ``fill`` crop is placed so that its focus (*focus*, fractions of the
    upright picture, else the spec's own point, else the centre) is as near
    its centre as the picture allows.  ``auto`` and ``faces`` are planned at
    the centre: the engine finds their point once the pixels are decoded
    (the crop's size does not depend on it), and plans again with it.

    >>> layout(1000, 900, ResizeSpec(100, 50)).size
    (56, 50)
    >>> layout(400, 200, ResizeSpec(100, 100, "fill")).box
    (100.0, 0.0, 300.0, 200.0)
    >>> layout(400, 200, ResizeSpec(100, 100, "fill"), focus=(0.1, 0.5)).box
    (0.0, 0.0, 200.0, 200.0)
    """
    w, h = spec.width, spec.height
    if orientation >= 5:
        # The box is centred and the rounding symmetric, so planning on the
        # stored picture with the target turned gives the same result.
        w, h = h, w
    if spec.mode == "fill":
        if w is None or h is None:
            raise ValueError("fill needs a width and a height")
        point = focus if focus is not None else spec.focus_point
        if point is not None:
            point = stored_point(point, orientation)
        return _fill(src_w, src_h, w, h, spec.upscale, point)
    return _fit(src_w, src_h, w, h, spec.upscale)


def _fit(src_w: int, src_h: int, w: int | None, h: int | None, upscale: bool) -> Layout:
    full: Box = (0.0, 0.0, float(src_w), float(src_h))
    if not upscale and (w is None or src_w <= w) and (h is None or src_h <= h):
        return Layout(full, (src_w, src_h))
    if w is not None and (h is None or w * src_h <= h * src_w):
        # The width binds; the height follows, rounded, never past the box.
        out_h = max(1, _round_div(src_h * w, src_w))
        return Layout(full, (w, out_h if h is None else min(out_h, h)))
    assert h is not None
    out_w = max(1, _round_div(src_w * h, src_h))
    return Layout(full, (out_w if w is None else min(out_w, w), h))


def _fill(src_w: int, src_h: int, w: int, h: int, upscale: bool, focus: tuple[float, float] | None = None) -> Layout:
    # The largest region of the target's aspect ratio that the source holds.
    if w * src_h >= h * src_w:
        crop_w, crop_h = float(src_w), src_w * h / w
    else:
        crop_w, crop_h = src_h * w / h, float(src_h)
    if upscale or crop_w >= w:
        if focus is None:
            left, top = (src_w - crop_w) / 2, (src_h - crop_h) / 2
        else:
            left = min(max(focus[0] * src_w - crop_w / 2, 0.0), src_w - crop_w)
            top = min(max(focus[1] * src_h - crop_h / 2, 0.0), src_h - crop_h)
        return Layout((left, top, left + crop_w, top + crop_h), (w, h))
    # Too small and no upscale: cut that region out at its own size.
    out_w = max(1, min(src_w, int(crop_w + 0.5)))
    out_h = max(1, min(src_h, int(crop_h + 0.5)))
    if focus is None:
        left_px, top_px = (src_w - out_w) // 2, (src_h - out_h) // 2
    else:
        left_px = min(max(math.floor(focus[0] * src_w - out_w / 2 + 0.5), 0), src_w - out_w)
        top_px = min(max(math.floor(focus[1] * src_h - out_h / 2 + 0.5), 0), src_h - out_h)
    return Layout((float(left_px), float(top_px), float(left_px + out_w), float(top_px + out_h)), (out_w, out_h))


def orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8) in *im*'s header; 1 when absent or unreadable.

    Reads ``info["exif"]`` rather than ``getexif()``: for PNG the latter may
    decode the whole image to look for a late eXIf chunk.
    """
    raw = im.info.get("exif")
    if not raw or not isinstance(raw, (bytes, bytearray)):
        return 1
    try:
        exif = Image.Exif()
        exif.load(bytes(raw))
        value = exif.get(0x0112, 1)
    except Exception:  # a broken EXIF block only loses the orientation
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


#: Seconds a request waits for a decode slot before it is answered 503.  A burst
#: of ordinary first views (tens of milliseconds each) queues well within it;
#: a queue behind expensive images does not.
DECODE_WAIT = 2.0

_PROCESS_SLOTS_SIZE = os.cpu_count() or 1
_PROCESS_SLOTS = threading.BoundedSemaphore(_PROCESS_SLOTS_SIZE)

#: Peak memory of a probe-with-decode or a resize, per source pixel, by what
#: the header says (the README's "memory of one resize or upload check";
#: ``tests/reliability/test_decode_memory.py`` holds each figure at 3000x2000).
#: Keys: Pillow's format, then a variant: ``"alpha"`` for PNG and GIF with
#: alpha, 16-bit samples or a transparent palette; for JPEG ``"cmyk"``,
#: ``"full"`` (decoded at full size), ``"progressive"`` (4:2:0, from its
#: buffered coefficients) and ``"drafted"`` (decoded at 1/2 to 1/8 scale).
BYTES_PER_PIXEL: dict[tuple[str, str], float] = {
    ("WEBP", ""): 18.0,
    ("AVIF", ""): 10.0,
    ("HEIF", ""): 10.0,
    ("PNG", "alpha"): 10.0,
    ("PNG", ""): 5.0,
    ("GIF", "alpha"): 10.0,
    ("GIF", ""): 5.0,
    ("JPEG", "cmyk"): 10.0,
    ("JPEG", "full"): 7.5,
    ("JPEG", "progressive"): 4.5,
    ("JPEG", "drafted"): 1.5,
}
#: Any other kind a decoder opens (TIFF, BMP...): as the costliest but WebP.
OTHER_BYTES_PER_PIXEL = 10.0
#: Peak memory of an encode per output pixel, over the resized frame it reads
#: (from the output budgets' measurements in :class:`ImageLimits`, rounded up).
ENCODE_BYTES_PER_PIXEL = {"jpg": 8.0, "png": 6.0, "webp": 12.0, "avif": 32.0, "gif": 40.0}
#: An animation keeps every resized frame until it is encoded: bytes per
#: output pixel of all its frames, on top of one frame's encode (measured:
#: 100 GIF frames of 500x500 to GIF 112 MiB, 25 of 1000x1000 138 MiB; 50
#: of 400x400 to WebP 33 MiB; 30 of 300x300 to AVIF 25 MiB).
ANIMATION_BYTES_PER_PIXEL = {"gif": 5.0, "webp": 5.0, "avif": 10.0}
#: A reservation at least this large is followed by ``malloc_trim(0)`` once
#: released (glibc keeps freed memory in each thread's arena otherwise).
TRIM_AFTER_BYTES = 64 * 1024 * 1024


class MemoryBudget:
    """Bytes that the images being worked on at once may cost together, reserved before decoding.

    >>> budget = MemoryBudget(100)
    >>> with budget.reserve(60, "a.webp", wait=0):
    ...     budget.reserved
    60
    >>> budget.reserved
    0
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = positive_int(capacity, "decode_memory")
        self.reserved = 0
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int, what: str, wait: float = 2.0) -> Iterator[None]:
        """Hold *nbytes* of the budget; :class:`ImageTooLarge` or, after *wait* seconds, :class:`Busy`."""
        if nbytes > self.capacity:
            raise ImageTooLarge(
                f"{what} would need about {_mib(nbytes)} of memory to decode, over "
                f"decode_memory={self.capacity} ({_mib(self.capacity)}); raise ImageLimits.decode_memory "
                f"or lower max_pixels"
            )
        with self._changed:
            if not self._changed.wait_for(lambda: self.reserved + nbytes <= self.capacity, timeout=wait):
                raise Busy(
                    f"{what} needs about {_mib(nbytes)} of memory and {_mib(self.reserved)} of "
                    f"decode_memory={_mib(self.capacity)} stayed reserved for {wait:g} s"
                )
            self.reserved += nbytes
        try:
            yield
        finally:
            with self._changed:
                self.reserved -= nbytes
                self._changed.notify_all()
            if nbytes >= TRIM_AFTER_BYTES:
                _this_thread.trim = True  # done by the engine once the pixels are freed


#: Per thread: ``deadline`` (``time.monotonic()``) of the current image's
#: wait for a slot and then memory, :data:`DECODE_WAIT` after it began;
#: ``trim``: a reservation of at least :data:`TRIM_AFTER_BYTES` was released
#: since the engine last trimmed.
_this_thread = threading.local()


def _mib(nbytes: int) -> str:
    return f"{nbytes / (1024 * 1024):.0f} MiB"


_budgets_lock = threading.Lock()
_BUDGETS: dict[int, MemoryBudget] = {}


def process_budget(capacity: int) -> MemoryBudget:
    """The process-wide :class:`MemoryBudget` of *capacity* bytes: one per value, shared by every engine."""
    with _budgets_lock:
        budget = _BUDGETS.get(capacity)
        if budget is None:
            budget = _BUDGETS[capacity] = MemoryBudget(capacity)
        return budget


def _load_malloc_trim() -> Any:
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to do
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim(0)``; elsewhere nothing).

    glibc keeps what a thread freed in that thread's arena, to reuse it: after
    each burst of 8 threads resizing a 50 MP WebP, a process kept 110-340 MiB
    that nothing used (1.2-1.6 GiB on another machine).  ``malloc_trim``
    walks every arena and releases its free pages: 0.1-35 ms when it has
    hundreds of MiB to give back, a few microseconds when it has none.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)


class ImageEngine:
    """Probe and resize untrusted image bytes.

    >>> engine = ImageEngine(ImageLimits(max_pixels=10_000_000), max_concurrency=2)
    >>> engine.can_read("png")
    True
    """

    def __init__(
        self,
        limits: ImageLimits = ImageLimits(),
        max_concurrency: int | None = None,
        preview_limits: PreviewLimits | None = None,
    ) -> None:
        if max_concurrency is None:
            # The default cap is per process, not per engine: an app with
            # several Media objects still decodes at most one image per CPU.
            self.max_concurrency = _PROCESS_SLOTS_SIZE
            self._slots = _PROCESS_SLOTS
        else:
            positive_int(max_concurrency, "max_concurrency")
            self.max_concurrency = max_concurrency
            self._slots = threading.BoundedSemaphore(max_concurrency)
        self.limits = limits
        #: What a still of a video or a PDF may cost (:mod:`s3media_wsgi.previews`).
        self.preview_limits = preview_limits or PreviewLimits()
        self.memory = process_budget(limits.decode_memory)
        Image.init()
        self._readable = frozenset(kind for kind, dec in PILLOW_DECODER.items() if self._decoder_works(kind, dec))
        self._formats = [PILLOW_DECODER[kind] for kind in PILLOW_DECODER if kind in self._readable]

    @staticmethod
    def _decoder_works(kind: str, decoder: str) -> bool:
        if decoder not in Image.OPEN:
            return False
        return kind not in ("webp", "avif") or bool(features.check(kind))

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the decode slots, waited for at most :data:`DECODE_WAIT` seconds.

        A request that cannot get one in time is answered :class:`Busy` (503)
        rather than holding a server thread in the queue behind expensive
        images: the host app's pages keep their threads.
        """
        _this_thread.deadline = time.monotonic() + DECODE_WAIT
        if not self._slots.acquire(timeout=DECODE_WAIT):
            raise Busy(f"all {self.max_concurrency} decode slots stayed busy for {DECODE_WAIT:g} s")
        try:
            yield
        finally:
            self._slots.release()

    @staticmethod
    def _wait_left() -> float:
        """Seconds left of this image's :data:`DECODE_WAIT` (shared by its slot and its memory)."""
        deadline: float = getattr(_this_thread, "deadline", 0.0)
        return max(0.0, deadline - time.monotonic())

    def can_read(self, kind: str) -> bool:
        """True when *kind* (a sniff kind such as ``"jpeg"``) can be decoded here."""
        return kind in self._readable

    def probe(self, data: bytes, *, decode: bool = False, facts: bool = False, ladder: bool = False) -> ImageInfo:
        """Read format, upright size and frame count from the header.

        With *decode*, also decode the first frame's pixels, as cheaply as the
        format allows (a JPEG at 1/8 scale: every byte of its scans is still
        read), so that pixel data which is cut short or corrupt is refused
        now rather than by every resize later.  Later frames of an animation
        are not decoded.

        With *decode* and *ladder*, that decode also makes the source
        ladder's rungs (:func:`rung_sizes`; ``info.rungs``): a JPEG is then
        decoded at the libjpeg scale that keeps twice the largest rung
        rather than at 1/8, which checks every byte of its scans just the same.

        Raises :class:`NotAnImage` (not an image we read, cut short,
        flooded with segments, or with *decode* pixel data that does not
        decode) or :class:`ImageTooLarge` (over ``max_pixels``,
        ``max_metadata_bytes`` or ``max_jpeg_scans``).
        """
        with _trimmed():
            return self._probe(data, decode, facts, ladder)

    def _probe(self, data: bytes, decode: bool, facts: bool = False, ladder: bool = False) -> ImageInfo:
        with self._slot(), _guard():
            source = self._open(data)
            with source.image as im:
                width, height = im.size
                turn = orientation(im)
                if turn >= 5:
                    width, height = height, width
                info = ImageInfo(KIND_BY_PILLOW[im.format or ""], width, height, source.frames, turn)
                if decode:
                    sizes = rung_sizes(im, source.frames) if ladder else []
                    cost = decode_cost(im, im.size[0] * im.size[1], drafted=True)
                    cost += sum(math.ceil(w * h * _encode_bytes_per_pixel("webp")) for w, h in sizes[:1])
                    with self.memory.reserve(cost, f"a {im.size[0]}x{im.size[1]} {im.format}", self._wait_left()):
                        if sizes:
                            rungs = within_share(_decode_for_rungs(im, sizes), len(data))
                            info = dataclasses.replace(info, rungs=rungs)
                        else:
                            _decode_cheaply(im)
                        if facts:
                            small = _small_copy(im, turn)
                            placeholder, colour = placeholders.thumbhash(small), placeholders.dominant_colour(small)
                            info = dataclasses.replace(info, placeholder=placeholder, colour=colour)
                return info

    def header_size(self, prefix: bytes) -> tuple[int, int] | None:
        """Upright width and height read from the header in *prefix*, the first bytes of a stored image.

        Nothing is decoded and no decode slot is taken: for an original that
        was checked when it was stored.  None when *prefix* does not reach
        the size (a JPEG with a large metadata block first) or is not an
        image this engine reads.
        """
        try:
            with Image.open(io.BytesIO(prefix), formats=self._formats) as im:
                width, height = im.size
                if orientation(im) >= 5:
                    width, height = height, width
        except Exception:  # cut short before the size, or not ours: no size, not an error
            return None
        return (width, height) if width > 0 and height > 0 else None

    def preview_facts(self, data: bytes) -> tuple[Facts, bytes | None, str | None] | None:
        """What a video, audio file or PDF says of itself, and its poster's ThumbHash and dominant colour.

        None when no installed previewer reads *data*'s kind (an image, or a
        kind whose extra is missing); otherwise bounded like a resize
        (:class:`~s3media_wsgi.previews.PreviewLimits`, a decode slot, the
        memory budget), raising :class:`NotAnImage` or :class:`ImageTooLarge`.
        """
        ftype = sniff(data[:SNIFF_BYTES])
        previewer = previews.find(ftype.kind) if ftype is not None and not ftype.is_image else None
        if ftype is None or previewer is None or not previewer.available():
            return None
        with _trimmed(), self._slot(), _guard():
            facts = previewer().facts(data, ftype.kind, self._work())
            if facts.poster is None:
                return facts, None, None
            small = _small_copy(facts.poster, 1)
            return facts, placeholders.thumbhash(small), placeholders.dominant_colour(small)

    def _work(self) -> previews.Work:
        """The bounds of one still: the preview limits, ``max_pixels``, this image's memory reservations."""
        return previews.Work(
            self.preview_limits,
            self.limits.max_pixels,
            lambda nbytes, what: self.memory.reserve(nbytes, what, self._wait_left()),
        )

    def _still(self, data: bytes, spec: ResizeSpec | None) -> _Source | None:
        """The still of a video or a PDF (see :mod:`s3media_wsgi.previews`) as a source; None for other files."""
        ftype = sniff(data[:SNIFF_BYTES])
        if ftype is None or ftype.is_image:
            return None
        previewer = previews.load(ftype.kind)
        if previewer is None or not previewer.has_still:
            return None
        request = StillRequest()
        if spec is not None:
            request = StillRequest(spec.page, spec.frame, (spec.width, spec.height), spec.mode == "fill")
        return _Source(previewer.still(data, ftype.kind, request, self._work()), 1, False)

    def resize(self, data: bytes, spec: ResizeSpec, *, original: Original | None = None) -> Rendered:
        """Resize *data* to *spec* and encode it; metadata other than the ICC profile is dropped.

        With *original*, *data* is a rung of the source ladder of that
        original: the output's size and crop box are planned on the
        original's size and orientation, the box mapped onto the rung, so
        the output has exactly the size and framing a resize of the original
        has.

        Raises :class:`NotAnImage`, :class:`ImageTooLarge` (source over
        ``max_pixels``, an output side over ``max_side``, as when a very
        tall picture is asked for by width only, or an output over its
        format's budget, see :meth:`ImageLimits.output_pixels`) or, for a
        spec out of range, :class:`~s3media_wsgi.errors.InvalidResize`.
        """
        spec.validate(self.limits.max_side)
        with _trimmed():
            return self._resize(data, spec, original)

    def _resize(self, data: bytes, spec: ResizeSpec, original: Original | None = None) -> Rendered:
        with self._slot(), _guard():
            source = self._still(data, spec) or self._open(data)
            with source.image as im:
                if original is None:
                    turn = orientation(im)
                    plan = layout(im.size[0], im.size[1], spec, turn)
                else:
                    turn = original.orientation
                    plan = layout(original.width, original.height, spec, turn)
                if max(plan.size) > self.limits.max_side:
                    raise ImageTooLarge(f"output {plan.size} is over max_side={self.limits.max_side}")
                budget = self.limits.output_pixels(spec.format)
                if plan.size[0] * plan.size[1] > budget:
                    raise ImageTooLarge(
                        f"output {plan.size[0]}x{plan.size[1]} is over max_{spec.format}_pixels={budget}"
                    )
                if original is not None:
                    plan = plan.onto(original, im.size)
                return self._render(source, spec, plan, turn)

    def resize_many(
        self, data: bytes, specs: Sequence[ResizeSpec], *, original: Original | None = None
    ) -> list[Rendered | MediaError]:
        """Render every spec of *specs* from one decode of *data*: a :class:`Rendered` or the error, per spec.

        Each output keeps :meth:`resize`'s rules: its format's draft policy
        (a JPEG is decoded at the one draft scale that still gives *every*
        output at least its format's factor: an output another needs a larger
        scale for is made from more pixels than :meth:`resize` would use, so
        its bytes may differ from a cold resize, never for worse), the same
        filters, encoders and limits.  An output that cannot be made (over a
        limit) is its error, the others are made; an animated output is made
        by :meth:`resize` on its own, after.  A source that does not decode
        raises, as :meth:`resize` does.  *original*: *data* is a rung of
        that original's ladder, as for :meth:`resize`.
        """
        specs = list(specs)
        for spec in specs:
            spec.validate(self.limits.max_side)
        with _trimmed():
            results = self._resize_many(data, specs, original)
        for i, spec in enumerate(specs):
            if results[i] is None:  # animated: its frames are decoded one by one, by resize
                try:
                    results[i] = self.resize(data, spec)
                except MediaError as exc:
                    results[i] = exc
        return [r for r in results if r is not None]

    def _resize_many(
        self, data: bytes, specs: list[ResizeSpec], original: Original | None = None
    ) -> list[Rendered | MediaError | None]:
        results: list[Rendered | MediaError | None] = [None] * len(specs)
        ftype = sniff(data[:SNIFF_BYTES])
        if ftype is not None and previews.previewable(ftype.kind):
            return results  # a still is made for its output's box: each by resize
        with self._slot(), _guard():
            source = self._open(data)
            with source.image as im:
                turn = orientation(im) if original is None else original.orientation
                src_w, src_h = im.size
                still: list[tuple[int, ResizeSpec, Layout]] = []
                for i, spec in enumerate(specs):
                    if original is None:
                        plan = layout(src_w, src_h, spec, turn)
                    else:
                        plan = layout(original.width, original.height, spec, turn).onto(original, im.size)
                    budget = self.limits.output_pixels(spec.format)
                    if max(plan.size) > self.limits.max_side:
                        results[i] = ImageTooLarge(f"output {plan.size} is over max_side={self.limits.max_side}")
                    elif plan.size[0] * plan.size[1] > budget:
                        results[i] = ImageTooLarge(
                            f"output {plan.size[0]}x{plan.size[1]} is over max_{spec.format}_pixels={budget}"
                        )
                    elif not self._animate(source, spec, plan):
                        still.append((i, spec, plan))
                if not still:
                    return results
                # The draft each output would ask for alone; the decode gives the largest of them.
                wanted: list[tuple[int, int]] = []
                for _, spec, plan in still:
                    size = _draft_size(im, plan, resampling(spec.format, spec.quality).draft, self.limits.jpeg_draft)
                    if size is None:
                        wanted = []
                        break
                    wanted.append(size)
                if wanted:
                    im.draft(im.mode, (max(w for w, _ in wanted), max(h for _, h in wanted)))
                drafted = im.size[0] < src_w
                scale_x, scale_y = im.size[0] / src_w, im.size[1] / src_h
                icc = im.info.get("icc_profile") or None
                encode = max(p.size[0] * p.size[1] * _encode_bytes_per_pixel(s.format) for _, s, p in still)
                cost = decode_cost(im, src_w * src_h, drafted) + math.ceil(encode)
                what = f"a {src_w}x{src_h} {im.format} resized to {len(still)} outputs"
                with self.memory.reserve(cost, what, self._wait_left()):
                    frame = _resizable(im)
                    for i, spec, plan in still:
                        try:
                            with _guard():
                                results[i] = self._render_from(frame, spec, plan, turn, icc, drafted, scale_x, scale_y)
                        except MediaError as exc:
                            results[i] = exc
        return results

    def _render_from(
        self,
        frame: Image.Image,
        spec: ResizeSpec,
        plan: Layout,
        turn: int,
        icc: bytes | None,
        drafted: bool,
        scale_x: float,
        scale_y: float,
    ) -> Rendered:
        """One still output of :meth:`resize_many`, from the decoded *frame* (drafted by *scale_x*, *scale_y*)."""
        policy = resampling(spec.format, spec.quality)
        box = plan.box
        if drafted:
            box = (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)
        focus = spec.focus_point
        if isinstance(spec.focus, str):
            src = (round(frame.width / scale_x), round(frame.height / scale_y))
            focus, box = self._place(frame, spec, turn, *src)
        resample = policy.after_draft if drafted else Image.Resampling.LANCZOS
        out = _upright(_scale(frame, plan.size, box, resample, policy.reducing_gap, self.limits.resize_bands), turn)
        if out is frame:
            out = frame.copy()  # _encode empties its info: never the shared decode's
        out, out_icc = _for_output(out, spec.format, icc)
        progressive = out.width * out.height >= self.limits.progressive_jpeg_pixels
        encoded = _encode(out, spec.format, spec.quality, out_icc, progressive)
        return Rendered(encoded, CONTENT_TYPES[spec.format], *out.size, focus)

    def _open(self, data: bytes) -> _Source:
        lim = self.limits
        cap = lim.max_frames + 1
        gif = None
        if data.startswith(structure.GIF_SIGNATURES):
            # Read the frame descriptors before Pillow does: opening a GIF whose
            # first frame reaches past the logical screen already grows the
            # picture and allocates a frame-sized background.  The same walk
            # checks for truncation, floods and metadata.
            gif = structure.scan_gif(data, lim.max_frames, lim.max_metadata_bytes)
            if gif.frames == 0:
                raise NotAnImage("GIF has no frames")
            width, height = gif.canvas
            if width * height > lim.max_pixels:
                raise ImageTooLarge(f"GIF frames reach {width}x{height}, over max_pixels={lim.max_pixels}")
        else:
            # Truncation, floods, metadata and scans: before any decoder reads a byte.
            structure.check(data, max_metadata_bytes=lim.max_metadata_bytes, max_jpeg_scans=lim.max_jpeg_scans)
        im = Image.open(io.BytesIO(data), formats=self._formats)
        if isinstance(im, ImageFile.ImageFile):
            # Pillow feeds the decoder 64 KiB at a time and takes the GIL back
            # between calls; in a threaded server each return may wait behind
            # another thread's Python (12 waits for a 2 MP JPEG).  Blocks of up
            # to DECODE_BLOCK: 8 clients on 2 cores in one process went from
            # 0.89 to 1.03 x twice one client's rate (2 MP JPEGs, gthread).
            im.decodermaxblock = max(im.decodermaxblock, min(len(data), DECODE_BLOCK))
        width, height = im.size
        if width < 1 or height < 1:
            im.close()
            raise NotAnImage(f"image has no pixels ({width}x{height})")
        if width * height > lim.max_pixels:
            im.close()
            raise ImageTooLarge(f"{width}x{height} is over max_pixels={lim.max_pixels}")
        if gif is None:
            return _Source(im, min(cap, animation.frame_count(im)), True)
        # Later frames that reach past the first would make Pillow grow the
        # picture while seeking; such a GIF keeps to its first frame.
        return _Source(im, gif.frames, gif.canvas == im.size)

    def _animate(self, source: _Source, spec: ResizeSpec, plan: Layout) -> bool:
        im, n = source.image, source.frames
        if spec.format not in animation.ANIMATED_OUTPUTS or im.format not in animation.ANIMATED_SOURCES:
            return False
        lim = self.limits
        output_budget = lim.max_animation_pixels
        if spec.format in ("webp", "avif"):
            # Their encoders cost per pixel of every frame: the still budget
            # bounds the whole animation.
            output_budget = min(output_budget, lim.output_pixels(spec.format))
        return (
            source.animatable
            and 1 < n <= lim.max_frames
            and plan.size[0] * plan.size[1] * n <= output_budget
            and im.size[0] * im.size[1] * n <= lim.max_animation_source_pixels
        )

    def _render(self, source: _Source, spec: ResizeSpec, plan: Layout, turn: int) -> Rendered:
        im = source.image
        icc = im.info.get("icc_profile") or None

        found: list[tuple[float, float] | None] = [spec.focus_point]
        boxes: list[Box] = []

        def finish(frame: Image.Image) -> Image.Image:
            if not boxes:
                # An animation's crop is placed once, by its first frame, and kept: a crop must not wander.
                if isinstance(spec.focus, str):
                    found[0] = upright_point(attention.find_point(frame, spec.focus), turn)
                    boxes.append(layout(src_w, src_h, spec, turn, found[0]).box)
                else:
                    boxes.append(plan.box)
            gap = resampling(spec.format, spec.quality).reducing_gap
            return _upright(_scale(frame, plan.size, boxes[0], reducing_gap=gap, bands=self.limits.resize_bands), turn)

        src_w, src_h = im.size  # before any draft
        what = f"a {src_w}x{src_h} {im.format} resized to {plan.size[0]}x{plan.size[1]} {spec.format}"
        source_pixels, output_pixels = src_w * src_h, plan.size[0] * plan.size[1]
        if self._animate(source, spec, plan):
            # Frames are decoded one at a time; the resized ones are all kept.
            kept = output_pixels * source.frames * ANIMATION_BYTES_PER_PIXEL.get(spec.format, 10.0)
            cost = decode_cost(im, source_pixels) + math.ceil(
                kept + output_pixels * _encode_bytes_per_pixel(spec.format)
            )
            params = _encoder_params(spec.format, spec.quality, icc)
            loop = im.info.get("loop")
            with self.memory.reserve(cost, what, self._wait_left()):
                data = animation.write(animation.frames(im, source.frames, finish), spec.format, params, loop)
            width, height = plan.size if turn < 5 else plan.size[::-1]
            return Rendered(data, CONTENT_TYPES[spec.format], width, height, found[0])

        # Only the frame Pillow opened on, whose size _open checked, is decoded.
        policy = resampling(spec.format, spec.quality)
        box = plan.box
        drafted = False
        if policy.draft is not None and im.format in ("JPEG", "MPO"):
            # RESAMPLING's factors are for the default jpeg_draft; the setting scales them.
            factor = policy.draft * self.limits.jpeg_draft / ImageLimits.jpeg_draft
            box, drafted = _draft(im, plan, factor)
        cost = decode_cost(im, source_pixels, drafted) + math.ceil(output_pixels * _encode_bytes_per_pixel(spec.format))
        with self.memory.reserve(cost, what, self._wait_left()):
            frame = _resizable(im)
            focus = spec.focus_point
            if isinstance(spec.focus, str):
                focus, box = self._place(frame, spec, turn, src_w, src_h)
            resample = policy.after_draft if drafted else Image.Resampling.LANCZOS
            bands = self.limits.resize_bands
            frame = _upright(_scale(frame, plan.size, box, resample, policy.reducing_gap, bands), turn)
            frame, icc = _for_output(frame, spec.format, icc)
            progressive = frame.width * frame.height >= self.limits.progressive_jpeg_pixels
            data = _encode(frame, spec.format, spec.quality, icc, progressive)
            return Rendered(data, CONTENT_TYPES[spec.format], *frame.size, focus)

    @staticmethod
    def _place(
        frame: Image.Image, spec: ResizeSpec, turn: int, src_w: int, src_h: int
    ) -> tuple[tuple[float, float], Box]:
        """The point ``auto`` or ``faces`` finds in the decoded *frame* (upright fractions), and the crop it gives.

        *frame* is the source as decoded, perhaps drafted: the crop box is
        planned on the source's *src_w* × *src_h* and scaled to *frame*.
        """
        assert isinstance(spec.focus, str)
        point = upright_point(attention.find_point(frame, spec.focus), turn)
        box = layout(src_w, src_h, spec, turn, point).box
        scale_x, scale_y = frame.width / src_w, frame.height / src_h
        return point, (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y)


def decode_cost(im: Image.Image, pixels: int, drafted: bool = False) -> int:
    """Bytes that decoding and resizing *im* (opened, not yet loaded) may cost at its peak.

    *pixels* (the source's, as stored: a draft changes ``im.size``) times
    :data:`BYTES_PER_PIXEL` of its kind; *drafted*: a JPEG is decoded at 1/2
    to 1/8 scale (which spares a progressive one nothing).
    """
    fmt = "JPEG" if im.format == "MPO" else (im.format or "")
    mode = im.mode
    transparent = "transparency" in im.info
    if fmt in ("PNG", "GIF"):
        variant = "" if mode in ("RGB", "L", "1", "P") and not transparent else "alpha"
    elif fmt == "JPEG":
        if mode == "CMYK":
            variant = "cmyk"
        elif "progressive" in im.info or "progression" in im.info:
            variant = "progressive" if JpegImagePlugin.get_sampling(im) == 2 else "full"
        else:
            variant = "drafted" if drafted else "full"
    else:
        variant = ""
    return math.ceil(pixels * BYTES_PER_PIXEL.get((fmt, variant), OTHER_BYTES_PER_PIXEL))


def _encode_bytes_per_pixel(fmt: str) -> float:
    return ENCODE_BYTES_PER_PIXEL.get(fmt, max(ENCODE_BYTES_PER_PIXEL.values()))


@contextmanager
def _trimmed() -> Iterator[None]:
    """After a large reservation, once the work (and every local of it) is done: :func:`release_free_memory`.

    Not at the end of the reservation: the image is still open then, and
    Pillow's WebP decoder keeps its canvases until the image object is gone.
    """
    try:
        yield
    finally:
        if getattr(_this_thread, "trim", False):
            _this_thread.trim = False
            release_free_memory()


@contextmanager
def _guard() -> Iterator[None]:
    """Turn whatever a decoder raises on hostile input into our errors.

    Decoders raise OSError, SyntaxError, ValueError, EOFError, struct.error,
    IndexError... on malformed files; every one means "not an image we can use".
    """
    try:
        yield
    except MediaError:
        raise
    except MemoryError as exc:
        # The process is out of memory now, not the file at fault: answered as
        # Busy (503, try again), and a direct upload being confirmed is kept.
        raise Busy("not enough memory to work on this image now; try again shortly") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own ceiling (about 179 MP) applies even if max_pixels is higher;
        # the warning only arrives as an exception when warnings are errors.
        raise ImageTooLarge(f"image is too large to decode: {exc}") from exc
    except Exception as exc:
        raise NotAnImage(f"cannot decode image: {type(exc).__name__}: {exc}") from exc


def _decode_cheaply(im: Image.Image) -> None:
    """Decode *im*'s current frame at the smallest scale its decoder offers, and drop the pixels."""
    if im.format in ("JPEG", "MPO"):
        im.draft(im.mode, (1, 1))  # libjpeg's 1/8 scale, still reading the whole entropy stream
    _load_checked(im)


def _load_checked(im: Image.Image) -> None:
    """Load *im*'s current frame: :class:`NotAnImage` when its pixel data is corrupt or cut short."""
    try:
        im.load()
    except (MediaError, MemoryError, Image.DecompressionBombError):
        raise  # _guard's to map
    except Exception as exc:
        raise NotAnImage("image data is corrupt or cut short") from exc


def _draft_size(im: Image.Image, plan: Layout, draft: float | None, jpeg_draft: int) -> tuple[int, int] | None:
    """The size :func:`_draft` would ask libjpeg for, for *plan* with a policy's *draft*; None: no draft."""
    if draft is None or im.format not in ("JPEG", "MPO"):
        return None
    factor = draft * jpeg_draft / ImageLimits.jpeg_draft
    box = plan.box
    out_w, out_h = plan.size
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    if out_w * factor * 2 > box_w or out_h * factor * 2 > box_h:
        return None
    src_w, src_h = im.size
    return (
        max(1, math.ceil(src_w * factor * out_w / box_w)),
        max(1, math.ceil(src_h * factor * out_h / box_h)),
    )


def rung_sizes(im: Image.Image, frames: int = 1) -> list[tuple[int, int]]:
    """The sizes of the ladder *im* (opened, not loaded) gets, largest first; none for an animation.

    >>> rung_sizes(Image.new("RGB", (4000, 3000)))
    [(2000, 1500), (1000, 750), (500, 375)]
    """
    ours = im.format is None or im.format in _LADDER_SOURCES  # None: made in memory
    if frames > 1 or not ours or im.mode == "CMYK":
        return []
    width, height = im.size
    if im.format in ("JPEG", "MPO"):
        # libjpeg's scaled sizes: rounded up.
        sizes = [(-(-width // d), -(-height // d)) for d in LADDER_DIVISORS]
    else:
        sizes = [(max(1, _round_div(width, d)), max(1, _round_div(height, d))) for d in LADDER_DIVISORS]
    return [size for size in sizes if max(size) >= MIN_RUNG_SIDE]


def within_share(rungs: Sequence[Rendered], original_bytes: int) -> tuple[Rendered, ...]:
    """*rungs* (largest first) less the largest, until they take at most :data:`LADDER_SHARE` of *original_bytes*."""
    kept = list(rungs)
    while kept and sum(len(r.data) for r in kept) > LADDER_SHARE * original_bytes:
        kept.pop(0)
    return tuple(kept)


def _decode_for_rungs(im: Image.Image, sizes: list[tuple[int, int]]) -> tuple[Rendered, ...]:
    """Decode *im* (opened, not loaded) and make a rung of each of *sizes* (largest first, halving).

    A JPEG is decoded at libjpeg's scale of the largest rung (1/2: the very
    pixels a drafted resize of the original starts from), and each smaller
    rung is the 2x2 average of the one above (faster than decoding again at
    1/4 and 1/8, and closer to a full decode: ``bench_ladder.py --formats``).
    Any other source is decoded whole, and each rung made from the one
    above by a 2:1 step of :data:`RUNG_FILTER`.
    """
    icc = im.info.get("icc_profile") or None
    jpeg = im.format in ("JPEG", "MPO")
    if jpeg:
        im.draft(im.mode, sizes[0])
    _load_checked(im)
    frame = _resizable(im)
    if frame.mode not in ("RGB", "L", "RGBA", "LA"):
        frame = frame.convert("RGBA" if "A" in frame.mode else "RGB")
    frames = []
    for size in sizes:
        if frame.size == size:
            pass
        elif jpeg and (-(-frame.width // 2), -(-frame.height // 2)) == size:
            frame = frame.reduce(2)
        else:
            frame = frame.resize(size, Image.Resampling.BOX if jpeg else RUNG_FILTER)
        frames.append(frame)
    rungs = []
    for frame in frames:
        fmt = "jpg" if jpeg and frame.mode in ("RGB", "L") else RUNG_OTHER_FORMAT
        out, out_icc = _for_output(frame.copy(), fmt, icc)
        out.info = {}
        params = dict(RUNG_ENCODERS[fmt])
        if out_icc:
            params["icc_profile"] = out_icc
        buf = io.BytesIO()
        out.save(buf, PILLOW_WRITER[fmt], **params)
        lossless = fmt == "png" or bool(params.get("lossless"))
        rungs.append(Rendered(buf.getvalue(), CONTENT_TYPES[fmt], *out.size, lossless))
    return tuple(rungs)


def _small_copy(im: Image.Image, turn: int) -> Image.Image:
    """*im* (loaded) upright, in RGBA, at most :data:`~s3media_wsgi.placeholders.MAX_SIDE` a side."""
    side = placeholders.MAX_SIDE

    def within(most: int) -> tuple[int, int]:
        factor = max(im.width, im.height) / most
        if factor <= 1:
            return im.size
        return max(1, round(im.width / factor)), max(1, round(im.height / factor))

    if im.mode in ("P", "PA", "1"):
        # Palettes cannot be filtered: a nearest-neighbour step down first, so only a small copy is converted.
        im = im.resize(within(side * 4), Image.Resampling.NEAREST)
    im = _resizable(im)
    small = im.resize(within(side), Image.Resampling.BOX, reducing_gap=2.0)
    return _upright(small.convert("RGBA"), turn)


def _draft(im: Image.Image, plan: Layout, factor: float) -> tuple[Box, bool]:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale, keeping at least *factor* times the output.

    Returns *plan*'s box in the drafted pixels, and whether a draft was made.
    """
    box = plan.box
    out_w, out_h = plan.size
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    if out_w * factor * 2 > box_w or out_h * factor * 2 > box_h:
        return box, False  # not even 1/2 scale would do
    src_w, src_h = im.size
    wanted = (
        max(1, math.ceil(src_w * factor * out_w / box_w)),
        max(1, math.ceil(src_h * factor * out_h / box_h)),
    )
    drafted = im.draft(im.mode, wanted)
    if drafted is None:
        return box, False
    scale_x, scale_y = drafted[1][2] / src_w, drafted[1][3] / src_h
    return (box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y), drafted[1][2] < src_w


def _resizable(im: Image.Image) -> Image.Image:
    """*im* in a mode that Lanczos treats correctly (palette and bilevel cannot be filtered)."""
    mode = im.mode
    if mode in ("P", "PA"):
        return im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    if mode in ("RGB", "L") and "transparency" in im.info:
        # A PNG colour key (tRNS): make it a real alpha channel before filtering.
        return im.convert("RGBA" if mode == "RGB" else "LA")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I") or mode == "F":
        # 16-bit samples: scale to 8 bits rather than let convert() clip at 255.
        return im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if mode in ("RGBX", "YCbCr", "LAB", "HSV"):
        return im.convert("RGB")
    if mode in ("La", "RGBa"):
        return im.convert(mode.upper())
    return im


def _scale(
    im: Image.Image,
    size: tuple[int, int],
    box: Box,
    resample: Image.Resampling = Image.Resampling.LANCZOS,
    reducing_gap: float | None = None,
    bands: int = 1,
) -> Image.Image:
    if size == (box[2] - box[0], box[3] - box[1]) and all(float(v).is_integer() for v in box):
        if box == (0, 0, *im.size):
            return im
        return im.crop(box)
    return banded.resize(im, size, resample, box, reducing_gap, bands)


def _upright(im: Image.Image, turn: int) -> Image.Image:
    method = _UPRIGHT.get(turn)
    return im.transpose(method) if method is not None else im


def _for_output(im: Image.Image, fmt: str, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """Convert to a mode *fmt* can store, returning the ICC profile that still applies."""
    if im.mode == "CMYK":
        im, icc = _cmyk_to_rgb(im, icc), None
    if fmt == "jpg":
        if im.mode in ("RGBA", "LA"):
            im = _flatten(im)
        elif im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
    elif fmt in ("webp", "avif"):
        if im.mode in ("L", "LA"):
            # A grey profile cannot describe RGB pixels.
            im, icc = im.convert("RGBA" if im.mode == "LA" else "RGB"), None
        elif im.mode not in ("RGB", "RGBA"):
            im = im.convert("RGB")
    elif fmt == "png" and im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGB")
    elif fmt == "gif" and im.mode == "LA":
        # Pillow writes LA to GIF without its transparency; RGBA keeps it.
        im = im.convert("RGBA")
    return im, icc


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _sRGB, outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a profile lcms rejects: fall back to the naive formula
    return im.convert("RGB")


def _flatten(im: Image.Image) -> Image.Image:
    """*im* (RGBA or LA) over a white page, as RGB or L."""
    grey = im.mode == "LA"
    page = Image.new("L" if grey else "RGB", im.size, 255 if grey else _WHITE)
    page.paste(im.convert("L" if grey else "RGB"), mask=im.getchannel("A"))
    return page


def _encoder_params(fmt: str, quality: int, icc: bytes | None, progressive: bool = False) -> dict[str, Any]:
    params: dict[str, Any]
    if fmt == "jpg":
        params = {"quality": quality, "optimize": True}
        if progressive:
            params["progressive"] = True
    elif fmt == "webp":
        params = {"quality": quality, "method": WEBP_METHOD}
    elif fmt == "avif":
        params = {"quality": quality, "speed": AVIF_SPEED}
    elif fmt == "png":
        params = {"compress_level": PNG_COMPRESS_LEVEL}
    else:
        params = {}
    if icc and fmt != "gif":
        params["icc_profile"] = icc
    return params


def _encode(im: Image.Image, fmt: str, quality: int, icc: bytes | None, progressive: bool = False) -> bytes:
    # Encoders read comments, EXIF, XMP and text chunks from info: start empty.
    im.info = {}
    buf = io.BytesIO()
    im.save(buf, PILLOW_WRITER[fmt], **_encoder_params(fmt, quality, icc, progressive))
    return buf.getvalue()


__all__ = [
    "CONTENT_TYPES",
    "RESAMPLING",
    "ImageEngine",
    "ImageInfo",
    "ImageLimits",
    "Layout",
    "Original",
    "Rendered",
    "Resampling",
    "layout",
    "orientation",
    "resampling",
    "stored_point",
    "upright_point",
]
