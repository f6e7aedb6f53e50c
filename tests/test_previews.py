"""Stills and facts of videos and PDFs: the previewers, their bounds, and Media's resize URLs of them."""

from __future__ import annotations

import io
import time
import zlib
from functools import cache

import documents
import images
import pytest
from PIL import Image

from s3media_wsgi import Media, previews
from s3media_wsgi.errors import ConfigError, ImageTooLarge, InvalidPath, InvalidResize, NotAnImage
from s3media_wsgi.imaging import ImageEngine, ImageLimits
from s3media_wsgi.previews import Previewer, PreviewLimits, StillRequest
from s3media_wsgi.previews.pdf import scan
from s3media_wsgi.previews.video import VideoPreviewer
from s3media_wsgi.variants import ResizeSpec, parse_variant

SECRET = "previews-secret-0123456789-abcdefghijk"
VIDEO_KINDS = ("mp4", "webm", "quicktime")
EXT = {"mp4": "mp4", "webm": "webm", "quicktime": "mov"}


@cache
def video(kind: str = "mp4", **options: object) -> bytes:
    return documents.video(kind, **options)  # type: ignore[arg-type]


def pixel(rendered: bytes, at: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(io.BytesIO(rendered)) as im:
        return im.convert("RGB").getpixel(at)  # type: ignore[return-value]


def near(colour: tuple[int, ...], wanted: tuple[int, int, int], within: int = 12) -> bool:
    return all(abs(a - b) <= within for a, b in zip(colour, wanted))


@pytest.fixture
def media(local_storage) -> Media:
    return Media(local_storage, secret_key=SECRET)


# --- the grammar ----------------------------------------------------------------------------------


def test_page_and_frame_are_segments_after_upscale_in_that_order_and_round_trip() -> None:
    spec = ResizeSpec(640, None, "fit", 85, False, "webp", page=3, frame=12.5)
    variant = spec.variant("0" * 32)
    assert variant == "640x-fit-85-noupscale-p3-t12.5-" + "0" * 32 + ".webp"
    assert parse_variant(variant) == (spec, "0" * 32)
    assert ResizeSpec(640, None, format="webp", frame=0.0).stem == "640x-fit-85-noupscale-t0"


def test_at_their_defaults_page_and_frame_leave_names_and_signatures_as_they_were() -> None:
    spec = ResizeSpec(400, 300, "fit", 85, False, "webp")
    assert spec.stem == "400x300-fit-85-noupscale"
    assert spec.message("a/b.jpg") == "s3media-resize\na/b.jpg\n400x300-fit-85-noupscale\nwebp"
    assert ResizeSpec(400, 300, "fit", 85, False, "webp", page=1, frame=None) == spec


@pytest.mark.parametrize(
    "segment",
    ["-p1", "-p02", "-p0", "-t1.50", "-t01", "-t.5", "-t1.", "-t1.2345", "-t-1", "-tx", "-P2", "-t1-p2", "-p2-p3"],
)
def test_any_other_spelling_of_page_or_frame_is_refused(segment: str) -> None:
    with pytest.raises(InvalidPath):
        parse_variant(f"640x-fit-85-noupscale{segment}-{'0' * 32}.webp")


@pytest.mark.parametrize(("page", "frame"), [(0, None), (100_000, None), (1, -1.0), (1, 1e9), (1, 0.0005)])
def test_out_of_range_pages_and_frames_are_refused(page: int, frame: float | None) -> None:
    with pytest.raises(InvalidResize):
        ResizeSpec(64, None, page=page, frame=frame).validate(4096)


def test_media_signs_page_and_frame_and_refuses_them_where_they_mean_nothing(media: Media) -> None:
    pdf_id, mp4_id = "3c72aedc/ba25/41e6/a569/406c8f413974/doc.pdf", "3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4"
    page2 = media.resize_url(pdf_id, "640x", format="webp", page=2)
    assert "/640x-fit-85-noupscale-p2-" in page2 and page2.endswith(".webp")
    assert media.resize_url(pdf_id, "640x", format="webp", page=1) == media.resize_url(pdf_id, "640x", format="webp")
    assert media.verify_resize(media.resize_key(mp4_id, "320x", frame=1.25))[1].frame == 1.25
    assert media.resize_url(mp4_id, "320x").endswith(".jpg")  # a video's still defaults to jpg
    with pytest.raises(InvalidResize, match="frame= is for videos"):
        media.resize_url(pdf_id, "640x", frame=2)
    with pytest.raises(InvalidResize, match="page= is for PDFs"):
        media.resize_url(mp4_id, "640x", page=2)
    with pytest.raises(InvalidResize, match="page= is for PDFs"):
        media.resize_url("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", "640x", page=2)


# --- the plug-in list -----------------------------------------------------------------------------


def test_each_previewer_says_what_it_accepts_and_which_extra_installs_it() -> None:
    assert previews.find("webm").extra == "video" and previews.find("pdf").extra == "pdf"  # type: ignore[union-attr]
    assert previews.previewable("quicktime") and not previews.previewable("wav") and not previews.previewable("png")
    assert previews.options("pdf") == {"page"} and previews.options("mp4") == {"frame"}
    with pytest.raises(ConfigError):
        previews.register(int)  # type: ignore[arg-type]


def test_without_the_extra_a_preview_is_a_422_naming_it(media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    media_id = media.put(video("mp4"), filename="clip.mp4")
    monkeypatch.setattr(VideoPreviewer, "module", "s3media_no_such_module")
    with pytest.raises(NotAnImage, match=r"pip install 's3media_wsgi\[video\]'") as caught:
        media.fetch_resize(media.resize_key(media_id, "64x"))
    assert caught.value.status_code == 422
    assert not media.storage.exists(media.resize_key(media_id, "64x"))  # nothing stored
    # Uploads go on as before: the file is stored with its type and size.
    assert media.put(video("mp4"), filename="again.mp4").info.duration is None  # type: ignore[union-attr]


def test_an_added_previewer_is_one_class(monkeypatch: pytest.MonkeyPatch) -> None:
    class Gray(Previewer):
        kinds = frozenset({"wav"})

        def still(self, data: bytes, kind: str, request: StillRequest, work: previews.Work) -> Image.Image:
            return Image.new("RGB", (40, 20), (128, 128, 128))

    monkeypatch.setattr(previews, "PREVIEWERS", list(previews.PREVIEWERS))
    previews.register(Gray)
    out = ImageEngine().resize(documents.audio(0.1), ResizeSpec(20, None, format="png"))
    assert (out.width, out.height) == (20, 10) and pixel(out.data, (5, 5)) == (128, 128, 128)


# --- videos ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", VIDEO_KINDS)
def test_a_videos_poster_skips_its_black_start(media: Media, kind: str) -> None:
    media_id = media.put(video(kind), filename=f"clip.{EXT[kind]}")
    key, data, content_type = media.fetch_resize(media.resize_key(media_id, "80x", format="webp"))
    assert content_type == "image/webp" and Image.open(io.BytesIO(data)).size == (80, 48)
    assert near(pixel(data, (4, 4)), documents.SCENE_COLOUR)  # not the black of its first six frames
    assert media.storage.get(key) == data  # stored once, like any resize
    first = media.fetch_resize(media.resize_key(media_id, "80x", format="png", frame=0))[1]
    assert near(pixel(first, (4, 4)), (0, 0, 0))
    later = media.fetch_resize(media.resize_key(media_id, "80x", format="png", frame=1.5))[1]
    assert near(pixel(later, (4, 4)), documents.SCENE_COLOUR)
    past_the_end = media.fetch_resize(media.resize_key(media_id, "80x", format="png", frame=3600))[1]
    assert near(pixel(past_the_end, (4, 4)), documents.SCENE_COLOUR)  # the last frame


def test_an_all_black_video_gives_a_frame_anyway() -> None:
    out = ImageEngine().resize(video("mp4", frames=8, black=8), ResizeSpec(40, None, format="png"))
    assert near(pixel(out.data, (4, 4)), (0, 0, 0))


def test_a_rotated_video_is_shown_upright(media: Media) -> None:
    media_id = media.put(video("mp4", rotation=90), filename="phone.mp4")
    assert (media_id.width, media_id.height) == (96, 160)
    out = media.fetch_resize(media.resize_key(media_id, "x80", format="png"))[1]
    assert Image.open(io.BytesIO(out)).size == (48, 80)


@pytest.mark.parametrize("kind", VIDEO_KINDS)
def test_a_videos_facts_and_placeholder_come_from_the_upload_pass(media: Media, kind: str) -> None:
    info = media.put(video(kind, audio=True), filename=f"clip.{EXT[kind]}").info
    assert info is not None
    assert (info.width, info.height, info.frame_rate) == (160, 96, 12.0)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.video_codec == ("vp9" if kind == "webm" else "h264")
    assert info.audio_codec == ("opus" if kind == "webm" else "aac")
    assert info.placeholder and info.colour and info.colour != "#000000"  # from the poster, not a black frame
    # The existing fields keep their order; the new ones come after them.
    assert list(info.as_dict()) == [
        "content_type", "bytes", "width", "height", "placeholder", "colour", "focus", "duration", "pages",
        "video_codec", "audio_codec", "frame_rate", "page_width", "page_height",
    ]  # fmt: skip


def test_an_audio_files_duration_is_read_cheaply(media: Media) -> None:
    info = media.put(documents.audio(2.5), filename="voice.wav").info
    assert info is not None and info.duration == 2.5 and info.audio_codec == "pcm_s16le" and info.width is None
    with pytest.raises(NotAnImage):
        media.fetch_resize(media.resize_key(media.put(documents.audio(0.2), filename="a.wav"), "64x"))


# --- PDFs -----------------------------------------------------------------------------------------


def test_a_pdfs_first_page_and_any_page_by_number(media: Media) -> None:
    media_id = media.put(documents.pdf(3), filename="report.pdf")
    info = media_id.info
    assert info is not None and (info.pages, info.page_width, info.page_height) == (3, 612.0, 792.0)
    assert (info.width, info.height) == (612, 792) and info.placeholder and info.colour
    first = media.fetch_resize(media.resize_key(media_id, "300x", format="png"))[1]
    assert Image.open(io.BytesIO(first)).width == 300
    assert near(pixel(first, (150, 200)), (220, 30, 30)) and pixel(first, (3, 3)) == (255, 255, 255)
    third = media.fetch_resize(media.resize_key(media_id, "300x", format="png", page=3))[1]
    assert near(pixel(third, (150, 200)), (30, 40, 200))
    with pytest.raises(NotAnImage, match="no page 4"):
        media.fetch_resize(media.resize_key(media_id, "300x", page=4))


def test_a_page_is_rendered_for_its_output_not_at_a_fixed_resolution() -> None:
    # A 1x1 inch page asked for 600 px wide is drawn at 600 dpi: sharp, not a 72 px page blown up.
    out = ImageEngine().resize(documents.pdf(1, 72, 72), ResizeSpec(600, None, format="png", upscale=True))
    with Image.open(io.BytesIO(out.data)) as im:
        edge = [im.convert("L").getpixel((x, 300)) for x in range(50, 70)]
    # White margin (255), then the red page (86 in grey): at most a pixel or two in between.
    assert edge[0] == 255 and abs(edge[-1] - 86) <= 3
    assert sum(1 for v in edge if 90 < v < 250) <= 2


# --- bounds: each limit held by a file made here -----------------------------------------------------


def test_a_video_that_claims_hours_is_refused_in_bounded_time() -> None:
    hours = video("mp4", frames=8, black=0, last_at=30 * 3600)
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="max_duration"):
        ImageEngine().resize(hours, ResizeSpec(64, None))
    assert time.perf_counter() - started < 5
    engine = ImageEngine(preview_limits=PreviewLimits(max_duration=40 * 3600))
    assert engine.resize(hours, ResizeSpec(64, None)).width == 64  # within the limit: answered


def test_a_frame_over_max_pixels_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge, match="over max_pixels=10000"):
        ImageEngine(ImageLimits(max_pixels=10_000)).resize(video("webm"), ResizeSpec(64, None))


def test_a_seek_that_would_decode_too_much_is_refused() -> None:
    long = video("mp4", frames=60, black=0)
    engine = ImageEngine(preview_limits=PreviewLimits(max_decoded_pixels=160 * 96 * 5))
    with pytest.raises(ImageTooLarge, match="max_decoded_pixels"):
        engine.resize(long, ResizeSpec(64, None, frame=4.5))  # 6 frames past the keyframe at 4.0 s


def test_the_search_for_a_lively_frame_is_bounded() -> None:
    # 80 black frames then the scene: the search stops at search_frames and keeps what it saw.
    dark = video("mp4", frames=84, black=80)
    engine = ImageEngine(preview_limits=PreviewLimits(search_frames=10))
    assert near(pixel(engine.resize(dark, ResizeSpec(40, None, format="png")).data, (4, 4)), (0, 0, 0))


def test_a_preview_that_runs_out_of_time_is_refused() -> None:
    engine = ImageEngine(preview_limits=PreviewLimits(max_seconds=1e-9))
    with pytest.raises(ImageTooLarge, match="max_seconds"):
        engine.resize(video("mp4"), ResizeSpec(64, None))


def test_a_preview_reserves_its_memory_from_the_engines_budget() -> None:
    tight = ImageEngine(ImageLimits(decode_memory=100_000))
    with pytest.raises(ImageTooLarge, match="decode_memory"):
        tight.resize(video("mp4"), ResizeSpec(64, None))
    with pytest.raises(ImageTooLarge, match="decode_memory"):
        tight.resize(documents.pdf(1), ResizeSpec(600, None))


@pytest.mark.parametrize("kind", VIDEO_KINDS)
def test_a_cut_short_or_corrupt_video_is_a_clear_422(media: Media, kind: str) -> None:
    whole = video(kind)
    for broken in (whole[:200], whole[:40] + bytes(len(whole) - 40), whole[:60] + b"\xff" * (len(whole) - 60)):
        with pytest.raises(NotAnImage):
            ImageEngine().resize(broken, ResizeSpec(64, None))
    # Cut after some frames: what is there is shown (FFmpeg conceals), or refused; in bounded time either way.
    started = time.perf_counter()
    try:
        assert ImageEngine().resize(whole[: len(whole) // 2], ResizeSpec(64, None)).width == 64
    except NotAnImage:
        pass
    assert time.perf_counter() - started < 5
    media_id = media.put(whole[:200], filename=f"cut.{EXT[kind]}")  # stored as before, no facts
    assert media_id.info is not None and media_id.info.duration is None
    key = media.resize_key(media_id, "64x")
    with pytest.raises(NotAnImage):
        media.fetch_resize(key)
    assert not media.storage.exists(key)


def test_a_pdf_decompression_bomb_is_refused_before_pdfium_reads_it() -> None:
    bomb = documents.pdf_bomb(64 * 1024 * 1024)
    engine = ImageEngine(preview_limits=PreviewLimits(max_pdf_inflated=16 * 1024 * 1024))
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="max_pdf_inflated"):
        engine.resize(bomb, ResizeSpec(64, None))
    assert time.perf_counter() - started < 5
    ImageEngine().resize(bomb, ResizeSpec(64, None))  # within the default (256 MiB): answered


def test_the_inflating_walk_keeps_one_step_at_a_time() -> None:
    work = previews.Work(PreviewLimits(max_pdf_inflated=10), 1000, lambda n, what: pytest.fail("no reservation"))
    with pytest.raises(ImageTooLarge):
        scan(b"1 0 obj << /Filter /FlateDecode >>\nstream\n" + zlib.compress(b"x" * 100) + b"\nendstream", work)


def test_a_pdf_image_over_max_pixels_is_refused() -> None:
    with pytest.raises(ImageTooLarge, match="100000x100000"):
        ImageEngine().resize(documents.pdf_huge_image(), ResizeSpec(64, None))


def test_a_pdf_of_too_many_pages_is_refused() -> None:
    with pytest.raises(ImageTooLarge, match="20000 pages"):
        ImageEngine().resize(documents.pdf_pages(20_000), ResizeSpec(64, None))
    assert ImageEngine().resize(documents.pdf_pages(50), ResizeSpec(64, None)).width == 64


def test_a_page_of_100k_points_a_side_is_refused() -> None:
    with pytest.raises(ImageTooLarge, match="max_page_points"):
        ImageEngine().resize(documents.pdf(1, 100_000, 100_000), ResizeSpec(64, None))


@pytest.mark.parametrize(
    "broken",
    [documents.pdf(2)[:300], b"%PDF-1.7\n" + bytes(500), documents.pdf(2).replace(b"/Pages", b"/Pagez")],
)
def test_a_cut_short_or_corrupt_pdf_is_a_clear_422(broken: bytes) -> None:
    with pytest.raises(NotAnImage):
        ImageEngine().resize(broken, ResizeSpec(64, None))


def test_a_page_that_takes_too_long_to_draw_is_cut_off() -> None:
    heavy = documents.pdf_many_shapes()
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="max_seconds"):
        ImageEngine(preview_limits=PreviewLimits(max_seconds=0.05)).resize(heavy, ResizeSpec(600, None))
    assert time.perf_counter() - started < 15  # the drawing stops at the deadline (parsing the page comes first)


def test_preview_limits_are_checked_once(local_storage) -> None:
    with pytest.raises(ConfigError, match="max_pages"):
        PreviewLimits(max_pages=0)
    with pytest.raises(ConfigError, match="preview_limits"):
        Media(local_storage, secret_key=SECRET, preview_limits={"max_pages": 3})  # type: ignore[arg-type]


def test_an_image_is_untouched_by_previews(media: Media) -> None:
    media_id = media.put(images.jpeg(200, 100), filename="cat.jpg")
    assert media.fetch_resize(media.resize_key(media_id, "100x"))[2] == "image/jpeg"


def test_preview_limits_are_a_setting_like_image_limits(tmp_path) -> None:
    settings = {
        "secret_key": SECRET,
        "local_root": str(tmp_path),
        "preview_limits": '{"max_pages": 3, "max_seconds": 2.5}',
    }
    media = Media.from_settings(settings)
    assert media.engine.preview_limits == PreviewLimits(max_pages=3, max_seconds=2.5)
    with pytest.raises(ImageTooLarge, match="max_pages=3"):
        media.engine.resize(documents.pdf(4), ResizeSpec(64, None))
    for bad, said in (('{"max_pagez": 3}', "unknown limits"), ('{"max_pages": 2.5}', "integer"), ("[1]", "dict")):
        with pytest.raises(ConfigError, match=said):
            Media.from_settings({**settings, "preview_limits": bad})
