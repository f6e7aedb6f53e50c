"""Headers built to make a parser backtrack must cost microseconds, for everyone.

A regular expression that backtracks holds the GIL while it runs, so one
hostile Range header (``bytes=0-`` then 128 KB of spaces and a stray
character: 47 s before the fix) froze every thread of the server, the host
app's too.  Here several such requests run at once under waitress while the
host app is timed.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from images import jpeg
from servers import serve_wsgi

from s3media_wsgi import LocalStorage, Media, MediaMiddleware

SECRET = "reliability-secret-0123456789-abcdefghij"

BOMBS = {
    "Range": "bytes=0-" + " " * 128_000 + "x",
    "If-None-Match": '"a", ' * 25_000,
    "If-Modified-Since": "Mon, " * 25_000,
    "If-Range": '"' + "x" * 120_000 + '"',
}


def host_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, int, float]:
    parts = urlsplit(base)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        res = conn.getresponse()
        body = res.read()
    finally:
        conn.close()
    return res.status, len(body), time.perf_counter() - started


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_hostile_header_neither_slows_its_request_nor_the_host_app(tmp_path: Path, name: str) -> None:
    media = Media(LocalStorage(tmp_path / "media", base_url="/media/"), secret_key=SECRET)
    data = jpeg(400, 300)
    media_id = media.put(data, filename="photo.jpg")
    path = "/media/" + media_id + "/photo.jpg"
    with serve_wsgi(MediaMiddleware(host_app, media), threads=8) as base:
        with ThreadPoolExecutor(4) as pool:
            bombs = [pool.submit(get, base, path, {name: BOMBS[name]}) for _ in range(4)]
            passing = [get(base, "/page") for _ in range(10)]
            answered = [b.result(timeout=30) for b in bombs]
    # The whole file, as if the header were absent (RFC 9110 allows ignoring it).
    assert all(status == 200 and size == len(data) for status, size, _ in answered)
    assert max(seconds for _, _, seconds in answered) < 1.0
    assert all(status == 200 for status, _, _ in passing)
    assert max(seconds for _, _, seconds in passing) < 1.0
