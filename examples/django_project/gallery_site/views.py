"""Views of the gallery example: list, upload, delete."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from s3media_wsgi.adapters.django import get_media
from s3media_wsgi.errors import MediaError


class Gallery:
    """The list of uploaded images, kept in a JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def items(self) -> list[dict[str, Any]]:
        try:
            return list(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return []

    def contains(self, media_id: str) -> bool:
        return any(item["id"] == media_id for item in self.items())

    def _save(self, items: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".gallery-")
        with os.fdopen(fd, "w") as fh:
            json.dump(items, fh, indent=1)
        os.replace(tmp, self.path)

    def add(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._save([item, *self.items()])

    def remove(self, media_id: str) -> None:
        with self._lock:
            self._save([item for item in self.items() if item["id"] != media_id])


gallery = Gallery(settings.GALLERY_FILE)


def _see_other(url: str) -> HttpResponse:
    """303: after a POST, the browser GETs the gallery again."""
    return HttpResponseRedirect(url, status=303)


def _page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "gallery.html", {"items": gallery.items(), "error": error}, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    photo = request.FILES.get("photo")
    if photo is None:
        return _page(request, "Choose a file to upload.", 400)
    try:
        media_id = get_media().put(photo)
    except MediaError as exc:
        return _page(request, f"Upload refused: {exc.public_message}.", exc.status_code)
    gallery.add({"id": media_id, "name": photo.name, "width": media_id.width, "height": media_id.height})
    return _see_other("/")


@require_POST
def delete(request: HttpRequest) -> HttpResponse:
    media_id = request.POST.get("id", "")
    # Only ids of this gallery: the form must not delete anything else in storage.
    if not gallery.contains(media_id):
        return _page(request, "No such image.", 404)
    get_media().delete(media_id)
    gallery.remove(media_id)
    return _see_other("/")
