"""The tests' app as a project (``--settings=django_testapp.settings``): the admin served to a real browser.

What the browser tests run under ``runserver``: the tests' settings, a SQLite file
(``DJANGO_DATABASE``), sessions and authentication, and the media layer on local storage
(``S3MEDIA_SECRET_KEY``, ``S3MEDIA_LOCAL_ROOT``) with uploads open to staff.
"""

from __future__ import annotations

import os

from django_testapp import base_settings

globals().update(base_settings())

# The admin's own scripts and styles, served by ``runserver --insecure`` (DEBUG is off).
INSTALLED_APPS = [*base_settings()["INSTALLED_APPS"], "django.contrib.staticfiles"]  # type: ignore[misc]
STATIC_URL = "/static/"

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJANGO_DATABASE"]}}
MIDDLEWARE = [
    "s3media_wsgi.adapters.django.middleware.S3MediaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
S3MEDIA = {
    "SECRET_KEY": os.environ["S3MEDIA_SECRET_KEY"],
    "LOCAL_ROOT": os.environ["S3MEDIA_LOCAL_ROOT"],
    "UPLOADS": "s3media_wsgi.adapters.django.permissions.is_staff",
}
