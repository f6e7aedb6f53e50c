"""After an upload: the app's ``on_confirm`` hook and eager presets, through the real routes.

The upload routes are served by waitress (``serve_wsgi``) and files are sent
as a browser sends them: to the local form route, or straight to S3 (moto).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin

import pytest
import requests
from images import png
from servers import serve_wsgi

from s3media_wsgi import LocalStorage, Media, MediaMiddleware, S3Storage
from s3media_wsgi.direct_uploads import ConfirmedUpload
from s3media_wsgi.errors import UploadRefusedByApp

SECRET = "after-upload-secret-0123456789-abcdefgh"
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
EICAR = b"X5O!P%@AP"  # what the test's "virus scanner" looks for


def host(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host"]


class Scanner:
    """An app's on_confirm hook: refuses what carries EICAR, records what it saw; may be made to crash."""

    def __init__(self) -> None:
        self.seen: list[tuple[ConfirmedUpload, bytes]] = []
        self.crash = False

    def __call__(self, upload: ConfirmedUpload) -> None:
        data = upload.read()
        self.seen.append((upload, data))
        if self.crash:
            raise RuntimeError("the scanner's own bug")
        if EICAR in data:
            raise UploadRefusedByApp("This file carries a virus: it was not kept.")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param == "local":
        return LocalStorage(str(tmp_path / "media"), base_url="/media/")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(bucket, region="us-east-1", endpoint_url=endpoint)


@pytest.fixture
def scanner() -> Scanner:
    return Scanner()


@pytest.fixture
def served(storage: Any, scanner: Scanner) -> Iterator[tuple[str, Media]]:
    media = Media(storage, secret_key=SECRET, on_confirm=scanner)
    app = MediaMiddleware(host, media, uploads=lambda request: True)
    with serve_wsgi(app, threads=4) as url:
        yield url, media


def send(base: str, data: bytes, filename: str, kind: str) -> str:
    """A browser's upload through the routes: params, then the form POST (local route or S3); its key."""
    params = requests.get(f"{base}/media/s3/params?filename={filename}&type={quote(kind, safe='')}", timeout=30)
    assert params.status_code == 200, params.text
    form = params.json()
    sent = requests.post(urljoin(base, form["url"]), data=form["fields"], files={"file": (filename, data)}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    return str(form["fields"]["key"])


def confirm(base: str, key: str) -> requests.Response:
    return requests.post(f"{base}/media/s3/confirm", json={"key": key}, timeout=30)


def pending_exists(media: Media, key: str) -> bool:
    return bool(media.storage.exists(key))


@pytest.mark.parametrize(
    ("filename", "kind", "data"), [("a.png", "image/png", png(24, 16)), ("a.pdf", "application/pdf", PDF)]
)
def test_an_accepted_upload_is_published_after_the_hook_saw_the_checked_bytes(
    served: tuple[str, Media], scanner: Scanner, filename: str, kind: str, data: bytes
) -> None:
    base, media = served
    key = send(base, data, filename, kind)
    answer = confirm(base, key)
    assert answer.status_code == 200, answer.text
    media_id = answer.json()["id"]
    assert media.get(media_id) == data and not pending_exists(media, key)
    [(upload, seen)] = scanner.seen
    assert (upload.media_id, upload.content_type, upload.size, seen) == (media_id, kind, len(data), data)
    if kind == "image/png":
        assert (upload.width, upload.height, upload.staged_key) == (24, 16, None)
    else:
        assert upload.staged_key is not None and upload.staged_key.startswith("uploads/")
        assert not media.storage.exists(upload.staged_key)  # the staged copy went after the publish


@pytest.mark.parametrize(
    ("filename", "kind", "data"),
    [("v.png", "image/png", png(24, 16) + EICAR), ("v.pdf", "application/pdf", PDF + EICAR)],
)
def test_a_refusal_deletes_the_pending_upload_and_shows_the_hooks_message(
    served: tuple[str, Media], filename: str, kind: str, data: bytes
) -> None:
    base, media = served
    key = send(base, data, filename, kind)
    answer = confirm(base, key)
    assert answer.status_code == 422
    assert answer.json() == {"error": "This file carries a virus: it was not kept."}
    media_id = key.removeprefix("uploads/")
    assert not pending_exists(media, key) and not media.exists(media_id)
    assert confirm(base, key).status_code == 404  # gone: nothing to confirm again


def test_a_hook_that_crashes_is_a_500_logged_with_its_traceback_and_the_upload_is_kept(
    served: tuple[str, Media], scanner: Scanner, caplog: pytest.LogCaptureFixture
) -> None:
    base, media = served
    key = send(base, png(8, 8), "c.png", "image/png")
    scanner.crash = True
    with caplog.at_level(logging.ERROR, logger="s3media_wsgi"):
        answer = confirm(base, key)
    assert answer.status_code == 500
    assert "scanner" not in answer.text  # the app's bug is not shown to the uploader
    [record] = [r for r in caplog.records if "on_confirm hook failed" in r.getMessage()]
    assert record.exc_info is not None and "the scanner's own bug" in repr(record.exc_info[1].__cause__)
    assert pending_exists(media, key) and not media.exists(key.removeprefix("uploads/"))
    scanner.crash = False
    retried = confirm(base, key)  # fixed: the retry publishes it
    assert retried.status_code == 200 and media.exists(retried.json()["id"])


def test_put_does_not_run_the_hook(local_storage: LocalStorage, scanner: Scanner) -> None:
    media = Media(local_storage, secret_key=SECRET, on_confirm=scanner)
    media.put(png(8, 8) + EICAR)  # put is app code already: the app checks what it puts
    assert scanner.seen == []
