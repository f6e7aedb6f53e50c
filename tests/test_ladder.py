"""The source ladder: made in the upload pass, read by cold resizes, never served, gone with the original."""

from __future__ import annotations

import fnmatch
import io
import json
import logging
import math

import images
import pytest
from PIL import Image, ImageChops, ImageStat

from s3media_wsgi import LocalStorage, Media, ids
from s3media_wsgi.bucket import INTERNAL_KEYS, bucket_arn, bucket_policy, cdn_read_statements
from s3media_wsgi.imaging import LADDER_SHARE, ImageEngine, Original, rung_sizes
from s3media_wsgi.ladder import MANIFEST, Manifest, Rung, choose, factor
from s3media_wsgi.responder import MediaResponder
from s3media_wsgi.settings import parse_settings
from s3media_wsgi.storage.base import list_keys
from s3media_wsgi.uploads import PENDING_PREFIX
from s3media_wsgi.variants import ResizeSpec

SECRET = "ladder-secret-0123456789-abcdefghijklm"


def photo_jpeg(width: int = 1600, height: int = 1200, **params) -> bytes:
    return images.encode(images.photo(width, height), "JPEG", quality=90, **params)


def rgba_png(width: int = 1200, height: int = 1000) -> bytes:
    im = images.photo(width, height).convert("RGBA")
    im.putalpha(Image.radial_gradient("L").resize((width, height)))
    return images.encode(im, "PNG")


def internal_keys(storage, media_id: str) -> list[str]:
    return sorted(k for k in list_keys(storage, ids.key_prefix(media_id)) if ids.is_internal_key(k))


def manifest_of(storage, media_id: str) -> Manifest:
    return Manifest.parse(storage.get(ids.internal_key(media_id, MANIFEST)))


def psnr(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert(b.mode), b)
    stat = ImageStat.Stat(diff)
    mse = sum(stat.sum2) / (stat.count[0] * len(stat.sum2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


class Reads:
    """Wraps a storage's ``get`` and ``read``: the keys read and the bytes they returned."""

    def __init__(self, storage) -> None:
        self.log: list[tuple[str, int]] = []
        for name in ("get", "read"):
            method = getattr(storage, name)

            def spy(key, *args, _method=method):
                data = _method(key, *args)
                self.log.append((key, len(data)))
                return data

            setattr(storage, name, spy)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.log)


@pytest.fixture
def media(local_storage) -> Media:
    return Media(local_storage, SECRET)


# --- what is made ----------------------------------------------------------------------------


def test_put_stores_the_ladder_of_a_jpeg_beside_the_original(media, local_storage):
    data = photo_jpeg()
    media_id = media.put(data, filename="p.jpg")
    keys = internal_keys(local_storage, media_id)
    # 1/2 and 1/4 of 1600x1200 (1/8 would be under MIN_RUNG_SIDE); every key under the id's one prefix.
    names = ("_ladder-400x300.jpg", "_ladder-800x600.jpg", "_ladder.json")
    assert keys == [ids.internal_key(media_id, n) for n in names]
    manifest = manifest_of(local_storage, media_id)
    assert manifest.original == Original(1600, 1200, 1)
    assert manifest.drafted
    assert [(r.width, r.height) for r in manifest.rungs] == [(400, 300), (800, 600)]
    assert opened(local_storage.get(keys[0])).size == (400, 300)
    ladder = sum(len(local_storage.get(key)) for key in keys[:2])
    assert ladder <= LADDER_SHARE * len(local_storage.get(ids.original_key(media_id)))


def test_a_12mp_jpeg_gets_three_rungs_within_a_quarter_of_its_bytes(media, local_storage):
    data = photo_jpeg(4000, 3000)
    media_id = media.put(data, filename="big.jpg")
    manifest = manifest_of(local_storage, media_id)
    assert [(r.width, r.height) for r in manifest.rungs] == [(500, 375), (1000, 750), (2000, 1500)]
    ladder = sum(len(local_storage.get(ids.internal_key(media_id, r.name))) for r in manifest.rungs)
    assert ladder <= LADDER_SHARE * len(local_storage.get(ids.original_key(media_id)))


def test_an_rgba_png_gets_lossless_webp_rungs_with_alpha(media, local_storage):
    media_id = media.put(rgba_png(), filename="a.png")
    manifest = manifest_of(local_storage, media_id)
    assert not manifest.drafted
    assert [(r.width, r.height, r.lossless) for r in manifest.rungs] == [(300, 250, True), (600, 500, True)]
    rung = opened(local_storage.get(ids.internal_key(media_id, manifest.rungs[-1].name)))
    assert rung.format == "WEBP" and rung.mode == "RGBA"
    assert rung.getchannel("A").getextrema()[0] < 50  # the transparent edge is still transparent


def test_no_ladder_for_animations_small_images_or_when_off(local_storage):
    media = Media(local_storage, SECRET)
    animated = media.put(images.animated_webp(1200, 900), filename="anim.webp")
    small = media.put(photo_jpeg(400, 300), filename="small.jpg")  # 1/2 would be under MIN_RUNG_SIDE
    off = Media(local_storage, SECRET, ladder=False).put(photo_jpeg(), filename="off.jpg")
    unchecked = Media(local_storage, SECRET, check_pixels=False).put(photo_jpeg(), filename="raw.jpg")
    for media_id in (animated, small, off, unchecked):
        assert internal_keys(local_storage, media_id) == []


def test_rung_sizes_follow_the_rules():
    assert rung_sizes(Image.new("RGB", (4000, 3000))) == [(2000, 1500), (1000, 750), (500, 375)]
    assert rung_sizes(Image.new("RGB", (300, 200))) == []
    assert rung_sizes(Image.new("RGB", (4000, 3000)), frames=2) == []
    assert rung_sizes(Image.new("CMYK", (4000, 3000))) == []


# --- what reads it ---------------------------------------------------------------------------

SIZES = ["100x75", "160x120", "200x", "x150", "300x300", "400x300", "250x400", "640x480", "800x600", "1024x"]


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_a_resize_from_a_rung_has_the_size_and_framing_of_one_from_the_original(local_storage, fmt):
    media = Media(local_storage, SECRET)
    plain = Media(LocalStorage(local_storage.root.parent / "plain", base_url="/plain/"), SECRET, ladder=False)
    data = photo_jpeg(2400, 1600)
    with_ladder, without = media.put(data, filename="p.jpg"), plain.put(data, filename="p.jpg")
    served = 0
    for size in SIZES:
        for mode in ("fit", "fill") if "x" in size.strip("x") and not size.startswith("x") else ("fit",):
            if mode == "fill" and (size.endswith("x") or size.startswith("x")):
                continue
            spec = media.resize_spec(with_ladder, size, mode=mode, format=fmt)
            served += choose(manifest_of(local_storage, with_ladder), spec) is not None
            a = opened(local_storage.get(media.create_resize(media.resize_key(with_ladder, size, mode, format=fmt))))
            b = opened(plain.storage.get(plain.create_resize(plain.resize_key(without, size, mode, format=fmt))))
            assert a.size == b.size, (size, mode)
            # Same crop box: the pictures agree (a shifted box would not, on this detailed photo).
            assert psnr(a, b) > 30, (size, mode)
    # The small ones came from rungs (WebP keeps 4x the output where JPEG keeps 2x: fewer).
    assert served >= (6 if fmt == "jpg" else 2)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_is_kept(local_storage, orientation):
    media = Media(local_storage, SECRET)
    media_id = media.put(images.oriented_jpeg(orientation, 2000, 1200), filename="o.jpg")
    manifest = manifest_of(local_storage, media_id)
    assert manifest.original.orientation == orientation
    for size, mode in (("200x120", "fit"), ("150x150", "fill")):
        spec = media.resize_spec(media_id, size, mode=mode)
        assert choose(manifest, spec) is not None
        out = opened(local_storage.get(media.create_resize(media.resize_key(media_id, size, mode))))
        assert out.size == (200, 120) if mode == "fit" else (150, 150)
        if mode == "fit":
            got = out.convert("RGB")
            w, h = got.size
            corners = [got.getpixel((x, y)) for x, y in ((w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4))]
            for pixel, want in zip(corners, images.QUADRANT_COLOURS):
                assert all(abs(p - q) < 40 for p, q in zip(pixel, want)), (pixel, want)


def test_icc_profile_is_kept(local_storage):
    media = Media(local_storage, SECRET)
    icc = images.srgb_icc()
    media_id = media.put(photo_jpeg(1600, 1200, icc_profile=icc), filename="icc.jpg")
    manifest = manifest_of(local_storage, media_id)
    assert opened(local_storage.get(ids.internal_key(media_id, manifest.rungs[0].name))).info.get("icc_profile") == icc
    out = opened(local_storage.get(media.create_resize(media.resize_key(media_id, "160x120"))))
    assert out.info.get("icc_profile") == icc


@pytest.mark.parametrize("fmt", ["webp", "png"])
def test_alpha_is_kept_from_a_rung(local_storage, fmt):
    media = Media(local_storage, SECRET)
    plain = Media(LocalStorage(local_storage.root.parent / "plain", base_url="/plain/"), SECRET, ladder=False)
    data = rgba_png(2000, 1600)
    with_ladder, without = media.put(data, filename="a.png"), plain.put(data, filename="a.png")
    assert choose(manifest_of(local_storage, with_ladder), media.resize_spec(with_ladder, "200x160", format=fmt))
    a = opened(local_storage.get(media.create_resize(media.resize_key(with_ladder, "200x160", format=fmt))))
    b = opened(plain.storage.get(plain.create_resize(plain.resize_key(without, "200x160", format=fmt))))
    assert a.mode == "RGBA" and a.size == b.size
    assert psnr(a.getchannel("A"), b.getchannel("A").convert("L")) > 40
    assert psnr(a, b.convert("RGBA")) > 35


def test_a_cold_resize_reads_and_decodes_the_rung_not_the_original(local_storage, decoded_sizes):
    media = Media(local_storage, SECRET)
    media_id = media.put(photo_jpeg(4000, 3000), filename="big.jpg")
    original_bytes = len(local_storage.get(ids.original_key(media_id)))
    reads = Reads(local_storage)
    decoded_sizes.clear()
    key = media.create_resize(media.resize_key(media_id, "400x300"))
    # The 1000x750 rung, decoded whole (150 KB): the original would be 1000x750 too, drafted from 4.7 MB.
    assert decoded_sizes == [(1000, 750)]
    assert ids.original_key(media_id) not in [k for k, _ in reads.log]
    assert reads.total < original_bytes / 10
    assert opened(local_storage.get(key)).size == (400, 300)


def test_a_large_output_still_reads_the_original(media, local_storage, decoded_sizes):
    media_id = media.put(photo_jpeg(4000, 3000), filename="big.jpg")
    reads = Reads(local_storage)
    media.create_resize(media.resize_key(media_id, "1600x1200"))
    assert ids.original_key(media_id) in [k for k, _ in reads.log]


def test_png_outputs_never_come_from_a_jpeg_rung():
    m = Manifest(Original(4000, 3000), (Rung("_ladder-1000x750.jpg", 1000, 750),), drafted=True)
    assert choose(m, ResizeSpec(100, 75, format="png")) is None
    assert choose(m, ResizeSpec(100, 75, format="gif")) is None
    assert choose(m, ResizeSpec(100, 75, format="jpg")) is not None
    assert factor("png", drafted=True) is None


# --- when it is missing or broken ---------------------------------------------------------------


@pytest.mark.parametrize("damage", ["missing", "corrupt", "bad manifest"])
def test_a_missing_or_corrupt_ladder_falls_back_to_the_original(local_storage, caplog, damage):
    media = Media(local_storage, SECRET)
    media_id = media.put(photo_jpeg(), filename="p.jpg")
    manifest = manifest_of(local_storage, media_id)
    rung = local_storage.local_path(ids.internal_key(media_id, manifest.rungs[0].name))
    if damage == "missing":
        rung.unlink()
    elif damage == "corrupt":
        rung.write_bytes(b"\xff\xd8\xff" + b"junk" * 100)
    else:
        local_storage.local_path(ids.internal_key(media_id, MANIFEST)).write_bytes(b'{"v": 1, "width": -1}')
    media.ladder.forget(media_id)
    with caplog.at_level(logging.WARNING, logger="s3media_wsgi"):
        key = media.create_resize(media.resize_key(media_id, "160x120"))
    assert opened(local_storage.get(key)).size == (160, 120)
    assert any("original" in r.getMessage() for r in caplog.records)


def test_manifest_parse_refuses_what_it_did_not_write():
    good = Manifest(Original(400, 300, 6), (Rung("_ladder-100x75.jpg", 100, 75),), True)
    assert Manifest.parse(good.to_bytes()) == good
    doc = json.loads(good.to_bytes())
    for bad in (
        {**doc, "v": 2},
        {**doc, "width": 0},
        {**doc, "orientation": 9},
        {**doc, "drafted": "yes"},
        {**doc, "rungs": [["../x.jpg", 100, 75, False]]},
        {**doc, "rungs": [["_ladder-800x600.jpg", 800, 600, False]]},  # larger than the original
        {**doc, "rungs": [["_ladder-100x75.jpg", 100, 75]]},
        [],
    ):
        with pytest.raises(ValueError):
            Manifest.parse(json.dumps(bad).encode())
    with pytest.raises(ValueError):
        Manifest.parse(b"{" * 5000)


# --- keys: private, deleted with the original ---------------------------------------------------------


def test_delete_removes_the_ladder_and_purge_keeps_it(media, local_storage):
    media_id = media.put(photo_jpeg(), filename="p.jpg")
    media.create_resize(media.resize_key(media_id, "160x120"))
    ladder = internal_keys(local_storage, media_id)
    assert len(ladder) == 3
    assert media.purge_resizes(media_id) == 1
    assert internal_keys(local_storage, media_id) == ladder
    assert media.delete(media_id) == 4
    assert list_keys(local_storage, ids.key_prefix(media_id)) == []
    assert media.ladder.manifest(media_id) is None


def test_internal_keys_are_never_originals_variants_or_pending_keys():
    media_id = ids.new_id("my-photo.jpg")
    rung = ids.internal_key(media_id, "_ladder-400x300.jpg")
    assert ids.is_internal_key(rung)
    for public in (ids.original_key(media_id), f"{media_id}/400x300-fit-85-noupscale-{'0' * 32}.jpg"):
        assert not ids.is_internal_key(public)
    assert not ids.is_internal_key(PENDING_PREFIX + media_id)
    with pytest.raises(ValueError):
        ids.internal_key(media_id, "ladder.json")


def test_the_responder_never_serves_a_rung(media, local_storage):
    media_id = media.put(photo_jpeg(), filename="p.jpg")
    responder = MediaResponder(media, "/media/")
    assert responder.serve_local
    original = responder.respond("GET", "/media/" + ids.original_key(media_id), {})
    assert original.status == 200
    original.close()
    for name in ("_ladder.json", "_ladder-400x300.jpg"):
        for method in ("GET", "HEAD"):
            answer = responder.respond(method, "/media/" + ids.internal_key(media_id, name), {})
            assert answer.status == 404, name
            answer.close()


def test_the_website_policy_denies_internal_keys_to_anonymous_readers():
    policy = bucket_policy("photos", "website")
    deny = next(s for s in policy["Statement"] if s["Resource"].endswith(INTERNAL_KEYS))
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Null": {"aws:PrincipalArn": "true"}}
    cdn = [s for s in cdn_read_statements("photos") if s["Effect"] == "Deny"]
    assert any(s["Resource"].endswith(INTERNAL_KEYS) for s in cdn)
    # S3's '*' spans '/': the resource matches every internal key and no public one.
    arn = bucket_arn("photos")
    media_id = ids.new_id("ph_oto-a.jpg".replace("_", "-"))
    matches = lambda key: fnmatch.fnmatchcase(f"{arn}/{key}", deny["Resource"])  # noqa: E731
    assert matches(ids.internal_key(media_id, "_ladder.json"))
    assert matches(ids.internal_key(media_id, "_ladder-1000x750.jpg"))
    assert not matches(ids.original_key(media_id))
    assert not matches(f"{media_id}/400x300-fit-85-noupscale-{'0' * 32}.jpg")


def test_the_setting_turns_it_off(tmp_path):
    settings = parse_settings({"secret_key": SECRET, "local_root": str(tmp_path), "ladder": "off"})
    media = Media.from_settings(settings)
    assert media.ladder is None and media.resizer.ladder is None
    assert Media.from_settings({"secret_key": SECRET, "local_root": str(tmp_path)}).ladder is not None


def test_ladder_must_be_a_bool(local_storage):
    from s3media_wsgi.errors import ConfigError

    with pytest.raises(ConfigError):
        Media(local_storage, SECRET, ladder="yes")


def test_engine_resize_with_original_plans_on_the_original():
    engine = ImageEngine()
    rung = images.encode(images.photo(500, 250), "JPEG", quality=90)
    out = engine.resize(rung, ResizeSpec(100, 100, "fill"), original=Original(2000, 1000))
    assert (out.width, out.height) == (100, 100)
    # 2000x1000 fit to 333 wide is 333x167 (the rung alone would give 333x167 too, but 1999x1000 would not).
    out = engine.resize(rung, ResizeSpec(333, None), original=Original(1999, 1000))
    assert (out.width, out.height) == (333, 167)


# --- S3 (moto's server) --------------------------------------------------------------------------


def test_s3_ladder_is_stored_read_and_deleted(s3_storage):
    media = Media(s3_storage, SECRET)
    data = photo_jpeg(4000, 3000)
    media_id = media.put(data, filename="big.jpg")
    assert len(internal_keys(s3_storage, media_id)) == 4
    reads = Reads(s3_storage)
    _, body, _ = media.fetch_resize(media.resize_key(media_id, "400x300"))
    assert opened(body).size == (400, 300)
    assert ids.original_key(media_id) not in [k for k, _ in reads.log]
    assert reads.total < len(data) / 10
    media.delete(media_id)
    assert list_keys(s3_storage, ids.key_prefix(media_id)) == []


@pytest.mark.parametrize("delivery", ["serve", "private"])
def test_s3_rungs_are_never_answered(s3_storage, moto_endpoint, s3_bucket, s3_client, delivery):
    from s3media_wsgi import S3Storage

    storage = S3Storage(
        bucket=s3_bucket,
        region="us-east-1",
        base_url=f"{moto_endpoint}/{s3_bucket}/",
        endpoint_url=moto_endpoint,
        client=s3_client,
        private=delivery == "private",
    )
    media = Media(storage, SECRET, resize_base_url="/media/")
    media_id = media.put(photo_jpeg(), filename="p.jpg")
    assert len(internal_keys(storage, media_id)) == 3
    responder = MediaResponder(media, "/media/", delivery=delivery)
    for name in ("_ladder.json", "_ladder-400x300.jpg"):
        answer = responder.respond("GET", "/media/" + ids.internal_key(media_id, name), {})
        assert answer.status == 404
        assert answer.header("Location") is None
        answer.close()
    # A real resize still works in that mode.
    answer = responder.respond("GET", media.resize_url(media_id, "160x120"), {})
    assert answer.status in (200, 302)
    answer.close()


def test_s3_direct_upload_confirm_stores_the_ladder(s3_storage):
    media = Media(s3_storage, SECRET)
    data = photo_jpeg(2000, 1500)
    upload = media.presign_upload("direct.jpg", "image/jpeg")
    s3_storage.client.put_object(Bucket=s3_storage.bucket, Key=upload["key"], Body=data, ContentType="image/jpeg")
    media_id = media.confirm_upload(upload["key"])
    manifest = manifest_of(s3_storage, media_id)
    assert manifest.original == Original(2000, 1500, 1)
    assert [(r.width, r.height) for r in manifest.rungs] == [(500, 375), (1000, 750)]
    reads = Reads(s3_storage)
    media.create_resize(media.resize_key(media_id, "200x150"))
    assert ids.original_key(media_id) not in [k for k, _ in reads.log]


def test_eager_presets_are_made_from_the_rungs_that_serve_them(local_storage, decoded_sizes):
    presets = {
        "small": {"size": "200x", "eager": True},
        "card": {"size": "400x", "format": "webp", "eager": True},
        "big": {"size": "1600x", "eager": True},
    }
    media = Media(local_storage, SECRET, presets=presets, enqueue=lambda job: None)
    plain = Media(LocalStorage(local_storage.root.parent / "plain", base_url="/plain/"), SECRET, ladder=False)
    data = photo_jpeg(4000, 3000)
    media_id, without = media.put(data, filename="p.jpg"), plain.put(data, filename="p.jpg")
    reads = Reads(local_storage)
    decoded_sizes.clear()
    made = media.make_eager(media_id)
    assert len(made) == 3
    # 200 wide from the 500x375 rung, 400 WebP from the 2000x1500 one, 1600 from the original (too large to draft).
    assert sorted(decoded_sizes) == [(500, 375), (2000, 1500), (4000, 3000)]
    assert [k for k, _ in reads.log].count(ids.original_key(media_id)) == 1
    for name, preset in presets.items():
        a = opened(local_storage.get(media.resize_key(media_id, name)))
        key = plain.resize_key(without, preset["size"], format=preset.get("format"))
        b = opened(plain.storage.get(plain.create_resize(key)))
        assert a.size == b.size and psnr(a, b) > 30, name


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_website_mode_never_serves_a_rung(s3_storage, s3_client):
    """The bucket with setup-bucket's policy (moto evaluates it for anonymous GETs), and the app behind its 404s.

    (moto applies the deny to the app's signed reads too, which S3 does not: there the app's
    cold resizes fall back to the original, logged, and still answer.)
    """
    from servers import serve_wsgiref

    from s3media_wsgi import MediaMiddleware

    s3_client.put_bucket_policy(
        Bucket=s3_storage.bucket, Policy=json.dumps(bucket_policy(s3_storage.bucket, "website"))
    )
    media = Media(s3_storage, SECRET)
    media_id = media.put(photo_jpeg(), filename="p.jpg")
    rungs = internal_keys(s3_storage, media_id)
    assert len(rungs) == 3
    base = s3_storage.base_url
    assert _status(base + ids.original_key(media_id)) == 200  # website mode: originals are public
    for key in rungs:
        assert _status(base + key) == 403, key  # the bucket denies them to anonymous readers

    def host(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"host"]

    with serve_wsgiref(MediaMiddleware(host, media, prefix="/media/")) as app:
        for key in rungs:  # where the routing rule sends a 404 of the bucket
            assert _status(f"{app}/media/{key}") == 404, key
        # A resize is still made there, and its 301 leads back to the bucket, which serves it.
        assert _status(f"{app}/media/{media.resize_key(media_id, '160x120')}") == 200
