"""The admin of the tests' models: each lists thumbnails (Photo's are cropped on the row's focus, when it has one)."""

from __future__ import annotations

from django.contrib import admin

from s3media_wsgi.adapters.django.thumbnails import admin_thumbnail

from .models import Album, Photo, Picture


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["title", "image", admin_thumbnail("image", "60x60")]


@admin.register(Picture)
class PictureAdmin(admin.ModelAdmin):
    list_display = ["title", admin_thumbnail("image", "60x60"), "width", "height"]


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", admin_thumbnail("images", "60x60")]
