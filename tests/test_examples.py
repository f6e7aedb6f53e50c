"""Smoke tests of the example galleries: upload a real JPEG, see resize URLs, fetch one, delete.

Every gallery uploads straight from the browser: the page imports
``uploader.js`` and carries the upload UI, the middleware's upload routes
answer, and ``POST /register`` lists a confirmed upload and nothing else
(:func:`direct_upload_scenario`, run against each gallery through its
framework's own test client).  And what they refuse: every gallery takes
images only, and words a refusal the same way (``gallery_common.refusal_message``).

The Django gallery keeps its images as rows of a model whose image is a
``MediaField``: its tests also read the rows, post the model's form, and
start ``manage.py runserver`` as documented (it makes the SQLite file itself).
"""

from __future__ import annotations

import doctest
import html
import importlib
import importlib.util
import io
import json
import os
import re
import socketserver
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, Protocol

import documents
import images
import pytest
from PIL import Image
from servers import free_port, serve_process

from s3media_wsgi import MediaId

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RESIZE_URL = re.compile(r"/media/[0-9a-f/]+/[a-z0-9.-]+/\d*x\d*-fit-\d+-noupscale-[0-9a-f]{32}\.(?:avif|webp|jpg)")
ERROR = re.compile(r'<p class="error">(.*?)</p>', re.S)
#: A small but well-formed WAV: a kind the library stores by default, and no gallery should (no picture).
WAV = documents.audio(0.05)


@pytest.fixture(autouse=True)
def examples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """As when run as a script: the examples import gallery_common from their own folder."""
    monkeypatch.syspath_prepend(str(EXAMPLES))


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Pyramid's Configurator finds its caller's package through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def env(tmp_path: Path, secret: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment an example runs with: local storage in a temp folder."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("S3MEDIA_") or n == "GALLERY_FILE"]:
        monkeypatch.delenv(name)
    values = {"S3MEDIA_SECRET_KEY": secret, "S3MEDIA_LOCAL_ROOT": str(tmp_path / "media")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def check_gallery(html: str, fetch) -> list[str]:
    """The page lists signed resize URLs in <picture>s, and one of them serves an image."""
    assert '<picture><source type="image/avif"' in html
    urls = sorted(set(RESIZE_URL.findall(html)))
    assert len(urls) == 9, urls  # 3 widths x 3 formats
    status, content_type, body = fetch(next(u for u in urls if u.endswith(".jpg") and "/640x-" in u))
    assert (status, content_type) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(body)).size == (640, 480)
    return urls


def kept_entries(path: Path) -> list[dict[str, Any]]:
    """A gallery file's entries, each ``{"value", "name"}`` (the id's stored value, the file's name), read back.

    Each becomes ``{"id", "name", "width", "height", "placeholder"}`` (*placeholder*: True when the
    value keeps a ThumbHash and a colour); the value must start with the id.
    """
    entries = []
    for item in json.loads(path.read_text()):
        assert sorted(item) == ["name", "value"], item
        media_id = MediaId.from_stored(item["value"])
        assert item["value"].startswith(media_id + ";"), item
        info = media_id.info
        entries.append(
            {
                "id": str(media_id),
                "name": item["name"],
                "width": media_id.width,
                "height": media_id.height,
                "placeholder": bool(info and info.placeholder and info.colour),
            }
        )
    return entries


# --- direct uploads, the same scenario in every gallery ---------------------------------------


class Reply(NamedTuple):
    """An HTTP answer, whichever test client got it."""

    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        assert self.content_type == "application/json", (self.status, self.content_type, self.body[:200])
        return json.loads(self.body)


class GalleryClient(Protocol):
    """What :func:`direct_upload_scenario` needs of a framework's test client."""

    def get(self, url: str) -> Reply: ...

    def post_form(self, url: str, fields: Mapping[str, str], file: tuple[str, bytes]) -> Reply:
        """A multipart form: *fields*, then the file (field ``file``: name, bytes), as a browser sends to S3."""
        ...

    def post_json(self, url: str, payload: object, content_type: str = "application/json") -> Reply: ...


def refuse_everyone(request: object) -> bool:
    """An upload hook saying no (``S3MEDIA_UPLOADS=test_examples:refuse_everyone``)."""
    return False


def direct_upload_scenario(client: GalleryClient) -> str:
    """A browser's direct upload, call by call, against a gallery; the id it lists.

    The page offers the upload UI and imports uploader.js from the URL the
    middleware serves it at; ``s3/params`` signs a form upload, whose URL (the
    middleware's stand-in for S3) takes the file; ``/register`` refuses bare
    ids (that upload's among them: ids are in every URL), made-up receipts and
    anything but JSON; ``s3/confirm`` answers a receipt, which ``/register``
    takes: it lists the image once and answers its HTML.
    """
    from gallery_common import UPLOAD_SCRIPT

    from s3media_wsgi.ids import new_id
    from s3media_wsgi.responder import uploader_url

    page = client.get("/")
    assert page.status == 200
    uploader = uploader_url("/media/")
    assert f'import {{uploadDetailed}} from "{uploader}";' in page.text
    assert UPLOAD_SCRIPT in page.text
    form = re.search(r'<form id="upload"[^>]*>', page.text)
    assert form is not None, page.text
    assert 'data-endpoint="/media"' in form.group(0) and 'data-register="/register"' in form.group(0)
    accept = r'accept="image/\*,video/\*,application/pdf"'
    assert re.search(rf'<input type="file" name="photo" {accept} multiple required>', page.text)
    assert 'id="queue"' in page.text and 'id="gallery"' in page.text and "No images yet" in page.text
    module = client.get(uploader)
    assert module.status == 200 and module.content_type == "text/javascript"
    assert b"export async function uploadDetailed" in module.body

    params = client.get("/media/s3/params?filename=Holiday.JPG&type=image%2Fjpeg")
    assert params.status == 200, params.body
    target = params.json()
    assert target["method"] == "POST" and target["url"].endswith("/media/s3/local/upload")
    sent = client.post_form(target["url"], target["fields"], ("Holiday.JPG", images.jpeg(800, 600)))
    assert sent.status == 204, sent.body
    key = target["fields"]["key"]
    pending = key.removeprefix("uploads/")

    def register(receipt: object, content_type: str = "application/json", info: object = None) -> Reply:
        payload = {"receipt": receipt, "name": "Holiday.JPG", "info": info}
        return client.post_json("/register", payload, content_type)

    # An id (uploaded but not confirmed, or made up), a key, a made-up receipt, nothing: refused, nothing listed.
    made_up = f"{pending}:9999999999:{'0' * 32}"
    for forged in (pending, new_id("holiday.jpg"), key, "../../etc/passwd", made_up, None, 7):
        refused = register(forged)
        assert refused.status == 400, (forged, refused)
        assert refused.json()["error"], forged
    # What a form on another site could send (text/plain) is not even read.
    assert register(made_up, "text/plain").status == 415
    assert "No images yet" in client.get("/").text

    confirmed = client.post_json("/media/s3/confirm", {"key": key})
    assert confirmed.status == 200, confirmed.body
    media_id, receipt = confirmed.json()["id"], confirmed.json()["receipt"]
    assert media_id == pending and (confirmed.json()["width"], confirmed.json()["height"]) == (800, 600)
    # Confirmed now, its bare id is still refused: only the receipt says this page uploaded it.
    assert register(media_id).status == 400
    assert client.post_json("/register", {"id": media_id, "name": "x"}).status == 400
    assert "No images yet" in client.get("/").text

    # The page sends the confirm answer's info along: the galleries that keep it show its placeholder.
    info = confirmed.json()["info"]
    assert info["placeholder"] and re.fullmatch(r"#[0-9a-f]{6}", info["colour"]), info
    listed = register(receipt, info=info)
    assert listed.status == 200, listed.body
    answer = listed.json()
    assert answer["id"] == media_id and media_id in answer["html"]
    resize = re.search(r'/media/[^"\s]+?/\d*x\d*-[^"\s]+?\.jpg', answer["html"])
    assert resize is not None and resize.group(0).startswith(f"/media/{media_id}/"), answer["html"]
    image = client.get(html.unescape(resize.group(0)))
    assert image.status == 200 and image.content_type == "image/jpeg"
    assert register(receipt).status == 200  # reported twice: listed once
    page = client.get("/").text
    assert page.count(f'name="id" value="{media_id}"') == 1 and "No images yet" not in page
    return str(media_id)


#: What a hostile page could send as an upload's info: markup, CSS, too long, not strings.
HOSTILE_INFO = [
    {"placeholder": '");</style><script>alert(1)</script>', "colour": "red;background:url(//evil.example)"},
    {"placeholder": "AAAA);background-image:url(//evil.example", "colour": "#12345g"},
    {"placeholder": "Zz" * 34, "colour": '#ABCDEF"><script>'},
    {"placeholder": 7, "colour": ["#000000"]},
    "<script>",
]


#: The style picture() gives an <img> with a placeholder: a PNG it decoded from the ThumbHash, nothing else.
PLACEHOLDER_STYLE = re.compile(
    r"background-image:url\(data:image/png;base64,[A-Za-z0-9+/=]+\);background-size:cover;background-repeat:no-repeat"
)


def placeholder_style(page: str, media_id: str) -> str | None:
    """The ``style`` of the ``<img>`` of *media_id*'s ``<picture>`` on *page*; None when it has none."""
    for img in re.findall(r"<img [^>]*>", page):
        src = re.search(r'src="([^"]*)"', img)
        if src is not None and f"/media/{media_id}/" in html.unescape(src.group(1)) and "srcset=" in img:
            style = re.search(r'style="([^"]*)"', img)
            return html.unescape(style.group(1)) if style else None
    raise AssertionError(f"no <picture> of {media_id} on the page")


def assert_placeholder_shown(client: GalleryClient, media_id: str) -> None:
    """The gallery page draws *media_id* with its ThumbHash as the ``<img>``'s background, from checked base64 only."""
    style = placeholder_style(client.get("/").text, media_id)
    assert style is not None and PLACEHOLDER_STYLE.fullmatch(style), style


def hostile_info_scenario(client: GalleryClient) -> None:
    """An upload reported with made-up info: listed (the receipt is good), the info ignored, nothing injected.

    The placeholder shown is the server's own, which the receipt carried signed.
    """
    for number, info in enumerate(HOSTILE_INFO):
        params = client.get(f"/media/s3/params?filename=evil{number}.png&type=image%2Fpng").json()
        sent = client.post_form(params["url"], params["fields"], (f"evil{number}.png", images.png(40, 30)))
        assert sent.status == 204, sent.body
        confirmed = client.post_json("/media/s3/confirm", {"key": params["fields"]["key"]})
        assert confirmed.status == 200, confirmed.body
        media_id = confirmed.json()["id"]
        payload = {"receipt": confirmed.json()["receipt"], "name": f"evil{number}.png", "info": info}
        listed = client.post_json("/register", payload)
        assert listed.status == 200, listed.body
        for page in (listed.json()["html"], client.get("/").text):
            assert "<script>alert" not in page and "evil.example" not in page and "#12345g" not in page
            assert "Zz" * 34 not in page and "#ABCDEF" not in page
            style = placeholder_style(page, media_id)
            assert style is not None and PLACEHOLDER_STYLE.fullmatch(style), style


class FlaskClient:
    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def _reply(response: Any) -> Reply:
        return Reply(response.status_code, response.mimetype, response.get_data())

    def get(self, url: str) -> Reply:
        return self._reply(self.client.get(url))

    def post_form(self, url: str, fields: Mapping[str, str], file: tuple[str, bytes]) -> Reply:
        data = {**fields, "file": (io.BytesIO(file[1]), file[0])}
        return self._reply(self.client.post(url, data=data, content_type="multipart/form-data"))

    def post_json(self, url: str, payload: object, content_type: str = "application/json") -> Reply:
        return self._reply(self.client.post(url, data=json.dumps(payload), content_type=content_type))


class WebTestClient:
    def __init__(self, app: Any) -> None:
        self.app = app

    @staticmethod
    def _reply(response: Any) -> Reply:
        return Reply(response.status_int, response.content_type, response.body)

    def get(self, url: str) -> Reply:
        return self._reply(self.app.get(url, expect_errors=True))

    def post_form(self, url: str, fields: Mapping[str, str], file: tuple[str, bytes]) -> Reply:
        files = [("file", file[0], file[1])]
        return self._reply(self.app.post(url, params=dict(fields), upload_files=files, expect_errors=True))

    def post_json(self, url: str, payload: object, content_type: str = "application/json") -> Reply:
        body = json.dumps(payload)
        return self._reply(self.app.post(url, params=body, content_type=content_type, expect_errors=True))


# --- Flask -------------------------------------------------------------------------------------


def test_flask_gallery_uploads_straight_from_the_browser(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("flask")
    client = FlaskClient(load("flask_app").create_app().test_client())
    media_id = direct_upload_scenario(client)
    (item,) = kept_entries(tmp_path / "media.json")
    assert item == {"id": media_id, "name": "Holiday.JPG", "width": 800, "height": 600, "placeholder": True}
    assert_placeholder_shown(client, media_id)
    hostile_info_scenario(client)


def test_flask_upload_routes_follow_the_hook(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("flask")
    params = "/media/s3/params?filename=cat.jpg&type=image%2Fjpeg"
    assert load("flask_app").create_app().test_client().get(params).status_code == 200  # the demo's: everyone
    monkeypatch.setenv("S3MEDIA_UPLOADS", f"{__name__}:refuse_everyone")
    refused = load("flask_app").create_app().test_client().get(params)
    assert refused.status_code == 403 and refused.get_json() == {"error": "You may not upload files."}


def test_flask_example(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("flask")
    app = load("flask_app").create_app()
    client = app.test_client()
    assert "No images yet." in client.get("/").get_data(as_text=True)
    response = client.post(
        "/upload",
        data={"photo": (io.BytesIO(images.jpeg(800, 600)), "Holiday.JPG")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    html = client.get("/").get_data(as_text=True)

    def fetch(url: str):
        r = client.get(url)
        return r.status_code, r.mimetype, r.data

    check_gallery(html, fetch)
    (item,) = kept_entries(tmp_path / "media.json")
    assert (item["width"], item["height"], item["name"], item["placeholder"]) == (800, 600, "Holiday.JPG", True)
    assert (tmp_path / "media" / item["id"] / "holiday.jpg").is_file()

    assert client.post("/delete", data={"id": item["id"]}).status_code == 303
    assert "No images yet." in client.get("/").get_data(as_text=True)
    assert not (tmp_path / "media" / item["id"]).exists()
    assert client.post("/delete", data={"id": item["id"]}).status_code == 404


def test_flask_form_fallback_takes_several_files(env: dict[str, str], tmp_path: Path) -> None:
    """Without JavaScript the form posts every chosen file to /upload."""
    pytest.importorskip("flask")
    client = load("flask_app").create_app().test_client()
    photos = [(io.BytesIO(images.jpeg(64, 48)), "a.jpg"), (io.BytesIO(images.png(32, 24)), "b.png")]
    response = client.post("/upload", data={"photo": photos}, content_type="multipart/form-data")
    assert response.status_code == 303
    items = kept_entries(tmp_path / "media.json")
    assert [(item["name"], item["width"]) for item in items] == [("b.png", 32), ("a.jpg", 64)]


def test_flask_example_refuses_a_non_image(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("flask")
    client = load("flask_app").create_app().test_client()
    response = client.post(
        "/upload",
        data={"photo": (io.BytesIO(b"<html><script>x</script>"), "evil.html")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    error = error_of(response.get_data(as_text=True))
    assert error == refusal_for(b"<html><script>x</script>", "evil.html", tmp_path) and "html" in error.lower()
    assert nothing_stored(tmp_path)


def test_examples_make_and_reuse_a_dev_secret(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("flask")
    monkeypatch.delenv("S3MEDIA_SECRET_KEY")
    module = load("flask_app")
    first = module.create_app().extensions["s3media"].settings.secret_key
    saved = (tmp_path / ".dev-secret").read_text().strip()
    assert first == (saved,) and len(saved) >= 32
    assert (tmp_path / ".dev-secret").stat().st_mode & 0o077 == 0
    assert module.create_app().extensions["s3media"].settings.secret_key == first


def test_flask_example_on_s3(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, s3_bucket: str, s3_client
) -> None:
    pytest.importorskip("flask")
    monkeypatch.delenv("S3MEDIA_LOCAL_ROOT")
    base = f"{moto_endpoint}/{s3_bucket}/"
    for name, value in {
        "S3MEDIA_STORAGE": "s3",
        "S3MEDIA_BUCKET": s3_bucket,
        "S3MEDIA_REGION": "us-east-1",
        "S3MEDIA_ENDPOINT_URL": moto_endpoint,
        "S3MEDIA_BASE_URL": base,
        "GALLERY_FILE": str(tmp_path / "gallery.json"),
    }.items():
        monkeypatch.setenv(name, value)
    client = load("flask_app").create_app().test_client()
    client.post(
        "/upload", data={"photo": (io.BytesIO(images.jpeg(800, 600)), "cat.jpg")}, content_type="multipart/form-data"
    )
    html = client.get("/").get_data(as_text=True)
    url = next(u for u in re.findall(r'(http://[^"\s]+)', html) if "/640x-" in u and u.endswith(".jpg"))
    assert url.startswith(base)
    # The bucket's website 404 rule would send the browser here: the app makes it and redirects back.
    response = client.get("/media/" + url[len(base) :])
    assert response.status_code == 301 and response.headers["Location"] == url
    # The bucket is private here (no website policy), so read the stored resize with credentials.
    stored = s3_client.get_object(Bucket=s3_bucket, Key=url[len(base) :])
    assert stored["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored["Body"].read())).size == (640, 480)


# --- Pyramid -----------------------------------------------------------------------------------


def test_pyramid_example(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("pyramid")
    webtest = pytest.importorskip("webtest")
    app = webtest.TestApp(load("pyramid_app").main())
    assert "No images yet." in app.get("/").text
    app.post("/upload", upload_files=[("photo", "cat.jpg", images.jpeg(800, 600))], status=303)
    html = app.get("/").text

    def fetch(url: str):
        r = app.get(url)
        return r.status_int, r.content_type, r.body

    check_gallery(html, fetch)
    (item,) = kept_entries(tmp_path / "media.json")
    assert app.post("/upload", upload_files=[("photo", "x.svg", b"<svg onload=alert(1)>")], status=415)
    app.post("/delete", {"id": item["id"]}, status=303)
    assert "No images yet." in app.get("/").text
    app.get(f"/media/{item['id']}/cat.jpg", status=404)
    app.post("/delete", {"id": "not/an/id"}, status=404)


def test_pyramid_example_serves_a_thread_per_request(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """As the other examples: one slow resize must not hold up the page and its other images."""
    pytest.importorskip("pyramid")
    module = load("pyramid_app")
    made: list[dict[str, object]] = []

    class Server:
        def serve_forever(self) -> None:
            pass

    def make_server(host: str, port: int, app: object, **options: object) -> Server:
        made.append({"address": (host, port), **options})
        return Server()

    monkeypatch.setattr(module, "make_server", make_server)
    module.serve()
    (options,) = made
    assert options["address"] == ("127.0.0.1", 8000)
    assert issubclass(options["server_class"], socketserver.ThreadingMixIn)  # type: ignore[arg-type]


def test_pyramid_gallery_uploads_straight_from_the_browser(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("pyramid")
    webtest = pytest.importorskip("webtest")
    client = WebTestClient(webtest.TestApp(load("pyramid_app").main()))
    media_id = direct_upload_scenario(client)
    (item,) = kept_entries(tmp_path / "media.json")
    assert item == {"id": media_id, "name": "Holiday.JPG", "width": 800, "height": 600, "placeholder": True}
    assert_placeholder_shown(client, media_id)
    hostile_info_scenario(client)


def test_pyramid_upload_routes_follow_the_hook(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyramid")
    webtest = pytest.importorskip("webtest")
    params = "/media/s3/params?filename=cat.jpg&type=image%2Fjpeg"
    webtest.TestApp(load("pyramid_app").main()).get(params, status=200)
    monkeypatch.setenv("S3MEDIA_UPLOADS", f"{__name__}:refuse_everyone")
    webtest.TestApp(load("pyramid_app").main()).get(params, status=403)


# --- Django (own process: Django's settings are configured once per process) --------------------
#
# Each test runs a script in a child process, in its own folder: the gallery's SQLite file is
# tmp_path/media.sqlite3 (next to the media folder, as examples/media/django.sqlite3 is).

#: What each Django script starts with: Django set up, and the tables made, as ``manage.py runserver`` makes them.
DJANGO_SETUP = textwrap.dedent(
    """
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0, interactive=False)
    """
)


def run_django(tmp_path: Path, env: dict[str, str], script: str, *args: str) -> Any:
    pytest.importorskip("django")
    child_env = {
        **os.environ,
        **env,
        "DJANGO_SETTINGS_MODULE": "gallery_site.settings",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES / "django_project"), str(Path(__file__).parent)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", DJANGO_SETUP + script, *args],
        cwd=tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


class DjangoClient:
    """In a Django script: Django's test Client, checking CSRF as a browser's requests are checked.

    Like the page's script, it sends the page's token (``X-CSRFToken``) to the
    gallery's own routes, and none to the middleware's (uploader.js knows of none).
    """

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True)
        self.token = ""

    @staticmethod
    def reply(response: Any) -> Reply:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return Reply(response.status_code, response.get("Content-Type", "").split(";")[0], body)

    def get(self, url: str) -> Reply:
        reply = self.reply(self.client.get(url))
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', reply.body)
        if found:
            self.token = found.group(1).decode()
        return reply

    def headers(self, url: str) -> dict[str, str]:
        return {} if url.startswith("/media/") else {"X-CSRFToken": self.token}

    def post_form(self, url: str, fields: Mapping[str, str], file: tuple[str, bytes]) -> Reply:
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {**fields, "file": SimpleUploadedFile(file[0], file[1])}
        return self.reply(self.client.post(url, data, headers=self.headers(url)))

    def post_json(self, url: str, payload: object, content_type: str = "application/json") -> Reply:
        body = json.dumps(payload)
        return self.reply(self.client.post(url, body, content_type=content_type, headers=self.headers(url)))

    def submit(self, url: str, data: Mapping[str, str]) -> Reply:
        """A form of the page, posted with the page's token in it."""
        return self.reply(self.client.post(url, {**data, "csrfmiddlewaretoken": self.token}))

    def direct_upload(self, filename: str, data: bytes, content_type: str = "image/jpeg") -> tuple[str, Reply]:
        """What the field's widget does: send the file to storage, then confirm it; the key and the answer."""
        params = self.get(f"/media/s3/params?filename={filename}&type={content_type}")
        assert params.status == 200, params.body
        target = params.json()
        assert self.post_form(target["url"], target["fields"], (filename, data)).status == 204
        key = target["fields"]["key"]
        return key, self.post_json("/media/s3/confirm", {"key": key})


def photo_rows() -> list[dict[str, Any]]:
    """In a Django script: the gallery's rows (photos.models.Photo), newest first, with what the image column keeps.

    The size and the placeholder are read from the one ``image`` column (its stored value): no I/O.
    """
    from photos.models import Photo

    rows = []
    for photo in Photo.objects.all():
        info = photo.image.info
        rows.append(
            {
                "title": photo.title,
                "image": str(photo.image),
                "width": photo.image.width,
                "height": photo.image.height,
                "placeholder": bool(info and info.placeholder and info.colour),
            }
        )
    return rows


DJANGO_SCRIPT = textwrap.dedent(
    """
    import io, json, re, sys
    from django.test import Client
    import images
    from test_examples import photo_rows

    call_command("check")  # the system check passes with the example's settings
    call_command("makemigrations", "photos", check=True, dry_run=True)  # the migration matches the model
    client = Client()
    out = {"empty": client.get("/").content.decode()}
    photo = io.BytesIO(images.jpeg(800, 600))
    photo.name = "cat.jpg"
    r = client.post("/upload", {"photo": photo})
    out["upload"] = [r.status_code, r["Location"]]
    out["rows"] = photo_rows()
    out["page"] = client.get("/").content.decode()
    fetched = {}
    for url in set(re.findall(sys.argv[1], out["page"])):
        r = client.get(url)
        fetched[url] = [r.status_code, r["Content-Type"], b"".join(r.streaming_content).hex()]
    out["fetched"] = fetched
    media_id = out["rows"][0]["image"]
    out["original"] = client.get("/media/" + media_id + "/cat.jpg").status_code
    out["delete"] = client.post("/delete", {"id": media_id}).status_code
    out["rows_after"] = photo_rows()
    out["after"] = client.get("/").content.decode()
    out["original_after"] = client.get("/media/" + media_id + "/cat.jpg").status_code
    out["delete_again"] = client.post("/delete", {"id": media_id}).status_code
    print(json.dumps(out))
    """
)


def test_django_example(env: dict[str, str], tmp_path: Path) -> None:
    """Without JavaScript: the file is stored by the view, a Photo row holds its id, the page lists it."""
    out = run_django(tmp_path, env, DJANGO_SCRIPT, RESIZE_URL.pattern)
    assert "No images yet." in out["empty"]
    assert out["upload"] == [303, "/"]
    (row,) = out["rows"]
    assert (row["title"], row["width"], row["height"], row["placeholder"]) == ("cat.jpg", 800, 600, True)
    fetched = out["fetched"]

    def fetch(url: str):
        status, content_type, body = fetched[url]
        return status, content_type, bytes.fromhex(body)

    urls = check_gallery(out["page"], fetch)
    assert sorted(fetched) == urls and all(url.startswith(f"/media/{row['image']}/") for url in urls)
    assert all(status == 200 for status, _, _ in fetched.values())
    # The <img> is sized from the row (no layout shift), and links the original through photo.image.url.
    img = re.search(r'<img [^>]*width="(\d+)" height="(\d+)"', out["page"])
    assert img is not None and int(img.group(1)) * 3 == int(img.group(2)) * 4
    # ...and shows the image's ThumbHash placeholder until it loads, from the same column.
    assert re.search(r'<img [^>]*style="background-image:url\(data:image/png;base64,', out["page"])
    assert f'<a href="/media/{row["image"]}/cat.jpg">original</a>' in out["page"] and out["original"] == 200
    assert 'name="csrfmiddlewaretoken"' in out["page"]
    assert out["delete"] == 303 and out["rows_after"] == [] and "No images yet." in out["after"]
    assert out["original_after"] == 404 and out["delete_again"] == 404
    assert not (tmp_path / "media" / row["image"]).exists()
    assert (tmp_path / "media.sqlite3").is_file()


DJANGO_DIRECT_SCRIPT = textwrap.dedent(
    """
    import json
    from django.test import Client
    from test_examples import DjangoClient, direct_upload_scenario, photo_rows

    media_id = direct_upload_scenario(DjangoClient())
    # Without the page's token, Django's CSRF protection refuses the gallery's route.
    bare = Client(enforce_csrf_checks=True).post(
        "/register", json.dumps({"receipt": media_id}), content_type="application/json"
    )
    params = Client().get("/media/s3/params", {"filename": "cat.jpg", "type": "image/jpeg"})
    out = {"id": media_id, "without_token": bare.status_code, "params": params.status_code, "rows": photo_rows()}
    print(json.dumps(out))
    """
)


def test_django_gallery_uploads_straight_from_the_browser(env: dict[str, str], tmp_path: Path) -> None:
    out = run_django(tmp_path, env, DJANGO_DIRECT_SCRIPT)
    assert out["without_token"] == 403 and out["params"] == 200
    # /register made one Photo (reported twice: one row), with the size and placeholder the receipt carried.
    assert out["rows"] == [
        {"title": "Holiday.JPG", "image": out["id"], "width": 800, "height": 600, "placeholder": True}
    ]


DJANGO_MODEL_FORM_SCRIPT = textwrap.dedent(
    """
    import json, re
    import images
    from s3media_wsgi.adapters.django.fields import ERROR_MESSAGES
    from s3media_wsgi.ids import new_id
    from test_examples import DjangoClient, photo_rows

    client = DjangoClient()
    out = {"page": client.get("/").text, "messages": {code: str(text) for code, text in ERROR_MESSAGES.items()}}
    # The widget uploads the chosen file straight to storage; the form submits the upload's receipt.
    key, confirmed = client.direct_upload("Tabby.jpg", images.jpeg(400, 300))
    media_id, receipt = confirmed.json()["id"], confirmed.json()["receipt"]
    out["id"] = media_id
    # Refused, with the field's error on the page, and no row: a bare id (even this upload's: ids are in
    # every URL), a receipt made up or altered, what is no id, nothing.
    stem, expires, signature = receipt.split(":")
    refused = {}
    for name, value in {
        "id": new_id("cat.jpg"),
        "own_id": media_id,
        "receipt": f"{stem}:{int(expires) + 60}:{signature}",
        "invalid": "../../etc/passwd",
        "key": key,
        "empty": "",
    }.items():
        reply = client.submit("/add", {"title": "Forged", "image": value})
        refused[name] = [reply.status, reply.text, value]
    out["refused"] = refused
    out["rows_refused"] = photo_rows()
    out["add"] = client.submit("/add", {"title": "A tabby", "image": receipt}).status
    out["rows"] = photo_rows()
    page = client.get("/").text
    out["gallery"] = page
    resize = re.search(r'/media/[^"\\s]+?/320x-[^"\\s]+?\\.jpg', page)
    out["resize"] = client.get(resize.group(0)).status if resize else None
    print(json.dumps(out))
    """
)


def test_django_model_form_adds_a_photo_with_a_title(env: dict[str, str], tmp_path: Path) -> None:
    """The page's second form is the model's: MediaField's widget, and its checks of the id it submits."""
    out = run_django(tmp_path, env, DJANGO_MODEL_FORM_SCRIPT)
    form = re.search(r'<form id="add" method="post" action="/add">(.*?)</form>', out["page"], re.S)
    assert form is not None, out["page"]
    assert '<input type="text" name="title" maxlength="200" id="id_title">' in form.group(1)
    assert '<div class="s3media-upload" data-s3media-upload data-state="empty" data-endpoint="/media"' in form.group(1)
    assert '<input type="hidden" name="image" value="" data-s3media-id>' in form.group(1)
    chooser = re.search(r'<input ([^>]*type="file"[^>]*)>', form.group(1))
    assert chooser is not None and 'accept="image/*,video/*,application/pdf"' in chooser.group(1)
    assert 'id="id_image"' in chooser.group(1)
    assert "name=" not in chooser.group(1)  # the file itself is never posted with the form

    messages = {code: html.escape(message) for code, message in out["messages"].items()}
    expected = {
        "id": messages["id"],
        "own_id": messages["id"],
        "receipt": messages["receipt"],
        "invalid": messages["invalid"],
        "key": messages["invalid"],  # a pending upload's key is no id
        "empty": "This field is required.",
    }
    for name, (status, page, value) in out["refused"].items():
        assert status == 400, name
        errors = re.findall(r'<ul class="errorlist"[^>]*><li>(.*?)</li></ul>', page)
        assert errors == [expected[name]], (name, errors)
        if value:  # the refused id is not put back in the page
            assert value not in page and html.escape(value) not in page, name
    assert out["rows_refused"] == []

    assert out["add"] == 303
    assert out["rows"] == [{"title": "A tabby", "image": out["id"], "width": 400, "height": 300, "placeholder": True}]
    assert "A tabby" in out["gallery"] and 'alt="A tabby"' in out["gallery"] and out["resize"] == 200
    img = re.search(r'<img [^>]*alt="A tabby"[^>]*>', out["gallery"])
    assert img is not None and 'width="400" height="300"' in img.group(0)
    assert 'style="background-image:url(data:image/png;base64,' in img.group(0)


DJANGO_MIGRATION_SCRIPT = textwrap.dedent(
    """
    import json
    from django.db import connection
    from s3media_wsgi.adapters.django import get_media
    import images
    from test_examples import photo_rows

    # A database as the example made it before the image column kept the info: width and height apart.
    call_command("migrate", "photos", "0001", verbosity=0, interactive=False)
    old = get_media().put(images.jpeg(800, 600), filename="old.jpg")
    bare = get_media().put(images.jpeg(64, 48), filename="bare.jpg")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO photos_photo (title, image, width, height, created) VALUES "
            "('Old', %s, 800, 600, '2024-01-01 00:00:00'), ('Bare', %s, NULL, NULL, '2024-01-02 00:00:00')",
            [str(old), str(bare)],
        )
    call_command("migrate", "photos", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, image FROM photos_photo ORDER BY title")
        columns = cursor.fetchall()
    print(json.dumps({"old": old, "bare": bare, "columns": columns, "rows": photo_rows()}))
    """
)


def test_django_example_migration_folds_the_sizes_into_the_image_column(env: dict[str, str], tmp_path: Path) -> None:
    """0002 grows the column (a plain AlterField), keeps each row's size in its stored value, drops the columns."""
    out = run_django(tmp_path, env, DJANGO_MIGRATION_SCRIPT)
    assert out["columns"] == [["Bare", out["bare"]], ["Old", f"{out['old']};w=800;h=600"]]
    assert out["rows"] == [
        {"title": "Bare", "image": out["bare"], "width": None, "height": None, "placeholder": False},
        {"title": "Old", "image": out["old"], "width": 800, "height": 600, "placeholder": False},
    ]


DJANGO_BAD_UPLOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from django.core.files.uploadedfile import SimpleUploadedFile
    from s3media_wsgi.adapters.django.fields import ERROR_MESSAGES
    from test_examples import DjangoClient, photo_rows

    data = bytes.fromhex(sys.argv[1])
    client = DjangoClient()
    client.get("/")
    out = {"id": str(ERROR_MESSAGES["id"])}
    # Without JavaScript: the file posted to /upload.
    posted = client.reply(
        client.client.post(
            "/upload",
            {"photo": SimpleUploadedFile("kitten.jpg", data), "csrfmiddlewaretoken": client.token},
        )
    )
    out["upload"] = [posted.status, posted.text]
    # Straight to storage, as the widget and the drop zone send it; refused, so no receipt: its id to both forms.
    key, confirmed = client.direct_upload("kitten.jpg", data)
    out["confirm"] = [confirmed.status, confirmed.json()]
    pending = key.removeprefix("uploads/")
    added = client.submit("/add", {"title": "Kitten", "image": pending})
    out["add"] = [added.status, added.text]
    registered = client.post_json("/register", {"receipt": pending, "name": "kitten.jpg"})
    out["register"] = [registered.status, registered.json()]
    out["rows"] = photo_rows()
    print(json.dumps(out))
    """
)


def test_django_refuses_html_named_jpg(env: dict[str, str], tmp_path: Path) -> None:
    """A page named .jpg is no image: refused in words on every path, and no row, no stored object."""
    evil = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    out = run_django(tmp_path, env, DJANGO_BAD_UPLOAD_SCRIPT, evil.hex())
    status, page = out["upload"]
    assert status == 415 and error_of(page) == refusal_for(evil, "kitten.jpg", tmp_path)
    status, answer = out["confirm"]
    assert status == 415 and answer["error"]  # the middleware refused it, and dropped the pending object
    status, page = out["add"]
    assert status == 400 and html.escape(out["id"]) in page
    status, answer = out["register"]
    assert status == 400 and "receipt is not valid" in answer["error"]
    assert out["rows"] == [] and nothing_stored(tmp_path)


def test_django_register_takes_pictures_only_even_when_more_types_are_allowed(
    env: dict[str, str], tmp_path: Path
) -> None:
    """S3MEDIA_ALLOWED_TYPES may let a sound be stored; the gallery, whose page is <picture>s, still lists none."""
    script = textwrap.dedent(
        """
        import json, sys
        from test_examples import DjangoClient, photo_rows

        client = DjangoClient()
        client.get("/")
        key, confirmed = client.direct_upload("voice.wav", bytes.fromhex(sys.argv[1]), "audio/wav")
        registered = client.post_json("/register", {"receipt": confirmed.json()["receipt"], "name": "voice.wav"})
        print(json.dumps({"confirm": confirmed.status, "register": registered.json(), "rows": photo_rows()}))
        """
    )
    out = run_django(tmp_path, {**env, "S3MEDIA_ALLOWED_TYPES": "jpeg,wav"}, script, WAV.hex())
    assert out["confirm"] == 200  # stored: the settings allow it
    assert out["register"] == {"error": "Upload refused. WAV audio is not an image."}
    assert out["rows"] == []


def test_django_gallery_shows_a_pdf_by_its_first_page_and_a_video_by_its_poster(
    env: dict[str, str], tmp_path: Path
) -> None:
    script = textwrap.dedent(
        """
        import json, re
        import documents
        from test_examples import DjangoClient, photo_rows

        client = DjangoClient()
        client.get("/")
        out = {}
        for name, data, kind in (("report.pdf", documents.pdf(2), "application/pdf"),
                                 ("clip.webm", documents.video("webm"), "video/webm")):
            key, confirmed = client.direct_upload(name, data, kind)
            registered = client.post_json("/register", {"receipt": confirmed.json()["receipt"], "name": name})
            out[name] = {"confirm": confirmed.status, "register": registered.status}
        page = client.get("/").text
        urls = re.findall(r'/media/[^"\\s]+?/320x-[^"\\s]+?\\.(?:jpg|webp|avif)', page)
        out["answers"] = sorted({(client.get(u).status, client.get(u).content_type) for u in urls})
        out["urls"] = len(urls)
        out["rows"] = photo_rows()
        print(json.dumps(out))
        """
    )
    out = run_django(tmp_path, env, script)
    assert out["report.pdf"] == {"confirm": 200, "register": 200}
    assert out["clip.webm"] == {"confirm": 200, "register": 200}
    assert sorted(row["image"].rpartition(".")[2] for row in out["rows"]) == ["pdf", "webm"]
    assert out["urls"] >= 2
    assert all(status == 200 and kind.startswith("image/") for status, kind in out["answers"]), out["answers"]


def test_django_runserver_makes_its_database(env: dict[str, str], tmp_path: Path) -> None:
    """The documented command on a fresh checkout: `manage.py runserver` makes the SQLite file, then serves."""
    pytest.importorskip("django")
    port = free_port()
    child_env = {**os.environ, **env, "PORT": str(port), "DJANGO_SETTINGS_MODULE": "gallery_site.settings"}
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, str(EXAMPLES / "django_project" / "manage.py"), "runserver", "--noreload"]
    with serve_process(command, url, cwd=tmp_path, env=child_env):
        with urllib.request.urlopen(url, timeout=5) as response:
            status, page = response.status, response.read().decode()
    assert status == 200 and "No images yet." in page
    assert (tmp_path / "media.sqlite3").is_file()


def test_django_upload_routes_follow_the_hook(env: dict[str, str], tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from django.test import Client
        print(Client().get("/media/s3/params", {"filename": "cat.jpg", "type": "image/jpeg"}).status_code)
        """
    )
    assert run_django(tmp_path, {**env, "S3MEDIA_UPLOADS": "test_examples:refuse_everyone"}, script) == 403


# --- Images only, one wording for refusals ---------------------------------------------------


class Answer(NamedTuple):
    """What a gallery answered to an upload: the status and the page's error line (unescaped)."""

    status: int
    error: str


def error_of(page: str) -> str:
    """The text of the page's one error paragraph."""
    (found,) = ERROR.findall(page)
    return html.unescape(found.strip())


def refusal_for(data: bytes, filename: str, tmp_path: Path) -> str:
    """What a gallery should say about *data*: the shared wording of what Media.put raises for it.

    Computed, not written out, so the core may reword its messages; the
    galleries must only all pass them on the same way.
    """
    from gallery_common import image_types, refusal_message

    from s3media_wsgi import LocalStorage, Media
    from s3media_wsgi.errors import MediaError

    storage = LocalStorage(tmp_path / "reference", base_url="/media/")
    reference = Media(storage, secret_key="reference-secret-0123456789-abcdefgh", allowed_types=image_types())
    with pytest.raises(MediaError) as refused:
        reference.put(data, filename=filename)
    message = refusal_message(refused.value)
    assert message.startswith("Upload refused. ") and len(message) > len("Upload refused. ") + 10
    return message


def nothing_stored(tmp_path: Path) -> bool:
    """No file in the media folder, and no list of uploads."""
    media = tmp_path / "media"
    return not (tmp_path / "media.json").exists() and not any(p.is_file() for p in media.rglob("*"))


def upload_to_flask(filename: str, data: bytes) -> Answer:
    pytest.importorskip("flask")
    client = load("flask_app").create_app().test_client()
    r = client.post("/upload", data={"photo": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    return Answer(r.status_code, error_of(r.get_data(as_text=True)))


def upload_to_pyramid(filename: str, data: bytes) -> Answer:
    pytest.importorskip("pyramid")
    webtest = pytest.importorskip("webtest")
    r = webtest.TestApp(load("pyramid_app").main()).post(
        "/upload", upload_files=[("photo", filename, data)], expect_errors=True
    )
    return Answer(r.status_int, error_of(r.text))


DJANGO_UPLOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from test_examples import photo_rows

    client = Client()
    r = client.post("/upload", {"photo": SimpleUploadedFile(sys.argv[1], bytes.fromhex(sys.argv[2]))})
    print(json.dumps({"status": r.status_code, "page": r.content.decode(), "rows": photo_rows()}))
    """
)


def upload_to_django(tmp_path: Path, env: dict[str, str], filename: str, data: bytes) -> Answer:
    out = run_django(tmp_path, env, DJANGO_UPLOAD_SCRIPT, filename, data.hex())
    if out["status"] != 303:
        assert out["rows"] == [], out["rows"]  # refused: no Photo either
    return Answer(out["status"], error_of(out["page"]))


def upload_to_wsgi_demo(filename: str, data: bytes) -> Answer:
    from webob import Request

    app = load("wsgi_app").make_app()  # its Media from the environment, as `make demo` builds it
    r = Request.blank("/upload", POST={"photo": (filename, data)}).get_response(app)
    return Answer(r.status_int, error_of(r.text))


def upload(gallery: str, tmp_path: Path, env: dict[str, str], filename: str, data: bytes) -> Answer:
    if gallery == "django":
        return upload_to_django(tmp_path, env, filename, data)
    return {"flask": upload_to_flask, "pyramid": upload_to_pyramid, "wsgi": upload_to_wsgi_demo}[gallery](
        filename, data
    )


GALLERIES = ["flask", "pyramid", "django", "wsgi"]


@pytest.mark.parametrize("gallery", GALLERIES)
def test_gallery_refuses_a_sound(gallery: str, env: dict[str, str], tmp_path: Path) -> None:
    """A WAV is on the library's default list; a gallery of <picture>s must not take it: it has no picture."""
    answer = upload(gallery, tmp_path, env, "voice.wav", WAV)
    assert answer.status == 415
    assert answer.error == refusal_for(WAV, "voice.wav", tmp_path)
    # In words, not a bare status: it names the refused kind once (WAV is not among
    # those it says are accepted) and the kinds that would do.
    words = answer.error.lower()
    assert words.count("wav") == 1 and "jpeg" in words and "png" in words and "pdf document" in words
    assert nothing_stored(tmp_path)


class GalleryApp:
    """The Flask or Pyramid gallery behind its framework's test client: form uploads and GETs."""

    def __init__(self, framework: str) -> None:
        pytest.importorskip(framework)
        self.framework = framework
        if framework == "flask":
            self.client: Any = load("flask_app").create_app().test_client()
        else:
            webtest = pytest.importorskip("webtest")
            self.client = webtest.TestApp(load("pyramid_app").main())

    def upload(self, name: str, data: bytes) -> int:
        if self.framework == "flask":
            form = {"photo": (io.BytesIO(data), name)}
            return int(self.client.post("/upload", data=form, content_type="multipart/form-data").status_code)
        return int(self.client.post("/upload", upload_files=[("photo", name, data)]).status_int)

    def get(self, url: str) -> tuple[int, str, bytes]:
        if self.framework == "flask":
            r = self.client.get(url)
            return r.status_code, r.mimetype, r.get_data()
        r = self.client.get(url, expect_errors=True)
        return r.status_int, r.content_type, r.body


@pytest.mark.parametrize("framework", ["flask", "pyramid"])
def test_flask_and_pyramid_galleries_show_a_video_and_a_pdf_by_their_stills(
    framework: str, env: dict[str, str], tmp_path: Path
) -> None:
    gallery = GalleryApp(framework)
    for name, data in (("clip.mp4", documents.video("mp4")), ("report.pdf", documents.pdf(2))):
        assert gallery.upload(name, data) == 303
    status, _, body = gallery.get("/")
    page = body.decode()
    assert status == 200
    urls = set(re.findall(r'(/media/[^"\s]+?/\d*x\d*-fit-[^"\s]+?\.(?:jpg|webp|avif))', page))
    assert {url.split("/")[7] for url in urls} == {"clip.mp4", "report.pdf"}, urls
    for url in urls:
        status, kind, _ = gallery.get(url)
        assert status == 200 and kind.startswith("image/"), url
    assert 'style="background-image:url(data:image/png' in page  # the placeholders of the poster and the page


def test_galleries_word_a_refusal_the_same(env: dict[str, str], tmp_path: Path) -> None:
    """The same refused file reads the same in all four galleries, through gallery_common.refusal_message."""
    text = b"just some text, no image at all\n"
    answers = {gallery: upload(gallery, tmp_path, env, "notes.txt", text) for gallery in GALLERIES}
    assert len(set(answers.values())) == 1, answers
    assert answers["flask"] == (415, refusal_for(text, "notes.txt", tmp_path))
    assert nothing_stored(tmp_path)


def test_refusal_message_tells_file_problems_and_hides_the_rest() -> None:
    from gallery_common import refusal_message

    from s3media_wsgi import errors

    for told in (errors.UnsupportedMediaType, errors.UploadTooLarge, errors.ImageTooLarge, errors.NotAnImage):
        assert (
            refusal_message(told("JPEG is truncated: no EOI marker"))
            == "Upload refused. JPEG is truncated: no EOI marker."
        )
    # One sentence however the message ends or begins.
    assert refusal_message(errors.UploadTooLarge("upload is larger than 50 MB.")) == (
        "Upload refused. Upload is larger than 50 MB."
    )
    # Storage trouble may name a bucket or a path: only the public message is shown.
    secret_detail = "access denied to s3://private-bucket/keys with role arn:aws:iam::123:role/x"
    for hidden in (errors.StorageError, errors.StorageUnavailable, errors.AlreadyExists, errors.MediaError):
        message = refusal_message(hidden(secret_detail))
        assert message == f"Upload refused. {hidden.public_message}." and "bucket" not in message
    # A told error without a message falls back on its public one.
    assert refusal_message(errors.NotAnImage()) == "Upload refused. Not an image."


def test_allowed_types_can_be_widened_through_the_environment(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3MEDIA_ALLOWED_TYPES overrides the pictures-only default, like every other setting."""
    pytest.importorskip("flask")
    monkeypatch.setenv("S3MEDIA_ALLOWED_TYPES", "jpeg,wav")
    client = load("flask_app").create_app().test_client()
    r = client.post("/upload", data={"photo": (io.BytesIO(WAV), "voice.wav")}, content_type="multipart/form-data")
    assert r.status_code == 303
    (item,) = kept_entries(tmp_path / "media.json")
    assert item["id"].endswith("/voice.wav")


def test_gallery_common_doctests() -> None:
    """The examples in gallery_common's docstrings run (none is skipped) and say what they claim."""
    module = importlib.import_module("gallery_common")
    finder = doctest.DocTestFinder()
    examples = [example for test in finder.find(module) for example in test.examples]
    assert examples and not any(example.options.get(doctest.SKIP) for example in examples)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted == len(examples) and result.failed == 0


def test_no_skipped_doctest_examples_in_examples_or_adapters() -> None:
    """An example marked +SKIP is never checked and rots: in these folders each one runs or is not one."""
    root = EXAMPLES.parent
    skipped = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("examples", "adapters")
        for path in sorted((root / folder).rglob("*.py"))
        if "media" not in path.relative_to(root).parts[1:2]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "doctest: +SKIP" in line
    ]
    assert not skipped, skipped


def test_a_gallery_file_written_before_stored_values_is_still_read(tmp_path: Path) -> None:
    gallery_common = importlib.import_module("gallery_common")
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    old = {"id": media_id, "name": "Cat", "width": 800, "height": 600, "placeholder": "AAAA", "colour": "#7f8a3c"}
    path = tmp_path / "gallery.json"
    path.write_text(json.dumps([old]))
    uploads = gallery_common.Uploads(path)
    (item,) = uploads.items()
    assert item == {"id": media_id, "value": f"{media_id};w=800;h=600;p=AAAA;c=#7f8a3c", "name": "Cat"}
    shown = gallery_common.shown_id(item)
    assert (shown.width, shown.height, shown.info.colour) == (800, 600, "#7f8a3c")
    assert uploads.remove(media_id) and json.loads(path.read_text()) == []


def test_every_gallery_page_carries_the_icon() -> None:
    """No favicon 404: the icon is in the page itself (a data: URL), the same in every example."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        from gallery_common import FAVICON_LINK, FAVICON_SVG, PAGE
    finally:
        sys.path.remove(str(EXAMPLES))
    assert FAVICON_LINK.startswith('<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,')
    assert FAVICON_SVG.startswith("<svg ") and FAVICON_SVG.endswith("</svg>")
    assert FAVICON_LINK in PAGE  # Flask and Pyramid
    assert FAVICON_LINK in (EXAMPLES / "django_project" / "templates" / "gallery.html").read_text()
    assert FAVICON_LINK in load("wsgi_app").layout("Gallery", "")
