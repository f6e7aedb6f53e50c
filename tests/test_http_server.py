"""The middleware behind a real HTTP server (wsgiref), spoken to over a socket."""

from __future__ import annotations

import http.client
import io
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.validate import validator

import pytest
from images import jpeg
from PIL import Image

from s3media_wsgi import LocalStorage, Media, MediaMiddleware


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def host_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"host"]


@pytest.fixture
def media(local_storage: LocalStorage, secret: str) -> Media:
    return Media(local_storage, secret_key=secret)


@pytest.fixture
def server(media: Media) -> Iterator[tuple[str, int]]:
    # The validator checks every exchange against PEP 3333 as it happens.
    app = validator(MediaMiddleware(host_app, media, prefix="/media/"))
    httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[0], httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def fetch(server: tuple[str, int], path: str, method: str = "GET", headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection(*server, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def test_resize_over_http(server: tuple[str, int], media: Media) -> None:
    photo = media.put(jpeg(640, 480), filename="photo.jpg")
    status, headers, body = fetch(server, media.resize_url(photo, "300x"))
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert int(headers["Content-Length"]) == len(body)
    with Image.open(io.BytesIO(body)) as im:
        assert im.size == (300, 225)

    again = fetch(server, media.resize_url(photo, "300x"), headers={"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[2] == b""


def test_range_over_http(server: tuple[str, int], media: Media) -> None:
    data = jpeg(320, 240)
    photo = media.put(data, filename="photo.jpg")
    status, headers, body = fetch(server, media.url(photo), headers={"Range": "bytes=100-199"})
    assert status == 206
    assert body == data[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"

    status, _, body = fetch(server, media.url(photo))
    assert status == 200 and body == data  # whole file through wsgi.file_wrapper


def test_pass_through_over_http(server: tuple[str, int]) -> None:
    for method, path in (("GET", "/"), ("GET", "/mediafoo"), ("POST", "/form")):
        status, _, body = fetch(server, path, method=method)
        assert (status, body) == (200, b"host")


def test_bad_paths_over_http(server: tuple[str, int], local_storage: LocalStorage) -> None:
    (local_storage.root.parent / "secret.txt").write_bytes(b"TOP SECRET")
    for path in ("/media/%2e%2e/secret.txt", "/media/../secret.txt", "/media/%252e%252e/secret.txt", "/media/nothing"):
        status, headers, body = fetch(server, path)
        assert status == 404, path
        assert body == b"Not found"
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
    status, _, body = fetch(server, "/media/nothing", method="HEAD")
    assert status == 404 and body == b""
