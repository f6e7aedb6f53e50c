"""No orphans: a row's replaced or deleted media is deleted once the transaction commits.

Every ``MediaField`` and ``MediaListField``, and every ``FileField``/``ImageField`` on
:class:`~s3media_wsgi.adapters.django.storage.MediaStorage`, is watched (the
app connects this module when it is ready):

- a row saved with another file than the one it was loaded with: the old
  file goes (the original and every resize);
- a list saved without a file it was loaded with: that file goes;
- a row deleted (``QuerySet.delete`` included, it sends ``post_delete``): its files go.

The deletion runs in ``transaction.on_commit``: a rolled back transaction
deletes nothing, and nothing is deleted while a row still points at it:
a file another row holds (of any model's watched field) is kept.  A failed
deletion is logged (``s3media_wsgi`` logger), never raised: the row is
saved; ``manage.py s3media gc`` finds what is left.  ``S3MEDIA["DELETE_REPLACED"] =
False`` turns it off.  Rows changed by ``QuerySet.update`` or raw SQL are
not seen (no signal is sent).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models.fields.files import FieldFile, FileField
from django.db.models.functions import Cast
from django.db.models.signals import post_delete, post_init, post_save

from ... import ids
from . import get_media, get_settings
from .fields import MediaField
from .lists import MediaList, MediaListField
from .storage import UNSAVED, uses_media_storage

log = logging.getLogger("s3media_wsgi")

#: Where an instance keeps the names its watched fields held when loaded or last saved.
_LOADED = "_s3media_loaded"
_tracked_cache: dict[type[models.Model], tuple[models.Field[Any, Any], ...]] = {}


def tracked_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The fields of *model* whose files this module deletes (cached per model)."""
    fields = _tracked_cache.get(model)
    if fields is None:
        fields = tuple(
            field
            for field in model._meta.concrete_fields
            if isinstance(field, (MediaField, MediaListField))
            or (isinstance(field, FileField) and uses_media_storage(field))
        )
        _tracked_cache[model] = fields
    return fields


def stored_name(value: object) -> str:
    """The stored name a field's value stands for (``""`` for none, or for a file not saved yet)."""
    if isinstance(value, FieldFile):
        return str(value.name or "") if getattr(value, "_committed", False) else ""
    if isinstance(value, str):
        return str(value)
    return ""  # a File not saved yet, None


def stored_names(value: object) -> tuple[str, ...]:
    """The stored names a field's value stands for: a list's ids in order, or :func:`stored_name`'s one (or none)."""
    if isinstance(value, MediaList):
        return tuple(str(item) for item in value)
    name = stored_name(value)
    return (name,) if name else ()


def _remember(instance: models.Model, fields: tuple[models.Field[Any, Any], ...]) -> None:
    loaded = {f.attname: stored_names(instance.__dict__[f.attname]) for f in fields if f.attname in instance.__dict__}
    instance.__dict__[_LOADED] = loaded


def _on_init(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    fields = tracked_fields(sender)
    if fields:
        _remember(instance, fields)


def _on_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    fields = tracked_fields(sender)
    if not fields or raw:
        return
    loaded: dict[str, tuple[str, ...]] = instance.__dict__.get(_LOADED, {})
    for field in fields:
        if field.attname not in instance.__dict__:
            continue  # deferred and not loaded: not changed by this save
        new = set(stored_names(getattr(instance, field.attname)))
        for old in loaded.get(field.attname, ()):
            if old not in new:
                _delete_on_commit(sender, field, old, instance._state.db)
    _remember(instance, fields)
    instance.__dict__.pop(UNSAVED, None)  # the row holds them now


def _on_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    for field in tracked_fields(sender):
        if field.attname in instance.__dict__:
            for name in stored_names(getattr(instance, field.attname)):
                _delete_on_commit(sender, field, name, instance._state.db)


def _delete_on_commit(model: type[models.Model], field: models.Field[Any, Any], name: str, using: str | None) -> None:
    if not get_settings().delete_replaced:
        return
    transaction.on_commit(functools.partial(delete_unreferenced, model, field, name, using), using=using)


def held_anywhere(name: str, using: str | None = None) -> bool:
    """True when a row of any watched field (of any model) holds *name*: one query a field, stopping at the first."""
    for model in apps.get_models():
        for watched in tracked_fields(model):
            if _rows_holding(model, watched, name, using).exists():
                return True
    return False


def _rows_holding(
    model: type[models.Model], field: models.Field[Any, Any], name: str, using: str | None
) -> models.QuerySet[Any]:
    """The rows of *model* whose *field* holds *name* (for a list: as one of its items)."""
    rows = model._default_manager.using(using)
    if not isinstance(field, MediaListField):
        return rows.filter(**{field.attname: name})
    # The column is a JSON array of stored values: an item is "<id>" or "<id>;<info>" (";" and '"' are
    # never in an id, and an id needs no JSON escape).  Compared as text, on every database.
    text = Cast(field.attname, output_field=models.TextField())
    rows = rows.annotate(_s3media_text=text)
    return rows.filter(models.Q(_s3media_text__contains=f'"{name}"') | models.Q(_s3media_text__contains=f'"{name};'))


def delete_unreferenced(model: type[models.Model], field: models.Field[Any, Any], name: str, using: str | None) -> bool:
    """Delete the file *name* of *field* unless a row still holds it (:func:`held_anywhere`); True when deleted.

    What the commit runs.  Errors are logged, not raised.
    """
    try:
        if held_anywhere(name, using):
            return False
        if isinstance(field, FileField):
            field.storage.delete(name)
        elif ids.is_id(name):
            get_media().delete(name)
        else:
            return False
    except Exception:
        where = f"{model.__name__}.{field.name}"
        log.exception("could not delete %s, replaced in %s (manage.py s3media gc finds it)", name, where)
        return False
    log.info("deleted %s, no longer held by %s.%s", name, model.__name__, field.name)
    return True


def forget() -> None:
    """Forget which fields are watched (``STORAGES`` changed)."""
    _tracked_cache.clear()


def connect() -> None:
    """Connect the signals (the app does when it is ready); connecting twice connects once."""
    post_init.connect(_on_init, dispatch_uid="s3media_wsgi.cleanup.init")
    post_save.connect(_on_save, dispatch_uid="s3media_wsgi.cleanup.save")
    post_delete.connect(_on_delete, dispatch_uid="s3media_wsgi.cleanup.delete")


__all__ = [
    "connect",
    "delete_unreferenced",
    "forget",
    "held_anywhere",
    "stored_name",
    "stored_names",
    "tracked_fields",
]
