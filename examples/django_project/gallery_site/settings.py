"""Settings of the gallery example.

Media settings live in ``S3MEDIA`` (upper-case keys).  Every ``S3MEDIA_*``
environment variable lands there (``S3MEDIA_BUCKET`` → ``S3MEDIA["BUCKET"]``),
so S3 is::

    S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=my-bucket S3MEDIA_REGION=eu-west-1 \\
        .venv/bin/python examples/django_project/manage.py runserver 127.0.0.1:8000

The media secret is ``S3MEDIA_SECRET_KEY``, or a development secret kept in
``.dev-secret`` in the working directory (both through ``examples/gallery_common.py``,
shared by all the examples).  Django's own ``SECRET_KEY`` is ``DJANGO_SECRET_KEY``
or, for this demo, derived from the media secret.

The photos are rows of a SQLite file next to the media folder
(``examples/media/django.sqlite3``, git-ignored with it), or ``DJANGO_DATABASE``.
``manage.py runserver`` makes its tables (``migrate``) before serving.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = BASE_DIR.parent

# gallery_common.py, shared by all the examples, is in the folder above this project.
sys.path.append(str(EXAMPLES_DIR))

from gallery_common import media_settings  # noqa: E402  (needs the line above)

_DEFAULT_ROOT = EXAMPLES_DIR / "media" / "django"

#: Django's spelling: S3MEDIA_BUCKET is S3MEDIA["BUCKET"].  It includes
#: S3MEDIA["ALLOWED_TYPES"]: the gallery takes images only (gallery_common.image_types), and
#: S3MEDIA["UPLOADS"], the hook that turns the middleware's upload routes on.  This demo has no
#: users, so its hook lets everyone upload (gallery_common.anyone_may_upload).  A site with
#: django.contrib.auth and sessions would say who may, e.g.
#: S3MEDIA["UPLOADS"] = "s3media_wsgi.adapters.django.permissions.is_authenticated"
#: (the middleware runs before AuthenticationMiddleware: that hook reads the session itself).
S3MEDIA = media_settings(os.environ, _DEFAULT_ROOT)

#: The gallery's photos (photos.models.Photo): a SQLite file next to the media folder.
DATABASE_FILE = Path(os.environ.get("DJANGO_DATABASE") or f"{S3MEDIA.get('LOCAL_ROOT', _DEFAULT_ROOT)}.sqlite3")
DATABASE_FILE.parent.mkdir(parents=True, exist_ok=True)  # SQLite makes the file, not its folder
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE_FILE}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SECRET_KEY = (
    os.environ.get("DJANGO_SECRET_KEY")
    or hashlib.sha256(f"django-example:{S3MEDIA['SECRET_KEY']}".encode()).hexdigest()
)
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "s3media_wsgi.adapters.django",  # {% load s3media %}, the settings check
    "photos",  # the gallery's model, Photo, with its MediaField
]
MIDDLEWARE = [
    # First: media requests skip everything below.
    "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "gallery_site.urls"
WSGI_APPLICATION = "gallery_site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
USE_TZ = True
