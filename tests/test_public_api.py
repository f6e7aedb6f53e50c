"""The public face: fixed names, one error root, and a core free of web frameworks."""

import subprocess
import sys

import s3media_wsgi
from s3media_wsgi import errors


def test_exported_members():
    assert set(s3media_wsgi.__all__) == {
        "LocalStorage",
        "Media",
        "MediaError",
        "MediaId",
        "MediaInfo",
        "MediaMiddleware",
        "S3Storage",
        "Storage",
        "__version__",
    }
    for name in s3media_wsgi.__all__:
        assert getattr(s3media_wsgi, name) is not None
    assert s3media_wsgi.__version__ == "0.1.0"


def test_the_public_modules_are_pinned_and_each_says_what_it_exports():
    # Changing this list is changing the public API: do it on purpose.
    assert s3media_wsgi.PUBLIC_MODULES == (
        "s3media_wsgi.errors",
        "s3media_wsgi.settings",
        "s3media_wsgi.factory",
        "s3media_wsgi.storage",
        "s3media_wsgi.storage.base",
        "s3media_wsgi.storage.contract_suite",
        "s3media_wsgi.imaging",
        "s3media_wsgi.picture",
        "s3media_wsgi.previews",
        "s3media_wsgi.responder",
        "s3media_wsgi.response",
        "s3media_wsgi.wsgi",
        "s3media_wsgi.adapters.flask",
        "s3media_wsgi.adapters.pyramid",
        "s3media_wsgi.adapters.django",
        "s3media_wsgi.adapters.django.middleware",
        "s3media_wsgi.adapters.django.fields",
        "s3media_wsgi.adapters.django.lists",
        "s3media_wsgi.adapters.django.permissions",
        "s3media_wsgi.adapters.django.widgets",
        "s3media_wsgi.adapters.django.templatetags.s3media",
        "s3media_wsgi.adapters.django.tasks",
        "s3media_wsgi.adapters.django.storage",
        "s3media_wsgi.adapters.django.thumbnails",
        "s3media_wsgi.adapters.django.rest",
    )
    import importlib

    # A tasks module is imported as Django imports models: after settings are configured (its
    # @task binds to a backend of settings.TASKS).  The one configuration of a test process:
    from django_testapp import configure

    configure()
    for name in s3media_wsgi.PUBLIC_MODULES:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        assert exported, f"{name} has no __all__"
        for attribute in exported:
            assert hasattr(module, attribute), f"{name}.__all__ names {attribute}, which it lacks"
    assert "PUBLIC_MODULES" in s3media_wsgi.__doc__


def test_every_error_derives_from_the_one_root_and_has_a_status():
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MediaError)
        assert 400 <= cls.status_code <= 599
        assert cls.public_message and "\n" not in cls.public_message


def test_core_imports_no_web_framework():
    code = (
        "import sys, pkgutil, importlib, s3media_wsgi\n"
        "for _, n, _ in pkgutil.walk_packages(s3media_wsgi.__path__, 's3media_wsgi.'):\n"
        "    if not n.startswith('s3media_wsgi.adapters'): importlib.import_module(n)\n"
        "bad = [m for m in ('flask', 'django', 'pyramid', 'werkzeug') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_adapters_are_a_subpackage_not_a_top_level_package():
    import importlib.util

    assert importlib.util.find_spec("s3media_wsgi.adapters") is not None
    code = (
        "import importlib.util, sys; sys.path = [p for p in sys.path if p not in ('', '.')]; "
        "print(importlib.util.find_spec('adapters'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    assert out.stdout.strip() == "None"
