"""The Django gallery in a real browser: MediaField's widget uploads, the row keeps the image's info, the page shows it.

The example project (``examples/django_project``) runs under ``manage.py runserver`` in a child
process (its own SQLite file and media folder in a temporary directory); Chromium fills in the
model form (a title, a file through the field's widget), submits it, and the gallery page that
comes back must size the new ``<img>`` and paint its ThumbHash placeholder from the row alone.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import images
import pytest
from conftest import PAGE_TIMEOUT_MS, SECRET
from servers import free_port, serve_process

MANAGE = Path(__file__).resolve().parents[2] / "examples" / "django_project" / "manage.py"


@pytest.fixture
def gallery(tmp_path: Path) -> Iterator[str]:
    """The Django example served by ``runserver`` on a free port: its base URL."""
    pytest.importorskip("django")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("S3MEDIA_")},
        "S3MEDIA_SECRET_KEY": SECRET,
        "S3MEDIA_LOCAL_ROOT": str(tmp_path / "media"),
        "PORT": str(port),
        "DJANGO_DEBUG": "0",
    }
    url = f"http://127.0.0.1:{port}"
    with serve_process([sys.executable, str(MANAGE), "runserver", "--noreload"], url + "/", cwd=tmp_path, env=env):
        yield url


def stored_images(database: Path) -> list[str]:
    """What the gallery's ``image`` column holds, row by row."""
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT image FROM photos_photo")]


def test_the_widget_flow_stores_the_size_and_placeholder_and_the_page_shows_them(
    browser: Any, gallery: str, tmp_path: Path
) -> None:
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(gallery + "/")
        form = page.locator("form#add")
        form.locator('input[name="title"]').fill("A tabby")
        form.locator("[data-s3media-file]").set_input_files(
            {"name": "Tabby.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(400, 300)}
        )
        page.wait_for_selector('form#add [data-s3media-upload][data-state="done"] [data-s3media-current] a')
        receipt = form.locator('input[type="hidden"][name="image"]').input_value()
        assert receipt.count(":") == 2 and ";w=400;h=300;" in receipt  # the receipt carries the info, signed
        with page.expect_navigation():
            form.locator("button", has_text="Add").click()

        # The row: one column, the id first, then the info the upload pass learned.
        (column,) = stored_images(tmp_path / "media.sqlite3")
        media_id = column.split(";")[0]
        assert media_id.endswith("/tabby.jpg") and column == receipt.split(":")[0]
        assert ";t=image/jpeg;" in column and ";w=400;h=300;p=" in column and ";c=#" in column

        # The page: the <img> sized from the row (no layout shift) and painted with the placeholder.
        img = page.locator('img[alt="A tabby"]')
        assert (img.get_attribute("width"), img.get_attribute("height")) == ("400", "300")
        style = img.get_attribute("style") or ""
        assert style.startswith("background-image:url(data:image/png;base64,"), style
        # The placeholder is a real image the browser decodes, and the box has the photo's shape.
        placeholder = page.evaluate(
            """async (img) => {
                const url = getComputedStyle(img).backgroundImage.slice(5, -2);
                const probe = new Image();
                probe.src = url;
                await probe.decode();
                const box = img.getBoundingClientRect();
                return {width: probe.naturalWidth, height: probe.naturalHeight, ratio: box.height / box.width};
            }""",
            img.element_handle(),
        )
        assert placeholder["width"] > 0 and placeholder["height"] > 0
        assert abs(placeholder["ratio"] - 0.75) < 0.01, placeholder
        # And the resize itself arrives: the signed URL the page holds is made and served.
        img.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        assert media_id in (img.evaluate("(img) => img.currentSrc") or "")
        assert not errors, errors
    finally:
        context.close()
