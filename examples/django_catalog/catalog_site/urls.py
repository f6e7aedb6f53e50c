"""URLs of the catalog: the product list, the admin, and the uploads kept from before the switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path
from django.views.static import serve

from . import views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("admin/", admin.site.urls),
    # Files saved by FileSystemStorage (before the switch, and rows not imported yet).  A
    # production site has its web server answer MEDIA_URL instead.
    re_path(r"^uploads/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
