"""``media.picture``: escaped markup of signed resize URLs that really serve, built without I/O."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import images
import pytest
from PIL import Image
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaId, MediaMiddleware
from s3media_wsgi.errors import InvalidId, InvalidResize
from s3media_wsgi.picture import SafeHTML, picture


class Tags(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def first(self, name: str) -> dict[str, str | None]:
        return next(attrs for tag, attrs in self.tags if tag == name)

    def all(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]


def srcset(value: str | None) -> list[tuple[str, int]]:
    assert value is not None
    out = []
    for item in value.split(", "):
        url, descriptor = item.rsplit(" ", 1)
        assert descriptor.endswith("w")
        out.append((url, int(descriptor[:-1])))
    return out


class SpyStorage(LocalStorage):
    """A real local storage that records every call that would touch the disk."""

    io_calls: list[str]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.io_calls = []

    def get(self, key):
        self.io_calls.append("get")
        return super().get(key)

    def exists(self, key):
        self.io_calls.append("exists")
        return super().exists(key)

    def put(self, key, data, content_type):
        self.io_calls.append("put")
        return super().put(key, data, content_type)

    def local_path(self, key):
        self.io_calls.append("local_path")
        return super().local_path(key)

    def delete_prefix(self, prefix):
        self.io_calls.append("delete_prefix")
        return super().delete_prefix(prefix)


@pytest.fixture
def media(tmp_path: Path, secret: str) -> Media:
    return Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=secret)


@pytest.fixture
def photo(media: Media) -> MediaId:
    return media.put(images.jpeg(1000, 750), filename="photo.jpg")


def serve(media: Media, url: str):
    return Request.blank(url).get_response(MediaMiddleware(None, media, prefix="/media/"))


def test_sources_per_modern_format_and_an_img_fallback(media: Media, photo: MediaId) -> None:
    html = media.picture(photo, sizes=[320, 640], alt="A photo")
    tags = Tags(html)
    assert [t for t, _ in tags.tags] == ["picture", "source", "source", "img"]
    avif, webp = tags.all("source")
    assert (avif["type"], webp["type"]) == ("image/avif", "image/webp")
    for source, fmt in ((avif, "avif"), (webp, "webp")):
        assert [w for _, w in srcset(source["srcset"])] == [320, 640]
        assert all(url.endswith(f".{fmt}") for url, _ in srcset(source["srcset"]))
        assert source["sizes"] == "100vw"
    img = tags.first("img")
    assert [w for _, w in srcset(img["srcset"])] == [320, 640]
    assert img["src"] == srcset(img["srcset"])[1][0] and img["src"].endswith(".jpg")
    assert (img["alt"], img["sizes"], img["loading"], img["decoding"]) == ("A photo", "100vw", "lazy", "async")
    assert (img["width"], img["height"]) == ("640", "480")
    assert html.startswith("<picture>") and html.endswith("</picture>")


def test_every_url_is_signed_and_serves_the_promised_width(media: Media, photo: MediaId) -> None:
    tags = Tags(media.picture(photo, sizes=[160, 320]))
    urls = [(url, w) for attrs in tags.all("source") + tags.all("img") for url, w in srcset(attrs["srcset"])]
    assert len(urls) == 6
    for url, width in urls:
        assert url == media.resize_url(photo, f"{width}x", format=url.rsplit(".", 1)[1])
        response = serve(media, url)
        assert response.status_code == 200, url
        fmt = url.rsplit(".", 1)[1]
        assert response.content_type == {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg"}[fmt]
        img = Image.open(io.BytesIO(response.body))
        assert img.size == (width, width * 3 // 4)


def test_a_tampered_url_from_the_markup_is_not_served(media: Media, photo: MediaId) -> None:
    url = Tags(media.picture(photo, sizes=[320])).first("img")["src"]
    forged = re.sub(r"320x-", "321x-", url)
    assert serve(media, url).status_code == 200
    assert serve(media, forged).status_code == 404


def test_building_markup_does_no_io(tmp_path: Path, secret: str) -> None:
    storage = SpyStorage(tmp_path, base_url="/media/")
    media = Media(storage, secret_key=secret)
    media_id = media.put(images.jpeg(200, 100), filename="a.jpg")
    storage.io_calls.clear()
    media.picture(media_id)
    media.picture(str(media_id), mode="fill", aspect="1:1")
    assert storage.io_calls == []


def test_fill_with_aspect_makes_boxes(media: Media, photo: MediaId) -> None:
    img = Tags(media.picture(photo, sizes="320,640", mode="fill", aspect="16:9", formats="jpg")).first("img")
    urls = srcset(img["srcset"])
    assert ["320x180-fill" in urls[0][0], "640x360-fill" in urls[1][0]] == [True, True]
    assert (img["width"], img["height"]) == ("640", "360")
    body = serve(media, urls[1][0]).body
    assert Image.open(io.BytesIO(body)).size == (640, 360)


def test_fill_with_boxes_and_no_known_original(media: Media, photo: MediaId) -> None:
    img = Tags(media.picture(str(photo), sizes=["640x640", "320x320"], mode="fill", formats=["png"])).first("img")
    assert [w for _, w in srcset(img["srcset"])] == [320, 640]  # sorted by width
    assert (img["width"], img["height"]) == ("640", "640")  # the box gives the shape
    assert img["src"].endswith(".png")


def test_fill_needs_a_shape(media: Media, photo: MediaId) -> None:
    with pytest.raises(InvalidResize, match="aspect"):
        media.picture(photo, mode="fill")


def test_plain_string_id_without_dimensions_omits_width_and_height(media: Media, photo: MediaId) -> None:
    img = Tags(media.picture(str(photo))).first("img")
    assert "width" not in img and "height" not in img
    assert [w for _, w in srcset(img["srcset"])] == [320, 640, 1280]


def test_explicit_original_size_is_scaled_to_the_largest_rendition(media: Media, photo: MediaId) -> None:
    img = Tags(media.picture(str(photo), sizes=[300, 600], width=1200, height=800)).first("img")
    assert (img["width"], img["height"]) == ("600", "400")


def test_renditions_wider_than_the_original_are_capped(media: Media) -> None:
    small = media.put(images.jpeg(800, 600), filename="small.jpg")
    img = Tags(media.picture(small, formats=["jpg"])).first("img")
    urls = srcset(img["srcset"])
    assert [w for _, w in urls] == [320, 640, 800]
    assert (img["width"], img["height"]) == ("800", "600")
    assert Image.open(io.BytesIO(serve(media, urls[-1][0]).body)).size == (800, 600)
    upscaled = Tags(media.picture(small, formats=["jpg"], upscale=True)).first("img")
    assert [w for _, w in srcset(upscaled["srcset"])] == [320, 640, 1280]


def test_every_attribute_is_escaped(media: Media, photo: MediaId) -> None:
    html = media.picture(photo, alt='"><script>alert(1)</script>', sizes_attr='"x', attrs={"title": "a&b<c>"})
    assert "<script>" not in html
    assert 'alt="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'sizes="&quot;x"' in html
    assert 'title="a&amp;b&lt;c&gt;"' in html


def test_attrs_sorted_booleans_and_omissions(media: Media, photo: MediaId) -> None:
    html = media.picture(photo, attrs={"data-id": 7, "class": "hero", "hidden": True, "title": None, "id": False})
    assert html.index('class="hero"') < html.index('data-id="7"') < html.index(" hidden")
    assert "title" not in html and ' id="' not in html


@pytest.mark.parametrize(
    "name", ['x" onload="y', "on error", "a b", "", "1x", "data-", "onerror", "ONLOAD", "src", "Width", "alt"]
)
def test_unsafe_or_reserved_attribute_names_are_refused(media: Media, photo: MediaId, name: str) -> None:
    with pytest.raises(InvalidResize):
        media.picture(photo, attrs={name: "v"})


def test_loading_choices(media: Media, photo: MediaId) -> None:
    assert Tags(media.picture(photo, loading="eager")).first("img")["loading"] == "eager"
    assert "loading" not in Tags(media.picture(photo, loading=None)).first("img")
    with pytest.raises(InvalidResize):
        media.picture(photo, loading="soon")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sizes": []},
        {"sizes": [320, 320]},
        {"sizes": ["x300"]},
        {"sizes": [0]},
        {"sizes": "320,abc"},
        {"formats": []},
        {"formats": ["bmp"]},
        {"formats": ["jpg", "jpeg"]},
        {"mode": "stretch"},
        {"aspect": "wide"},
        {"aspect": "16:9", "sizes": ["640x360"]},
        {"width": 100},
        {"width": 0, "height": 10},
        {"sizes": [5000], "upscale": True},
    ],
)
def test_bad_arguments_are_clear_errors(media: Media, photo: MediaId, kwargs) -> None:
    with pytest.raises(InvalidResize):
        media.picture(photo, **kwargs)


def test_a_malformed_id_is_refused(media: Media) -> None:
    with pytest.raises(InvalidId):
        media.picture("../../etc/passwd")


def test_single_format_gives_only_an_img(media: Media, photo: MediaId) -> None:
    tags = Tags(media.picture(photo, formats=["webp"]))
    assert [t for t, _ in tags.tags] == ["picture", "img"]
    assert tags.first("img")["src"].endswith(".webp")


def test_result_is_safe_html_and_the_function_matches_the_method(media: Media, photo: MediaId) -> None:
    html = media.picture(photo, sizes=[320])
    assert isinstance(html, SafeHTML) and isinstance(html, str)
    assert html.__html__() == str(html)
    assert picture(media, photo, sizes=[320]) == html


def test_preset_names_work_with_strict_presets(tmp_path):
    presets = {
        "small": {"size": "320x"},
        "card": {"size": "640x360", "mode": "fill", "quality": 80},
        "tall": {"size": "x900"},
    }
    strict = Media(
        LocalStorage(tmp_path / "m"),
        secret_key="preset-secret-0123456789-abcdefghi",
        presets=presets,
        strict_presets=True,
    )
    media_id = MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", 2000, 1500, "image/jpeg")
    html = strict.picture(media_id, sizes=["small", "card"], formats=["webp", "jpg"])
    urls = re.findall(r"(/media/\S+?) (\d+)w", html)
    assert {w for _, w in urls} == {"320", "640"}
    assert len(urls) == 4
    for url, _ in urls:
        strict.verify_resize(url[len("/media/") :])  # every URL is one strict mode serves
    assert "-fill-80-" in html and 'width="640" height="360"' in html
    with pytest.raises(InvalidResize, match="no width"):
        strict.picture(media_id, sizes=["tall"])
    with pytest.raises(InvalidResize):
        strict.picture(media_id, sizes=[320, 640])  # plain widths are not presets


def test_presets_that_fix_a_format(tmp_path):
    presets = {"small": {"size": "320x", "format": "webp"}, "large": {"size": "960x", "format": "webp"}}
    strict = Media(
        LocalStorage(tmp_path / "m"),
        secret_key="preset-secret-0123456789-abcdefghi",
        presets=presets,
        strict_presets=True,
    )
    media_id = MediaId("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", 2000, 1500, "image/jpeg")
    html = strict.picture(media_id, sizes=["small", "large"], formats=["webp"])
    urls = re.findall(r"(/media/\S+?) \d+w", html)
    assert len(urls) == 2 and all(u.endswith(".webp") for u in urls)
    for url in urls:
        strict.verify_resize(url[len("/media/") :])
    with pytest.raises(InvalidResize, match="always webp"):
        strict.picture(media_id, sizes=["small"], formats=["avif", "webp"])


@pytest.mark.parametrize("name", ["song.mp3", "voice.wav"])
def test_picture_of_a_file_that_is_not_an_image_is_a_clear_error(media, name: str) -> None:
    # Four broken <img> would be worse: say what to do instead.
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/" + name
    with pytest.raises(InvalidResize, match=r"not an image: .* media\.url\(id\)"):
        media.picture(media_id, sizes=[320])


@pytest.mark.parametrize("name", ["report.pdf", "clip.mp4", "clip.webm", "clip.mov"])
def test_picture_of_a_video_or_a_pdf_shows_its_still(media, name: str) -> None:
    # Their resize URLs answer a poster frame or page 1 (s3media_wsgi.previews); the format is never theirs.
    media_id = "3c72aedc/ba25/41e6/a569/406c8f413974/" + name
    html = str(media.picture(media_id, sizes=[320, 640], formats=["webp", "jpg"]))
    assert html.count("<source") == 1
    assert "-fit-85-noupscale-" in html and ".webp 640w" in html and ".jpg 320w" in html
