"""URLs of the gallery example; ``/media/`` is answered by the middleware before these."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("register", views.register_upload, name="register"),
    path("add", views.add, name="add"),
    path("upload", views.upload, name="upload"),
    path("delete", views.delete, name="delete"),
]
