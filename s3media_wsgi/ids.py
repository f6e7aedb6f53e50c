"""Media ids, filename normalisation and storage keys.

An id is a random uuid4 written as five folders, then a normalised filename::

    3c72aedc/ba25/41e6/a569/406c8f413974/my-photo-1.jpg

The original is stored at ``<id>/<filename>`` and every resize of it at
``<id>/<variant>``, so an id owns exactly one key prefix (``<id>/``) and deleting
an id touches nothing else.  (On disk, ``<id>`` is a folder: that is why the
original is not stored at ``<id>`` itself.)

    >>> normalise_filename("My Photo #1?.JPEG")
    'my-photo-1.jpg'
    >>> parse_id("3c72aedc/ba25/41e6/a569/406c8f413974/my-photo-1.jpg")
    '3c72aedc/ba25/41e6/a569/406c8f413974/my-photo-1.jpg'
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from .errors import InvalidId
from .formats import EXT_ALIASES

#: Longest stem (the part before the extension) a normalised filename keeps.
MAX_STEM = 80
#: Longest extension a normalised filename keeps (without the dot).
MAX_EXT = 8

EXTENSION_ALIASES = {
    **EXT_ALIASES,
    # Types we never store, whose names still read better folded.
    "tiff": "tif",
}

_UUID_PART = r"[0-9a-f]{8}/[0-9a-f]{4}/[0-9a-f]{4}/[0-9a-f]{4}/[0-9a-f]{12}"
_FILENAME = rf"[a-z0-9](?:[a-z0-9-]{{0,{MAX_STEM - 1}}})(?:\.[a-z0-9]{{1,{MAX_EXT}}})?"
FILENAME_RE = re.compile(rf"^{_FILENAME}$")
ID_RE = re.compile(rf"^{_UUID_PART}/{_FILENAME}$")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_JUNK.sub("-", folded.lower()).strip("-")


def normalise_filename(name: str | None, default_ext: str | None = None) -> str:
    """Return a safe, lower-case ASCII filename for *name*.

    The stem becomes a slug (accents folded, anything else collapsed to ``-``),
    known extension aliases are folded (``jpeg`` → ``jpg``), the result is never
    empty (``file``) and never longer than ``MAX_STEM`` + ``MAX_EXT`` + 1.
    *default_ext* is used when *name* has no extension.

    >>> normalise_filename("Été à Paris.TIFF")
    'ete-a-paris.tif'
    >>> normalise_filename("../../etc/passwd")
    'passwd'
    >>> normalise_filename("", default_ext="png")
    'file.png'
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = ext, ""
    ext = _slug(ext).replace("-", "")
    ext = EXTENSION_ALIASES.get(ext, ext)[:MAX_EXT]
    if not ext and default_ext:
        ext = EXTENSION_ALIASES.get(default_ext, default_ext)
    stem = _slug(stem)[:MAX_STEM].strip("-") or "file"
    return f"{stem}.{ext}" if ext else stem


def new_id(filename: str) -> str:
    """Make a fresh id for an already normalised *filename*.

    uuid4 (random), never uuid1: uuid1 would publish the host's MAC address and
    the upload time in every URL.
    """
    if not FILENAME_RE.fullmatch(filename):
        raise InvalidId(f"filename {filename!r} is not normalised; call normalise_filename first")
    h = uuid.uuid4().hex
    return f"{h[:8]}/{h[8:12]}/{h[12:16]}/{h[16:20]}/{h[20:]}/{filename}"


def parse_id(media_id: object) -> str:
    """Return *media_id* if it is a well-formed id, else raise :class:`InvalidId`."""
    if not isinstance(media_id, str) or not ID_RE.fullmatch(media_id):
        raise InvalidId(f"not a media id: {media_id!r}")
    return str(media_id)


def is_id(media_id: object) -> bool:
    """True when *media_id* is a well-formed id."""
    return isinstance(media_id, str) and ID_RE.fullmatch(media_id) is not None


def extension(media_id: str) -> str:
    """The extension of the id's filename (``""`` when it has none)."""
    name = filename(media_id)
    return name.rpartition(".")[2] if "." in name else ""


def filename(media_id: str) -> str:
    """The normalised filename at the end of *media_id*."""
    return media_id.rsplit("/", 1)[-1]


def key_prefix(media_id: str) -> str:
    """The key prefix that holds the original and every resize of *media_id*."""
    return parse_id(media_id) + "/"


def original_key(media_id: str) -> str:
    """The storage key of the original upload of *media_id*.

    >>> original_key("3c72aedc/ba25/41e6/a569/406c8f413974/a.png")
    '3c72aedc/ba25/41e6/a569/406c8f413974/a.png/a.png'
    """
    return key_prefix(media_id) + filename(media_id)


#: The first character of the last segment of a key the library keeps for
#: itself under an id (the source ladder, :mod:`s3media_wsgi.ladder`).  A
#: normalised filename and a variant both start with a letter or a digit, and
#: no id, filename or variant holds a ``_`` at all, so such a key is never an
#: original nor a resize, and ``/_`` in a key marks it: never served.
INTERNAL_MARK = "_"


def internal_key(media_id: str, name: str) -> str:
    """The key of *name* (which starts with :data:`INTERNAL_MARK`) under *media_id*'s prefix.

    >>> internal_key("3c72aedc/ba25/41e6/a569/406c8f413974/a.png", "_ladder.json")
    '3c72aedc/ba25/41e6/a569/406c8f413974/a.png/_ladder.json'
    """
    if not name.startswith(INTERNAL_MARK) or "/" in name:
        raise ValueError(f"an internal name starts with {INTERNAL_MARK!r} and has no '/': {name!r}")
    return key_prefix(media_id) + name


def is_internal_key(key: str) -> bool:
    """True when *key* is one the library keeps for itself (never served to a client).

    >>> is_internal_key("3c72aedc/ba25/41e6/a569/406c8f413974/a.png/_ladder.json")
    True
    >>> is_internal_key("3c72aedc/ba25/41e6/a569/406c8f413974/a.png/a.png")
    False
    """
    return "/" + INTERNAL_MARK in key or key.startswith(INTERNAL_MARK)


def split_key(key: str) -> tuple[str, str]:
    """Split a key under the media root into ``(id, last segment)``.

    Raises :class:`InvalidId` when *key* is not ``<id>/<segment>``.
    """
    media_id, _, last = key.rpartition("/")
    parse_id(media_id)
    if not last:
        raise InvalidId(f"not a media key: {key!r}")
    return media_id, last


@dataclass(frozen=True)
class MediaInfo:
    """What the upload pass learned about a file: :attr:`MediaId.info`, and ``"info"`` in the confirm route's JSON.

    ``width`` and ``height`` are upright; ``placeholder`` is a ThumbHash
    (base64, see :mod:`s3media_wsgi.placeholders`) and ``colour`` the
    dominant colour (``#rrggbb``), both None for files that are not images
    read here.  The fields after ``colour`` are room for what later passes learn.
    """

    content_type: str | None
    bytes: int | None
    width: int | None = None
    height: int | None = None
    placeholder: str | None = None
    colour: str | None = None
    #: Where the subject is, as fractions of width and height (not computed yet).
    focus: tuple[float, float] | None = None
    #: Seconds of a video or audio file (not computed yet).
    duration: float | None = None
    #: Pages of a PDF (not computed yet).
    pages: int | None = None

    def as_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready dict (``focus`` as a list)."""
        return {
            "content_type": self.content_type,
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
            "placeholder": self.placeholder,
            "colour": self.colour,
            "focus": list(self.focus) if self.focus is not None else None,
            "duration": self.duration,
            "pages": self.pages,
        }


class MediaId(str):
    """A media id, as returned by :meth:`Media.put`.

    It *is* the id string (store it as such); it also carries what ``put``
    learned about the file, so the caller can keep the dimensions next to it
    and hand them to :func:`Media.picture` later without any I/O.
    """

    width: int | None
    height: int | None
    content_type: str | None
    #: What the upload pass learned (None when the id was made from a string).
    info: MediaInfo | None

    def __new__(
        cls,
        value: str,
        width: int | None = None,
        height: int | None = None,
        content_type: str | None = None,
        info: MediaInfo | None = None,
    ) -> MediaId:
        self = super().__new__(cls, value)
        self.width, self.height, self.content_type, self.info = width, height, content_type, info
        return self


__all__ = [
    "MediaId",
    "MediaInfo",
    "EXTENSION_ALIASES",
    "ID_RE",
    "INTERNAL_MARK",
    "extension",
    "filename",
    "internal_key",
    "is_id",
    "is_internal_key",
    "key_prefix",
    "new_id",
    "normalise_filename",
    "original_key",
    "parse_id",
    "split_key",
]
