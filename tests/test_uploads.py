"""Direct uploads: what is signed (checked condition by condition, signatures recomputed), and what arrives.

moto's server enforces neither POST policies nor presigned signatures, so the
policy and both SigV4 signatures are decoded and recomputed here; the uploads
themselves go over real HTTP to moto's server (S3) or to the middleware
(local storage).
"""

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
from images import jpeg, png, png_bomb, png_cut_short
from PIL import Image, ImageFile
from webob import Request

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.errors import (
    ImageTooLarge,
    InvalidUpload,
    NotAnImage,
    NotFound,
    UnsupportedMediaType,
    UploadTooLarge,
)
from s3media_wsgi.storage import IMMUTABLE_CACHE_CONTROL

MiB = 1024 * 1024

SECRET = "uploads-secret-0123456789-abcdefghijk"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
MIB = 1024 * 1024


@pytest.fixture
def s3_media(moto_endpoint: str, s3_bucket: str) -> Media:
    # A storage with its own client, made as production makes it (SigV4).
    return Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET)


@pytest.fixture
def local_media(local_storage: LocalStorage) -> Media:
    return Media(local_storage, secret_key=SECRET)


def _sigv4_key(secret: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def s3_post(upload: dict[str, Any], data: bytes, filename: str = "f") -> requests.Response:
    """The browser's form POST: the signed fields, then the file."""
    return requests.post(upload["url"], data=upload["fields"], files={"file": (filename, data)}, timeout=30)


# --- what is signed --------------------------------------------------------------------------


def test_presigned_post_policy_binds_each_condition_and_its_sigv4_signature_verifies(s3_media: Media) -> None:
    before = int(time.time())
    upload = s3_media.presign_upload("Holiday Photo.JPEG", "image/jpeg")
    fields = upload["fields"]
    # The server chose the key: a fresh id, the normalised name, under uploads/.
    assert upload["method"] == "POST"
    assert upload["key"] == fields["key"] == "uploads/" + upload["id"]
    assert upload["id"].endswith("/holiday-photo.jpg")
    assert before + 600 <= upload["expires"] <= int(time.time()) + 600

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": upload["key"]} in conditions  # that exact key, no starts-with
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    assert ["content-length-range", 1, s3_media.max_upload_bytes] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions and fields["Content-Type"] == "image/jpeg"
    assert {"Cache-Control": IMMUTABLE_CACHE_CONTROL} in conditions
    assert {"bucket": s3_media.storage.bucket} in conditions  # type: ignore[attr-defined]
    assert not any("acl" in c for c in conditions if isinstance(c, dict)) and "acl" not in fields
    expiration = time.mktime(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 590 <= expiration <= time.time() + 610

    # SigV4: the signature is HMAC(signing key, the base64 policy).
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    access_key, date, region, service, terminal = fields["x-amz-credential"].split("/")
    assert (access_key, region, service, terminal) == ("testing", "us-east-1", "s3", "aws4_request")
    expected = hmac.new(_sigv4_key("testing", date, region), fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["x-amz-signature"], expected)
    # Every field the form sends is bound by a condition.
    bound = {k.lower() for c in conditions if isinstance(c, dict) for k in c}
    signing = {"policy", "x-amz-signature"}
    assert {k.lower() for k in fields} - signing <= bound


def test_size_and_acl_are_bound_when_given(moto_endpoint: str, s3_bucket: str) -> None:
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, acl="public-read")
    media = Media(storage, secret_key=SECRET, max_upload_bytes=10 * MIB)
    upload = media.presign_upload("a.png", "image/png", size=1234)
    conditions = json.loads(base64.b64decode(upload["fields"]["policy"]))["conditions"]
    assert ["content-length-range", 1, 1234] in conditions
    assert {"acl": "public-read"} in conditions and upload["fields"]["acl"] == "public-read"
    with pytest.raises(UploadTooLarge):
        media.presign_upload("a.png", "image/png", size=10 * MIB + 1)


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "application/javascript", "", "image/tiff", None]
)
def test_declared_type_must_be_allowed(s3_media: Media, content_type: Any) -> None:
    with pytest.raises(UnsupportedMediaType):
        s3_media.presign_upload("x.jpg", content_type)
    with pytest.raises(UnsupportedMediaType):
        s3_media.create_multipart_upload("x.jpg", content_type)


def test_the_extension_follows_the_declared_type(s3_media: Media) -> None:
    upload = s3_media.presign_upload("photo.exe", "image/png; charset=binary")
    assert upload["id"].endswith("/photo.png")
    assert upload["fields"]["Content-Type"] == "image/png"


def test_part_url_is_signed_for_that_key_upload_and_part_only(s3_media: Media) -> None:
    started = s3_media.create_multipart_upload("big.mp4", "video/mp4")
    url = s3_media.sign_upload_part(started["key"], started["upload_id"], 3)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert parts.path.endswith("/" + quote(started["key"], safe="/"))
    assert (query["uploadId"], query["partNumber"], query["X-Amz-Expires"]) == (started["upload_id"], "3", "600")
    assert query["X-Amz-SignedHeaders"] == "host"
    # Recompute the SigV4 query signature.
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()) if k != "X-Amz-Signature"
    )
    canonical = "\n".join(["PUT", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    _, date, region, _, _ = query["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    expected = hmac.new(_sigv4_key("testing", date, region), to_sign.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(query["X-Amz-Signature"], expected)
    s3_media.abort_multipart_upload(started["key"], started["upload_id"])


class Sent:
    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-send.s3.*", lambda event_name, **kw: self.names.append(event_name))


@pytest.mark.parametrize(
    "key",
    [
        "3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg/cat.jpg",  # an original: never uploadable
        "uploads/../3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg",
        "uploads/3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg/cat.jpg",
        "uploads/anything.jpg",
        "other/3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg",
        "",
        None,
    ],
)
def test_a_key_the_app_could_not_have_issued_is_refused_before_any_s3_call(s3_media: Media, key: Any) -> None:
    sent = Sent(s3_media.storage.client)  # type: ignore[attr-defined]
    for call in (
        lambda: s3_media.sign_upload_part(key, "upload-id", 1),
        lambda: s3_media.list_upload_parts(key, "upload-id"),
        lambda: s3_media.complete_multipart_upload(key, "upload-id", [{"PartNumber": 1, "ETag": '"e"'}]),
        lambda: s3_media.abort_multipart_upload(key, "upload-id"),
        lambda: s3_media.confirm_upload(key),
    ):
        with pytest.raises(InvalidUpload):
            call()
    assert sent.names == []


@pytest.mark.parametrize("part", [0, -1, 10_001, "x", "1e3", 1.5, True, None])
def test_part_numbers_are_checked(s3_media: Media, part: Any) -> None:
    key = "uploads/3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg"
    with pytest.raises(InvalidUpload):
        s3_media.sign_upload_part(key, "upload-id", part)


def test_parts_past_the_size_limit_are_not_signed(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET,
                  max_upload_bytes=12 * MIB)  # fmt: skip
    started = media.create_multipart_upload("big.mp4", "video/mp4")
    media.sign_upload_part(started["key"], started["upload_id"], 3)  # 10 MiB already in: may still be within
    with pytest.raises(UploadTooLarge):
        media.sign_upload_part(started["key"], started["upload_id"], 4)  # 15 MiB at least before it


# --- what arrives (S3, over real HTTP) ----------------------------------------------------------------


def test_form_upload_to_s3_then_confirm(s3_media: Media) -> None:
    data = jpeg(640, 480)
    upload = s3_media.presign_upload("cat.jpg", "image/jpeg")
    assert s3_post(upload, data).status_code == 204
    assert not s3_media.exists(upload["id"])  # not media until confirmed
    with pytest.raises(NotFound):
        s3_media.create_resize(s3_media.resize_key(upload["id"], "64x"))
    media_id = s3_media.confirm_upload(upload["key"])
    assert (media_id, media_id.width, media_id.height, media_id.content_type) == (
        upload["id"], 640, 480, "image/jpeg"
    )  # fmt: skip
    assert s3_media.get(media_id) == data
    assert not s3_media.storage.exists(upload["key"])  # the pending object is gone
    head = s3_media.storage.client.head_object(Bucket=s3_media.storage.bucket, Key=f"{media_id}/cat.jpg")  # type: ignore[attr-defined]
    assert head["ContentType"] == "image/jpeg" and head["CacheControl"] == IMMUTABLE_CACHE_CONTROL
    key = s3_media.create_resize(s3_media.resize_key(media_id, "64x"))
    assert Image.open(io.BytesIO(s3_media.storage.get(key))).size == (64, 48)
    assert s3_media.confirm_upload(media_id) == media_id  # twice: the same id


def test_multipart_upload_over_10_mib_to_s3_then_confirm(s3_media: Media) -> None:
    data = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * (11 * 4096))[: 11 * MIB]
    started = s3_media.create_multipart_upload("clip.mp4", "video/mp4")
    etags = []
    for number, chunk in enumerate((data[: 6 * MIB], data[6 * MIB :]), start=1):
        url = s3_media.sign_upload_part(started["key"], started["upload_id"], number)
        response = requests.put(url, data=chunk, timeout=60)
        assert response.status_code == 200
        etags.append({"PartNumber": number, "ETag": response.headers["ETag"]})
    listed = s3_media.list_upload_parts(started["key"], started["upload_id"])
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 6 * MIB), (2, 5 * MIB)]
    location = s3_media.complete_multipart_upload(started["key"], started["upload_id"], etags)
    assert location.endswith(started["key"])
    media_id = s3_media.confirm_upload(started["key"])
    assert media_id.content_type == "video/mp4" and media_id.endswith("/clip.mp4")
    assert s3_media.get(media_id) == data


def test_completing_more_than_the_limit_aborts(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET,
                  max_upload_bytes=8 * MIB)  # fmt: skip
    started = media.create_multipart_upload("clip.mp4", "video/mp4")
    etags = []
    for number in (1, 2):
        url = media.sign_upload_part(started["key"], started["upload_id"], number)
        etags.append({"PartNumber": number, "ETag": requests.put(url, data=b"x" * 5 * MIB, timeout=60).headers["ETag"]})
    with pytest.raises(UploadTooLarge):
        media.complete_multipart_upload(started["key"], started["upload_id"], etags)
    with pytest.raises(NotFound):
        media.list_upload_parts(started["key"], started["upload_id"])  # aborted
    assert not media.storage.exists(started["key"])


def _smuggle(media: Media, upload: dict[str, Any], data: bytes, content_type: str) -> None:
    """What a client could get into the pending key with a policy S3 would enforce... or a looser store."""
    media.storage.client.put_object(  # type: ignore[attr-defined]
        Bucket=media.storage.bucket,
        Key=upload["key"],
        Body=data,
        ContentType=content_type,  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(
    ("declared", "data", "error"),
    [
        ("image/jpeg", HTML, UnsupportedMediaType),  # HTML declared as a JPEG
        ("image/png", jpeg(20, 20), UnsupportedMediaType),  # a real image, but not the declared one
        ("image/png", png_bomb(), ImageTooLarge),  # a pixel bomb
        ("image/jpeg", jpeg(64, 64)[:-200], Exception),  # cut short: refused by the structure walk
        ("image/png", png_cut_short(), NotAnImage),  # a whole container whose pixels stop halfway
        ("video/mp4", b"\x00\x00\x00\x18ftypmp42" + HTML * 20, UnsupportedMediaType),  # a polyglot
    ],
)
def test_confirm_refuses_and_deletes_what_should_not_be_media(
    s3_media: Media, declared: str, data: bytes, error: type[Exception]
) -> None:
    upload = s3_media.presign_upload("f", declared)
    _smuggle(s3_media, upload, data, declared)
    with pytest.raises(error) as info:
        s3_media.confirm_upload(upload["key"])
    assert info.value.__class__.__module__ == "s3media_wsgi.errors"
    assert not s3_media.storage.exists(upload["key"])
    assert not s3_media.exists(upload["id"])


def test_confirm_refuses_and_deletes_an_oversize_file_without_reading_it(moto_endpoint: str, s3_bucket: str) -> None:
    media = Media(S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint), secret_key=SECRET,
                  max_upload_bytes=100_000)  # fmt: skip
    upload = media.presign_upload("big.png", "image/png")
    _smuggle(media, upload, png(2000, 2000), "image/png")
    sent = Sent(media.storage.client)  # type: ignore[attr-defined]
    with pytest.raises(UploadTooLarge):
        media.confirm_upload(upload["id"])
    assert "before-send.s3.GetObject" not in sent.names
    assert not media.storage.exists(upload["key"])


def test_confirm_of_nothing_uploaded_is_not_found(s3_media: Media) -> None:
    upload = s3_media.presign_upload("f.jpg", "image/jpeg")
    with pytest.raises(NotFound):
        s3_media.confirm_upload(upload["key"])


# --- local storage: the middleware stands in for S3 ---------------------------------------------------


def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host"]


@pytest.fixture
def app(local_media: Media) -> MediaMiddleware:
    return MediaMiddleware(host, local_media, uploads=lambda request: request.headers.get("X-User") != "banned")


def form(upload: dict[str, Any], data: bytes, **changes: str) -> Request:
    return Request.blank(upload["url"], POST={**upload["fields"], **changes, "file": ("f", data)})


def test_local_form_upload_is_checked_like_s3(app: MediaMiddleware, local_media: Media) -> None:
    data = jpeg(100, 80)
    upload = local_media.presign_upload("cat.jpg", "image/jpeg", size=len(data) + 10)
    assert upload["url"] == "/media/s3/local/upload"
    # Every change to what was signed is refused, and nothing is stored.
    assert form(upload, data, key="uploads/" + upload["id"].replace("cat", "dog")).get_response(app).status_int == 403
    assert form(upload, data, **{"Content-Type": "image/png"}).get_response(app).status_int == 403
    assert form(upload, data, signature="0" * 64).get_response(app).status_int == 403
    forged = json.loads(base64.b64decode(upload["fields"]["policy"])) | {"max": 10**9}
    policy = base64.b64encode(json.dumps(forged).encode()).decode()
    assert form(upload, data, policy=policy).get_response(app).status_int == 403
    assert form(upload, data + b"x" * 11).get_response(app).status_int == 413
    assert local_media.storage.local_path(upload["key"]) is None
    # The real thing: stored at the pending key, not served, not media until confirmed.
    assert form(upload, data).get_response(app).status_int == 204
    assert local_media.storage.local_path(upload["key"]) is not None
    assert Request.blank("/media/" + upload["key"]).get_response(app).status_int == 404
    assert not local_media.exists(upload["id"])
    assert form(upload, data).get_response(app).status_int == 409  # the key is used once
    assert local_media.confirm_upload(upload["key"]).width == 100


def test_local_uploads_over_the_limit_say_the_limit_in_mib(local_storage: LocalStorage) -> None:
    """The one wording of "too large" (limits.too_large_message), not a count of bytes, on every local route."""
    media = Media(local_storage, secret_key=SECRET, max_upload_bytes=MiB)
    app = MediaMiddleware(host, media, uploads=lambda request: True)
    upload = media.presign_upload("cat.jpg", "image/jpeg")
    # A request far over the limit is refused by its Content-Length, before its body is read.
    big = form(upload, b"x" * (MiB + 100 * 1024)).get_response(app)
    assert (big.status_int, big.json) == (413, {"error": "File too large: the limit is 1 MiB."})
    # Just over: the form reader stops at the limit.
    over = form(upload, b"x" * (MiB + 1)).get_response(app)
    assert (over.status_int, over.json) == (413, {"error": "File too large: the limit is 1 MiB."})
    assert local_storage.local_path(upload["key"]) is None


def test_a_declared_type_is_refused_in_the_words_of_a_checked_one(local_media: Media) -> None:
    """A known type the app does not take is named by its label, as put() names the same file's bytes."""
    narrow = Media(local_media.storage, secret_key=SECRET, allowed_types=["jpeg"])
    with pytest.raises(UnsupportedMediaType) as declared:
        narrow.presign_upload("scan.png", "image/png")
    with pytest.raises(UnsupportedMediaType) as checked:
        narrow.put(png(20, 10), filename="scan.png")
    assert str(declared.value) == str(checked.value) == "File type not accepted: PNG image. Accepted: JPEG image."
    # A type the library does not know keeps its MIME name: there is no other.
    with pytest.raises(UnsupportedMediaType, match=r"^File type not accepted: text/html\. Accepted: JPEG image\.$"):
        narrow.presign_upload("page.html", "text/html")


def test_local_form_expires(app: MediaMiddleware, local_media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    upload = local_media.presign_upload("cat.jpg", "image/jpeg")
    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda: later)
    response = form(upload, jpeg(10, 10)).get_response(app)
    assert response.status_int == 403 and "expired" in response.json["error"]


def test_local_part_urls_are_bound_to_their_upload(app: MediaMiddleware, local_media: Media) -> None:
    started = local_media.create_multipart_upload("a.jpg", "image/jpeg")
    other = local_media.create_multipart_upload("b.jpg", "image/jpeg")
    url = local_media.sign_upload_part(started["key"], started["upload_id"], 1)
    put = Request.blank(url, method="PUT", body=b"part one")
    assert put.get_response(app).headers["ETag"] == '"' + hashlib.md5(b"part one").hexdigest() + '"'
    for tampered in (
        url.replace("partNumber=1", "partNumber=2"),
        url.replace(started["upload_id"], other["upload_id"]),
        url.replace("signature=", "signature=0"),
    ):
        assert Request.blank(tampered, method="PUT", body=b"x").get_response(app).status_int == 403
    with pytest.raises(InvalidUpload):  # the key of another upload
        local_media.list_upload_parts(other["key"], started["upload_id"])


# --- the routes --------------------------------------------------------------------------------


def call(app: Any, path: str, method: str = "GET", payload: Any = None, **headers: str) -> Any:
    body = b"" if payload is None else json.dumps(payload).encode()
    request = Request.blank(path, method=method, body=body, headers=headers)
    if payload is not None and "Content-Type" not in headers:
        request.content_type = "application/json"
    return request.get_response(app)


def test_routes_are_off_unless_an_authorisation_hook_is_given(local_media: Media) -> None:
    plain = MediaMiddleware(host, local_media)
    response = call(plain, "/media/s3/params?filename=a.jpg&type=image/jpeg")
    assert response.status_int == 404 and response.json == {"error": "Not found"}


def test_refused_users_get_403_json(app: MediaMiddleware) -> None:
    response = call(app, "/media/s3/params?filename=a.jpg&type=image%2Fjpeg", **{"X-User": "banned"})
    assert response.status_int == 403 and response.content_type == "application/json"
    assert response.json["error"]


def test_params_reads_a_form_encoded_query(app: MediaMiddleware) -> None:
    response = call(app, "/media/s3/params?filename=My+Holiday+Photo.JPG&type=image%2Fjpeg&metadata%5Bname%5D=x")
    assert response.status_int == 200
    assert set(response.json) == {"method", "url", "fields", "expires", "headers"}
    assert response.json["fields"]["key"].endswith("/my-holiday-photo.jpg")


def test_upload_urls_handed_out_are_absolute(app: MediaMiddleware) -> None:
    # Uppy parses them (new URL(url)): a path alone is not a URL.
    params = call(app, "/media/s3/params?filename=a.jpg&type=image%2Fjpeg").json
    assert params["url"] == "http://localhost/media/s3/local/upload"
    started = call(app, "/media/s3/multipart", "POST", payload={"filename": "a.jpg", "type": "image/jpeg"}).json
    part = call(app, f"/media/s3/multipart/{started['uploadId']}/1?key={quote(started['key'])}").json
    assert part["url"].startswith("http://localhost/media/s3/local/part?")
    form_post = Request.blank(params["url"], POST={**params["fields"], "file": ("a.jpg", jpeg(8, 8))})
    answer = form_post.get_response(app)
    assert answer.status_int == 204 and answer.headers["Location"].startswith("http://localhost/media/uploads/")


def test_state_changing_calls_need_json(app: MediaMiddleware) -> None:
    response = call(app, "/media/s3/multipart", "POST", **{"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_int == 415
    response = call(app, "/media/s3/confirm", "POST", payload={"key": "uploads/../../etc/passwd"})
    assert response.status_int == 403 and "not an upload key" in response.json["error"]


def _sent(app: MediaMiddleware, data: bytes, filename: str = "dot.png", kind: str = "image/png") -> str:
    """Upload *data* through the local form route; return its pending key."""
    params = call(app, f"/media/s3/params?filename={filename}&type={quote(kind, safe='')}").json
    assert (
        Request.blank(params["url"], POST={**params["fields"], "file": (filename, data)}).get_response(app).status_int
        == 204
    )
    return str(params["fields"]["key"])


def test_confirm_route_answers_what_a_page_needs(app: MediaMiddleware, local_media: Media) -> None:
    data = png(30, 20)
    confirmed = call(app, "/media/s3/confirm", "POST", payload={"key": _sent(app, data)})
    assert confirmed.status_int == 200
    body = confirmed.json
    assert (body["content_type"], body["width"], body["height"]) == ("image/png", 30, 20)
    assert call(app, body["url"]).body == data


def test_confirm_answers_a_receipt_bound_to_what_the_hook_answered(local_media: Media) -> None:
    """A hook answering a str binds the receipt to it; True makes an unbound one; "" refuses, as False does."""
    bound = MediaMiddleware(host, local_media, uploads=lambda request: request.headers.get("X-User", ""))
    assert call(bound, "/media/s3/params?filename=a.png&type=image%2Fpng").status_int == 403  # "": refused
    params = call(bound, "/media/s3/params?filename=a.png&type=image%2Fpng", **{"X-User": "alice"}).json
    form_post = Request.blank(params["url"], POST={**params["fields"], "file": ("a.png", png(4, 4))})
    assert form_post.get_response(bound).status_int == 204
    key = params["fields"]["key"]
    confirmed = call(bound, "/media/s3/confirm", "POST", payload={"key": key}, **{"X-User": "alice"}).json
    assert local_media.check_receipt(confirmed["receipt"], "alice") == confirmed["id"]
    for someone_else in (None, "mallory"):
        with pytest.raises(InvalidUpload):
            local_media.check_receipt(confirmed["receipt"], someone_else)
    unbound = MediaMiddleware(host, local_media, uploads=lambda request: True)
    again = call(unbound, "/media/s3/confirm", "POST", payload={"key": _sent(unbound, png(4, 4))}).json
    assert local_media.check_receipt(again["receipt"]) == again["id"]


def test_a_confirm_refused_on_this_side_keeps_the_upload(
    app: MediaMiddleware, local_media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No decode slot in time (a burst of big images), or no memory: 503, and the retry finds the upload.
    from s3media_wsgi import imaging

    monkeypatch.setattr(imaging, "DECODE_WAIT", 0.05)
    key = _sent(app, png(30, 20))
    engine = local_media.engine
    for _ in range(engine.max_concurrency):
        engine._slots.acquire()  # every slot busy with other images
    try:
        busy = call(app, "/media/s3/confirm", "POST", payload={"key": key})
    finally:
        for _ in range(engine.max_concurrency):
            engine._slots.release()
    assert busy.status_int == 503 and busy.headers["Retry-After"] == "1"
    assert local_media.storage.local_path(key) is not None  # kept

    load = ImageFile.ImageFile.load

    def out_of_memory(im: ImageFile.ImageFile) -> Any:
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", out_of_memory)
    starved = call(app, "/media/s3/confirm", "POST", payload={"key": key})
    assert starved.status_int == 503 and starved.json["error"] == "Busy, try again shortly"
    assert local_media.storage.local_path(key) is not None  # kept
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    assert call(app, "/media/s3/confirm", "POST", payload={"key": key}).json["width"] == 30


def test_confirming_again_reads_the_header_only(
    app: MediaMiddleware, local_media: Media, decoded_sizes: list[tuple[int, int]]
) -> None:
    # Anyone may send any id to the route: that must not make the server decode the image each time.
    key = _sent(app, png(300, 200))
    decoded = decoded_sizes
    first = call(app, "/media/s3/confirm", "POST", payload={"key": key}).json
    assert first["width"] == 300 and local_media.check_receipt(first["receipt"]) == first["id"]
    assert decoded == [(300, 200)]  # the first confirm checks the pixels
    for again in (key, first["id"]):
        answer = call(app, "/media/s3/confirm", "POST", payload={"key": again})
        assert answer.status_int == 409 and answer.json == {"error": "This upload was confirmed already."}
    assert local_media.confirm_upload(key).width == 300  # the Python API stays idempotent
    assert decoded == [(300, 200)]  # the next ones do not decode


def test_cors_only_for_configured_origins(local_media: Media) -> None:
    app = MediaMiddleware(host, local_media, uploads=lambda r: True, cors_origins=["https://app.example.com"])
    path = "/media/s3/params?filename=a.jpg&type=image%2Fjpeg"
    allowed = call(app, path, Origin="https://app.example.com")
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in call(app, path, Origin="https://evil.example").headers
    preflight = call(app, path, "OPTIONS", Origin="https://app.example.com")
    assert preflight.status_int == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert call(app, path, "OPTIONS", Origin="https://evil.example").status_int == 403
