"""A Django app for the tests, and the one Django configuration of a test process.

Django's settings are configured once per process, so both Django test
modules (``test_adapter_django.py``, ``test_django_field.py``) call
:func:`configure`: whichever runs first configures, with everything either
needs.  Each test then sets what it tests (``S3MEDIA``, ``MIDDLEWARE``,
``ROOT_URLCONF``) with ``override_settings``.

The app (label ``django_testapp``) holds a model with
:class:`~s3media_wsgi.adapters.django.fields.MediaField`\\ s, its admin, and
its migration (``makemigrations --check`` must find nothing to add).  The
database is SQLite in memory; ``test_django_field.py`` migrates it.
"""

from __future__ import annotations

import django


def base_settings() -> dict[str, object]:
    """The tests' Django settings (``configure`` uses them; so does ``settings.py``, the admin served for a browser)."""
    return {
        "DEBUG": False,
        "SECRET_KEY": "django-test-secret-not-the-media-one",
        "ALLOWED_HOSTS": ["testserver", "127.0.0.1"],
        "INSTALLED_APPS": [
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "s3media_wsgi.adapters.django",
            "django_tasks",  # the tasks framework's backport (Django 6.0 has it built in)
            "django_testapp",
        ],
        "MIDDLEWARE": [],
        "ROOT_URLCONF": "django_testapp.urls",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "USE_TZ": True,
    }


def configure() -> None:
    """Configure Django for this process, unless it is already."""
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(**base_settings())
    django.setup()


#: Django's static files storage, kept in every ``STORAGES`` the tests set.
STATIC_STORAGE = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_STORAGE = "s3media_wsgi.adapters.django.storage.MediaStorage"


def storages(legacy_root: object, media: bool = True) -> dict[str, object]:
    """``STORAGES`` after the switch to MediaStorage (*media*), or before it (Django's FileSystemStorage).

    After the switch, the old storage is the alias ``legacy``: names saved before are read through it.
    """
    legacy = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(legacy_root), "base_url": "/uploads/"},
    }
    if not media:
        return {"default": legacy, "staticfiles": STATIC_STORAGE}
    switched = {"BACKEND": MEDIA_STORAGE, "OPTIONS": {"legacy": "legacy"}}
    return {"default": switched, "legacy": legacy, "staticfiles": STATIC_STORAGE}


def s3media_setting(kind: str, secret: str, root: object, endpoint: str = "", bucket: str = "") -> dict[str, object]:
    """``S3MEDIA`` on local storage under *root*, or (``kind="s3"``) on *bucket* at *endpoint*."""
    if kind == "s3":
        return {
            "SECRET_KEY": secret,
            "STORAGE": "s3",
            "BUCKET": bucket,
            "REGION": "us-east-1",
            "ENDPOINT_URL": endpoint,
        }
    return {"SECRET_KEY": secret, "LOCAL_ROOT": str(root)}
