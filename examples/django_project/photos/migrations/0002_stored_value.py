"""The image's info goes into its own column (``MediaField`` stores the id's stored value), so ``width`` and
``height`` go: the column grows (a plain ``AlterField``), the sizes rows kept are folded into it, then the
two columns are dropped.  tests/test_examples.py checks that the migrations still match the model."""

from typing import Any

from django.db import migrations

import s3media_wsgi.adapters.django.fields
from s3media_wsgi import MediaId


def fold_sizes(apps: Any, schema_editor: Any) -> None:
    """Rows saved with a width and a height keep them, now in the image's stored value."""
    Photo = apps.get_model("photos", "Photo")
    for photo in Photo.objects.exclude(width=None).exclude(height=None).iterator():
        if photo.image.info is None:
            photo.image = MediaId(str(photo.image), photo.width, photo.height)
            photo.save(update_fields=["image"])


class Migration(migrations.Migration):
    dependencies = [
        ("photos", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="photo",
            name="image",
            field=s3media_wsgi.adapters.django.fields.MediaField(max_length=512, unique=True),
        ),
        migrations.RunPython(fold_sizes, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="photo",
            name="height",
        ),
        migrations.RemoveField(
            model_name="photo",
            name="width",
        ),
    ]
