"""A product as a shop writes it: an ``ImageField`` on the default storage, its size kept in two columns."""

from __future__ import annotations

from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=200)
    image = models.ImageField(upload_to="products/%Y/%m", width_field="image_width", height_field="image_height")
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name
