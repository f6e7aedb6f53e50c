"""Made by makemigrations: albums, each an ordered list of images (a MediaListField)."""

from django.db import migrations, models

import s3media_wsgi.adapters.django.lists


class Migration(migrations.Migration):
    dependencies = [
        ("photos", "0002_stored_value"),
    ]

    operations = [
        migrations.CreateModel(
            name="Album",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=200)),
                ("images", s3media_wsgi.adapters.django.lists.MediaListField(max_items=12)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
