"""The upload pass: originals cleaned of location, maker notes and XMP without re-encoding; the info record."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import quote

import images
import pytest
from images import photo, srgb_icc
from PIL import ExifTags, Image, PngImagePlugin
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware
from s3media_wsgi.cleaning import clean
from s3media_wsgi.ids import MediaId, MediaInfo
from s3media_wsgi.placeholders import thumbhash_rgba

SECRET = "upload-pass-secret-0123456789-abcdefgh"
MAKER_SECRET = b"maker-note-serial-SN12345678"
XMP_SECRET = b"xmp-secret-where-i-live"
TEXT_SECRET = "text-chunk-secret-home-address"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + XMP_SECRET + b"</x:xmpmeta>"
SECRETS = (MAKER_SECRET, XMP_SECRET, TEXT_SECRET.encode(), b"TestCam", b"Model-X")


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "Model-X"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 26.0)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.MakerNote] = MAKER_SECRET
    return exif


def _jpeg(orientation: int = 6) -> bytes:
    buf = io.BytesIO()
    photo(160, 120).save(
        buf, "JPEG", quality=90, exif=_exif(orientation), icc_profile=srgb_icc(), comment=TEXT_SECRET.encode()
    )
    data = buf.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00" + XMP
    ext = b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 32 + bytes(8) + XMP
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + len(TEXT_SECRET).to_bytes(4, "big") + TEXT_SECRET.encode()
    extra = b"".join(
        b"\xff" + bytes([marker]) + (len(body) + 2).to_bytes(2, "big") + body
        for marker, body in ((0xE1, xmp), (0xE1, ext), (0xED, iptc))
    )
    return data[:2] + extra + data[2:]


def _png(orientation: int = 6) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_text("Comment", TEXT_SECRET)
    info.add_text("Secret", TEXT_SECRET, zip=True)
    buf = io.BytesIO()
    photo(160, 120).save(buf, "PNG", pnginfo=info, exif=_exif(orientation), icc_profile=srgb_icc())
    return buf.getvalue()


def _webp(orientation: int = 6) -> bytes:
    buf = io.BytesIO()
    photo(160, 120).save(buf, "WEBP", quality=80, exif=_exif(orientation), icc_profile=srgb_icc(), xmp=XMP)
    return buf.getvalue()


MAKERS = {"jpg": _jpeg, "png": _png, "webp": _webp}


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        return im.tobytes()


def _assert_clean(original: bytes, stored: bytes, orientation: int = 6) -> None:
    assert stored != original
    assert MAKER_SECRET in original and XMP_SECRET in original  # the test file really carries them
    for secret in SECRETS:
        assert secret not in stored, secret
    with Image.open(io.BytesIO(stored)) as im:
        exif = im.getexif()
        assert ExifTags.IFD.GPSInfo not in exif and not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.IFD.Exif not in exif  # the maker note lived there
        assert exif.get(ExifTags.Base.Orientation, 1) == orientation
        assert im.info.get("icc_profile") == srgb_icc()
        assert "xmp" not in im.info and "XML:com.adobe.xmp" not in im.info
    assert _pixels(stored) == _pixels(original)  # bit-identical: nothing was re-encoded


@pytest.mark.parametrize("ext", sorted(MAKERS))
def test_put_stores_the_original_without_location_maker_notes_and_xmp(local_storage: LocalStorage, ext: str) -> None:
    media = Media(local_storage, secret_key=SECRET)
    original = MAKERS[ext]()
    media_id = media.put(original, filename=f"holiday.{ext}")
    stored = media.get(media_id)
    _assert_clean(original, stored)
    assert (media_id.width, media_id.height) == (120, 160)  # upright: orientation 6 kept
    assert media_id.info is not None and media_id.info.bytes == len(stored)


@pytest.mark.parametrize("ext", sorted(MAKERS))
def test_cleaning_keeps_orientation_one_as_no_exif(ext: str) -> None:
    original = MAKERS[ext](1)
    _assert_clean(original, clean(original, 1), orientation=1)


@pytest.mark.parametrize("ext", sorted(MAKERS))
def test_keep_metadata_stores_the_upload_as_is(local_storage: LocalStorage, ext: str) -> None:
    media = Media(local_storage, secret_key=SECRET, keep_metadata=True)
    original = MAKERS[ext]()
    assert media.get(media.put(original, filename=f"a.{ext}")) == original


def test_a_file_without_metadata_is_stored_byte_for_byte(local_storage: LocalStorage) -> None:
    media = Media(local_storage, secret_key=SECRET)
    buf = io.BytesIO()
    photo(64, 48).save(buf, "JPEG", quality=85)
    assert media.get(media.put(buf.getvalue(), filename="plain.jpg")) == buf.getvalue()


def test_a_file_the_cleaner_cannot_rewrite_is_kept_as_uploaded(caplog: pytest.LogCaptureFixture) -> None:
    broken = b"\x89PNG\r\n\x1a\n" + bytes(12)  # no IEND: the container walk refuses it before any store
    assert clean(broken, 1) == broken
    assert "stored as uploaded" in caplog.text


def _host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b""]


@pytest.mark.parametrize("ext", sorted(MAKERS))
def test_confirm_publishes_the_cleaned_form_of_what_it_checked(local_storage: LocalStorage, ext: str) -> None:
    media = Media(local_storage, secret_key=SECRET)
    app = MediaMiddleware(_host, media, uploads=lambda request: True)
    original = MAKERS[ext]()
    kind = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[ext]
    params = Request.blank(f"/media/s3/params?filename=a.{ext}&type={quote(kind, safe='')}").get_response(app).json
    sent = Request.blank(params["url"], POST={**params["fields"], "file": (f"a.{ext}", original)})
    assert sent.get_response(app).status_int == 204
    confirm = Request.blank(
        "/media/s3/confirm", method="POST", body=json.dumps({"key": params["fields"]["key"]}).encode()
    )
    confirm.content_type = "application/json"
    answer = confirm.get_response(app).json
    assert "id" in answer, answer
    stored = media.get(answer["id"])
    _assert_clean(original, stored)
    info = answer["info"]
    assert info["width"] == 120 and info["height"] == 160 and info["bytes"] == len(stored)
    assert info["content_type"] == kind and info["colour"].startswith("#") and len(info["colour"]) == 7
    assert len(base64.b64decode(info["placeholder"])) <= 25
    assert {"focus", "duration", "pages"} <= set(info)


def test_put_returns_the_info_record(local_storage: LocalStorage) -> None:
    media = Media(local_storage, secret_key=SECRET)
    red = io.BytesIO()
    Image.new("RGB", (300, 100), (210, 30, 40)).save(red, "PNG")
    info = media.put(red.getvalue(), filename="red.png").info
    assert isinstance(info, MediaInfo)
    assert (info.width, info.height, info.content_type, info.bytes) == (300, 100, "image/png", len(red.getvalue()))
    assert info.colour == "#d21e28"
    assert info.placeholder is not None
    (w, h), rgba = thumbhash_rgba(base64.b64decode(info.placeholder))
    assert w > h  # landscape kept
    assert all(abs(a - b) <= 6 for a, b in zip(rgba[:3], (210, 30, 40)))
    pdf = media.put(b"%PDF-1.4\n%...\n", filename="doc.pdf").info
    assert pdf == MediaInfo("application/pdf", 14)


def test_picture_shows_the_placeholder_as_a_css_background(local_storage: LocalStorage) -> None:
    media = Media(local_storage, secret_key=SECRET)
    media_id = media.put(_jpeg(), filename="holiday.jpg")
    html = media.picture(media_id, sizes=[320], placeholder=True, attrs={"style": "border:0", "class": "p"})
    assert ' width="120" height="160"' in html  # upright, never upscaled
    style = html.split(' style="', 1)[1].split('"', 1)[0]
    assert style.startswith("background-image:url(data:image/png;base64,") and style.endswith(";border:0")
    png = base64.b64decode(style.split("base64,", 1)[1].split(")", 1)[0])
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.height > im.width  # portrait, like the upright photo
    assert html.count(" style=") == 1 and ' class="p"' in html
    assert " style=" not in media.picture(media_id, sizes=[320])  # off unless asked
    # A bare id string carries no info: no placeholder, no error.
    assert " style=" not in media.picture(str(media_id), sizes=[320], placeholder=True)
    # Only a colour known: the colour.
    coloured = MediaId(str(media_id), 120, 160, "image/jpeg", MediaInfo("image/jpeg", 1, colour="#102030"))
    assert ' style="background-color:#102030"' in media.picture(coloured, sizes=[320], placeholder=True)


def test_jpeg_keeps_its_first_picture_only_and_its_adobe_colour_transform() -> None:
    original = _jpeg() + b"\xff\xd8trailing-secret: an appended motion photo or an MPO's second picture\xff\xd9"
    cleaned = clean(original, 6)
    assert b"trailing-secret" not in cleaned and cleaned.endswith(b"\xff\xd9")
    assert _pixels(cleaned) == _pixels(original)
    cmyk = images.cmyk_jpeg()
    with_comment = cmyk[:2] + b"\xff\xfe\x00\x0acomment!" + cmyk[2:]
    cleaned = clean(with_comment, 1)
    assert b"\xff\xee" in cmyk and b"Adobe" in cmyk  # the test file has an APP14 Adobe segment
    assert cleaned == cmyk  # the comment went, the JFIF and Adobe segments stayed, byte for byte
    assert _pixels(cleaned) == _pixels(cmyk)


@pytest.mark.parametrize("ext", sorted(MAKERS))
def test_s3_confirm_publishes_the_cleaned_bytes(moto_endpoint: str, s3_bucket: str, ext: str) -> None:
    import requests

    from s3media_wsgi import S3Storage

    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    kind = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[ext]
    original = MAKERS[ext]()
    upload = media.presign_upload(f"a.{ext}", kind)
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("f", original)}, timeout=30)
    assert sent.status_code == 204
    media_id = media.confirm_upload(upload["key"])
    stored = media.get(media_id)
    _assert_clean(original, stored)
    assert media_id.info is not None and media_id.info.bytes == len(stored) and media_id.info.placeholder
