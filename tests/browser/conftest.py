"""Real-browser tests of direct uploads: ``uploader.js`` and Uppy in Chromium, driven by Playwright.

A host app (``page.html``, test fixtures, the Uppy bundle, a resize-URL route) wrapped in
``MediaMiddleware(..., uploads=...)`` is served by waitress on 127.0.0.1 (``tests/servers.py``), with
``LocalStorage`` in a temporary folder or ``S3Storage`` against moto's server; the page
and the tests talk to nothing else.

What they need (checked once per session by tests/conftest.py: when something is missing, these
tests are deselected with one message naming the install command, or under ``make test`` and CI the
run stops with that message; the fixtures below still fail clearly if used on their own):

- Playwright's Python package (the ``dev`` extra) and Debian's Chromium (``apt-get install
  chromium``; another binary through ``S3MEDIA_CHROMIUM``).  Playwright's own browser
  downloads are never used.
- For the Uppy tests, Node.js and ``npm ci`` run in this folder: the tests bundle
  ``@uppy/core`` and ``@uppy/aws-s3`` (pinned by ``package-lock.json``) with esbuild into
  ``build/`` (git-ignored).  ``.ci/run`` does both installs.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import images
import pytest
from PIL import Image
from servers import serve_wsgi, serve_wsgiref
from webob import Request, Response

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage

HERE = Path(__file__).resolve().parent
SECRET = "browser-test-secret-0123456789-abcdefghij"
MiB = 1024 * 1024
#: Where the ``uppy_bundle`` fixture puts Uppy (git-ignored).
UPPY_BUNDLE = HERE / "build" / "uppy.bundle.js"
#: The script of the Django adapter's MediaUploadWidget (its markup is WIDGET_PAGE's, as the widget renders it).
WIDGET_SCRIPT = (HERE.parent.parent / "adapters" / "django" / "media_widget.js").read_text(encoding="utf-8")
#: A form with one MediaUploadWidget holding *{current}*, the markup of the widget's render() by hand: the
#: browser tests do not configure Django.  ``{uploader_url}`` and ``{current}`` are filled in per request.
WIDGET_PAGE = """<!doctype html>
<html><body>
<form id="form" method="post" action="/submitted">
<div class="s3media-upload" data-s3media-upload data-state="done" data-endpoint="/media" \
data-uploader="{uploader_url}">\
<input type="hidden" name="image" value="{current}" data-s3media-id>\
<span data-s3media-current>{current}</span> \
<input type="file" id="id_image" data-s3media-file> <button type="button" data-s3media-clear>Remove</button>\
 <progress data-s3media-progress max="1" value="0" hidden></progress>\
 <span data-s3media-status role="status" aria-live="polite"></span></div>\
<script type="module">{script}</script>
<button id="save">Save</button>
</form>
</body></html>
"""
#: Milliseconds Playwright waits for a page or a function of it; every upload in the page gives up after 30 s.
PAGE_TIMEOUT_MS = 45_000

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# --- what the tests need ---------------------------------------------------------------


def chromium_path() -> str:
    """Debian's Chromium (or ``$S3MEDIA_CHROMIUM``); a failure naming what to install otherwise."""
    path = os.environ.get("S3MEDIA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "tests/browser needs Chromium: install Debian's package (apt-get install -y chromium), "
            "or point S3MEDIA_CHROMIUM at a Chromium binary. (Never `playwright install`.)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module.

    Not session-scoped: Playwright's sync API runs an event loop in the main
    thread while it is open, and Django (tested after this folder) refuses
    database work when it sees a running loop.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "tests/browser needs Playwright's Python package: pip install -e '.[dev]' (or pip install playwright)",
            pytrace=False,
        )
    executable = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def uppy_bundle() -> Path:
    """``build/uppy.bundle.js``: Uppy from ``node_modules``, bundled by esbuild (about 0.2 s)."""
    if shutil.which("node") is None:
        pytest.fail("the Uppy tests need Node.js and npm (apt-get install -y nodejs npm)", pytrace=False)
    wanted = json.loads((HERE / "package.json").read_text())["devDependencies"]
    for name, version in wanted.items():
        manifest = HERE / "node_modules" / name / "package.json"
        installed = json.loads(manifest.read_text())["version"] if manifest.is_file() else None
        if installed != version:
            pytest.fail(
                f"tests/browser/node_modules has {name} {installed or 'missing'}, package.json wants {version}: "
                "run `npm ci` in tests/browser (Node.js and npm needed)",
                pytrace=False,
            )
    out = UPPY_BUNDLE
    out.parent.mkdir(exist_ok=True)
    partial = out.with_name(f".uppy.{os.getpid()}.js")  # others may run the tests at the same time
    command = [
        str(HERE / "node_modules" / ".bin" / "esbuild"),
        "uppy_entry.js",
        "--bundle",
        "--format=esm",
        "--target=es2022",
        f"--outfile={partial}",
        "--log-level=warning",
    ]
    done = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"esbuild could not bundle Uppy:\n{done.stderr[-4000:]}", pytrace=False)
    os.replace(partial, out)
    return out


@pytest.fixture(scope="session")
def fixtures() -> dict[str, bytes]:
    """The files the page uploads, by name."""
    # Random pixels do not compress: 2048x2048 RGB is just over 12 MiB of PNG (three 5 MiB parts).
    noise = Image.frombytes("RGB", (2048, 2048), os.urandom(2048 * 2048 * 3))
    return {
        "small.png": images.png(320, 240),
        "big.png": images.encode(noise, "PNG", compress_level=0),
        "page.html": b"<!doctype html><html><body><script>alert(1)</script></body></html>" * 20,
    }


# --- the app under test ------------------------------------------------------------------


def host_app(media: Media, files: dict[str, bytes]) -> Any:
    """The app a page of the tests is served by, with the media layer (uploads allowed) in front.

    ``/uppy.js`` is the bundle the ``uppy_bundle`` fixture builds (tests using Uppy request it).
    """
    page = (HERE / "page.html").read_text()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        path = request.path_info
        response = Response(cache_control="no-store")
        if path == "/":
            response.content_type = "text/html"
            response.text = page.replace("{uploader_url}", middleware.responder.uploader_url)
        elif path == "/widget":
            response.content_type = "text/html"
            response.text = (
                WIDGET_PAGE.replace("{uploader_url}", middleware.responder.uploader_url)
                .replace("{current}", request.GET.get("current", ""))
                .replace("{script}", WIDGET_SCRIPT)
            )
        elif path == "/uppy.js":
            response.content_type = "text/javascript"
            response.body = UPPY_BUNDLE.read_bytes()
        elif path.startswith("/fixtures/") and path[10:] in files:
            response.content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            response.body = files[path[10:]]
        elif path == "/resize-url":
            # With S3 a resize URL points at the bucket, whose website routing rule sends a miss to the app
            # (see the README); moto has no such rule, so the page asks the app's own URL of it.
            url = media.resize_url(request.GET["id"], "64x")
            response.json = {"url": "/media/" + url.removeprefix(media.storage.base_url).lstrip("/")}
        else:
            response.status = 404
        return response(environ, start_response)

    middleware = MediaMiddleware(app, media, uploads=lambda request: True)
    return middleware


@dataclass
class Site:
    """A served host app and what the tests check on its storage."""

    url: str
    kind: str  # "local" or "s3"
    media: Media
    stored: Callable[[], list[str]]  # every key in storage (pending uploads included)
    open_uploads: Callable[[], list[str]]  # multipart uploads neither completed nor aborted
    #: Messages the server answers the next part signings with (403), one each, last first.
    refuse_part_signing: list[str] = field(default_factory=list)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "absolute_local_base_url: LocalStorage's base_url is http://127.0.0.1:PORT/media/ (not /media/)",
    )


@pytest.fixture(params=["local", "s3", "local-wsgiref"])
def site(request: pytest.FixtureRequest, tmp_path: Path, fixtures: dict[str, bytes]) -> Iterator[Site]:
    """The host app with each storage in turn, served on 127.0.0.1 by waitress; local storage by wsgiref too.

    wsgiref is the plain PEP 3333 server (``wsgi.input`` is the socket: the routes must
    never read past ``CONTENT_LENGTH``).

    The server starts first (its URL goes into LocalStorage's base_url with the
    ``absolute_local_base_url`` marker, and into the bucket's CORS rule), then the app is built.
    """
    built: dict[str, Any] = {}
    refusals: list[str] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if refusals and environ["REQUEST_METHOD"] == "GET" and re.fullmatch(r"/media/s3/multipart/[^/]+/\d+", path):
            body = json.dumps({"error": refusals.pop()}).encode()
            start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return built["app"](environ, start_response)

    server = (
        serve_wsgiref(app)
        if request.param == "local-wsgiref"
        else serve_wsgi(app, threads=6, name="browser-tests-waitress")
    )
    with server as url:
        if request.param in ("local", "local-wsgiref"):
            root = tmp_path / "media"
            absolute = request.node.get_closest_marker("absolute_local_base_url") is not None
            media = Media(LocalStorage(root, base_url=f"{url}/media/" if absolute else "/media/"), secret_key=SECRET)
            built["app"] = host_app(media, fixtures)
            yield Site(
                url,
                "local",
                media,
                stored=lambda: sorted(
                    str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".uploads" not in p.parts
                ),
                open_uploads=lambda: sorted(
                    p.name for p in (root / ".uploads").glob("*") if p.is_dir() and p.name not in ("types", "incoming")
                ),
                refuse_part_signing=refusals,
            )
            return
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        client = request.getfixturevalue("s3_client")
        storage = S3Storage(
            bucket=bucket, region="us-east-1", base_url=f"{endpoint}/{bucket}/", endpoint_url=endpoint, client=client
        )
        media = Media(storage, secret_key=SECRET)
        built["app"] = host_app(media, fixtures)
        # What the README asks of a bucket: CORS for the page's origin, POST and PUT, ETag exposed.
        rule = {"AllowedOrigins": [url], "AllowedMethods": ["GET", "POST", "PUT"], "AllowedHeaders": ["*"]}
        client.put_bucket_cors(
            Bucket=bucket, CORSConfiguration={"CORSRules": [rule | {"ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]}
        )
        # A public bucket, so that the browser loads resizes from it.  (Not the README's deny of
        # s3:GetObject on uploads/* for everyone: that denies the app's own read in confirm_upload too.)
        statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
        policy = {"Version": "2012-10-17", "Statement": [statement | {"Resource": f"arn:aws:s3:::{bucket}/*"}]}
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        yield Site(
            url,
            "s3",
            media,
            stored=lambda: sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])),
            open_uploads=lambda: sorted(
                u["UploadId"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            ),
            refuse_part_signing=refusals,
        )


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser context with the test page of *site* loaded."""
    context = browser.new_context()
    try:
        # Recent Chromium asks before a page reaches the local network; loopback to loopback is
        # allowed anyway, the grant is for Chromiums that ask even then.
        context.grant_permissions(["local-network-access"])
    except Exception:  # a Playwright or Chromium that does not know this permission
        pass
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(site.url + "/")
        page.wait_for_function("window.harnessReady === true")
        yield page
        assert not errors, f"the page threw: {errors}"
    finally:
        context.close()
