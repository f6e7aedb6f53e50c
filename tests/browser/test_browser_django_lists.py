"""The Django admin's MediaListField widget in a real browser: several files at once, in order, one refused.

The tests' app (``tests/django_testapp``, with ``--settings=django_testapp.settings``) runs under
``runserver`` in a child process (its SQLite file and media folder in a temporary directory),
with a superuser made by ``createsuperuser``.  Chromium signs in, chooses four files at once in an
album's list (three images and a text file named ``.jpg``), sees each upload's progress and
thumbnail and the refusal's own message, reorders, removes, saves; the row's list in the database
and the album's page must follow, and the change form must then reorder and remove again, the
removed file deleted from storage after the commit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import images
import pytest
from conftest import PAGE_TIMEOUT_MS, SECRET
from servers import free_port, serve_process

TESTS = Path(__file__).resolve().parents[1]
PASSWORD = "a-browser-test-password-42"


@dataclass
class Admin:
    url: str
    database: Path
    media_root: Path


def django_admin(*args: str, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def admin_site(tmp_path: Path) -> Iterator[Admin]:
    """The tests' app under ``runserver`` on a free port, migrated, with a superuser."""
    pytest.importorskip("django")
    port = free_port()
    database, media_root = tmp_path / "admin.sqlite3", tmp_path / "media"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("S3MEDIA_", "DJANGO_"))},
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "django_testapp.settings",
        "DJANGO_DATABASE": str(database),
        "S3MEDIA_SECRET_KEY": SECRET,
        "S3MEDIA_LOCAL_ROOT": str(media_root),
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }
    django_admin("migrate", "--verbosity=0", env=env, cwd=tmp_path)
    django_admin("createsuperuser", "--noinput", "--username=editor", "--email=e@example.com", env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "django", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]
    with serve_process(command, url + "/admin/login/", cwd=tmp_path, env=env):
        yield Admin(url, database, media_root)


def album_rows(database: Path) -> list[tuple[int, str, list[str]]]:
    """Every album: its pk, title, and its list's plain ids (each item is ``id`` or ``id;info``)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id, title, images FROM django_testapp_album ORDER BY id").fetchall()
    return [(pk, title, [item.split(";")[0] for item in json.loads(column)]) for pk, title, column in rows]


def item_names(page: Any) -> list[str]:
    """The file names of the list's items, in order, as the page shows them."""
    names = page.locator('[data-s3media-list][data-name="images"] [data-s3media-item] [data-s3media-name]')
    return [text.strip() for text in names.all_text_contents()]


def test_the_admin_uploads_reorders_removes_and_saves_a_list(browser: Any, admin_site: Admin) -> None:
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(admin_site.url + "/admin/login/?next=/admin/django_testapp/album/add/")
        page.fill("#id_username", "editor")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click('input[type="submit"]')
        page.fill("#id_title", "Holidays")

        widget = page.locator('[data-s3media-list][data-name="images"]')
        # Every change of an item's state, with how many uploads ran at that moment.
        page.evaluate(
            """() => {
                window.seen = [];
                new MutationObserver((records) => {
                    for (const record of records) {
                        const items = [...document.querySelectorAll('[data-name="images"] [data-s3media-item]')];
                        window.seen.push({
                            name: record.target.querySelector("[data-s3media-name]")?.textContent,
                            from: record.oldValue,
                            to: record.target.dataset.state,
                            running: items.filter((item) => item.dataset.state === "uploading").length,
                        });
                    }
                }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ["data-state"],
                                           attributeOldValue: true});
            }"""
        )
        widget.locator("[data-s3media-files]").set_input_files(
            [
                {"name": "Beach.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(400, 300)},
                {"name": "Notes.jpg", "mimeType": "image/jpeg", "buffer": b"just some text, not a photo\n" * 40},
                {"name": "Hills.png", "mimeType": "image/png", "buffer": images.png(300, 400)},
                {"name": "Town.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(320, 240)},
            ]
        )
        items = widget.locator("[data-s3media-item]")
        assert items.count() == 4  # each chosen file is an item at once, in the order chosen
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-name="images"] [data-s3media-item]')]
                 .every((item) => item.dataset.state === "done" || item.dataset.state === "error")"""
        )
        states = [items.nth(i).get_attribute("data-state") for i in range(4)]
        assert states == ["done", "error", "done", "done"], states
        # Three at a time: the fourth waited for a free slot; each went through "uploading".
        seen = page.evaluate("window.seen")
        assert max(change["running"] for change in seen) == 3, seen
        assert {"name": "Town.jpg", "from": "waiting", "to": "uploading"}.items() <= next(
            change for change in seen if change["name"] == "Town.jpg"
        ).items(), seen
        assert all(any(c["name"] == n and c["to"] == "uploading" for c in seen) for n in ("Beach.jpg", "Hills.png"))
        # The refused file: the library's own message, and no value sent for it.
        refused = items.nth(1)
        message = (refused.locator("[data-s3media-status]").text_content() or "").strip()
        assert message.startswith("File type not recognised. Accepted: JPEG image"), message  # what confirm said
        assert refused.locator("input[type=hidden]").count() == 0
        # The others: progress to the end, a receipt each, and a thumbnail the browser decoded.
        for i in (0, 2, 3):
            item = items.nth(i)
            bar = item.locator("[data-s3media-progress]")
            assert bar.evaluate("(bar) => bar.value === bar.max && bar.max > 0"), i
            assert (item.locator("input[type=hidden]").input_value()).count(":") == 2
            thumb = item.locator("[data-s3media-thumb] img")
            thumb.wait_for()
            assert thumb.evaluate("(img) => img.complete && img.naturalWidth > 0"), i
        assert item_names(page) == ["beach.jpg", "Notes.jpg", "hills.png", "town.jpg"]

        # Reorder with the buttons (keyboard and touch): Town up twice, to second; then drop the refused item.
        town = widget.locator("[data-s3media-item]", has_text="town.jpg")
        town.locator('[data-s3media-move="-1"]').click()
        town.locator('[data-s3media-move="-1"]').focus()
        page.keyboard.press("Enter")  # the keyboard does what a click does
        assert item_names(page) == ["beach.jpg", "town.jpg", "Notes.jpg", "hills.png"]
        widget.locator("[data-s3media-item]", has_text="Notes.jpg").locator("[data-s3media-remove]").click()
        # Move Beach down, then remove Hills: Town, Beach remain.
        widget.locator("[data-s3media-item]", has_text="beach.jpg").locator('[data-s3media-move="1"]').click()
        widget.locator("[data-s3media-item]", has_text="hills.png").locator("[data-s3media-remove]").click()
        assert item_names(page) == ["town.jpg", "beach.jpg"]
        with page.expect_navigation():
            page.click('input[name="_continue"]')  # "Save and continue editing": the change form

        ((pk, title, ids),) = album_rows(admin_site.database)
        assert title == "Holidays" and [i.rsplit("/", 1)[1] for i in ids] == ["town.jpg", "beach.jpg"]
        # The page of the album renders the list in order, each a <picture> whose resize arrives.
        album_page = context.new_page()
        album_page.goto(f"{admin_site.url}/albums/{pk}/")
        assert album_page.locator("#album li").evaluate_all("(lis) => lis.map((li) => li.dataset.id)") == ids
        for img in album_page.locator("#album img").all():
            img.scroll_into_view_if_needed()
            album_page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        album_page.close()

        # The change form shows the saved list (server thumbnails), and edits it again.
        assert f"/album/{pk}/change/" in page.url
        assert item_names(page) == ["town.jpg", "beach.jpg"]
        for thumb in widget.locator("[data-s3media-thumb] img").all():
            page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        widget.locator("[data-s3media-files]").set_input_files(
            [{"name": "Lake.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(200, 150)}]
        )
        page.wait_for_selector('[data-name="images"] [data-s3media-item][data-state="done"] a:text("lake.jpg")')
        widget.locator("[data-s3media-item]", has_text="lake.jpg").locator('[data-s3media-move="-1"]').click()
        widget.locator("[data-s3media-item]", has_text="town.jpg").locator("[data-s3media-remove]").click()
        assert item_names(page) == ["lake.jpg", "beach.jpg"]
        with page.expect_navigation():
            page.click('input[name="_save"]')
        ((_, _, after),) = album_rows(admin_site.database)
        assert [i.rsplit("/", 1)[1] for i in after] == ["lake.jpg", "beach.jpg"] and after[1] == ids[1]
        # The removed file is deleted after the commit; the kept ones stay.
        assert not (admin_site.media_root / ids[0]).exists()
        assert (admin_site.media_root / after[0]).exists() and (admin_site.media_root / after[1]).exists()
        # The change list shows the first item's thumbnail.
        assert after[0] in (page.locator("#result_list img").first.get_attribute("src") or "")
        assert not errors, errors
    finally:
        context.close()
