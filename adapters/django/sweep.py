"""What ``manage.py s3media import`` and ``gc`` do: legacy files moved into media, unreferenced media found.

:func:`import_field` moves the files of one ``FileField``/``ImageField`` on
:class:`~s3media_wsgi.adapters.django.storage.MediaStorage` whose rows still
hold legacy names (``photos/2024/cat.jpg``) into media: each file is read from
the legacy storage and put through :meth:`Media.put <s3media_wsgi.Media.put>`
(the upload pass: type, limits, metadata), then the rows of a batch are
rewritten in one transaction, each only if it still holds the name it held
when read (a row changed meanwhile keeps its change, and the new media is
deleted).  Rows holding ids are passed over, so a run stopped halfway is
resumed by running it again; at worst one batch's files were stored with no
row yet (``gc`` finds them).  The legacy files are kept unless asked.

:func:`collect_garbage` lists the whole media storage and gives the
originals no row of any watched field holds (``MediaField``, and the file
fields on MediaStorage: :func:`~s3media_wsgi.adapters.django.cleanup.tracked_fields`)
that were stored longer than a grace period ago (a browser's upload waits
for its form for a while), with their bytes (resizes included).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.apps import apps
from django.db import models, transaction
from django.db.models.fields.files import FileField

from ... import ids
from ...errors import MediaError, UnsupportedMediaType
from ...media import Media
from ...storage.base import list_objects
from .cleanup import tracked_fields
from .naming import DERIVED_MAX_LENGTH, derived_id, fitting_filename
from .storage import MediaStorage, uses_media_storage

#: Rows rewritten in one transaction by default.
DEFAULT_BATCH = 100
#: Seconds an original must have been stored before ``gc`` counts it (one day).
DEFAULT_GRACE = 24 * 3600


@dataclass
class ImportReport:
    """What :func:`import_field` did (or, dry, would do)."""

    rows: int = 0
    imported: int = 0
    bytes: int = 0
    #: ``(pk, name, why)`` of each row left as it was.
    failed: list[tuple[Any, str, str]] = field(default_factory=list)


@dataclass
class Garbage:
    """What :func:`collect_garbage` found: unreferenced originals, their bytes (resizes included), and how many went."""

    ids: list[str] = field(default_factory=list)
    bytes: int = 0
    deleted: int = 0


def resolve_field(label: str) -> tuple[type[models.Model], FileField]:
    """``app_label.Model.field`` → the model and its file field on MediaStorage; ``ValueError`` saying what is wrong."""
    parts = label.split(".")
    if len(parts) != 3:
        raise ValueError(f"{label!r}: name the field as app_label.Model.field (photos.Photo.image)")
    try:
        model = apps.get_model(parts[0], parts[1])
        found = model._meta.get_field(parts[2])
    except (LookupError, Exception) as exc:
        raise ValueError(f"{label!r}: {exc}") from None
    if not isinstance(found, FileField):
        raise ValueError(f"{label!r} is a {type(found).__name__}, not a FileField or ImageField")
    if not uses_media_storage(found):
        raise ValueError(
            f"{label!r} is not on MediaStorage: switch its storage first (STORAGES['default'] or storage=), "
            "so the rows rewritten are read through it"
        )
    return model, found


def import_field(
    model: type[models.Model],
    file_field: FileField,
    *,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
    delete_old: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Move the legacy files of *file_field* into media and rewrite its rows; see the module docs."""
    storage = file_field.storage
    assert isinstance(storage, MediaStorage)
    legacy, media = storage.legacy, storage.media
    attname = file_field.attname
    width_field = getattr(file_field, "width_field", None)
    height_field = getattr(file_field, "height_field", None)
    manager = model._default_manager
    report = ImportReport()
    last: Any = None
    while True:
        rows = manager.exclude(**{attname: ""}).exclude(**{f"{attname}__isnull": True}).order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.values_list("pk", attname)[:batch_size])
        if not batch:
            return report
        last = batch[-1][0]
        changes: list[tuple[Any, str, ids.MediaId]] = []
        for pk, name in batch:
            if ids.is_id(name):
                continue
            report.rows += 1
            try:
                if dry_run:
                    report.bytes += int(legacy.size(name))
                    continue
                media_id = _store(storage, name, file_field.max_length)
            except (OSError, MediaError) as exc:
                report.failed.append((pk, name, str(exc) or type(exc).__name__))
                continue
            report.bytes += media_id.info.bytes if media_id.info and media_id.info.bytes else 0
            changes.append((pk, name, media_id))
        _rewrite(model, attname, width_field, height_field, changes, media, report)
        if delete_old:
            for _pk, name, _id in changes:
                if not manager.filter(**{attname: name}).exists():
                    legacy.delete(name)
        if progress is not None:
            progress(f"{report.rows} rows read, {report.imported} imported, {len(report.failed)} failed")


def _store(storage: MediaStorage, name: str, max_length: int | None) -> ids.MediaId:
    """The legacy file *name* as media under its derived id: put now, or found there already (a request resized it)."""
    media_id = derived_id(name, storage.legacy_alias, max_length or DERIVED_MAX_LENGTH)
    media = storage.media
    if media.exists(media_id):
        return ids.MediaId(media_id)
    with storage.legacy.open(name, "rb") as fh:
        try:
            return media.put(fh, media_id=media_id)
        except UnsupportedMediaType:
            pass  # the name's extension is not the real type's: a fresh id with the right one
        fh.seek(0)
        return media.put(fh, filename=fitting_filename(name, max_length))


def _rewrite(
    model: type[models.Model],
    attname: str,
    width_field: str | None,
    height_field: str | None,
    changes: Iterable[tuple[Any, str, ids.MediaId]],
    media: Media,
    report: ImportReport,
) -> None:
    stale: list[ids.MediaId] = []
    with transaction.atomic(using=model._default_manager.db):
        for pk, name, media_id in changes:
            values: dict[str, Any] = {attname: str(media_id)}
            if width_field and media_id.width:
                values[width_field] = media_id.width
            if height_field and media_id.height:
                values[height_field] = media_id.height
            if model._default_manager.filter(pk=pk, **{attname: name}).update(**values):
                report.imported += 1
            else:  # the row changed (or went) since it was read: keep its change
                stale.append(media_id)
                report.failed.append((pk, name, "the row changed while it was imported"))
    for media_id in stale:
        media.delete(media_id)


class UnknownValue(ValueError):
    """A ``MediaField`` holds a value that is no media id: ``gc`` cannot tell what it holds, so it stops."""


def referenced_ids(models_: Iterable[type[models.Model]] | None = None) -> set[str]:
    """Every media id a row of a watched field holds.

    A ``MediaListField`` holds every id of its list.  A file field may hold
    legacy names (passed over); a ``MediaField`` value (or a list's item)
    that is no id raises :class:`UnknownValue`: deleting on a misreading
    would delete what rows hold.
    """
    held: set[str] = set()
    for model in apps.get_models() if models_ is None else models_:
        for watched in tracked_fields(model):
            values = model._default_manager.exclude(**{watched.attname: ""}).values_list(watched.attname, flat=True)
            for value in values.iterator():
                if isinstance(value, list):  # a MediaListField's MediaList: every item is held
                    for item in value:
                        if not ids.is_id(str(item)):
                            raise UnknownValue(f"{model.__name__}.{watched.name} holds {str(item)[:80]!r}, no media id")
                        held.add(str(item))
                    continue
                text = str(getattr(value, "media_id", None) or value or "")
                if ids.is_id(text):
                    held.add(text)
                elif text and isinstance(watched, FileField):
                    # A legacy name: its derived id may hold a copy a resize request made.
                    alias = cast(MediaStorage, watched.storage).legacy_alias
                    held.add(derived_id(text, alias, watched.max_length or DERIVED_MAX_LENGTH))
                elif text:
                    raise UnknownValue(f"{model.__name__}.{watched.name} holds {text[:80]!r}, which is no media id")
    return held


def collect_garbage(media: Media, *, grace: float = DEFAULT_GRACE, delete: bool = False) -> Garbage:
    """The originals no row holds, stored more than *grace* seconds ago; deleted (with their resizes) if *delete*."""
    listed = list_objects(media.storage, "")
    held = referenced_ids()
    cutoff = time.time() - grace
    sizes: dict[str, int] = {}
    originals: dict[str, float] = {}
    for item in listed:
        media_id, _, last = item.key.rpartition("/")
        if not ids.is_id(media_id):
            continue  # a pending upload, or not ours
        sizes[media_id] = sizes.get(media_id, 0) + item.size
        if last == ids.filename(media_id):
            originals[media_id] = item.modified
    garbage = Garbage()
    for media_id, modified in sorted(originals.items()):
        if media_id in held or modified > cutoff:
            continue
        garbage.ids.append(media_id)
        garbage.bytes += sizes[media_id]
    if delete:
        for media_id in garbage.ids:
            media.delete(media_id)
            garbage.deleted += 1
    return garbage


__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_GRACE",
    "Garbage",
    "ImportReport",
    "UnknownValue",
    "collect_garbage",
    "import_field",
    "referenced_ids",
    "resolve_field",
]
