"""Views of the gallery example: list, register a direct upload, upload without JavaScript, delete."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from gallery_common import (  # on sys.path through settings.py
    NO_FILE,
    UPLOAD_SCRIPT,
    Refused,
    Uploads,
    refusal_message,
    register,
)

from s3media_wsgi.adapters.django import get_media, get_settings
from s3media_wsgi.errors import MediaError

uploads = Uploads(settings.GALLERY_FILE)


def _see_other(url: str) -> HttpResponse:
    """303: after a POST, the browser GETs the gallery again."""
    return HttpResponseRedirect(url, status=303)


def _page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "items": uploads.items(),
        "error": error,
        # What uploader.js calls "endpoint": the middleware's prefix without its last "/".
        "endpoint": get_settings().prefix.rstrip("/"),
        "upload_script": UPLOAD_SCRIPT,
    }
    return render(request, "gallery.html", context, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def register_upload(request: HttpRequest) -> JsonResponse:
    """The page reports an upload the middleware confirmed: check it, list it, answer its HTML.

    CSRF-protected like every POST here: the page's script sends the form's token as ``X-CSRFToken``.
    """
    if request.content_type != "application/json":
        return JsonResponse({"error": "Send the upload as JSON."}, status=415)
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    try:
        item = register(get_media(), uploads, payload)
    except Refused as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    html = render_to_string("gallery_item.html", {"item": item}, request=request)
    return JsonResponse({"id": item["id"], "html": html})


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Without JavaScript: the form's files, stored by the app itself."""
    photos = request.FILES.getlist("photo")
    if not photos:
        return _page(request, NO_FILE, 400)
    for photo in photos:
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
