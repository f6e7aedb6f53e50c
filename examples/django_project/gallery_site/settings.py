"""Settings of the gallery example.

Media settings live in ``S3MEDIA`` (upper-case keys).  Every ``S3MEDIA_*``
environment variable lands there (``S3MEDIA_BUCKET`` → ``S3MEDIA["BUCKET"]``),
so S3 is::

    S3MEDIA_STORAGE=s3 S3MEDIA_BUCKET=my-bucket S3MEDIA_REGION=eu-west-1 \\
        .venv/bin/python examples/django_project/manage.py runserver 127.0.0.1:8000

The media secret is ``S3MEDIA_SECRET_KEY``, or a development secret kept in
``.dev-secret`` in the working directory.  Django's own ``SECRET_KEY`` is
``DJANGO_SECRET_KEY`` or, for this demo, derived from the media secret.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = BASE_DIR.parent


def _media_secret() -> str:
    if os.environ.get("S3MEDIA_SECRET_KEY"):
        return os.environ["S3MEDIA_SECRET_KEY"]
    path = Path(".dev-secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


_DEFAULT_ROOT = str(EXAMPLES_DIR / "media" / "django")

S3MEDIA = {k[len("S3MEDIA_"):]: v for k, v in os.environ.items() if k.startswith("S3MEDIA_")}
S3MEDIA["SECRET_KEY"] = _media_secret()
if S3MEDIA.get("STORAGE", "local").lower() == "local":
    S3MEDIA.setdefault("LOCAL_ROOT", _DEFAULT_ROOT)

#: The gallery's list of ids: a JSON file next to the media folder.
GALLERY_FILE = Path(os.environ.get("GALLERY_FILE") or S3MEDIA.get("LOCAL_ROOT", _DEFAULT_ROOT) + ".json")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or hashlib.sha256(
    f"django-example:{S3MEDIA['SECRET_KEY']}".encode()
).hexdigest()
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = ["s3media_wsgi.adapters.django"]
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
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
