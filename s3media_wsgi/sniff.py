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
    # 'mif1'/'msf1' only say "some HEIF image"; the compatible brands tell which.
    if any(b in _AVIF_BRANDS for b in brands):
        return "avif"
    if major in _HEIC_BRANDS or any(b in (b"heic", b"heix") for b in brands):
        return "heic"
    return "mp4"


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
    elif head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        kind = "mp3"
    elif len(head) >= 12:
        kind = _iso_bmff(head)
    return TYPES.get(kind) if kind else None


__all__ = ["DEFAULT_ALLOWED", "MIME_BY_EXT", "SNIFF_BYTES", "TYPES", "FileType", "sniff"]
