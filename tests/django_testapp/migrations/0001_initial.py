"""Made by makemigrations; test_django_field.py checks that it still matches the model."""

from django.db import migrations, models

import s3media_wsgi.adapters.django.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Photo",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=100)),
                ("image", s3media_wsgi.adapters.django.fields.MediaField(max_length=126)),
                ("banner", s3media_wsgi.adapters.django.fields.MediaField(blank=True, max_length=126)),
            ],
        ),
    ]
