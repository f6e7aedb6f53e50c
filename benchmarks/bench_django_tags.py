"""What a template tag costs on an ImageField of MediaStorage, against a plain id and a legacy name (no I/O in any).

.venv/bin/python benchmarks/bench_django_tags.py
"""

from __future__ import annotations

import secrets
import tempfile
import time

import django
from django.conf import settings

FOLDER = tempfile.mkdtemp()
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "s3media_wsgi.adapters.django"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    STORAGES={
        "default": {"BACKEND": "s3media_wsgi.adapters.django.storage.MediaStorage", "OPTIONS": {"legacy": "legacy"}},
        "legacy": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": FOLDER}},
    },
    S3MEDIA={"SECRET_KEY": secrets.token_urlsafe(48), "LOCAL_ROOT": FOLDER + "/media"},
)
django.setup()

from django.db import models  # noqa: E402
from django.template import Context, Template  # noqa: E402

from s3media_wsgi.ids import new_id  # noqa: E402


class Product(models.Model):
    image = models.ImageField(width_field="width", height_field="height")
    width = models.IntegerField(null=True)
    height = models.IntegerField(null=True)

    class Meta:
        app_label = "s3media"


def per_tag(template: Template, rows: list[object], rounds: int = 3) -> float:
    """Microseconds a tag, the best of *rounds* renders of every row."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        template.render(Context({"rows": rows}))
        best = min(best, time.perf_counter() - started)
    return best / len(rows) * 1e6


def run(n: int = 2000) -> list[tuple[str, float]]:
    from s3media_wsgi.adapters.django.storage import adopt_fields

    adopt_fields([Product])  # as the app does when ready, for a model defined after it
    media = [Product(image=new_id("p.jpg"), width=800, height=600) for _ in range(n)]
    legacy = [Product(image=f"photos/2024/p{i}.jpg", width=800, height=600) for i in range(n)]
    plain = [str(row.image.name) for row in media]
    resize = '{% load s3media %}{% for p in rows %}{% resize_url p.image "400x300" mode="fill" %}{% endfor %}'
    resize_plain = '{% load s3media %}{% for p in rows %}{% resize_url p "400x300" mode="fill" %}{% endfor %}'
    picture = '{% load s3media %}{% for p in rows %}{% picture p.image sizes="320,640" %}{% endfor %}'
    cases = [
        ("resize_url of an id", resize_plain, plain),
        ("resize_url of a FieldFile", resize, media),
        ("resize_url of a legacy FieldFile", resize, legacy),
        ("picture (9 URLs) of a FieldFile", picture, media),
        ("picture (9 URLs) of a legacy FieldFile", picture, legacy),
    ]
    return [(label, per_tag(Template(source), rows)) for label, source, rows in cases]


if __name__ == "__main__":
    for label, micros in run():
        print(f"{label:40s} {micros:7.1f} µs a tag")
