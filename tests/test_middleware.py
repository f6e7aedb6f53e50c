"""MediaMiddleware through real WSGI calls, with real storages and real images."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from images import jpeg, png_bomb
from PIL import Image
from webob import Request, Response

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import ConfigError

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Host:
    """The host application: answers 200 "host" and remembers every environ it saw."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"host"]


def call(app: Any, path: str, method: str = "GET", **kwargs: Any) -> Response:
    """A request whose PATH_INFO is exactly *path* (as a server gives it after %-decoding)."""
    req = Request.blank("/", method=method, **kwargs)
    req.environ["PATH_INFO"] = path
    res = req.get_response(app)
    _ = res.body  # read it all, which also closes the app_iter as a server would
    return res


def path_of(url: str) -> str:
    assert url.startswith("/media/")
    return url


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def media(local_storage: LocalStorage, secret: str) -> Media:
    return Media(local_storage, secret_key=secret)


@pytest.fixture
def app(host: Host, media: Media) -> MediaMiddleware:
    return MediaMiddleware(host, media, prefix="/media/")


@pytest.fixture
def photo(media: Media) -> str:
    return media.put(jpeg(640, 480), filename="Photo.jpg")


def count_resizes(media: Media, delay: float = 0.0) -> list[int]:
    """Wrap media.engine.resize so each call is counted (and optionally slowed)."""
    calls: list[int] = []
    real = media.engine.resize

    def counting(data: bytes, spec: Any) -> Any:
        calls.append(1)
        if delay:
            time.sleep(delay)  # widen the window in which other threads pile up
        return real(data, spec)

    media.engine.resize = counting  # type: ignore[method-assign]
    return calls


# --- configuration -------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix", ["media/", "/media", "", "/mé/", "/a b/", "/media files/", "/", "//", "/a//b/", "/../", 42]
)
def test_prefix_must_start_and_end_with_slash(host: Host, media: Media, prefix: Any) -> None:
    from s3media_wsgi.settings import parse_settings

    with pytest.raises(ConfigError):
        MediaMiddleware(host, media, prefix=prefix)
    # The settings parser applies the same rule (one home): what it accepts,
    # the middleware accepts, so a Django system check never passes a prefix
    # that then fails every request.
    if isinstance(prefix, str) and prefix:
        with pytest.raises(ConfigError, match="prefix"):
            parse_settings({"secret_key": "demo-secret-0123456789-abcdefghijk", "prefix": prefix})


def test_s3_base_url_under_the_prefix_is_refused_at_startup(
    host: Host, moto_endpoint: str, s3_bucket: str, secret: str
) -> None:
    # Every resize would 301 to itself, forever.
    for base_url in ("/media/", "http://app.example.com/media/"):
        storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, base_url=base_url)
        with pytest.raises(ConfigError, match="redirect to itself"):
            MediaMiddleware(host, Media(storage, secret_key=secret), prefix="/media/")


def test_missing_bucket_answers_500_naming_the_setting(
    host: Host, moto_endpoint: str, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    storage = S3Storage("no-such-bucket-here", region="us-east-1", endpoint_url=moto_endpoint)
    media = Media(storage, secret_key=secret)
    app = MediaMiddleware(host, media)
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    with caplog.at_level(logging.WARNING, logger="s3media_wsgi"):
        res = call(app, "/media/" + media.resize_key(media_id, "10x10"))
    assert res.status_int == 500
    assert "Retry-After" not in res.headers
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and "check the bucket setting" in logged[0]


def test_serve_local_defaults_from_storage(host: Host, media: Media, s3_storage: S3Storage, secret: str) -> None:
    assert MediaMiddleware(host, media).serve_local is True
    assert MediaMiddleware(host, Media(s3_storage, secret_key=secret)).serve_local is False
    assert MediaMiddleware(host, media, serve_local=False).serve_local is False


# --- pass-through --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [("/", "GET"), ("/mediafoo", "GET"), ("/media", "GET"), ("/upload", "POST"), ("/x/media/a", "DELETE"), ("", "GET")],
)
def test_other_paths_reach_the_host_untouched(app: MediaMiddleware, host: Host, path: str, method: str) -> None:
    req = Request.blank("/", method=method)
    req.environ["PATH_INFO"] = path
    before = dict(req.environ)
    res = req.get_response(app)
    assert res.status_int == 200 and res.body == b"host"
    assert len(host.seen) == 1
    assert host.seen[0] is req.environ
    assert req.environ == before


def test_missing_path_info_passes_through(app: MediaMiddleware, host: Host) -> None:
    req = Request.blank("/")
    del req.environ["PATH_INFO"]
    assert req.get_response(app).body == b"host"


# --- development flow: local storage -------------------------------------------


def test_original_is_served(app: MediaMiddleware, media: Media, photo: str, host: Host) -> None:
    res = call(app, path_of(media.url(photo)))
    assert res.status_int == 200
    assert res.body == media.get(photo)
    assert res.content_type == "image/jpeg"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["ETag"]
    assert host.seen == []


def test_resize_is_made_then_served_from_disk(app: MediaMiddleware, media: Media, photo: str) -> None:
    calls = count_resizes(media)
    url = media.resize_url(photo, "200x150")
    res = call(app, path_of(url))
    assert res.status_int == 200
    assert res.content_type == "image/jpeg"
    with Image.open(io.BytesIO(res.body)) as im:
        assert im.format == "JPEG"
        assert im.size == (200, 150)
    key = url[len("/media/") :]
    assert media.storage.local_path(key) is not None
    assert calls == [1]

    again = call(app, path_of(url))
    assert again.status_int == 200
    assert again.body == res.body
    assert again.headers["ETag"] == res.headers["ETag"]
    assert calls == [1]  # served from the file, not made again


def test_resize_fill_and_format(app: MediaMiddleware, media: Media, photo: str) -> None:
    res = call(app, path_of(media.resize_url(photo, "100x100", mode="fill", format="webp")))
    assert res.status_int == 200
    assert res.content_type == "image/webp"
    with Image.open(io.BytesIO(res.body)) as im:
        assert (im.format, im.size) == ("WEBP", (100, 100))


def test_head_makes_no_body(app: MediaMiddleware, media: Media, photo: str) -> None:
    res = call(app, path_of(media.resize_url(photo, "64x")), method="HEAD")
    assert res.status_int == 200
    assert res.body == b""
    assert int(res.headers["Content-Length"]) > 0


def test_range_and_conditional_on_a_stored_file(app: MediaMiddleware, media: Media, photo: str) -> None:
    url = path_of(media.url(photo))
    full = call(app, url)
    part = call(app, url, headers={"Range": "bytes=0-99"})
    assert part.status_int == 206 and part.body == full.body[:100]
    assert call(app, url, headers={"If-None-Match": full.headers["ETag"]}).status_int == 304


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_405(app: MediaMiddleware, media: Media, photo: str, host: Host, method: str) -> None:
    res = call(app, path_of(media.url(photo)), method=method)
    assert res.status_int == 405
    assert res.headers["Allow"] == "GET, HEAD"
    assert media.exists(photo)
    assert host.seen == []


@pytest.fixture
def secret_file(local_storage: LocalStorage) -> Path:
    """A file next to the storage root that must never be served."""
    outside = local_storage.root.parent / "secret.txt"
    outside.write_bytes(b"TOP SECRET")
    return outside


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.txt",
        "/media/./../secret.txt",
        "/media/x/../../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/%252e%252e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/..\\secret.txt",
        "/media/\\..\\secret.txt",
        "/media/secret.txt\x00.jpg",
        "/media//secret.txt",
        "/media/.hidden",
        "/media/",
        "/media/link.txt",
        "/media/link.txt/",
        "/media/sub/",
        "/media/ok.txt/",
        "/media/ok.txt ",
        "/media/\u00e9.txt",
    ],
)
def test_unsafe_paths_are_404(
    app: MediaMiddleware, local_storage: LocalStorage, secret_file: Path, host: Host, path: str
) -> None:
    root = local_storage.root
    (root / ".hidden").write_bytes(b"TOP SECRET")
    (root / "ok.txt").write_bytes(b"fine")
    (root / "sub").mkdir()
    (root / "link.txt").symlink_to(secret_file)
    res = call(app, path)
    assert res.status_int == 404
    assert res.body == b"Not found"
    assert res.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert res.headers["Cache-Control"] == "no-store"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert host.seen == []


def test_control_for_unsafe_paths(app: MediaMiddleware, local_storage: LocalStorage) -> None:
    # The same setup serves a file that is really inside root, so the 404s above
    # come from the paths, not from a broken server.
    (local_storage.root / "ok.txt").write_bytes(b"fine")
    res = call(app, "/media/ok.txt")
    assert res.status_int == 200 and res.body == b"fine"
    assert res.headers["Content-Disposition"] == "attachment"


def tamper(url: str) -> list[str]:
    head, _, variant = url.rpartition("/")
    stem, _, rest = variant.partition("-fit-")
    sig_at = variant.rindex("-") + 1
    flipped = variant[:sig_at] + ("0" if variant[sig_at] != "0" else "1") + variant[sig_at + 1 :]
    return [
        f"{head}/{flipped}",  # one signature character changed
        f"{head}/{variant.replace(stem, '201x150', 1)}",  # size changed, signature kept
        f"{head}/{variant[:-4]}.png",  # format changed
        f"{head}/{variant[:sig_at]}{'0' * 32}{variant[sig_at + 32 :]}",  # zeroed
    ]


def test_forged_signatures_are_404(app: MediaMiddleware, media: Media, photo: str, secret: str) -> None:
    calls = count_resizes(media)
    url = media.resize_url(photo, "200x150")
    assert url.rsplit("/", 1)[1].startswith("200x150-fit-")
    other = Media(media.storage, secret_key="another-secret-0123456789-abcdefghijkl")
    for bad in [*tamper(url), other.resize_url(photo, "200x150")]:
        assert bad != url
        res = call(app, path_of(bad))
        assert res.status_int == 404, bad
        assert res.body == b"Not found"
    assert calls == []
    assert call(app, path_of(url)).status_int == 200  # the genuine one still works


def test_original_deleted_is_404(app: MediaMiddleware, media: Media, photo: str) -> None:
    url = media.resize_url(photo, "200x150")
    media.delete(photo)
    res = call(app, path_of(url))
    assert res.status_int == 404
    assert res.body == b"Not found"


def test_unknown_id_is_404(app: MediaMiddleware, media: Media) -> None:
    never_stored = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    for url in (media.url(never_stored), media.resize_url(never_stored, "100x100")):
        res = call(app, path_of(url))
        assert res.status_int == 404 and res.body == b"Not found"


def test_resize_of_a_pdf_is_422(app: MediaMiddleware, media: Media) -> None:
    doc = media.put(PDF, filename="report.pdf")
    original = call(app, path_of(media.url(doc)))
    assert original.status_int == 200
    assert original.content_type == "application/pdf"
    assert original.headers["Content-Disposition"] == "attachment"
    res = call(app, path_of(media.resize_url(doc, "100x100")))
    assert res.status_int == 422
    assert res.body == b"Not an image"
    assert not [p for p in media.storage.local_path(media.url(doc)[7:]).parent.iterdir() if p.name != "report.pdf"]


def test_image_over_the_pixel_limit_is_413(host: Host, media: Media, photo: str, secret: str) -> None:
    strict = Media(media.storage, secret_key=secret, max_pixels=10_000)
    app = MediaMiddleware(host, strict)
    res = call(app, path_of(strict.resize_url(photo, "50x50")))
    assert res.status_int == 413
    assert res.body == b"Image too large"


def test_decompression_bomb_is_413_not_decoded(host: Host, media: Media, secret: str) -> None:
    strict = Media(media.storage, secret_key=secret, max_pixels=1_000_000)
    key = "0f0f0f0f/0f0f/4f0f/8f0f/0f0f0f0f0f0f/bomb.png"
    media.storage.put(f"{key}/bomb.png", png_bomb(), "image/png")
    res = call(MediaMiddleware(host, strict), path_of(strict.resize_url(key, "50x50")))
    assert res.status_int == 413


def test_storage_outage_is_503_with_retry_after(
    host: Host, media: Media, photo: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3media_wsgi.errors import StorageUnavailable

    def broken(key: str, length: int | None = None) -> bytes:
        raise StorageUnavailable("timed out reading /srv/secret/path")

    monkeypatch.setattr(media.storage, "get", broken)
    monkeypatch.setattr(media.storage, "read", broken)  # originals are read with a bound
    app = MediaMiddleware(host, media, retry_after=17)
    with caplog.at_level(logging.WARNING, logger="s3media_wsgi"):
        res = call(app, path_of(media.resize_url(photo, "10x10")))
    assert res.status_int == 503
    assert res.headers["Retry-After"] == "17"
    assert b"/srv" not in res.body and b"timed out" not in res.body
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "timed out reading" in caplog.records[0].getMessage()


def test_storage_misconfiguration_is_500_logged_once_without_retry_after(
    host: Host, media: Media, photo: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3media_wsgi.errors import StorageError

    def broken(key: str, length: int | None = None) -> bytes:
        raise StorageError("AccessDenied at /srv/secret/path; check the IAM policy")

    monkeypatch.setattr(media.storage, "get", broken)
    monkeypatch.setattr(media.storage, "read", broken)  # originals are read with a bound
    app = MediaMiddleware(host, media, retry_after=17)
    with caplog.at_level(logging.DEBUG, logger="s3media_wsgi"):
        res = call(app, path_of(media.resize_url(photo, "10x10")))
    assert res.status_int == 500
    assert "Retry-After" not in res.headers
    assert b"/srv" not in res.body and b"IAM" not in res.body
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR
    assert "check the IAM policy" in errors[0].getMessage()
    assert errors[0].exc_info is None  # one clear line, not a traceback


def test_unexpected_error_is_a_plain_500(
    app: MediaMiddleware, media: Media, photo: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(data: bytes, spec: Any) -> Any:
        raise RuntimeError("bug with details")

    monkeypatch.setattr(media.engine, "resize", bug)
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        res = call(app, path_of(media.resize_url(photo, "10x10")))
    assert res.status_int == 500
    assert res.body == b"Internal error"
    assert res.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert any(r.exc_info and "bug with details" in str(r.exc_info[1]) for r in caplog.records)


def test_redirect_mode_with_local_storage(host: Host, media: Media, photo: str) -> None:
    app = MediaMiddleware(host, media, serve_local=False)
    url = media.resize_url(photo, "120x90")
    res = call(app, path_of(url))
    assert res.status_int == 301
    assert res.headers["Location"] == url
    assert res.headers["Cache-Control"] == "public, max-age=86400"
    assert media.storage.local_path(url[len("/media/") :]) is not None
    # Originals are not served in this mode: the real web server does that.
    assert call(app, path_of(media.url(photo))).status_int == 404


def test_concurrent_cold_requests_make_one_resize(app: MediaMiddleware, media: Media, photo: str) -> None:
    calls = count_resizes(media, delay=0.2)
    url = path_of(media.resize_url(photo, "160x120"))
    barrier = threading.Barrier(8)
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        res = call(app, url)
        with lock:
            results.append((res.status_int, res.body))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 8
    assert {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    assert calls == [1]


# --- production flow: S3 ---------------------------------------------------------


class S3Requests:
    """Every HTTP request the S3 client sends, as (method, path)."""

    def __init__(self, client: Any) -> None:
        self.sent: list[tuple[str, str]] = []
        client.meta.events.register("before-send.s3.*", self._record)

    def _record(self, request: Any, **kwargs: Any) -> None:
        self.sent.append((request.method, request.url))


@pytest.fixture
def s3_media(s3_storage: S3Storage, secret: str) -> Media:
    return Media(s3_storage, secret_key=secret)


def test_s3_cold_resize_redirects_and_stores(
    host: Host, s3_media: Media, s3_client: Any, s3_bucket: str, moto_endpoint: str
) -> None:
    photo = s3_media.put(jpeg(640, 480), filename="photo.jpg")
    app = MediaMiddleware(host, s3_media, prefix="/media/")
    url = s3_media.resize_url(photo, "200x150", format="webp")
    key = url[len(s3_media.storage.base_url) :]
    assert url == f"{moto_endpoint}/{s3_bucket}/{key}"

    requests = S3Requests(s3_client)
    res = call(app, f"/media/{key}")
    assert res.status_int == 301
    assert res.headers["Location"] == url
    assert [m for m, _ in requests.sent] == ["HEAD", "GET", "PUT"]

    head = s3_client.head_object(Bucket=s3_bucket, Key=key)
    assert head["ContentType"] == "image/webp"
    body = s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    with Image.open(io.BytesIO(body)) as im:
        assert (im.format, im.size) == ("WEBP", (200, 150))

    requests.sent.clear()
    again = call(app, f"/media/{key}")
    assert again.status_int == 301 and again.headers["Location"] == url
    assert [m for m, _ in requests.sent] == ["HEAD"]


def test_s3_forged_and_unknown_are_404_without_s3_requests(host: Host, s3_media: Media, s3_client: Any) -> None:
    photo = s3_media.put(jpeg(64, 48), filename="p.jpg")
    app = MediaMiddleware(host, s3_media)
    key = s3_media.resize_url(photo, "20x20")[len(s3_media.storage.base_url) :]
    requests = S3Requests(s3_client)
    for bad in tamper("/media/" + key):
        assert call(app, bad).status_int == 404
    assert requests.sent == []
    # Originals live on S3 itself: the app never serves them.
    assert call(app, "/media/" + s3_media.url(photo)[len(s3_media.storage.base_url) :]).status_int == 404


def test_s3_original_missing_is_404(host: Host, s3_media: Media) -> None:
    photo = s3_media.put(jpeg(64, 48), filename="p.jpg")
    key = s3_media.resize_url(photo, "20x20")[len(s3_media.storage.base_url) :]
    s3_media.delete(photo)
    res = call(MediaMiddleware(host, s3_media), "/media/" + key)
    assert res.status_int == 404 and res.body == b"Not found"


def test_s3_unreachable_is_503(host: Host, secret: str, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = S3Storage(
        "offline-bucket",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        connect_timeout=1,
        read_timeout=1,
        max_attempts=1,
    )
    media = Media(storage, secret_key=secret)
    key = media.resize_url("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", "50x50")[len(storage.base_url) :]
    with caplog.at_level(logging.WARNING, logger="s3media_wsgi"):
        res = call(MediaMiddleware(host, media), "/media/" + key)
    assert res.status_int == 503
    assert res.headers["Retry-After"] == "5"
    assert res.body == b"Storage unavailable, try again shortly"
    assert str(port).encode() not in res.body
    assert any(r.levelno >= logging.WARNING for r in caplog.records)


# --- no client input reaches a 500 -----------------------------------------------


@pytest.fixture
def fuzz_target(app: MediaMiddleware, media: Media, photo: str) -> tuple[MediaMiddleware, str, set[str]]:
    resize = media.resize_url(photo, "32x24")
    assert call(app, resize).status_int == 200
    served = {media.url(photo), resize}
    return app, resize, served


def mutations(base: str) -> st.SearchStrategy[str]:
    """A real media path with random text inserted, replaced or cut."""
    return st.builds(
        lambda i, j, text: base[:i] + text + base[j:],
        st.integers(0, len(base)),
        st.integers(0, len(base)),
        st.text(max_size=8),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_paths_never_500(data: st.DataObject, fuzz_target: tuple[MediaMiddleware, str, set[str]]) -> None:
    app, resize, served = fuzz_target
    tail = data.draw(
        st.one_of(
            st.text(),
            st.binary().map(lambda b: b.decode("latin-1")),
            mutations(resize[len("/media/") :]),
        )
    )
    path = "/media/" + tail
    res = call(app, path)
    assert res.status_int != 500
    if res.status_int == 200:
        assert path in served
    else:
        assert res.status_int in (404, 413, 422)
