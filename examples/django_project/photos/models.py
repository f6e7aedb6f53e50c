"""The gallery's photos: a media id with its info in a ``MediaField``, a title, when it came; albums of several."""

from __future__ import annotations

from django.db import models

from s3media_wsgi.adapters.django.fields import MediaField
from s3media_wsgi.adapters.django.lists import MediaListField


class Photo(models.Model):
    """One image of the gallery.

    ``photo.image`` is the media id (a ``str``) with what the upload pass
    learned, kept in the same column (its *stored value*): ``photo.image.width``,
    ``photo.image.height``, ``photo.image.info.placeholder``; and its URLs:
    ``photo.image.url``, ``photo.image.resize_url("400x300")``,
    ``photo.image.picture(sizes=[320, 640], placeholder=True)``, and
    ``{% picture photo.image ... %}`` in templates, sized and with the
    placeholder with no I/O.  Validation (forms, ``full_clean``) refuses an
    id whose file is not stored.
    """

    title = models.CharField(max_length=200, blank=True)
    image = MediaField(unique=True)  # one photo per upload: reporting it twice lists it once
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]  # newest first

    def __str__(self) -> str:
        return self.title or str(self.image)


class Album(models.Model):
    """Several images in the order their owner chose: ``album.images`` is a list of media values.

    ``album.images[0].resize_url("400x300", mode="fill")``, and in templates
    ``{% for image in album.images %}{% picture image sizes="320,640" %}{% endfor %}``.
    A model form (or the admin) renders the list widget: several files chosen
    at once, uploaded in parallel, reordered and removed before saving; an
    image removed from the list is deleted once the row is saved, unless
    another row still holds it.
    """

    title = models.CharField(max_length=200)
    images = MediaListField(max_items=12)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
