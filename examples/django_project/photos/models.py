"""The gallery's photos: a media id in a ``MediaField``, a title, the image's size, when it came."""

from __future__ import annotations

from typing import Any

from django.db import models

from s3media_wsgi.adapters.django.fields import MediaField


class Photo(models.Model):
    """One image of the gallery.

    ``photo.image`` is the media id (a ``str``) with its URLs: ``photo.image.url``,
    ``photo.image.resize_url("400x300")``, ``photo.image.picture(sizes=[320, 640])``,
    and ``{% picture photo.image ... %}`` in templates.  Validation (forms,
    ``full_clean``) refuses an id whose file is not stored.
    """

    title = models.CharField(max_length=200, blank=True)
    image = MediaField(unique=True)  # one photo per upload: reporting it twice lists it once
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]  # newest first

    def __str__(self) -> str:
        return self.title or str(self.image)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An image assigned from what media.put or confirm_upload returned knows its pixel
        # size: kept, so the page sizes its <img>s (no layout shift) without asking storage.
        if self.image and self.image.width:
            self.width, self.height = self.image.width, self.image.height
        super().save(*args, **kwargs)
