"""The plain-WSGI demo (``make demo``): upload, see every resize served, delete; images only; log lines shown.

And its direct uploads: the scenario every gallery passes (``test_examples.direct_upload_scenario``),
through webob and through a real HTTP server as ``make demo`` runs it.
"""

import html
import importlib.util
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode
from wsgiref.simple_server import WSGIRequestHandler

import documents
import images
import pytest
from PIL import Image
from test_examples import (
    Reply,
    assert_placeholder_shown,
    direct_upload_scenario,
    hostile_info_scenario,
    kept_entries,
)
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaId
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


def variants_of(app, media_id):
    """The detail view of *media_id*: its page and each variant as (label, url, cold or warm)."""
    page = Request.blank("/photo?" + urlencode({"id": str(media_id)})).get_response(app)
    assert page.status_int == 200, page.text
    found = re.findall(
        r'<figure class="variant" data-state="(cold|warm)"><div class="swatch"><img src="([^"]+)" alt="[^"]*">'
        r"</div><figcaption><strong>([^<]+)</strong>",
        page.text,
    )
    return page, [(html.unescape(label), html.unescape(url), state) for state, url, label in found]


def test_demo_gallery_end_to_end(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))

    body, ctype = multipart("photo", "Holiday Pic.JPEG", images.jpeg(1200, 900))
    resp = Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app)
    assert resp.status_int == 303

    page = Request.blank("/").get_response(app)
    assert page.status_int == 200
    # Its <picture> shows the placeholder Media.put's info gave, kept in the gallery file, under its title.
    (item,) = kept_entries(tmp_path / "gallery.json")
    assert item["placeholder"] and (item["width"], item["height"]) == (1200, 900)
    picture_img = r'<img src="[^"]+" srcset="[^"]+"[^>]* style="background-image:url\(data:image/png;base64,'
    assert re.search(picture_img, page.text), page.text
    media_id = re.search(r'name="id" value="([^"]+)"', page.text).group(1)
    assert re.search(r'<a class="title" href="/photo\?id=[^"]+">Holiday Pic.JPEG</a>', page.text), page.text
    assert media_id not in re.sub(r'(href|src|srcset|value)="[^"]*"', "", page.text)  # no raw id shown as text
    assert 'data-confirm="Delete “Holiday Pic.JPEG” and all its resizes?' in page.text

    # The detail view: every variant, each cold until its first request made it, warm after.
    detail, variants = variants_of(app, media_id)
    assert [label for label, _, _ in variants] == [label for _, label, _, _ in example.VARIANTS]
    assert {state for _, _, state in variants} == {"cold"}
    types = set()
    for label, url, _ in variants:
        got = Request.blank(url).get_response(app)
        assert got.status_int == 200, (label, url)
        types.add(got.content_type)
        if label.startswith("fill"):
            assert Image.open(io.BytesIO(got.body)).size == (300, 300)
    assert types == {"image/jpeg", "image/webp", "image/avif"}
    crops = [url for label, url, _ in variants if label.startswith("fill")]
    # The variant's name: size, mode, quality, upscale, [focus,] signature.  Centred crops carry no focus.
    segments = [url.rsplit("/", 1)[1].split("-") for url in crops]
    assert [parts[4:-1] for parts in segments] == [[], ["fauto"], ["ffaces"]], segments
    _, again = variants_of(app, media_id)
    assert {state for _, _, state in again} == {"warm"}
    original = re.search(r'<a href="([^"]+)">Original</a>', detail.text).group(1)
    assert Request.blank(html.unescape(original)).get_response(app).body == media.get(media_id)
    # Only the gallery's ids have a detail view.
    assert Request.blank("/photo?id=../../etc/passwd").get_response(app).status_int == 404

    urls = [url for _, url, _ in variants]
    resp = Request.blank("/delete", method="POST", POST={"id": media_id}).get_response(app)
    assert resp.status_int == 303
    assert not media.exists(media_id)
    assert Request.blank(urls[0]).get_response(app).status_int == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [("clip.mp4", documents.video("mp4")), ("clip.webm", documents.video("webm")), ("report.pdf", documents.pdf(2))],
)
def test_demo_gallery_shows_a_video_by_its_poster_and_a_pdf_by_its_first_page(tmp_path, secret, name, data):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    body, ctype = multipart("photo", name, data)
    assert Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app).status_int == 303
    page = Request.blank("/").get_response(app)
    (item,) = json.loads((tmp_path / "gallery.json").read_text())
    info = MediaId.from_stored(item["value"]).info
    assert info is not None and info.placeholder and info.colour  # of the poster frame or the first page
    assert re.search(r'<img src="[^"]+" srcset="[^"]+"[^>]* style="background-image:url\(data:image/png', page.text)
    media_id = MediaId.from_stored(item["value"])
    detail, variants = variants_of(app, media_id)
    assert len(variants) == len(example.VARIANTS)
    still = "its first page" if name.endswith(".pdf") else "its poster frame"
    assert f"every picture below is a resize of {still}." in detail.text
    for _, url, _ in variants:
        got = Request.blank(url).get_response(app)
        assert got.status_int == 200 and got.content_type.startswith("image/"), url


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


def test_demo_takes_pictures_only(demo_env):
    example = load_example()
    app = example.make_app()  # Media from the environment, as `make demo` builds it
    wav = documents.audio(0.05)
    body, ctype = multipart("photo", "voice.wav", wav)
    resp = Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app)
    assert resp.status_int == 415
    error = error_on(resp.text)
    assert error == expected_refusal(example.media_from_env(), wav, "voice.wav")
    # Names the refused kind once (not among the accepted ones), and the kinds that would do.
    assert error.lower().count("wav") == 1 and "jpeg" in error.lower()
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
        media_id = re.search(r'name="id" value="([^"]+)"', Request.blank("/").get_response(app).text).group(1)
        _, variants = variants_of(app, media_id)
        assert Request.blank(variants[0][1]).get_response(app).status_int == 200
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
        # "made in", or "made from the original in" / "from a rung in": where the resize came from.
        re.search(r" INFO resize \S+/320x-fit-85-noupscale-[0-9a-f]{32}\.jpg made (?:from .+? )?in [\d.]+ ms", line)
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


# --- direct uploads ----------------------------------------------------------------------------


class WebobClient:
    """The plain-WSGI test client: webob's ``Request.blank(...).get_response(app)``."""

    def __init__(self, app):
        self.app = app

    def _send(self, request) -> Reply:
        response = request.get_response(self.app)
        return Reply(response.status_int, response.content_type or "", response.body)

    def get(self, url: str) -> Reply:
        return self._send(Request.blank(url))

    def post_form(self, url, fields, file) -> Reply:
        return self._send(Request.blank(url, POST={**fields, "file": file}))

    def post_json(self, url, payload, content_type="application/json") -> Reply:
        return self._send(
            Request.blank(url, method="POST", body=json.dumps(payload).encode(), content_type=content_type)
        )


class HTTPClient:
    """A client over a real socket (urllib), for the demo served as ``make demo`` serves it."""

    def __init__(self, base: str):
        self.base = base

    def _send(self, url: str, body: bytes | None = None, content_type: str | None = None) -> Reply:
        absolute = url if url.startswith(("http://", "https://")) else self.base + url
        request = urllib.request.Request(absolute, data=body, method="GET" if body is None else "POST")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, data = error.code, error.headers, error.read()
        return Reply(status, (headers.get("Content-Type") or "").split(";")[0], data)

    def get(self, url: str) -> Reply:
        return self._send(url)

    def post_form(self, url, fields, file) -> Reply:
        boundary = "----s3mediademo"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file[0]}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + file[1]
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self._send(url, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def post_json(self, url, payload, content_type="application/json") -> Reply:
        return self._send(url, json.dumps(payload).encode(), content_type)


def test_demo_uploads_straight_from_the_browser(demo_env):
    example = load_example()
    client = WebobClient(example.make_app())
    media_id = direct_upload_scenario(client)
    (item,) = kept_entries(demo_env / "media.json")
    assert item == {"id": media_id, "name": "Holiday.JPG", "width": 800, "height": 600, "placeholder": True}
    assert (demo_env / "media" / media_id / "holiday.jpg").is_file()
    assert not (demo_env / "media" / "uploads").exists() or not any((demo_env / "media" / "uploads").rglob("*.jpg"))
    assert_placeholder_shown(client, media_id)
    hostile_info_scenario(client)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # no request lines in the test output
        pass


def test_make_demo_serves_direct_uploads_over_http(demo_env):
    """main()'s server (wsgiref, a thread per request) with main()'s app, driven over a socket."""
    example = load_example()
    server = example.make_server(
        "127.0.0.1", 0, example.make_app(), server_class=example.ThreadingServer, handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        media_id = direct_upload_scenario(HTTPClient(f"http://127.0.0.1:{server.server_port}"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert [item["id"] for item in kept_entries(demo_env / "media.json")] == [media_id]


def test_demo_upload_routes_ask_the_hook_with_a_webob_request(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    asked = []

    def nobody(request):
        asked.append(request)
        return False

    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"), uploads=nobody)
    refused = Request.blank("/media/s3/params?filename=cat.jpg&type=image%2Fjpeg").get_response(app)
    assert refused.status_int == 403 and refused.json == {"error": "You may not upload files."}
    assert len(asked) == 1 and isinstance(asked[0], Request) and asked[0].path == "/media/s3/params"
    # The demo's own hook lets everyone in (it has no users).
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    assert Request.blank("/media/s3/params?filename=cat.jpg&type=image%2Fjpeg").get_response(app).status_int == 200


def test_demo_register_refuses_a_confirmed_file_that_has_no_picture(tmp_path, secret):
    """Wider allowed types (S3MEDIA_ALLOWED_TYPES) let a sound be confirmed; the gallery still lists pictures only."""
    example = load_example()
    media = Media(
        LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret, allowed_types=["jpeg", "wav"]
    )
    wav = documents.audio(0.05)
    client = WebobClient(example.make_app(media, index_file=str(tmp_path / "gallery.json")))
    target = client.get("/media/s3/params?filename=voice.wav&type=audio%2Fwav").json()
    assert client.post_form(target["url"], target["fields"], ("voice.wav", wav)).status == 204
    confirmed = client.post_json("/media/s3/confirm", {"key": target["fields"]["key"]}).json()
    assert media.exists(confirmed["id"])
    assert confirmed["info"]["duration"] == 0.05  # the confirm JSON carries the facts
    refused = client.post_json("/register", {"receipt": confirmed["receipt"], "name": "voice.wav"})
    assert refused.status == 422 and refused.json()["error"] == "Upload refused. WAV audio is not an image."
    assert not (tmp_path / "gallery.json").exists()


def test_demo_form_fallback_takes_several_files(tmp_path, secret):
    """Without JavaScript the form posts every chosen file to /upload."""
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    boundary = "----s3mediatwofiles"
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
            for name, data in (("a.jpg", images.jpeg(64, 48)), ("b.png", images.png(32, 24)))
        )
        + f"--{boundary}--\r\n".encode()
    )
    request = Request.blank(
        "/upload", method="POST", body=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert request.get_response(app).status_int == 303
    items = kept_entries(tmp_path / "gallery.json")
    assert [(i["name"], i["width"]) for i in items] == [("b.png", 32), ("a.jpg", 64)]


def test_demo_serves_originals_itself_in_the_serve_mode(
    tmp_path, secret, moto_endpoint, s3_bucket, s3_client, monkeypatch
):
    """`MODE=serve make demo-s3`: the bucket is private (a CDN reads it), so an original's S3 URL is a 403.

    The demo's Original link goes through the app then, for the ids on its list only.
    """
    from s3media_wsgi import S3Storage

    storage = S3Storage(
        bucket=s3_bucket, region="us-east-1", base_url=f"{moto_endpoint}/{s3_bucket}/", endpoint_url=moto_endpoint,
        client=s3_client,
    )  # fmt: skip
    media = Media(storage, secret_key=secret)
    monkeypatch.setenv("S3MEDIA_DELIVERY", "serve")
    app = load_example().make_app(media, index_file=str(tmp_path / "gallery.json"))
    data = images.jpeg(320, 240)
    body, ctype = multipart("photo", "Harbour.jpg", data)
    assert Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app).status_int == 303
    (item,) = kept_entries(tmp_path / "gallery.json")
    # Why: the bucket answers a browser's GET of the original with a 403.
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(media.url(item["id"]), timeout=10)
    assert denied.value.code == 403
    detail, _ = variants_of(app, item["id"])
    original = html.unescape(re.search(r'<a href="([^"]+)">Original</a>', detail.text).group(1))
    assert original == "/original?" + urlencode({"id": item["id"]}, safe="/")
    got = Request.blank(original).get_response(app)
    assert (got.status_int, got.content_type, got.body) == (200, "image/jpeg", media.get(item["id"]))
    assert got.headers["X-Content-Type-Options"] == "nosniff" and got.headers["Content-Security-Policy"] == "sandbox"
    assert Request.blank("/original?id=../../etc/passwd").get_response(app).status_int == 404
    # Not in the other modes: there the original's own URL works.
    monkeypatch.delenv("S3MEDIA_DELIVERY")
    local = load_example().make_app(
        Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret),
        index_file=str(tmp_path / "gallery.json"),
    )
    assert Request.blank(original).get_response(local).status_int == 404


def upload_one(app, name: str = "Portrait.jpg", data: bytes | None = None) -> str:
    """Upload one picture through the form; its id, read from the gallery page."""
    body, ctype = multipart("photo", name, data or images.jpeg(1200, 900))
    assert Request.blank("/upload", method="POST", body=body, content_type=ctype).get_response(app).status_int == 303
    return html.unescape(re.search(r'name="id" value="([^"]+)"', Request.blank("/").get_response(app).text).group(1))


def post_focus(app, fields: dict[str, str], **headers: str):
    return Request.blank("/focus", method="POST", POST=fields, headers=headers).get_response(app)


def test_demo_saves_a_focus_point_and_its_crop_keeps_it(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    media_id = upload_one(app)

    # The detail view shows the picker (the Django widget's script, as shipped) over a fit resize, no focus yet.
    page, variants = variants_of(app, media_id)
    assert example.FOCUS_SCRIPT in page.text and "s3mediaFocusPicker" in example.FOCUS_SCRIPT
    assert '<form method="post" action="/focus"' in page.text
    assert re.search(r'<input type="hidden" name="focus" value="" data-s3media-focus-value>', page.text)
    picker_src = html.unescape(re.search(r'<img src="([^"]+)" alt="[^"]*" data-s3media-focus-image', page.text)[1])
    picked = Request.blank(picker_src).get_response(app)
    assert picked.status_int == 200 and Image.open(io.BytesIO(picked.body)).size == (480, 360)
    assert len(variants) == len(example.VARIANTS)  # no "your focus" crop before one is saved

    resp = post_focus(app, {"id": media_id, "focus": "0.3,0.25"})
    assert resp.status_int == 303 and resp.location.endswith("/photo?id=" + quote(media_id) + "#focus")
    (entry,) = json.loads((tmp_path / "gallery.json").read_text())
    assert entry["value"].endswith(";f=0.3,0.25"), entry
    assert MediaId.from_stored(entry["value"]).info.focus == (0.3, 0.25)
    assert MediaId.from_stored(entry["value"]).info.placeholder  # the rest of the info is kept

    page, variants = variants_of(app, media_id)
    assert 'name="focus" value="0.3,0.25"' in page.text
    (url,) = [url for label, url, _ in variants if label == "fill, your focus"]
    assert "-f30x25-" in url.rsplit("/", 1)[1]
    assert url == media.resize_url(entry["value"], "300x300", mode="fill")
    crop = Request.blank(url).get_response(app)
    assert crop.status_int == 200 and crop.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(crop.body)).size == (300, 300)
    # The other crops are what they were: the centred one carries no focus.
    centred = next(url for label, url, _ in variants if label == "fill, centred")
    assert url != centred and "-f" not in centred.rsplit("/", 1)[1].split("-", 4)[-1].rsplit("-", 1)[0]

    # Reset takes it away; so does saving the centre or nothing.
    for fields in ({"id": media_id, "reset": "1", "focus": "0.7,0.7"}, {"id": media_id, "focus": "0.5,0.5"}):
        post_focus(app, {"id": media_id, "focus": "0.7,0.6"})
        assert json.loads((tmp_path / "gallery.json").read_text())[0]["value"].endswith(";f=0.7,0.6")
        assert post_focus(app, fields).status_int == 303
        value = json.loads((tmp_path / "gallery.json").read_text())[0]["value"]
        assert ";f=" not in value and MediaId.from_stored(value).info.placeholder, value
        _, variants = variants_of(app, media_id)
        assert len(variants) == len(example.VARIANTS)


@pytest.mark.parametrize(
    ("focus", "said"),
    [
        ("auto", "a saved focus is a point x,y of fractions 0-1, not 'auto'"),
        ("faces", "not 'faces'"),
        ("1.5,0.5", "fractions 0-1"),
        ("-0.1,0.5", "fractions 0-1"),
        ("nan,nan", "fractions 0-1"),
        ("1e999,0", "fractions 0-1"),
        ("0.3", "x,y"),
        ("0.3,0.2,0.1", "x,y"),
        ("left,top", "two numbers"),
        ("0," + "1" * 100_000, "-character text"),
        ("<script>alert(1)</script>,0", "two numbers"),
    ],
)
def test_demo_refuses_a_hostile_focus_with_a_400_and_changes_nothing(tmp_path, secret, focus, said):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    media_id = upload_one(app)
    assert post_focus(app, {"id": media_id, "focus": "0.2,0.8"}).status_int == 303
    before = (tmp_path / "gallery.json").read_bytes()

    resp = post_focus(app, {"id": media_id, "focus": focus})
    assert resp.status_int == 400, resp.text
    error = html.unescape(re.search(r'<p class="error" role="alert">([^<]*)</p>', resp.text)[1])
    assert error.startswith("Focus not saved: ") and said in error, error
    assert len(error) < 300 and "<script>alert" not in resp.text
    assert 'name="focus" value="0.2,0.8"' in resp.text  # the page shows the saved point again
    assert (tmp_path / "gallery.json").read_bytes() == before


def test_demo_focus_takes_only_this_gallerys_ids_and_posts_from_its_own_pages(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    media_id = upload_one(app)
    before = (tmp_path / "gallery.json").read_bytes()
    for fields in ({"id": "../../etc/passwd", "focus": "0.3,0.3"}, {"focus": "0.3,0.3"}, {"id": media_id + "x"}):
        resp = post_focus(app, fields)
        assert resp.status_int == 400 and "unknown id" in resp.text
    query = urlencode({"id": media_id, "focus": "0.3,0.3"})
    assert Request.blank("/focus?" + query).get_response(app).status_int == 405
    # A form of another site: the browser says so, and nothing is saved.
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "http://evil.test"}):
        resp = post_focus(app, {"id": media_id, "focus": "0.3,0.3"}, **headers)
        assert resp.status_int == 403, headers
    assert (tmp_path / "gallery.json").read_bytes() == before
    # The demo's own page: the same origin.
    own = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost:80"}
    assert post_focus(app, {"id": media_id, "focus": "0.3,0.3"}, **own).status_int == 303
    assert json.loads((tmp_path / "gallery.json").read_text())[0]["value"].endswith(";f=0.3,0.3")
    assert post_focus(app, {"id": media_id, "focus": "0.4,0.4"}, Origin="http://localhost").status_int == 303


def test_demo_delete_is_refused_from_another_site(tmp_path, secret):
    example = load_example()
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)
    app = example.make_app(media, index_file=str(tmp_path / "gallery.json"))
    media_id = upload_one(app)
    body = urlencode({"id": media_id})
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.test"}):
        req = Request.blank("/delete", method="POST", body=body.encode(), headers=headers)
        req.content_type = "application/x-www-form-urlencoded"
        assert req.get_response(app).status_int == 403, headers
    assert media.exists(media_id)
    req = Request.blank("/delete", method="POST", body=body.encode(), headers={"Sec-Fetch-Site": "same-origin"})
    req.content_type = "application/x-www-form-urlencoded"
    assert req.get_response(app).status_int == 303 and not media.exists(media_id)


def test_demo_reads_the_focus_picker_without_django():
    """The picker's script is the Django adapter's package data; the demo reads it with Django unimportable."""
    code = (
        "import sys; sys.modules['django'] = None; sys.path.insert(0, sys.argv[1]);"
        "import wsgi_app; assert 's3mediaFocusPicker' in wsgi_app.FOCUS_SCRIPT;"
        "assert not [m for m in sys.modules if m.startswith('django') and sys.modules[m] is not None]; print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLE.parent)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
