"""examples/transcode_mediaconvert.py: a MediaConvert job started by ``on_confirm`` for each uploaded video.

moto has no MediaConvert, so the job is checked as JSON: against botocore's own model of
``CreateJob`` (every name, type and enum), through a real boto3 client whose sending is stubbed;
the upload, its confirm and the renditions written back go through moto's S3 server.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import boto3
import documents
import images
import pytest
import requests
from botocore.stub import Stubber
from botocore.validate import ParamValidator

from s3media_wsgi import Media, S3Storage
from s3media_wsgi.ids import original_key

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "transcode_mediaconvert.py"
SECRET = "transcode-secret-0123456789-abcdefghijk"
ROLE = "arn:aws:iam::123456789012:role/MediaConvert"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("transcode_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mediaconvert() -> tuple[object, Stubber]:
    client = boto3.client("mediaconvert", region_name="us-east-1", endpoint_url="https://mediaconvert.invalid")
    return client, Stubber(client)


def test_the_job_is_a_valid_create_job_request() -> None:
    example = load()
    client, _ = mediaconvert()
    shape = client.meta.service_model.operation_model("CreateJob").input_shape  # type: ignore[attr-defined]
    params = example.job("bucket", "3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4", ROLE)
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    outputs = params["Settings"]["OutputGroups"][0]["Outputs"]
    assert [o["VideoDescription"]["Height"] for o in outputs] == [720, 360]
    destination = params["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
    assert destination == "s3://bucket/3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4/renditions/"
    assert params["Settings"]["Inputs"][0]["FileInput"] == "s3://bucket/" + original_key(
        "3c72aedc/ba25/41e6/a569/406c8f413974/clip.mp4"
    )
    # A broken job is caught by the same check: it proves something.
    params["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["Type"] = "FILE_GROUP"
    params["Settings"]["Inputs"][0]["Bogus"] = 1
    assert ParamValidator().validate(params, shape).has_errors()


def test_a_confirmed_video_starts_a_job_and_its_renditions_live_under_its_id(
    moto_endpoint: str, s3_bucket: str, s3_client
) -> None:
    example = load()
    client, stub = mediaconvert()
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, private=True, client=s3_client)
    media = Media(storage, secret_key=SECRET, on_confirm=example.TranscodeOnConfirm(client, s3_bucket, ROLE))
    upload = media.presign_upload("clip.mp4", "video/mp4")
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("f", documents.video("mp4"))}, timeout=30
    )
    assert sent.status_code == 204
    with stub:
        # botocore checks the request against the CreateJob model before the stub answers it.
        stub.add_response("create_job", {"Job": {"Id": "job-1", "Role": ROLE, "Settings": {}}})
        media_id = media.confirm_upload(upload["key"])
        stub.assert_no_pending_responses()
    assert media_id.info is not None and media_id.info.video_codec == "h264"  # checked and described first
    # What MediaConvert writes back: under the id's prefix, served by the storage's own URLs.
    key = example.rendition_key(media_id, 720)
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=documents.video("mp4"), ContentType="video/mp4")
    got = requests.get(media.storage.url(key), timeout=10)
    assert got.status_code == 200 and got.content[4:8] == b"ftyp"
    assert media.delete(media_id) >= 2
    assert "Contents" not in s3_client.list_objects_v2(Bucket=s3_bucket, Prefix=media_id)


def test_an_image_starts_no_job(moto_endpoint: str, s3_bucket: str, s3_client) -> None:
    example = load()
    client, stub = mediaconvert()
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, client=s3_client)
    media = Media(storage, secret_key=SECRET, on_confirm=example.TranscodeOnConfirm(client, s3_bucket, ROLE))
    upload = media.presign_upload("cat.jpg", "image/jpeg")
    assert requests.post(upload["url"], data=upload["fields"], files={"file": ("f", images.jpeg(64, 48))}, timeout=30)
    with stub:  # no response queued: a create_job call would fail the confirm's hook
        assert media.confirm_upload(upload["key"]).width == 64


def test_a_job_that_cannot_start_leaves_the_upload_published(moto_endpoint: str, s3_bucket: str, s3_client) -> None:
    example = load()
    client, stub = mediaconvert()
    storage = S3Storage(s3_bucket, region="us-east-1", endpoint_url=moto_endpoint, client=s3_client)
    media = Media(storage, secret_key=SECRET, on_confirm=example.TranscodeOnConfirm(client, s3_bucket, ROLE))
    upload = media.presign_upload("clip.webm", "video/webm")
    files = {"file": ("f", documents.video("webm"))}
    assert requests.post(upload["url"], data=upload["fields"], files=files, timeout=30).status_code == 204
    with stub:
        stub.add_client_error("create_job", "TooManyRequestsException", http_status_code=429)
        media_id = media.confirm_upload(upload["key"])
    assert media.exists(media_id)


@pytest.mark.parametrize("height", [720, 360])
def test_rendition_keys_are_under_the_ids_prefix(height: int) -> None:
    key = load().rendition_key("3c72aedc/ba25/41e6/a569/406c8f413974/clip.mov", height)
    assert key == f"3c72aedc/ba25/41e6/a569/406c8f413974/clip.mov/renditions/clip-{height}p.mp4"
