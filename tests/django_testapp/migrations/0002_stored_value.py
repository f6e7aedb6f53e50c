"""Made by makemigrations after MediaField's default length grew to hold the stored value: a plain AlterField."""

from django.db import migrations

import s3media_wsgi.adapters.django.fields


class Migration(migrations.Migration):
    dependencies = [
        ("django_testapp", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="photo",
            name="banner",
            field=s3media_wsgi.adapters.django.fields.MediaField(blank=True, max_length=512),
        ),
        migrations.AlterField(
            model_name="photo",
            name="image",
            field=s3media_wsgi.adapters.django.fields.MediaField(max_length=512),
        ),
    ]
