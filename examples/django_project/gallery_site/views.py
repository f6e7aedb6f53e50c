"""Views of the gallery example: list, register a direct upload, add a titled photo, upload without JavaScript, delete.

Every image is a row of ``photos.models.Photo``, whose ``image`` is a ``MediaField``.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from gallery_common import NO_FILE, UPLOAD_SCRIPT, refusal_message  # on sys.path through settings.py
from photos.forms import PhotoForm
from photos.models import Photo

from s3media_wsgi.adapters.django import check_upload_receipt, get_media, get_settings
from s3media_wsgi.errors import InvalidUpload, MediaError

#: The answer of /register to each of the MediaField's refusals of an upload.
REFUSED_STATUS = {"invalid": 400, "id": 400, "receipt": 400, "unconfirmed": 404, "unavailable": 503}


def _see_other(url: str) -> HttpResponse:
    """303: after a POST, the browser GETs the gallery again."""
    return HttpResponseRedirect(url, status=303)


def _page(request: HttpRequest, error: str = "", status: int = 200, form: PhotoForm | None = None) -> HttpResponse:
    context = {
        "photos": Photo.objects.all(),
        "form": form or PhotoForm(),
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
    """The page reports an upload the middleware confirmed (``{"receipt", "name"}``): a Photo of it, and its HTML.

    The receipt is what ``s3/confirm`` answered: the id, signed for the
    uploader.  PhotoForm checks it (the MediaField's form field: a receipt
    valid for this request's user, its file stored, an image) and trusts
    nothing else the page sends.  CSRF-protected like every POST here: the
    page's script sends the form's token as ``X-CSRFToken``.
    """
    if request.content_type != "application/json":
        return JsonResponse({"error": "Send the upload as JSON."}, status=415)
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("receipt"), str):
        return JsonResponse({"error": "Send a JSON object: {receipt, name}."}, status=400)
    name, receipt = payload.get("name"), payload["receipt"]
    try:
        media_id = check_upload_receipt(receipt)  # for this request's user; the form checks it again
    except InvalidUpload as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    # Reported twice: listed once.
    photo = Photo.objects.filter(image=media_id).first()
    if photo is None:
        form = PhotoForm({"title": name[:200] if isinstance(name, str) else "", "image": receipt})
        if not form.is_valid():
            error = next(error for errors in form.errors.as_data().values() for error in errors)
            return JsonResponse({"error": " ".join(error.messages)}, status=REFUSED_STATUS.get(error.code or "", 400))
        photo = form.save()
    html = render_to_string("gallery_item.html", {"photo": photo}, request=request)
    return JsonResponse({"id": photo.image, "html": html})


@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """The model's form: a title, and an image the field's widget uploaded straight to storage (its receipt)."""
    form = PhotoForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, form=form)
    form.save()
    return _see_other("/")


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    """Without JavaScript: the form's files, stored by the app itself, a Photo each."""
    files = request.FILES.getlist("photo")
    if not files:
        return _page(request, NO_FILE, 400)
    for file in files:
        try:
            media_id = get_media().put(file)  # checked first: nothing is stored when it is refused
        except MediaError as exc:
            return _page(request, refusal_message(exc), exc.status_code)
        Photo.objects.create(title=(file.name or "")[:200], image=media_id)  # the id, with its size
    return _see_other("/")


@require_POST
def delete(request: HttpRequest) -> HttpResponse:
    # Only this gallery's photos: the form must not delete anything else in storage.
    photo = Photo.objects.filter(image=request.POST.get("id", "")).first()
    if photo is None:
        return _page(request, "No such image.", 404)
    photo.delete()
    get_media().delete(photo.image)
    return _see_other("/")
