import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3media_wsgi import ids
from s3media_wsgi.errors import InvalidId, MediaError

SAFE_FILENAME = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9]+)?$")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("My Photo #1?.JPEG", "my-photo-1.jpg"),
        ("holiday.jpeg", "holiday.jpg"),
        ("scan.jpe", "scan.jpg"),
        ("phone.JFIF", "phone.jpg"),
        ("print.tiff", "print.tif"),
        ("Été à Paris.png", "ete-a-paris.png"),
        ("Ünïcödé ñame.GIF", "unicode-name.gif"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\cat.png", "cat.png"),
        ("   ", "file"),
        ("", "file"),
        (".hidden", "file.hidden"),
        ("...", "file"),
        ("写真.jpg", "file.jpg"),
        ("a..b.PNG", "a-b.png"),
        ("--x--.webp", "x.webp"),
        ("no_extension", "no-extension"),
    ],
)
def test_normalise_filename(raw, expected):
    assert ids.normalise_filename(raw) == expected


def test_normalise_filename_default_ext_and_bounds():
    assert ids.normalise_filename(None, default_ext="jpeg") == "file.jpg"
    long = ids.normalise_filename("x" * 500 + "." + "y" * 50)
    assert len(long) <= ids.MAX_STEM + 1 + ids.MAX_EXT
    assert SAFE_FILENAME.match(long)


def test_new_id_shape_is_uuid4():
    media_id = ids.new_id("my-photo-1.jpg")
    parts = media_id.split("/")
    assert [len(p) for p in parts[:5]] == [8, 4, 4, 4, 12]
    assert parts[5] == "my-photo-1.jpg"
    u = uuid.UUID("".join(parts[:5]))
    assert u.version == 4
    assert ids.parse_id(media_id) == media_id
    assert ids.new_id("a.jpg") != ids.new_id("a.jpg")


def test_new_id_refuses_unnormalised_filename():
    with pytest.raises(InvalidId):
        ids.new_id("My Photo.JPG")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "3c72aedc/ba25/41e6/a569/406c8f413974",
        "3c72aedc/ba25/41e6/a569/406c8f413974/",
        "3c72aedc/ba25/41e6/a569/406c8f413974/../x.jpg",
        "3c72aedc/ba25/41e6/a569/406c8f413974/.x",
        "3C72AEDC/ba25/41e6/a569/406c8f413974/x.jpg",
        "3c72aedc/ba25/41e6/a569/406c8f41397/x.jpg",
        "/3c72aedc/ba25/41e6/a569/406c8f413974/x.jpg",
        "3c72aedc/ba25/41e6/a569/406c8f413974/x.jpg/y",
        "3c72aedc/ba25/41e6/a569/406c8f413974/x.jpg\n",
        None,
        42,
    ],
)
def test_parse_id_refuses_malformed(bad):
    with pytest.raises(InvalidId) as info:
        ids.parse_id(bad)
    assert isinstance(info.value, MediaError)
    assert not ids.is_id(bad)


def test_keys():
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/a.png"
    assert ids.original_key(media_id) == media_id + "/a.png"
    assert ids.key_prefix(media_id) == media_id + "/"
    assert ids.split_key(media_id + "/400x-fit") == (media_id, "400x-fit")
    with pytest.raises(InvalidId):
        ids.split_key(media_id + "/")
    with pytest.raises(InvalidId):
        ids.key_prefix("not-an-id")


@given(st.text())
def test_normalised_filename_is_always_safe(raw):
    name = ids.normalise_filename(raw)
    assert SAFE_FILENAME.match(name), name
    assert "/" not in name and ".." not in name
    assert ids.FILENAME_RE.match(name)
    media_id = ids.new_id(name)
    assert ids.parse_id(media_id) == media_id


@given(st.text(), st.sampled_from(["jpg", "jpeg", "png", "PNG", "tiff", None]))
def test_normalised_filename_idempotent(raw, ext):
    once = ids.normalise_filename(raw, default_ext=ext.lower() if ext else None)
    assert ids.normalise_filename(once) == once
