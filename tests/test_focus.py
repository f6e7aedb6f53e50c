"""A crop's focus: its one spelling in variant names, the API that builds it, and hostile values."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware
from s3media_wsgi.errors import ConfigError, InvalidPath, InvalidResize
from s3media_wsgi.ids import MediaId, MediaInfo
from s3media_wsgi.imaging import layout, stored_point, upright_point
from s3media_wsgi.settings import parse_settings
from s3media_wsgi.variants import Presets, ResizeSpec, normalise_focus, parse_variant

SECRET = "focus-secret-0123456789-abcdefghijklmn"
ID = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
SIG = "0" * 32


def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host"]


@pytest.fixture
def media(tmp_path: Path) -> Media:
    presets = {
        "avatar": {"size": "200x200", "mode": "fill", "focus": "auto"},
        "card": {"size": "320x180", "mode": "fill"},
        "wide": {"size": "640x"},
    }
    return Media(LocalStorage(tmp_path, base_url="/media/"), secret_key=SECRET, presets=presets)


# --- the grammar ---------------------------------------------------------------------------------


def test_a_spec_without_focus_keeps_its_name_and_signed_message() -> None:
    spec = ResizeSpec(400, 300, "fill", 85, False, "webp")
    assert spec.stem == "400x300-fill-85-noupscale"
    assert spec.message(ID) == f"s3media-resize\n{ID}\n400x300-fill-85-noupscale\nwebp"
    assert parse_variant(spec.variant(SIG)) == (spec, SIG)


@pytest.mark.parametrize(
    ("focus", "segment"),
    [((25, 40), "-f25x40"), ((0, 100), "-f0x100"), ((100, 0), "-f100x0"), ("auto", "-fauto"), ("faces", "-ffaces")],
)
def test_each_focus_has_one_segment_before_the_signature(focus: Any, segment: str) -> None:
    spec = ResizeSpec(300, 300, "fill", 85, False, "jpg", focus)
    variant = spec.variant(SIG)
    assert variant == f"300x300-fill-85-noupscale{segment}-{SIG}.jpg"
    assert parse_variant(variant) == (spec, SIG)
    assert segment in spec.message(ID)  # signed: a focus cannot be changed in a URL


@pytest.mark.parametrize(
    "variant",
    [
        "300x300-fill-85-noupscale-f50x50",  # the centre has no segment
        "300x300-fill-85-noupscale-f025x40",
        "300x300-fill-85-noupscale-f25x040",
        "300x300-fill-85-noupscale-f101x0",
        "300x300-fill-85-noupscale-f25.5x40",
        "300x300-fill-85-noupscale-f25x",
        "300x300-fill-85-noupscale-fx40",
        "300x300-fill-85-noupscale-f-25x40",
        "300x300-fill-85-noupscale-fAUTO",
        "300x300-fill-85-noupscale-fcentre",
        "300x300-fill-85-noupscale-f",
        "300x300-fill-85-noupscale-f25x40-f25x40",
        "300x300-fill-85-noupscale-fauto-ffaces",
        "300x300-fit-85-noupscale-f25x40",  # a fit has no crop to place
        "300x-fit-85-noupscale-fauto",
        "300x300-fill-85-f25x40-noupscale",  # out of order
        "300x300-fill-85-noupscale-f" + "9" * 5000,
    ],
)
def test_any_other_spelling_is_refused(variant: str) -> None:
    with pytest.raises(InvalidPath):
        parse_variant(f"{variant}-{SIG}.jpg")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("centre", None),
        ("center", None),
        (" Auto ", "auto"),
        ("faces", "faces"),
        ((0.25, 0.4), (25, 40)),
        ([0, 1], (0, 100)),
        ((0.5, 0.5), None),
        ((0.504, 0.496), None),  # rounds to the centre: the same stored object
        ((0.255, 0.125), (26, 13)),  # halves up, never to even
        ("0.333,0.25", (33, 25)),
        ("1,0", (100, 0)),
    ],
)
def test_normalise_focus(value: Any, expected: Any) -> None:
    assert normalise_focus(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        (1.01, 0.5),
        (-0.01, 0.5),
        (math.nan, 0.5),
        (0.5, math.inf),
        (-math.inf, 0.5),
        (True, 0.5),
        ("0.3", "0.4"),
        (0.1, 0.2, 0.3),
        (0.1,),
        "nan,0.5",
        "inf,0",
        "1e999,0",
        "0.3;0.4",
        "0.3,0.4,0.5",
        "left",
        "",
        "x" * 10_000_000,
        b"0.3,0.4",
        0.5,
        {"x": 0.3, "y": 0.4},
    ],
)
def test_hostile_focus_values_are_invalid_resizes(value: Any, media: Media) -> None:
    with pytest.raises(InvalidResize):
        normalise_focus(value)
    with pytest.raises(InvalidResize):
        media.resize_url(ID, "300x300", mode="fill", focus=value)


def test_a_spec_built_by_hand_must_be_canonical() -> None:
    for focus in [(50, 50), (101, 0), (0.25, 0.4), "left", (True, 1)]:
        with pytest.raises(InvalidResize):
            ResizeSpec(300, 300, "fill", focus=focus).validate(4096)  # type: ignore[arg-type]
    with pytest.raises(InvalidResize, match="needs mode='fill'"):
        ResizeSpec(300, 300, "fit", focus=(10, 10)).validate(4096)


# --- building URLs -------------------------------------------------------------------------------


def test_resize_url_carries_the_focus_and_equal_crops_share_one_url(media: Media) -> None:
    centre = media.resize_url(ID, "300x300", mode="fill")
    assert "-fill-85-noupscale-f25x40-" in media.resize_url(ID, "300x300", mode="fill", focus=(0.25, 0.4))
    assert media.resize_url(ID, "300x300", mode="fill", focus=(0.251, 0.399)) == media.resize_url(
        ID, "300x300", mode="fill", focus="0.25,0.4"
    )
    for same in [None, "centre", (0.5, 0.5), [0.5, 0.5]]:
        assert media.resize_url(ID, "300x300", mode="fill", focus=same) == centre
    assert "-fauto-" in media.resize_url(ID, "300x300", mode="fill", focus="auto")
    assert "-ffaces-" in media.resize_url(ID, "300x300", mode="fill", focus="faces")
    key = media.resize_key(ID, "300x300", mode="fill", focus=(0.25, 0.4))
    assert media.verify_resize(key)[1].focus == (25, 40)


def test_a_focus_with_fit_is_refused(media: Media) -> None:
    with pytest.raises(InvalidResize, match="needs mode='fill'"):
        media.resize_url(ID, "300x300", focus=(0.2, 0.2))
    with pytest.raises(InvalidResize, match="needs mode='fill'"):
        media.resize_url(ID, "wide", focus="auto")
    with pytest.raises(InvalidResize, match="needs mode='fill'"):
        media.picture(ID, sizes=[320], focus="auto")


def test_the_ids_info_focus_places_every_crop_unless_told_otherwise(media: Media) -> None:
    placed = MediaId(ID, 1000, 800, "image/jpeg", MediaInfo("image/jpeg", 1000, 1000, 800, focus=(0.1, 0.9)))
    assert "-f10x90-" in media.resize_url(placed, "300x300", mode="fill")
    assert "-f10x90-" in media.resize_url(placed, "avatar")  # over the preset's auto
    assert "-f10x90-" in media.resize_url(placed, "card")
    # Told otherwise: another point, a finder, or the centre.
    assert "-f30x30-" in media.resize_url(placed, "300x300", mode="fill", focus=(0.3, 0.3))
    assert "-fauto-" in media.resize_url(placed, "card", focus="auto")
    assert media.resize_url(placed, "300x300", mode="fill", focus=None) == media.resize_url(ID, "300x300", mode="fill")
    # A fit has no crop: the id's focus is not a reason to refuse it.
    assert media.resize_url(placed, "300x") == media.resize_url(ID, "300x")
    assert media.resize_url(placed, "wide") == media.resize_url(ID, "wide")
    # The same as what the id's info would say as JSON (a stored value).
    stored = MediaInfo(**{**placed.info.as_dict(), "focus": [0.1, 0.9]})  # type: ignore[union-attr, arg-type]
    assert media.resize_url(MediaId(ID, info=stored), "card") == media.resize_url(placed, "card")
    # And pictures: every crop of the srcset takes it.
    html = media.picture(placed, sizes=["320x180", "640x360"], mode="fill", formats=["jpg"])
    assert html.count("-f10x90-") == 3  # the two of the srcset, and the src
    assert "-f10x90-" not in media.picture(placed, sizes=["320x180"], mode="fill", formats=["jpg"], focus=None)


def test_a_bad_stored_focus_is_an_invalid_resize_not_a_crash(media: Media) -> None:
    for junk in [(2.0, 0.5), "somewhere", (math.nan, 0.1), "x" * 100_000]:
        bad = MediaId(ID, info=MediaInfo("image/jpeg", 10, focus=junk))  # type: ignore[arg-type]
        for _ in range(2):  # and never a cached answer
            with pytest.raises(InvalidResize):
                media.resize_url(bad, "300x300", mode="fill")
        assert media.resize_url(bad, "300x300", mode="fill", focus=None)  # told: the stored value is not read
        assert media.resize_url(bad, "300x") == media.resize_url(ID, "300x")  # a fit has nothing to place


def test_presets_take_a_focus_and_a_call_may_change_it(media: Media) -> None:
    assert "-200x200-fill-85-noupscale-fauto-" in "-" + media.resize_url(ID, "avatar").rsplit("/", 1)[1]
    assert "-fauto-" not in media.resize_url(ID, "avatar", focus=None)
    assert "-ffaces-" in media.resize_url(ID, "avatar", focus="faces")
    assert "-fauto-" not in media.resize_url(ID, "avatar", mode="fit")  # turned into a fit: nothing to place
    assert media.presets["avatar"]["focus"] == "auto"
    for bad in [
        {"size": "200x200", "focus": "auto"},  # a fit preset
        {"size": "200x200", "mode": "fill", "focus": "left"},
        {"size": "200x200", "mode": "fill", "focus": [2, 0]},
    ]:
        with pytest.raises(ConfigError, match="preset 'p'"):
            Presets({"p": bad})


def test_strict_presets_admit_a_focus_on_their_crops(tmp_path: Path) -> None:
    presets = {"avatar": {"size": "200x200", "mode": "fill"}}
    media = Media(LocalStorage(tmp_path, base_url="/media/"), secret_key=SECRET, presets=presets, strict_presets=True)
    placed = MediaId(ID, info=MediaInfo("image/jpeg", 10, focus=(0.2, 0.3)))
    for url in [media.resize_url(ID, "avatar", focus="faces"), media.resize_url(placed, "avatar")]:
        media_id, spec = media.verify_resize(url.removeprefix("/media/"))
        assert spec.focus in ("faces", (20, 30))
    with pytest.raises(InvalidResize):
        media.resize_url(ID, "avatar", quality=50, focus="auto")


def test_settings_read_a_presets_focus_in_every_spelling() -> None:
    presets = {
        "avatar": {"size": "300x300", "mode": "fill", "focus": "auto"},
        "hero": {"size": "1600x900", "mode": "fill", "focus": [0.5, 0.2]},
    }
    flask = parse_settings({"S3MEDIA_SECRET_KEY": SECRET, "S3MEDIA_PRESETS": presets}, prefix="S3MEDIA_")
    ini = parse_settings({"s3media.secret_key": SECRET, "s3media.presets": json.dumps(presets)}, prefix="s3media.")
    assert flask.presets == ini.presets == presets
    bad = {"avatar": {"size": "300x300", "mode": "fill", "focus": "nan,0"}}
    with pytest.raises(ConfigError, match="avatar"):
        parse_settings({"s3media.secret_key": SECRET, "s3media.presets": json.dumps(bad)}, prefix="s3media.")


# --- placing the crop ----------------------------------------------------------------------------


def test_a_crop_keeps_its_focus_as_near_its_centre_as_the_picture_allows() -> None:
    spec = ResizeSpec(100, 100, "fill", focus=(10, 50))
    assert layout(400, 200, spec).box == (0.0, 0.0, 200.0, 200.0)  # clamped at the left edge
    assert layout(400, 200, ResizeSpec(100, 100, "fill", focus=(60, 0))).box == (140.0, 0.0, 340.0, 200.0)
    assert layout(400, 200, ResizeSpec(100, 100, "fill", focus=(100, 100))).box == (200.0, 0.0, 400.0, 200.0)
    # Too small and no upscale: the region is cut at its own size, still placed.
    assert layout(80, 40, ResizeSpec(100, 100, "fill", focus=(0, 0))).box == (0.0, 0.0, 40.0, 40.0)
    assert layout(80, 40, ResizeSpec(100, 100, "fill", focus=(90, 0))).box == (40.0, 0.0, 80.0, 40.0)
    # A point at the centre is the centred crop exactly.
    for size in [(401, 203), (203, 401), (1000, 999)]:
        centred = ResizeSpec(100, 100, "fill", upscale=True)
        assert layout(*size, centred, focus=(0.5, 0.5)) == layout(*size, centred)


@pytest.mark.parametrize("turn", range(1, 9))
def test_a_point_of_the_upright_picture_is_found_in_the_stored_one(turn: int) -> None:
    from s3media_wsgi.imaging import _UPRIGHT

    stored = Image.new("L", (40, 24), 0)
    stored.putpixel((9, 3), 255)
    upright = stored.transpose(_UPRIGHT[turn]) if turn in _UPRIGHT else stored
    box = upright.getbbox()
    assert box is not None
    point = ((box[0] + 0.5) / upright.width, (box[1] + 0.5) / upright.height)
    assert upright_point((9.5 / 40, 3.5 / 24), turn) == pytest.approx(point)
    assert stored_point(point, turn) == pytest.approx((9.5 / 40, 3.5 / 24))


def _disc_photo(size: tuple[int, int], centre: tuple[int, int], radius: int, orientation: int = 1) -> bytes:
    im = Image.new("RGB", size, (200, 205, 210))
    x, y = centre
    ImageDraw.Draw(im).ellipse((x - radius, y - radius, x + radius, y + radius), fill=(230, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92, exif=exif.tobytes())
    return buf.getvalue()


def _red_box(data: bytes) -> tuple[tuple[int, int], tuple[int, int, int, int] | None]:
    out = Image.open(io.BytesIO(data)).convert("RGB")
    r, g, _ = out.split()
    red = Image.eval(r, lambda v: 255 if v > 150 else 0)
    not_grey = Image.eval(g, lambda v: 255 if v < 100 else 0)
    from PIL import ImageChops

    return out.size, ImageChops.multiply(red, not_grey).getbbox()


@pytest.mark.parametrize("turn", [1, 3, 6, 8])
def test_a_stored_point_places_the_crop_of_a_turned_photo(media: Media, turn: int) -> None:
    # Stored turned: where the disc is in the upright picture is what the point says.
    stored_size = (600, 400)
    data = _disc_photo(stored_size, (60, 340), 40, turn)
    media_id = media.put(data, filename="turned.jpg")
    upright = (media_id.width, media_id.height)
    w, h = stored_size
    disc = upright_point((60 / w, 340 / h), turn)
    wide, tall = (300, 100), (100, 300)
    for box in (wide, tall):
        size = f"{box[0]}x{box[1]}"
        centred = media.fetch_resize(media.resize_key(media_id, size, mode="fill"))[1]
        placed = media.fetch_resize(media.resize_key(media_id, size, mode="fill", focus=disc))[1]
        found = media.fetch_resize(media.resize_key(media_id, size, mode="fill", focus="auto"))[1]
        for data_out in (placed, found):
            out_size, red = _red_box(data_out)
            assert out_size == box and red is not None, (upright, size)
            assert red[0] > 0 and red[1] > 0 and red[2] < box[0] and red[3] < box[1], (red, size)  # whole
        if upright[0] > upright[1] and box == tall or upright[1] > upright[0] and box == wide:
            assert _red_box(centred)[1] is None  # the centre crop loses it


@pytest.mark.parametrize("delivery", ["serve", "local"])
def test_routes_answer_a_placed_crop_and_404_hostile_variants(tmp_path: Path, delivery: str) -> None:
    media = Media(LocalStorage(tmp_path, base_url="/media/"), secret_key=SECRET, resize_base_url="/media/")
    app = MediaMiddleware(host, media, delivery="serve") if delivery == "serve" else MediaMiddleware(host, media)
    media_id = media.put(_disc_photo((640, 320), (60, 160), 40), filename="disc.jpg")
    for focus in ["auto", "faces", (0.1, 0.5)]:
        url = media.resize_url(media_id, "160x160", mode="fill", focus=focus)
        response = Request.blank(url).get_response(app)
        assert response.status_int == 200, (focus, response.status)
        size, red = _red_box(response.body)
        assert size == (160, 160) and red is not None and red[0] > 0, focus
    good = media.resize_url(media_id, "160x160", mode="fill", focus=(0.1, 0.5))
    signature = good.rsplit("-", 1)[1]
    # (A percent-encoded path is the same path once decoded, as WSGI gives it: not another spelling.)
    base = f"/media/{media_id}/160x160-fill-85-noupscale"
    for hostile in [
        good.replace("-f10x50-", "-f11x50-"),  # signed for another point
        good.replace("-f10x50-", "-f010x50-"),
        good.replace("-f10x50-", "-f50x50-"),
        good.replace("-f10x50-", "-fnanxinf-"),
        good.replace("-f10x50-", "-f" + "1" * 100_000 + "x1-"),
        good.replace("-f10x50-", "-f1e9x1-"),
        good.replace("-f10x50-", "-f0.1x0.5-"),
        good.replace("-f10x50-", "-f10x50-f10x50-"),
        good.replace("fill", "fit"),
        f"{base}-f10x50-{signature}".replace(".jpg", ".JPG"),
        f"{base}-F10x50-{signature}",
        f"{base}-f10X50-{signature}",
        f"{base}-f10x50--{signature}",
    ]:
        response = Request.blank(hostile).get_response(app)
        assert response.status_int == 404, (hostile[:120], response.status)


@pytest.mark.parametrize("delivery", ["website", "serve", "private"])
def test_every_delivery_mode_makes_placed_crops_from_their_urls(
    moto_endpoint: str, s3_bucket: str, s3_client: Any, delivery: str
) -> None:
    from s3media_wsgi import S3Storage

    private = delivery == "private"
    storage = S3Storage(
        s3_bucket,
        region="us-east-1",
        endpoint_url=moto_endpoint,
        private=private,
        base_url=None if private else f"{moto_endpoint}/{s3_bucket}/",
    )
    media = Media(storage, secret_key=SECRET, resize_base_url=None if delivery == "website" else "/media/")
    app = MediaMiddleware(host, media, delivery=delivery)
    media_id = media.put(_disc_photo((640, 320), (580, 60), 40), filename="disc.jpg")
    expected_status = {"website": 301, "serve": 200, "private": 302}[delivery]
    for focus in ["auto", (0.9, 0.2)]:
        key = media.resize_key(media_id, "120x120", mode="fill", focus=focus)
        response = Request.blank(f"/media/{key}").get_response(app)
        assert response.status_int == expected_status, (delivery, focus, response.status)
        stored = s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        size, red = _red_box(stored)
        assert size == (120, 120) and red is not None and red[2] < 120, (delivery, focus, red)
        hostile = key.replace("-fill-85-noupscale-f", "-fill-85-noupscale-f0")
        assert Request.blank(f"/media/{hostile}").get_response(app).status_int == 404
    centred = media.resize_key(media_id, "120x120", mode="fill")
    assert Request.blank(f"/media/{centred}").get_response(app).status_int == expected_status
    assert _red_box(s3_client.get_object(Bucket=s3_bucket, Key=centred)["Body"].read())[1] is None  # lost


def test_an_eager_preset_makes_its_placed_crop_after_the_upload(tmp_path: Path) -> None:
    presets = {"avatar": {"size": "100x100", "mode": "fill", "focus": "auto", "eager": True}}
    media = Media(
        LocalStorage(tmp_path, base_url="/media/"), secret_key=SECRET, presets=presets, enqueue=lambda job: None
    )
    media_id = media.put(_disc_photo((640, 320), (60, 260), 40), filename="disc.jpg")
    (key,) = media.make_eager(media_id)
    assert key == media.resize_key(media_id, "avatar") and "-fauto-" in key
    size, red = _red_box(media.storage.get(key))
    assert size == (100, 100) and red is not None and red[0] > 0 and red[3] < 100


def test_a_stored_values_focus_places_its_crops(media: Media) -> None:
    placed = MediaId(ID, 1000, 800, "image/jpeg", MediaInfo("image/jpeg", 1000, 1000, 800, focus=(0.1, 0.9)))
    stored = placed.stored
    assert ";f=" in stored
    assert media.resize_url(stored, "card") == media.resize_url(placed, "card") and "-f10x90-" in media.resize_url(
        stored, "card"
    )
    assert media.resize_url(stored, "card", focus=None) == media.resize_url(ID, "card")
    assert media.resize_spec(stored, "card").focus == (10, 90)
    html = media.picture(stored, sizes=["320x180"], mode="fill", formats=["jpg"])
    assert html.count("-f10x90-") == 2


def test_the_focus_segment_comes_before_a_page_and_a_frame() -> None:
    spec = ResizeSpec(300, 300, "fill", 85, False, "jpg", (25, 40), page=2, frame=1.5)
    assert spec.variant(SIG) == f"300x300-fill-85-noupscale-f25x40-p2-t1.5-{SIG}.jpg"
    assert parse_variant(spec.variant(SIG)) == (spec, SIG)
    with pytest.raises(InvalidPath):
        parse_variant(f"300x300-fill-85-noupscale-p2-f25x40-{SIG}.jpg")
