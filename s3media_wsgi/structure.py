"""Walk an image file's container structure before any decoder sees it.

A decoder trusts the file's structure: Pillow keeps one Python object for
every JPEG APP segment and every GIF comment sub-block (a flood of empty
ones costs 35-45 times the file's size in memory), libjpeg runs every
progressive scan over every block the header declares, and a file cut short
is accepted when only its header is read, then fails at every resize.  :func:`check` walks the
segments, chunks, blocks or boxes of JPEG, PNG, GIF, WebP and ISO-BMFF
(AVIF, HEIC) files without decoding a pixel, in time linear in the file and
bounded by the caps below, and refuses:

* a file cut short (no JPEG EOI after its scans, no PNG IEND, no GIF trailer,
  a chunk or box running past the end);
* more segments, chunks, sub-blocks or boxes than any real file has, which is
  what a flood of empty ones (the cheap way to make a decoder allocate) needs;
* more than ``max_metadata_bytes`` of metadata (APPn and COM segments, PNG
  ancillary chunks, GIF extensions other than graphic control, WebP
  EXIF/XMP/ICCP chunks): :class:`ImageTooLarge`;
* a JPEG with more than ``max_jpeg_scans`` scans: :class:`ImageTooLarge`.

    >>> check(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(12), max_metadata_bytes=1024, max_jpeg_scans=64)
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.NotAnImage: PNG is truncated: no IEND chunk

The caps on counts are module constants, not settings: real files stay far
below them, and they only bound work.  Where real encoders are lenient the
walk is too: bytes after a JPEG's first EOI (an MPO's other pictures), after
PNG IEND or after the RIFF size, and an ISO-BMFF box of size 0 ("to the end
of the file") are accepted.

GIF gets more: :func:`scan_gif` also reads every frame descriptor, since a
GIF frame may be larger than the header says and Pillow grows the picture to
hold it; the engine checks that size before Pillow opens the file.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import ImageTooLarge, NotAnImage

#: Segments a JPEG may have before its first scan: Pillow reads those in
#: Python and keeps each APP/COM one in a list.  Real files have a few to a
#: few hundred (an ICC profile is split into at most 255 APP2 segments).
MAX_JPEG_HEADER_SEGMENTS = 1024
#: Segments in the whole JPEG (progressive files add a DHT and an SOS per scan).
MAX_JPEG_SEGMENTS = 4096
#: Bytes between segments before the first scan that start no segment.  Pillow
#: and libjpeg skip them one by one; some cameras leave a few.
MAX_JPEG_STRAY_BYTES = 64 * 1024
#: PNG chunks other than the pixel data (IDAT, fdAT) and APNG frame controls (fcTL).
MAX_PNG_CHUNKS = 1024
#: WebP chunks other than animation frames (ANMF).
MAX_RIFF_CHUNKS = 1024
#: Top-level ISO-BMFF boxes (a HEIC or AVIF file has a handful).
MAX_BMFF_BOXES = 1024
#: Repeated structures (GIF frames and sub-blocks, WebP frames, APNG frame
#: chunks) get this many, plus one per :data:`BYTES_PER_STEP` bytes of file.
#: Real files have far fewer (GIF encoders write 255-byte sub-blocks); a
#: flood of 1-byte GIF sub-blocks (2 bytes each) is refused after walking
#: 1/32 of it.
BASE_STEPS = 4096
BYTES_PER_STEP = 64
#: PNG IDAT chunks get :data:`BASE_STEPS` plus one per this many bytes:
#: Pillow reads each in Python while decoding (~3 us a chunk), and encoders
#: write 8 KiB (libpng) to 64 KiB (Pillow) or one chunk for everything.
BYTES_PER_IDAT = 1024
#: Graphic control extensions a GIF may have beyond one per frame.
MAX_SPARE_GIF_CONTROLS = 64

#: The two GIF signatures (Pillow opens a file as GIF on the same test).
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The next JPEG marker: 0xFF and a byte that is not a stuffed zero, a fill
# 0xFF or a restart marker (RST0-7 sit inside entropy-coded data).  Two fixed
# bytes, so search() is linear however many 0xFF a file holds.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xff\xd0-\xd7]")
_SOI, _EOI, _SOS, _COM, _TEM = 0xD8, 0xD9, 0xDA, 0xFE, 0x01

_EXTENSION, _IMAGE, _TRAILER = 0x21, 0x2C, 0x3B
_GRAPHIC_CONTROL, _COMMENT, _APPLICATION = 0xF9, 0xFE, 0xFF
_GRAPHIC_CONTROL_BLOCK = b"\x21\xf9\x04"

_APNG_FRAME_DATA = frozenset({b"fdAT", b"fcTL"})
_PNG_CRITICAL = frozenset({b"IHDR", b"PLTE"})
_RIFF_METADATA = frozenset({b"EXIF", b"XMP ", b"ICCP"})


def steps_allowed(data: bytes) -> int:
    """How many repeated structures (frames, sub-blocks, data chunks) *data* may hold.

    >>> steps_allowed(bytes(64 * 1000))
    5096
    """
    return BASE_STEPS + len(data) // BYTES_PER_STEP


def check(data: bytes, *, max_metadata_bytes: int, max_jpeg_scans: int) -> None:
    """Walk *data*'s container; raise if it is cut short, flooded or over a limit.

    Raises :class:`NotAnImage` for a file that is not JPEG, PNG, GIF, WebP
    or ISO-BMFF, or is malformed, truncated or flooded; :class:`ImageTooLarge`
    over ``max_metadata_bytes`` or ``max_jpeg_scans``.

    >>> check(b"\\xff\\xd8\\xff\\xd9", max_metadata_bytes=1024, max_jpeg_scans=64)
    Traceback (most recent call last):
    ...
    s3media_wsgi.errors.NotAnImage: JPEG has no scan
    """
    if data.startswith(b"\xff\xd8\xff"):
        walk_jpeg(data, max_metadata_bytes, max_jpeg_scans)
    elif data.startswith(_PNG_SIGNATURE):
        walk_png(data, max_metadata_bytes)
    elif data.startswith(GIF_SIGNATURES):
        scan_gif(data, 0, max_metadata_bytes)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        walk_riff(data, max_metadata_bytes)
    elif data[4:8] == b"ftyp":
        walk_bmff(data)
    else:
        raise NotAnImage("not a JPEG, PNG, GIF, WebP or ISO-BMFF file")


def _over_metadata(total: int, limit: int) -> None:
    if total > limit:
        raise ImageTooLarge(f"image carries more than max_metadata_bytes={limit} bytes of metadata")


# --- JPEG ---------------------------------------------------------------------------


def walk_jpeg(data: bytes, max_metadata_bytes: int, max_scans: int) -> None:
    """Walk the segments of a JPEG up to its first EOI, counting scans and metadata.

    Segments are skipped by their length; entropy-coded data (after each SOS
    header) and stray bytes are skipped with one regex search for the next
    marker, in C.  Bytes after the first EOI are not looked at: an MPO's
    other pictures live there, and only the first is ever decoded.
    """
    end = len(data)
    pos = 2
    segments = scans = metadata = stray = 0
    find = _JPEG_MARKER.search
    while True:
        found = find(data, pos)
        if found is None:
            where = "after its last scan" if scans else "before any scan"
            raise NotAnImage(f"JPEG is truncated: no EOI marker {where}")
        at = found.start()
        if not scans:
            stray += at - pos
            if stray > MAX_JPEG_STRAY_BYTES:
                raise NotAnImage(f"JPEG has over {MAX_JPEG_STRAY_BYTES} stray bytes between its segments")
        marker = data[at + 1]
        pos = at + 2
        if marker == _EOI:
            if not scans:
                raise NotAnImage("JPEG has no scan")
            return
        if marker == _SOI:
            raise NotAnImage(f"JPEG has a second SOI marker at offset {at}")
        segments += 1
        cap = MAX_JPEG_SEGMENTS if scans else MAX_JPEG_HEADER_SEGMENTS
        if segments > cap:
            where = "in all" if scans else "before its first scan"
            raise NotAnImage(f"JPEG has over {cap} segments {where}")
        if marker == _TEM:
            continue  # the one marker without a length that is not a restart
        if pos + 2 > end:
            raise NotAnImage(f"JPEG is truncated: segment 0xFF{marker:02X} at offset {at} has no length")
        length = (data[pos] << 8) | data[pos + 1]
        if length < 2:
            raise NotAnImage(f"JPEG segment 0xFF{marker:02X} at offset {at} has length {length}")
        pos += length
        if pos > end:
            raise NotAnImage(f"JPEG is truncated: segment 0xFF{marker:02X} at offset {at} runs past the end")
        if 0xE0 <= marker <= 0xEF or marker == _COM:
            metadata += length - 2
            _over_metadata(metadata, max_metadata_bytes)
        elif marker == _SOS:
            scans += 1
            if scans > max_scans:
                raise ImageTooLarge(f"JPEG has more than max_jpeg_scans={max_scans} scans")


# --- PNG ----------------------------------------------------------------------------


def walk_png(data: bytes, max_metadata_bytes: int) -> None:
    """Walk the chunks of a PNG up to IEND.

    Pixel data chunks (IDAT, and APNG's fdAT and fcTL) get allowances that
    grow with the file; every other chunk counts against
    :data:`MAX_PNG_CHUNKS`, and all but IHDR and PLTE are metadata.
    """
    end = len(data)
    pos = len(_PNG_SIGNATURE)
    idat = frame_chunks = other = metadata = 0
    idat_allowed = BASE_STEPS + end // BYTES_PER_IDAT
    allowed = steps_allowed(data)
    while True:
        if pos + 8 > end:
            raise NotAnImage("PNG is truncated: no IEND chunk")
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        after = pos + 12 + length  # length, type, data, CRC
        if after > end:
            raise NotAnImage(f"PNG chunk {kind!r} at offset {pos} runs past the end of the file")
        if kind == b"IEND":
            return
        if kind == b"IDAT":
            idat += 1
            if idat > idat_allowed:
                raise NotAnImage(f"PNG has over {idat_allowed} image data chunks for its size")
        elif kind in _APNG_FRAME_DATA:
            frame_chunks += 1
            if frame_chunks > allowed:
                raise NotAnImage(f"PNG has over {allowed} animation frame chunks for its size")
        else:
            other += 1
            if other > MAX_PNG_CHUNKS:
                raise NotAnImage(f"PNG has over {MAX_PNG_CHUNKS} chunks besides its image data")
            if kind not in _PNG_CRITICAL:
                metadata += length
                _over_metadata(metadata, max_metadata_bytes)
        pos = after


# --- WebP (RIFF) ----------------------------------------------------------------------


def walk_riff(data: bytes, max_metadata_bytes: int) -> None:
    """Walk the chunks of a RIFF (WebP) file within the size its header declares.

    libwebp calls a file shorter than its RIFF size truncated, and so do we;
    bytes after that size are ignored, as libwebp does.
    """
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    if riff_end > len(data):
        raise NotAnImage(f"RIFF is truncated: its header says {riff_end} bytes, the file has {len(data)}")
    pos = 12
    frames = other = metadata = 0
    allowed = steps_allowed(data)
    while pos + 8 <= riff_end:
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        after = pos + 8 + size
        if after > riff_end:
            raise NotAnImage(f"RIFF chunk {kind!r} at offset {pos} runs past the end of the file")
        if kind == b"ANMF":
            frames += 1
            if frames > allowed:
                raise NotAnImage(f"WebP has over {allowed} frames for its size")
        else:
            other += 1
            if other > MAX_RIFF_CHUNKS:
                raise NotAnImage(f"WebP has over {MAX_RIFF_CHUNKS} chunks besides its frames")
            if kind in _RIFF_METADATA:
                metadata += size
                _over_metadata(metadata, max_metadata_bytes)
        pos = after + (size & 1)  # chunks are padded to an even length
    if pos == 12:
        raise NotAnImage("RIFF has no chunk")


# --- ISO-BMFF (AVIF, HEIC) --------------------------------------------------------------


def walk_bmff(data: bytes) -> None:
    """Walk the top-level boxes of an ISO base media file (AVIF, HEIC).

    Only the top level: metadata items (EXIF, XMP) live inside ``mdat`` and
    are located through ``meta``, which is for libavif/libheif to read.
    """
    end = len(data)
    pos = boxes = 0
    while pos < end:
        if pos + 8 > end:
            raise NotAnImage(f"ISO-BMFF is truncated: box header at offset {pos} is cut off")
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if pos + 16 > end:
                raise NotAnImage(f"ISO-BMFF is truncated: box {kind!r} at offset {pos} is cut off")
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:  # the last box, to the end of the file
            size = end - pos
        if size < header:
            raise NotAnImage(f"ISO-BMFF box {kind!r} at offset {pos} has size {size}")
        if pos + size > end:
            raise NotAnImage(f"ISO-BMFF box {kind!r} at offset {pos} runs past the end of the file")
        boxes += 1
        if boxes > MAX_BMFF_BOXES:
            raise NotAnImage(f"ISO-BMFF has over {MAX_BMFF_BOXES} top-level boxes")
        pos += size


# --- GIF ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GifLayout:
    """What :func:`scan_gif` found: how many frames, and the canvas they need.

    ``canvas`` is the logical screen grown to hold every frame counted, which
    is the size Pillow would grow the picture to while decoding them.

    >>> GifLayout(frames=3, canvas=(10, 10)).canvas
    (10, 10)
    """

    frames: int
    canvas: tuple[int, int]


def scan_gif(data: bytes, limit: int, max_metadata_bytes: int) -> GifLayout:
    """Walk every block of the GIF *data* to its trailer; count frames up to ``limit + 1``.

    No pixel is decoded.  Frames and their sizes are counted up to
    ``limit + 1`` (past any frame cap only the first frame is decoded, so
    later ones change nothing); the walk goes on to the trailer, so that a
    file cut short is refused.

    The walk is strict where Pillow's reader is lenient, so that the two can
    never disagree about where the frames are: a byte between blocks that
    starts no block, an extension whose data begins with an empty sub-block,
    or a ``NETSCAPE2.0`` block without its loop sub-block make Pillow read the
    following bytes differently (as sub-block lengths, or skip them), which a
    crafted file uses to hide frames.  Such files are refused.

    It is bounded: frames, extensions other than graphic control, and every
    sub-block after the first of its chain count against
    :func:`steps_allowed`; graphic control extensions may outnumber frames by
    :data:`MAX_SPARE_GIF_CONTROLS`; the data of the other extensions
    (comments, application blocks) is metadata.

    >>> screen = b"GIF89a" + (2).to_bytes(2, "little") + (1).to_bytes(2, "little") + bytes(3)
    >>> scan_gif(screen + b";", 100, 1024)  # a 2 x 1 screen and no frame
    GifLayout(frames=0, canvas=(2, 1))

    Raises :class:`NotAnImage` when *data* is not a GIF this walk can vouch
    for, :class:`ImageTooLarge` over *max_metadata_bytes*.
    """
    if len(data) < 13 or not data.startswith(GIF_SIGNATURES):
        raise NotAnImage("not a GIF")
    width, height = struct.unpack_from("<HH", data, 6)
    pos = 13 + _colour_table_size(data[10])
    end = len(data)
    steps = steps_allowed(data)  # what is left of the allowance
    frames = counted = controls = metadata = 0
    while True:
        if pos >= end:
            raise NotAnImage("GIF is truncated: no trailer")
        block = data[pos]
        if block == _IMAGE:
            if pos + 10 > end:
                raise NotAnImage("GIF is truncated: frame descriptor cut off")
            frames += 1
            if counted <= limit:
                left, top, w, h = struct.unpack_from("<4H", data, pos + 1)
                width, height = max(width, left + w), max(height, top + h)
                counted += 1
            # Local colour table, then the LZW code size byte, then the data.
            pos += 11 + _colour_table_size(data[pos + 9])
            pos, extra, _ = _skip_sub_blocks(data, pos, steps)
            steps -= 1 + extra
        elif block == _EXTENSION:
            if data.startswith(_GRAPHIC_CONTROL_BLOCK, pos) and pos + 7 < end and data[pos + 7] == 0:
                # The one shape encoders write (4 bytes of data, then the end),
                # skipped in one step: a GIF has one for nearly every frame.
                pos += 8
                extra = 0
                label = _GRAPHIC_CONTROL
            else:
                _check_extension(data, pos + 1)
                label = data[pos + 1]
                pos, extra, size = _skip_sub_blocks(data, pos + 2, steps)
            if label == _GRAPHIC_CONTROL:
                controls += 1
                if controls > frames + 1 + MAX_SPARE_GIF_CONTROLS:
                    raise NotAnImage("GIF has more graphic control extensions than frames")
                steps -= extra
            else:
                steps -= 1 + extra
                metadata += size
                _over_metadata(metadata, max_metadata_bytes)
        elif block == _TRAILER:
            return GifLayout(counted, (width, height))
        else:
            raise NotAnImage(f"GIF has a stray byte 0x{block:02x} at offset {pos}")
        if steps < 0:
            raise NotAnImage(f"GIF has over {steps_allowed(data)} blocks and sub-blocks for its size")


def _check_extension(data: bytes, pos: int) -> None:
    """Refuse an extension (label at *pos*) whose start Pillow reads differently."""
    if pos + 1 >= len(data):
        raise NotAnImage("GIF is truncated: extension cut off")
    label, first = data[pos], data[pos + 1]
    # Pillow reads one sub-block before looking for the end of the chain: an
    # empty first sub-block (other than a comment's) makes it take the next
    # byte as a length.
    if first == 0 and label != _COMMENT:
        raise NotAnImage(f"GIF extension 0x{label:02x} at offset {pos - 1} has no data")
    if label == _APPLICATION and data[pos + 2 : pos + 13] == b"NETSCAPE2.0":
        loop_at = pos + 2 + first
        # Likewise for the loop sub-block Pillow reads after the identifier.
        if loop_at >= len(data) or data[loop_at] == 0:
            raise NotAnImage(f"GIF NETSCAPE2.0 block at offset {pos - 1} has no loop data")


def _colour_table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int, most: int) -> tuple[int, int, int]:
    """Skip the chain of sub-blocks at *pos*: each a length byte and that many bytes, ended by a zero length.

    Returns the position after the chain, how many sub-blocks it had after
    the first, and how many data bytes.  Stops as soon as more than *most*
    sub-blocks after the first are seen (the caller then refuses the file).
    """
    end = len(data)
    start = pos
    count = 0
    while pos < end:
        size = data[pos]
        if not size:
            return pos + 1, count - 1 if count else 0, pos - start - count
        count += 1
        if count > most + 1:
            return pos, count - 1, pos - start - count
        pos += 1 + size
    raise NotAnImage("GIF is truncated: a block runs past the end of the file")


__all__ = [
    "BASE_STEPS",
    "BYTES_PER_IDAT",
    "BYTES_PER_STEP",
    "GIF_SIGNATURES",
    "MAX_BMFF_BOXES",
    "MAX_JPEG_HEADER_SEGMENTS",
    "MAX_JPEG_SEGMENTS",
    "MAX_JPEG_STRAY_BYTES",
    "MAX_PNG_CHUNKS",
    "MAX_RIFF_CHUNKS",
    "MAX_SPARE_GIF_CONTROLS",
    "GifLayout",
    "check",
    "scan_gif",
    "steps_allowed",
    "walk_bmff",
    "walk_jpeg",
    "walk_png",
    "walk_riff",
]
