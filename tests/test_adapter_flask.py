"""Flask adapter through Flask's own test client."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

flask = pytest.importorskip("flask")

import images  # noqa: E402
from PIL import Image  # noqa: E402

from s3media_wsgi import Media, MediaMiddleware, S3Storage  # noqa: E402
from s3media_wsgi.adapters.flask import S3Media, current_media, get_media  # noqa: E402
from s3media_wsgi.errors import ConfigError  # noqa: E402

TEMPLATE = """\
<a href="{{ media_url(media_id) }}">{{ resize_url(media_id, "100x100", mode="fill") }}</a>
{{ picture(media_id, sizes=[120, 240], alt=alt, attrs={"class": "photo"}) }}"""
#: Crops placed through the template globals.
FOCUS_TEMPLATE = """<i>{{ resize_url(media_id, "100x100", mode="fill", focus="auto") }}</i>
{{ picture(media_id, sizes=["64x64"], mode="fill", focus=(0.2, 0.3), formats=["jpg"]) }}"""


def make_app(tmp_path: Path, secret: str, name: str = "gallery", **config: object) -> flask.Flask:
    app = flask.Flask(name)
    app.config.update({"S3MEDIA_SECRET_KEY": secret, "S3MEDIA_LOCAL_ROOT": str(tmp_path / "media"), **config})
    S3Media(app)

    @app.get("/")
    def index() -> str:
        return "home"

    @app.post("/echo")
    def echo() -> flask.Response:
        response = flask.make_response(flask.request.get_data())
        response.headers["X-Host"] = "yes"
        response.set_cookie("session", "abc")
        return response

    @app.post("/upload")
    def upload() -> dict[str, object]:
        media_id = current_media.put(flask.request.files["photo"])
        return {"id": media_id, "width": media_id.width, "height": media_id.height}

    @app.get("/page/<path:media_id>")
    def page(media_id: str) -> str:
        return flask.render_template_string(TEMPLATE, media_id=media_id, alt=flask.request.args.get("alt", ""))

    return app


@pytest.fixture
def app(tmp_path: Path, secret: str) -> flask.Flask:
    return make_app(tmp_path, secret)


def upload(client, data: bytes = b"", name: str = "cat.jpg") -> str:
    data = data or images.jpeg(400, 300)
    response = client.post("/upload", data={"photo": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 200, response.data
    return response.get_json()["id"]


# --- settings ----------------------------------------------------------------------


def test_state_in_extensions_and_middleware_in_front(app: flask.Flask, tmp_path: Path) -> None:
    state = app.extensions["s3media"]
    assert isinstance(state.media, Media) and state.settings.prefix == "/media/"
    assert isinstance(app.wsgi_app, MediaMiddleware) and app.wsgi_app.media is state.media
    assert state.media.storage.root == (tmp_path / "media").resolve()


def test_extension_keeps_no_app(tmp_path: Path, secret: str) -> None:
    ext = S3Media()
    app = flask.Flask("factory")
    app.config.update(S3MEDIA_SECRET_KEY=secret, S3MEDIA_LOCAL_ROOT=str(tmp_path))
    ext.init_app(app)
    assert not hasattr(ext, "app")
    assert get_media(app) is app.extensions["s3media"].media


def test_bad_setting_named_as_flask_spells_it(tmp_path: Path, secret: str) -> None:
    app = flask.Flask("bad")
    app.config.update(S3MEDIA_SECRET_KEY=secret, S3MEDIA_MAX_PIXELS="abc")
    with pytest.raises(ConfigError, match=r"^S3MEDIA_MAX_PIXELS must be an integer, got 'abc'$"):
        S3Media(app)
    assert "s3media" not in app.extensions


def test_missing_secret_and_typos_fail_at_init(tmp_path: Path, secret: str) -> None:
    app = flask.Flask("nosecret")
    with pytest.raises(ConfigError, match=r"S3MEDIA_SECRET_KEY is required"):
        S3Media(app)
    app.config.update(S3MEDIA_SECRET_KEY=secret, S3MEDIA_SERVE_LOCALLY=True)
    match = r"unknown media setting S3MEDIA_SERVE_LOCALLY; did you mean S3MEDIA_SERVE_LOCAL\?"
    with pytest.raises(ConfigError, match=match):
        S3Media(app)


def test_init_twice_is_refused(app: flask.Flask) -> None:
    with pytest.raises(ConfigError, match="already initialised"):
        S3Media(app)


def test_get_media_outside_an_app_context_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        get_media()
    with flask.Flask("plain").app_context(), pytest.raises(ConfigError, match="not initialised"):
        get_media()


# --- serving ---------------------------------------------------------------------------


def test_upload_in_a_view_and_dev_serving_with_304_and_range(app: flask.Flask) -> None:
    client = app.test_client()
    data = images.jpeg(400, 300)
    media_id = upload(client, data)
    url = app.extensions["s3media"].media.url(media_id)
    assert url == f"/media/{media_id}/cat.jpg"
    full = client.get(url)
    assert full.status_code == 200 and full.data == data and full.mimetype == "image/jpeg"
    etag = full.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == data[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(data)}"


def test_signed_resize_served_forged_one_404(app: flask.Flask) -> None:
    client = app.test_client()
    media_id = upload(client)
    media = app.extensions["s3media"].media
    url = media.resize_url(media_id, "100x100", mode="fill", format="webp")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert Image.open(io.BytesIO(response.data)).size == (100, 100)
    forged = re.sub(r"-[0-9a-f]{32}\.webp$", "-" + "0" * 32 + ".webp", url)
    assert client.get(forged).status_code == 404
    assert client.get(url.replace("100x100", "101x100")).status_code == 404


def test_host_routes_pass_through_untouched(app: flask.Flask) -> None:
    client = app.test_client()
    assert client.get("/").data == b"home"
    response = client.post("/echo", data=b"raw body \x00\xff", content_type="application/octet-stream")
    assert response.status_code == 200 and response.data == b"raw body \x00\xff"
    assert response.headers["X-Host"] == "yes" and "session=abc" in response.headers["Set-Cookie"]
    assert client.get("/nothing-here").status_code == 404  # Flask's own 404
    assert client.get("/mediafile").status_code == 404


def test_template_globals_render_signed_urls_that_serve(app: flask.Flask) -> None:
    client = app.test_client()
    media_id = upload(client)
    page = client.get(f"/page/{media_id}", query_string={"alt": '<b>"cat"</b>'})
    html = page.get_data(as_text=True)
    media = app.extensions["s3media"].media
    assert f'<a href="{media.url(media_id)}">{media.resize_url(media_id, "100x100", mode="fill")}</a>' in html
    # Not escaped twice by Jinja, and the user's alt text escaped once.
    assert "<picture><source " in html and "&lt;picture" not in html
    assert 'alt="&lt;b&gt;&#34;cat&#34;&lt;/b&gt;"' in html or 'alt="&lt;b&gt;&quot;cat&quot;&lt;/b&gt;"' in html
    assert 'class="photo"' in html
    urls = re.findall(r'(/media/[^"\s<]+)', html)
    assert len(urls) >= 8
    for url in set(urls):
        assert client.get(url).status_code == 200, url


def test_template_globals_place_crops_with_focus(app: flask.Flask) -> None:
    client = app.test_client()
    media_id = upload(client)
    media = app.extensions["s3media"].media
    with app.test_request_context():
        html = flask.render_template_string(FOCUS_TEMPLATE, media_id=media_id)
    # A crop's focus goes through the template globals into the signed URL.
    assert f"<i>{media.resize_url(media_id, '100x100', mode='fill', focus='auto')}</i>" in html
    assert "100x100-fill-85-noupscale-fauto-" in html and "64x64-fill-85-noupscale-f20x30-" in html
    urls = set(re.findall(r'(/media/[^"\s<]+)', html))
    assert len(urls) == 2
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_two_apps_in_one_process_with_different_configs(tmp_path: Path, secret: str) -> None:
    one = make_app(tmp_path / "one", secret, "one")
    two = make_app(tmp_path / "two", "another-secret-" + "x" * 30, "two", S3MEDIA_PREFIX="/files/")
    c1, c2 = one.test_client(), two.test_client()
    id1, id2 = upload(c1), upload(c2)
    m1, m2 = one.extensions["s3media"].media, two.extensions["s3media"].media
    url1, url2 = m1.resize_url(id1, "50x"), m2.resize_url(id2, "50x")
    assert url1.startswith("/media/") and url2.startswith("/files/")
    assert c1.get(url1).status_code == 200 and c2.get(url2).status_code == 200
    # Neither app serves the other's files or honours the other's signatures.
    assert c1.get(url2).status_code == 404
    assert c2.get(url1).status_code == 404
    assert c2.get(url1.replace("/media/", "/files/", 1)).status_code == 404
    # Each template sees its own app's helpers.
    assert f"/files/{id2}/cat.jpg" in c2.get(f"/page/{id2}").get_data(as_text=True)
    assert f"/media/{id1}/cat.jpg" in c1.get(f"/page/{id1}").get_data(as_text=True)


def test_disabled_leaves_requests_to_flask_but_keeps_helpers(tmp_path: Path, secret: str) -> None:
    app = make_app(tmp_path, secret, S3MEDIA_ENABLED="false")
    assert not isinstance(app.wsgi_app, MediaMiddleware)
    client = app.test_client()
    media_id = upload(client)
    assert client.get(app.extensions["s3media"].media.url(media_id)).status_code == 404  # Flask's 404
    assert f"/media/{media_id}/cat.jpg" in client.get(f"/page/{media_id}").get_data(as_text=True)


def test_s3_storage_resize_redirects_to_the_bucket(
    tmp_path: Path, secret: str, moto_endpoint: str, s3_bucket: str, s3_client
) -> None:
    app = flask.Flask("s3app")
    app.config.update(
        S3MEDIA_SECRET_KEY=secret,
        S3MEDIA_STORAGE="s3",
        S3MEDIA_BUCKET=s3_bucket,
        S3MEDIA_REGION="us-east-1",
        S3MEDIA_ENDPOINT_URL=moto_endpoint,
        S3MEDIA_BASE_URL=f"{moto_endpoint}/{s3_bucket}/",
    )
    S3Media(app)
    media = app.extensions["s3media"].media
    assert isinstance(media.storage, S3Storage)
    with app.app_context():
        media_id = current_media.put(images.jpeg(300, 200), filename="cat.jpg")
    key = media.resize_key(media_id, "60x")
    # The bucket's website 404 rule sends a missing resize to the app under the prefix.
    response = app.test_client().get(f"/media/{key}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"{moto_endpoint}/{s3_bucket}/{key}"
    stored = s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert Image.open(io.BytesIO(stored)).size == (60, 40)


def test_template_globals_take_the_stored_value(app: flask.Flask) -> None:
    media = app.extensions["s3media"].media
    media_id = media.put(images.jpeg(400, 300), filename="cat.jpg")
    with app.test_request_context():
        from_value = flask.render_template_string(TEMPLATE, media_id=media_id.stored, alt="")
        from_id = flask.render_template_string(TEMPLATE, media_id=str(media_id), alt="")
    # What the app kept in its column gives the same URLs, plus the size the plain id cannot know.
    assert from_value.split("\n")[0] == from_id.split("\n")[0]
    assert 'width="240" height="180"' in from_value and "width=" not in from_id
