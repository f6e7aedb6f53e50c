"""Made by makemigrations, before the switch; the switch to MediaStorage adds nothing (a test checks it)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                (
                    "image",
                    models.ImageField(
                        height_field="image_height", upload_to="products/%Y/%m", width_field="image_width"
                    ),
                ),
                ("image_width", models.PositiveIntegerField(blank=True, editable=False, null=True)),
                ("image_height", models.PositiveIntegerField(blank=True, editable=False, null=True)),
            ],
        ),
    ]
