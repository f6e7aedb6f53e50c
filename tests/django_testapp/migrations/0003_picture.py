"""Made by makemigrations: the model of a project before it switched its default storage to MediaStorage."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_testapp", "0002_stored_value"),
    ]

    operations = [
        migrations.CreateModel(
            name="Picture",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(blank=True, max_length=100)),
                ("image", models.ImageField(height_field="height", upload_to="photos/%Y", width_field="width")),
                ("width", models.PositiveIntegerField(blank=True, editable=False, null=True)),
                ("height", models.PositiveIntegerField(blank=True, editable=False, null=True)),
                ("attachment", models.FileField(blank=True, upload_to="files")),
            ],
        ),
    ]
