"""The demo (``make demo``: examples/wsgi_app.py) in Chromium, at a phone's width and a desktop's.

Served as ``make demo`` serves it (wsgiref, a thread per request; Media from the ``S3MEDIA_*``
environment, local storage in a temporary folder).  A few files are dropped on the page, one of
them refused; the cards say done or refused (in the same words as the page without JavaScript);
a detail view shows every variant with its bytes and time; a delete asks first.  The layout is
checked for sanity, not pixels: no sideways scrolling on a phone, columns at each width, every
image loaded and of a real size, no console error, no 404 (the favicon included).

``make demo-screenshots`` (``S3MEDIA_DEMO_SCREENSHOTS=1``) also writes the two screenshots of the docs,
``docs/images/demo-desktop.png`` and ``docs/images/demo-phone.png`` (each checked below 300 KB).
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PAGE_TIMEOUT_MS, SECRET
from PIL import Image, ImageDraw
from servers import serve_wsgiref

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "wsgi_app.py"
SCREENSHOTS = ROOT / "docs" / "images"
MiB = 1024 * 1024

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
#: Read now: the demo's fixture clears every S3MEDIA_* variable.
SAVE_SCREENSHOTS = os.environ.get("S3MEDIA_DEMO_SCREENSHOTS") == "1"


def scene(width: int, height: int, sky: tuple[int, int, int], land: tuple[int, int, int], sun: float) -> bytes:
    """A small landscape (sky, sun, two hills) as a JPEG: something that looks like a photo in a screenshot."""
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(c * (1 - 0.45 * t) + 255 * 0.45 * t) for c in sky))
    r = height // 8
    cx, cy = int(width * sun), height // 3
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 214, 90))
    far = tuple(min(255, c + 40) for c in land)
    draw.polygon(
        [(0, height * 0.65), (width * 0.4, height * 0.45), (width, height * 0.7), (width, height), (0, height)],
        fill=far,
    )
    draw.polygon(
        [(0, height * 0.85), (width * 0.6, height * 0.6), (width, height * 0.8), (width, height), (0, height)],
        fill=land,
    )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


FILES = [
    ("Lake at dawn.jpg", "image/jpeg", scene(1200, 800, (90, 140, 220), (40, 110, 70), 0.7)),
    ("Dunes.jpg", "image/jpeg", scene(900, 1200, (240, 150, 90), (200, 140, 70), 0.3)),
    ("Night walk.jpg", "image/jpeg", scene(1600, 900, (30, 40, 90), (20, 60, 50), 0.5)),
]
#: A sound: the demo takes only what it can show as a picture.
REFUSED = ("voice.wav", "audio/wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28))


def load_example() -> Any:
    sys.path.insert(0, str(EXAMPLE.parent))  # as when run as a script: gallery_common is next to it
    spec = importlib.util.spec_from_file_location("wsgi_app_demo_in_browser", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The demo as `make demo` runs it, on a free port; yields its URL."""
    for name in [n for n in os.environ if n.startswith("S3MEDIA_") or n == "GALLERY_FILE"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("S3MEDIA_SECRET_KEY", SECRET)
    monkeypatch.setenv("S3MEDIA_LOCAL_ROOT", str(tmp_path / "media"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    example = load_example()
    with serve_wsgiref(example.make_app()) as url:
        yield url


class Watched:
    """A page, with every console error, page error and failed response it had."""

    def __init__(self, browser: Any, viewport: dict[str, int], javascript: bool = True) -> None:
        self.context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.console.append(f"page error: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))

    def close(self) -> None:
        self.context.close()


def upload_files(page: Any, files: list[tuple[str, str, bytes]]) -> None:
    page.set_input_files(
        'input[type="file"]', files=[{"name": n, "mimeType": t, "buffer": data} for n, t, data in files]
    )


def layout_facts(page: Any) -> dict[str, Any]:
    """What the layout checks read: overflow, the grid's columns, each image's loaded size."""
    result: dict[str, Any] = page.evaluate(
        """() => {
          const photos = [...document.querySelectorAll('#gallery .photo')];
          const lefts = new Set(photos.map((el) => Math.round(el.getBoundingClientRect().left)));
          const imgs = [...document.querySelectorAll('img')].map((img) => {
            const box = img.getBoundingClientRect();
            return {src: img.currentSrc, loaded: img.complete && img.naturalWidth > 0, w: box.width, h: box.height,
                    shown: getComputedStyle(img).opacity};
          });
          return {scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
                  columns: lefts.size, imgs};
        }"""
    )
    return result


def wait_images_loaded(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('img')].every((img) => img.complete && img.naturalWidth > 0"
        " && img.classList.contains('loaded'))"
    )
    page.wait_for_timeout(800)  # the fade (0.6 s) is over


def save_screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """A screenshot of the viewport, as a small PNG (a palette of 256 colours); kept for the docs when asked."""
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    small = shot.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    target = SCREENSHOTS / name if SAVE_SCREENSHOTS else tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    small.save(target, optimize=True)
    assert target.stat().st_size < 300 * 1024, target.stat().st_size
    return target


@pytest.mark.browser
@pytest.mark.parametrize(("width", "viewport", "columns"), [("phone", PHONE, (1, 2)), ("desktop", DESKTOP, (3, 6))])
def test_demo_upload_detail_and_delete(
    browser: Any, demo: str, tmp_path: Path, width: str, viewport: dict[str, int], columns: tuple[int, int]
) -> None:
    # The refusal without JavaScript: the form posts the file, the page answers with its error line.
    plain = Watched(browser, viewport, javascript=False)
    try:
        plain.page.goto(demo + "/")
        upload_files(plain.page, [REFUSED])
        plain.page.click("#upload button")
        form_refusal = plain.page.locator("p.error").inner_text().strip()
    finally:
        plain.close()
    assert form_refusal.startswith("Upload refused. File type not accepted: WAV audio. Accepted: JPEG image")

    watched = Watched(browser, viewport)
    page = watched.page
    try:
        page.goto(demo + "/")
        assert page.locator("#gallery .empty").is_visible()
        upload_files(page, [*FILES, REFUSED])
        page.wait_for_function(
            "() => document.querySelectorAll('#queue li[data-state=done], #queue li[data-state=refused]').length === 4"
        )
        done = page.locator("#queue li[data-state=done]")
        refused = page.locator("#queue li[data-state=refused]")
        assert done.count() == 3 and refused.count() == 1
        assert {done.nth(i).locator("span").first.inner_text() for i in range(3)} == {n for n, _, _ in FILES}
        assert all(done.nth(i).locator("span").last.inner_text() == "Added to the gallery" for i in range(3))
        # The same words as the page without JavaScript: the library's message, worded once.
        assert refused.locator("span").last.inner_text().strip() == form_refusal

        assert page.locator("#gallery .photo").count() == 3
        titles = page.locator("#gallery .photo .title").all_inner_texts()
        assert sorted(titles) == sorted(n for n, _, _ in FILES)  # titles, not ids
        wait_images_loaded(page)
        facts = layout_facts(page)
        assert facts["scrollWidth"] <= facts["clientWidth"], facts  # no sideways scrolling
        assert columns[0] <= facts["columns"] <= columns[1], facts
        assert all(i["loaded"] and i["w"] > 50 and i["h"] > 50 and i["shown"] == "1" for i in facts["imgs"]), facts
        save_screenshot(page, f"demo-{width}.png", tmp_path)

        # The detail view of a photo: every variant loaded, each with its bytes and time, cold (made now).
        page.locator("#gallery .photo .title", has_text="Lake at dawn.jpg").click()
        page.wait_for_url(re.compile(r"/photo\?id="))
        assert page.locator("h1").inner_text() == "Lake at dawn.jpg"
        page.wait_for_function(
            "() => [...document.querySelectorAll('.variant .measure')].every((m) => m.dataset.done === '1')"
        )
        measures = page.locator(".variant .measure").all_inner_texts()
        assert len(measures) == 9, measures
        assert all(re.fullmatch(r"cold, \d+ ms, [\d.]+ (KiB|B)", m) for m in measures), measures
        crops = page.evaluate(
            "() => [...document.querySelectorAll('.variant img')].slice(6)"
            ".map((i) => [i.naturalWidth, i.naturalHeight])"
        )
        assert crops == [[300, 300]] * 3
        urls = page.locator(".variant .url").evaluate_all("(links) => links.map((a) => a.href)")
        assert any("-fauto-" in u for u in urls) and any("-ffaces-" in u for u in urls)
        assert any(u.endswith(".avif") for u in urls) and any(u.endswith(".webp") for u in urls)
        facts = layout_facts(page)
        assert facts["scrollWidth"] <= facts["clientWidth"], facts
        assert all(i["loaded"] and i["w"] > 20 and i["h"] > 20 for i in facts["imgs"]), facts
        # Again: now every variant is stored, and says so.
        page.reload()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.variant .measure')].every((m) => m.dataset.done === '1')"
        )
        assert all(m.startswith("warm, ") for m in page.locator(".variant .measure").all_inner_texts())
        original = page.locator("a", has_text="Original").get_attribute("href")
        assert page.request.get(demo + original).body() == FILES[0][2]

        # Delete asks first: dismissed, nothing goes; accepted, the photo goes.
        asked: list[str] = []

        def answer(accept: bool) -> Any:
            def handle(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.accept() if accept else dialog.dismiss()

            return handle

        page.once("dialog", answer(False))
        page.locator("button.delete").click()
        page.wait_for_timeout(200)
        assert page.url.startswith(demo + "/photo?")
        page.once("dialog", answer(True))
        page.locator("button.delete").click()
        page.wait_for_url(demo + "/")
        assert asked == ["Delete “Lake at dawn.jpg” and all its resizes? This cannot be undone."] * 2
        assert sorted(page.locator("#gallery .photo .title").all_inner_texts()) == ["Dunes.jpg", "Night walk.jpg"]

        # The icon comes with the page; a browser asking /favicon.ico on its own gets it too.
        assert page.request.get(demo + "/favicon.ico").status == 200
        # The refusal is the one failed response; no other error anywhere.
        assert [f for f in watched.failed if "/media/s3/params" not in f] == [], watched.failed
        assert len(watched.failed) == 1 and watched.failed[0].startswith("415 "), watched.failed
        assert all("status of 415" in message for message in watched.console), watched.console
    finally:
        watched.close()


@pytest.mark.browser
def test_demo_sends_a_big_file_in_parts_with_the_default_settings(browser: Any, demo: str) -> None:
    """The default upload limit is 50 MiB: uploader.js's default threshold must be below it, else no part ever."""
    noise = Image.frombytes("RGB", (2600, 2800), os.urandom(2600 * 2800 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    big = out.getvalue()
    assert 20 * MiB < len(big) < 50 * MiB
    watched = Watched(browser, DESKTOP)
    page = watched.page
    try:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
        page.goto(demo + "/")
        upload_files(page, [("Noise.png", "image/png", big)])
        page.wait_for_selector("#queue li[data-state=done]")
        assert page.locator("#gallery .photo .title").all_inner_texts() == ["Noise.png"]
        assert any(r.startswith("POST ") and r.endswith("/media/s3/multipart") for r in requests), requests
        assert not any("/media/s3/params" in r for r in requests), requests
        assert watched.failed == [] and watched.console == [], (watched.failed, watched.console)
    finally:
        watched.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_demo_sets_a_focus_point_with_a_click_and_the_keys(browser: Any, demo: str, viewport: dict[str, int]) -> None:
    """On a photo's page: a click puts the point, an arrow key moves it, Save keeps it; its crop is made there."""
    watched = Watched(browser, viewport)
    page = watched.page
    try:
        page.goto(demo + "/")
        upload_files(page, [FILES[0]])
        page.wait_for_selector("#queue li[data-state=done]")
        page.locator("#gallery .photo .title").first.click()
        page.wait_for_url(re.compile(r"/photo\?id="))
        value = page.locator("[data-s3media-focus-value]")
        status = page.locator("[data-s3media-focus-status]")
        assert value.input_value() == "" and status.inner_text() == "No focus point: crops are centred."
        assert page.locator(".variant", has_text="your focus").count() == 0

        picture = page.locator("[data-s3media-focus-image]")
        page.wait_for_function("() => document.querySelector('[data-s3media-focus-image]').naturalWidth > 0")
        box = picture.bounding_box()
        assert box is not None and box["width"] > 200 and box["width"] <= viewport["width"]
        picture.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.25})
        assert value.input_value() == "0.3,0.25"
        assert page.locator("[data-s3media-focus-marker]").is_visible()
        # The click put the keyboard on the picture: the arrow keys move the point from there.
        assert page.evaluate("() => document.activeElement.matches('[data-s3media-focus-frame]')")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Shift+ArrowDown")
        assert value.input_value() == "0.35,0.26"
        assert status.inner_text() == "Focus: 35% from the left, 26% from the top."

        page.get_by_role("button", name="Save focus").click()
        page.wait_for_url(re.compile(r"/photo\?id=.*#focus$"))
        assert page.locator("[data-s3media-focus-value]").input_value() == "0.35,0.26"  # shown again, saved
        crop = page.locator(".variant", has_text="your focus")
        url = crop.locator(".url").get_attribute("href")
        assert url is not None and "-f35x26-" in url, url
        page.wait_for_function(
            "() => [...document.querySelectorAll('.variant img')].every((i) => i.complete && i.naturalWidth > 0)"
        )
        assert crop.locator("img").evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [300, 300]
        assert crop.locator(".measure").inner_text().startswith("cold")
        response = page.request.get(demo + url)
        assert response.status == 200 and response.headers["content-type"] == "image/jpeg"

        # Escape takes the point away in the page; Reset clears the saved one.
        page.locator("[data-s3media-focus-frame]").focus()
        page.keyboard.press("Escape")
        assert page.locator("[data-s3media-focus-value]").input_value() == ""
        page.get_by_role("button", name="Reset").click()
        page.wait_for_url(re.compile(r"#focus$"))
        page.wait_for_function("() => !document.querySelector('.variant .url[href*=\"-f35x26-\"]')")
        assert page.locator(".variant", has_text="your focus").count() == 0
        facts = layout_facts(page)
        assert facts["scrollWidth"] <= facts["clientWidth"], facts  # no sideways scrolling, the picker included
        assert watched.failed == [] and watched.console == [], (watched.failed, watched.console)
    finally:
        watched.close()
