"""Direct uploads: the whole workflow of a browser sending a file to storage itself, up to its confirm.

:class:`DirectUploads` signs form uploads and multipart part URLs (to S3, or
to the middleware for local storage, through
:class:`~s3media_wsgi.uploads.LocalUploads`), completes and aborts multipart
uploads, and confirms what arrived: the checks :meth:`Media.put
<s3media_wsgi.Media.put>` makes, then publishing exactly what was checked.
The keys, limits and local signing it relies on are in
:mod:`s3media_wsgi.uploads`.  A :class:`~s3media_wsgi.Media` has one (its
``direct_uploads``) and delegates its upload methods to it, under its own
storage guard; the upload routes (:mod:`s3media_wsgi.upload_api`) reach the
storage's upload target through it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import ids, previews
from .errors import (
    AlreadyConfirmed,
    ConfigError,
    InvalidUpload,
    MediaError,
    NotFound,
    UnsupportedMediaType,
    UploadRefusedByApp,
    UploadTooLarge,
)
from .formats import FileType
from .ids import MediaId, MediaInfo
from .imaging import ImageEngine, Original, Rendered
from .limits import too_large_message
from .resilience import StorageGuard
from .singleflight import SingleFlight
from .sniff import MARKUP_BYTES, SNIFF_BYTES, TYPES, sniff
from .storage.base import ObjectInfo, ObjectStorage, Storage, UploadStorage
from .uploads import (
    MIN_PART_SIZE,
    LocalUploads,
    check_part_number,
    check_parts,
    check_upload_id,
    media_id_of,
    pending_key,
    staging_key,
)

log = logging.getLogger("s3media_wsgi")

#: Bytes of an original a confirm of what is media already reads: its type and,
#: for most images, its header size (a JPEG with more metadata first gives no size).
CONFIRMED_PREFIX_BYTES = 64 * 1024


@dataclass(frozen=True)
class ConfirmedUpload:
    """What an ``on_confirm`` hook is given: a direct upload that passed every check, not yet published.

    *media_id* is the id it will have; *content_type* its sniffed type (the
    declared one, which the checks made sure it is); *size* its bytes;
    *width* and *height* an image's upright size (None otherwise).
    :meth:`read` gives the checked bytes themselves: what will be published,
    whatever the client sends to its pending key meanwhile (an image's bytes
    already read; any other file read from the server-only staged copy at
    *staged_key*, which the hook may also hand to a scanner that reads the
    bucket itself; None for an image, whose bytes are only in memory).
    """

    media_id: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    staged_key: str | None
    _read: Callable[[], bytes] = field(repr=False, compare=False)

    def read(self) -> bytes:
        """The checked bytes (at most ``max_upload_bytes``): one storage read for a file that is not an image."""
        return self._read()


#: An ``on_confirm`` hook: refuses by raising :class:`~s3media_wsgi.errors.UploadRefusedByApp`; its return is ignored.
ConfirmHook = Callable[[ConfirmedUpload], object]


@dataclass(frozen=True)
class Checked:
    """What the checks of an upload found: its type and size, the bytes to store, and its info."""

    ftype: FileType
    width: int | None
    height: int | None
    #: What is stored: an image read whole, cleaned (unless ``keep_metadata``); else the bytes checked.
    data: bytes
    info: MediaInfo
    #: The source ladder made from the check's decode (see :mod:`s3media_wsgi.ladder`), stored after the original.
    original: Original | None = None
    rungs: tuple[Rendered, ...] = ()


class Owner(Protocol):
    """What direct uploads use of their :class:`~s3media_wsgi.Media`, read at each call."""

    storage: Storage
    guard: StorageGuard
    engine: ImageEngine
    max_upload_bytes: int
    check_pixels: bool
    allowed_types: frozenset[str]
    upload_expires: int
    on_confirm: ConfirmHook | None
    _accepted_labels: str

    def _check_content(self, data: bytes, *, pixels: bool = True, size: int | None = None) -> Checked: ...

    def _after_upload(self, media_id: str, checked: Checked) -> None: ...


class DirectUploads:
    """The direct uploads of *media*, taken by *target* (None: its storage takes none)."""

    def __init__(self, media: Owner, target: UploadStorage | LocalUploads | None) -> None:
        self.media = media
        #: What signs and takes the uploads: the storage itself (S3), a LocalUploads, or None.
        self.target = target
        self._confirms: SingleFlight[MediaId] = SingleFlight()

    def _upload_target(self) -> UploadStorage | LocalUploads:
        if self.target is None:
            raise ConfigError(
                f"{type(self.media.storage).__name__} takes no direct uploads: use S3Storage or LocalStorage, "
                "or a storage implementing s3media_wsgi.storage.UploadStorage"
            )
        return self.target

    def _declared(self, filename: object, content_type: object, size: object) -> tuple[str, FileType, int]:
        """A new media id, the declared type and the most bytes the upload may have."""
        mime = content_type.split(";", 1)[0].strip().lower() if isinstance(content_type, str) else ""
        ftype = next((t for t in TYPES.values() if t.mime == mime and t.kind in self.media.allowed_types), None)
        if ftype is None:
            # A known type is named as the checks of the bytes name it (its label, not its MIME type),
            # so a file refused here and the same file refused by put() read the same.
            known = next((t.label for t in TYPES.values() if t.mime == mime), None)
            raise UnsupportedMediaType(
                f"File type not accepted: {known or mime or 'no type'}. Accepted: {self.media._accepted_labels}."
            )
        limit = self.media.max_upload_bytes
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise InvalidUpload(f"size must be a positive number of bytes, not {size!r}")
            if size > limit:
                raise UploadTooLarge(too_large_message(limit))
            limit = size
        name = ids.normalise_filename(filename if isinstance(filename, str) else "")
        stem = name.rpartition(".")[0] if "." in name else name
        return ids.new_id(f"{stem}.{ftype.ext}"), ftype, limit

    def presign_upload(self, filename: str, content_type: str, *, size: int | None = None) -> dict[str, Any]:
        """See :meth:`Media.presign_upload <s3media_wsgi.Media.presign_upload>`."""
        media_id, ftype, limit = self._declared(filename, content_type, size)
        key = pending_key(media_id)
        with self.media.guard.call():
            target = self._upload_target().presign_post(
                key, content_type=ftype.mime, min_bytes=1, max_bytes=limit, expires_in=self.media.upload_expires
            )
        return {
            "id": media_id,
            "key": key,
            "method": "POST",
            "url": target.url,
            "fields": dict(target.fields),
            "expires": int(time.time()) + self.media.upload_expires,
        }

    def create_multipart_upload(self, filename: str, content_type: str, *, size: int | None = None) -> dict[str, str]:
        """See :meth:`Media.create_multipart_upload <s3media_wsgi.Media.create_multipart_upload>`."""
        media_id, ftype, _ = self._declared(filename, content_type, size)
        key = pending_key(media_id)
        with self.media.guard.call():
            upload_id = self._upload_target().create_multipart_upload(key, ftype.mime)
        return {"id": media_id, "key": key, "upload_id": upload_id}

    def sign_upload_part(self, key: str, upload_id: str, part_number: int, *, size: int | None = None) -> str:
        """See :meth:`Media.sign_upload_part <s3media_wsgi.Media.sign_upload_part>`."""
        key = pending_key(media_id_of(key))
        upload_id = check_upload_id(upload_id)
        number = check_part_number(part_number)
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise InvalidUpload(f"a part's size must be a positive number of bytes, not {size!r}")
        if (number - 1) * MIN_PART_SIZE + (size or 1) > self.media.max_upload_bytes:
            raise UploadTooLarge(too_large_message(self.media.max_upload_bytes))
        target = self._upload_target()
        with self.media.guard.call():
            if size is None:
                return target.presign_upload_part(key, upload_id, number, self.media.upload_expires)
            return target.presign_upload_part(key, upload_id, number, self.media.upload_expires, size=size)

    def list_upload_parts(self, key: str, upload_id: str) -> list[dict[str, object]]:
        """See :meth:`Media.list_upload_parts <s3media_wsgi.Media.list_upload_parts>`."""
        key = pending_key(media_id_of(key))
        upload_id = check_upload_id(upload_id)
        with self.media.guard.call():
            return self._upload_target().list_parts(key, upload_id)

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[dict[str, object]]) -> str:
        """See :meth:`Media.complete_multipart_upload <s3media_wsgi.Media.complete_multipart_upload>`."""
        key = pending_key(media_id_of(key))
        upload_id = check_upload_id(upload_id)
        wanted = check_parts(parts)
        target = self._upload_target()
        with self.media.guard.call():
            uploaded = {int(str(p["PartNumber"])): p for p in target.list_parts(key, upload_id)}
        total = sum(
            int(str(uploaded[int(str(p["PartNumber"]))]["Size"]))
            for p in wanted
            if int(str(p["PartNumber"])) in uploaded
        )
        if total > self.media.max_upload_bytes:
            with self.media.guard.call():
                target.abort_multipart_upload(key, upload_id)
            raise UploadTooLarge(too_large_message(self.media.max_upload_bytes))
        with self.media.guard.call():
            return target.complete_multipart_upload(key, upload_id, wanted)

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """See :meth:`Media.abort_multipart_upload <s3media_wsgi.Media.abort_multipart_upload>`."""
        key = pending_key(media_id_of(key))
        upload_id = check_upload_id(upload_id)
        with self.media.guard.call():
            self._upload_target().abort_multipart_upload(key, upload_id)

    def confirm_upload(self, key_or_id: str, *, pending_only: bool = False) -> MediaId:
        """See :meth:`Media.confirm_upload <s3media_wsgi.Media.confirm_upload>`."""
        media_id = media_id_of(key_or_id)
        if not pending_only:
            return self._confirms.do(media_id, lambda: self._confirm(media_id, pending_only=False))
        led: list[bool] = []

        def lead() -> MediaId:
            led.append(True)
            return self._confirm(media_id, pending_only=True)

        confirmed = self._confirms.do("pending-only " + media_id, lead)
        if not led:  # another request of this process confirmed it just now
            raise AlreadyConfirmed(AlreadyConfirmed.public_message)
        return confirmed

    def _confirm(self, media_id: str, *, pending_only: bool) -> MediaId:
        key, final = pending_key(media_id), ids.original_key(media_id)
        target = self._upload_target()
        objects = self._object_storage()
        try:
            with self.media.guard.call():
                info = target.head(key)
        except NotFound:
            return self._confirmed(media_id, pending_only)
        with self.media.guard.call():
            taken = objects.exists(final)
        if taken:
            # Sent again with a form still valid after its confirm: the id is media, this file never is.
            self._drop_pending(target, objects, key)
            return self._confirmed(media_id, pending_only)
        try:
            checked, published = self._check_and_publish(media_id, info, objects)
        except NotFound:
            # Another process published it and deleted the pending object between
            # our head and our read or copy: confirmed, not lost.
            return self._confirmed(media_id, pending_only)
        except MediaError as exc:
            if exc.status_code < 500:
                # The upload itself is refused: it goes.  A failure on this side
                # (storage, no decode slot, no memory) keeps it for a retry.
                self._drop_pending(target, objects, key)
                log.info("upload %s refused: %s", key, exc)
            raise
        self._drop_pending(target, objects, key)
        if not published:  # another process published it first: never overwritten
            return self._confirmed(media_id, pending_only)
        log.info("confirmed %s (%s, %d bytes)", media_id, checked.ftype.mime, info.size)
        self.media._after_upload(media_id, checked)
        return MediaId(media_id, checked.width, checked.height, checked.ftype.mime, checked.info)

    def _check_and_publish(self, media_id: str, info: ObjectInfo, objects: ObjectStorage) -> tuple[Checked, bool]:
        """Check the pending upload of *media_id* and publish exactly what was checked.

        Returns what the checks found, and whether this call published it
        (False: the media key was taken first).  An image is read whole (at
        most ``max_upload_bytes`` + 1 bytes) and those bytes, cleaned of their
        metadata unless ``keep_metadata`` (:mod:`s3media_wsgi.cleaning`), are written; any
        other file is copied to a staging key first and that copy is checked
        and copied on, so a client writing its pending key meanwhile changes
        nothing.  :class:`NotFound` when the pending object went meanwhile.
        """
        key, final = pending_key(media_id), ids.original_key(media_id)
        self._check_size(info.size)
        declared = next((t for t in TYPES.values() if t.mime == info.content_type), None)
        if declared is None or declared.ext != ids.extension(media_id):
            raise UnsupportedMediaType(f"File type not accepted: {info.content_type or 'no type'}.")
        if declared.is_image and self.media.engine.can_read(declared.kind):
            with self.media.guard.call():
                data = objects.read(key, self.media.max_upload_bytes + 1)
            checked = self._check_declared(data, declared, len(data))
            # The hook sees what is published: the cleaned bytes.
            stored = checked.data
            upload = ConfirmedUpload(
                media_id, checked.ftype.mime, len(stored), checked.width, checked.height, None, lambda: stored
            )
            self._run_hook(upload)
            with self.media.guard.call():
                published = self.media.storage.put(final, checked.data, checked.ftype.mime)
            return checked, published
        staged = staging_key(media_id)
        try:
            with self.media.guard.call():
                objects.copy(key, staged)
            with self.media.guard.call():
                size = objects.head(staged).size
            # A video, audio file or PDF whose previewer is installed is read whole: its facts need all of it.
            analysed = previews.find(declared.kind)
            with self.media.guard.call():
                whole = analysed is not None and analysed.available() and self.media.check_pixels
                data = objects.read(staged, self.media.max_upload_bytes + 1 if whole else MARKUP_BYTES)
            checked = self._check_declared(data, declared, size)

            def read_staged() -> bytes:
                with self.media.guard.call():
                    return objects.read(staged, self.media.max_upload_bytes)

            self._run_hook(
                ConfirmedUpload(media_id, checked.ftype.mime, size, checked.width, checked.height, staged, read_staged)
            )
            with self.media.guard.call():
                published = objects.copy(staged, final)
        finally:
            try:
                with self.media.guard.call():
                    objects.delete(staged)
            except MediaError as exc:  # under uploads/: the lifecycle rule expires it
                log.warning("confirm of %s left its staged copy %s: %s", media_id, staged, exc)
        return checked, published

    def _run_hook(self, upload: ConfirmedUpload) -> None:
        """The app's ``on_confirm`` hook on *upload*, checked and not yet published.

        :class:`UploadRefusedByApp` goes on (the upload is deleted, its message
        shown); :class:`MediaError` of a storage call the hook made through
        :meth:`ConfirmedUpload.read` goes on as itself; anything else is the
        app's bug: a 500 that keeps the upload for a retry.
        """
        hook = self.media.on_confirm
        if hook is None:
            return
        try:
            hook(upload)
        except UploadRefusedByApp:
            raise
        except MediaError as exc:
            if exc.status_code >= 500:
                raise  # storage trouble of its read: kept, as any other
            raise MediaError(f"on_confirm hook raised {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise MediaError(f"on_confirm hook failed on {upload.media_id}: {type(exc).__name__}: {exc}") from exc

    def _check_size(self, size: int) -> None:
        if size > self.media.max_upload_bytes:
            raise UploadTooLarge(too_large_message(self.media.max_upload_bytes))
        if size == 0:
            raise UnsupportedMediaType("The file is empty.")

    def _check_declared(self, data: bytes, declared: FileType, size: int) -> Checked:
        """:meth:`_check_content` of an upload of *size* bytes (*data*: all or its first bytes), of type *declared*."""
        self._check_size(size)
        checked = self.media._check_content(data, size=size)
        if checked.ftype.mime != declared.mime:
            raise UnsupportedMediaType(
                f"File type not accepted: declared as {declared.label} but it is {checked.ftype.label}."
            )
        return checked

    def _confirmed(self, media_id: str, pending_only: bool) -> MediaId:
        """The answer to a confirm of *media_id* when it is media already; :class:`NotFound` when it is not.

        *pending_only*: :class:`AlreadyConfirmed`, one HEAD.  Otherwise the
        id with the type and header size of the original's first
        :data:`CONFIRMED_PREFIX_BYTES` (one HEAD, one ranged read; no decode).
        """
        final = ids.original_key(media_id)
        objects = self._object_storage()
        try:
            with self.media.guard.call():
                info = objects.head(final)
        except NotFound:
            pending = pending_key(media_id)
            raise NotFound(f"no upload at {pending}: it was never sent, expired, or was refused") from None
        if pending_only:
            raise AlreadyConfirmed(AlreadyConfirmed.public_message)
        with self.media.guard.call():
            prefix = objects.read(final, CONFIRMED_PREFIX_BYTES)
        ftype = sniff(prefix[:SNIFF_BYTES])
        size = self.media.engine.header_size(prefix) if ftype is not None and ftype.is_image else None
        width, height = size if size is not None else (None, None)
        mime = ftype.mime if ftype is not None else info.content_type
        return MediaId(media_id, width, height, mime, MediaInfo(mime, info.size, width, height))

    def _object_storage(self) -> ObjectStorage:
        if not isinstance(self.media.storage, ObjectStorage):
            raise ConfigError(f"{type(self.media.storage).__name__} cannot head, read, copy and delete single objects")
        return self.media.storage

    def _drop_pending(self, target: UploadStorage | LocalUploads, objects: ObjectStorage, key: str) -> None:
        with self.media.guard.call():
            objects.delete(key)
        if isinstance(target, LocalUploads):
            target.forget(key)


__all__ = ["CONFIRMED_PREFIX_BYTES", "Checked", "ConfirmHook", "ConfirmedUpload", "DirectUploads"]
