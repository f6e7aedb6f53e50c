"""Find a file's real type from its first bytes, never from its name.

Only types on the table of :mod:`s3media_wsgi.formats` are ever stored;
anything that a browser could run (HTML, SVG, XML, JavaScript) has no entry
there at all, so it cannot be allowed by accident.  :func:`refused_kind` names
such files, so that a refusal can say what it refused.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\0" * 24).kind
    'png'
    >>> sniff(b"<!doctype html><script>") is None
    True
"""

from __future__ import annotations

from .formats import MIME_BY_EXT, REFUSED, TYPES, FileType

#: How many leading bytes :func:`sniff` needs.
SNIFF_BYTES = 64


#: Kinds :meth:`Media.put` accepts unless told otherwise.  ``heic`` is dropped at
#: run time when Pillow cannot read it.
DEFAULT_ALLOWED = frozenset(TYPES)

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


# Leading bytes that may come before markup: BOMs (UTF-8, UTF-16) and blanks.
_SKIP = b"\xef\xbb\xbf\xff\xfe\xfe\xff\x00 \t\r\n"


def refused_kind(head: bytes) -> str | None:
    """The kind of a file we refuse by nature (a key of :data:`~s3media_wsgi.formats.REFUSED`), or None.

    >>> refused_kind(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">')
    'svg'
    >>> refused_kind(b"GIF89a") is None
    True
    """
    if head.startswith((b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"#!")):
        return "executable"
    text = head[:MARKUP_BYTES].lstrip(_SKIP).replace(b"\x00", b"").lower()
    if not text.startswith(b"<"):
        if text.startswith((b"function", b"var ", b"let ", b"const ", b"import ", b"(function", b"//", b"/*")):
            return "javascript"
        return None
    if b"<svg" in text:
        return "svg"
    if any(tag in text for tag in (b"<!doctype html", b"<html", b"<script", b"<body", b"<head", b"<iframe")):
        return "html"
    if text.startswith(b"<?xml") or text.startswith(b"<!doctype"):
        return "xml"
    return "html"  # any other tag first: a browser would render it as a page


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
    "REFUSED",
    "SNIFF_BYTES",
    "TYPES",
    "FileType",
    "looks_like_markup",
    "refused_kind",
    "sniff",
]
