"""Row 9: confirming again what is media already never reads the original whole.

Re-confirming an existing 49 MiB video, 8 clients x 3, downloaded the whole
original every time (1.2 GB from S3 in 2.4 s).  A re-confirm (the Python API:
the route refuses it, see row 2) heads the original and reads a bounded prefix
for its type and header size.  The bytes the storage hands back are counted, on
moto's S3 server over HTTP and on local storage.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from images import encode
from PIL import Image

from s3media_wsgi import Media, S3Storage
from s3media_wsgi.media import CONFIRMED_PREFIX_BYTES

SECRET = "row9-secret-0123456789-abcdefghijklmn"
MIB = 1024 * 1024
VIDEO = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * (24 * 4096))[: 24 * MIB]


class Counted:
    """Wraps a storage's reading calls and adds up the bytes they return."""

    def __init__(self, storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes = 0
        for name in ("get", "read"):
            original = getattr(storage, name)
            monkeypatch.setattr(storage, name, self._counting(original))

    def _counting(self, call: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            data = call(*args, **kwargs)
            self.bytes += len(data)
            return data

        return counted


@pytest.fixture
def any_media(storage: Any) -> Media:
    return Media(storage, secret_key=SECRET, max_upload_bytes=32 * MIB)


def _stored(media: Media, media_id: str, data: bytes, mime: str) -> None:
    """*data* as the original of *media_id*, as a confirm long ago left it."""
    assert media.storage.put(f"{media_id}/{media_id.rsplit('/', 1)[1]}", data, mime)


def test_row9_reconfirming_a_big_video_reads_a_prefix_only(any_media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    media_id = any_media.presign_upload("clip.mp4", "video/mp4")["id"]
    _stored(any_media, media_id, VIDEO, "video/mp4")
    counted = Counted(any_media.storage, monkeypatch)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: any_media.confirm_upload(media_id), range(24)))
    assert {(a, a.content_type, a.width) for a in answers} == {(media_id, "video/mp4", None)}
    assert counted.bytes <= 24 * CONFIRMED_PREFIX_BYTES, f"{counted.bytes / MIB:.1f} MiB read for 24 re-confirms"


def test_row9_reconfirming_an_image_gives_its_size_from_the_header(
    any_media: Media, monkeypatch: pytest.MonkeyPatch, decoded_sizes: list[tuple[int, int]]
) -> None:
    media_id = any_media.presign_upload("big.png", "image/png")["id"]
    data = encode(Image.frombytes("RGB", (1200, 800), os.urandom(1200 * 800 * 3)), "PNG")  # noise: ~3 MB
    assert len(data) > CONFIRMED_PREFIX_BYTES * 4
    _stored(any_media, media_id, data, "image/png")
    counted = Counted(any_media.storage, monkeypatch)
    again = any_media.confirm_upload(media_id)
    assert (again.content_type, again.width, again.height) == ("image/png", 1200, 800)
    assert counted.bytes <= CONFIRMED_PREFIX_BYTES
    assert decoded_sizes == []  # nothing decoded


def test_row9_s3_reconfirm_sends_one_ranged_get(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    media_id = media.presign_upload("clip.mp4", "video/mp4")["id"]
    _stored(media, media_id, VIDEO, "video/mp4")
    ranges: list[str] = []

    def record(params: dict[str, Any], **kwargs: Any) -> None:
        ranges.append(str(params.get("Range")))

    media.storage.client.meta.events.register("provide-client-params.s3.GetObject", record)  # type: ignore[attr-defined]
    assert media.confirm_upload(media_id).content_type == "video/mp4"
    assert ranges == [f"bytes=0-{CONFIRMED_PREFIX_BYTES - 1}"]
