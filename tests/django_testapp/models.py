"""The tests' model: a required media field and an optional one."""

from __future__ import annotations

from django.db import models

from s3media_wsgi.adapters.django.fields import MediaField


class Photo(models.Model):
    title = models.CharField(max_length=100)
    image = MediaField()
    banner = MediaField(blank=True)

    def __str__(self) -> str:
        return self.title
