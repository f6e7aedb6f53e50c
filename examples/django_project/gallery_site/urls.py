"""URLs of the gallery example; ``/media/`` is answered by the middleware before these."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("upload", views.upload, name="upload"),
    path("delete", views.delete, name="delete"),
]
