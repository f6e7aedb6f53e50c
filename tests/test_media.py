import io
import re
import threading

import images
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from s3media_wsgi import LocalStorage, Media, MediaError, MediaId
from s3media_wsgi import ids as ids_module
from s3media_wsgi.errors import (
    AlreadyExists,
    Busy,
    ConfigError,
    ImageTooLarge,
    InvalidId,
    InvalidPath,
    InvalidResize,
    InvalidSignature,
    NotAnImage,
    NotFound,
    UnsupportedMediaType,
    UploadTooLarge,
)

SECRET = "s3media-test-secret-0123456789-abcdefgh"
URL_RE = re.compile(
    r"^/media/[0-9a-f]{8}/[0-9a-f]{4}/[0-9a-f]{4}/[0-9a-f]{4}/[0-9a-f]{12}/photo\.jpg/"
    r"400x300-fit-85-noupscale-[0-9a-f]{32}\.jpg$"
)


@pytest.fixture
def media(storage):
    return Media(storage, secret_key=SECRET)


@pytest.fixture
def local_media(local_storage):
    return Media(local_storage, secret_key=SECRET)


def rel(media, url):
    return url[len(media.storage.base_url) :]


# --- construction -------------------------------------------------------------


def test_weak_secret_refused(local_storage):
    with pytest.raises(ConfigError, match="at least 32"):
        Media(local_storage, secret_key="short")
    with pytest.raises(ConfigError):
        Media(local_storage, secret_key="")


@pytest.mark.parametrize("bad", [{"max_pixels": 0}, {"max_side": "4096"}, {"max_upload_bytes": True}])
def test_bad_limits_refused(local_storage, bad):
    with pytest.raises(ConfigError):
        Media(local_storage, secret_key=SECRET, **bad)


def test_storage_must_implement_protocol():
    with pytest.raises(ConfigError, match="Storage protocol"):
        Media(object(), secret_key=SECRET)


def test_allowed_types_validated(local_storage):
    with pytest.raises(ConfigError, match="unknown kinds"):
        Media(local_storage, secret_key=SECRET, allowed_types=["jpeg", "svg"])


# --- put -----------------------------------------------------------------------


def test_put_bytes_path_and_file_object(media, tmp_path):
    data = images.jpeg(320, 200)
    by_bytes = media.put(data, filename="My Photo #1?.JPEG")
    assert isinstance(by_bytes, MediaId) and isinstance(by_bytes, str)
    assert by_bytes.endswith("/my-photo-1.jpg")
    assert (by_bytes.width, by_bytes.height, by_bytes.content_type) == (320, 200, "image/jpeg")
    assert media.get(by_bytes) == data

    path = tmp_path / "Holiday Snap.jpeg"
    path.write_bytes(data)
    by_path = media.put(path)
    assert by_path.endswith("/holiday-snap.jpg")

    by_file = media.put(io.BytesIO(data), filename="x.jpg")
    assert media.exists(by_file) and by_file != by_bytes != by_path


def test_put_uses_the_real_type_for_the_extension(media):
    media_id = media.put(images.png(10, 10), filename="actually-png.jpg")
    assert media_id.endswith("/actually-png.png")
    assert media_id.content_type == "image/png"


def test_put_under_a_given_id(media):
    given = "0123abcd/0123/4567/89ab/0123456789ab/cat.jpg"
    data = images.jpeg(40, 30)
    stored = media.put(data, media_id=given)
    assert stored == given and (stored.width, stored.height) == (40, 30)
    assert media.get(given)
    # The same file again under the same id: found (a second writer of the same derived id).
    assert media.put(data, media_id=given) == given
    # Another file under a taken id is refused; the id must end in the real type's extension.
    with pytest.raises(AlreadyExists):
        media.put(images.jpeg(80, 30), media_id=given)
    png_named_jpg = "0123abcd/0123/4567/89ab/0123456789ac/cat.jpg"
    with pytest.raises(UnsupportedMediaType, match=r"must end in \.png"):
        media.put(images.png(10, 10), media_id=png_named_jpg)
    assert not media.exists(png_named_jpg)
    with pytest.raises(InvalidId):
        media.put(images.png(10, 10), media_id="../cat.png")


@pytest.mark.parametrize(
    "payload",
    [
        b"<!doctype html><script>alert(1)</script>",
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"MZ\x90\x00" + b"\0" * 100,
        b"",
    ],
)
def test_put_refuses_dangerous_types_and_stores_nothing(media, payload):
    with pytest.raises(UnsupportedMediaType):
        media.put(payload, filename="innocent.jpg")
    assert_empty(media)


def assert_empty(media):
    storage = media.storage
    if isinstance(storage, LocalStorage):
        assert [p for p in storage.root.rglob("*") if p.is_file()] == []
    else:
        listed = storage.client.list_objects_v2(Bucket=storage.bucket)
        assert listed.get("KeyCount", 0) == 0


def test_put_size_limit(storage):
    media = Media(storage, secret_key=SECRET, max_upload_bytes=1000)
    with pytest.raises(UploadTooLarge):
        media.put(images.jpeg(200, 200, quality=95), filename="big.jpg")
    assert_empty(media)


def test_put_refuses_image_bombs_and_broken_images(local_media):
    with pytest.raises(ImageTooLarge):
        local_media.put(images.png_bomb(), filename="bomb.png")
    with pytest.raises(NotAnImage):
        local_media.put(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, filename="broken.png")
    assert_empty(local_media)


@pytest.mark.parametrize("make", [images.png_cut_short, images.jpeg_with_bad_marker])
def test_put_refuses_pixel_data_that_does_not_decode(media, make):
    # The container is whole, so the structure walk lets it through; its pixels do not decode.
    with pytest.raises(NotAnImage, match="image data is corrupt or cut short"):
        media.put(make(), filename="broken.png")
    assert_empty(media)


def test_check_pixels_off_stores_what_no_resize_can_use(local_storage):
    # What the default protects from: stored, and then every resize of it is a 422.
    media = Media(local_storage, secret_key=SECRET, check_pixels=False)
    media_id = media.put(images.png_cut_short(), filename="broken.png")
    assert (media_id.width, media_id.height) == (200, 150)
    with pytest.raises(NotAnImage, match="cannot decode image"):
        media.create_resize(rel(media, media.resize_url(media_id, "100x")))
    with pytest.raises(ConfigError, match="check_pixels"):
        Media(local_storage, secret_key=SECRET, check_pixels="no")


def test_put_out_of_memory_is_busy_not_a_500(local_media, monkeypatch):
    def out_of_memory(im):
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", out_of_memory)
    with pytest.raises(Busy, match="not enough memory") as info:
        local_media.put(images.png(30, 20), filename="fine.png")
    assert info.value.status_code == 503
    assert_empty(local_media)


def test_pixel_check_decodes_a_jpeg_at_an_eighth(local_storage, decoded_sizes):
    decoded = decoded_sizes
    media = Media(local_storage, secret_key=SECRET, ladder=False)
    media_id = media.put(images.jpeg(1600, 1200), filename="big.jpg")
    assert (media_id.width, media_id.height) == (1600, 1200)
    assert decoded == [(200, 150)]  # 1/64th of the pixels kept, every byte of the scan read
    decoded.clear()
    media.put(images.png(300, 200), filename="small.png")
    assert decoded == [(300, 200)]  # no reduced decode for PNG


def test_pixel_check_is_the_ladders_decode(local_media, decoded_sizes):
    # With the source ladder (the default), the check decodes at its largest rung's scale: one decode, not two.
    local_media.put(images.jpeg(1600, 1200), filename="big.jpg")
    # At 1/2 for its largest rung (the 1/4 one is its 2x2 average): no 1/8 decode of its own.
    assert decoded_sizes == [(800, 600)]


def test_put_allow_list_is_configurable(local_storage):
    media = Media(local_storage, secret_key=SECRET, allowed_types=["png"])
    with pytest.raises(UnsupportedMediaType, match=r"^File type not accepted: JPEG image\. Accepted: PNG image\.$"):
        media.put(images.jpeg(10, 10))
    pdf = Media(local_storage, secret_key=SECRET)
    pdf_id = pdf.put(b"%PDF-1.4\n%...\n", filename="Report 2024.PDF")
    assert pdf_id.endswith("/report-2024.pdf") and pdf_id.width is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>',
         "File type not accepted: SVG image (it can carry scripts)."),
        (b"\xef\xbb\xbf<!DOCTYPE html><html><body>hi", "File type not accepted: HTML page."),
        (b"<?xml version='1.0'?><feed/>", "File type not accepted: XML document."),
        (b"MZ\x90\x00\x03", "File type not accepted: program."),
        (b"plain words, nothing else", "File type not recognised."),
    ],
)  # fmt: skip
def test_put_says_what_it_refused(local_media, data, message):
    # An SVG was recognised and refused, not "unrecognised": the message says which.
    with pytest.raises(UnsupportedMediaType) as info:
        local_media.put(data, filename="upload.jpg")
    assert str(info.value).startswith(message + " Accepted: JPEG image, PNG image, ")
    assert_empty(local_media)


def test_put_refuses_text_mode_files(local_media):
    with pytest.raises(TypeError):
        local_media.put(io.StringIO("hello"))
    with pytest.raises(TypeError):
        local_media.put(12345)


# --- URLs ------------------------------------------------------------------------


def test_urls_need_no_io(local_media):
    media_id = ids_module.new_id("photo.jpg")  # never stored
    assert local_media.url(media_id) == f"/media/{media_id}/photo.jpg"
    assert URL_RE.match(local_media.resize_url(media_id, "400x300"))


def test_resize_url_options_change_the_variant(local_media):
    media_id = ids_module.new_id("photo.png")
    url = local_media.resize_url(media_id, "300x300", mode="fill", quality=70, format="webp", upscale=True)
    assert re.search(r"/300x300-fill-70-upscale-[0-9a-f]{32}\.webp$", url)
    assert local_media.resize_url(media_id, "400x").split("/")[-1].startswith("400x-fit-85-noupscale-")
    assert local_media.resize_url(media_id, "400x").endswith(".png")


@pytest.mark.parametrize(
    ("size", "opts"),
    [
        ("400", {}),
        ("400x", {"mode": "fill"}),
        ("9000x10", {}),
        ("10x10", {"quality": 99}),
        ("10x10", {"format": "bmp"}),
    ],
)
def test_resize_url_refuses_bad_parameters(local_media, size, opts):
    with pytest.raises(InvalidResize):
        local_media.resize_url(ids_module.new_id("a.jpg"), size, **opts)


@pytest.mark.parametrize("bad", ["", "../../etc", "3c72aedc/ba25/41e6/a569/406c8f413974", "x/../../y.jpg"])
def test_every_method_refuses_malformed_ids(local_media, bad):
    for call in (
        lambda: local_media.url(bad),
        lambda: local_media.resize_url(bad, "10x10"),
        lambda: local_media.exists(bad),
        lambda: local_media.delete(bad),
        lambda: local_media.get(bad),
    ):
        with pytest.raises(InvalidId):
            call()


def test_presets_and_strict_mode(local_storage):
    presets = {"thumb": {"size": "200x200", "mode": "fill"}, "hero": {"size": "1600x", "format": "webp"}}
    media = Media(local_storage, secret_key=SECRET, presets=presets)
    media_id = ids_module.new_id("a.jpg")
    assert media.resize_url(media_id, "thumb") == media.resize_url(media_id, "200x200", mode="fill")
    assert media.resize_url(media_id, "hero").endswith(".webp")
    assert media.resize_url(media_id, "thumb", quality=60).split("/")[-1].startswith("200x200-fill-60-")

    strict = Media(local_storage, secret_key=SECRET, presets=presets, strict_presets=True)
    assert strict.resize_url(media_id, "thumb") == media.resize_url(media_id, "thumb")
    with pytest.raises(InvalidResize):
        strict.resize_url(media_id, "300x300")
    with pytest.raises(InvalidResize):
        strict.resize_url(media_id, "thumb", quality=60)
    # A preset that does not fix a format may be asked for in any format...
    webp_thumb = rel(strict, strict.resize_url(media_id, "thumb", format="webp"))
    assert webp_thumb.endswith(".webp")
    strict.verify_resize(webp_thumb)
    # ...but one that fixes it may not.
    with pytest.raises(InvalidResize):
        strict.resize_url(media_id, "hero", format="jpg")
    # A URL signed with the same key but outside the presets is not served in strict mode.
    rogue = rel(media, media.resize_url(media_id, "300x300"))
    with pytest.raises(InvalidSignature):
        strict.verify_resize(rogue)
    strict.verify_resize(rel(media, media.resize_url(media_id, "thumb")))
    # The preset fixes webp: a jpg of the same size is not a preset.
    with pytest.raises(InvalidSignature):
        strict.verify_resize(rel(media, media.resize_url(media_id, "1600x", format="jpg")))

    with pytest.raises(ConfigError):
        Media(local_storage, secret_key=SECRET, strict_presets=True)


# --- verifying and making resizes ----------------------------------------------------


def test_verify_resize_rejects_tampering(local_media):
    media_id = ids_module.new_id("photo.jpg")
    path = rel(local_media, local_media.resize_url(media_id, "400x300"))
    assert local_media.verify_resize(path)[0] == media_id
    for tampered in (
        path.replace("400x300", "401x300"),
        path.replace("-fit-", "-fill-"),
        path.replace("-85-", "-84-"),
        path.replace("noupscale", "upscale"),
        path.replace(".jpg", ".png", 2)[: len(path)],
        path[:-5] + ("0" if path[-5] != "0" else "1") + path[-4:],
        ids_module.new_id("photo.jpg") + "/" + path.rsplit("/", 1)[1],
    ):
        with pytest.raises(NotFound):
            local_media.verify_resize(tampered)


def test_key_rotation_keeps_old_urls_valid(local_storage):
    old, new = "old-secret-0123456789-abcdefghijkl", "new-secret-0123456789-abcdefghijkl"
    media_id = ids_module.new_id("photo.jpg")
    before = Media(local_storage, secret_key=old)
    after = Media(local_storage, secret_key=[new, old])
    old_path = rel(before, before.resize_url(media_id, "100x100"))
    after.verify_resize(old_path)
    assert after.resize_url(media_id, "100x100") != before.resize_url(media_id, "100x100")
    with pytest.raises(InvalidSignature):
        Media(local_storage, secret_key=new).verify_resize(old_path)


def test_create_resize_makes_and_stores_once(media):
    media_id = media.put(images.jpeg(800, 600), filename="photo.jpg")
    path = rel(media, media.resize_url(media_id, "400x300", mode="fill", format="webp"))
    calls = []
    real = media.engine.resize
    media.engine.resize = lambda *a: calls.append(1) or real(*a)
    assert media.create_resize(path) == path
    assert media.create_resize(path) == path  # idempotent: found, not made again
    assert len(calls) == 1
    with Image.open(io.BytesIO(media.storage.get(path))) as im:
        assert (im.format, im.size) == ("WEBP", (400, 300))


def test_create_resize_of_missing_original_is_not_found(media):
    media_id = ids_module.new_id("photo.jpg")
    with pytest.raises(NotFound):
        media.create_resize(rel(media, media.resize_url(media_id, "10x10")))


def test_create_resize_of_a_pdf_is_not_an_image(media):
    media_id = media.put(b"%PDF-1.4\n%%EOF\n", filename="doc.pdf")
    with pytest.raises(NotAnImage):
        media.create_resize(rel(media, media.resize_url(media_id, "10x10")))


def test_local_resizes_are_stored_without_the_folder_fsync(local_media, monkeypatch):
    # A resize can be made again; an original cannot: only originals are durable.
    seen = []
    real = local_media.storage.put

    def spy(key, data, content_type, **kwargs):
        seen.append((key.rsplit("/", 1)[-1], kwargs.get("durable", True)))
        return real(key, data, content_type, **kwargs)

    monkeypatch.setattr(local_media.storage, "put", spy)
    media_id = local_media.put(images.jpeg(120, 90), filename="photo.jpg")
    local_media.create_resize(rel(local_media, local_media.resize_url(media_id, "60x45")))
    assert [durable for _, durable in seen] == [True, False]
    assert seen[0][0] == "photo.jpg"


def test_concurrent_create_resize_shares_one_computation(local_media):
    media_id = local_media.put(images.jpeg(1200, 900), filename="photo.jpg")
    path = rel(local_media, local_media.resize_url(media_id, "300x300", mode="fill"))
    calls = []
    real = local_media.engine.resize
    started = threading.Event()

    def slow(*args):
        calls.append(1)
        started.set()
        threading.Event().wait(0.3)
        return real(*args)

    local_media.engine.resize = slow
    out, errors = [], []

    def run():
        try:
            out.append(local_media.create_resize(path))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == [] and out == [path] * 6
    assert len(calls) == 1


def test_purge_resizes_deletes_every_resize_and_keeps_the_original(media):
    keep = media.put(images.jpeg(64, 64), filename="keep.jpg")
    purged = media.put(images.jpeg(64, 64), filename="purged.jpg")
    made = [media.create_resize(rel(media, media.resize_url(purged, s))) for s in ("10x10", "20x20", "30x")]
    kept = media.create_resize(rel(media, media.resize_url(keep, "10x10")))
    assert media.purge_resizes(purged) == len(made)
    assert media.exists(purged) and media.get(purged)
    assert not any(media.storage.exists(key) for key in made)
    assert media.storage.exists(kept)
    assert media.purge_resizes(purged) == 0
    # made again on the next request
    assert media.storage.exists(media.create_resize(made[0]))


def test_purge_resizes_needs_a_storage_that_lists(local_storage):
    class Unlisted:
        base_url = local_storage.base_url

        def __getattr__(self, name):
            if name in ("list_keys", "delete_keys"):
                raise AttributeError(name)
            return getattr(local_storage, name)

    media = Media(Unlisted(), secret_key=SECRET)
    with pytest.raises(ConfigError, match="cannot list keys"):
        media.purge_resizes(media.put(images.jpeg(8, 8)))


def test_delete_removes_original_and_every_resize_only(media):
    keep = media.put(images.jpeg(64, 64), filename="keep.jpg")
    gone = media.put(images.jpeg(64, 64), filename="gone.jpg")
    made = [media.create_resize(rel(media, media.resize_url(gone, s))) for s in ("10x10", "20x20", "30x")]
    media.create_resize(rel(media, media.resize_url(keep, "10x10")))
    assert media.delete(gone) == 1 + len(made)
    assert not media.exists(gone)
    assert not any(media.storage.exists(k) for k in made)
    assert media.exists(keep)
    assert media.delete(gone) == 0


def test_errors_share_one_root():
    for exc in (InvalidId, InvalidPath, InvalidSignature, NotFound, UnsupportedMediaType, ImageTooLarge, ConfigError):
        assert issubclass(exc, MediaError)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_tampering_with_a_resize_url_is_rejected(local_media, data):
    media_id = ids_module.new_id("photo.jpg")
    path = rel(local_media, local_media.resize_url(media_id, "400x300", mode="fill", quality=80, format="webp"))
    i = data.draw(st.integers(0, len(path) - 1))
    replacement = data.draw(st.text(alphabet="0123456789abcdefxfilupnsjgw-/.", min_size=0, max_size=3))
    tampered = path[:i] + replacement + path[i + 1 :]
    if tampered == path:
        return
    with pytest.raises(MediaError):
        local_media.verify_resize(tampered)


def test_options_given_replace_a_presets_own_even_when_they_are_the_defaults(local_storage):
    presets = {"thumb": {"size": "200x200", "mode": "fill", "quality": 60, "upscale": True}}
    media = Media(local_storage, secret_key=SECRET, presets=presets)
    media_id = ids_module.new_id("a.jpg")
    variant = lambda url: url.rsplit("/", 1)[1].rsplit("-", 1)[0]  # noqa: E731
    assert variant(media.resize_url(media_id, "thumb")) == "200x200-fill-60-upscale"
    assert variant(media.resize_url(media_id, "thumb", mode="fit")) == "200x200-fit-60-upscale"
    assert variant(media.resize_url(media_id, "thumb", quality=85)) == "200x200-fill-85-upscale"
    assert variant(media.resize_url(media_id, "thumb", upscale=False)) == "200x200-fill-60-noupscale"
    strict = Media(local_storage, secret_key=SECRET, presets=presets, strict_presets=True)
    with pytest.raises(InvalidResize):
        strict.resize_url(media_id, "thumb", mode="fit")
    with pytest.raises(InvalidResize):
        strict.resize_url(media_id, "thumb", mode="fill")


def test_resize_urls_go_through_storage_url(tmp_path) -> None:
    # A backend that signs or rewrites URLs (presigned GET, CDN signing) must
    # apply to resizes as well as originals.
    class SigningStorage(LocalStorage):
        def url(self, key: str) -> str:
            return "https://cdn.example/" + key + "?sig=1"

    media = Media(SigningStorage(tmp_path / "m"), secret_key=SECRET)
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    assert media.url(media_id).endswith("cat.jpg/cat.jpg?sig=1")
    url = media.resize_url(media_id, "40x40")
    assert url.startswith("https://cdn.example/" + media_id + "/40x40-") and url.endswith(".jpg?sig=1")


def test_heic_from_a_phone_is_stored_and_resized_to_jpeg(local_media):
    # pillow-heif is in the dev extra; with it installed, HEIC is an image like any other.
    data = images.encode(images.photo(320, 240), "HEIF")
    media_id = local_media.put(data, filename="IMG_0042.HEIC")
    assert media_id.endswith("/img-0042.heic") and media_id.content_type == "image/heic"
    assert (media_id.width, media_id.height) == (320, 240)
    key = local_media.create_resize(local_media.resize_key(media_id, "160x"))
    with Image.open(io.BytesIO(local_media.storage.get(key))) as im:
        assert im.format == "JPEG" and im.size == (160, 120)


def test_image_limits_fields_are_not_overwritten_by_defaults(local_storage):
    from s3media_wsgi.imaging import ImageLimits

    media = Media(local_storage, secret_key=SECRET, image_limits=ImageLimits(max_pixels=1000, max_side=64))
    assert (media.engine.limits.max_pixels, media.engine.limits.max_side) == (1000, 64)
    assert media.max_side == 64
    explicit = Media(local_storage, secret_key=SECRET, max_side=32, image_limits=ImageLimits(max_side=64))
    assert explicit.engine.limits.max_side == 32  # a keyword given wins


def test_put_retried_after_a_lost_answer_is_not_a_conflict(local_storage):
    # A conditional put retried by the S3 client finds its own first attempt (412):
    # the upload is stored and is ours.
    media = Media(local_storage, secret_key=SECRET)
    real_put = local_storage.put

    def put_twice(key, data, content_type):
        real_put(key, data, content_type)
        return real_put(key, data, content_type)  # the retry's answer: False

    local_storage.put = put_twice
    media_id = media.put(images.jpeg(10, 10), filename="a.jpg")
    assert media.exists(media_id)
