"""The tests' URLs: the admin and an album's page (``/media/`` is the middleware's, before these)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [path("admin/", admin.site.urls), path("albums/<int:pk>/", views.album, name="album")]
