"""Stills of videos and PDFs in every delivery mode: local, and S3 over moto's server (serve, website, private),
through the upload routes' confirm and a framework's own test client."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import documents
import pytest
import requests
from PIL import Image
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage

SECRET = "previews-delivery-0123456789-abcdefghijk"


@cache
def files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, the colour its still shows at (4, 4) of a 64 px wide resize)."""
    red = (220, 30, 30)
    return {
        "clip.mp4": (documents.video("mp4"), documents.SCENE_COLOUR),
        "clip.webm": (documents.video("webm"), documents.SCENE_COLOUR),
        "clip.mov": (documents.video("quicktime"), documents.SCENE_COLOUR),
        "report.pdf": (documents.pdf(2, 612, 612, colours=[red]), (255, 255, 255)),
    }


def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host"]


def still_of(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB")


def close(colour: tuple[int, ...], wanted: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, wanted))


NAMES = sorted(files())


@pytest.mark.parametrize("name", NAMES)
def test_local_middleware_answers_a_still(tmp_path, name: str) -> None:
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=SECRET)
    app = MediaMiddleware(host, media, prefix="/media/")
    data, colour = files()[name]
    media_id = media.put(data, filename=name)
    url = media.resize_url(media_id, "64x", format="webp")
    cold = Request.blank(url).get_response(app)
    assert cold.status_int == 200 and cold.content_type == "image/webp"
    assert still_of(cold.body).width == 64 and close(still_of(cold.body).getpixel((4, 4)), colour)
    warm = Request.blank(url).get_response(app)
    assert warm.status_int == 200 and warm.body == cold.body
    forged = Request.blank(url.replace("-fit-85", "-fit-84")).get_response(app)
    assert forged.status_int == 404
    assert "<picture>" in str(media.picture(media_id, sizes=[64, 128]))


def test_local_middleware_answers_a_corrupt_video_422_and_stores_nothing(tmp_path) -> None:
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=SECRET)
    app = MediaMiddleware(host, media, prefix="/media/")
    media_id = media.put(files()["clip.mp4"][0][:200], filename="cut.mp4")
    key = media.resize_key(media_id, "64x")
    answer = Request.blank("/media/" + key).get_response(app)
    assert answer.status_int == 422 and not media.storage.exists(key)


@pytest.mark.parametrize("name", NAMES)
def test_s3_serve_mode_answers_and_stores_a_still(moto_endpoint: str, s3_bucket: str, name: str) -> None:
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint)
    media = Media(storage, secret_key=SECRET, resize_base_url="/media/")
    app = MediaMiddleware(host, media, delivery="serve")
    data, colour = files()[name]
    media_id = media.put(data, filename=name)
    path = "/media/" + media.resize_key(media_id, "64x", format="png")
    cold = Request.blank(path).get_response(app)
    assert cold.status_int == 200 and cold.content_type == "image/png"
    assert close(still_of(cold.body).getpixel((4, 4)), colour)
    assert storage.get(path.removeprefix("/media/")) == cold.body


def test_s3_website_mode_makes_a_still_and_sends_the_browser_to_the_bucket(
    moto_endpoint: str, s3_bucket: str, s3_client
) -> None:
    storage = S3Storage(
        s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, base_url=f"{moto_endpoint}/{s3_bucket}/"
    )
    media = Media(storage, secret_key=SECRET)
    app = MediaMiddleware(host, media, prefix="/media/", delivery="website")
    media_id = media.put(files()["report.pdf"][0], filename="report.pdf")
    key = media.resize_key(media_id, "64x", format="webp", page=2)
    assert media.resize_url(media_id, "64x", format="webp", page=2) == f"{moto_endpoint}/{s3_bucket}/{key}"
    answer = Request.blank("/media/" + key).get_response(app)  # the bucket's 404 rule sends it here
    assert answer.status_int in (301, 302) and answer.headers["Location"] == f"{moto_endpoint}/{s3_bucket}/{key}"
    stored = s3_client.get_object(Bucket=s3_bucket, Key=key)
    assert stored["ContentType"] == "image/webp" and still_of(stored["Body"].read()).size == (64, 64)


def test_s3_private_mode_302s_to_a_presigned_still(moto_endpoint: str, s3_bucket: str) -> None:
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, private=True)
    media = Media(storage, secret_key=SECRET, resize_base_url="/media/")
    app = MediaMiddleware(host, media, prefix="/media/")
    media_id = media.put(files()["clip.webm"][0], filename="clip.webm")
    url = media.resize_url(media_id, "64x", frame=1.5)
    cold = Request.blank(url).get_response(app)
    assert cold.status_int == 302
    got = requests.get(cold.headers["Location"], timeout=10)
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/jpeg"
    assert close(still_of(got.content).getpixel((4, 4)), documents.SCENE_COLOUR)


def test_a_direct_upload_of_a_video_is_confirmed_with_its_facts(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    data = documents.video("mp4", audio=True)
    upload = media.presign_upload("clip.mp4", "video/mp4")
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", data)}, timeout=30)
    assert sent.status_code == 204
    media_id = media.confirm_upload(upload["key"])
    info = media_id.info
    assert info is not None and info.duration == pytest.approx(2.0, abs=0.05) and info.video_codec == "h264"
    assert (info.width, info.height) == (160, 96) and info.placeholder
    assert media.get(media_id) == data  # published as it was sent


def test_flask_serves_the_still_and_the_picture_of_a_pdf(tmp_path) -> None:
    flask = pytest.importorskip("flask")
    from s3media_wsgi.adapters.flask import S3Media

    app = flask.Flask("previews")
    app.config.update(S3MEDIA_SECRET_KEY=SECRET, S3MEDIA_LOCAL_ROOT=str(tmp_path / "media"))
    S3Media(app)
    media = app.extensions["s3media"].media
    media_id = media.put(files()["report.pdf"][0], filename="report.pdf")

    @app.route("/page")
    def page() -> str:
        return flask.render_template_string("{{ picture(media_id, sizes=[64], placeholder=True) }}", media_id=media_id)

    client = app.test_client()
    html = client.get("/page").get_data(as_text=True)
    assert "<picture>" in html and "background" in html  # the first page's placeholder too
    url = html.split('src="', 1)[1].split('"', 1)[0]
    answer = client.get(url)
    assert answer.status_code == 200 and answer.mimetype.startswith("image/")
    assert still_of(answer.data).width == 64
