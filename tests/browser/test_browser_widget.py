"""The Django adapter's MediaUploadWidget script (``media_widget.js``) in a real browser.

The widget's markup is served by the tests' host app (``WIDGET_PAGE`` in conftest.py: Django is
not configured here); the script uploads with the middleware's ``uploader.js`` and must leave the
upload's *receipt* in the hidden input, which is what the form submits (``MediaFormField`` takes
no bare id but the one the field held already).
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.parametrize("site", ["local"], indirect=True)  # the uploader itself is tested on S3 too

CURRENT = "3c72aedc/ba25/41e6/a569/406c8f413974/old.jpg"


def test_the_widget_puts_the_receipt_of_an_upload_in_its_hidden_input(
    page: Any, site: Any, fixtures: dict[str, bytes]
) -> None:
    page.goto(f"{site.url}/widget?current={CURRENT}")
    hidden = page.locator('input[type="hidden"][name="image"]')
    assert hidden.input_value() == CURRENT  # the initial state: the current id, as the widget renders it
    page.locator("[data-s3media-file]").set_input_files(
        {"name": "Holiday.png", "mimeType": "image/png", "buffer": fixtures["small.png"]}
    )
    page.wait_for_selector('[data-s3media-upload][data-state="done"] [data-s3media-current] a')
    receipt = hidden.input_value()
    assert receipt != CURRENT and receipt.count(":") == 2, receipt
    media_id = site.media.check_receipt(receipt)  # the page's hook said True: bound to no one
    assert media_id.endswith("/holiday.png") and site.media.get(media_id) == fixtures["small.png"]
    link = page.locator("[data-s3media-current] a")
    assert link.text_content() == "holiday.png" and link.get_attribute("href") == site.media.url(media_id)
    assert "Uploaded Holiday.png" in (page.locator("[data-s3media-status]").text_content() or "")
