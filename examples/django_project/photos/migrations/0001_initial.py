"""Made by ``manage.py makemigrations photos``; tests/test_examples.py checks that it still matches the model."""

from django.db import migrations, models

import s3media_wsgi.adapters.django.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Photo",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(blank=True, max_length=200)),
                ("image", s3media_wsgi.adapters.django.fields.MediaField(max_length=126, unique=True)),
                ("width", models.PositiveIntegerField(editable=False, null=True)),
                ("height", models.PositiveIntegerField(editable=False, null=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-created", "-pk"],
            },
        ),
    ]
