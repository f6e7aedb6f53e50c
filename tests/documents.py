"""Real videos (encoded with PyAV) and PDFs (written by hand), for tests and benchmarks."""

from __future__ import annotations

import io
import zlib
from fractions import Fraction

from PIL import Image

#: The colour every :func:`video` shows once its leading black frames are over.
SCENE_COLOUR = (40, 160, 220)

#: Container, codec and pixel format of each video kind the tests make.
VIDEO_KINDS = {
    "mp4": ("mp4", "libx264", "yuv420p"),
    "webm": ("webm", "libvpx-vp9", "yuv420p"),
    "quicktime": ("mov", "libx264", "yuv420p"),
}


def scene(width: int, height: int, index: int) -> Image.Image:
    """A lively picture: :data:`SCENE_COLOUR` with a white square that moves and a dark bar."""
    im = Image.new("RGB", (width, height), SCENE_COLOUR)
    side = max(2, min(width, height) // 4)
    left = (index * 3) % max(1, width - side)
    im.paste((255, 255, 255), (left, height // 4, left + side, height // 4 + side))
    im.paste((10, 10, 10), (0, height - max(2, height // 8), width, height))
    return im


def video(
    kind: str = "mp4",
    width: int = 160,
    height: int = 96,
    frames: int = 24,
    black: int = 6,
    fps: int = 12,
    rotation: int = 0,
    audio: bool = False,
    last_at: float | None = None,
) -> bytes:
    """A video of *frames* frames at *fps*, whose first *black* are black, then :func:`scene`.

    *last_at*: the last frame is shown that many seconds in (a video that lasts hours, in a few frames).
    """
    import av

    container_format, codec, pix_fmt = VIDEO_KINDS[kind]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_format) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.thread_count = 1
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "g": "12"}
        elif codec == "libvpx-vp9":
            stream.options = {"deadline": "realtime", "cpu-used": "8", "g": "12"}
        if rotation:
            stream.set_display_rotation(rotation)
        sound = out.add_stream("libopus" if kind == "webm" else "aac", rate=48000) if audio else None
        for i in range(frames):
            picture = Image.new("RGB", (width, height)) if i < black else scene(width, height, i)
            frame = av.VideoFrame.from_image(picture)
            frame.pts, frame.time_base = i, Fraction(1, fps)
            if last_at is not None and i == frames - 1:
                frame.pts = round(last_at * fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if sound is not None:
            samples = 48000 * frames // fps
            silence = av.AudioFrame(format="s16", layout="mono", samples=960)
            for plane in silence.planes:
                plane.update(bytes(plane.buffer_size))
            pts = 0
            while pts < samples:
                silence.pts, silence.sample_rate = pts, 48000
                for packet in sound.encode(silence):
                    out.mux(packet)
                pts += 960
            for packet in sound.encode():
                out.mux(packet)
    return buf.getvalue()


def audio(seconds: float = 1.0) -> bytes:
    """A WAV file of *seconds* of silence (16-bit mono, 8 kHz)."""
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(2 * int(8000 * seconds)))
    return buf.getvalue()


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of *objects* (numbered from 1; object 1 is the catalog), with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes, compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data)
        dictionary += b" /Filter /FlateDecode"
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def pdf(
    pages: int = 2, width: float = 612, height: float = 792, colours: list[tuple[int, int, int]] | None = None
) -> bytes:
    """A PDF of *pages* pages of *width* x *height* points; page *n* is filled with ``colours[n-1]``
    (red, green, blue, ... by default) but for a white margin of a tenth of its width."""
    colours = colours or [(220, 30, 30), (30, 160, 40), (30, 40, 200)]
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)]
    margin = width / 10
    for i in range(pages):
        r, g, b = colours[i % len(colours)]
        content = b"%.3f %.3f %.3f rg %.2f %.2f %.2f %.2f re f" % (
            r / 255, g / 255, b / 255, margin, margin, width - 2 * margin, height - 2 * margin,
        )  # fmt: skip
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R >>" % (width, height, 4 + 2 * i)
        )
        objects.append(_stream(b"", content))
    return _pdf(objects)


def pdf_bomb(inflated: int = 1024 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream inflates to *inflated* bytes of spaces (a decompression bomb)."""
    squeeze = zlib.compressobj(9)
    block = b" " * (1024 * 1024)
    parts = [squeeze.compress(block) for _ in range(inflated // len(block))]
    parts.append(squeeze.flush())
    data = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    return _pdf(objects)


def pdf_huge_image(side: int = 100_000) -> bytes:
    """A one-page PDF drawing an image that declares *side* x *side* pixels (its data a few bytes)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /XObject << /Im0 5 0 R >> >> >>",
        _stream(b"", b"q 612 0 0 792 0 0 cm /Im0 Do Q"),
        _stream(
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8"
            % (side, side),
            b"\x80" * 1024,
        ),
    ]
    return _pdf(objects)


def pdf_pages(count: int) -> bytes:
    """A PDF whose page tree holds *count* pages (all the same page object, so the file stays small)."""
    kids = b" ".join([b"3 0 R"] * count)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    return _pdf(objects)


def pdf_many_shapes(count: int = 300_000) -> bytes:
    """A one-page PDF of *count* small filled squares: small on disk, slow to draw."""
    ops = b"\n".join(b"%d %d 3 3 re f" % (i % 600, (i // 600) % 800) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        _stream(b"", ops),
    ]
    return _pdf(objects)
