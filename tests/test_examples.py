"""Smoke tests of the example galleries: upload a real JPEG, see resize URLs, fetch one, delete.

Every gallery uploads straight from the browser: the page imports
``uploader.js`` and carries the upload UI, the middleware's upload routes
answer, and ``POST /register`` lists a confirmed upload and nothing else
(:func:`direct_upload_scenario`, run against each gallery through its
framework's own test client).  And what they refuse: every gallery takes
images only, and words a refusal the same way (``gallery_common.refusal_message``).
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
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, Protocol

import images
import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RESIZE_URL = re.compile(r"/media/[0-9a-f/]+/[a-z0-9.-]+/\d*x\d*-fit-\d+-noupscale-[0-9a-f]{32}\.(?:avif|webp|jpg)")
ERROR = re.compile(r'<p class="error">(.*?)</p>', re.S)
#: A small but well-formed PDF: a kind the library stores by default, and no gallery should.
PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
)


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
    middleware's stand-in for S3) takes the file; ``/register`` refuses the id
    of that upload until ``s3/confirm`` has confirmed it, and refuses made-up
    ids and anything but JSON; then it lists the image once and answers its HTML.
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
    assert re.search(r'<input type="file" name="photo" accept="image/\*" multiple required>', page.text)
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

    def register(media_id: object, content_type: str = "application/json") -> Reply:
        return client.post_json("/register", {"id": media_id, "name": "Holiday.JPG"}, content_type)

    # Uploaded but not confirmed, made up, or not an id at all: refused, and nothing listed.
    for forged, status in ((pending, 404), (new_id("holiday.jpg"), 404), (key, 400), ("../../etc/passwd", 400)):
        refused = register(forged)
        assert refused.status == status, (forged, refused)
        assert refused.json()["error"], forged
    # What a form on another site could send (text/plain) is not even read.
    assert register(pending, "text/plain").status == 415
    assert "No images yet" in client.get("/").text

    confirmed = client.post_json("/media/s3/confirm", {"key": key})
    assert confirmed.status == 200, confirmed.body
    media_id = confirmed.json()["id"]
    assert media_id == pending and (confirmed.json()["width"], confirmed.json()["height"]) == (800, 600)

    listed = register(media_id)
    assert listed.status == 200, listed.body
    answer = listed.json()
    assert answer["id"] == media_id and media_id in answer["html"]
    resize = re.search(r'/media/[^"\s]+?/\d*x\d*-[^"\s]+?\.jpg', answer["html"])
    assert resize is not None and resize.group(0).startswith(f"/media/{media_id}/"), answer["html"]
    image = client.get(html.unescape(resize.group(0)))
    assert image.status == 200 and image.content_type == "image/jpeg"
    assert register(media_id).status == 200  # reported twice: listed once
    page = client.get("/").text
    assert page.count(f'name="id" value="{media_id}"') == 1 and "No images yet" not in page
    return str(media_id)


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
    (item,) = json.loads((tmp_path / "media.json").read_text())
    assert item == {"id": media_id, "name": "Holiday.JPG", "width": 800, "height": 600}


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
    (item,) = json.loads((tmp_path / "media.json").read_text())
    assert (item["width"], item["height"], item["name"]) == (800, 600, "Holiday.JPG")
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
    items = json.loads((tmp_path / "media.json").read_text())
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
    (item,) = json.loads((tmp_path / "media.json").read_text())
    assert app.post("/upload", upload_files=[("photo", "x.svg", b"<svg onload=alert(1)>")], status=415)
    app.post("/delete", {"id": item["id"]}, status=303)
    assert "No images yet." in app.get("/").text
    app.get(f"/media/{item['id']}/cat.jpg", status=404)
    app.post("/delete", {"id": "not/an/id"}, status=404)


def test_pyramid_gallery_uploads_straight_from_the_browser(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("pyramid")
    webtest = pytest.importorskip("webtest")
    media_id = direct_upload_scenario(WebTestClient(webtest.TestApp(load("pyramid_app").main())))
    (item,) = json.loads((tmp_path / "media.json").read_text())
    assert item == {"id": media_id, "name": "Holiday.JPG", "width": 800, "height": 600}


def test_pyramid_upload_routes_follow_the_hook(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyramid")
    webtest = pytest.importorskip("webtest")
    params = "/media/s3/params?filename=cat.jpg&type=image%2Fjpeg"
    webtest.TestApp(load("pyramid_app").main()).get(params, status=200)
    monkeypatch.setenv("S3MEDIA_UPLOADS", f"{__name__}:refuse_everyone")
    webtest.TestApp(load("pyramid_app").main()).get(params, status=403)


# --- Django (own process: Django's settings are configured once per process) --------------------


def run_django(tmp_path: Path, env: dict[str, str], script: str, *args: str) -> Any:
    pytest.importorskip("django")
    child_env = {
        **os.environ,
        **env,
        "DJANGO_SETTINGS_MODULE": "gallery_site.settings",
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES / "django_project"), str(Path(__file__).parent)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=tmp_path, env=child_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


DJANGO_SCRIPT = textwrap.dedent(
    """
    import io, json, re, sys
    import django
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    import images

    call_command("check")  # the system check passes with the example's settings
    client = Client()
    out = {"empty": client.get("/").content.decode()}
    photo = io.BytesIO(images.jpeg(800, 600))
    photo.name = "cat.jpg"
    r = client.post("/upload", {"photo": photo})
    out["upload"] = [r.status_code, r["Location"]]
    out["page"] = client.get("/").content.decode()
    fetched = {}
    for url in set(re.findall(sys.argv[1], out["page"])):
        r = client.get(url)
        fetched[url] = [r.status_code, r["Content-Type"], b"".join(r.streaming_content).hex()]
    out["fetched"] = fetched
    item = json.load(open(sys.argv[2]))[0]
    out["item"] = item
    out["delete"] = client.post("/delete", {"id": item["id"]}).status_code
    out["after"] = client.get("/").content.decode()
    out["original_after"] = client.get("/media/" + item["id"] + "/cat.jpg").status_code
    print(json.dumps(out))
    """
)


def test_django_example(env: dict[str, str], tmp_path: Path) -> None:
    out = run_django(tmp_path, env, DJANGO_SCRIPT, RESIZE_URL.pattern, str(tmp_path / "media.json"))
    assert "No images yet." in out["empty"]
    assert out["upload"] == [303, "/"]
    fetched = out["fetched"]

    def fetch(url: str):
        status, content_type, body = fetched[url]
        return status, content_type, bytes.fromhex(body)

    urls = check_gallery(out["page"], fetch)
    assert sorted(fetched) == urls
    assert all(status == 200 for status, _, _ in fetched.values())
    assert 'name="csrfmiddlewaretoken"' in out["page"]
    assert (out["item"]["width"], out["item"]["height"]) == (800, 600)
    assert out["delete"] == 303 and "No images yet." in out["after"]
    assert out["original_after"] == 404


DJANGO_DIRECT_SCRIPT = textwrap.dedent(
    """
    import json, re
    import django
    django.setup()
    from django.test import Client
    from test_examples import Reply, direct_upload_scenario


    class DjangoClient:
        \"\"\"Django's test Client, checking CSRF as a browser's requests are checked.

        Like the page's script, it sends the page's token (X-CSRFToken) to the
        gallery's own routes, and none to the middleware's (uploader.js knows of none).
        \"\"\"

        def __init__(self):
            self.client = Client(enforce_csrf_checks=True)
            self.token = None

        def reply(self, response):
            body = b"".join(response.streaming_content) if response.streaming else response.content
            return Reply(response.status_code, response.get("Content-Type", "").split(";")[0], body)

        def get(self, url):
            reply = self.reply(self.client.get(url))
            found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', reply.body)
            if found:
                self.token = found.group(1).decode()
            return reply

        def headers(self, url):
            return {} if url.startswith("/media/") else {"X-CSRFToken": self.token}

        def post_form(self, url, fields, file):
            from django.core.files.uploadedfile import SimpleUploadedFile

            data = {**fields, "file": SimpleUploadedFile(file[0], file[1])}
            return self.reply(self.client.post(url, data, headers=self.headers(url)))

        def post_json(self, url, payload, content_type="application/json"):
            body = json.dumps(payload)
            return self.reply(self.client.post(url, body, content_type=content_type, headers=self.headers(url)))


    client = DjangoClient()
    media_id = direct_upload_scenario(client)
    # Without the page's token, Django's CSRF protection refuses the gallery's route.
    bare = Client(enforce_csrf_checks=True).post(
        "/register", json.dumps({"id": media_id}), content_type="application/json"
    )
    params = Client().get("/media/s3/params", {"filename": "cat.jpg", "type": "image/jpeg"})
    print(json.dumps({"id": media_id, "without_token": bare.status_code, "params": params.status_code}))
    """
)


def test_django_gallery_uploads_straight_from_the_browser(env: dict[str, str], tmp_path: Path) -> None:
    out = run_django(tmp_path, env, DJANGO_DIRECT_SCRIPT)
    assert out["without_token"] == 403 and out["params"] == 200
    (item,) = json.loads((tmp_path / "media.json").read_text())
    assert item == {"id": out["id"], "name": "Holiday.JPG", "width": 800, "height": 600}


def test_django_upload_routes_follow_the_hook(env: dict[str, str], tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json
        import django
        django.setup()
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
    import django
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client()
    r = client.post("/upload", {"photo": SimpleUploadedFile(sys.argv[1], bytes.fromhex(sys.argv[2]))})
    print(json.dumps({"status": r.status_code, "page": r.content.decode()}))
    """
)


def upload_to_django(tmp_path: Path, env: dict[str, str], filename: str, data: bytes) -> Answer:
    out = run_django(tmp_path, env, DJANGO_UPLOAD_SCRIPT, filename, data.hex())
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
def test_gallery_refuses_a_pdf(gallery: str, env: dict[str, str], tmp_path: Path) -> None:
    """A PDF is on the library's default list; a gallery of <picture>s must not take it."""
    answer = upload(gallery, tmp_path, env, "report.pdf", PDF)
    assert answer.status == 415
    assert answer.error == refusal_for(PDF, "report.pdf", tmp_path)
    # In words, not a bare status: it names the refused kind once (PDF is not among
    # those it says are accepted) and the images that would do.
    words = answer.error.lower()
    assert words.count("pdf") == 1 and "jpeg" in words and "png" in words
    assert nothing_stored(tmp_path)


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
    """S3MEDIA_ALLOWED_TYPES overrides the images-only default, like every other setting."""
    pytest.importorskip("flask")
    monkeypatch.setenv("S3MEDIA_ALLOWED_TYPES", "jpeg,pdf")
    client = load("flask_app").create_app().test_client()
    r = client.post("/upload", data={"photo": (io.BytesIO(PDF), "report.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 303
    (item,) = json.loads((tmp_path / "media.json").read_text())
    assert item["id"].endswith("/report.pdf")


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
