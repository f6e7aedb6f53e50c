"""Row 2: the ``s3/confirm`` route confirms pending uploads only, and hands the uploader a receipt.

A media id is public (it is in every resize URL).  With a private bucket, a
stranger POSTed ``s3/confirm {"key": "<id>"}`` with an id taken from a resize URL
and was answered 200 with a presigned GET of the full private original.  Here the
app runs under waitress in front of moto's S3 server (private bucket), and the
stranger's confirm must get 409, no URL, no receipt, and not one byte read.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from images import png
from servers import serve_wsgi

from s3media_wsgi import Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import InvalidUpload

SECRET = "row2-secret-0123456789-abcdefghijklmn"
CONFIRMED = "This upload was confirmed already."


def _host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b""]


def _who(request: Any) -> str | bool:
    """The uploads hook: a user id (receipts are bound to it); anonymous users may not upload."""
    user = request.headers.get("X-User", "")
    return f"user-{user}" if user else False


class Reads:
    """Every S3 operation the app's client sends, and the GetObject calls among them."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-send.s3.*", lambda event_name, **kw: self.names.append(event_name))

    @property
    def gets(self) -> int:
        return sum(name.endswith(".GetObject") for name in self.names)


@pytest.fixture
def private_media(moto_endpoint: str, s3_bucket: str) -> Media:
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, private=True)
    return Media(storage, secret_key=SECRET)


def _confirm(base: str, key: str, user: str) -> requests.Response:
    return requests.post(f"{base}/media/s3/confirm", json={"key": key}, headers={"X-User": user}, timeout=30)


def test_row2_a_stranger_cannot_confirm_an_id_that_is_media_already(private_media: Media) -> None:
    app = MediaMiddleware(_host, private_media, uploads=_who)
    data = png(60, 40)
    with serve_wsgi(app, threads=4) as base:
        params = requests.get(
            f"{base}/media/s3/params", params={"filename": "secret.png", "type": "image/png"},
            headers={"X-User": "7"}, timeout=30,
        ).json()  # fmt: skip
        sent = requests.post(params["url"], data=params["fields"], files={"file": ("f", data)}, timeout=30)
        assert sent.status_code == 204
        key = params["fields"]["key"]

        # The uploader's confirm: 200, with a URL and a receipt bound to the hook's value.
        mine = _confirm(base, key, "7")
        assert mine.status_code == 200, mine.text
        body = mine.json()
        media_id = body["id"]
        assert (body["content_type"], body["width"], body["height"]) == ("image/png", 60, 40)
        assert requests.get(body["url"], timeout=30).content == data
        assert private_media.check_receipt(body["receipt"], "user-7") == media_id
        with pytest.raises(InvalidUpload):
            private_media.check_receipt(body["receipt"], "user-8")

        # A stranger with the id from a resize URL (or the pending key): 409, nothing else, nothing read.
        resize = private_media.resize_url(media_id, "30x")
        assert media_id in resize
        reads = Reads(private_media.storage.client)  # type: ignore[attr-defined]
        for stolen in (media_id, key):
            answer = _confirm(base, stolen, "8")
            assert answer.status_code == 409, answer.text
            assert answer.json() == {"error": CONFIRMED}
            assert "X-Amz-Signature" not in answer.text and "receipt" not in answer.text
        assert reads.gets == 0, reads.names
        # The uploader confirming again is no different: it was confirmed already.
        assert _confirm(base, key, "7").json() == {"error": CONFIRMED}

    # The Python API stays idempotent.
    assert private_media.confirm_upload(media_id) == media_id


def test_row2_a_hook_returning_true_gives_unbound_receipts(private_media: Media) -> None:
    app = MediaMiddleware(_host, private_media, uploads=lambda request: True)
    upload = private_media.presign_upload("a.png", "image/png")
    requests.post(upload["url"], data=upload["fields"], files={"file": ("f", png(8, 8))}, timeout=30)
    with serve_wsgi(app, threads=2) as base:
        body = _confirm(base, upload["key"], "").json()
    assert private_media.check_receipt(body["receipt"]) == body["id"] == upload["id"]
