"""Finding the subject: the attention measure, the face finder and its fallback, through the engine."""

from __future__ import annotations

import io
import logging
import sys

import images
import pytest
from PIL import Image, ImageDraw

from s3media_wsgi import attention
from s3media_wsgi.imaging import ImageEngine, layout
from s3media_wsgi.variants import ResizeSpec

#: The crops of the goal: 1:1, 16:9 and 9:16.
CROPS = ((240, 240), (320, 180), (180, 320))


def _inside(box: tuple[float, float, float, float], crop: tuple[float, float, float, float]) -> bool:
    return box[0] >= crop[0] - 1 and box[1] >= crop[1] - 1 and box[2] <= crop[2] + 1 and box[3] <= crop[3] + 1


def test_the_subject_stays_in_auto_crops_of_every_shape_and_not_in_centred_ones() -> None:
    # The goal of benchmarks/bench_focus.py, smaller: seeded scenes through the engine's real resize.
    engine = ImageEngine(max_concurrency=1)
    kept = {"auto": 0, "centre": 0}
    total = 0
    for seed in range(24):
        size = (720, 480) if seed % 2 else (480, 720)
        scene, subject = images.salient_scene(seed, *size)
        data = images.encode(scene, "JPEG", quality=90)
        for w, h in CROPS:
            total += 1
            for name, focus in (("auto", "auto"), ("centre", None)):
                spec = ResizeSpec(w, h, "fill", 85, False, "jpg", focus)
                out = engine.resize(data, spec)
                assert (out.width, out.height) == (w, h)
                assert (out.focus is None) == (focus is None)
                kept[name] += _inside(subject, layout(*size, spec, focus=out.focus).box)
    assert kept["auto"] / total >= 0.95, kept
    assert kept["centre"] / total <= 0.75, kept  # what the goal is measured against: centre crops lose it


def _disc(size: tuple[int, int], centre: tuple[int, int], mode: str = "RGB") -> Image.Image:
    im = Image.new("RGB", size, (190, 200, 210))
    x, y = centre
    ImageDraw.Draw(im).ellipse((x - 12, y - 12, x + 12, y + 12), fill=(240, 30, 30))
    return im.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I;16", "CMYK", "YCbCr"])
def test_attention_reads_every_mode(mode: str) -> None:
    x, y = attention.attention_point(_disc((300, 200), (40, 150), mode))
    if mode == "1":
        assert 0 <= x <= 1 and 0 <= y <= 1  # a bilevel disc may vanish: a point all the same
    else:
        assert x == pytest.approx(40 / 300, abs=0.05) and y == pytest.approx(150 / 200, abs=0.05)


@pytest.mark.parametrize("size", [(1, 1), (1, 500), (500, 1), (2, 2), (3, 7)])
def test_attention_of_tiny_or_flat_pictures_is_a_point_inside(size: tuple[int, int]) -> None:
    for im in (Image.new("RGB", size, "white"), Image.effect_noise(size, 60)):
        x, y = attention.attention_point(im)
        assert 0 <= x <= 1 and 0 <= y <= 1
    assert attention.attention_point(Image.new("RGB", (300, 200), (10, 120, 200))) == (0.5, 0.5)


def test_many_resizes_from_one_decode_place_auto_crops_as_one_does() -> None:
    engine = ImageEngine(max_concurrency=1)
    data = images.encode(_disc((1200, 800), (150, 600)), "JPEG", quality=90)
    specs = [
        ResizeSpec(200, 200, "fill", 85, False, "jpg", "auto"),
        ResizeSpec(100, 300, "fill", 85, False, "webp", "auto"),
    ]
    many = engine.resize_many(data, specs)
    for spec, made in zip(specs, many):
        assert not isinstance(made, Exception)
        alone = engine.resize(data, spec)
        assert made.focus == pytest.approx(alone.focus, abs=0.03)  # drafted to another scale: nearly the same point
        assert made.focus == pytest.approx((150 / 1200, 600 / 800), abs=0.04)


def test_an_animations_crop_is_placed_by_its_first_frame() -> None:
    frames = [_disc((300, 200), (40 + i, 100)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    out = ImageEngine(max_concurrency=1).resize(buf.getvalue(), ResizeSpec(100, 100, "fill", 85, False, "gif", "auto"))
    assert out.focus == pytest.approx((40 / 300, 0.5), abs=0.05)
    with Image.open(io.BytesIO(out.data)) as im:
        assert im.n_frames == 3
        for index in range(3):
            im.seek(index)
            red = im.convert("RGB").getchannel("G").point(lambda v: 255 if v < 80 else 0)
            assert red.getbbox() is not None and red.getbbox()[0] > 0  # type: ignore[index]


def _astronaut() -> bytes:
    from skimage import data

    return images.encode(Image.fromarray(data.astronaut()), "JPEG", quality=92)


def test_faces_finds_the_astronauts_face() -> None:
    # scikit-image's astronaut (Eileen Collins, NASA, public domain): the face is at about (0.47, 0.22).
    point = attention.Faces().find(Image.open(io.BytesIO(_astronaut())))
    assert point is not None
    assert point == pytest.approx((0.47, 0.22), abs=0.06)
    engine = ImageEngine(max_concurrency=1)
    face = (0.38 * 512, 0.12 * 512, 0.56 * 512, 0.33 * 512)
    spec = ResizeSpec(320, 180, "fill", 85, False, "jpg", "faces")
    made = engine.resize(_astronaut(), spec)
    assert _inside(face, layout(512, 512, spec, focus=made.focus).box)  # type: ignore[arg-type]
    centred = ResizeSpec(320, 180, "fill", 85, False, "jpg")
    assert not _inside(face, layout(512, 512, centred).box)  # type: ignore[arg-type]


def test_faces_without_the_extra_is_auto_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError, as without the extra
    faces = attention.Faces()
    monkeypatch.setattr(attention, "_faces", faces)
    monkeypatch.setitem(attention.FINDERS, "faces", (faces, attention.Attention()))
    im = _disc((300, 200), (250, 40))
    with caplog.at_level(logging.INFO, "s3media_wsgi"):
        points = [attention.find_point(im, "faces") for _ in range(3)]
    assert points == [attention.attention_point(im)] * 3
    said = [r for r in caplog.records if "falls back to 'auto'" in r.getMessage()]
    assert len(said) == 1 and "s3media-wsgi[faces]" in said[0].getMessage() and said[0].levelno == logging.WARNING


def test_faces_that_finds_none_is_auto() -> None:
    im = _disc((300, 200), (250, 40))
    assert attention.find_point(im, "faces") == attention.attention_point(im)
