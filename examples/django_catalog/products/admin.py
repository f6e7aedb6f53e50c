"""The products' admin: a thumbnail column in the change list (signed resizes, no storage call)."""

from __future__ import annotations

from django.contrib import admin

from s3media_wsgi.adapters.django.thumbnails import admin_thumbnail

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", admin_thumbnail("image", "64x64"), "image_width", "image_height"]
