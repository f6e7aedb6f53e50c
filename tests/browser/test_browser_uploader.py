"""uploader.js in a real browser, against the routes, with local storage and with S3 (moto).

Each test runs once per storage (the ``site`` fixture); see conftest.py for what they need.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from s3media_wsgi.errors import UnsupportedMediaType

MiB = 1024 * 1024
#: Multipart above 6 MiB in 5 MiB parts: the 12 MiB fixture goes up in three parts.
MULTIPART = {"multipartThreshold": 6 * MiB, "partSize": 5 * MiB}


def run(page: Any, **arguments: Any) -> dict[str, Any]:
    """``window.runUploader(arguments)`` in the page: {ok, result | error, progress, size}."""
    result: dict[str, Any] = page.evaluate("(arguments) => window.runUploader(arguments)", arguments)
    return result


def watch_requests(page: Any) -> list[str]:
    """Every request the page makes from now on, as ``"METHOD path-or-url"``."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(f"{request.method} {request.url}"))
    return seen


def count_when_settled(page: Any, requests: list[str], predicate: Any, expected: int) -> int:
    """How many recorded requests match, once Playwright has delivered its pending request events.

    Events reach the sync API while it waits, so they can trail the page's own
    promise by a moment: wait (at most 3 s) until the count stops short of nothing.
    """
    deadline = time.monotonic() + 3
    while True:
        count = sum(1 for r in requests if predicate(r))
        if count >= expected or time.monotonic() > deadline:
            return count
        page.wait_for_timeout(50)


def assert_progress(progress: list[list[int]], size: int) -> None:
    """Progress went only forward, ended at the size, and reached it exactly once."""
    assert progress, "no progress was reported"
    loaded = [event[0] for event in progress]
    assert all(total == size for _, total in progress)
    assert loaded == sorted(loaded) and len(set(loaded)) == len(loaded), loaded
    assert loaded[-1] == size and loaded.count(size) == 1


def assert_resize_shown(page: Any, media_id: str) -> None:
    """The resize URL the app hands out gives the browser an image 64 pixels wide."""
    shown = page.evaluate("(id) => window.showResize(id)", media_id)
    assert shown["width"] == 64 and shown["height"] > 0, shown


def wait_until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll *check* for up to *seconds* (a request aborted by the page may still be finishing on the server)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_small_file_goes_up_in_one_form_post(page: Any, site: Any, fixtures: dict[str, bytes]) -> None:
    requests = watch_requests(page)
    outcome = run(page, name="small.png", type="image/png", filename="Holiday Photo.png")
    assert outcome["ok"], outcome
    media_id = outcome["result"]
    assert isinstance(media_id, str) and media_id.endswith("/holiday-photo.png")
    assert_progress(outcome["progress"], len(fixtures["small.png"]))
    assert site.media.get(media_id) == fixtures["small.png"]
    assert not any(key.startswith("uploads/") for key in site.stored())  # the pending copy is gone
    count_when_settled(page, requests, lambda r: r.startswith("POST "), 2)
    posts = [r for r in requests if r.startswith("POST ")]
    assert len(posts) == 2 and "/s3/confirm" in posts[1], requests  # the form, then the confirm
    assert not any("/s3/multipart" in r for r in requests)
    assert_resize_shown(page, media_id)


def test_big_file_goes_up_in_parallel_parts(page: Any, site: Any, fixtures: dict[str, bytes]) -> None:
    requests = watch_requests(page)
    outcome = run(page, name="big.png", type="image/png", options=MULTIPART, detailed=True)
    assert outcome["ok"], outcome
    confirmed = outcome["result"]
    assert confirmed["content_type"] == "image/png"
    assert (confirmed["width"], confirmed["height"]) == (2048, 2048)
    assert confirmed["url"] == site.media.url(confirmed["id"])
    # The receipt a form sends back instead of the id (the hook said True: bound to no one).
    assert site.media.check_receipt(confirmed["receipt"]) == confirmed["id"]
    size = len(fixtures["big.png"])
    assert size > 12 * MiB
    assert_progress(outcome["progress"], size)
    assert site.media.get(confirmed["id"]) == fixtures["big.png"]
    assert site.open_uploads() == [] and not any(key.startswith("uploads/") for key in site.stored())
    signed = count_when_settled(page, requests, lambda r: r.startswith("GET ") and "/s3/multipart/" in r, 3)
    assert signed == 3, requests  # one signature per part
    # Each signature binds its part's size (row 12): the sizes asked for are the file's, cut in parts.
    asked = [r for r in requests if r.startswith("GET ") and "/s3/multipart/" in r]
    sizes = sorted(int(dict(parse_qsl(urlsplit(r.split(" ", 1)[1]).query))["size"]) for r in asked)
    assert sizes[1:] == [5 * MiB, 5 * MiB] and sum(sizes) == size, asked
    assert count_when_settled(page, requests, lambda r: r.startswith("PUT "), 3) == 3
    assert count_when_settled(page, requests, lambda r: r.startswith("POST ") and "/complete?" in r, 1) == 1
    assert_resize_shown(page, confirmed["id"])


def test_cancel_between_parts_aborts_the_multipart_upload(page: Any, site: Any) -> None:
    # One part at a time; cancelled when part 3 is about to be signed: two parts are stored.
    requests = watch_requests(page)
    options = MULTIPART | {"concurrency": 1}
    outcome = run(page, name="big.png", type="image/png", options=options, abortOn=r"^GET \S*/s3/multipart/[^/?]+/3\?")
    assert not outcome["ok"]
    assert outcome["error"]["name"] == "AbortError", outcome
    assert 0 < outcome["progress"][-1][0] < outcome["size"]
    # Aborted: proven on the storage side (request events may arrive late or not at all).
    assert wait_until(lambda: site.open_uploads() == []), site.open_uploads()
    assert not any("/complete?" in r or "/s3/confirm" in r for r in requests)
    assert site.open_uploads() == []
    assert site.stored() == []


def test_cancel_during_a_part_aborts_it_and_the_upload(page: Any, site: Any) -> None:
    # Cancelled on the first progress event: part uploads are in flight and are aborted.
    requests = watch_requests(page)
    outcome = run(page, name="big.png", type="image/png", options=MULTIPART, abortOn="progress")
    assert not outcome["ok"]
    assert outcome["error"]["name"] == "AbortError", outcome
    # Aborted: proven on the storage side (request events may arrive late or not at all).
    assert wait_until(lambda: site.open_uploads() == []), site.open_uploads()
    assert not any("/s3/confirm" in r for r in requests)
    # A part whose body had fully arrived may still be handled after the abort: it then finds no upload.
    assert wait_until(lambda: site.open_uploads() == [] and site.stored() == []), (site.open_uploads(), site.stored())


def test_a_refused_file_rejects_with_the_servers_message(page: Any, site: Any, fixtures: dict[str, bytes]) -> None:
    # HTML declared as a JPEG: storage takes it (what is signed binds the declared type), the confirm refuses.
    with pytest.raises(UnsupportedMediaType) as refusal:
        site.media.put(fixtures["page.html"])  # the same check, and so the same words
    outcome = run(page, name="page.html", type="image/jpeg", filename="cat.jpg")
    assert not outcome["ok"]
    assert outcome["error"] == {"name": "Error", "message": str(refusal.value), "status": 415}
    assert str(refusal.value).startswith("File type not accepted: HTML page.")
    assert all(loaded < outcome["size"] for loaded, _ in outcome["progress"])  # the total is for confirmed files
    assert site.stored() == []  # the confirm deleted what arrived
    # A type the app does not take is refused before anything is sent, with the server's message too.
    outcome = run(page, name="page.html", type="text/html")
    assert outcome["error"]["message"].startswith("File type not accepted: text/html. Accepted: JPEG image"), outcome
    assert outcome["error"]["status"] == 415
    assert site.stored() == []


def fail_next_part(page: Any, status: int, message: str) -> list[str]:
    """The next part PUT (its URL carries partNumber=, on S3 and locally) gets *status* with an S3 error body.

    Returns the list of the URLs it answered (one, once it has).
    """
    body = f"<?xml version='1.0'?><Error><Code>Test</Code><Message>{message}</Message></Error>"
    headers = {"Access-Control-Allow-Origin": "*", "Content-Type": "application/xml"}
    answered: list[str] = []

    def fail(route: Any) -> None:
        answered.append(route.request.url)
        route.fulfill(status=status, headers=headers, body=body)

    page.route(lambda url: "partNumber=" in url, fail, times=1)
    return answered


def test_a_failed_part_is_retried(page: Any, site: Any, fixtures: dict[str, bytes]) -> None:
    requests = watch_requests(page)
    failed = fail_next_part(page, 503, "Slow Down")
    outcome = run(page, name="big.png", type="image/png", options=MULTIPART)
    assert outcome["ok"], outcome
    # One part was answered 503, and the upload still completed whole: that part was sent again.
    # (Counted from the route, not from request events, which Playwright may deliver late or not at all.)
    assert len(failed) == 1, requests
    assert_progress(outcome["progress"], len(fixtures["big.png"]))
    assert site.media.get(outcome["result"]) == fixtures["big.png"]


def test_a_refused_part_fails_the_upload_and_aborts_it(page: Any, site: Any) -> None:
    requests = watch_requests(page)
    # Refused by the server, not by a Playwright route: with a route on the page, Chromium at
    # times held the abort's DELETE past the uploader's 10 s bound (about one run in three).
    site.refuse_part_signing.append("Request has expired")
    outcome = run(page, name="big.png", type="image/png", options=MULTIPART)
    assert outcome["error"] == {"name": "Error", "message": "Request has expired", "status": 403}, outcome
    # Aborted: proven on the storage side (request events may arrive late or not at all).
    assert wait_until(lambda: site.open_uploads() == []), site.open_uploads()
    assert not any("/complete?" in r or "/s3/confirm" in r for r in requests)
    assert wait_until(lambda: site.open_uploads() == [] and site.stored() == []), (site.open_uploads(), site.stored())
