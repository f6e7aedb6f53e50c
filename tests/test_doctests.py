"""The examples in the core's docstrings run and say what they claim; none is skipped.

Every module's examples run in a temporary working folder, with a few names
they may use without building them: ``SECRET``, ``storage`` (a LocalStorage,
or for the S3 module an S3Storage on moto's server), ``media`` (a Media on
that storage), ``media_id`` (a photo stored in it), ``photo_bytes``/``data``
(a JPEG), ``app`` (a trivial WSGI app).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from images import jpeg

import s3media_wsgi
from s3media_wsgi import LocalStorage, Media, S3Storage

SECRET = "doctest-secret-0123456789-abcdefghijk"

CORE = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(s3media_wsgi.__path__, "s3media_wsgi.")
    if not name.startswith("s3media_wsgi.adapters")
)


def host_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host app"]


@pytest.fixture
def globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    storage = LocalStorage(tmp_path / "media", base_url="/media/")
    media = Media(storage, secret_key=SECRET)
    photo = jpeg(800, 600)
    return {
        "SECRET": SECRET,
        "storage": storage,
        "media": media,
        "media_id": media.put(photo, filename="cat.jpg"),
        "photo_bytes": photo,
        "data": photo,
        "app": host_app,
    }


@pytest.mark.parametrize("name", CORE)
def test_docstring_examples(name: str, globs: dict[str, Any], request: pytest.FixtureRequest) -> None:
    if name == "s3media_wsgi.storage.s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        globs["storage"] = S3Storage(
            bucket, region="us-east-1", endpoint_url=endpoint, base_url="https://media.example.com/"
        )
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs=globs, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_no_example_is_skipped() -> None:
    for path in sorted(Path(s3media_wsgi.__file__).parent.rglob("*.py")):
        assert "doctest: +SKIP" not in path.read_text(), path.name
