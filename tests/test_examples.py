"""Smoke tests of the example galleries: upload a real JPEG, see resize URLs, fetch one, delete.

And what they refuse: every gallery takes images only, and words a refusal the
same way (``gallery_common.refusal_message``).
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
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

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


# --- Flask -------------------------------------------------------------------------------------


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


# --- Django (own process: Django's settings are configured once per process) --------------------


def run_django(tmp_path: Path, env: dict[str, str], script: str, *args: str) -> dict:
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
