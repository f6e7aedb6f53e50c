"""The catalog example switches its ``ImageField`` from Django's FileSystemStorage to MediaStorage by settings alone.

Each phase runs in its own process (Django's settings are configured once per process), on one
database and one data folder: before the switch (``CATALOG_STORAGE=filesystem``), products are added
through the admin; after it, the page, the admin and the thumbnails work for those rows and for new
ones, with no migration; ``manage.py s3media import`` then moves the old files into media.  Every URL a
page shows is fetched through Django's test Client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "django_catalog"

PRELUDE = textwrap.dedent(
    """
    import html, json, re, sys
    import django
    django.setup()
    from django.core.management import call_command
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.contrib.auth.models import User
    from django.test import Client
    import images
    from products.models import Product

    call_command("migrate", verbosity=0, interactive=False)
    call_command("check")
    call_command("makemigrations", "products", check=True, dry_run=True)  # the switch adds no migration
    admin = User.objects.filter(username="admin").first() or User.objects.create_superuser("admin", "", "pw")
    client = Client()
    client.force_login(admin)
    URL = re.compile(r'(?:src|href)="(/(?:media|uploads)/[^"]+)"|(?:srcset)="([^"]+)"')

    def urls(page):
        found = set()
        for single, srcset in URL.findall(page):
            if single:
                found.add(html.unescape(single))
            for part in html.unescape(srcset).split(","):
                if part.strip():
                    found.add(part.split()[0])
        return sorted(found)

    def fetch(page):
        answers = {}
        for url in urls(page):
            r = client.get(url, follow=True)  # a legacy resize redirects to the resize of its media copy
            body = b"".join(r.streaming_content) if r.streaming else r.content
            answers[url] = [r.status_code, r.get("Content-Type", ""), len(body)]
        return answers

    def add(name, width, height):
        upload = SimpleUploadedFile(name.lower() + ".jpg", images.jpeg(width, height), content_type="image/jpeg")
        r = client.post("/admin/products/product/add/", {"name": name, "image": upload})
        assert r.status_code == 302, r.content.decode()[:3000]

    def state():
        page = client.get("/").content.decode()
        changelist = client.get("/admin/products/product/").content.decode()
        rows = list(Product.objects.order_by("pk").values("name", "image", "image_width", "image_height"))
        change = "/admin/products/product/{}/change/"
        changes = {p.name: client.get(change.format(p.pk)).status_code for p in Product.objects.all()}
        return {"page": page, "fetched": fetch(page), "admin": changelist, "admin_fetched": fetch(changelist),
                "rows": rows, "changes": changes}
    """
)

BEFORE = textwrap.dedent(
    """
    add("Teapot", 640, 480)
    add("Kettle", 300, 400)
    print(json.dumps(state()))
    """
)

AFTER = textwrap.dedent(
    """
    add("Mug", 800, 600)
    print(json.dumps(state()))
    """
)

IMPORTED = textwrap.dedent(
    """
    import io
    out = io.StringIO()
    call_command("s3media", "import", "products.Product.image", "--dry-run", stdout=out)
    call_command("s3media", "import", "products.Product.image", stdout=out)
    print(json.dumps({**state(), "import": out.getvalue()}))
    """
)


def run_phase(tmp_path: Path, secret: str, storage: str, script: str) -> dict[str, Any]:
    pytest.importorskip("django")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("S3MEDIA_", "CATALOG_", "DJANGO_"))}
    env.update(
        {
            "S3MEDIA_SECRET_KEY": secret,
            "CATALOG_DATA": str(tmp_path / "data"),
            "CATALOG_STORAGE": storage,
            "DJANGO_SETTINGS_MODULE": "catalog_site.settings",
            "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(Path(__file__).parent)]),
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-5000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def all_served(fetched: dict[str, list[Any]]) -> None:
    for url, (status, content_type, size) in fetched.items():
        assert status == 200 and content_type.startswith("image/") and size > 0, (url, status, content_type)


def test_switching_to_media_storage_by_settings_alone(tmp_path: Path, secret: str) -> None:
    from s3media_wsgi.ids import is_id

    before = run_phase(tmp_path, secret, "filesystem", BEFORE)
    old = {row["name"]: row for row in before["rows"]}
    assert [row["image"].startswith("products/") for row in before["rows"]] == [True, True]
    assert (old["Kettle"]["image_width"], old["Kettle"]["image_height"]) == (300, 400)
    # Before: pages show the originals (the tags take any FieldFile), served from MEDIA_URL.
    assert before["fetched"] and all(url.startswith("/uploads/products/") for url in before["fetched"])
    all_served(before["fetched"])
    all_served(before["admin_fetched"])

    after = run_phase(tmp_path, secret, "media", AFTER)
    rows = {row["name"]: row for row in after["rows"]}
    assert rows["Teapot"] == old["Teapot"] and rows["Kettle"] == old["Kettle"]  # rows from before: untouched
    mug = rows["Mug"]
    assert is_id(mug["image"]) and len(mug["image"]) <= 100
    assert (mug["image_width"], mug["image_height"]) == (800, 600)
    fetched = after["fetched"]
    # The old rows' originals are served by the old storage, their resizes made on the first request
    # (each redirects to the resize of the file's copy in media); the new row is media.
    assert {url for url in fetched if url.startswith("/uploads/")} == {f"/uploads/{old[n]['image']}" for n in old}
    assert len([url for url in fetched if url.startswith("/media/legacy/legacy/products/")]) == 2 * 2 * 3
    resizes = [url for url in fetched if url.startswith(f"/media/{mug['image']}/") and "-fit-" in url]
    assert len(resizes) == 6  # 2 widths x 3 formats
    assert f"/media/{mug['image']}/{mug['image'].rsplit('/', 1)[1]}" in fetched  # the link to the original
    all_served(fetched)
    # The admin: every change page opens, and the change list shows a thumbnail of each row.
    assert after["changes"] == {"Teapot": 200, "Kettle": 200, "Mug": 200}
    thumbs = after["admin_fetched"]
    assert any(url.startswith(f"/media/{mug['image']}/64x64-fill-") for url in thumbs)
    legacy_thumbs = {url.split("?")[0] for url in thumbs if url.startswith("/media/legacy/") and "size=64x64" in url}
    assert legacy_thumbs == {f"/media/legacy/legacy/{old[n]['image']}" for n in old}
    all_served(thumbs)

    imported = run_phase(tmp_path, secret, "media", IMPORTED)
    assert "dry run: 2 rows to import" in imported["import"] and "imported 2 of 2 rows" in imported["import"]
    rows = {row["name"]: row for row in imported["rows"]}
    assert all(is_id(row["image"]) for row in rows.values()) and rows["Mug"] == mug
    assert (rows["Kettle"]["image_width"], rows["Kettle"]["image_height"]) == (300, 400)
    assert not any(url.startswith("/uploads/") for url in imported["fetched"])
    assert sum("-fit-" in url for url in imported["fetched"]) == 18  # every product has its resizes now
    all_served(imported["fetched"])
    all_served(imported["admin_fetched"])
