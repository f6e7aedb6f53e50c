"""Settings of the catalog example: a shop's products, each with an ``ImageField``, switched to s3media by settings.

The project was written for Django's ``FileSystemStorage`` (``MEDIA_ROOT``,
``MEDIA_URL``), as most are.  The switch is the block at the end: ``STORAGES``
names :class:`~s3media_wsgi.adapters.django.storage.MediaStorage` as the
default storage, with the old storage as ``"legacy"``, and the media
middleware serves resizes.  No model changes, no migration: new uploads are
stored as media ids, rows saved before keep their names and are read through
the old storage until ``manage.py s3media import products.Product.image``
moves them.  ``CATALOG_STORAGE=filesystem`` runs the project as it was before.

Its files live under ``CATALOG_DATA`` (default ``examples/media/catalog``):
``catalog.sqlite3``, ``uploads/`` (the old storage) and ``media/`` (s3media's
local storage; ``S3MEDIA_STORAGE=s3`` and ``S3MEDIA_BUCKET`` for S3).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = BASE_DIR.parent
sys.path.append(str(EXAMPLES_DIR))  # gallery_common, shared by the examples

from gallery_common import media_settings  # noqa: E402  (needs the line above)

DATA_DIR = Path(os.environ.get("CATALOG_DATA") or EXAMPLES_DIR / "media" / "catalog")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "catalog.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The template tags ({% picture product.image %}) and admin_thumbnail take any FieldFile: on
    # another storage they show the original, so templates need no change when the storage does.
    "s3media_wsgi.adapters.django",
    "products",
]
MIDDLEWARE = [
    "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware",  # first: media requests skip the rest
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "catalog_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
USE_TZ = True

# Where the project kept its uploads before the switch (served by catalog_site/urls.py).
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "/uploads/"

S3MEDIA = media_settings(os.environ, DATA_DIR / "media")
S3MEDIA.pop("UPLOADS")  # the admin's forms post their files: no browser upload routes here
SECRET_KEY = (
    os.environ.get("DJANGO_SECRET_KEY") or hashlib.sha256(f"catalog:{S3MEDIA['SECRET_KEY']}".encode()).hexdigest()
)

_FILES = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # MEDIA_ROOT, MEDIA_URL
_STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- the switch: this block is all it takes ------------------------------------------------------
if os.environ.get("CATALOG_STORAGE", "media") == "media":
    STORAGES = {
        "default": {"BACKEND": "s3media_wsgi.adapters.django.storage.MediaStorage", "OPTIONS": {"legacy": "legacy"}},
        "legacy": _FILES,  # rows saved before the switch are read here
        "staticfiles": _STATIC,
    }
else:
    STORAGES = {"default": _FILES, "staticfiles": _STATIC}
