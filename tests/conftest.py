"""Shared fixtures: real storages (a temp folder; moto's S3 server over HTTP) and real images."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# boto3 must never find real credentials or a real endpoint while testing.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}.items():
    os.environ[_name] = _value

SECRET = "test-secret-0123456789-abcdefghijklmnop"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """An S3 implementation (moto's server) on 127.0.0.1, on a free port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(moto_endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client) -> str:
    """A fresh, empty bucket for one test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_storage(moto_endpoint: str, s3_bucket: str, s3_client):
    from s3media_wsgi import S3Storage

    return S3Storage(
        bucket=s3_bucket,
        region="us-east-1",
        base_url=f"{moto_endpoint}/{s3_bucket}/",
        endpoint_url=moto_endpoint,
        client=s3_client,
    )


@pytest.fixture
def local_storage(tmp_path):
    from s3media_wsgi import LocalStorage

    return LocalStorage(tmp_path / "media", base_url="/media/")


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """Each storage backend in turn: the contract suite runs against both."""
    return request.getfixturevalue(f"{request.param}_storage")


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def decoded_sizes(monkeypatch):
    """The size of every image Pillow decodes pixels of from here on (``ImageFile.load`` calls), in order."""
    from PIL import ImageFile

    sizes = []
    load = ImageFile.ImageFile.load

    def spy(im):
        sizes.append(im.size)
        return load(im)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes
