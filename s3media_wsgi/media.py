"""The :class:`Media` object: store and check files, build their URLs and signed resize URLs.

It is the library's one public face: resizes are made by
:mod:`s3media_wsgi.resizing`, direct uploads run in
:mod:`s3media_wsgi.direct_uploads`, and Media delegates to both under its
storage guard (:mod:`s3media_wsgi.resilience`).

>>> from s3media_wsgi import Media, LocalStorage
>>> media = Media(LocalStorage("media", base_url="/media/"), secret_key="demo-secret-0123456789-abcdefghijk")
>>> media_id = media.put(photo_bytes, filename="My Cat.JPEG")
>>> media_id
'.../.../.../.../.../my-cat.jpg'
>>> media.resize_url(media_id, "400x300", mode="fill")
'/media/.../my-cat.jpg/400x300-fill-85-noupscale-....jpg'
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, TypeVar, Union

from . import ids, previews
from .cleaning import clean
from .delivery import resize_base_url_for
from .direct_uploads import CONFIRMED_PREFIX_BYTES, Checked, ConfirmedUpload, ConfirmHook, DirectUploads
from .eager import EagerJob, Enqueue, ThreadRunner
from .errors import (
    AlreadyExists,
    ConfigError,
    ImageTooLarge,
    InvalidResize,
    InvalidSignature,
    MediaError,
    NotAnImage,
    NotFound,
    StorageUnavailable,
    UnsupportedMediaType,
    UploadTooLarge,
)
from .factory import build_storage, load_object, media_kwargs
from .formats import FileType, by_ext
from .ids import MediaId, MediaInfo
from .imaging import ImageEngine, ImageLimits, Original
from .ladder import Ladder
from .limits import (
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    DEFAULT_MAX_UPLOAD_BYTES,
    positive_int,
    too_large_message,
)
from .picture import SafeHTML, picture
from .previews import PreviewLimits
from .receipts import Receipts
from .resilience import (
    DEFAULT_BREAKER_COOLDOWN,
    DEFAULT_BREAKER_THRESHOLD,
    DEFAULT_MAX_STORAGE_REQUESTS,
    DEFAULT_STORAGE_BUDGET,
    StorageGuard,
)
from .resizing import Resizer
from .settings import MediaSettings, parse_settings
from .signing import HexSigner, Secret
from .sniff import DEFAULT_ALLOWED, MARKUP_BYTES, REFUSED, SNIFF_BYTES, TYPES, looks_like_markup, refused_kind, sniff
from .storage.base import (
    ObjectStorage,
    Storage,
    delete_keys,
    is_private,
    list_keys,
)
from .uploads import (
    DEFAULT_UPLOAD_EXPIRES,
    upload_target,
)
from .urls import check_base_url
from .variants import (
    DEFAULT_QUALITY,
    UNSET,
    FocusArg,
    Presets,
    ResizeSpec,
    default_format,
    frame_seconds,
    normalise_focus,
    parse_size,
    parse_variant,
)

log = logging.getLogger("s3media_wsgi")


Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]

F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Make *method* one guarded storage request: one time budget for all its storage calls.

    Each of its calls still needs a storage slot (``max_storage_requests``)
    and passes the circuit breaker (see :meth:`StorageGuard.call`); a
    request already running (a resize's) keeps its own budget.
    """

    @functools.wraps(method)
    def guarded(self: Media, *args: Any, **kwargs: Any) -> Any:
        with self.guard.request():
            return method(self, *args, **kwargs)

    return guarded  # type: ignore[return-value]


#: What a spec cache key holds for an id whose ``info.focus`` is not a focus.
_UNREADABLE = object()


def _info_focus(media_id: object) -> object:
    """The focus an id carries in its ``info`` (a :class:`MediaId`'s, or any object's with that field); else None."""
    info = getattr(media_id, "info", None)
    return getattr(info, "focus", None) if info is not None else None


def _read_source(src: Source, limit: int) -> tuple[bytes, str | None]:
    """Read at most ``limit + 1`` bytes from *src*; return them and a filename hint."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src[: limit + 1]), None
    if isinstance(src, (str, os.PathLike)):
        path = os.fspath(src)
        with open(path, "rb") as fh:
            return fh.read(limit + 1), os.path.basename(path)
    if hasattr(src, "read"):
        data = src.read(limit + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("file objects given to put() must be opened in binary mode")
        name = getattr(src, "filename", None) or getattr(src, "name", None)
        return bytes(data), os.path.basename(name) if isinstance(name, str) else None
    raise TypeError(f"put() takes a path, bytes or a binary file object, not {type(src).__name__}")


class Media:
    """The media layer: one per application, shared by every thread.

    :param storage: a :class:`~s3media_wsgi.LocalStorage`, :class:`~s3media_wsgi.S3Storage`
        or anything implementing :class:`~s3media_wsgi.storage.Storage`.
    :param secret_key: a secret of 32+ characters (str) or bytes (e.g.
        ``os.urandom(32)``), or a list of them: the first signs, every one
        verifies (rotate by putting the new key first).  Guessable secrets
        (``"a" * 32``, surrounding whitespace) are refused.
    :param presets: named sizes, e.g. ``{"thumb": {"size": "200x200", "mode": "fill"}}``.
    :param strict_presets: accept only preset sizes, both when building URLs and
        when serving them.
    :param max_pixels: largest source image (width × height) ever decoded.
    :param max_side: largest side of a resize.
    :param max_frames: most frames of an animation kept; longer ones give their first frame.
    :param max_upload_bytes: largest upload :meth:`put` accepts.
    :param allowed_types: kinds :meth:`put` accepts (see :data:`s3media_wsgi.sniff.TYPES`).
    :param max_concurrent_decodes: images decoded at once in this process
        (default: the number of CPUs).  What they may cost together is
        ``ImageLimits.decode_memory`` (default 1 GiB; see ``image_limits``).
    :param check_pixels: decode each image :meth:`put` or
        :meth:`confirm_upload` receives (the first frame, as cheaply as its
        format allows) and refuse one whose pixel data is cut short or
        corrupt, instead of storing a file no resize can ever be made from
        (default on; off, only the header is read).
    :param keep_metadata: store JPEG, PNG and WebP originals exactly as
        uploaded.  Off (the default), :meth:`put` and :meth:`confirm_upload`
        remove location (GPS), maker notes, XMP, comments and other metadata
        by dropping whole segments and chunks, never re-encoding: the pixels
        stay bit-identical, the ICC profile and orientation are kept (see
        :mod:`s3media_wsgi.cleaning` for the rules per format).
    :param image_limits: an :class:`~s3media_wsgi.imaging.ImageLimits` for the
        engine's other limits (metadata, JPEG scans, per-format output
        budgets, animation budgets); ``max_pixels``, ``max_side`` and
        ``max_frames`` above replace its fields of the same name.
    :param preview_limits: a :class:`~s3media_wsgi.previews.PreviewLimits`:
        what a still or the facts of a video or a PDF may cost (duration,
        decoded frames, pages, page size, inflated PDF streams, time).
    :param upload_expires: seconds a signed direct upload stays valid (default 600).
    :param resize_base_url: where resize URLs point instead of the storage
        (``base + key``).  A private bucket's resizes are answered by the app,
        so for one it defaults to ``"/media/"``: set it to the middleware's
        prefix (the settings do).
    :param storage_budget: seconds of storage time (retries included, wall
        clock: an S3 dripping its answer is cut off too) one media request
        may use before it is answered 503 (default 10).  A media request is a
        resize, or one call of a public method that touches storage
        (``put``, ``confirm_upload``, the multipart methods, ``get``,
        ``exists``, ``delete``, ``purge_resizes``).
    :param max_storage_requests: media requests allowed to wait for storage at
        once in this process (default 4); the next one waits half a second for
        a slot, then is answered 503, so a hung storage cannot occupy every
        server thread.  Keep it below your server's thread count.
    :param breaker_threshold: storage failures in a row (timeouts, refused
        connections, 5xx, throttling) after which every storage call fails at
        once (default 5)...
    :param breaker_cooldown: ...for this many seconds, before one trial call
        (default 10).  See :mod:`s3media_wsgi.resilience`.
    :param on_confirm: ``hook(upload)``, run by :meth:`confirm_upload` on each
        direct upload that passed every check, before it is published (a
        virus scan, moderation, the start of a transcoding job).  *upload* is
        a :class:`~s3media_wsgi.direct_uploads.ConfirmedUpload` (its id,
        type, size, image size, and ``read()`` of the checked bytes).  The
        hook refuses by raising :class:`~s3media_wsgi.errors.UploadRefusedByApp`
        with a message for the uploader: the upload is deleted and the confirm
        route answers 422 with that message.  Any other exception is a bug of
        the app: a 500 (logged with its traceback by the route), the upload
        kept for a retry.  Its return value is ignored.  Not run by
        :meth:`put`, whose caller is app code already.
    :param ladder: make each image's source ladder in the upload pass, from
        the pixel check's decode, and make later cold resizes from it: copies
        at 1/2 to 1/8 of the original's size (within a quarter of its bytes)
        stored beside it under names no URL reaches (default on; see
        :mod:`s3media_wsgi.ladder`).  Off, nothing is made and every resize
        reads the original.  Needs ``check_pixels``.
    :param enqueue: ``enqueue(job)`` runs the work of eager presets (presets
        marked ``"eager": True``) after each image :meth:`put` stores or
        :meth:`confirm_upload` publishes: *job* is an
        :class:`~s3media_wsgi.eager.EagerJob`, to call, or whose ``media_id``
        a task queue's worker passes to :meth:`make_eager`.  Default: a
        :class:`~s3media_wsgi.eager.ThreadRunner`, two threads of this
        process.  What it raises is logged, never raised to the uploader.
    """

    def __init__(
        self,
        storage: Storage,
        secret_key: Secret | Sequence[Secret],
        *,
        presets: Mapping[str, Mapping[str, Any]] | None = None,
        strict_presets: bool = False,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_side: int = DEFAULT_MAX_SIDE,
        max_frames: int = DEFAULT_MAX_FRAMES,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        allowed_types: Iterable[str] | None = None,
        max_concurrent_decodes: int | None = None,
        check_pixels: bool = True,
        keep_metadata: bool = False,
        image_limits: ImageLimits | None = None,
        preview_limits: PreviewLimits | None = None,
        upload_expires: int = DEFAULT_UPLOAD_EXPIRES,
        resize_base_url: str | None = None,
        storage_budget: float = DEFAULT_STORAGE_BUDGET,
        max_storage_requests: int = DEFAULT_MAX_STORAGE_REQUESTS,
        breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD,
        breaker_cooldown: float = DEFAULT_BREAKER_COOLDOWN,
        on_confirm: ConfirmHook | None = None,
        enqueue: Enqueue | None = None,
        ladder: bool = True,
    ) -> None:
        if not isinstance(storage, Storage):
            raise ConfigError(f"storage must implement the Storage protocol, got {type(storage).__name__}")
        for name, value in (
            ("max_pixels", max_pixels),
            ("max_side", max_side),
            ("max_frames", max_frames),
            ("max_upload_bytes", max_upload_bytes),
        ):
            positive_int(value, name)
        if image_limits is not None and not isinstance(image_limits, ImageLimits):
            raise ConfigError(f"image_limits must be an ImageLimits, not {type(image_limits).__name__}")
        # A keyword given here wins; left at its default, image_limits' own value stays.
        base = image_limits or ImageLimits()
        limits = dataclasses.replace(
            base,
            max_pixels=base.max_pixels if max_pixels == DEFAULT_MAX_PIXELS else max_pixels,
            max_side=base.max_side if max_side == DEFAULT_MAX_SIDE else max_side,
            max_frames=base.max_frames if max_frames == DEFAULT_MAX_FRAMES else max_frames,
        )
        self.storage = storage
        if resize_base_url is None:
            resize_base_url = resize_base_url_for(storage)
        self.resize_base_url = None if resize_base_url is None else check_base_url(resize_base_url, "resize_base_url")
        self.guard = StorageGuard(storage_budget, max_storage_requests, breaker_threshold, breaker_cooldown)
        self.signer = HexSigner(secret_key)
        self.max_side = limits.max_side
        self.max_upload_bytes = max_upload_bytes
        self.presets = Presets(presets, limits.max_side, strict_presets)
        self.strict_presets = self.presets.strict
        if preview_limits is not None and not isinstance(preview_limits, PreviewLimits):
            raise ConfigError(f"preview_limits must be a PreviewLimits, not {type(preview_limits).__name__}")
        self.engine = ImageEngine(limits, max_concurrent_decodes, preview_limits or PreviewLimits())
        if not isinstance(keep_metadata, bool):
            raise ConfigError(f"keep_metadata must be True or False, not {keep_metadata!r}")
        self.keep_metadata = keep_metadata
        if not isinstance(check_pixels, bool):
            raise ConfigError(f"check_pixels must be True or False, not {check_pixels!r}")
        self.check_pixels = check_pixels
        if not isinstance(ladder, bool):
            raise ConfigError(f"ladder must be True or False, not {ladder!r}")
        self.ladder = Ladder(storage, self.engine, self.guard, max_upload_bytes) if ladder else None
        if allowed_types is None:
            allowed = set(DEFAULT_ALLOWED)
            if not self.engine.can_read("heic"):
                allowed.discard("heic")
        else:
            allowed = set(allowed_types)
            unknown = allowed - set(TYPES)
            if unknown:
                raise ConfigError(f"allowed_types has unknown kinds {sorted(unknown)}; known: {sorted(TYPES)}")
        self.allowed_types = frozenset(allowed)
        self._accepted_labels = ", ".join(TYPES[kind].label for kind in TYPES if kind in self.allowed_types)
        self.resizer = Resizer(storage, self.engine, self.guard, max_upload_bytes, self.ladder)
        self.upload_expires = positive_int(upload_expires, "upload_expires")
        if on_confirm is not None and not callable(on_confirm):
            raise ConfigError(f"on_confirm must be a function of the upload, not {type(on_confirm).__name__}")
        self.on_confirm = on_confirm
        if enqueue is not None and not callable(enqueue):
            raise ConfigError(f"enqueue must be a function of a job, not {type(enqueue).__name__}")
        self.enqueue: Enqueue = enqueue if enqueue is not None else ThreadRunner()
        self.direct_uploads = DirectUploads(self, upload_target(storage, secret_key))
        self._spec_cache: dict[tuple[Any, ...], ResizeSpec] = {}
        self.receipts = Receipts(secret_key)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | MediaSettings, prefix: str = "") -> Media:
        """Build storage and Media from flat settings (see :mod:`s3media_wsgi.settings`).

        *settings* is a mapping of keys under *prefix* (parsed here) or an
        already parsed :class:`~s3media_wsgi.settings.MediaSettings`.  With
        ``media_factory`` set, the Media that factory returns.

            >>> import tempfile
            >>> settings = {"secret_key": "demo-secret-0123456789-abcdefghijk", "local_root": tempfile.mkdtemp()}
            >>> Media.from_settings(settings).storage.base_url
            '/media/'
        """
        if not isinstance(settings, MediaSettings):
            settings = parse_settings(settings, prefix=prefix)
        if settings.media_factory:
            media = load_object(settings.media_factory, "media_factory")()
            if not isinstance(media, Media):
                raise ConfigError(
                    f"media_factory = {settings.media_factory!r} returned {type(media).__name__}, not a Media"
                )
            return media
        return cls(build_storage(settings), **media_kwargs(settings))

    # --- storing -------------------------------------------------------------

    @_guarded
    def put(self, src: Source, filename: str | None = None, *, media_id: str | None = None) -> MediaId:
        """Store an upload and return its id.

        *src* is a path, bytes, or a binary file object.  The type is sniffed
        from the bytes; the stored filename is *filename* (or the source's own
        name) normalised, with the extension of the real type.  A JPEG, PNG
        or WebP is stored without its location, maker notes and XMP unless
        ``keep_metadata`` (:mod:`s3media_wsgi.cleaning`).  The id's ``info``
        (:class:`~s3media_wsgi.ids.MediaInfo`) holds what this pass learned:
        upright size, type, stored bytes, and, for an image whose pixels were
        checked, a ThumbHash placeholder and the dominant colour.  Keep
        ``media_id.stored`` (one string, the id first: see
        :attr:`~s3media_wsgi.MediaId.stored`) in your one text column: every
        method here taking an id takes it too, and :meth:`picture` then knows
        the size and the placeholder with no I/O.  Raises
        :class:`~s3media_wsgi.errors.UnsupportedMediaType`,
        :class:`~s3media_wsgi.errors.UploadTooLarge` or an image error; on any
        error nothing is stored.

        *media_id* stores the file under that id instead of a fresh one (an
        id a tool derives from something else, so that storing it again finds
        it): its extension must be the real type's (else
        :class:`~s3media_wsgi.errors.UnsupportedMediaType`), and an id taken
        already raises :class:`~s3media_wsgi.errors.AlreadyExists`.
        """
        data, hint = _read_source(src, self.max_upload_bytes)
        if len(data) > self.max_upload_bytes:
            raise UploadTooLarge(too_large_message(self.max_upload_bytes))
        checked = self._check_content(data)
        ftype, data = checked.ftype, checked.data
        fresh = media_id is None
        if media_id is None:
            name = ids.normalise_filename(filename or hint or "")
            stem = name.rpartition(".")[0] if "." in name else name
            media_id = ids.new_id(f"{stem}.{ftype.ext}")
        elif ids.extension(ids.parse_id(media_id)) != ftype.ext:
            raise UnsupportedMediaType(f"This file is {ftype.label}: its name must end in .{ftype.ext}.")
        key = ids.original_key(media_id)
        try:
            with self.guard.call():
                written = self.storage.put(key, data, ftype.mime)
        except StorageUnavailable:
            # The write may have landed anyway (a reply lost in a timeout):
            # remove it, so a failed put leaves nothing behind.  (A given id's
            # object may be another writer's: left alone.)
            if fresh:
                self._forget_failed_put(key)
            raise
        if not written and not self._is_our_write(key, len(data)):
            raise AlreadyExists(f"refusing to overwrite {media_id}")
        log.info("stored %s (%s, %d bytes)", media_id, ftype.mime, len(data))
        self._after_upload(media_id, checked)
        return MediaId(media_id, checked.width, checked.height, ftype.mime, checked.info)

    def _after_upload(self, media_id: str, checked: Checked) -> None:
        """Store the source ladder of a new image, then hand its eager presets to :attr:`enqueue`.

        Failures of either are only logged: the upload is stored.
        """
        ftype = checked.ftype
        if self.ladder is not None and ftype.is_image:
            self.ladder.store(media_id, checked.original, checked.rungs, drafted=ftype.kind == "jpeg")
        if not self.presets.eager or not ftype.is_image or not self.engine.can_read(ftype.kind):
            return
        try:
            self.enqueue(EagerJob(self, media_id))
        except Exception:
            log.exception("eager presets of %s not enqueued (first requests will make them)", media_id)

    def make_eager(self, media_id: str) -> list[str]:
        """Make and store the eager presets of *media_id* that are missing, from one decode; the keys made.

        What the eager runner calls after each upload; a task queue's worker
        calls it with the job's ``media_id``.  A resize that cannot be made
        is logged and left to its first request; an original gone by then
        (deleted while its job waited in a queue), or an id that is none,
        is logged and makes nothing; storage failures raise.
        """
        try:
            names = self.presets.eager
            wanted = [(self.resize_key(media_id, name), self.resize_spec(media_id, name)) for name in names]
            return self.resizer.create_many(media_id, wanted)
        except NotFound as exc:
            log.warning("eager presets of %s not made: no original (%s)", media_id, exc)
            return []

    def _is_our_write(self, key: str, size: int) -> bool:
        """True when the object a conditional put found at a fresh key is our own.

        The key holds a new uuid4, so the only writer that can have been first
        is this very put: a retried attempt whose first try landed and whose
        answer was lost (S3 then answers the retry 412).
        """
        if not isinstance(self.storage, ObjectStorage):
            return True
        try:
            with self.guard.call():
                return self.storage.head(key).size == size
        except MediaError:
            return False

    def _forget_failed_put(self, key: str) -> None:
        if isinstance(self.storage, ObjectStorage):
            try:
                with self.guard.cleanup(), self.guard.call():
                    self.storage.delete(key)
            except MediaError:
                log.warning("a failed put may have left %s behind", key)

    def check_type(self, head: bytes) -> FileType:
        """The real type of a file from its first bytes, when it is one of ``allowed_types``; no I/O.

        The first check :meth:`put` and :meth:`confirm_upload` make, for a
        form to make before anything is stored: give at least the first
        :data:`~s3media_wsgi.sniff.MARKUP_BYTES`.  Raises
        :class:`~s3media_wsgi.errors.UnsupportedMediaType` saying what was
        refused and what is accepted.

            >>> media.check_type(photo_bytes[:4096]).mime
            'image/jpeg'
        """
        ftype = sniff(head[:SNIFF_BYTES])
        if ftype is None or ftype.kind not in self.allowed_types:
            refused = None if ftype is not None else refused_kind(head[:MARKUP_BYTES])
            if ftype is None and refused is None:
                raise UnsupportedMediaType(f"File type not recognised. Accepted: {self._accepted_labels}.")
            what = ftype.label if ftype is not None else REFUSED[refused or ""]
            raise UnsupportedMediaType(f"File type not accepted: {what}. Accepted: {self._accepted_labels}.")
        return ftype

    def _check_content(self, data: bytes, *, pixels: bool = True, size: int | None = None) -> Checked:
        """Check *data* (an upload's bytes, or its first bytes when not an image, of *size* bytes in all).

        Every check ``put`` and ``confirm_upload`` share: the real type is
        sniffed and must be allowed, audio and video must carry no markup,
        an image must pass the structure walk and the header limits, and
        (``check_pixels``) its first frame must decode.  That one pass also
        makes the info (a placeholder and the dominant colour from the small
        decoded frame) and, unless ``keep_metadata``, the cleaned bytes to store.
        """
        ftype = self.check_type(data)
        if not ftype.is_image and ftype.kind != "pdf" and looks_like_markup(data):
            raise UnsupportedMediaType(f"File type not accepted: {ftype.label} carrying HTML markup.")
        size = len(data) if size is None else size
        if not ftype.is_image:
            return self._check_document(ftype, data, size, pixels)
        if not self.engine.can_read(ftype.kind):
            return Checked(ftype, None, None, data, MediaInfo(ftype.mime, size))
        decode = pixels and self.check_pixels
        probed = self.engine.probe(data, decode=decode, facts=decode, ladder=decode and self.ladder is not None)
        if not self.keep_metadata:
            data = clean(data, probed.orientation)
            size = len(data)
        placeholder = base64.b64encode(probed.placeholder).decode("ascii") if probed.placeholder else None
        info = MediaInfo(ftype.mime, size, probed.width, probed.height, placeholder, probed.colour)
        turned = probed.orientation >= 5
        stored_size = (probed.height, probed.width) if turned else (probed.width, probed.height)
        original = Original(*stored_size, probed.orientation) if probed.rungs else None
        return Checked(ftype, probed.width, probed.height, data, info, original, probed.rungs)

    def _check_document(self, ftype: FileType, data: bytes, size: int, pixels: bool) -> Checked:
        """A video, audio file or PDF: its facts from its previewer, when installed and *data* is all of it.

        Without the previewer's extra, or when the previewer cannot read the
        file (cut short, corrupt, over a :class:`~s3media_wsgi.previews.PreviewLimits`),
        it is stored as before, with its type and size only: these files were
        never decoded to be accepted, and a resize of one then answers 422.
        """
        found = None
        if pixels and self.check_pixels and len(data) == size:
            try:
                found = self.engine.preview_facts(data)
            except (NotAnImage, ImageTooLarge) as exc:
                log.info("no facts of a %s upload: %s", ftype.label, exc)
        if found is None:
            return Checked(ftype, None, None, data, MediaInfo(ftype.mime, size))
        facts, hashed, colour = found
        placeholder = base64.b64encode(hashed).decode("ascii") if hashed else None
        info = MediaInfo(
            ftype.mime, size, facts.width, facts.height, placeholder, colour,
            duration=facts.duration, pages=facts.pages, video_codec=facts.video_codec,
            audio_codec=facts.audio_codec, frame_rate=facts.frame_rate,
            page_width=facts.page_width, page_height=facts.page_height,
        )  # fmt: skip
        return Checked(ftype, facts.width, facts.height, data, info)

    # --- direct uploads (see s3media_wsgi.direct_uploads) ----------------------------

    def presign_upload(self, filename: str, content_type: str, *, size: int | None = None) -> dict[str, Any]:
        """Sign a browser's form upload (POST) of one file, straight to storage.

        The key is chosen here (a fresh id with the normalised *filename* and
        the extension of *content_type*, under ``uploads/``), never by the
        client; what is signed binds that key, *content_type* (which must be
        allowed), 1 to ``max_upload_bytes`` bytes (or *size*), the
        ``Cache-Control`` of stored objects, and expires after
        ``upload_expires`` seconds.  No request is made.

        Returns ``{"id", "key", "method": "POST", "url", "fields", "expires"}``:
        the browser POSTs a form with *fields*, then the file, to *url*, and
        the app then calls :meth:`confirm_upload`.

            >>> upload = media.presign_upload("Holiday.JPG", "image/jpeg")
            >>> upload["method"], upload["key"] == "uploads/" + upload["id"], upload["id"].endswith("/holiday.jpg")
            ('POST', True, True)
        """
        return self.direct_uploads.presign_upload(filename, content_type, size=size)

    @_guarded
    def create_multipart_upload(self, filename: str, content_type: str, *, size: int | None = None) -> dict[str, str]:
        """Start a multipart upload (for big files); ``{"id", "key", "upload_id"}``.

        The key is chosen as by :meth:`presign_upload`.  A part's size is
        bound when :meth:`sign_upload_part` is given it; the total is checked
        by :meth:`complete_multipart_upload` and again by :meth:`confirm_upload`.
        """
        return self.direct_uploads.create_multipart_upload(filename, content_type, size=size)

    def sign_upload_part(self, key: str, upload_id: str, part_number: int, *, size: int | None = None) -> str:
        """A URL the browser PUTs part *part_number* (1..10,000) to, valid ``upload_expires`` seconds.

        A key or upload id this app could not have issued is refused before
        any storage call, and so is a part number that would take the upload
        past ``max_upload_bytes`` in parts of S3's 5 MiB minimum.  With
        *size* (the part's bytes) the URL is bound to it: S3 signs its
        ``Content-Length``, local storage its own signature, so a part of any
        other length is refused when sent; a *size* over ``max_upload_bytes``,
        or that would take the upload over it after the parts before it
        (5 MiB at least each), is refused here.  Without it the total is
        still checked by :meth:`complete_multipart_upload`.
        """
        return self.direct_uploads.sign_upload_part(key, upload_id, part_number, size=size)

    @_guarded
    def list_upload_parts(self, key: str, upload_id: str) -> list[dict[str, object]]:
        """The parts uploaded so far: ``[{"PartNumber", "ETag", "Size"}]`` (to resume an upload)."""
        return self.direct_uploads.list_upload_parts(key, upload_id)

    @_guarded
    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[dict[str, object]]) -> str:
        """Assemble the uploaded *parts*; the pending object's location.

        The parts' total must be within ``max_upload_bytes``, or the upload
        is aborted and :class:`~s3media_wsgi.errors.UploadTooLarge` raised.
        """
        return self.direct_uploads.complete_multipart_upload(key, upload_id, parts)

    @_guarded
    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Drop a multipart upload and its parts."""
        self.direct_uploads.abort_multipart_upload(key, upload_id)

    @_guarded
    def confirm_upload(self, key_or_id: str, *, pending_only: bool = False) -> MediaId:
        """Check what a direct upload delivered and make it media; its :class:`MediaId`.

        The pending object must exist, be within ``max_upload_bytes``, sniff
        to an allowed type equal to the declared one, carry no markup (audio,
        video) and pass the image limits (checked as :meth:`put` does).  What
        is published at the media key is exactly what was checked, whatever
        the client sends to its still valid form meanwhile: an image from the
        bytes read and checked (a conditional write; a JPEG, PNG or WebP
        cleaned of its location, maker notes and XMP first, unless
        ``keep_metadata``), any other file from a
        copy only the server writes (see :func:`~s3media_wsgi.uploads.staging_key`),
        checked, then copied (server-side on S3).  The pending object is then
        deleted.  The id's ``info`` is what :meth:`put` gives.  Otherwise the pending object is deleted and a
        :class:`~s3media_wsgi.errors.MediaError` says why.  Until this
        returns, the upload has no URL and no resize.

        Confirming what is media already (twice, or by two processes at once)
        gives the same id, with the type and the size its header gives (from
        its first :data:`CONFIRMED_PREFIX_BYTES`: the original is never read
        whole again, nor decoded); a file sent again to the form after its
        confirm is deleted, never published.  With *pending_only* (what the
        ``s3/confirm`` route asks), only one caller ever confirms an upload:
        every other one, and any confirm of an id that is media already, gets
        :class:`~s3media_wsgi.errors.AlreadyConfirmed` (409) and nothing is read.
        """
        return self.direct_uploads.confirm_upload(key_or_id, pending_only=pending_only)

    def upload_receipt(self, media_id: str, bound_to: str | None = None) -> str:
        """A signed, short-lived receipt for *media_id*, for a form to send back instead of the bare id.

        The confirm route gives one to the page that uploaded (bound to what
        the ``uploads`` hook returned, when it returned a string); forms check
        it with :meth:`check_receipt`, so a user can only attach media they
        uploaded.  A :class:`MediaId` with ``info`` (what :meth:`confirm_upload`
        returns) has its stored value signed into the receipt, so the form
        gets the size and placeholder back without reading storage.  No I/O.
        See :mod:`s3media_wsgi.receipts`.
        """
        return self.receipts.issue(media_id, bound_to)

    def check_receipt(self, receipt: str, bound_to: str | None = None) -> MediaId:
        """The :class:`MediaId` *receipt* was issued for, with the info it carries (signed with it);
        :class:`~s3media_wsgi.errors.InvalidUpload` when it is forged, expired, or bound to someone else.
        No I/O."""
        return self.receipts.check(receipt, bound_to)

    @_guarded
    def exists(self, media_id: str) -> bool:
        """True when the original of *media_id* is stored."""
        key = ids.original_key(ids.id_of(media_id))
        with self.guard.call():
            return self.storage.exists(key)

    @_guarded
    def delete(self, media_id: str) -> int:
        """Delete the original, every resize and the source ladder of *media_id*; return how many objects went."""
        media_id = ids.id_of(media_id)
        prefix = ids.key_prefix(media_id)
        with self.guard.call():
            count = self.storage.delete_prefix(prefix)
        if self.ladder is not None:
            self.ladder.forget(media_id)
        log.info("deleted %s (%d objects)", media_id, count)
        return count

    @_guarded
    def purge_resizes(self, media_id: str) -> int:
        """Delete every resize of *media_id*, keep its original; return how many went.

        They are made again on their next request.  The source ladder is kept
        too: its rungs are copies of the original, made once from the upload,
        not resizes (:meth:`delete` removes them with the original).  Needs a storage that lists
        keys (``list_keys``, see :mod:`s3media_wsgi.storage.base`); both
        built-in backends do.
        """
        media_id = ids.id_of(media_id)
        original = ids.original_key(media_id)
        with self.guard.call():
            keys = list_keys(self.storage, ids.key_prefix(media_id))
        resizes = [key for key in keys if key != original and not ids.is_internal_key(key)]
        if not resizes:
            return 0
        with self.guard.call():
            count = delete_keys(self.storage, resizes)
        log.info("purged the resizes of %s (%d objects)", media_id, count)
        return count

    @_guarded
    def get(self, media_id: str) -> bytes:
        """The original bytes of *media_id*."""
        key = ids.original_key(ids.id_of(media_id))
        with self.guard.call():
            return self.storage.get(key)

    # --- URLs (pure computation: no I/O) ---------------------------------------
    # Each takes a plain id, a MediaId, or a stored value (MediaId.stored), as
    # exists/get/delete/purge_resizes do: ids.id_of is the one reading of them.

    def url(self, media_id: str, *, download_name: str | None = None) -> str:
        """URL of the original; with a private bucket, a presigned GET.

        *download_name* (private buckets only) makes the browser save the file
        under that name, sanitised.
        """
        key = ids.original_key(ids.id_of(media_id))
        if download_name is None:
            return self.storage.url(key)
        if not is_private(self.storage):
            raise ConfigError("download_name needs a private bucket (S3Storage(private=True))")
        return self.storage.url(key, download_name=download_name)  # type: ignore[call-arg]

    def _spec(
        self,
        media_id: str | None,
        size: str,
        mode: str = "fit",
        quality: int = DEFAULT_QUALITY,
        format: str | None = None,
        upscale: bool = False,
        focus: FocusArg = None,
        page: int = 1,
        frame: float | None = None,
    ) -> ResizeSpec:
        w, h = parse_size(size)
        stored = by_ext(ids.extension(media_id)) if media_id else None
        if format is None:
            format = default_format(ids.extension(media_id)) if media_id else None
        # page= and frame= only where a previewer honours them (a PDF's page, a video's frame).
        taken = previews.options(stored.kind) if stored is not None else frozenset()
        for name, value, default in (("page", page, 1), ("frame", frame, None)):
            if value != default and name not in taken:
                raise InvalidResize(f"{name}= is for {'PDFs' if name == 'page' else 'videos'}, not {media_id}")
        if frame is not None:
            frame = frame_seconds(frame)
        if focus is UNSET:
            focus = None
        spec = ResizeSpec(
            w, h, mode, quality, bool(upscale), format or "jpg", normalise_focus(focus), page=page, frame=frame
        )
        return spec.validate(self.max_side)

    def resize_spec(self, media_id: str, size: str, **options: Any) -> ResizeSpec:
        """Resolve *size* (``"400x300"`` or a preset name) and options to a spec.

        A ``fill`` crop told no ``focus`` takes the id's ``info.focus``, else
        its preset's (see :meth:`resize_url`).
        """
        if options.get("focus", UNSET) is UNSET:
            options.pop("focus", None)
        if not isinstance(media_id, MediaId):
            media_id = MediaId.from_stored(media_id)  # a stored value: its id, with its info
        stored = None if "focus" in options else _info_focus(media_id)
        media_id = ids.parse_id(media_id)
        size, resolved = self.presets.resolve(size, options)
        if resolved.get("mode", "fit") != "fill" and "focus" not in options:
            resolved.pop("focus", None)  # a preset's crop turned into a fit by this call: nothing to place
        elif stored is not None:
            resolved["focus"] = stored
        return self._spec(media_id, size, **resolved)

    def resize_key(
        self,
        media_id: str,
        size: str,
        mode: str | None = None,
        quality: int | None = None,
        format: str | None = None,
        upscale: bool | None = None,
        *,
        focus: FocusArg = UNSET,
        page: int | None = None,
        frame: float | None = None,
    ) -> str:
        """Storage key of a resize (``<id>/<variant>``); see :meth:`resize_url`."""
        if not isinstance(media_id, str) or not ids.ID_RE.fullmatch(media_id):
            # A stored value gives its id and its info (a crop's focus); anything else raises InvalidId.
            media_id = MediaId.from_stored(media_id)
        # Pages build many URLs for few distinct sizes: resolve and validate each
        # size once, so a URL costs one regex, one HMAC and two string joins.
        stored: object = None
        if focus is UNSET:
            told: object = UNSET
            try:
                stored = normalise_focus(_info_focus(media_id))
            except InvalidResize:
                # A stored focus that is none: its fits are still fine; its crops raise in resize_spec.
                stored = _UNREADABLE
        else:
            told = normalise_focus(focus)
        cache_key = (size, mode, quality, format, upscale, told, stored, page, frame, ids.extension(media_id))
        spec = self._spec_cache.get(cache_key)
        if spec is None:
            given = {
                "mode": mode, "quality": quality, "format": format, "upscale": upscale, "page": page, "frame": frame,
            }  # fmt: skip
            options: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
            if focus is not UNSET:
                options["focus"] = focus
            spec = self.resize_spec(media_id, size, **options)
            if len(self._spec_cache) < 4096:
                self._spec_cache[cache_key] = spec
        return f"{media_id}/{spec.variant(self.signer.sign(spec.message(media_id)))}"

    def resize_url(
        self,
        media_id: str,
        size: str,
        mode: str | None = None,
        quality: int | None = None,
        format: str | None = None,
        upscale: bool | None = None,
        *,
        focus: FocusArg = UNSET,
        page: int | None = None,
        frame: float | None = None,
    ) -> str:
        """Signed URL of *media_id* resized to *size*; no network call.

        *size* is ``"WxH"``, ``"Wx"``, ``"xH"`` or a preset name.  *mode* is
        ``fit`` (inside the box, aspect kept; the default) or ``fill`` (cover
        the box, cropped).  *quality* defaults to 85.  *format* defaults
        to the original's when it is one of jpg/png/webp/avif/gif, else jpg.
        Without *upscale* (the default) a small source is never enlarged.  For
        a preset, the preset's options apply and any option given here
        replaces its own.

        A video or a PDF has resizes too: of a still (:mod:`s3media_wsgi.previews`,
        with the ``video`` or ``pdf`` extra installed): a representative frame
        of a video, or the frame at *frame* seconds; page 1 of a PDF, or
        *page*.  Their format defaults to jpg.

        *focus* places a ``fill`` crop: a point ``(x, y)`` in fractions of the
        upright original (kept as near the crop's centre as the picture
        allows; rounded to hundredths), ``"auto"`` (the region that draws the
        eye, found when the resize is made), ``"faces"`` (faces, with the
        ``faces`` extra; else as ``auto``), or None / ``"centre"``.  Not told,
        a crop takes the focus of *media_id*'s ``info`` (a
        :class:`~s3media_wsgi.MediaId` whose upload set one), else its
        preset's, else the centre.  Told with ``mode="fit"`` it is refused
        (:class:`~s3media_wsgi.errors.InvalidResize`): a fit has no crop.

            >>> media.resize_url(media_id, "300x300", mode="fill", focus=(0.25, 0.4))
            '/media/.../cat.jpg/300x300-fill-85-noupscale-f25x40-....jpg'
        """
        key = self.resize_key(media_id, size, mode, quality, format, upscale, focus=focus, page=page, frame=frame)
        if self.resize_base_url is not None:
            # Private buckets: the app answers resize URLs (302 to a presigned GET).
            return self.resize_base_url + key
        # storage.url is the only way to a stored object's URL, so a backend
        # that signs or rewrites URLs applies to resizes too.
        return self.storage.url(key)

    def picture(self, media_id: str, *args: Any, **kwargs: Any) -> SafeHTML:
        """Responsive ``<picture>`` markup of signed resize URLs; see :func:`s3media_wsgi.picture.picture`.

        >>> media.picture(media_id, sizes=[320, 640], alt="A cat").startswith("<picture><source")
        True
        """
        return picture(self, media_id, *args, **kwargs)

    # --- serving ---------------------------------------------------------------

    def verify_resize(self, path: str) -> tuple[str, ResizeSpec]:
        """Check a resize path (``<id>/<variant>``) and return ``(id, spec)``.

        Raises a :class:`~s3media_wsgi.errors.NotFound` subclass when the path is
        malformed or its signature does not verify (strangers learn nothing from
        which), :class:`~s3media_wsgi.errors.InvalidResize` when it is signed but
        out of this configuration's range.
        """
        media_id, variant = ids.split_key(path)
        spec, signature = parse_variant(variant)
        self.signer.check(spec.message(media_id), signature)
        spec.validate(self.max_side)
        if not self.presets.admits(spec):
            raise InvalidSignature(f"strict_presets: {spec.stem} is not a preset size")
        return media_id, spec

    def create_resize(self, path: str) -> str:
        """Make the resize at *path* (``<id>/<variant>``) unless it exists; return its key.

        Idempotent and safe to call from many threads or processes at once:
        within a process identical calls share one computation; across
        processes the conditional write makes the first writer win and every
        other one succeed without overwriting.
        """
        media_id, spec = self.verify_resize(path)
        return self.resizer.create(path, media_id, spec)

    def fetch_resize(self, path: str) -> tuple[str, bytes, str]:
        """The resize at *path*, made and stored if missing: ``(key, bytes, content type)``.

        For the ``serve`` delivery mode, where the app answers with the image
        itself: one storage call when the resize exists (GET), three when it
        is made (GET, GET of the original, conditional PUT).  Identical
        concurrent calls share one computation, as :meth:`create_resize`.
        """
        media_id, spec = self.verify_resize(path)
        return self.resizer.fetch(path, media_id, spec)


__all__ = ["CONFIRMED_PREFIX_BYTES", "ConfirmedUpload", "Media", "MediaId"]
