"""Views of the gallery example: list, upload, delete."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from gallery_common import NO_FILE, Uploads, refusal_message  # on sys.path through settings.py

from s3media_wsgi.adapters.django import get_media
from s3media_wsgi.errors import MediaError

uploads = Uploads(settings.GALLERY_FILE)


def _see_other(url: str) -> HttpResponse:
    """303: after a POST, the browser GETs the gallery again."""
    return HttpResponseRedirect(url, status=303)


def _page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "gallery.html", {"items": uploads.items(), "error": error}, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    photo = request.FILES.get("photo")
    if photo is None:
        return _page(request, NO_FILE, 400)
    try:
        media_id = get_media().put(photo)
    except MediaError as exc:
        return _page(request, refusal_message(exc), exc.status_code)
    uploads.add(media_id, photo.name or "")
    return _see_other("/")


@require_POST
def delete(request: HttpRequest) -> HttpResponse:
    media_id = request.POST.get("id", "")
    # Only ids of this gallery: the form must not delete anything else in storage.
    if not uploads.remove(media_id):
        return _page(request, "No such image.", 404)
    get_media().delete(media_id)
    return _see_other("/")
