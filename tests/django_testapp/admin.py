"""The admin of the tests' model: a plain ModelAdmin, nothing about media in it."""

from __future__ import annotations

from django.contrib import admin

from .models import Photo, Picture


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["title", "image"]


@admin.register(Picture)
class PictureAdmin(admin.ModelAdmin):
    list_display = ["title", "image", "width", "height"]
