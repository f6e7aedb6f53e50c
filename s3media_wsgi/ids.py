"""Media ids, filename normalisation and storage keys.

An id is a random uuid4 written as five folders, then a normalised filename::

    3c72aedc/ba25/41e6/a569/406c8f413974/my-photo-1.jpg

The original is stored at ``<id>/<filename>`` and every resize of it at
``<id>/<variant>``, so an id owns exactly one key prefix (``<id>/``) and deleting
an id touches nothing else.  (On disk, ``<id>`` is a folder: that is why the
original is not stored at ``<id>`` itself.)

What an app stores is :attr:`MediaId.stored`: the id, then what the upload
pass learned (:class:`MediaInfo`), in one short string that
:meth:`MediaId.from_stored` reads back (a plain id too), with no I/O.

    >>> normalise_filename("My Photo #1?.JPEG")
    'my-photo-1.jpg'
    >>> parse_id("3c72aedc/ba25/41e6/a569/406c8f413974/my-photo-1.jpg")
    '3c72aedc/ba25/41e6/a569/406c8f413974/my-photo-1.jpg'
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .errors import InvalidId
from .formats import EXT_ALIASES
from .variants import focus_point

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

    ``width`` and ``height`` are upright (a video's rotation applied; a
    PDF's first page in points); ``placeholder`` is a ThumbHash (base64, see
    :mod:`s3media_wsgi.placeholders`) and ``colour`` the dominant colour
    (``#rrggbb``), of the image, a video's poster frame or a PDF's first
    page; None where nothing was decoded (a video or PDF without its extra).
    The fields after ``colour`` are room for what later passes learn.
    """

    content_type: str | None
    bytes: int | None
    width: int | None = None
    height: int | None = None
    placeholder: str | None = None
    colour: str | None = None
    #: Where the subject is, as fractions of width and height (not computed yet).
    focus: tuple[float, float] | None = None
    #: Seconds of a video or audio file.
    duration: float | None = None
    #: Pages of a PDF.
    pages: int | None = None
    #: The codecs of a video's first video and audio streams, FFmpeg's names (``"h264"``, ``"opus"``).
    video_codec: str | None = None
    audio_codec: str | None = None
    #: Frames per second of a video (its average).
    frame_rate: float | None = None
    #: The size of a PDF's first page, in points (1/72 in); ``width`` and ``height`` are these rounded.
    page_width: float | None = None
    page_height: float | None = None

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
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "frame_rate": self.frame_rate,
            "page_width": self.page_width,
            "page_height": self.page_height,
        }


_M = typing.TypeVar("_M", bound="MediaId")


class MediaId(str):
    """A media id, as returned by :meth:`Media.put`.

    It *is* the id string; it also carries what ``put`` learned about the
    file (:attr:`info`).  Store :attr:`stored` rather than the bare id: one
    short string with the id first and the info after it, which
    :meth:`from_stored` (and every :class:`~s3media_wsgi.Media` method taking
    an id) reads back, so pages get the size and the placeholder without any
    I/O::

        >>> info = MediaInfo("image/jpeg", 48213, 800, 600, "1QcSHQRnh493V4dIh4eXh1h4kJUI", "#7f8a3c")
        >>> media_id = MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", 800, 600, "image/jpeg", info)
        >>> media_id.stored
        '3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg;t=image/jpeg;b=48213;w=800;h=600;p=1QcSHQRnh493V4dIh4eXh1h4kJUI;c=#7f8a3c'
        >>> again = MediaId.from_stored(media_id.stored)
        >>> again == media_id, again.width, again.info == info
        (True, 800, True)
        >>> MediaId.from_stored("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg").info is None   # a plain id
        True
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

    def with_focus(self: _M, focus: object) -> _M:
        """This id with *focus* in its info (where ``fill`` crops are centred); no I/O.

        *focus* is a point of fractions 0-1 (a pair, or ``"x,y"`` as a form
        sends it), or None / ``""`` / ``"centre"`` for none; anything else
        raises :class:`~s3media_wsgi.errors.InvalidResize` (a person's focus is
        a point, not ``"auto"``).  An id with no info gets one holding the
        focus only.  The id itself is the same: the stored file is kept.

            >>> MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/a.jpg").with_focus("0.3,0.25").stored
            '3c72aedc/ba25/41e6/a569/406c8f413974/a.jpg;f=0.3,0.25'
        """
        point = focus_point(focus)
        info = self.info
        if info is None:
            if point is None:
                return self
            info = MediaInfo(self.content_type, None, self.width, self.height, focus=point)
        elif info.focus == point:
            return self
        else:
            info = dataclasses.replace(info, focus=point)
        return type(self)(str(self), self.width, self.height, self.content_type, info)

    @property
    def stored(self) -> str:
        """The id and its info as one canonical string (at most :data:`MAX_STORED_LENGTH` characters).

        ``<id>;<key>=<value>;...``: each :class:`MediaInfo` field that is not
        None, in the dataclass's order, under a one-letter key for the fields
        known today (``t`` content type, ``b`` bytes, ``w``/``h`` width and
        height, ``p`` placeholder, ``c`` colour, ``f`` focus, ``d`` duration,
        ``n`` pages) and under its own name for fields added later.  Numbers
        are written in decimal (floats as Python's shortest ``repr``), pairs
        joined by ``,``.  Text is percent-encoded (UTF-8) outside printable
        ASCII and for ``;``, ``:``, ``,``, ``%``, quotes, ``<``, ``>``, ``&``,
        the backslash and the backtick, so a stored
        value never holds a ``:`` (receipts carry it), a space or markup.  No
        info: the bare id.  A value that would be longer than
        :data:`MAX_STORED_LENGTH` raises :class:`~s3media_wsgi.errors.InvalidId`;
        a field whose value does not have its declared type (a NaN, a str
        for an int) raises ``TypeError``.
        """
        info = self.info
        if info is None and (self.width is not None or self.height is not None or self.content_type is not None):
            info = MediaInfo(self.content_type, None, self.width, self.height)
        return stored_value(str(self), info)

    @classmethod
    def from_stored(cls, value: object) -> MediaId:
        """The :class:`MediaId` of a stored value (see :attr:`stored`), a plain id, or a MediaId (given back).

        Raises :class:`~s3media_wsgi.errors.InvalidId` for anything else: not a
        ``str``, longer than :data:`MAX_STORED_LENGTH`, an id that is not one,
        a field given twice or a value of the wrong shape.  Linear in its
        input, which is bounded before any work.  A field this version does
        not know (written by a newer one) is skipped.
        """
        if isinstance(value, MediaId) and ID_RE.fullmatch(value):
            if isinstance(value, cls):
                return value
            return cls(str(value), value.width, value.height, value.content_type, value.info)
        media_id, info = parse_stored(value)
        if info is None:
            return cls(media_id)
        return cls(media_id, info.width, info.height, info.content_type, info)


# --- the stored value ---------------------------------------------------------

#: The longest stored value accepted (:attr:`MediaId.stored`); a typical photo's is about 130 characters.
MAX_STORED_LENGTH = 512
#: Separates the id from the info, and each info field from the next; never in an id.
STORED_SEPARATOR = ";"
#: The short keys of the fields known when the format was made; a field added later is stored under its name.
STORED_KEYS = {
    "content_type": "t",
    "bytes": "b",
    "width": "w",
    "height": "h",
    "placeholder": "p",
    "colour": "c",
    "focus": "f",
    "duration": "d",
    "pages": "n",
    "video_codec": "vc",
    "audio_codec": "ac",
    "frame_rate": "r",
    "page_width": "pw",
    "page_height": "ph",
}

_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")
_FLOAT_RE = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,20})?(?:e[-+]?[0-9]{1,3})?")
# Kept as is in text: printable ASCII but the separators (";" fields, ":" receipts, "," pairs), "%", and
# what markup, quoting or a shell would read (" ' < > & \ `): a stored value is inert wherever it lands.
_PLAIN = r"\x21\x23\x24\x28-\x2b\x2d-\x39\x3d\x3f-\x5b\x5d-\x5f\x61-\x7e"
_TEXT_RE = re.compile(rf"(?:[{_PLAIN}]|%[0-9A-F]{{2}})*")
_ESCAPED_RE = re.compile(rf"[^{_PLAIN}]")


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode("utf-8"))


def _encode_text(text: str) -> str:
    return _ESCAPED_RE.sub(_percent, text)


def _decode_text(raw: str) -> str:
    if not _TEXT_RE.fullmatch(raw):
        raise ValueError("a character that must be percent-encoded, or a malformed escape")
    return unquote(raw, errors="strict") if "%" in raw else raw


def _encode_int(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"not an int: {value!r}")
    return str(value)


def _decode_int(raw: str) -> int:
    if not _INT_RE.fullmatch(raw):
        raise ValueError("not an integer")
    return int(raw)


def _encode_float(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"not a finite number: {value!r}")
    return repr(float(value))


def _decode_float(raw: str) -> float:
    if not _FLOAT_RE.fullmatch(raw):
        raise ValueError("not a number")
    number = float(raw)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _encode_bool(value: object) -> str:
    if not isinstance(value, bool):
        raise TypeError(f"not a bool: {value!r}")
    return "1" if value else "0"


def _decode_bool(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError("not 0 or 1")
    return raw == "1"


_Codec = tuple[Callable[[Any], str], Callable[[str], Any]]
_SCALARS: dict[object, _Codec] = {
    str: (_encode_text, _decode_text),
    int: (_encode_int, _decode_int),
    float: (_encode_float, _decode_float),
    bool: (_encode_bool, _decode_bool),
}


def _codec(hint: object, name: str) -> _Codec:
    """How a field of type *hint* is written and read: a scalar, or a tuple of scalars joined by ``,``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kept = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(kept) != 1:
            raise TypeError(f"MediaInfo.{name}: a stored value holds one type (or None), not {hint!r}")
        hint = kept[0]
    if hint in _SCALARS:
        return _SCALARS[hint]
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        variadic = len(args) == 2 and args[1] is Ellipsis
        items = [_codec(arg, name) for arg in (args[:1] if variadic else args)]

        def encode(value: Any) -> str:
            values = tuple(value)
            if not variadic and len(values) != len(items):
                raise TypeError(f"{name} has {len(items)} items, not {len(values)}")
            return ",".join((items[0] if variadic else items[i])[0](v) for i, v in enumerate(values))

        def decode(raw: str) -> tuple[Any, ...]:
            parts = raw.split(",")
            if not variadic and len(parts) != len(items):
                raise ValueError(f"{len(items)} items expected")
            return tuple((items[0] if variadic else items[i])[1](part) for i, part in enumerate(parts))

        return encode, decode
    raise TypeError(f"MediaInfo.{name}: a stored value cannot hold a {hint!r}")


@dataclass(frozen=True)
class _StoredField:
    name: str
    key: str
    encode: Callable[[Any], str]
    decode: Callable[[str], Any]


def _stored_fields() -> tuple[_StoredField, ...]:
    """Every field of :class:`MediaInfo`, in its order, with its key and codec (made once, at import)."""
    hints = typing.get_type_hints(MediaInfo)
    fields = []
    for field in dataclasses.fields(MediaInfo):
        key = STORED_KEYS.get(field.name, field.name)
        if not _KEY_RE.fullmatch(key):
            raise TypeError(f"MediaInfo.{field.name}: {key!r} cannot be a stored value's key")
        fields.append(_StoredField(field.name, key, *_codec(hints[field.name], field.name)))
    if len({f.key for f in fields}) != len(fields):
        raise TypeError("two MediaInfo fields have the same stored key")
    return tuple(fields)


_FIELDS = _stored_fields()
_BY_KEY = {field.key: field for field in _FIELDS}
# The fields MediaInfo requires (no default): None when a stored value leaves them out.
_REQUIRED = {f.name: None for f in dataclasses.fields(MediaInfo) if f.default is dataclasses.MISSING}


def stored_value(media_id: str, info: MediaInfo | None) -> str:
    """*media_id* and *info* as one string: what :attr:`MediaId.stored` gives (see there)."""
    parts = [parse_id(str(media_id))]
    if info is not None:
        for field in _FIELDS:
            value = getattr(info, field.name)
            if value is not None:
                parts.append(f"{field.key}={field.encode(value)}")
    text = STORED_SEPARATOR.join(parts)
    if len(text) > MAX_STORED_LENGTH:
        raise InvalidId(f"the stored value of {media_id} would be {len(text)} characters; {MAX_STORED_LENGTH} at most")
    return text


def parse_stored(value: object) -> tuple[str, MediaInfo | None]:
    """``(id, info)`` of a stored value or a plain id (info None); see :meth:`MediaId.from_stored`."""
    if not isinstance(value, str) or len(value) > MAX_STORED_LENGTH:
        raise InvalidId(f"not a media id: {_shown(value)}")
    media_id, separator, rest = value.partition(STORED_SEPARATOR)
    if not ID_RE.fullmatch(media_id):
        raise InvalidId(f"not a media id: {_shown(value)}")
    if not separator:
        return str(media_id), None
    given: dict[str, Any] = {}
    for part in rest.split(STORED_SEPARATOR):
        key, equals, raw = part.partition("=")
        field = _BY_KEY.get(key) if equals else None
        if field is None:
            if not equals or not _KEY_RE.fullmatch(key):
                raise InvalidId(f"not a stored media value (field {part[:40]!r}): {_shown(value)}")
            continue  # written by a newer version: skipped, the rest still holds
        if field.name in given:
            raise InvalidId(f"not a stored media value ({key} twice): {_shown(value)}")
        try:
            given[field.name] = field.decode(raw)
        except (ValueError, TypeError):
            raise InvalidId(f"not a stored media value ({key}={raw[:40]!r}): {_shown(value)}") from None
    return str(media_id), MediaInfo(**{**_REQUIRED, **given})


def _shown(value: object) -> str:
    """*value* for an error message, cut short (a hostile value may be long)."""
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def id_of(value: object) -> str:
    """The plain id of a plain id, a :class:`MediaId` or a stored value; :class:`InvalidId` otherwise."""
    if isinstance(value, str) and ID_RE.fullmatch(value):
        return str(value)
    return parse_stored(value)[0]


__all__ = [
    "MediaId",
    "MediaInfo",
    "EXTENSION_ALIASES",
    "ID_RE",
    "INTERNAL_MARK",
    "MAX_STORED_LENGTH",
    "STORED_KEYS",
    "STORED_SEPARATOR",
    "extension",
    "filename",
    "id_of",
    "internal_key",
    "is_id",
    "is_internal_key",
    "key_prefix",
    "new_id",
    "normalise_filename",
    "original_key",
    "parse_id",
    "parse_stored",
    "split_key",
    "stored_value",
]
