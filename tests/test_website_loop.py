"""The ``website`` delivery loop end to end, over real HTTP, against an S3 that serves website routing rules.

moto stores a bucket's website configuration but serves no website endpoint,
so tests/test_production_loop.py follows the routing rule by hand.  Here
s3rver (an S3 implementation on Node.js, pinned by tests/website/package-lock.json)
plays the bucket's website endpoint itself, configured with the very
``WebsiteConfiguration`` that ``s3media setup-bucket`` applies
(:func:`s3media_wsgi.bucket.website_configuration`), and the app runs under
waitress: a cold resize URL answers 302 to the app, which makes the resize and
answers 301 back to the website, which serves it; the next request never
reaches the app.

Everything listens on 127.0.0.1.  The website endpoint is addressed as S3's
is, by host name (``<bucket>.s3-website-<region>.localhost``, s3rver's service
endpoint being ``localhost``): the client below connects to 127.0.0.1 and sends
that name in the ``Host`` header, so no name resolution is involved.
"""

from __future__ import annotations

import http.client
import io
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
from images import jpeg
from PIL import Image
from servers import serve_wsgi

from s3media_wsgi import Media, MediaMiddleware, S3Storage
from s3media_wsgi.bucket import website_configuration

WEBSITE = Path(__file__).resolve().parent / "website"
S3RVER = WEBSITE / "node_modules" / "s3rver" / "bin" / "s3rver.js"
BUCKET = "loop-media"
REGION = "us-east-1"
#: s3rver's fixed credentials.
CREDENTIALS = {"aws_access_key_id": "S3RVER", "aws_secret_access_key": "S3RVER"}
#: Seconds any one HTTP request or process start may take.
TIMEOUT = 30


def node() -> str:
    """The node binary, with s3rver installed beside this test (``npm ci`` the first time)."""
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if not node_bin or not npm_bin:
        pytest.fail(
            "tests/test_website_loop.py runs s3rver, an S3 implementation that serves website routing rules, "
            "on Node.js: install Node.js and npm (Debian: apt-get install -y nodejs npm), then run "
            "`npm ci` in tests/website"
        )
    if not S3RVER.is_file():
        done = subprocess.run(
            [npm_bin, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=WEBSITE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not S3RVER.is_file():
            pytest.fail(f"`npm ci` in tests/website failed (it installs s3rver):\n{done.stdout}\n{done.stderr}")
    return node_bin


def to_xml(name: str, value: Any) -> str:
    """S3's XML for a document as boto3 takes it (lists of rules become repeated elements)."""
    if isinstance(value, dict):
        return f"<{name}>{''.join(to_xml(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        item = name[:-1]  # RoutingRules -> RoutingRule
        return f"<{name}>{''.join(to_xml(item, v) for v in value)}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"


def website_xml(config: dict[str, Any]) -> str:
    body = "".join(to_xml(k, v) for k, v in config.items())
    return f'<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}</WebsiteConfiguration>'


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET *url* over a connection to 127.0.0.1 (its host name goes in ``Host`` only)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=TIMEOUT)
    try:
        conn.request("GET", parts.path, headers={"Host": parts.netloc})
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def browse(url: str, hops: int = 4) -> tuple[int, dict[str, str], bytes, list[str]]:
    """GET *url* like a browser: follow redirects (at most *hops*); the final answer and every URL visited."""
    visited = [url]
    status, headers, body = get(url)
    while status in (301, 302, 307) and len(visited) <= hops:
        url = headers["location"]
        visited.append(url)
        status, headers, body = get(url)
    return status, headers, body, visited


SECRET = "website-loop-secret-0123456789-abcdefghijk"


@dataclass
class Loop:
    media: Media
    #: ``http://127.0.0.1:PORT`` of the app (waitress).
    app_url: str
    #: The bucket's website endpoint (s3rver), what resize URLs start with.
    website_url: str
    #: PATH_INFO of every request that reached the app.
    app_hits: list[str] = field(default_factory=list)
    #: Key of every PutObject the app sent.
    puts: list[str] = field(default_factory=list)


def host_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"host app"]


@contextmanager
def s3rver(node_bin: str, directory: Path, website: dict[str, Any]) -> Iterator[int]:
    """s3rver on 127.0.0.1 (a free port) with bucket BUCKET configured with *website*; yields the port."""
    config = directory / "website.xml"
    config.write_text(website_xml(website))
    command = [
        node_bin,
        str(S3RVER),
        "--directory",
        str(directory / "data"),
        "--address",
        "127.0.0.1",
        "--port",
        "0",
        "--silent",
        "--service-endpoint",
        "localhost",
        "--configure-bucket",  # last: the files after the name are its configurations
        BUCKET,
        str(config),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()
    port: list[int] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if found and not port:
                port.append(int(found.group(1)))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, name="s3rver-output", daemon=True)
    reader.start()
    try:
        if not ready.wait(TIMEOUT) or not port:
            pytest.fail(f"s3rver did not start within {TIMEOUT} s: {''.join(lines)}")
        yield port[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    import boto3
    from botocore.config import Config

    node_bin = node()
    served: dict[str, Any] = {}
    hits: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        hits.append(environ["PATH_INFO"])
        return served["app"](environ, start_response)

    with serve_wsgi(app, threads=8, name="website-loop-app") as app_url:
        # What `s3media setup-bucket --app-url APP_URL` applies, as s3rver reads it at startup.
        website = website_configuration(app_url, "/media/")
        with s3rver(node_bin, tmp_path_factory.mktemp("s3rver"), website) as s3_port:
            client = boto3.client(
                "s3",
                endpoint_url=f"http://127.0.0.1:{s3_port}",
                region_name=REGION,
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"mode": "standard", "total_max_attempts": 3},
                    connect_timeout=5,
                    read_timeout=TIMEOUT,
                    # s3rver predates the SDKs' default checksums.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
                **CREDENTIALS,
            )
            puts: list[str] = []
            client.meta.events.register(
                "provide-client-params.s3.PutObject", lambda params, **_: puts.append(params["Key"])
            )
            website_url = f"http://{BUCKET}.s3-website-{REGION}.localhost:{s3_port}/"
            storage = S3Storage(BUCKET, region=REGION, base_url=website_url, client=client)
            media = Media(storage, secret_key=SECRET)
            served["app"] = MediaMiddleware(host_app, media, prefix="/media/")
            yield Loop(media, app_url, website_url, hits, puts)


def test_a_cold_resize_goes_through_the_app_once_then_the_website_serves_it(loop: Loop) -> None:
    original = jpeg(1600, 1200)
    media_id = loop.media.put(original, filename="Night Sky.jpg")
    # The original, from the website endpoint, as browsers get it.
    assert get(loop.media.url(media_id))[::2] == (200, original)

    url = loop.media.resize_url(media_id, "400x300", format="webp")
    key = loop.media.resize_key(media_id, "400x300", format="webp")
    assert url == loop.website_url + key
    status, headers, _ = get(url)
    # The routing rule: a 302 (never cached) to the app, the key under its prefix.
    assert (status, headers["location"]) == (302, f"{loop.app_url}/media/{key}")
    assert "cache-control" not in headers

    hits = len(loop.app_hits)
    status, headers, body, visited = browse(url)
    assert status == 200, (status, visited, body[:300])
    # website -> app (made, stored, 301 back) -> website
    assert visited == [url, f"{loop.app_url}/media/{key}", url]
    assert loop.app_hits[hits:] == [f"/media/{key}"]
    assert headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "WEBP" and image.size == (400, 300)
    assert loop.puts.count(key) == 1

    again = browse(url)
    assert again[0] == 200 and again[2] == body
    assert again[3] == [url] and len(loop.app_hits) == hits + 1  # the website alone


def test_sixteen_concurrent_cold_requests_store_one_resize(loop: Loop) -> None:
    media_id = loop.media.put(jpeg(2000, 1500), filename="crowd.jpg")
    url = loop.media.resize_url(media_id, "640x480", mode="fill")
    key = loop.media.resize_key(media_id, "640x480", mode="fill")
    clients = 16
    start = threading.Barrier(clients)

    def one(_: int) -> tuple[int, dict[str, str], bytes, list[str]]:
        start.wait(timeout=TIMEOUT)
        return browse(url)

    hits = len(loop.app_hits)
    began = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(one, range(clients)))
    assert time.monotonic() - began < TIMEOUT
    assert {a[0] for a in answers} == {200}, [a[3] for a in answers if a[0] != 200]
    assert len({a[2] for a in answers}) == 1
    with Image.open(io.BytesIO(answers[0][2])) as image:
        assert image.size == (640, 480)
    # Each client reached the app at most once; one resize was made and stored.
    reached = loop.app_hits[hits:]
    assert 1 <= len(reached) <= clients and set(reached) == {f"/media/{key}"}
    assert loop.puts.count(key) == 1
    stored = loop.media.storage.client.list_objects_v2(Bucket=BUCKET, Prefix=media_id + "/")  # type: ignore[attr-defined]
    stored_keys = [item["Key"] for item in stored["Contents"] if "/_" not in item["Key"]]  # not the ladder
    assert sorted(stored_keys) == sorted([f"{media_id}/crowd.jpg", key])

    # Warm now: the website answers alone.
    assert browse(url)[3] == [url] and len(loop.app_hits) == hits + len(reached)
