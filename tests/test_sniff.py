import images
import pytest

from s3media_wsgi.sniff import DEFAULT_ALLOWED, MIME_BY_EXT, sniff


def ftyp(major: bytes, *compat: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compat)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0" * 32


@pytest.mark.parametrize(
    ("head", "kind", "mime"),
    [
        (images.jpeg(16, 16), "jpeg", "image/jpeg"),
        (images.png(16, 16), "png", "image/png"),
        (images.encode(images.gradient(16, 16), "GIF"), "gif", "image/gif"),
        (images.encode(images.gradient(16, 16), "WEBP"), "webp", "image/webp"),
        (images.encode(images.gradient(16, 16), "AVIF"), "avif", "image/avif"),
        (ftyp(b"heic", b"mif1", b"heic"), "heic", "image/heic"),
        (ftyp(b"mif1", b"avif"), "avif", "image/avif"),
        (ftyp(b"isom", b"isom", b"mp41"), "mp4", "video/mp4"),
        (ftyp(b"qt  "), "quicktime", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\0" * 40, "webm", "video/webm"),
        (b"ID3\x04\x00" + b"\0" * 40, "mp3", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + b"\0" * 40, "mp3", "audio/mpeg"),
        (b"OggS\x00\x02" + b"\0" * 40, "ogg", "audio/ogg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 40, "wav", "audio/wav"),
        (b"%PDF-1.7\n" + b"\0" * 40, "pdf", "application/pdf"),
    ],
)
def test_sniff_recognises(head, kind, mime):
    found = sniff(head[:64])
    assert found is not None and (found.kind, found.mime) == (kind, mime)


@pytest.mark.parametrize(
    "head",
    [
        b"<!doctype html><html><script>alert(1)</script>",
        b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'>",
        b"<svg onload=alert(1)>",
        b"MZ\x90\x00\x03\x00\x00\x00",
        b"\x7fELF\x02\x01\x01",
        b"PK\x03\x04",
        b"function(){alert(1)}",
        b"\xef\xbb\xbf<html>",
        b"",
        b"GIF",
        b"RIFF\x00\x00\x00\x00AVI ",
    ],
)
def test_sniff_refuses_everything_else(head):
    assert sniff(head) is None


def test_no_scriptable_type_can_be_allowed():
    assert not {"html", "svg", "xml", "js"} & set(DEFAULT_ALLOWED)
    assert not any(m in MIME_BY_EXT.values() for m in ("text/html", "image/svg+xml", "application/javascript"))


@pytest.mark.parametrize(
    "head",
    [
        b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00" + b"\0" * 40,  # UTF-16 HTML: not an MPEG frame
        b"\xff\xfb\xf0\x64" + b"\0" * 40,  # bitrate index 15 is reserved
        b"\xff\xfb\x9c\x64" + b"\0" * 40,  # sample rate 3 is reserved
        b"ID3\x09\x00\x00\x00\x00\x00\x00" + b"\0" * 40,  # no ID3 version 9
        b"ID3\x04\x00\x00\xff\x00\x00\x00" + b"\0" * 40,  # size bytes are 7-bit
    ],
)
def test_malformed_audio_headers_are_refused(head):
    assert sniff(head[:64]) is None


def test_unknown_iso_brands_are_refused():
    assert sniff(ftyp(b"evil")[:64]) is None
    assert sniff(ftyp(b"mp42", b"isom")[:64]).kind == "mp4"


@pytest.mark.parametrize(
    "data",
    [
        b"ID3\x04\x00\x00\x00\x00\x00\x00<html><script>alert(1)</script>",
        b"OggS\x00\x02" + b"\0" * 30 + b"<svg onload=alert(1)>",
        b"\xff\xfb\x90\x64" + "<!DOCTYPE html>".encode("utf-16-le"),
    ],
)
def test_markup_behind_an_audio_header_is_refused_by_put(tmp_path, data):
    from s3media_wsgi import LocalStorage, Media
    from s3media_wsgi.errors import UnsupportedMediaType
    from s3media_wsgi.sniff import looks_like_markup

    assert looks_like_markup(data)
    media = Media(LocalStorage(tmp_path / "m"), secret_key="demo-secret-0123456789-abcdefghijk")
    with pytest.raises(UnsupportedMediaType, match="markup"):
        media.put(data, filename="song.mp3")
    assert not any(p.is_file() for p in (tmp_path / "m").rglob("*"))


def test_real_audio_is_not_markup():
    from s3media_wsgi.sniff import looks_like_markup

    assert not looks_like_markup(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (ftyp(b"XAVC", b"XAVC", b"mp42", b"iso2"), "mp4"),  # a camera's own major brand
        (ftyp(b"CAEP", b"CAEP", b"isom", b"mp42"), "mp4"),
        (ftyp(b"mp42", b"mp42", b"heic"), "mp4"),  # the major brand wins over a stray compatible one
        (ftyp(b"heic", b"mif1", b"heic"), "heic"),
        (ftyp(b"mif1", b"mif1", b"heic"), "heic"),
    ],
)
def test_compatible_brands_decide_for_generic_majors(head, kind):
    assert sniff(head[:64]).kind == kind
