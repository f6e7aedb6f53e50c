import pytest

from s3media_wsgi.sniff import DEFAULT_ALLOWED, MIME_BY_EXT, sniff

import images


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
