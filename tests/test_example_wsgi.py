"""The plain-WSGI demo (``make demo``): upload, see every resize served, delete."""

import importlib.util
import re
from pathlib import Path

import pytest
from webob import Request

import images
from s3media_wsgi import LocalStorage, Media

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
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
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
    body, ctype = multipart("photo", "evil.jpg", b"<html><script>alert(1)</script></html>")
    resp = Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app)
    assert resp.status_int == 400
    assert "refusing" in resp.text
    assert not any(p.is_file() for p in (tmp_path / "media").rglob("*"))


def test_dev_secret_is_generated_once_and_private(tmp_path, monkeypatch):
    example = load_example()
    monkeypatch.delenv("S3MEDIA_SECRET_KEY", raising=False)
    path = tmp_path / ".dev-secret"
    first = example.dev_secret(str(path))
    assert len(first) >= 32 and example.dev_secret(str(path)) == first
    assert path.stat().st_mode & 0o077 == 0
