"""Uppy (@uppy/core + @uppy/aws-s3 in Companion mode) against the routes, in a real browser.

Uppy is told nothing but the prefix (``companionEndpoint: "/media"``) and when to use multipart
(above 6 MiB); the page then confirms with the key Uppy reports.  Each test runs with local
storage and with S3 (moto); see conftest.py for what they need (Node.js and ``npm ci`` here).

With local storage, Uppy needs an absolute ``base_url``: its form upload builds the object's
location with ``new URL(url)`` from the ``url`` that ``s3/params`` answers, which is relative
(``/media/s3/local/upload``) when ``base_url`` is; see the expected failure at the end.
"""

from __future__ import annotations

from typing import Any

import pytest


def run_uppy(page: Any, name: str) -> dict[str, Any]:
    """``window.runUppy`` in the page: {ok, key, location, confirmed, progress, size} or {ok: false, error}."""
    outcome: dict[str, Any] = page.evaluate(
        "(arguments) => window.runUppy(arguments)", {"name": name, "type": "image/png"}
    )
    return outcome


@pytest.mark.absolute_local_base_url
@pytest.mark.parametrize("name", ["small.png", "big.png"])
def test_uppy_uploads_and_the_page_confirms(
    page: Any, site: Any, fixtures: dict[str, bytes], uppy_bundle: Any, name: str
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    outcome = run_uppy(page, name)
    assert outcome["ok"], outcome
    key, confirmed = outcome["key"], outcome["confirmed"]
    assert key.startswith("uploads/") and key.endswith(f"/{name}")
    assert confirmed["id"] == key.removeprefix("uploads/")
    assert site.media.get(confirmed["id"]) == fixtures[name]
    assert confirmed["content_type"] == "image/png" and confirmed["width"] in (320, 2048)
    assert site.open_uploads() == [] and not any(k.startswith("uploads/") for k in site.stored())
    # Uppy's own progress reached the whole file.
    assert outcome["progress"] and outcome["progress"][-1] == [len(fixtures[name])] * 2
    # Playwright's request events can trail the page's promise: let them arrive (3 s at most).
    for _ in range(60):
        if any("/s3/confirm" in r for r in requests):
            break
        page.wait_for_timeout(50)
    multipart = [r for r in requests if "/s3/multipart" in r]
    if name == "big.png":
        assert sum(r.startswith("PUT ") for r in requests) >= 3, requests  # 5 MiB chunks: three parts
        assert any(r.startswith("POST ") and "/complete?" in r for r in multipart)
    else:
        assert not multipart and any("/s3/params?" in r for r in requests), requests


# @uppy/aws-s3 6 parses the URL it is given (new URL(url)): with a relative
# LocalStorage base_url the routes make it absolute from the request's origin.
@pytest.mark.parametrize("site", ["local"], indirect=True)
def test_uppy_form_upload_with_a_relative_local_base_url(page: Any, site: Any, uppy_bundle: Any) -> None:
    outcome = run_uppy(page, "small.png")
    assert outcome["ok"], outcome
