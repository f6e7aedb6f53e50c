"""The container walk (s3media_wsgi.structure): real files pass, cut-off and flooded ones are refused fast."""

from __future__ import annotations

import io
import struct
import time

import images
import pytest
from PIL import Image, PngImagePlugin, features

from s3media_wsgi import LocalStorage, Media, structure
from s3media_wsgi.errors import ImageTooLarge, NotAnImage
from s3media_wsgi.imaging import ImageEngine, ImageLimits

LIMITS = ImageLimits()
MiB = images.MiB
HAS_AVIF = bool(features.check("avif"))
needs_avif = pytest.mark.skipif(not HAS_AVIF, reason="Pillow has no AVIF support")


def check(data: bytes, limits: ImageLimits = LIMITS) -> None:
    structure.check(data, max_metadata_bytes=limits.max_metadata_bytes, max_jpeg_scans=limits.max_jpeg_scans)


def refused_quickly(data: bytes, error: type[Exception] = NotAnImage, match: str | None = None) -> float:
    started = time.perf_counter()
    with pytest.raises(error, match=match):
        check(data)
    return time.perf_counter() - started


# --- real files pass ------------------------------------------------------------------


def _png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "a title")
    info.add_text("Comment", "compressed " * 100, zip=True)
    info.add_itxt("XML:com.adobe.xmp", images.XMP_SECRET.decode(), zip=False)
    return images.encode(images.gradient(64, 48), "PNG", pnginfo=info, icc_profile=images.srgb_icc())


def _mpo() -> bytes:
    return images.encode(images.gradient(64, 48), "MPO", save_all=True, append_images=[images.gradient(32, 24)])


def _apng() -> bytes:
    frames = [Image.new("RGB", (40, 30), colour) for colour in images.ANIMATION_COLOURS]
    return images.encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _webp_with_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    metadata = {"exif": exif, "xmp": images.XMP_SECRET, "icc_profile": images.srgb_icc()}
    return images.encode(images.gradient(64, 48), "WEBP", **metadata)


REAL = {
    "jpeg": lambda: images.jpeg(),
    "jpeg-photo": lambda: images.encode(images.photo(1200, 900), "JPEG", quality=95),
    "jpeg-progressive": lambda: images.jpeg(progressive=True),
    "jpeg-progressive-grey": lambda: images.encode(images.gradient(300, 200, "L"), "JPEG", progressive=True),
    "jpeg-progressive-optimized": lambda: images.jpeg(progressive=True, optimize=True),
    "jpeg-optimized": lambda: images.jpeg(optimize=True),
    "jpeg-restart-markers": lambda: images.jpeg(200, 150, restart_marker_blocks=1),
    "jpeg-exif-xmp-comment": images.jpeg_with_metadata,
    "jpeg-icc": images.jpeg_with_icc,
    "jpeg-cmyk": images.cmyk_jpeg,
    "jpeg-oriented": lambda: images.oriented_jpeg(6),
    "jpeg-3-mib-of-app1": lambda: images.jpeg_with_app_segments(3 * MiB),
    "mpo": _mpo,
    "png": lambda: images.png(),
    "png-rgba": images.rgba_png,
    "png-palette": images.palette_png,
    "png-16-bit": images.png16,
    "png-bilevel": images.bilevel_png,
    "png-text-icc": _png_with_text,
    "png-exif": lambda: images.oriented_jpeg(6, fmt="PNG"),
    "apng": _apng,
    "gif": lambda: images.encode(images.gradient(64, 48), "GIF"),
    "gif-animated": lambda: images.animated_gif(count=20),
    "gif-comment": lambda: images.encode(images.gradient(64, 48), "GIF", comment=b"c" * 5000),
    "gif-many-small-frames": lambda: images.many_frame_gif(5000),
    "webp-lossy": lambda: images.encode(images.gradient(64, 48), "WEBP"),
    "webp-lossless-alpha": lambda: images.encode(images.half_transparent(), "WEBP", lossless=True),
    "webp-metadata": _webp_with_metadata,
    "webp-animated": lambda: images.animated_webp(count=10),
    "webp-oriented": lambda: images.oriented_jpeg(6, fmt="WEBP"),
}


def _avif_with_metadata() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    metadata = {"exif": exif, "xmp": images.XMP_SECRET, "icc_profile": images.srgb_icc()}
    return images.encode(images.gradient(64, 48), "AVIF", **metadata)


if HAS_AVIF:
    REAL["avif"] = lambda: images.encode(images.gradient(64, 48), "AVIF")
    REAL["avif-metadata"] = _avif_with_metadata


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_files_pass(name):
    data = REAL[name]()
    check(data)
    # And the engine reads them.
    assert ImageEngine().probe(data).width > 0


def test_heic_passes():
    # pillow-heif is in the dev extra, and the engine registers it when present.
    data = images.encode(images.gradient(64, 48), "HEIF")
    check(data)
    assert ImageEngine().probe(data).format == "heic"


def test_mpo_pictures_after_the_first_eoi_are_not_walked():
    data = _mpo()
    first_eoi = data.index(b"\xff\xd9") + 2
    assert data[first_eoi : first_eoi + 3] == b"\xff\xd8\xff"  # the second picture follows
    check(data[:first_eoi] + b"\x00" * 50_000)  # whatever follows the first picture


def test_default_scan_limit_leaves_room_for_real_progressive_files():
    for data in (images.jpeg(progressive=True), REAL["jpeg-progressive-grey"]()):
        assert 1 < data.count(b"\xff\xda") <= 20
    limits = ImageLimits(max_jpeg_scans=64)
    check(images.jpeg_repeated_scans(64, 640, 480), limits)
    with pytest.raises(ImageTooLarge, match="max_jpeg_scans=64"):
        check(images.jpeg_repeated_scans(65, 640, 480), limits)


def test_iso_bmff_box_of_size_zero_runs_to_the_end():
    ftyp = struct.pack(">I", 20) + b"ftypavif" + bytes(4) + b"avif"
    check(ftyp + struct.pack(">I", 0) + b"mdat" + bytes(1000))
    # A 64-bit size is read as one.
    check(ftyp + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 1000) + bytes(1000))
    with pytest.raises(NotAnImage, match="runs past the end"):
        check(ftyp + struct.pack(">I", 2000) + b"mdat" + bytes(1000))


# --- cut short ----------------------------------------------------------------------


def cuts(data: bytes) -> list[int]:
    """Several places to cut *data*: early, middle, late, and one or two bytes short."""
    n = len(data)
    return sorted({20, n // 4, n // 2, 3 * n // 4, n - 2, n - 1})


TRUNCATABLE = {
    "jpeg": lambda: images.jpeg(),
    "jpeg-progressive": lambda: images.jpeg(progressive=True),
    "png": lambda: images.png(),
    "gif": lambda: images.animated_gif(),
    "webp": lambda: images.encode(images.gradient(64, 48), "WEBP"),
    "webp-animated": lambda: images.animated_webp(),
}


@pytest.mark.parametrize("name", sorted(TRUNCATABLE))
def test_truncated_files_are_refused(name):
    data = TRUNCATABLE[name]()
    check(data)
    for cut in cuts(data):
        with pytest.raises(NotAnImage, match="truncated|runs past|cut off"):
            check(data[:cut])


@needs_avif
def test_truncated_avif_is_refused():
    data = images.encode(images.photo(64, 48), "AVIF")
    for cut in (len(data) - 1, len(data) - 10):
        with pytest.raises(NotAnImage, match="runs past|cut off"):
            check(data[:cut])


@pytest.mark.parametrize("name", ["jpeg", "png", "gif"])
def test_truncated_files_are_refused_by_put(tmp_path, secret, name):
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    data = TRUNCATABLE[name]()
    for cut in (len(data) // 2, len(data) - 1):
        cut_off = data[:cut]
        with pytest.raises(NotAnImage):
            ImageEngine().probe(cut_off)
        with pytest.raises(NotAnImage):
            media.put(cut_off, filename=f"cut.{name}")
    assert not any(p.is_file() for p in (tmp_path / "media").rglob("*"))


def test_jpeg_without_eoi_is_truncated_even_when_every_segment_is_whole():
    data = images.jpeg()
    with pytest.raises(NotAnImage, match="no EOI"):
        check(data[:-2])
    with pytest.raises(NotAnImage, match="no EOI"):
        check(data[:-2] + b"\xff" * 100)  # fill bytes are not a marker


def test_gif_without_trailer_is_truncated():
    data = images.animated_gif()
    assert data.endswith(b"\x3b")
    with pytest.raises(NotAnImage, match="no trailer"):
        check(data[:-1])


# --- lengths that run past the end ---------------------------------------------------------


def test_chunk_running_past_the_end():
    with pytest.raises(NotAnImage, match="runs past the end"):
        check(images.png_with_chunks(struct.pack(">I", 10**6) + b"tEXt" + b"k\x00v"))
    jpeg = images.jpeg(16, 16)
    with pytest.raises(NotAnImage, match="runs past the end"):
        check(jpeg[:2] + b"\xff\xe1\xff\xff" + b"Exif\x00\x00")
    webp = images.encode(images.gradient(16, 16), "WEBP")
    chunk_size = struct.unpack_from("<I", webp, 16)[0]
    longer = webp[:16] + struct.pack("<I", chunk_size + 1000) + webp[20:]
    with pytest.raises(NotAnImage, match="runs past the end"):
        check(longer)
    # A RIFF size larger than the file is a cut-off file.
    with pytest.raises(NotAnImage, match="truncated"):
        check(webp[:4] + struct.pack("<I", len(webp) * 2) + webp[8:])


# --- floods -------------------------------------------------------------------------------


def test_gif_comment_of_one_byte_sub_blocks_is_refused_fast():
    data = images.gif_comment_flood(20 * MiB)
    assert refused_quickly(data, match="sub-blocks") < 2


def test_gif_image_data_of_one_byte_sub_blocks_is_refused_fast():
    head, block = images._gif_parts(2, 2, 0)
    descriptor, code_size = block[:10], b"\x02"
    flood = descriptor + code_size + b"\x01\x84" * (10 * MiB) + b"\x00"
    assert refused_quickly(head + flood + b"\x3b", match="sub-blocks") < 2


def test_gif_extension_and_frame_floods_are_refused_fast():
    head, block = images._gif_parts(1, 1, 0)
    comments = head + b"\x21\xfe\x01A\x00" * (4 * MiB) + block + b"\x3b"
    assert refused_quickly(comments, match="sub-blocks") < 2
    unit = images._gce() + block
    frames = head + unit * (20 * MiB // len(unit)) + b"\x3b"
    assert refused_quickly(frames, match="sub-blocks") < 2
    controls = head + images._gce() * 1000 + block + b"\x3b"
    with pytest.raises(NotAnImage, match="graphic control"):
        check(controls)


def test_many_small_gif_frames_within_the_allowance_pass():
    data = images.many_frame_gif(5000)  # ~25 bytes a frame: far denser than real files
    assert structure.scan_gif(data, 100, LIMITS.max_metadata_bytes).frames == 101


def test_jpeg_of_empty_app_segments_is_refused_fast():
    data = images.jpeg_app_flood(20 * MiB)
    assert refused_quickly(data, match="segments before its first scan") < 2


def test_jpeg_of_fill_bytes_is_refused_fast():
    # Runs of 0xFF are where a backtracking marker search goes quadratic.
    real = images.jpeg(16, 16)
    assert refused_quickly(real[:-2] + b"\xff" * (20 * MiB), match="no EOI") < 2
    assert refused_quickly(real[:2] + b"\xff" * (20 * MiB) + real[2:], match="no EOI|segments|stray") < 2


def test_jpeg_segments_after_the_first_scan_are_capped():
    real = images.jpeg(16, 16)
    flood = real[:-2] + b"\xff\xfe\x00\x02" * (structure.MAX_JPEG_SEGMENTS + 1) + b"\xff\xd9"
    with pytest.raises(NotAnImage, match="segments in all"):
        check(flood)


def test_jpeg_stray_bytes_between_segments_are_capped():
    real = images.jpeg(16, 16)
    app0_end = images.jpeg_segments(real)[0][2]
    check(real[:app0_end] + b"\x00" * 100 + real[app0_end:])  # a few, as some cameras leave
    with pytest.raises(NotAnImage, match="stray bytes"):
        check(real[:app0_end] + b"\x00" * (structure.MAX_JPEG_STRAY_BYTES + 1) + real[app0_end:])


def test_jpeg_with_thousands_of_scans_is_refused():
    data = images.jpeg_repeated_scans(2000)
    assert len(data) < 40_000
    assert Image.open(io.BytesIO(data)).size == (7000, 7000)  # Pillow opens it as 49 MP
    assert refused_quickly(data, ImageTooLarge, match="max_jpeg_scans") < 1


def test_png_of_thousands_of_text_chunks_is_refused():
    data = images.png_text_flood(2000)
    with pytest.raises(NotAnImage, match="chunks besides its image data"):
        check(data)
    check(images.png_text_flood(100))
    assert refused_quickly(images.png_text_flood(1_000_000), match="chunks") < 2


def test_png_in_small_idat_chunks_passes_within_its_allowance():
    real = images.encode(images.photo(400, 300), "PNG")
    small = images.png_rechunked(real, 256)
    assert small.count(b"IDAT") > 500
    check(small)
    pixels = [Image.open(io.BytesIO(data)).convert("RGB").tobytes() for data in (small, real)]
    assert pixels[0] == pixels[1]
    # Pillow reads each IDAT in Python: past the base allowance, one per KiB of file.
    tiny = images.png_rechunked(real, 16)
    assert tiny.count(b"IDAT") > structure.BASE_STEPS + len(tiny) // structure.BYTES_PER_IDAT
    with pytest.raises(NotAnImage, match="image data chunks"):
        check(tiny)


def test_png_of_empty_idat_chunks_is_refused_fast():
    real = images.png(16, 16)
    iend = real.rindex(b"IEND") - 4
    flood = real[:iend] + images.png_chunk(b"IDAT", b"") * (20 * MiB // 12) + real[iend:]
    assert refused_quickly(flood, match="image data chunks") < 2


def test_repeated_structures_get_an_allowance_proportional_to_size():
    assert structure.steps_allowed(b"") == structure.BASE_STEPS
    assert structure.steps_allowed(bytes(64 * 10_000)) == structure.BASE_STEPS + 10_000


# --- metadata ------------------------------------------------------------------------------


#: Payload of the JFIF APP0 segment Pillow writes first: metadata too.
JFIF = 14


def test_metadata_over_the_limit_is_refused():
    small = ImageLimits(max_metadata_bytes=100_000)
    jpeg = images.jpeg_with_app_segments(100_001 - JFIF)
    check(jpeg)
    with pytest.raises(ImageTooLarge, match="max_metadata_bytes=100000"):
        check(jpeg, small)
    check(images.jpeg_with_app_segments(100_000 - JFIF), small)
    with pytest.raises(ImageTooLarge, match="max_metadata_bytes"):
        check(images.jpeg_with_app_segments(LIMITS.max_metadata_bytes))

    xmp = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + b"x" * 100_000
    png = images.png_with_chunks(images.png_chunk(b"iTXt", xmp))
    check(png)
    with pytest.raises(ImageTooLarge, match="max_metadata_bytes"):
        check(png, small)

    gif = images.encode(images.gradient(16, 16), "GIF", comment=b"c" * 100_001)
    check(gif)
    with pytest.raises(ImageTooLarge, match="max_metadata_bytes"):
        check(gif, small)

    webp = images.encode(images.gradient(16, 16), "WEBP", xmp=b"x" * 100_001)
    check(webp)
    with pytest.raises(ImageTooLarge, match="max_metadata_bytes"):
        check(webp, small)


def test_metadata_limit_applies_through_the_engine():
    engine = ImageEngine(ImageLimits(max_metadata_bytes=10_000))
    with pytest.raises(ImageTooLarge):
        engine.probe(images.jpeg_with_app_segments(10_001 - JFIF))
    with pytest.raises(ImageTooLarge):
        engine.probe(images.encode(images.gradient(16, 16), "GIF", comment=b"c" * 10_001))
    assert engine.probe(images.jpeg_with_app_segments(10_000 - JFIF)).width == 64


# --- not images ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello", images.tiff(), images.bmp(), images.HTML])
def test_other_files_are_not_images(data):
    with pytest.raises(NotAnImage):
        check(data)


def test_jpeg_without_a_scan_is_not_an_image():
    real = images.jpeg(16, 16)
    header = real[: real.index(b"\xff\xda")]
    with pytest.raises(NotAnImage, match="no scan"):
        check(header + b"\xff\xd9")
