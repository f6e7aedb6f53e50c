"""The focus picker of MediaField's widget in a real browser: a click, a tap, the arrow keys, Escape; the row keeps it.

The Django example project (``examples/django_project``) runs under ``runserver`` as in
``test_browser_django_gallery.py`` (its ``gallery`` fixture); Chromium uploads an image through the
model form's widget, sets the focus with the pointer and the keyboard, saves, and the square crop
the gallery then links must be placed on that point and load as an image.  The picker as the
widget renders it for a row holding a focus already (its markup and script, with no server) is
tapped on a touch screen.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import images
import pytest
from conftest import PAGE_TIMEOUT_MS
from test_browser_django_gallery import gallery, stored_images

__all__ = ["gallery"]  # the fixture, used by name


@pytest.mark.browser
def test_a_focus_set_by_click_and_keys_is_stored_and_the_crop_keeps_it(
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
        picker = form.locator("[data-s3media-focus]")
        assert picker.is_hidden()  # no picture yet
        form.locator('input[name="title"]').fill("A tabby")
        form.locator("[data-s3media-file]").set_input_files(
            {"name": "Tabby.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(400, 300)}
        )
        page.wait_for_selector('form#add [data-s3media-upload][data-state="done"] [data-s3media-current] a')
        image = picker.locator("[data-s3media-focus-image]")
        page.wait_for_function("(img) => img.complete && img.naturalWidth === 400", arg=image.element_handle())
        assert picker.is_visible()
        value = form.locator('input[name="image-focus"]')
        status = picker.locator("[data-s3media-focus-status]")
        marker = picker.locator("[data-s3media-focus-marker]")
        frame = picker.locator("[data-s3media-focus-frame]")
        assert value.input_value() == "" and marker.is_hidden()
        assert "No focus point" in (status.text_content() or "")
        # Accessible: a named, focusable control, its instructions and its state read out.
        assert frame.get_attribute("aria-label") == "Focus point of the picture"
        described = (frame.get_attribute("aria-describedby") or "").split()
        assert "Escape" in (page.locator(f"#{described[0]}").text_content() or "")
        assert page.locator(f"#{described[1]}").get_attribute("role") == "status"

        box = image.bounding_box()
        assert box is not None and round(box["width"]) == 400 and round(box["height"]) == 300

        def click_at(x: float, y: float) -> None:
            image.click(position={"x": x * box["width"], "y": y * box["height"]})

        # A click puts the point there; Escape takes it away.
        click_at(0.6, 0.6)
        assert value.input_value() == "0.6,0.6" and marker.is_visible()
        assert "60% from the left, 60% from the top" in (status.text_content() or "")
        page.keyboard.press("Escape")
        assert value.input_value() == "" and marker.is_hidden()
        # Reset does the same.
        click_at(0.1, 0.1)
        picker.locator("[data-s3media-focus-reset]").click()
        assert value.input_value() == ""
        # A click, then the keys: 5 hundredths a press, 1 with Shift.
        click_at(0.7, 0.6)
        assert value.input_value() == "0.7,0.6"
        frame.focus()
        for key in ("ArrowRight", "ArrowRight", "ArrowDown", "Shift+ArrowLeft"):
            page.keyboard.press(key)
        assert value.input_value() == "0.79,0.65"
        marker_box = marker.bounding_box()
        assert marker_box is not None
        centre = (marker_box["x"] + marker_box["width"] / 2, marker_box["y"] + marker_box["height"] / 2)
        assert abs(centre[0] - (box["x"] + 0.79 * box["width"])) < 2
        assert abs(centre[1] - (box["y"] + 0.65 * box["height"])) < 2
        # The square preview is placed as the server places the crop (centred on the point, kept inside).
        square = picker.locator('[data-s3media-focus-preview="1:1"]')
        assert square.evaluate("(img) => getComputedStyle(img).objectPosition") == "-32px 0px"

        with page.expect_navigation():
            form.locator("button", has_text="Add").click()

        (column,) = stored_images(tmp_path / "media.sqlite3")
        media_id = column.split(";")[0]
        assert media_id.endswith("/tabby.jpg") and ";w=400;h=300;" in column and column.endswith(";f=0.79,0.65")

        crop = page.locator("#gallery a.crop")
        href = crop.get_attribute("href") or ""
        assert media_id in href and "/480x480-fill-" in href and "-f79x65-" in href
        loaded = page.evaluate(
            """async (url) => {
                const img = new Image();
                img.src = url;
                await img.decode();
                return {width: img.naturalWidth, height: img.naturalHeight};
            }""",
            href,
        )
        assert loaded["width"] > 0 and loaded["width"] == loaded["height"], loaded
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.browser
def test_a_stored_focus_is_shown_and_a_tap_moves_it(browser: Any) -> None:
    pytest.importorskip("django")
    from s3media_wsgi.adapters.django.focus import SCRIPT, picker_html

    picture = "data:image/png;base64," + base64.b64encode(images.png(320, 240)).decode()
    markup = picker_html("image", "id_image", "0.25,0.75", picture, 320, 240)
    context = browser.new_context(has_touch=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_content(f'<!doctype html><form>{markup}</form><script type="module">{SCRIPT}</script>')
        image = page.locator("[data-s3media-focus-image]")
        page.wait_for_function("(img) => img.complete && img.naturalWidth === 320", arg=image.element_handle())
        marker = page.locator("[data-s3media-focus-marker]")
        page.wait_for_function("(marker) => !marker.hidden", arg=marker.element_handle())
        box, spot = image.bounding_box(), marker.bounding_box()
        assert box is not None and spot is not None
        assert abs(spot["x"] + spot["width"] / 2 - (box["x"] + 0.25 * box["width"])) < 1.5
        assert abs(spot["y"] + spot["height"] / 2 - (box["y"] + 0.75 * box["height"])) < 1.5
        status = page.locator("[data-s3media-focus-status]").text_content() or ""
        assert "25% from the left, 75% from the top" in status
        value = page.locator('input[name="image-focus"]')
        page.touchscreen.tap(box["x"] + 0.9 * box["width"], box["y"] + 0.1 * box["height"])
        assert value.input_value() == "0.9,0.1"
        page.keyboard.press("ArrowUp")  # the tap focused the picture: the keys move the point on
        for _ in range(3):
            page.keyboard.press("ArrowRight")  # 0.95, 1, then at the edge it stays
        assert value.input_value() == "1,0.05"
        page.keyboard.press("Escape")
        assert value.input_value() == "" and marker.is_hidden()
        page.keyboard.press("ArrowLeft")  # from the centre, where a crop with no focus is placed
        assert value.input_value() == "0.45,0.5"
        assert not errors, errors
    finally:
        context.close()
