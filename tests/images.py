"""Real images made with Pillow, for tests and benchmarks."""

from __future__ import annotations

import functools
import io
import math
import struct
import zlib

from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw, ImageFont

#: Colours of the four quadrants of :func:`quadrants` (top-left, top-right, bottom-left, bottom-right).
QUADRANT_COLOURS = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 30))

#: Secrets planted in :func:`jpeg_with_metadata`; none may survive a resize.
GPS_LATITUDE = (51.0, 30.0, 26.0)
XMP_SECRET = b"xmp-secret-location-home"
COMMENT_SECRET = b"comment-secret-phone-555"


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A smooth picture with detail in both directions (not a flat colour)."""
    x = Image.linear_gradient("L").resize((width, height))
    y = x.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    bands = [x, y, Image.effect_mandelbrot((width, height), (-2, -1.25, 0.75, 1.25), 64)]
    img = Image.merge("RGB", bands)
    if mode == "RGBA":
        alpha = Image.radial_gradient("L").resize((width, height))
        img.putalpha(alpha)
    return img.convert(mode) if img.mode != mode else img


def photo(width: int, height: int, grain: float = 12.0) -> Image.Image:
    """A photo-like RGB picture: :func:`gradient` plus Gaussian sensor grain."""
    base = gradient(width, height)
    noise = Image.effect_noise((width, height), grain).convert("RGB")
    return ImageChops.add(base, noise, scale=1.0, offset=-128)


def line_art(width: int, height: int) -> Image.Image:
    """Thin lines (1-3 px) at many angles, circles and a grid, black and colours on white."""
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cx, cy = width / 2, height / 2
    colours = [(0, 0, 0), (200, 0, 0), (0, 0, 180), (0, 120, 0)]
    for i in range(72):  # a fan of lines: every angle, so every phase against the 8x8 blocks
        angle = math.pi * i / 72
        dx, dy = math.cos(angle) * width, math.sin(angle) * height
        draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=colours[i % 4], width=1 + i % 3)
    step = max(8, width // 60)
    for x in range(0, width // 3, step):  # a grid in the top-left third
        draw.line([(x, 0), (x, height // 3)], fill=(0, 0, 0), width=1)
    for y in range(0, height // 3, step):
        draw.line([(0, y), (width // 3, y)], fill=(0, 0, 0), width=1)
    for r in range(step, min(width, height) // 3, step * 2):  # circles in the bottom-right
        box = [width - r - step, height - r - step, width - step + r // 2, height - step + r // 2]
        draw.ellipse(box, outline=colours[(r // step) % 4], width=1 + (r // step) % 2)
    return img


def text(width: int, height: int) -> Image.Image:
    """Lines of small text (Pillow's default font at sizes from 10 px to a tenth of the height)."""
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    sizes = [s for s in (10, 12, 14, 18, 24, 32, 48, 64, 96, 128, 192, 256) if s <= height / 10]
    y, i = 4, 0
    while y < height:
        size = sizes[i % len(sizes)]
        font = ImageFont.load_default(size)
        line = f"{size}px The quick brown fox jumps over the lazy dog 0123456789 ({i}) " * 8
        draw.text((4, y), line, fill=(0, 0, 0) if i % 3 else (20, 40, 160), font=font)
        y += int(size * 1.3) + 2
        i += 1
    return img


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(width: int = 640, height: int = 480, quality: int = 90, **params) -> bytes:
    return encode(gradient(width, height), "JPEG", quality=quality, **params)


def png(width: int = 640, height: int = 480, mode: str = "RGB") -> bytes:
    return encode(gradient(width, height, mode), "PNG")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims a huge size (its data is not even there)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_cut_short(width: int = 200, height: int = 150) -> bytes:
    """A PNG whose container is whole (every chunk, CRC and IEND) but whose compressed pixels stop halfway."""
    pixels = zlib.compress(b"".join(b"\0" + bytes(range(256)) * (width * 3 // 256) + bytes(width * 3 % 256)
                                    for _ in range(height)))  # fmt: skip
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    half = pixels[: len(pixels) // 2]
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", half) + png_chunk(b"IEND", b"")


def jpeg_with_bad_marker(width: int = 200, height: int = 150) -> bytes:
    """A JPEG whose scan holds a reserved marker (0xFF02): its container walks, libjpeg gives up decoding."""
    data = encode(photo(width, height), "JPEG", quality=90)
    at = data.index(b"\xff\xda") + 200
    bad = b"\xff\x02\x00\x04ab"
    return data[:at] + bad + data[at + len(bad) :]


# --- orientation ---------------------------------------------------------------


def quadrants(width: int = 120, height: int = 80) -> Image.Image:
    """An upright picture whose four quadrants have the colours of QUADRANT_COLOURS."""
    img = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    boxes = (
        (0, 0, half_w, half_h),
        (half_w, 0, width, half_h),
        (0, half_h, half_w, height),
        (half_w, half_h, width, height),
    )
    for box, colour in zip(boxes, QUADRANT_COLOURS):
        img.paste(colour, box)
    return img


# How a camera stores an upright picture for each EXIF orientation: the inverse
# of the transform a viewer applies (orientation 6 is shown turned 90° clockwise,
# so it is stored turned 90° anticlockwise).
_STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(orientation: int, width: int = 120, height: int = 80, fmt: str = "JPEG") -> bytes:
    """A picture that shows :func:`quadrants(width, height)` upright once EXIF *orientation* is applied."""
    upright = quadrants(width, height)
    method = _STORED_AS[orientation]
    stored = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    params = {"quality": 95} if fmt == "JPEG" else {}
    return encode(stored, fmt, exif=exif, **params)


# --- metadata --------------------------------------------------------------------


def jpeg_with_metadata(width: int = 200, height: int = 150) -> bytes:
    """A JPEG carrying EXIF (with GPS), XMP and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "Model-X"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + XMP_SECRET + b"</x:xmpmeta>"
    return encode(gradient(width, height), "JPEG", quality=90, exif=exif, xmp=xmp, comment=COMMENT_SECRET)


@functools.cache
def srgb_icc() -> bytes:
    """An sRGB ICC profile made by littleCMS, once: its header holds the time it was made."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_with_icc(width: int = 200, height: int = 150) -> bytes:
    return encode(gradient(width, height), "JPEG", quality=90, icc_profile=srgb_icc())


def cmyk_jpeg(width: int = 200, height: int = 150) -> bytes:
    return encode(gradient(width, height).convert("CMYK"), "JPEG", quality=90)


# --- transparency and unusual modes ----------------------------------------------


def half_transparent(width: int = 200, height: int = 100) -> Image.Image:
    """RGBA: left half opaque red, right half fully transparent (hidden colour black)."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (0, 0, width // 2, height))
    return img


def rgba_png(width: int = 200, height: int = 100) -> bytes:
    return encode(half_transparent(width, height), "PNG")


def palette_png(width: int = 200, height: int = 100) -> bytes:
    """A P-mode PNG whose right half is the transparent palette entry."""
    img = Image.new("P", (width, height), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * (254 * 3))
    img.paste(1, (0, 0, width // 2, height))
    return encode(img, "PNG", transparency=0)


def colour_key_png(width: int = 200, height: int = 100) -> bytes:
    """An RGB PNG whose right half is the colour named transparent by its tRNS chunk."""
    img = Image.new("RGB", (width, height), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, width // 2, height))
    return encode(img, "PNG", transparency=(0, 0, 255))


def png16(width: int = 200, height: int = 100) -> bytes:
    """A 16-bit greyscale PNG: black on the left rising to near white (60000) on the right."""
    row = struct.pack(f"<{width}H", *(x * 60000 // (width - 1) for x in range(width)))
    img = Image.frombytes("I;16", (width, height), row * height)
    return encode(img, "PNG")


def bilevel_png(width: int = 200, height: int = 100) -> bytes:
    img = Image.new("1", (width, height), 0)
    img.paste(1, (0, 0, width // 2, height))
    return encode(img, "PNG")


def la_png(width: int = 200, height: int = 100) -> bytes:
    return encode(half_transparent(width, height).convert("LA"), "PNG")


# --- animation -------------------------------------------------------------------

ANIMATION_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0))
ANIMATION_DURATIONS = (100, 200, 300, 400)


def _frames(width: int, height: int, count: int) -> list[Image.Image]:
    colours = [ANIMATION_COLOURS[i % len(ANIMATION_COLOURS)] for i in range(count)]
    frames = []
    for i, colour in enumerate(colours):
        frame = Image.new("RGB", (width, height), colour)
        # A marker that moves, so no two frames are alike even when colours repeat.
        frame.paste((i * 7 % 256, 0, 0), (i % width, 0, i % width + 1, 1))
        frames.append(frame)
    return frames


def animated_gif(width: int = 120, height: int = 90, count: int = 4, loop: int | None = 0) -> bytes:
    """A GIF of *count* flat-colour frames with durations from ANIMATION_DURATIONS."""
    frames = _frames(width, height, count)
    durations = [ANIMATION_DURATIONS[i % len(ANIMATION_DURATIONS)] for i in range(count)]
    extra = {} if loop is None else {"loop": loop}
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=durations, **extra)


def animated_webp(width: int = 120, height: int = 90, count: int = 4) -> bytes:
    frames = _frames(width, height, count)
    durations = [ANIMATION_DURATIONS[i % len(ANIMATION_DURATIONS)] for i in range(count)]
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=durations, loop=0, lossless=True)


# GIFs put together block by block, to reach what no encoder writes on purpose.
#: Palette entries of the hand-made GIFs below: index 0 red, index 1 blue.
GIF_RED, GIF_BLUE = (255, 0, 0), (0, 0, 255)


def _gif_parts(width: int, height: int, index: int) -> tuple[bytes, bytes]:
    """``(header with global palette, image block)`` of a flat *width* × *height* GIF."""
    img = Image.new("P", (width, height), index)
    img.putpalette([*GIF_RED, *GIF_BLUE] + [0] * (254 * 3))
    data = encode(img, "GIF", optimize=False)
    flags = data[10]
    start = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    assert data[start] == 0x2C and data[-1] == 0x3B, "Pillow wrote an extension before the image"
    return data[:start], data[start:-1]


def _gce(delay_cs: int = 10, disposal: int = 1) -> bytes:
    """A graphic control extension: *delay_cs* hundredths of a second, then *disposal*."""
    return b"\x21\xf9\x04" + bytes([disposal << 2]) + struct.pack("<H", delay_cs) + b"\x00\x00"


def spliced_gif(screen: tuple[int, int], frames: list[tuple[int, int]], disposal: int = 2) -> bytes:
    """A GIF whose header says *screen* and whose frames have the sizes in *frames*.

    The first frame is red and the others blue, all at the top left.  Disposal
    2 (restore background) makes Pillow allocate a frame-sized background as it seeks.
    """
    head, _ = _gif_parts(*screen, 0)
    blocks: dict[tuple[int, int, int], bytes] = {}
    out = [head]
    for i, size in enumerate(frames):
        key = (*size, 0 if i == 0 else 1)
        if key not in blocks:
            blocks[key] = _gif_parts(*key)[1]
        out += [_gce(disposal=disposal), blocks[key]]
    return b"".join(out) + b"\x3b"


def gif_with_broken_frame(width: int = 60, height: int = 40, good: int = 2) -> bytes:
    """A GIF of *good* red and blue frames, then one whose LZW data is junk (its container is whole)."""
    head, red = _gif_parts(width, height, 0)
    blue = _gif_parts(width, height, 1)[1]
    broken = bytearray(blue)
    first = 10 + 1  # the image descriptor, then the LZW minimum code size: the first sub-block's length
    broken[first + 1 : first + 1 + broken[first]] = b"\xff" * broken[first]
    frames = [red if i % 2 == 0 else blue for i in range(good)] + [bytes(broken)]
    return head + b"".join(_gce(disposal=1) + frame for frame in frames) + b"\x3b"


def growing_gif(
    screen: tuple[int, int] = (10, 10), frame: tuple[int, int] = (8000, 8000), count: int = 3, first: bool = False
) -> bytes:
    """A GIF whose header says *screen* but whose *count* frames are *frame* big.

    A screen-sized first frame comes before them unless *first*.
    """
    return spliced_gif(screen, [frame] * count if first else [screen] + [frame] * count)


def many_frame_gif(count: int = 200_000) -> bytes:
    """A GIF of *count* 1 × 1 frames, about 25 bytes each."""
    return spliced_gif((1, 1), [(1, 1)] * count, disposal=1)


# --- not allowed, not images ------------------------------------------------------


def tiff(width: int = 64, height: int = 48) -> bytes:
    return encode(gradient(width, height), "TIFF")


def bmp(width: int = 64, height: int = 48) -> bytes:
    return encode(gradient(width, height), "BMP")


def truncated_jpeg(width: int = 640, height: int = 480) -> bytes:
    data = jpeg(width, height)
    return data[: len(data) // 2]


HTML = b"<!doctype html><html><script>alert(1)</script></html>"


def smuggling_gif(hidden: tuple[int, int] = (13000, 13000), netscape_loop: bool = False) -> bytes:
    """A GIF whose NETSCAPE2.0 block lacks its loop sub-block, hiding a frame of size *hidden*.

    Pillow reads one more sub-block after the NETSCAPE2.0 identifier; without
    one it takes the bytes after the chain's end as lengths and so finds frames
    inside what a strict reader sees as the pixel data of a 4 x 4 frame.  With
    *netscape_loop* the block is well formed and the file is a plain 2-frame GIF.
    """
    head, block = _gif_parts(4, 4, 0)
    lzw = block[10:]  # code size, sub-blocks and terminator of a 4 x 4 frame

    def descriptor(w: int, h: int) -> bytes:
        return b"\x2c" + struct.pack("<4HB", 0, 0, w, h, 0)

    hidden_frame = b"\x00" + _gce(disposal=2) + descriptor(*hidden) + lzw + b"\x3b"
    smuggled = (b"\x01" * 33 + hidden_frame).ljust(60, b"\x01")
    loop = b"\x03\x01\x00\x00" if netscape_loop else b""
    netscape = b"\x21\xff\x0bNETSCAPE2.0" + loop + b"\x00"
    carrier = descriptor(4, 4) + b"\x02" + bytes([len(smuggled)]) + smuggled + b"\x00"
    return head + netscape + carrier + descriptor(4, 4) + lzw + b"\x3b"


def gif_with_stray_bytes(count: int = 1000) -> bytes:
    """A one-frame GIF whose trailer is replaced by *count* bytes that start no block."""
    head, block = _gif_parts(2, 2, 0)
    return head + block + b"\x00" * count


# --- hostile structure: floods, endless scans, cut-off files ---------------------------

MiB = 1024 * 1024


def gif_comment_flood(size: int = 20 * MiB) -> bytes:
    """A one-frame GIF of about *size* bytes, nearly all a comment made of 1-byte sub-blocks.

    Pillow keeps every sub-block as its own ``bytes`` before joining them:
    about 45 bytes of memory for each 2 bytes of file.
    """
    head, block = _gif_parts(2, 2, 0)
    count = max(1, (size - len(head) - len(block)) // 2)
    return head + b"\x21\xfe" + b"\x01C" * count + b"\x00" + block + b"\x3b"


def jpeg_app_flood(size: int = 20 * MiB, marker: int = 0xEF) -> bytes:
    """A small real JPEG with about *size* bytes of empty APPn segments (``FF EF 00 02``) after SOI.

    Pillow keeps a list entry for every APP segment: ~150 bytes of memory per 4 bytes of file.
    """
    real = jpeg(16, 16)
    return real[:2] + bytes([0xFF, marker, 0, 2]) * max(1, size // 4) + real[2:]


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """``(marker, start, end)`` of each marker segment of the JPEG *data* up to its first SOS."""
    out, pos = [], 2
    while data[pos] == 0xFF:
        marker, length = data[pos + 1], struct.unpack_from(">H", data, pos + 2)[0]
        out.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG *data* with the size in its SOF header replaced (its pixels stay as they were)."""
    for marker, start, _ in jpeg_segments(data):
        if marker in (0xC0, 0xC1, 0xC2):
            return data[: start + 5] + struct.pack(">HH", height, width) + data[start + 9 :]
    raise ValueError("no SOF segment")


def jpeg_repeated_scans(scans: int = 2000, width: int = 7000, height: int = 7000) -> bytes:
    """A progressive JPEG declaring *width* x *height* whose last scan is repeated to *scans* scans.

    The pixels are those of a flat 16 x 16 picture, so the file stays small
    (22 KB for 2,000 scans), but libjpeg runs every scan over every block the
    header declares: seconds of CPU for each resize, while no real photo has
    more than ~20 scans.
    """
    real = encode(Image.new("RGB", (16, 16), (120, 130, 140)), "JPEG", quality=90, progressive=True)
    last_sos = real.rindex(b"\xff\xda")
    body = real[last_sos:-2]  # the last SOS and its data, without EOI
    have = real.count(b"\xff\xda")
    head = with_jpeg_size(real[:last_sos], width, height)
    return head + body * max(1, scans - have + 1) + b"\xff\xd9"


#: Where a PNG's first chunk after IHDR starts: the signature (8 bytes) and IHDR (25).
PNG_AFTER_IHDR = 8 + 25


def png_text_flood(count: int = 100_000) -> bytes:
    """A small real PNG with *count* tiny tEXt chunks (each a new key) before its pixels."""
    texts = b"".join(png_chunk(b"tEXt", b"k%d\x00v" % i) for i in range(count))
    return png_with_chunks(texts)


def jpeg_with_app_segments(total: int, marker: int = 0xE1, chunk: int = 65_000) -> bytes:
    """A real JPEG carrying *total* bytes of APPn payload in segments of at most *chunk* bytes."""
    real = jpeg(64, 48)
    segments = []
    for start in range(0, total, chunk):
        payload = b"M" * min(chunk, total - start)
        segments.append(bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload)
    return real[:2] + b"".join(segments) + real[2:]


def png_with_chunks(chunks: bytes) -> bytes:
    """A small real PNG with *chunks* (whole chunks, one after another) right after IHDR."""
    real = png(16, 16)
    return real[:PNG_AFTER_IHDR] + chunks + real[PNG_AFTER_IHDR:]


def png_rechunked(data: bytes, size: int) -> bytes:
    """The PNG *data* with its pixel data split into IDAT chunks of *size* bytes (same pixels)."""
    pos, before, compressed, after = 8, b"", b"", b""
    while pos < len(data):
        length = struct.unpack_from(">I", data, pos)[0]
        kind, chunk = data[pos + 4 : pos + 8], data[pos : pos + 12 + length]
        if kind == b"IDAT":
            compressed += chunk[8:-4]
        elif compressed:
            after += chunk
        else:
            before += chunk
        pos += 12 + length
    idats = b"".join(png_chunk(b"IDAT", compressed[i : i + size]) for i in range(0, len(compressed), size))
    return data[:8] + before + idats + after


def lossless_webp_canvas(width: int = 7071, height: int = 7071) -> bytes:
    """A lossless WebP of *width* x *height* black pixels in 28 bytes, written bit by bit.

    Its five prefix codes each have one symbol, so every pixel costs 0 bits:
    the file is all header, and decoding it costs the whole canvas (7071 x 7071
    is 50 MP, the default ``max_pixels``).  Sides up to 16384.
    """
    bits: list[int] = []

    def put(value: int, count: int) -> None:
        bits.extend((value >> i) & 1 for i in range(count))  # VP8L is read least significant bit first

    put(width - 1, 14)
    put(height - 1, 14)
    put(0, 1)  # no alpha
    put(0, 3)  # version 0
    put(0, 1)  # no transform
    put(0, 1)  # no colour cache
    put(0, 1)  # one set of prefix codes for the whole picture
    for _ in range(5):  # green and lengths, red, blue, alpha, distances
        put(1, 1)  # a "simple" code...
        put(0, 1)  # ...of one symbol...
        put(0, 1)  # ...of 1 bit...
        put(0, 1)  # ...which is 0
    payload = b"\x2f" + bytes(sum(b << j for j, b in enumerate(bits[i : i + 8])) for i in range(0, len(bits), 8))
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)  # padded to even
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


#: The kinds of subject :func:`salient_scene` draws.
SCENE_SUBJECTS = ("texture", "face", "text")


def salient_scene(
    seed: int, width: int = 960, height: int = 640, subject: str | None = None
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A quiet background with one subject at a random off-centre place: ``(image, subject's box)``.

    The subject (a textured shape, a face-like blob or a few lines of text,
    at most a quarter of the shorter side) is the only thing in the picture
    that draws the eye; *seed* fixes everything.
    """
    import random

    from PIL import ImageDraw, ImageFont

    rng = random.Random(seed)
    subject = subject or rng.choice(SCENE_SUBJECTS)
    # A pale, low-contrast gradient with a little grain: quiet, but not flat.
    top = tuple(rng.randrange(170, 235) for _ in range(3))
    bottom = tuple(max(0, min(255, c + rng.randrange(-25, 26))) for c in top)
    ramp = Image.linear_gradient("L").resize((width, height))
    img = Image.composite(Image.new("RGB", (width, height), bottom), Image.new("RGB", (width, height), top), ramp)
    noise = Image.effect_noise((width, height), 4.0).convert("RGB")
    img = ImageChops.add(img, noise, scale=1.0, offset=-128)
    short = min(width, height)
    side = rng.randrange(short * 3 // 20, short // 4)
    ow, oh = (side, side) if subject != "text" else (side * 2, side // 2)
    while True:
        left, top_y = rng.randrange(0, width - ow), rng.randrange(0, height - oh)
        cx, cy = (left + ow / 2) / width, (top_y + oh / 2) / height
        if abs(cx - 0.5) > 0.18 or abs(cy - 0.5) > 0.18:
            break  # off-centre: where a centre crop may lose it
    box = (left, top_y, left + ow, top_y + oh)
    draw = ImageDraw.Draw(img)
    if subject == "texture":
        tile = Image.effect_noise((ow, oh), 90.0).convert("RGB")
        tint = Image.new("RGB", (ow, oh), tuple(rng.randrange(0, 256) for _ in range(3)))
        tile = ImageChops.multiply(tile, tint)
        mask = Image.new("L", (ow, oh), 0)
        ImageDraw.Draw(mask).polygon(
            [
                (rng.randrange(0, ow // 3), 0),
                (ow - 1, rng.randrange(0, oh // 3)),
                (ow * 2 // 3, oh - 1),
                (0, oh * 2 // 3),
            ],
            fill=255,
        )
        img.paste(tile, box[:2], mask)
        box = (left + mask.getbbox()[0], top_y + mask.getbbox()[1], left + mask.getbbox()[2], top_y + mask.getbbox()[3])
    elif subject == "face":
        skin = rng.choice(((224, 172, 140), (198, 134, 98), (141, 85, 56), (241, 194, 160)))
        draw.ellipse(box, fill=skin)
        ex, ey, r = ow // 5, oh * 2 // 5, max(2, ow // 14)
        for x in (left + ex * 2 - ex // 2, left + ow - ex * 2 + ex // 2):
            draw.ellipse((x - r, top_y + ey - r, x + r, top_y + ey + r), fill=(40, 30, 30))
        draw.arc((left + ow // 3, top_y + oh // 2, left + ow * 2 // 3, top_y + oh * 4 // 5), 20, 160, (120, 40, 40), 3)
    else:
        font = ImageFont.load_default(size=max(8, oh // 3))
        words = ["Quiet", "morning", "sale", "open", "today", "river", "north", "cafe"]
        drawn = []
        for line in range(2):
            text = " ".join(rng.choice(words) for _ in range(2))
            at = (left, top_y + line * oh // 2)
            draw.text(at, text, fill=(20, 20, 20), font=font)
            drawn.append(draw.textbbox(at, text, font=font))
        box = (min(b[0] for b in drawn), min(b[1] for b in drawn), max(b[2] for b in drawn), max(b[3] for b in drawn))
    return img, box
