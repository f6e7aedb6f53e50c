"""Made by makemigrations: an album, a MediaListField of at most five files and an optional one."""

from django.db import migrations, models

import s3media_wsgi.adapters.django.lists


class Migration(migrations.Migration):
    dependencies = [
        ("django_testapp", "0003_picture"),
    ]

    operations = [
        migrations.CreateModel(
            name="Album",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=100)),
                ("images", s3media_wsgi.adapters.django.lists.MediaListField(max_items=5)),
                ("extras", s3media_wsgi.adapters.django.lists.MediaListField(blank=True)),
            ],
        ),
    ]
