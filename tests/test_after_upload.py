"""After an upload: the app's ``on_confirm`` hook and eager presets, through the real routes.

The upload routes are served by waitress (``serve_wsgi``) and files are sent
as a browser sends them: to the local form route, or straight to S3 (moto).
"""

from __future__ import annotations

import io
import logging
import math
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin

import pytest
import requests
from images import png
from PIL import Image, ImageChops
from servers import serve_wsgi

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage, ids
from s3media_wsgi.direct_uploads import ConfirmedUpload
from s3media_wsgi.errors import ConfigError, ImageTooLarge, NotAnImage, UploadRefusedByApp
from s3media_wsgi.imaging import ImageEngine, ImageLimits, Rendered
from s3media_wsgi.variants import ResizeSpec

SECRET = "after-upload-secret-0123456789-abcdefgh"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
EICAR = b"X5O!P%@AP"  # what the test's "virus scanner" looks for


def photo(width: int, height: int) -> bytes:
    """A photo-like JPEG: smooth gradients and fine detail, so drafts and filters show."""
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    im = Image.blend(im, noise, 0.3)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host"]


class Scanner:
    """An app's on_confirm hook: refuses what carries EICAR, records what it saw; may be made to crash."""

    def __init__(self) -> None:
        self.seen: list[tuple[ConfirmedUpload, bytes]] = []
        self.crash = False

    def __call__(self, upload: ConfirmedUpload) -> None:
        data = upload.read()
        self.seen.append((upload, data))
        if self.crash:
            raise RuntimeError("the scanner's own bug")
        if EICAR in data:
            raise UploadRefusedByApp("This file carries a virus: it was not kept.")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "local":
        return LocalStorage(str(tmp_path / "media"), base_url="/media/")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(bucket, region="us-east-1", endpoint_url=endpoint)


@pytest.fixture
def scanner() -> Scanner:
    return Scanner()


@pytest.fixture
def served(storage: Any, scanner: Scanner) -> Iterator[tuple[str, Media]]:
    media = Media(storage, secret_key=SECRET, on_confirm=scanner)
    app = MediaMiddleware(host, media, uploads=lambda request: True)
    with serve_wsgi(app, threads=4) as url:
        yield url, media


def send(base: str, data: bytes, filename: str, kind: str) -> str:
    """A browser's upload through the routes: params, then the form POST (local route or S3); its key."""
    params = requests.get(f"{base}/media/s3/params?filename={filename}&type={quote(kind, safe='')}", timeout=30)
    assert params.status_code == 200, params.text
    form = params.json()
    sent = requests.post(urljoin(base, form["url"]), data=form["fields"], files={"file": (filename, data)}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    return str(form["fields"]["key"])


def confirm(base: str, key: str) -> requests.Response:
    return requests.post(f"{base}/media/s3/confirm", json={"key": key}, timeout=30)


def pending_exists(media: Media, key: str) -> bool:
    return bool(media.storage.exists(key))


@pytest.mark.parametrize(
    ("filename", "kind", "data"), [("a.png", "image/png", png(24, 16)), ("a.pdf", "application/pdf", PDF)]
)
def test_an_accepted_upload_is_published_after_the_hook_saw_the_checked_bytes(
    served: tuple[str, Media], scanner: Scanner, filename: str, kind: str, data: bytes
) -> None:
    base, media = served
    key = send(base, data, filename, kind)
    answer = confirm(base, key)
    assert answer.status_code == 200, answer.text
    media_id = answer.json()["id"]
    assert media.get(media_id) == data and not pending_exists(media, key)
    [(upload, seen)] = scanner.seen
    assert (upload.media_id, upload.content_type, upload.size, seen) == (media_id, kind, len(data), data)
    if kind == "image/png":
        assert (upload.width, upload.height, upload.staged_key) == (24, 16, None)
    else:
        assert upload.staged_key is not None and upload.staged_key.startswith("uploads/")
        assert not media.storage.exists(upload.staged_key)  # the staged copy went after the publish


def png_carrying(marker: bytes) -> bytes:
    """A PNG with *marker* in a chunk the metadata cleaning keeps (a suggested palette's name, ``sPLT``).

    (Bytes after ``IEND`` would not do: they are not stored, so the hook, which sees what is
    published, never sees them.)
    """
    data = png(24, 16)
    body = marker + b"\x00" + b"\x08" + bytes([255, 0, 0, 255, 0, 1])
    chunk = struct.pack(">I", len(body)) + b"sPLT" + body + struct.pack(">I", zlib.crc32(b"sPLT" + body))
    end_of_ihdr = 8 + 8 + 13 + 4
    return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]


def test_the_hook_sees_the_bytes_that_are_published(served: tuple[str, Media], scanner: Scanner) -> None:
    base, media = served
    key = send(base, png(24, 16) + EICAR, "t.png", "image/png")  # trailing bytes: not part of the picture
    answer = confirm(base, key)
    assert answer.status_code == 200, answer.text
    [(_, seen)] = scanner.seen
    assert seen == media.get(answer.json()["id"]) and EICAR not in seen


@pytest.mark.parametrize(
    ("filename", "kind", "data"),
    [("v.png", "image/png", png_carrying(EICAR)), ("v.pdf", "application/pdf", PDF + EICAR)],
)
def test_a_refusal_deletes_the_pending_upload_and_shows_the_hooks_message(
    served: tuple[str, Media], filename: str, kind: str, data: bytes
) -> None:
    base, media = served
    key = send(base, data, filename, kind)
    answer = confirm(base, key)
    assert answer.status_code == 422
    assert answer.json() == {"error": "This file carries a virus: it was not kept."}
    media_id = key.removeprefix("uploads/")
    assert not pending_exists(media, key) and not media.exists(media_id)
    assert confirm(base, key).status_code == 404  # gone: nothing to confirm again


def test_a_hook_that_crashes_is_a_500_logged_with_its_traceback_and_the_upload_is_kept(
    served: tuple[str, Media], scanner: Scanner, caplog: pytest.LogCaptureFixture
) -> None:
    base, media = served
    key = send(base, png(8, 8), "c.png", "image/png")
    scanner.crash = True
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        answer = confirm(base, key)
    assert answer.status_code == 500
    assert "scanner" not in answer.text  # the app's bug is not shown to the uploader
    [record] = [r for r in caplog.records if "on_confirm hook failed" in r.getMessage()]
    assert record.exc_info is not None and "the scanner's own bug" in repr(record.exc_info[1].__cause__)
    assert pending_exists(media, key) and not media.exists(key.removeprefix("uploads/"))
    scanner.crash = False
    retried = confirm(base, key)  # fixed: the retry publishes it
    assert retried.status_code == 200 and media.exists(retried.json()["id"])


def test_put_does_not_run_the_hook(local_storage: LocalStorage, scanner: Scanner) -> None:
    media = Media(local_storage, secret_key=SECRET, on_confirm=scanner)
    media.put(png(8, 8) + EICAR)  # put is app code already: the app checks what it puts
    assert scanner.seen == []


# --- eager presets -----------------------------------------------------------------------------------

EAGER = {
    "card": {"size": "640x", "format": "webp", "eager": True},
    "thumb": {"size": "160x160", "mode": "fill", "eager": True},
    "hero": {"size": "1600x"},  # not eager: made on its first request only
}


def wait_for(media: Media, keys: list[str], seconds: float = 20.0) -> float:
    """Seconds until every key is stored (a bounded poll); fails after *seconds*."""
    started = time.perf_counter()
    while not all(media.storage.exists(key) for key in keys):
        assert time.perf_counter() - started < seconds, f"not all of {keys} stored within {seconds} s"
        time.sleep(0.01)
    return time.perf_counter() - started


def eager_keys(media: Media, media_id: str) -> list[str]:
    return [media.resize_key(media_id, name) for name in ("card", "thumb")]


def cold(media_id: str, key: str, storage: Any) -> bytes:
    """What a first request for *key* makes, by a Media with no eager preset."""
    plain = Media(
        storage, secret_key=SECRET, presets={k: {o: v for o, v in p.items() if o != "eager"} for k, p in EAGER.items()}
    )
    storage.delete(key)
    return plain.fetch_resize(key)[1]


def psnr(a: bytes, b: bytes) -> float:
    x, y = (Image.open(io.BytesIO(d)).convert("RGB") for d in (a, b))
    assert x.size == y.size
    diff = ImageChops.difference(x, y)
    mse = sum(v * v * n for band in diff.split() for v, n in enumerate(band.histogram())) / (x.size[0] * x.size[1] * 3)
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def test_the_eager_flag_changes_no_url(local_storage: LocalStorage) -> None:
    eager = Media(local_storage, secret_key=SECRET, presets=EAGER)
    plain = Media(
        local_storage,
        secret_key=SECRET,
        presets={k: {o: v for o, v in p.items() if o != "eager"} for k, p in EAGER.items()},
    )
    media_id = ids.new_id("a.jpg")
    assert eager.presets.eager == ("card", "thumb") and plain.presets.eager == ()
    for name in EAGER:
        assert eager.resize_url(media_id, name) == plain.resize_url(media_id, name)
    assert "eager" not in eager.presets["card"]


def test_after_put_the_eager_variants_are_stored_warm_from_one_decode(
    storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the source ladder, whose rungs would each be decoded once instead (tests/test_ladder.py).
    media = Media(storage, secret_key=SECRET, presets=EAGER, ladder=False)
    opened: list[int] = []
    real_open = media.engine._open
    monkeypatch.setattr(media.engine, "_open", lambda data: opened.append(len(data)) or real_open(data))
    media_id = media.put(photo(2400, 1600), filename="p.jpg")
    keys = eager_keys(media, media_id)
    wait_for(media, keys)
    assert len(opened) == 2  # put's check, then ONE decode for both eager presets
    assert not media.storage.exists(media.resize_key(media_id, "hero"))
    made = {key: media.storage.get(key) for key in keys}
    # resize_url finds them: a request answers the stored bytes, no new decode.
    assert media.fetch_resize(keys[0])[1] == made[keys[0]] and len(opened) == 2
    # card alone decides the draft scale, so it is what a cold request makes, byte for byte;
    # thumb is made from that finer draft than its own cold one: not worse than it.
    assert cold(media_id, keys[0], storage) == made[keys[0]]
    thumb_cold = cold(media_id, keys[1], storage)
    assert Image.open(io.BytesIO(made[keys[1]])).size == Image.open(io.BytesIO(thumb_cold)).size == (160, 160)
    assert psnr(made[keys[1]], thumb_cold) > 35


def test_after_a_confirm_through_the_route_the_eager_variants_are_stored(storage: Any) -> None:
    media = Media(storage, secret_key=SECRET, presets=EAGER)
    app = MediaMiddleware(host, media, uploads=lambda request: True)
    with serve_wsgi(app, threads=4) as base:
        key = send(base, photo(1200, 800), "c.jpg", "image/jpeg")
        answer = confirm(base, key)
        assert answer.status_code == 200, answer.text
        media_id = answer.json()["id"]
        wait_for(media, eager_keys(media, media_id))
        card = media.resize_key(media_id, "card")
        assert media.resize_url(media_id, "card").endswith(card)  # the key its URL names
        assert media.fetch_resize(card)[1] == media.storage.get(card)


def test_the_upload_is_not_delayed_and_a_failing_eager_resize_is_only_logged(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    media = Media(local_storage, secret_key=SECRET, presets=EAGER)
    release = threading.Event()
    real = media.engine.resize_many

    def slow(data: bytes, specs: Any) -> Any:
        release.wait(10)
        return real(data, specs)

    monkeypatch.setattr(media.engine, "resize_many", slow)
    started = time.perf_counter()
    media_id = media.put(photo(800, 600))
    assert time.perf_counter() - started < 1.0  # the eager work waits on `release`, the upload does not
    keys = eager_keys(media, media_id)
    assert not any(media.storage.exists(k) for k in keys)
    release.set()
    wait_for(media, keys)

    def broken(data: bytes, specs: Any) -> Any:
        raise RuntimeError("an encoder's bug")

    monkeypatch.setattr(media.engine, "resize_many", broken)
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        other = media.put(photo(800, 600))  # not raised to the uploader
        deadline = time.perf_counter() + 10
        while not any("failed" in r.getMessage() for r in caplog.records):
            assert time.perf_counter() < deadline
            time.sleep(0.01)
    assert "an encoder's bug" in repr(next(r for r in caplog.records if "failed" in r.getMessage()).exc_info)
    assert not any(media.storage.exists(k) for k in eager_keys(media, other))
    assert media.fetch_resize(eager_keys(media, other)[0])[1]  # its first request makes it, as any resize


def test_an_app_enqueue_gets_jobs_a_worker_runs_by_id(local_storage: LocalStorage) -> None:
    jobs: list[Any] = []
    media = Media(local_storage, secret_key=SECRET, presets=EAGER, enqueue=jobs.append)
    media_id = media.put(photo(800, 600))
    media.put(PDF, filename="doc.pdf")  # not an image: no job
    [job] = jobs
    assert job.media_id == media_id
    assert sorted(media.make_eager(job.media_id)) == sorted(eager_keys(media, media_id))  # the worker's side
    assert media.make_eager(media_id) == []  # made already: nothing again
    media.delete(media_id)  # deleted while a job of it waits in a queue: nothing to make, logged, no failure
    assert media.make_eager(media_id) == [] and media.make_eager("not/an/id") == []

    def down(job: Any) -> None:
        raise ConnectionError("broker down")

    media.enqueue = down
    assert media.put(photo(80, 60))  # the broker's failure is not the uploader's


def refuse_all(upload: ConfirmedUpload) -> None:
    raise UploadRefusedByApp("No uploads today.")


def test_settings_load_the_hook_and_enqueue_by_dotted_path(tmp_path: Any) -> None:
    media = Media.from_settings(
        {
            "secret_key": SECRET,
            "local_root": str(tmp_path),
            "on_confirm": "test_after_upload:refuse_all",
            "enqueue": "test_after_upload.Scanner",  # any callable; checked to be one
            "presets": '{"card": {"size": "64x", "eager": true}}',
        }
    )
    assert media.on_confirm is refuse_all and media.presets.eager == ("card",)
    with pytest.raises(ConfigError, match="on_confirm"):
        Media.from_settings(
            {"secret_key": SECRET, "local_root": str(tmp_path), "on_confirm": "test_after_upload:SECRET"}
        )
    with pytest.raises(ConfigError, match="eager"):
        Media(LocalStorage(str(tmp_path)), secret_key=SECRET, presets={"card": {"size": "64x", "eager": "yes"}})


def test_resize_many_gives_each_output_or_its_error_from_one_decode() -> None:
    engine = ImageEngine(ImageLimits(max_webp_pixels=100_000), max_concurrency=1)
    data = photo(1200, 900)
    specs = [
        ResizeSpec(400, None, "fit", 85, False, "jpg"),
        ResizeSpec(1000, None, "fit", 85, False, "webp"),  # 750,000 px: over this engine's webp budget
        ResizeSpec(100, 100, "fill", 85, False, "png"),  # lossless: never drafted, so nothing is
    ]
    first, over, small = engine.resize_many(data, specs)
    assert isinstance(over, ImageTooLarge)
    assert isinstance(first, Rendered) and (first.width, first.height) == (400, 300)
    assert isinstance(small, Rendered) and first.data == engine.resize(data, specs[0]).data  # full decode both ways
    assert small.data == engine.resize(data, specs[2]).data
    with pytest.raises(NotAnImage):
        engine.resize_many(b"\xff\xd8\xff not a jpeg", specs)
    # An animation keeps its frames: made by resize on its own (after the shared decode's slot is free).
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    gif = out.getvalue()
    animated, still = engine.resize_many(
        gif, [ResizeSpec(20, None, "fit", 85, False, "gif"), ResizeSpec(20, None, "fit", 85, False, "jpg")]
    )
    assert isinstance(animated, Rendered) and Image.open(io.BytesIO(animated.data)).n_frames == 3
    assert (
        isinstance(still, Rendered)
        and still.data == engine.resize(gif, ResizeSpec(20, None, "fit", 85, False, "jpg")).data
    )
