"""``MediaStorage``: a Django ``Storage`` for existing ``FileField``/``ImageField`` columns.

Switch an existing project by settings alone, no migration::

    STORAGES = {
        "default": {"BACKEND": "s3media_wsgi.adapters.django.storage.MediaStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

(or ``ImageField(storage=MediaStorage())`` on one field).  The storage is
:func:`~s3media_wsgi.adapters.django.get_media`'s: ``settings.S3MEDIA`` says
where files go.  ``"s3media_wsgi.adapters.django"`` must be in ``INSTALLED_APPS``.

Saving
    ``save`` puts the file through :meth:`Media.put <s3media_wsgi.Media.put>`
    (the real type sniffed, the limits, metadata removed, the pixel check),
    and the stored name is the new **media id**
    (``3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg``).  ``upload_to`` gives
    only the filename: the id is the key.  The filename is shortened so the id
    fits the field's ``max_length`` (100 by default: ids are 37 characters
    plus the filename).  A refused file raises :class:`MediaRefused` (a
    ``SuspiciousFileOperation``: Django answers 400) and nothing is stored.

Names that are not ids (legacy rows)
    Rows saved before the switch hold the old storage's names
    (``photos/2024/cat.jpg``).  They are read through the *legacy* storage:
    ``STORAGES`` alias named by the ``legacy`` option (``"OPTIONS": {"legacy":
    "legacy"}``), by default a ``FileSystemStorage`` of ``MEDIA_ROOT`` and
    ``MEDIA_URL`` (Django's own default storage): ``url``, ``open``,
    ``exists``, ``size``, ``delete`` and ``get_modified_time`` of such a name
    go there.  Its resize URLs (:meth:`MediaStorage.resize_url`, the template
    tags, ``picture``) are signed ``/media/legacy/…`` URLs built with no I/O:
    the first request makes the file media under an id derived from its name,
    and each redirects to that id's resize (:mod:`~s3media_wsgi.adapters.django.legacy`).
    ``manage.py s3media import`` rewrites the rows with those same ids.

Dimensions
    Every ``FileField``/``ImageField`` on this storage gets a
    :class:`MediaFieldFile` (set when the app is ready), and the validator
    :func:`check_upload` (a form shows a refused type or size beside the field): ``width``/``height``
    come from what the upload pass learned (upright), or from the model's
    ``width_field``/``height_field``, before any read; ``resize_url`` and
    ``picture`` build signed URLs with no I/O.
"""

from __future__ import annotations

import io
import os
from datetime import datetime, timezone
from typing import Any, cast

from django.conf import DEFAULT_STORAGE_ALIAS, settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages
from django.db.models.fields.files import FieldFile, FileField, ImageField, ImageFieldFile
from django.utils.deconstruct import deconstructible
from django.utils.module_loading import import_string

from ... import ids
from ...errors import ConfigError, MediaError, NotFound, UnsupportedMediaType
from ...ids import MediaId
from ...limits import too_large_message
from ...media import Media
from ...picture import SafeHTML
from ...sniff import MARKUP_BYTES
from ...storage.base import can_list_objects, list_keys, list_objects
from . import get_media, legacy
from .naming import MIN_MAX_LENGTH, derived_id, fitting_filename


class MediaRefused(SuspiciousFileOperation):
    """A file :meth:`Media.put <s3media_wsgi.Media.put>` refused (type, size, limits): Django answers 400.

    ``error`` is the library's :class:`~s3media_wsgi.errors.MediaError`, whose
    message is safe to show.
    """

    def __init__(self, error: MediaError) -> None:
        super().__init__(str(error))
        self.error = error


@deconstructible(path="s3media_wsgi.adapters.django.storage.MediaStorage")
class MediaStorage(Storage):
    """A Django storage whose names are media ids; see the module docs.

    :param legacy: the ``STORAGES`` alias that holds the files of names that
        are not ids (rows saved before the switch); default: a
        ``FileSystemStorage`` of ``MEDIA_ROOT``/``MEDIA_URL``.
    :param media: a :class:`~s3media_wsgi.Media` to use instead of
        :func:`~s3media_wsgi.adapters.django.get_media`'s (tests, several media setups).
    """

    def __init__(self, legacy: str | None = None, media: Media | None = None) -> None:
        self._legacy_alias = legacy
        self._legacy: Storage | None = None
        self._media = media

    # --- what the storage stands on -------------------------------------------------

    @property
    def media(self) -> Media:
        """The :class:`~s3media_wsgi.Media` files go through."""
        return self._media if self._media is not None else get_media()

    @property
    def legacy(self) -> Storage:
        """The storage of names that are not ids."""
        if self._legacy is None:
            if self._legacy_alias is None:
                self._legacy = FileSystemStorage()
            else:
                if self._legacy_alias == "default":
                    raise ConfigError('MediaStorage(legacy="default") would be itself: name the old storage\'s alias')
                self._legacy = storages[self._legacy_alias]
        return self._legacy

    @property
    def legacy_alias(self) -> str | None:
        """The ``STORAGES`` alias of the legacy storage (None: Django's FileSystemStorage of ``MEDIA_ROOT``)."""
        return self._legacy_alias

    @staticmethod
    def is_media(name: object) -> bool:
        """True when *name* is a media id (else it is a legacy name)."""
        return ids.is_id(name)

    # --- saving ---------------------------------------------------------------------------

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Store *content* through ``Media.put``; the new media id (a :class:`~s3media_wsgi.MediaId`).

        The id carries the upright ``width``/``height`` and ``info`` the upload
        pass learned, for :class:`MediaFieldFile` (no second read).
        """
        if name is None:
            name = getattr(content, "name", None) or ""
        filename = fitting_filename(str(name), max_length)
        if not hasattr(content, "read"):
            raise TypeError(f"MediaStorage.save takes a file, not {type(content).__name__}")
        if hasattr(content, "seek"):
            content.seek(0)
        try:
            media_id = self.media.put(content, filename=filename)
        except MediaError as exc:
            if exc.status_code >= 500:  # storage failed: not the file's fault
                raise
            raise MediaRefused(exc) from exc
        return media_id

    def _save(self, name: str, content: Any) -> str:
        return self.save(name, content)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """*name* as given: every save makes a fresh id (a uuid4), so no name is ever taken."""
        return name

    def generate_filename(self, filename: str | os.PathLike[str]) -> str:
        return ids.normalise_filename(os.fspath(filename))

    # --- reading ---------------------------------------------------------------------------

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("MediaStorage files are read-only: save a new file instead")
        if not self.is_media(name):
            return self.legacy.open(name, mode)
        try:
            data = self.media.get(name)
        except NotFound:
            raise FileNotFoundError(f"no media stored as {name!r}") from None
        return File(io.BytesIO(data), name=name)

    def exists(self, name: str) -> bool:
        if not self.is_media(name):
            return bool(self.legacy.exists(name))
        return self.media.exists(name)

    def size(self, name: str) -> int:
        if not self.is_media(name):
            return int(self.legacy.size(name))
        info = getattr(name, "info", None)
        if info is not None and info.bytes is not None:
            return int(info.bytes)
        storage = self.media.storage
        key = ids.original_key(name)
        head = getattr(storage, "head", None)
        try:
            if head is not None:
                with self.media.guard.request(), self.media.guard.call():
                    return int(head(key).size)
            return len(self.media.get(name))
        except NotFound:
            raise FileNotFoundError(f"no media stored as {name!r}") from None

    def url(self, name: str | None) -> str:
        """The original's URL, with no I/O (``Media.url``)."""
        if not name:
            raise ValueError("This file has no name, so no URL.")
        if not self.is_media(name):
            return str(self.legacy.url(name))
        return self.media.url(name)

    def resize_url(self, name: str, size: str, **options: Any) -> str:
        """A signed resize URL of *name* (no I/O); for a legacy name, its legacy resize URL (see the module docs)."""
        if not self.is_media(name):
            return legacy.resize_url(name, self.legacy_alias, size, **options)
        return self.media.resize_url(name, size, **options)

    def legacy_picture(self, name: str, **kwargs: Any) -> SafeHTML:
        """``<picture>`` markup of a legacy name's resizes (see :mod:`~s3media_wsgi.adapters.django.legacy`)."""
        return legacy.LegacySource(name, self.legacy_alias).picture(**kwargs)

    def path(self, name: str) -> str:
        raise NotImplementedError("MediaStorage files have no local path: open() them, or use url()")

    def delete(self, name: str) -> None:
        """Delete the original and every resize of *name* (nothing happens when it is absent)."""
        if not name:
            raise ValueError("The name must be given to delete().")
        if not self.is_media(name):
            self.legacy.delete(name)
            # And the copy a resize request may have made (see legacy): no row holds it either.
            self.media.delete(derived_id(name, self.legacy_alias))
            return
        self.media.delete(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Folders and files under *path*, the legacy storage's included: ids as files (resizes left out).

        Media is listed through the storage's ``list_objects`` (both built-in
        backends have it), else ``list_keys``, which cannot list ``""``.
        """
        path = path.strip("/")
        prefix = path + "/" if path else ""
        dirs: set[str] = set()
        files: set[str] = set()
        storage = self.media.storage
        try:
            if can_list_objects(storage):
                keys = [listed.key for listed in list_objects(storage, prefix)]
            else:
                keys = list_keys(storage, prefix) if prefix else []
        except NotFound:
            keys = []
        for key in keys:
            media_id, _, last = key.rpartition("/")
            if not ids.is_id(media_id) or last != ids.filename(media_id):
                continue  # a resize, a pending upload, or something else
            head, slash, _ = media_id[len(prefix) :].partition("/")
            (dirs if slash else files).add(head)
        try:
            legacy_dirs, legacy_files = self.legacy.listdir(path)
        except (FileNotFoundError, NotImplementedError):
            legacy_dirs, legacy_files = [], []
        return sorted(dirs | set(legacy_dirs)), sorted(files | set(legacy_files))

    def get_modified_time(self, name: str) -> datetime:
        """When *name* was stored; ``NotImplementedError`` for media on a storage that keeps no time (S3)."""
        if not self.is_media(name):
            return self.legacy.get_modified_time(name)
        local = self.media.storage.local_path(ids.original_key(name))
        if local is None:
            raise NotImplementedError("this media storage does not tell when a file was stored")
        try:
            stamp = os.stat(local).st_mtime
        except FileNotFoundError:
            raise FileNotFoundError(f"no media stored as {name!r}") from None
        return datetime.fromtimestamp(stamp, tz=timezone.utc)

    def get_created_time(self, name: str) -> datetime:
        # Media never changes after it is stored: created is modified.
        return self.get_modified_time(name)


# --- FieldFiles that know what the upload pass learned ------------------------------------


def _known_size(field_file: FieldFile) -> tuple[int | None, int | None]:
    """Width and height known without a read: the name's own, or the model's dimension fields."""
    name = field_file.name
    if isinstance(name, MediaId) and name.width and name.height:
        return name.width, name.height
    field = field_file.field
    width_field, height_field = getattr(field, "width_field", None), getattr(field, "height_field", None)
    instance = field_file.instance
    if width_field and height_field:
        width, height = getattr(instance, width_field, None), getattr(instance, height_field, None)
        # Not while a new file is being assigned (uncommitted): the fields still hold the old one's size.
        if width and height and getattr(field_file, "_committed", False):
            return int(width), int(height)
    return None, None


#: Where an instance lists the media its save has stored so far (cleared once the row is saved).
UNSAVED = "_s3media_unsaved"


def forget_unsaved(instance: object, storage: MediaStorage) -> None:
    """Delete the media an unfinished save of *instance* stored (no row holds it)."""
    for name in getattr(instance, "__dict__", {}).pop(UNSAVED, []):
        try:
            storage.media.delete(name)
        except MediaError:
            pass  # gc finds it


class MediaFieldFile(FieldFile):
    """The value of a ``FileField`` on :class:`MediaStorage`: a ``FieldFile`` with signed URLs.

    ``photo.attachment.resize_url("400x300", mode="fill")`` and
    ``photo.attachment.picture(sizes=[320, 640])`` build URLs with no I/O.
    """

    def save(self, name: str, content: File[Any], save: bool = True) -> None:
        """Store *content* (see :meth:`MediaStorage.save`); a refusal also deletes what this row's save stored so far.

        A row with two files whose second is refused is not saved: its first
        file, stored a moment ago, would belong to no row.
        """
        stored: list[str] = self.instance.__dict__.setdefault(UNSAVED, [])
        try:
            super().save(name, content, save)
        except MediaRefused:
            forget_unsaved(self.instance, cast(MediaStorage, self.storage))
            raise
        if self.name and ids.is_id(self.name):
            stored.append(str(self.name))

    @property
    def media_id(self) -> str | None:
        """The media id of this file, None for a legacy name (or no file)."""
        return str(self.name) if self.name and ids.is_id(self.name) else None

    def _media_storage(self) -> MediaStorage:
        if not self.name:
            raise ValueError(f"The '{self.field.name}' attribute has no file associated with it.")
        return cast(MediaStorage, self.storage)

    def resize_url(self, size: str, **options: Any) -> str:
        """A signed resize URL (the original's URL for a legacy name)."""
        return self._media_storage().resize_url(str(self.name), size, **options)

    def picture(self, **kwargs: Any) -> SafeHTML:
        """Responsive ``<picture>`` markup (see :func:`s3media_wsgi.picture.picture`); an ``<img>`` of a legacy name."""
        storage = self._media_storage()
        media_id = media_value(self)
        if not storage.is_media(media_id):
            if not kwargs.get("width"):
                kwargs["width"], kwargs["height"] = _known_size(self)
            return storage.legacy_picture(str(self.name), **kwargs)
        return storage.media.picture(media_id, **kwargs)


class MediaImageFieldFile(ImageFieldFile, MediaFieldFile):
    """The value of an ``ImageField`` on :class:`MediaStorage`: dimensions without reading the file.

    ``width`` and ``height`` are the upright size the upload pass learned
    (just after a save), or the model's ``width_field``/``height_field``; only
    when neither is known is the file read, as Django does.
    """

    def _get_image_dimensions(self) -> Any:
        if not hasattr(self, "_dimensions_cache"):
            width, height = _known_size(self)
            if width and height:
                self._dimensions_cache = (width, height)
        return super()._get_image_dimensions()  # type: ignore[misc]

    def _set_instance_attribute(self, name: str, content: Any) -> None:
        # Django sets the uploaded content here and reads its dimensions; the
        # stored id already knows them (upright), so hand the field file itself.
        if isinstance(name, MediaId) and name.width and name.height:
            self._dimensions_cache = (name.width, name.height)
            setattr(self.instance, self.field.attname, self)
            return
        super()._set_instance_attribute(name, content)  # type: ignore[misc]


def media_value(value: Any) -> Any:
    """What the URL helpers take: a ``FieldFile`` becomes its id (a MediaId with the size it knows).

    Anything else is returned as it is.  No I/O: the size is the name's own
    or the model's dimension fields.
    """
    if not isinstance(value, FieldFile):
        return value
    name = value.name
    if not name:
        return ""
    if isinstance(name, MediaId) or not ids.is_id(name):
        return name
    width, height = _known_size(value) if isinstance(value, MediaFieldFile) else (None, None)
    return MediaId(name, width, height)


def legacy_url(value: object) -> str | None:
    """The original's URL of a ``FieldFile`` whose name is no media id (None for anything else); no I/O."""
    if isinstance(value, FieldFile) and value.name and not ids.is_id(value.name):
        return str(value.storage.url(value.name))
    return None


def resize_url_of(value: object, size: str, **options: Any) -> str:
    """A signed resize URL of a media id or a ``FieldFile``; no I/O.

    A legacy name gives its original's URL (see the module docs), an empty
    ``FieldFile`` ``""``; a value that is no id raises
    :class:`~s3media_wsgi.errors.InvalidId`.
    """
    if isinstance(value, FieldFile):
        if not value.name:
            return ""
        if not ids.is_id(value.name):
            if isinstance(value.storage, MediaStorage):
                return value.storage.resize_url(str(value.name), size, **options)
            return str(value.storage.url(value.name))  # another storage's file: no resizes
    return get_media().resize_url(media_value(value), size, **options)


def legacy_img(url: str, kwargs: dict[str, Any]) -> SafeHTML:
    """An ``<img>`` of a legacy file's original (it has no resizes until it is imported)."""
    import html

    attrs = {"src": url, "alt": kwargs.get("alt", "")}
    attrs.update({str(k): str(v) for k, v in (kwargs.get("attrs") or {}).items()})
    if kwargs.get("width") and kwargs.get("height"):
        attrs["width"], attrs["height"] = str(kwargs["width"]), str(kwargs["height"])
    body = " ".join(f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    return SafeHTML(f'<img {body} loading="lazy" decoding="async">')


def check_upload(value: object) -> None:
    """The validator of file fields on MediaStorage: a new file's size and real type, before anything is stored.

    So a model form (the admin's too) shows the refusal beside the field; the
    rest of the checks (the image's structure, its pixels) run when it is saved.
    """
    if not isinstance(value, FieldFile) or getattr(value, "_committed", True):
        return
    storage, file = value.storage, getattr(value, "_file", None)
    if not isinstance(storage, MediaStorage) or file is None:
        return
    media = storage.media
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > media.max_upload_bytes:
        raise ValidationError(too_large_message(media.max_upload_bytes), code="too_large")
    position = file.tell()
    file.seek(0)
    head = file.read(MARKUP_BYTES)
    file.seek(position)
    try:
        media.check_type(head)
    except UnsupportedMediaType as exc:
        raise ValidationError(str(exc), code="type") from None


def uses_media_storage(field: object) -> bool:
    """True for a ``FileField`` (``ImageField`` included) whose storage is a :class:`MediaStorage`."""
    if not isinstance(field, FileField):
        return False
    storage = field.storage
    if storage is default_storage:
        # Read from the settings, not the lazy object: it may still hold the storage of
        # STORAGES before a change (Django resets it in a receiver of its own).
        backend = (settings.STORAGES.get(DEFAULT_STORAGE_ALIAS) or {}).get("BACKEND", "")
        try:
            cls = import_string(backend)
        except ImportError:
            return False
        return isinstance(cls, type) and issubclass(cls, MediaStorage)
    return isinstance(storage, MediaStorage)


def adopt_fields(models: Any) -> list[FileField]:
    """Give every ``FileField``/``ImageField`` of *models* on :class:`MediaStorage` its media field file.

    Called when the app is ready, and again when ``STORAGES`` changes (a
    field that left MediaStorage gets Django's own back); the fields adopted.
    A field whose ``attr_class`` is a subclass of the project's own is left alone.
    """
    adopted: list[FileField] = []
    for model in models:
        for field in model._meta.get_fields():
            if not isinstance(field, FileField):
                continue
            image = isinstance(field, ImageField)
            ours, django_own = (MediaImageFieldFile, ImageFieldFile) if image else (MediaFieldFile, FieldFile)
            if field.attr_class not in (ours, django_own):
                continue
            # The field's validators are computed once (a cached property): recomputed here with
            # check_upload, never through validators=, which migrations would record.
            field.__dict__.pop("validators", None)
            if uses_media_storage(field):
                field.attr_class = ours
                field.__dict__["validators"] = [*field.validators, check_upload]
                adopted.append(field)
            else:
                field.attr_class = django_own
    return adopted


__all__ = [
    "MIN_MAX_LENGTH",
    "MediaFieldFile",
    "MediaImageFieldFile",
    "MediaRefused",
    "MediaStorage",
    "adopt_fields",
    "check_upload",
    "fitting_filename",
    "legacy_img",
    "legacy_url",
    "media_value",
    "resize_url_of",
    "uses_media_storage",
]
