"""Row 1: confirm publishes exactly the bytes it checked, whatever the client writes meanwhile.

A presigned form stays valid for ``upload_expires`` seconds and S3 lets it write
its key again: a client could re-POST HTML to ``uploads/<id>`` while confirm was
checking the image it had sent first, and the HTML became the media object.  Here
the second POST is made to land deterministically between confirm's check and
its publish (a hook on the check), over real HTTP to moto's S3 server and to the
middleware's local form route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from images import jpeg
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import InvalidUpload
from s3media_wsgi.uploads import PENDING_PREFIX, media_id_of, pending_key, staging_key

SECRET = "row1-secret-0123456789-abcdefghijklmn"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 64
POLYGLOT = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + HTML * 40


def _host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b""]


def _hook_after_check(media: Media, monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> list[bytes]:
    """Run *action* once, right after confirm has checked the bytes it read; the bytes checked."""
    checked: list[bytes] = []
    check = media._check_content

    def spy(data: bytes, **kwargs: Any) -> Any:
        result = check(data, **kwargs)
        if not checked:
            checked.append(bytes(data))
            action()
        return result

    monkeypatch.setattr(media, "_check_content", spy)
    return checked


def _s3_post(upload: dict[str, Any], data: bytes) -> int:
    return requests.post(upload["url"], data=upload["fields"], files={"file": ("f", data)}, timeout=30).status_code


@pytest.mark.parametrize(
    ("kind", "filename", "first", "second"),
    [("image/jpeg", "cat.jpg", jpeg(320, 240), HTML), ("video/mp4", "clip.mp4", MP4, POLYGLOT)],
    ids=["image", "video"],
)
def test_row1_s3_a_repost_during_confirm_never_becomes_the_media(
    moto_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch, kind: str, filename: str, first: bytes,
    second: bytes,
) -> None:  # fmt: skip
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    upload = media.presign_upload(filename, kind)
    assert _s3_post(upload, first) == 204
    reposts: list[int] = []
    checked = _hook_after_check(media, monkeypatch, lambda: reposts.append(_s3_post(upload, second)))

    confirmed = media.confirm_upload(upload["key"])

    assert reposts == [204]  # S3 took the second POST: the form was still valid
    assert checked and checked[0].startswith(first[:64])
    stored = media.get(confirmed)
    assert stored == first, "the media object is not the file confirm checked"
    assert b"<script" not in stored
    # Nothing the server staged is left behind, and the pending key is gone.
    listed = media.storage.client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])  # type: ignore[attr-defined]
    assert sorted(o["Key"] for o in listed) == [f"{confirmed}/{filename}"]


def test_row1_local_a_repost_during_confirm_never_becomes_the_media(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = Media(local_storage, secret_key=SECRET)
    app = MediaMiddleware(_host, media, uploads=lambda request: True)
    upload = media.presign_upload("cat.jpg", "image/jpeg")
    image = jpeg(320, 240)

    def post(data: bytes) -> int:
        return Request.blank(upload["url"], POST={**upload["fields"], "file": ("f", data)}).get_response(app).status_int

    assert post(image) == 204
    reposts: list[int] = []
    _hook_after_check(media, monkeypatch, lambda: reposts.append(post(HTML)))
    confirmed = media.confirm_upload(upload["key"])
    assert reposts == [409]  # local storage never overwrites the pending file
    assert media.get(confirmed) == image
    # After the confirm the pending key is free again: a re-POST lands there, and never becomes media.
    assert post(HTML) == 204
    assert media.confirm_upload(upload["key"]) == confirmed
    assert media.get(confirmed) == image
    assert local_storage.local_path(upload["key"]) is None
    leftovers = [p for p in (local_storage.root / "uploads").rglob("*") if p.is_file()]
    assert leftovers == []


def test_row1_a_staged_copy_is_out_of_reach_of_every_client(local_storage: LocalStorage) -> None:
    media = Media(local_storage, secret_key=SECRET)
    app = MediaMiddleware(_host, media, uploads=lambda request: True)
    media_id = media.presign_upload("clip.mp4", "video/mp4")["id"]
    staged = staging_key(media_id)
    assert staged.startswith(PENDING_PREFIX) and staged != pending_key(media_id)
    assert staging_key(media_id) != staged  # one per confirm: two processes never share one
    with pytest.raises(InvalidUpload):
        media_id_of(staged)  # so no upload route, form or part URL can name it
    assert local_storage.put(staged, POLYGLOT, "video/mp4")
    assert Request.blank("/media/" + staged).get_response(app).status_int == 404  # never served
    confirm = Request.blank("/media/s3/confirm", method="POST", body=b'{"key": "%s"}' % staged.encode())
    confirm.content_type = "application/json"
    assert confirm.get_response(app).status_int == 403
