"""The plain-WSGI demo (``make demo``): upload, see every resize served, delete; images only; log lines shown."""

import html
import importlib.util
import io
import logging
import os
import re
from pathlib import Path

import images
import pytest
from webob import Request

from s3media_wsgi import LocalStorage, Media
from s3media_wsgi.errors import MediaError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "wsgi_app.py"


@pytest.fixture(autouse=True)
def examples_importable(monkeypatch):
    """As when run as a script: the example imports gallery_common from its own folder."""
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))


def load_example():
    spec = importlib.util.spec_from_file_location("wsgi_app_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----s3mediatestboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_demo_gallery_end_to_end(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))

    body, ctype = multipart("photo", "Holiday Pic.JPEG", images.jpeg(1200, 900))
    resp = Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app)
    assert resp.status_int == 303

    page = Request.blank("/").get_response(app)
    assert page.status_int == 200
    urls = re.findall(r'<img src="([^"]+)"', page.text)
    assert len(urls) == len(example.VARIANTS)
    types = set()
    for url in urls:
        got = Request.blank(url).get_response(app)
        assert got.status_int == 200, url
        types.add(got.content_type)
    assert types == {"image/jpeg", "image/webp", "image/avif"}

    media_id = re.search(r'name="id" value="([^"]+)"', page.text).group(1)
    assert media.exists(media_id)
    resp = Request.blank("/delete", method="POST", POST={"id": media_id}).get_response(app)
    assert resp.status_int == 303
    assert not media.exists(media_id)
    assert Request.blank(urls[0]).get_response(app).status_int == 404


def test_demo_refuses_a_non_image_with_a_page_not_a_500(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    evil = b"<html><script>alert(1)</script></html>"
    body, ctype = multipart("photo", "evil.jpg", evil)
    resp = Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app)
    assert resp.status_int == 415
    assert error_on(resp.text) == expected_refusal(media, evil, "evil.jpg")
    assert "<script>" not in resp.text
    assert not any(p.is_file() for p in (tmp_path / "media").rglob("*"))


def error_on(page):
    """The page's one error line, as a person reads it."""
    (error,) = re.findall(r'<p class="error">(.*?)</p>', page, re.S)
    return html.unescape(error)


def expected_refusal(media, data, filename):
    """The wording every gallery shares (gallery_common.refusal_message) of what *media* raises for *data*."""
    from gallery_common import refusal_message

    with pytest.raises(MediaError) as refused:
        media.put(data, filename=filename)
    return refusal_message(refused.value)


@pytest.fixture
def demo_env(tmp_path, secret, monkeypatch):
    """The environment `make demo` reads, with its files in a temp folder."""
    for name in [n for n in os.environ if n.startswith("S3MEDIA_") or n == "GALLERY_FILE"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("S3MEDIA_SECRET_KEY", secret)
    monkeypatch.setenv("S3MEDIA_LOCAL_ROOT", str(tmp_path / "media"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_demo_takes_images_only(demo_env):
    example = load_example()
    app = example.make_app()  # Media from the environment, as `make demo` builds it
    pdf = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    body, ctype = multipart("photo", "report.pdf", pdf)
    resp = Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app)
    assert resp.status_int == 415
    error = error_on(resp.text)
    assert error == expected_refusal(example.media_from_env(), pdf, "report.pdf")
    # Names the refused kind once (not among the accepted ones), and the images that would do.
    assert error.lower().count("pdf") == 1 and "jpeg" in error.lower()
    assert not (demo_env / "media.json").exists()
    assert not any(p.is_file() for p in (demo_env / "media").rglob("*"))
    # An image still goes in.
    body, ctype = multipart("photo", "cat.png", images.png(64, 48))
    assert Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app).status_int == 303


def test_demo_prints_the_librarys_info_lines(demo_env):
    """`make demo` runs main(), which calls setup_logging(): uploads and resizes show in the terminal."""
    example = load_example()
    logger = logging.getLogger("s3media_wsgi")
    level_before = logger.level
    terminal = io.StringIO()
    handler = example.setup_logging(terminal)
    try:
        assert example.setup_logging(terminal) is not handler  # a second call replaces, never doubles
        assert [h.name for h in logger.handlers].count(example.LOG_HANDLER_NAME) == 1
        app = example.make_app()
        body, ctype = multipart("photo", "Holiday.jpg", images.jpeg(800, 600))
        assert (
            Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app).status_int == 303
        )
        url = re.findall(r'<img src="([^"]+)"', Request.blank("/").get_response(app).text)[0]
        assert Request.blank(html.unescape(url)).get_response(app).status_int == 200
    finally:
        for h in [h for h in logger.handlers if h.name == example.LOG_HANDLER_NAME]:
            logger.removeHandler(h)
        logger.setLevel(level_before)
    lines = terminal.getvalue().splitlines()
    assert any(
        re.search(r" s3media_wsgi INFO stored [0-9a-f/]+/holiday\.jpg \(image/jpeg, \d+ bytes\)$", line)
        for line in lines
    ), lines
    assert any(
        re.search(r" s3media_wsgi INFO resize \S+/400x300-fit-85-noupscale-[0-9a-f]{32}\.jpg made in [\d.]+ ms", line)
        for line in lines
    ), lines
    assert len([line for line in lines if " INFO stored " in line]) == 1  # one handler: each line once


def test_demo_main_sets_up_logging_before_serving(demo_env, monkeypatch):
    example = load_example()
    calls = []
    monkeypatch.setattr(example, "setup_logging", lambda *a: calls.append("logging"))

    class Server:
        def serve_forever(self):
            calls.append("serve")
            raise KeyboardInterrupt

    monkeypatch.setattr(example, "make_server", lambda *a, **k: Server())
    example.main()
    assert calls == ["logging", "serve"]


def test_dev_secret_is_generated_once_and_private(tmp_path, monkeypatch):
    example = load_example()
    monkeypatch.delenv("S3MEDIA_SECRET_KEY", raising=False)
    path = tmp_path / ".dev-secret"
    first = example.dev_secret(str(path))
    assert len(first) >= 32 and example.dev_secret(str(path)) == first
    assert path.stat().st_mode & 0o077 == 0
