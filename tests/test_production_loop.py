"""The production loop end to end, over real HTTP on 127.0.0.1.

The bucket (moto's S3 server) plays the S3 website endpoint and the test plays
the browser, following the bucket's 404 routing rule by hand: a missing resize
sends it to the app under /media/, the app makes and stores it and answers 301
back to the bucket, and from then on the bucket serves it without the app.
"""

from __future__ import annotations

import http.client
import io
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from images import jpeg
from PIL import Image

from s3media_wsgi import Media, MediaMiddleware, S3Storage


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path)
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


@pytest.fixture
def loop(s3_storage: S3Storage, s3_client: Any, secret: str) -> Iterator[tuple[Media, str, list[str]]]:
    # What the README asks for: anyone may read objects, nobody may list them.
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", '
        f'"Action": "s3:GetObject", "Resource": "arn:aws:s3:::{s3_storage.bucket}/*"}}]}}'
    )
    s3_client.put_bucket_policy(Bucket=s3_storage.bucket, Policy=policy)
    media = Media(s3_storage, secret_key=secret)
    seen: list[str] = []

    def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"host"]

    inner = MediaMiddleware(host, media, prefix="/media/")

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    httpd = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield media, f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def browse(url: str, media: Media, app_url: str) -> tuple[int, dict[str, str], bytes, list[str]]:
    """GET *url* like a browser behind the bucket's routing rule; return the hops taken."""
    hops = [url]
    status, headers, body = get(url)
    if status == 404 and url.startswith(media.storage.base_url):
        # The routing rule: a 404 becomes a 302 to the app, key under /media/.
        url = f"{app_url}/media/{url[len(media.storage.base_url) :]}"
        hops.append(url)
        status, headers, body = get(url)
    if status in (301, 302):
        url = headers["location"]
        hops.append(url)
        status, headers, body = get(url)
    return status, headers, body, hops


def test_first_request_goes_through_the_app_later_ones_do_not(loop) -> None:
    media, app_url, seen = loop
    media_id = media.put(jpeg(1600, 1200), filename="Night Sky.jpg")
    url = media.resize_url(media_id, "400x300", format="webp")
    assert url.startswith(media.storage.base_url)

    status, headers, body, hops = browse(url, media, app_url)
    assert status == 200
    assert len(hops) == 3 and hops[-1] == url  # bucket 404 -> app -> 301 back to the bucket
    assert headers["content-type"] == "image/webp"
    assert "immutable" in headers["cache-control"]
    with Image.open(io.BytesIO(body)) as im:
        assert im.format == "WEBP" and im.size == (400, 300)
    assert len(seen) == 1

    status, _, again, hops = browse(url, media, app_url)
    assert status == 200 and again == body
    assert hops == [url] and len(seen) == 1  # served by the bucket alone


def test_forged_url_ends_at_the_app_with_404_and_no_loop(loop) -> None:
    media, app_url, seen = loop
    media_id = media.put(jpeg(64, 64), filename="x.jpg")
    url = media.resize_url(media_id, "32x32")
    forged = url[:-6] + ("0" if url[-6] != "0" else "1") + url[-5:]
    status, headers, body, hops = browse(forged, media, app_url)
    assert status == 404 and len(hops) == 2
    assert headers["content-type"].startswith("text/plain")
    assert b"Traceback" not in body
