"""Resizing in bands: the same picture as one Pillow call, on several threads, never waiting on a busy pool."""

from __future__ import annotations

import math
import multiprocessing
import threading
from concurrent.futures import Future

import images
import pytest
from PIL import Image, ImageChops, ImageStat

from s3media_wsgi import bands

LANCZOS, BICUBIC = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC


def psnr(a: Image.Image, b: Image.Image) -> float:
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    mse = sum(stat.sum2) / (stat.count[0] * len(stat.count))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def row_error(a: Image.Image, b: Image.Image, y: int) -> float:
    return sum(
        ImageStat.Stat(ImageChops.difference(a.crop((0, y, a.width, y + 1)), b.crop((0, y, b.width, y + 1)))).mean
    )


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
@pytest.mark.parametrize(
    ("size", "box", "resample"),
    [
        ((400, 300), (0, 0, 1600, 1200), LANCZOS),
        ((399, 299), (0, 0, 1600, 1200), LANCZOS),
        ((300, 300), (200.5, 0, 1400.5, 1200), LANCZOS),  # fill: a centred square
        ((1220, 697), (55.09, 46.09, 1365.76, 850.9), LANCZOS),  # a scale near 1
        ((640, 480), (10.25, 7.75, 1590, 1190.5), BICUBIC),
    ],
)
def test_bands_make_the_picture_of_one_call(mode, size, box, resample):
    source = images.photo(1600, 1200).convert(mode)
    whole = source.resize(size, resample, box=box)
    banded = bands.resize(source, size, resample, box, bands=2)
    assert bands.band_count((box[2] - box[0]) * (box[3] - box[1]), size[1], 2) == 2
    assert banded.mode == whole.mode and banded.size == whole.size
    if mode in ("RGBA", "LA"):
        # Compare what is filtered: colour premultiplied by alpha (at alpha 1/255 a unit is 255 units).
        whole, banded = whole.convert(mode[:-1] + "a"), banded.convert(mode[:-1] + "a")
    assert psnr(whole, banded) >= 50
    # No seam: the rows where the bands meet are as close as the rest.
    seam = size[1] // 2
    overall = sum(ImageStat.Stat(ImageChops.difference(whole, banded)).mean)
    assert max(row_error(whole, banded, y) for y in range(seam - 2, seam + 2)) <= max(4 * overall, 0.5)


def test_line_art_banded_is_the_same_to_the_eye():
    source = Image.new("L", (1600, 1200), 255)
    for x in range(0, 1600, 7):
        source.paste(0, (x, 0, x + 1, 1200))
    for y in range(0, 1200, 5):
        source.paste(0, (0, y, 1600, y + 1))
    whole = source.resize((400, 300), LANCZOS)
    assert psnr(whole, bands.resize(source, (400, 300), LANCZOS, (0, 0, 1600, 1200), bands=2)) >= 50


@pytest.mark.parametrize(
    ("size", "box", "why"),
    [
        ((100, 75), (0, 0, 400, 300), "small"),
        ((2000, 1500), (0, 0, 1600, 1200), "upscale"),
        ((100, 75), (0, 0, 1600, 1200), "reduce() first"),
    ],
)
def test_one_call_where_bands_do_not_pay(monkeypatch, size, box, why):
    calls = []
    monkeypatch.setattr(bands, "_band", lambda *a: calls.append(a))
    source = images.photo(int(box[2]), int(box[3]))
    out = bands.resize(source, size, LANCZOS, box, reducing_gap=4.0, bands=2)
    assert calls == [] and out.size == size


def test_bands_run_on_two_threads_at_once(monkeypatch):
    # The caller's band waits (5 s at most) for the helper's to start: it can only
    # finish in time if both run at the same moment.
    started = threading.Event()
    threads = set()
    real_band = bands._band

    def band(im, resample, width, scale, box, top, bottom):
        threads.add(threading.current_thread().name)
        if top == 0:
            assert started.wait(5), "the second band never ran beside the first"
        else:
            started.set()
        return real_band(im, resample, width, scale, box, top, bottom)

    monkeypatch.setattr(bands, "_band", band)
    source = images.photo(1600, 1200)
    out = bands.resize(source, (400, 300), LANCZOS, (0, 0, 1600, 1200), bands=2)
    assert len(threads) == 2 and any(name.startswith("s3media-band") for name in threads)
    assert psnr(out, source.resize((400, 300), LANCZOS)) >= 50


def test_a_busy_pool_is_not_waited_for():
    # Every helper is stuck on someone else's work: the caller does every band itself.
    release = threading.Event()
    pool = bands._executor()
    blockers: list[Future[bool]] = [pool.submit(release.wait, 10) for _ in range(bands.MAX_BANDS - 1)]
    try:
        source = images.photo(1600, 1200)
        out = bands.resize(source, (400, 300), LANCZOS, (0, 0, 1600, 1200), bands=2)
        assert not any(f.done() for f in blockers)  # it finished while the pool was still busy
        assert psnr(out, source.resize((400, 300), LANCZOS)) >= 50
    finally:
        release.set()


def _resize_in_child(conn) -> None:  # pragma: no cover - runs in a forked child
    out = bands.resize(images.photo(1600, 1200), (400, 300), LANCZOS, (0, 0, 1600, 1200), bands=2)
    conn.send(out.size)
    conn.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_forked_worker_gets_its_own_pool():
    # As under gunicorn: the parent's pool threads do not exist in the child.
    bands.resize(images.photo(1600, 1200), (400, 300), LANCZOS, (0, 0, 1600, 1200), bands=2)
    assert bands._pool is not None
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_resize_in_child, args=(child,))
    process.start()
    try:
        assert parent.poll(20), "the forked child's resize never finished"
        assert parent.recv() == (400, 300)
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
    assert process.exitcode == 0


def test_one_call_unless_bands_are_asked_for(monkeypatch):
    calls = []
    monkeypatch.setattr(bands, "_band", lambda *a: calls.append(a))
    out = bands.resize(images.photo(1600, 1200), (400, 300), LANCZOS, (0, 0, 1600, 1200))
    assert calls == [] and out.size == (400, 300)


def test_the_engine_resizes_in_bands_when_asked(monkeypatch):
    from s3media_wsgi.imaging import ImageEngine, ImageLimits
    from s3media_wsgi.variants import ResizeSpec

    counts = []
    real_resize = bands.resize

    def spy(im, size, resample, box, reducing_gap=None, bands=1):
        counts.append(bands)
        return real_resize(im, size, resample, box, reducing_gap, bands)

    monkeypatch.setattr(bands, "resize", spy)
    spec = ResizeSpec(400, 300, "fit", 85, False, "jpg")
    data = images.jpeg(1600, 1200)
    one = ImageEngine().resize(data, spec)
    two = ImageEngine(ImageLimits(resize_bands=2)).resize(data, spec)
    assert counts == [1, 2]
    assert (two.width, two.height) == (one.width, one.height) == (400, 300)


def test_helper_threads_stay_within_the_pool():
    # Four requests at once, each asking for eight bands: at most MAX_BANDS - 1 helpers exist.
    source = images.photo(1600, 1200)
    seen = set()

    def resize():
        bands.resize(source, (400, 300), LANCZOS, (0, 0, 1600, 1200), bands=8)
        seen.update(t.name for t in threading.enumerate() if t.name.startswith("s3media-band"))

    workers = [threading.Thread(target=resize) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert 1 <= len(seen) <= bands.MAX_BANDS - 1
