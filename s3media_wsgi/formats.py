"""Every file type the library knows, in one table: kind, extension, MIME type, Pillow's name.

Sniffing (:mod:`s3media_wsgi.sniff`), stored extensions (:mod:`s3media_wsgi.ids`),
served ``Content-Type`` (:mod:`s3media_wsgi.static`), resize formats
(:mod:`s3media_wsgi.variants`), the image engine and ``picture()`` all read it,
so ``jpeg``/``jpg``/``JPEG`` mean one thing everywhere.

Only types on this table can ever be stored.  What a browser could run (HTML,
SVG, XML, JavaScript) has no entry, so it cannot be allowed by accident;
:data:`REFUSED` only names such types so a refusal can say what was refused.

    >>> TYPES["jpeg"].ext, TYPES["jpeg"].mime, TYPES["jpeg"].pillow
    ('jpg', 'image/jpeg', 'JPEG')
    >>> OUTPUT_FORMATS
    ('jpg', 'png', 'webp', 'avif', 'gif')
    >>> output_format("JPEG"), KIND_BY_PILLOW["MPO"]
    ('jpg', 'jpeg')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    """A type we store: short name, MIME type, canonical extension, and what it is."""

    kind: str
    mime: str
    ext: str
    #: How a person calls it, for messages: "JPEG image".
    label: str
    #: Pillow's format name when it is an image Pillow reads (and may write).
    pillow: str | None = None
    #: A resize may be written in this type (its ``ext`` is then a resize format).
    output: bool = False
    #: Other spellings of the extension, folded into ``ext`` in filenames.
    aliases: tuple[str, ...] = ()

    @property
    def is_image(self) -> bool:
        return self.pillow is not None


#: The table, in the order resize formats are listed.
_TABLE = (
    FileType("jpeg", "image/jpeg", "jpg", "JPEG image", "JPEG", True, ("jpeg", "jpe", "jfif", "pjpeg", "pjp")),
    FileType("png", "image/png", "png", "PNG image", "PNG", True),
    FileType("webp", "image/webp", "webp", "WebP image", "WEBP", True),
    FileType("avif", "image/avif", "avif", "AVIF image", "AVIF", True),
    FileType("gif", "image/gif", "gif", "GIF image", "GIF", True),
    FileType("heic", "image/heic", "heic", "HEIC image", "HEIF", False, ("heif",)),
    FileType("mp4", "video/mp4", "mp4", "MP4 video", aliases=("mpeg4", "m4v")),
    FileType("webm", "video/webm", "webm", "WebM video"),
    FileType("quicktime", "video/quicktime", "mov", "QuickTime video", aliases=("qt",)),
    FileType("mp3", "audio/mpeg", "mp3", "MP3 audio"),
    FileType("ogg", "audio/ogg", "ogg", "Ogg audio", aliases=("oga",)),
    FileType("wav", "audio/wav", "wav", "WAV audio"),
    FileType("pdf", "application/pdf", "pdf", "PDF document"),
)

#: Kind -> type.
TYPES: dict[str, FileType] = {t.kind: t for t in _TABLE}
#: Extension -> MIME type, for serving stored files.
MIME_BY_EXT: dict[str, str] = {t.ext: t.mime for t in _TABLE}
#: Resize formats (extensions), in order.
OUTPUT_FORMATS: tuple[str, ...] = tuple(t.ext for t in _TABLE if t.output)
#: Resize format -> Pillow's writer name.
PILLOW_WRITER: dict[str, str] = {t.ext: t.pillow for t in _TABLE if t.output and t.pillow}
#: Kind -> Pillow's decoder name, for the images we decode.
PILLOW_DECODER: dict[str, str] = {t.kind: t.pillow for t in _TABLE if t.pillow}
#: Pillow's format name -> kind (a JPEG with extra pictures opens as "MPO").
KIND_BY_PILLOW: dict[str, str] = {**{t.pillow: t.kind for t in _TABLE if t.pillow}, "MPO": "jpeg"}
#: Extension alias -> canonical extension (only the types we store; ids add a few more).
EXT_ALIASES: dict[str, str] = {alias: t.ext for t in _TABLE for alias in t.aliases}

#: Types that are recognised only to be refused, by what they are: a page, a
#: script or a program a browser or an OS could run.
REFUSED = {
    "svg": "SVG image (it can carry scripts)",
    "html": "HTML page",
    "xml": "XML document",
    "javascript": "script",
    "executable": "program",
}


def output_format(name: str) -> str:
    """The resize format for *name* (``"JPEG"``, ``"jpeg"``, ``".jpg"``...); ``ValueError`` if none.

    >>> output_format("webp")
    'webp'
    """
    ext = name.strip().lower().lstrip(".")
    ext = EXT_ALIASES.get(ext, ext)
    if ext not in OUTPUT_FORMATS:
        raise ValueError(f"{name!r} is not a resize format; use one of {', '.join(OUTPUT_FORMATS)}")
    return ext


def by_ext(ext: str) -> FileType | None:
    """The type stored with extension *ext* (aliases folded), or None."""
    ext = EXT_ALIASES.get(ext.lower(), ext.lower())
    for t in _TABLE:
        if t.ext == ext:
            return t
    return None


__all__ = [
    "EXT_ALIASES",
    "KIND_BY_PILLOW",
    "MIME_BY_EXT",
    "OUTPUT_FORMATS",
    "PILLOW_DECODER",
    "PILLOW_WRITER",
    "REFUSED",
    "TYPES",
    "FileType",
    "by_ext",
    "output_format",
]
