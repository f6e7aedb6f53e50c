"""The upload routes against what a stranger can send them, over real servers where it matters.

Each test names the row of the security review it covers (``test_row<N>_...``):

3. an upload id that is a path (absolute or with ``..``) reaching the file system;
4. a deeply nested JSON body (a RecursionError, answered 500);
5. a form of 400,000 tiny fields posted without any right to upload (seconds of CPU,
   hundreds of MiB, the host app stalled);
10. a part PUT under a plain PEP 3333 server (wsgiref), where reading one byte past
    ``CONTENT_LENGTH`` waits for ever;
12. part URLs that bind no size (a part over the upload limit was stored);
14. ``retry_after`` honoured by the resize side only.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from images import jpeg
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import Busy, InvalidUpload, StorageUnavailable, UploadTooLarge
from s3media_wsgi.uploads import check_upload_id

SECRET = "reliability-secret-0123456789-abcdefghij"
MIB = 1024 * 1024


def host_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@pytest.fixture
def media(tmp_path: Path) -> Media:
    return Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=SECRET)


@pytest.fixture
def app(media: Media) -> MediaMiddleware:
    return MediaMiddleware(host_app, media, uploads=lambda request: True)


def call(app: Any, path: str, method: str = "GET", body: bytes | None = None, **headers: str) -> Any:
    request = Request.blank(path, method=method, body=body or b"", headers=headers)
    if body is not None and "Content-Type" not in headers:
        request.content_type = "application/json"
    return request.get_response(app)


# --- row 3: upload ids are never paths ------------------------------------------------------------


def test_row3_an_upload_id_that_is_a_path_reaches_no_folder(tmp_path: Path, app: MediaMiddleware, media: Media) -> None:
    started = media.create_multipart_upload("a.jpg", "image/jpeg")
    key = started["key"]
    # A folder outside the media root that looks like an upload's state (as another app's would).
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "upload.json").write_text(json.dumps({"key": key, "content_type": "image/jpeg"}))
    relative = "../" * 8 + str(victim).lstrip("/")
    for upload_id in (str(victim), relative, "../../victim", f"{started['upload_id']}/../../../../victim"):
        for method in ("DELETE", "GET"):
            answer = call(app, f"/media/s3/multipart/{upload_id}?key={quote(key)}", method)
            assert answer.status_int in (403, 404), (method, upload_id, answer.status)
        with pytest.raises(InvalidUpload):
            media.abort_multipart_upload(key, upload_id)
    assert (victim / "upload.json").is_file()
    # The real upload is untouched and still works.
    assert call(app, f"/media/s3/multipart/{started['upload_id']}?key={quote(key)}").json == []


@pytest.mark.parametrize(
    "upload_id", ["..", "/etc", "/", "a/../b", "a\nb", "a\x00b", "a\x7fb", "", "x" * 2000, "../x", "a/.."]
)
def test_row3_upload_ids_with_dot_dots_slashes_first_or_controls_are_refused(upload_id: str) -> None:
    with pytest.raises(InvalidUpload):
        check_upload_id(upload_id)


def test_row3_s3_shaped_upload_ids_still_pass() -> None:
    s3_id = "2~iCw_lDY8VoNP8Fj3cR7nEpP5-HYB7U1oy0dUcFLjaR.jN5KfrTR5v9YWgY/0+JzHv=="
    assert check_upload_id(s3_id) == s3_id


def test_row3_local_upload_ids_are_hex_tokens_only(media: Media) -> None:
    started = media.create_multipart_upload("a.jpg", "image/jpeg")
    for bad in ("a" * 31, "g" * 32, started["upload_id"] + "/x", "ABCDEF" + started["upload_id"][6:].upper()):
        with pytest.raises(InvalidUpload):
            media.list_upload_parts(started["key"], bad)


# --- row 4: deep JSON is a 400 ----------------------------------------------------------------


@pytest.mark.parametrize("route", ["s3/confirm", "s3/multipart", "s3/multipart/{id}/complete?key={key}"])
def test_row4_deeply_nested_json_is_a_clear_400(app: MediaMiddleware, media: Media, route: str) -> None:
    started = media.create_multipart_upload("a.jpg", "image/jpeg")
    path = "/media/" + route.format(id=started["upload_id"], key=quote(started["key"]))
    for body in (b"[" * 200_000 + b"]" * 200_000, b'{"key": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"):
        answer = call(app, path, "POST", body)
        assert answer.status_int == 400, answer.status
        assert "deeper" in answer.json["error"]


# --- row 5: a form of many tiny fields is refused before it costs anything -----------------------

FORM_BOMB = """
import http.client, threading, time
from concurrent.futures import ThreadPoolExecutor
from servers import serve_wsgi
from s3media_wsgi import LocalStorage, Media, MediaMiddleware

def host_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

def post(port, body, boundary):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/media/s3/local/upload", body=body,
                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    res = conn.getresponse()
    res.read()
    conn.close()
    return res.status

def get(port):
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/page")
    res = conn.getresponse()
    res.read()
    conn.close()
    return res.status, time.perf_counter() - started

boundary = "b0undary"
part = ("--" + boundary + "\\r\\nContent-Disposition: form-data; name=\\"a\\"\\r\\n\\r\\nb\\r\\n").encode()
body = part * 400_000 + ("--" + boundary + "--\\r\\n").encode()
media = Media(LocalStorage(TMP, base_url="/media/"), secret_key="reliability-secret-0123456789-abcdefghij")
with serve_wsgi(MediaMiddleware(host_app, media, uploads=lambda request: False), threads=8) as base:
    port = int(base.rsplit(":", 1)[1])
    post(port, b"x", boundary)  # warm up
    baseline()
    started = time.process_time()
    wall = time.perf_counter()
    status = post(port, body, boundary)
    one = time.perf_counter() - wall
    cpu = time.process_time() - started
    with ThreadPoolExecutor(4) as pool:
        bombs = [pool.submit(post, port, body, boundary) for _ in range(4)]
        time.sleep(0.2)
        host = [get(port) for _ in range(10)]
        statuses = [b.result() for b in bombs]
print(json.dumps({"status": status, "one": one, "cpu": cpu, "statuses": statuses,
                  "host": [s for s, _ in host], "host_worst": max(t for _, t in host)}))
"""


def test_row5_a_form_of_400k_fields_is_refused_fast_in_bounded_memory(
    tmp_path: Path, peak_rss_mib_of: Callable[..., tuple[float, str]]
) -> None:
    code = "import json\nTMP = " + repr(str(tmp_path / "media")) + "\n" + FORM_BOMB
    growth, out = peak_rss_mib_of(code, timeout=120)
    result = json.loads(out.strip().splitlines()[-1])
    print(f"400k-field form: {result['one']:.3f} s, {result['cpu']:.3f} s CPU, +{growth:.1f} MiB; {result}")
    assert result["status"] in (400, 403, 413)
    assert all(status in (400, 403, 413) for status in result["statuses"])
    assert result["one"] < 1.0 and result["cpu"] < 1.0
    # The body itself (20 MB) is built before the baseline; waitress buffers up to 5 at once on disk.
    assert growth < 50
    assert result["host"] == [200] * 10 and result["host_worst"] < 1.0


def test_row5_a_form_with_too_many_parts_is_a_clear_400(app: MediaMiddleware, media: Media) -> None:
    upload = media.presign_upload("cat.jpg", "image/jpeg")
    fields = {**upload["fields"], **{f"extra{n}": "x" for n in range(100)}}
    answer = Request.blank(upload["url"], POST={**fields, "file": ("f", jpeg(8, 8))}).get_response(app)
    assert answer.status_int == 400 and "fields" in answer.json["error"]


# --- row 10: nothing reads past CONTENT_LENGTH (wsgiref does not bound wsgi.input) ----------------


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def wsgiref_server(app: MediaMiddleware) -> Iterator[tuple[str, int]]:
    httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def exchange(server: tuple[str, int], method: str, url: str, body: bytes, headers: dict[str, str]) -> Any:
    conn = http.client.HTTPConnection(*server, timeout=5)
    try:
        conn.request(method, url, body=body, headers=headers)
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def test_row10_a_part_put_under_wsgiref_is_answered(wsgiref_server: tuple[str, int], media: Media) -> None:
    started = media.create_multipart_upload("a.jpg", "image/jpeg")
    data = jpeg(64, 48)
    url = media.sign_upload_part(started["key"], started["upload_id"], 1)
    status, headers, _ = exchange(wsgiref_server, "PUT", url, data, {})
    assert status == 200 and headers["ETag"]
    # The whole upload, through the routes, then confirmed.
    key = quote(started["key"])
    parts = json.dumps({"parts": [{"PartNumber": 1, "ETag": headers["ETag"]}]}).encode()
    json_type = {"Content-Type": "application/json"}
    done = exchange(wsgiref_server, "POST", f"/media/s3/multipart/{started['upload_id']}/complete?key={key}", parts,
                    json_type)  # fmt: skip
    assert done[0] == 200, done
    assert media.confirm_upload(started["key"]).width == 64


def test_row10_a_form_post_under_wsgiref_is_answered(wsgiref_server: tuple[str, int], media: Media) -> None:
    data = jpeg(64, 48)
    upload = media.presign_upload("cat.jpg", "image/jpeg")
    body, content_type = Request.blank("/", POST={**upload["fields"], "file": ("cat.jpg", data)}).body, None
    content_type = Request.blank("/", POST={**upload["fields"], "file": ("cat.jpg", data)}).content_type
    boundary = body.split(b"\r\n", 1)[0][2:].decode()
    status, _, _ = exchange(
        wsgiref_server, "POST", upload["url"], body, {"Content-Type": f"{content_type}; boundary={boundary}"}
    )
    assert status == 204
    assert media.confirm_upload(upload["key"]).width == 64


# --- row 12: a part URL binds the part's size -------------------------------------------------


def test_row12_local_part_urls_bind_the_size_asked_for(app: MediaMiddleware, media: Media) -> None:
    started = media.create_multipart_upload("a.jpg", "image/jpeg")
    route = f"/media/s3/multipart/{started['upload_id']}/1?key={quote(started['key'])}"
    url = call(app, route + "&size=10").json["url"]
    assert dict(parse_qsl(urlsplit(url).query))["size"] == "10"
    assert Request.blank(url, method="PUT", body=b"x" * 11).get_response(app).status_int in (400, 403)
    assert Request.blank(url, method="PUT", body=b"x" * 9).get_response(app).status_int in (400, 403)
    tampered = url.replace("size=10", "size=11")
    assert Request.blank(tampered, method="PUT", body=b"x" * 11).get_response(app).status_int == 403
    assert Request.blank(url, method="PUT", body=b"x" * 10).get_response(app).status_int == 200
    # Without a size (plain Uppy), any length up to the limit, as before.
    plain = call(app, route).json["url"]
    assert Request.blank(plain, method="PUT", body=b"y" * 12).get_response(app).status_int == 200


def test_row12_sizes_over_the_limit_are_not_signed(tmp_path: Path) -> None:
    media = Media(LocalStorage(tmp_path / "m", base_url="/media/"), secret_key=SECRET, max_upload_bytes=50 * MIB)
    app = MediaMiddleware(host_app, media, uploads=lambda request: True)
    started = media.create_multipart_upload("a.mp4", "video/mp4")
    key, upload_id = started["key"], started["upload_id"]
    with pytest.raises(UploadTooLarge):
        media.sign_upload_part(key, upload_id, 1, size=60 * MIB)
    with pytest.raises(UploadTooLarge):  # 5 MiB at least before it, then 46 MiB
        media.sign_upload_part(key, upload_id, 2, size=46 * MIB)
    media.sign_upload_part(key, upload_id, 2, size=45 * MIB)
    for size in ("0", "-1", "x", "1e3", str(60 * MIB)):
        answer = call(app, f"/media/s3/multipart/{upload_id}/1?key={quote(key)}&size={size}")
        assert answer.status_int in (400, 403, 413) and answer.json["error"], size
    over = call(app, f"/media/s3/multipart/{upload_id}/1?key={quote(key)}&size={60 * MIB}")
    assert over.status_int == 413 and "limit" in over.json["error"]


def test_row12_s3_part_urls_sign_content_length(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    started = media.create_multipart_upload("a.jpg", "image/jpeg")
    url = media.sign_upload_part(started["key"], started["upload_id"], 1, size=1234)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-SignedHeaders"] == "content-length;host"
    plain = media.sign_upload_part(started["key"], started["upload_id"], 1)
    assert dict(parse_qsl(urlsplit(plain).query))["X-Amz-SignedHeaders"] == "host"
    media.abort_multipart_upload(started["key"], started["upload_id"])


def test_row12_the_uploader_sends_each_parts_size() -> None:
    from s3media_wsgi.responder import UPLOADER  # noqa: F401  (the asset served)

    source = (Path(__file__).resolve().parents[2] / "s3media_wsgi" / "assets" / "uploader.js").read_text()
    assert "size: String(blob.size)" in source


# --- row 14: one Retry-After for both sides ---------------------------------------------------


@pytest.mark.parametrize("error", [StorageUnavailable("down"), Busy("busy")])
def test_row14_retry_after_is_the_same_on_both_sides(
    media: Media, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    media_id = media.put(jpeg(40, 30), filename="a.jpg")
    app = MediaMiddleware(host_app, media, uploads=lambda request: True, retry_after=17)
    if isinstance(error, Busy):
        error.retry_after = None  # a Busy with no hint of its own: the configured one

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(media, "fetch_resize", fail)
    monkeypatch.setattr(media, "create_resize", fail)
    monkeypatch.setattr(media, "confirm_upload", fail)
    resize = call(app, media.resize_url(media_id, "20x15"))
    confirm = call(app, "/media/s3/confirm", "POST", json.dumps({"key": "uploads/" + media_id}).encode())
    assert (resize.status_int, confirm.status_int) == (503, 503)
    assert resize.headers["Retry-After"] == confirm.headers["Retry-After"] == "17"


def test_row14_an_errors_own_hint_is_the_same_on_both_sides(media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    media_id = media.put(jpeg(40, 30), filename="a.jpg")
    app = MediaMiddleware(host_app, media, uploads=lambda request: True, retry_after=17)

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise Busy("no decode slot")

    monkeypatch.setattr(media, "fetch_resize", fail)
    monkeypatch.setattr(media, "create_resize", fail)
    monkeypatch.setattr(media, "confirm_upload", fail)
    resize = call(app, media.resize_url(media_id, "20x15"))
    confirm = call(app, "/media/s3/confirm", "POST", json.dumps({"key": "uploads/" + media_id}).encode())
    assert resize.headers["Retry-After"] == confirm.headers["Retry-After"] == str(Busy.retry_after)
    assert resize.text == confirm.json["error"] == Busy.public_message


def test_row14_one_function_answers_for_both_sides() -> None:
    from s3media_wsgi.answers import answer_for
    from s3media_wsgi.errors import NotAnImage

    assert answer_for(StorageUnavailable("down"), 17).retry_after == 17
    assert answer_for(RuntimeError("bug"), 17).status == 500
    shown = answer_for(NotAnImage("That file is not an image."), 17)
    assert (shown.status, shown.shown) == (422, "That file is not an image.")
    assert answer_for(StorageUnavailable("bucket x down"), 17).shown == StorageUnavailable.public_message
