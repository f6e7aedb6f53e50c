"""Private buckets and the three delivery modes, end to end against moto's server over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests
from images import jpeg
from PIL import Image
from webob import Request

from s3media_wsgi import Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import ConfigError, StorageError
from s3media_wsgi.ids import original_key
from s3media_wsgi.storage import IMMUTABLE_CACHE_CONTROL
from s3media_wsgi.storage.presign import GetSigner, content_disposition

SECRET = "delivery-secret-0123456789-abcdefghijk"


def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host"]


class Sent:
    """The S3 operations a client sends."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-send.s3.*", self._record)

    def _record(self, event_name: str, **kwargs: Any) -> None:
        self.names.append(event_name.rsplit(".", 1)[-1])


def private_storage(endpoint: str, bucket: str, **kwargs: Any) -> S3Storage:
    return S3Storage(bucket, region="us-east-1", endpoint_url=endpoint, private=True, **kwargs)


def verify_presigned(url: str, secret: str = "testing") -> dict[str, str]:
    """Recompute a presigned GET's SigV4 signature; the query."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()) if k != "X-Amz-Signature"
    )
    canonical = "\n".join(["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    _, date, region, service, _ = query["X-Amz-Credential"].split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    assert hmac.compare_digest(query["X-Amz-Signature"], hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest())
    return query


# --- presigned GETs --------------------------------------------------------------------------


def test_private_urls_are_presigned_stable_within_a_window_and_live_long_enough(
    moto_endpoint: str, s3_bucket: str
) -> None:
    storage = private_storage(moto_endpoint, s3_bucket, url_expires=3600)
    media = Media(storage, secret_key=SECRET)
    media_id = media.put(jpeg(64, 48), filename="cat.jpg")
    url = media.url(media_id)
    query = verify_presigned(url)
    assert url.startswith(f"{moto_endpoint}/{s3_bucket}/{media_id}/cat.jpg?")
    signed_at = time.mktime(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")) - time.timezone
    assert signed_at + int(query["X-Amz-Expires"]) - time.time() >= 3600 - 5  # at least url_expires left
    assert int(query["X-Amz-Expires"]) <= 7 * 24 * 3600
    assert media.url(media_id) == url  # the same string: browsers and CDNs can cache it
    assert requests.get(url, timeout=10).content == media.get(media_id)


def test_the_url_changes_only_with_the_window() -> None:
    signer = GetSigner("https://b.s3.us-east-1.amazonaws.com/", "us-east-1", lambda: ("AK", "SK", None), 3600)
    start = 1_700_000_100
    assert signer.url("k", now=start) == signer.url("k", now=start + signer.window - 1)
    assert signer.url("k", now=start) != signer.url("k", now=start + signer.window)
    assert signer.remaining(now=start + signer.window - 1) >= 3600


def test_session_tokens_are_signed_in() -> None:
    signer = GetSigner("https://b.s3.us-east-1.amazonaws.com/", "us-east-1", lambda: ("AK", "SK", "TOKEN/+="), 600)
    query = verify_presigned(signer.url("a/b.jpg"), secret="SK")
    assert query["X-Amz-Security-Token"] == "TOKEN/+="


@pytest.mark.parametrize("expires", [0, -1, 7 * 24 * 3600, True])
def test_url_expires_is_checked(moto_endpoint: str, s3_bucket: str, expires: Any) -> None:
    with pytest.raises(ConfigError, match="url_expires"):
        private_storage(moto_endpoint, s3_bucket, url_expires=expires)


def test_download_name_is_sanitised_and_signed(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(private_storage(moto_endpoint, s3_bucket), secret_key=SECRET)
    media_id = media.put(jpeg(64, 48), filename="cat.jpg")
    url = media.url(media_id, download_name='Été "1"\r\nX-Evil: 1/../a.jpg')
    query = verify_presigned(url)
    disposition = query["response-content-disposition"]
    assert disposition == content_disposition('Été "1"\r\nX-Evil: 1/../a.jpg')
    assert "\r" not in disposition and "\n" not in disposition and '"1"' not in disposition
    assert disposition.startswith('attachment; filename="Ete 1X-Evil: 1..a.jpg"; filename*=UTF-8')
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Disposition"] == disposition
    with pytest.raises(ConfigError, match="private bucket"):
        Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET).url(
            media_id, download_name="x.jpg"
        )


# --- the private mode -----------------------------------------------------------------------


def test_private_resizes_go_through_the_app_and_302_to_a_presigned_get(moto_endpoint: str, s3_bucket: str) -> None:
    storage = private_storage(moto_endpoint, s3_bucket, url_expires=1200)
    media = Media(storage, secret_key=SECRET, resize_base_url="/media/")
    app = MediaMiddleware(host, media, prefix="/media/")
    assert app.responder.delivery == "private"
    media_id = media.put(jpeg(640, 480), filename="cat.jpg")
    url = media.resize_url(media_id, "64x")
    assert url.startswith("/media/" + media_id + "/64x-fit-")  # the app's prefix, not the bucket
    sent = Sent(storage.client)
    cold = Request.blank(url).get_response(app)
    assert cold.status_int == 302
    assert sent.names == ["HeadObject", "GetObject", "PutObject"]  # <= 3 calls when cold; signing is local
    location = cold.headers["Location"]
    verify_presigned(location)
    max_age = int(cold.headers["Cache-Control"].removeprefix("private, max-age="))
    assert 0 < max_age < storage.signer.remaining()  # type: ignore[union-attr]
    assert Image.open(io.BytesIO(requests.get(location, timeout=10).content)).size == (64, 48)
    sent.names.clear()
    warm = Request.blank(url).get_response(app)
    assert warm.status_int == 302 and warm.headers["Location"] == location
    assert sent.names == ["HeadObject"]  # <= 1 call when it exists


def test_settings_point_private_resize_urls_at_the_prefix(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media.from_settings(
        {
            "secret_key": SECRET,
            "storage": "s3",
            "bucket": s3_bucket,
            "region": "us-east-1",
            "endpoint_url": moto_endpoint,
            "private": "true",
            "prefix": "/files/",
        }
    )
    assert media.resize_url("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg", "64x").startswith("/files/")


def test_private_and_website_do_not_mix(moto_endpoint: str, s3_bucket: str) -> None:
    private = Media(private_storage(moto_endpoint, s3_bucket), secret_key=SECRET)
    with pytest.raises(ConfigError, match="no website endpoint"):
        MediaMiddleware(host, private, delivery="website")
    public = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)
    with pytest.raises(ConfigError, match="needs a private bucket"):
        MediaMiddleware(host, public, delivery="private")
    with pytest.raises(ConfigError, match="delivery must be"):
        MediaMiddleware(host, public, delivery="cdn")


# --- the serve mode ---------------------------------------------------------------------------


@pytest.mark.parametrize("private", [False, True])
def test_serve_answers_with_the_image_and_stores_it(moto_endpoint: str, s3_bucket: str, private: bool) -> None:
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, private=private)
    media = Media(storage, secret_key=SECRET, resize_base_url="/media/")
    app = MediaMiddleware(host, media, delivery="serve")
    media_id = media.put(jpeg(640, 480), filename="cat.jpg")
    path = "/media/" + media.resize_key(media_id, "64x", format="webp")
    sent = Sent(storage.client)
    cold = Request.blank(path).get_response(app)
    assert cold.status_int == 200 and cold.content_type == "image/webp"
    assert cold.headers["Cache-Control"] == (PRIVATE_IMMUTABLE if private else IMMUTABLE_CACHE_CONTROL)
    assert cold.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(cold.body)).size == (64, 48)
    assert sent.names == ["GetObject", "GetObject", "PutObject"]  # the miss, the original, the write
    assert storage.get(path.removeprefix("/media/")) == cold.body  # stored: the CDN's first origin has it now
    sent.names.clear()
    warm = Request.blank(path).get_response(app)
    assert warm.body == cold.body and sent.names == ["GetObject"]
    head = Request.blank(path, method="HEAD").get_response(app)
    assert head.status_int == 200 and head.body == b"" and head.headers["Content-Length"] == str(len(cold.body))
    forged = Request.blank(path.replace("-fit-85", "-fit-84")).get_response(app)
    assert forged.status_int == 404


# --- row 15: a private bucket's media is never marked for shared caches ---------------------------

PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable"


def test_row15_a_private_bucket_stores_its_objects_as_private(moto_endpoint: str, s3_bucket: str, s3_client) -> None:
    storage = private_storage(moto_endpoint, s3_bucket)
    assert storage.cache_control == PRIVATE_IMMUTABLE
    media = Media(storage, secret_key=SECRET)
    media_id = media.put(jpeg(64, 48), filename="cat.jpg")
    assert s3_client.head_object(Bucket=s3_bucket, Key=original_key(media_id))["CacheControl"] == PRIVATE_IMMUTABLE
    public = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint)
    assert public.cache_control == IMMUTABLE_CACHE_CONTROL  # a public bucket keeps the public default


@pytest.mark.parametrize(
    "cache_control", [IMMUTABLE_CACHE_CONTROL, "max-age=60", "PUBLIC, max-age=60", "no-cache", "s-maxage=60"]
)
def test_row15_a_private_bucket_refuses_a_cache_control_shared_caches_may_keep(
    moto_endpoint: str, s3_bucket: str, cache_control: str
) -> None:
    with pytest.raises(ConfigError, match="private bucket's cache_control must say 'private'"):
        private_storage(moto_endpoint, s3_bucket, cache_control=cache_control)


@pytest.mark.parametrize("cache_control", ["private, max-age=600", "no-store", None])
def test_row15_a_private_bucket_accepts_private_or_no_cache_control(
    moto_endpoint: str, s3_bucket: str, cache_control: str | None
) -> None:
    assert private_storage(moto_endpoint, s3_bucket, cache_control=cache_control).cache_control == cache_control


@pytest.mark.parametrize("download_name", [None, "Été.jpg"])
def test_row15_a_presigned_get_is_answered_private_within_the_urls_life(
    moto_endpoint: str, s3_bucket: str, s3_client, download_name: str | None
) -> None:
    # Stored public (written before the fix, or by another tool): the presigned GET still answers private.
    s3_client.put_object(
        Bucket=s3_bucket, Key="old/cat.jpg", Body=jpeg(64, 48), ContentType="image/jpeg", CacheControl="public"
    )
    storage = private_storage(moto_endpoint, s3_bucket, url_expires=1200)
    url = storage.url("old/cat.jpg", download_name=download_name)
    query = verify_presigned(url)  # the parameter is part of what is signed
    asked = query["response-cache-control"]
    assert asked.startswith("private, max-age=")
    assert 0 < int(asked.removeprefix("private, max-age=")) <= storage.signer.remaining()  # type: ignore[union-attr]
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["Cache-Control"] == asked
    with pytest.raises(AssertionError):  # moto takes any signature, so the signature is checked here
        verify_presigned(url.replace("private", "public", 1))


def test_row15_the_serve_mode_of_a_private_bucket_answers_private(moto_endpoint: str, s3_bucket: str) -> None:
    for cache_control in (PRIVATE_IMMUTABLE, None):
        storage = private_storage(moto_endpoint, s3_bucket, cache_control=cache_control)
        media = Media(storage, secret_key=SECRET, resize_base_url="/media/")
        app = MediaMiddleware(host, media, delivery="serve")
        media_id = media.put(jpeg(640, 480), filename="cat.jpg")
        answer = Request.blank("/media/" + media.resize_key(media_id, "64x")).get_response(app)
        assert answer.status_int == 200 and answer.headers["Cache-Control"] == PRIVATE_IMMUTABLE


def test_row15_direct_uploads_to_a_private_bucket_bind_the_private_cache_control(
    moto_endpoint: str, s3_bucket: str, s3_client
) -> None:
    storage = private_storage(moto_endpoint, s3_bucket)
    post = storage.presign_post("uploads/a.jpg", content_type="image/jpeg", min_bytes=1, max_bytes=100, expires_in=60)
    assert post.fields["Cache-Control"] == PRIVATE_IMMUTABLE
    policy = json.loads(base64.b64decode(post.fields["policy"]))
    assert {"Cache-Control": PRIVATE_IMMUTABLE} in policy["conditions"]
    upload_id = storage.create_multipart_upload("uploads/b.jpg", "image/jpeg")
    part = requests.put(storage.presign_upload_part("uploads/b.jpg", upload_id, 1, 60), data=b"x", timeout=10)
    assert part.status_code == 200
    storage.complete_multipart_upload("uploads/b.jpg", upload_id, storage.list_parts("uploads/b.jpg", upload_id))
    assert s3_client.head_object(Bucket=s3_bucket, Key="uploads/b.jpg")["CacheControl"] == PRIVATE_IMMUTABLE


# --- row 16: a lone surrogate in a download name -----------------------------------------------------


@pytest.mark.parametrize(
    "name, disposition",
    [
        ("cat\ud800.jpg", 'attachment; filename="cat.jpg"'),
        ("\udcff", 'attachment; filename="download"'),
        ("Été\udcff.jpg", "attachment; filename=\"Ete.jpg\"; filename*=UTF-8''%C3%89t%C3%A9.jpg"),
    ],
)
def test_row16_a_lone_surrogate_in_a_download_name_is_dropped(
    moto_endpoint: str, s3_bucket: str, name: str, disposition: str
) -> None:
    assert content_disposition(name) == disposition
    media = Media(private_storage(moto_endpoint, s3_bucket), secret_key=SECRET)
    media_id = media.put(jpeg(64, 48), filename="cat.jpg")
    url = media.url(media_id, download_name=name)
    assert verify_presigned(url)["response-content-disposition"] == disposition
    assert requests.get(url, timeout=10).headers["Content-Disposition"] == disposition


@pytest.mark.parametrize(
    "credentials",
    [("AK\udcff", "SK", None), ("AK", "S\ud800K", None), ("AK", "SK", "TOKEN\udcff"), ("AK", "SK é", None)],
)
def test_row16_credentials_that_are_not_ascii_are_a_storage_error_naming_them(credentials: Any) -> None:
    signer = GetSigner("https://b.s3.us-east-1.amazonaws.com/", "us-east-1", lambda: credentials, 600)
    with pytest.raises(StorageError, match="AWS credentials"):
        signer.url("a/b.jpg")
