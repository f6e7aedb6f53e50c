"""Find a file's real type from its first bytes, never from its name.

Only types on an allow-list are ever stored; anything that a browser could run
(HTML, SVG, XML, JavaScript) has no entry here at all, so it cannot be allowed by
accident.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\0" * 24).kind
    'png'
    >>> sniff(b"<!doctype html><script>") is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass

#: How many leading bytes :func:`sniff` needs.
SNIFF_BYTES = 64


@dataclass(frozen=True)
class FileType:
    """A recognised type: short name, MIME type, canonical extension, image or not."""

    kind: str
    mime: str
    ext: str
    is_image: bool = False


TYPES: dict[str, FileType] = {
    t.kind: t
    for t in (
        FileType("jpeg", "image/jpeg", "jpg", True),
        FileType("png", "image/png", "png", True),
        FileType("gif", "image/gif", "gif", True),
        FileType("webp", "image/webp", "webp", True),
        FileType("avif", "image/avif", "avif", True),
        FileType("heic", "image/heic", "heic", True),
        FileType("mp4", "video/mp4", "mp4"),
        FileType("webm", "video/webm", "webm"),
        FileType("quicktime", "video/quicktime", "mov"),
        FileType("mp3", "audio/mpeg", "mp3"),
        FileType("ogg", "audio/ogg", "ogg"),
        FileType("wav", "audio/wav", "wav"),
        FileType("pdf", "application/pdf", "pdf"),
    )
}

#: Kinds :meth:`Media.put` accepts unless told otherwise.  ``heic`` is dropped at
#: run time when Pillow cannot read it.
DEFAULT_ALLOWED = frozenset(TYPES)

#: Content-Type by extension, for serving stored files.
MIME_BY_EXT = {t.ext: t.mime for t in TYPES.values()}

_AVIF_BRANDS = {b"avif", b"avis"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_QT_BRANDS = {b"qt  "}
_HEIF_GENERIC = {b"mif1", b"msf1"}
# Major brands of MP4-family files; any other 'ftyp' file is refused.
_MP4_BRANDS = {
    *(b"iso" + bytes([c]) for c in b"m23456789"),
    b"mp41", b"mp42", b"mp71", b"avc1", b"av01", b"dash", b"f4v ", b"mmp4", b"MSNV",
    b"M4V ", b"M4VH", b"M4VP", b"M4A ", b"M4B ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"3g2b",
}  # fmt: skip
# Markup that has no business near the start of an audio or video file: a
# polyglot hoping some client will sniff it as a page.
_MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype", b"<body", b"<iframe", b"<object", b"<embed")
#: How many leading bytes :func:`looks_like_markup` reads.
MARKUP_BYTES = 1024


def _iso_bmff(head: bytes) -> str | None:
    # ISO base media files (mp4, mov, avif, heic) start with an 'ftyp' box:
    # size(4) 'ftyp' major_brand(4) minor_version(4) compatible_brands(4*n).
    if head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    brands = [head[8:12]]
    end = min(max(size, 16), len(head))
    brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
    major = brands[0]
    if major in _AVIF_BRANDS:
        return "avif"
    if major in _QT_BRANDS:
        return "quicktime"
    if major in _HEIC_BRANDS - _HEIF_GENERIC:
        return "heic"
    if major in _MP4_BRANDS:
        return "mp4"
    # A generic major brand ('mif1', or a camera maker's own such as 'XAVC'):
    # the compatible brands say what the file is.
    if any(b in _AVIF_BRANDS for b in brands):
        return "avif"
    if any(b in (b"heic", b"heix") for b in brands):
        return "heic"
    if any(b in _MP4_BRANDS for b in brands):
        return "mp4"
    return None


def _id3(head: bytes) -> bool:
    # "ID3", major version 2-4, revision, flags, then a size of four 7-bit bytes.
    return len(head) >= 10 and head[:3] == b"ID3" and head[3] in (2, 3, 4) and all(b < 0x80 for b in head[6:10])


def _mpeg_audio_frame(head: bytes) -> bool:
    # An MPEG audio frame header: 11 sync bits, then no reserved version,
    # layer, bitrate or sample rate (a UTF-16 byte-order mark fails here).
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3


def looks_like_markup(data: bytes) -> bool:
    """True when the first :data:`MARKUP_BYTES` of *data* hold an HTML/SVG tag.

    Used for audio and video uploads, whose magic numbers are short enough to
    put in front of a page.  (Images are decoded, and PDFs are PDFs.)  NULs are
    dropped first, so UTF-16 markup is seen too.

        >>> looks_like_markup(b"OggS...<HTML><body>")
        True
    """
    text = data[:MARKUP_BYTES].replace(b"\x00", b"").lower()
    return any(tag in text for tag in _MARKUP)


def sniff(head: bytes) -> FileType | None:
    """Return the :class:`FileType` of a file starting with *head*, or None."""
    kind: str | None = None
    if head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        kind = "gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "webp"
    elif head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        kind = "wav"
    elif head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"OggS"):
        kind = "ogg"
    elif head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:SNIFF_BYTES]:
        kind = "webm"
    elif _id3(head) or _mpeg_audio_frame(head):
        kind = "mp3"
    elif len(head) >= 12:
        kind = _iso_bmff(head)
    return TYPES.get(kind) if kind else None


__all__ = [
    "DEFAULT_ALLOWED",
    "MARKUP_BYTES",
    "MIME_BY_EXT",
    "SNIFF_BYTES",
    "TYPES",
    "FileType",
    "looks_like_markup",
    "sniff",
]
