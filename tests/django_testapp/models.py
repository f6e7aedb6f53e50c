"""The tests' models: a required media field and an optional one; an album of files; a model before the switch."""

from __future__ import annotations

from django.db import models

from s3media_wsgi.adapters.django.fields import MediaField
from s3media_wsgi.adapters.django.lists import MediaListField


class Photo(models.Model):
    title = models.CharField(max_length=100)
    image = MediaField()
    banner = MediaField(blank=True)

    def __str__(self) -> str:
        return self.title


class Picture(models.Model):
    """A model as it was before the media layer: an ImageField and a FileField on the default storage.

    The tests switch ``STORAGES["default"]`` to ``MediaStorage`` (settings only, no migration).
    """

    title = models.CharField(max_length=100, blank=True)
    image = models.ImageField(upload_to="photos/%Y", width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    attachment = models.FileField(upload_to="files", blank=True)

    def __str__(self) -> str:
        return self.title


class Album(models.Model):
    """Several files in order: at least one, at most five."""

    title = models.CharField(max_length=100)
    images = MediaListField(max_items=5)
    extras = MediaListField(blank=True)

    def __str__(self) -> str:
        return self.title
