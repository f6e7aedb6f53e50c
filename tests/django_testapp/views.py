"""The page of an album: its files in order, each a ``<picture>`` from the row alone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines

from .models import Album

PAGE = """{% load s3media %}<!doctype html><title>{{ album.title }}</title>
<ol id="album">{% for image in album.images %}
<li data-id="{{ image }}">{% picture image sizes="160,320" alt=album.title %}</li>{% endfor %}
</ol>"""


def album(request: HttpRequest, pk: int) -> HttpResponse:
    template = engines["django"].from_string(PAGE)
    return HttpResponse(template.render({"album": get_object_or_404(Album, pk=pk)}, request))
