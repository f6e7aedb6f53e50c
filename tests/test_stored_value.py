"""``MediaId.stored`` / ``MediaId.from_stored``: the one string an app keeps, and what reads it back."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import images
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_picture import SpyStorage, Tags

from s3media_wsgi import LocalStorage, Media, MediaId, MediaInfo, ids
from s3media_wsgi.errors import InvalidId, InvalidUpload
from s3media_wsgi.receipts import Receipts

ID = "3c72aedc/ba25/41e6/a569/406c8f413974/holiday-2024.jpg"
THUMBHASH = "YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw"
#: What put gives for a typical phone photo.
PHOTO = MediaInfo("image/jpeg", 2_345_678, 4032, 3024, THUMBHASH, "#7f8a3c")


def test_a_typical_photo_is_short_readable_and_starts_with_its_id() -> None:
    stored = MediaId(ID, 4032, 3024, "image/jpeg", PHOTO).stored
    assert stored == f"{ID};t=image/jpeg;b=2345678;w=4032;h=3024;p={THUMBHASH};c=#7f8a3c"
    assert stored.startswith(ID + ids.STORED_SEPARATOR)
    assert len(stored) == 137  # the README quotes this length
    assert " " not in stored and ":" not in stored  # fits a receipt, an attribute, a log line


def test_a_plain_id_is_its_own_stored_value_and_reads_back_without_info() -> None:
    assert MediaId(ID).stored == ID
    back = MediaId.from_stored(ID)
    assert back == ID and back.info is None and back.width is None and type(back) is MediaId


def test_an_id_made_with_only_its_size_keeps_it() -> None:
    back = MediaId.from_stored(MediaId(ID, 640, 480).stored)
    assert (back.width, back.height, back.info) == (640, 480, MediaInfo(None, None, 640, 480))


def test_every_field_round_trips_and_the_parsed_id_carries_them() -> None:
    info = MediaInfo("video/mp4", 9, 1920, 1080, "AAAA", "#000000", focus=(0.25, 0.75), duration=12.5, pages=3)
    back = MediaId.from_stored(MediaId(ID, info=info).stored)
    assert back.info == info
    assert (back.width, back.height, back.content_type) == (1920, 1080, "video/mp4")
    assert MediaId.from_stored(back) is back  # a MediaId is given back as is


def test_the_field_list_is_read_from_the_dataclass() -> None:
    # Nothing in ids lists the fields but the short keys: a field added to MediaInfo is stored by its name.
    assert [f.name for f in ids._FIELDS] == [f.name for f in dataclasses.fields(MediaInfo)]
    assert set(ids.STORED_KEYS.values()) & {f.name for f in dataclasses.fields(MediaInfo)} == set()


def test_a_field_added_later_goes_through_under_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class Later(MediaInfo):
        crop: tuple[float, float, float, float] | None = None
        caption: str | None = None
        animated: bool | None = None

    monkeypatch.setattr(ids, "MediaInfo", Later)
    monkeypatch.setattr(ids, "_FIELDS", ids._stored_fields())
    monkeypatch.setattr(ids, "_BY_KEY", {f.key: f for f in ids._FIELDS})
    info = Later("image/png", 10, 3, 4, crop=(0.0, 0.1, 0.9, 1.0), caption="Été; à 50%: oui, non", animated=True)
    stored = ids.stored_value(ID, info)
    assert stored.endswith(
        ";crop=0.0,0.1,0.9,1.0;caption=%C3%89t%C3%A9%3B%20%C3%A0%2050%25%3A%20oui%2C%20non;animated=1"
    )
    assert ids.parse_stored(stored) == (ID, info)


def test_a_field_of_a_type_the_value_cannot_hold_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class Odd(MediaInfo):
        tags: dict[str, str] | None = None

    monkeypatch.setattr(ids, "MediaInfo", Odd)
    with pytest.raises(TypeError, match="tags"):
        ids._stored_fields()


def test_a_field_written_by_a_newer_version_is_skipped() -> None:
    back = MediaId.from_stored(f"{ID};w=10;h=20;loudness=-3.5")
    assert (back.width, back.height) == (10, 20)


text = st.text(max_size=12)
infos = st.builds(
    MediaInfo,
    st.none() | text,
    st.none() | st.integers(0, 10**15),
    st.none() | st.integers(1, 100_000),
    st.none() | st.integers(1, 100_000),
    st.none() | text,
    st.none() | text,
    st.none() | st.tuples(st.floats(0, 1), st.floats(0, 1)),
    st.none() | st.floats(0, 1e6, allow_nan=False),
    st.none() | st.integers(1, 10_000),
)


@given(infos)
def test_any_info_round_trips_and_its_value_is_canonical(info: MediaInfo) -> None:
    stored = MediaId(ID, info=info).stored
    back = MediaId.from_stored(stored)
    assert back == ID and back.stored == stored
    if any(v is not None for v in dataclasses.astuple(info)):
        assert back.info == info


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        42,
        b"3c72aedc/ba25/41e6/a569/406c8f413974/holiday-2024.jpg",
        "",
        ";w=1",
        "../../etc/passwd;w=1",
        ID + ";",
        ID + ";;w=1",
        ID + ";w",
        ID + ";=1",
        ID + ";W=1",
        ID + ";w=1;w=2",
        ID + ";w=01",
        ID + ";w=1.5",
        ID + ";w=" + "9" * 40,
        ID + ";w=-",
        ID + ";f=0.5",
        ID + ";f=0.5,0.5,0.5",
        ID + ";f=nan,0",
        ID + ";d=1e999",
        ID + ";d=inf",
        ID + ";p=a b",
        ID + ";p=%",
        ID + ";p=%zz",
        ID + ";p=%FF",  # not UTF-8
        ID + ";p=\x00",
        ID + ";p=é",
        ID + ';p="><script>',  # markup must come percent-encoded
        ID + ";t=image/svg+xml;c=#000000'",
        ID + ";" + "w=1;" * 200,
        ID + ";x" * 1_000_000,
    ],
)
def test_a_hostile_value_is_refused_cleanly(hostile: object) -> None:
    with pytest.raises(InvalidId) as caught:
        MediaId.from_stored(hostile)
    assert len(str(caught.value)) < 300  # the message quotes the value cut short


@given(st.text(max_size=600))
def test_any_text_parses_or_is_refused_with_invalid_id(value: str) -> None:
    for candidate in (value, f"{ID};{value}"):
        try:
            MediaId.from_stored(candidate)
        except InvalidId:
            pass


def test_a_value_too_long_to_store_is_refused_when_made() -> None:
    with pytest.raises(InvalidId, match="512 at most"):
        _ = MediaId(ID, info=MediaInfo("x" * 600, None)).stored
    with pytest.raises(TypeError):  # a bug of the code that made the info, said at once
        _ = MediaId(ID, info=MediaInfo(None, None, duration=math.nan)).stored


@pytest.fixture
def media(tmp_path: Path, secret: str) -> Media:
    return Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)


def test_media_methods_take_the_stored_value(media: Media) -> None:
    media_id = media.put(images.jpeg(400, 300), filename="cat.jpg")
    stored = media_id.stored
    assert stored != media_id and stored.startswith(media_id + ";")
    assert media.url(stored) == media.url(media_id)
    assert media.resize_url(stored, "200x") == media.resize_url(media_id, "200x")
    assert media.exists(stored) and media.get(stored) == media.get(media_id)
    assert media.delete(stored) == 1 and not media.exists(media_id)


def test_picture_from_the_stored_value_has_the_size_and_the_placeholder_with_no_io(tmp_path: Path, secret: str) -> None:
    storage = SpyStorage(tmp_path, base_url="/media/")
    media = Media(storage, secret_key=secret)
    media_id = media.put(images.jpeg(800, 600), filename="a.jpg")
    stored = media_id.stored  # what an app keeps in its one column
    storage.io_calls.clear()
    from_value = media.picture(stored, sizes=[320, 640], placeholder=True)
    assert storage.io_calls == []
    assert from_value == media.picture(media_id, sizes=[320, 640], placeholder=True)
    img = Tags(from_value).first("img")
    assert (img["width"], img["height"]) == ("640", "480")
    assert "background-image:url(data:image/png;base64," in (img["style"] or "")
    plain = Tags(media.picture(str(media_id), sizes=[320, 640], placeholder=True)).first("img")
    assert "width" not in plain and "style" not in plain  # a plain id knows neither


def test_a_stored_value_with_a_placeholder_that_is_no_thumbhash_renders_without_one(media: Media) -> None:
    markup = media.picture(f"{ID};w=800;h=600;p=AAAA;c=%22%3E", placeholder=True)
    img = Tags(markup).first("img")
    assert img["width"] == "800" and "style" not in img  # neither a broken placeholder nor the colour


def test_a_receipt_carries_the_info_signed() -> None:
    receipts = Receipts("receipt-secret-0123456789-abcdefghij")
    receipt = receipts.issue(MediaId(ID, info=PHOTO), bound_to="user-1")
    back = receipts.check(receipt, bound_to="user-1")
    assert back == ID and back.info == PHOTO and back.width == 4032
    assert receipts.check(receipts.issue(ID)).info is None  # a plain id, as before
    with pytest.raises(InvalidUpload):  # a width changed in the browser breaks the signature
        receipts.check(receipt.replace("w=4032", "w=9999"), bound_to="user-1")


def test_text_that_markup_or_quoting_would_read_is_encoded() -> None:
    stored = MediaId(ID, info=MediaInfo('image/"x"<y>&\'`\\', None)).stored
    assert stored == f"{ID};t=image/%22x%22%3Cy%3E%26%27%60%5C"
    assert MediaId.from_stored(stored).content_type == 'image/"x"<y>&\'`\\'
