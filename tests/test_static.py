"""The file responder against real files on disk, through real WSGI calls."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from images import jpeg
from webob import Request, Response
from webob.datetime_utils import serialize_date

from s3media_wsgi.errors import NotFound
from s3media_wsgi.static import DEFAULT_CACHE_CONTROL, FileBody, FileResponder

DATA = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable


def app_for(path: Path, responder: FileResponder | None = None):
    responder = responder or FileResponder()

    def app(environ: dict[str, Any], start_response: Any):
        return responder.serve(environ, start_response, path)

    return app


def get(path: Path, responder: FileResponder | None = None, **kwargs: Any) -> Response:
    res = Request.blank("/f", **kwargs).get_response(app_for(path, responder))
    _ = res.body  # read it all now: that also closes the file, as a server would
    return res


@pytest.fixture
def blob(tmp_path: Path) -> Path:
    p = tmp_path / "blob.jpg"
    p.write_bytes(DATA)
    return p


def test_full_get_headers_and_body(tmp_path: Path) -> None:
    p = tmp_path / "photo.jpg"
    data = jpeg(64, 48)
    p.write_bytes(data)
    st_ = p.stat()
    res = get(p)
    assert res.status_int == 200
    assert res.body == data
    h = res.headers
    assert h["Content-Type"] == "image/jpeg"
    assert h["Content-Length"] == str(len(data))
    assert h["ETag"] == f'"{len(data):x}-{st_.st_mtime_ns:x}"'
    assert h["Last-Modified"] == serialize_date(int(st_.st_mtime))
    assert h["Cache-Control"] == DEFAULT_CACHE_CONTROL
    assert h["Accept-Ranges"] == "bytes"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "Content-Disposition" not in h


def test_etag_changes_with_content(blob: Path) -> None:
    first = get(blob).headers["ETag"]
    blob.write_bytes(DATA + b"x")
    assert get(blob).headers["ETag"] != first


@pytest.mark.parametrize(
    ("name", "ctype", "attachment"),
    [
        ("doc.pdf", "application/pdf", True),
        ("clip.mp4", "video/mp4", False),
        ("song.mp3", "audio/mpeg", False),
        ("page.html", "application/octet-stream", True),
        ("image.svg", "application/octet-stream", True),
        ("noext", "application/octet-stream", True),
        ("UPPER.PNG", "image/png", False),
    ],
)
def test_types_and_attachment(tmp_path: Path, name: str, ctype: str, attachment: bool) -> None:
    p = tmp_path / name
    p.write_bytes(b"%PDF-1.4 <script>alert(1)</script>")
    res = get(p)
    assert res.headers["Content-Type"] == ctype
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in res.headers["Content-Security-Policy"]
    assert (res.headers.get("Content-Disposition") == "attachment") is attachment


def test_cache_control_option(blob: Path) -> None:
    immutable = "public, max-age=31536000, immutable"
    assert get(blob, FileResponder(cache_control=immutable)).headers["Cache-Control"] == immutable


@pytest.mark.parametrize(
    "inm",
    ["{etag}", "W/{etag}", '"other", {etag}', '"other",{etag}', "*", " {etag} "],
)
def test_if_none_match_304(blob: Path, inm: str) -> None:
    etag = get(blob).headers["ETag"]
    res = get(blob, headers={"If-None-Match": inm.format(etag=etag)})
    assert res.status_int == 304
    assert res.body == b""
    assert res.headers["ETag"] == etag
    assert res.headers["Cache-Control"] == DEFAULT_CACHE_CONTROL


@pytest.mark.parametrize("inm", ['"nope"', 'W/"nope"', "garbage", '"a", "b"'])
def test_if_none_match_mismatch_200(blob: Path, inm: str) -> None:
    res = get(blob, headers={"If-None-Match": inm})
    assert res.status_int == 200
    assert res.body == DATA


def test_if_modified_since(blob: Path) -> None:
    lm = get(blob).headers["Last-Modified"]
    assert get(blob, headers={"If-Modified-Since": lm}).status_int == 304
    later = serialize_date(int(blob.stat().st_mtime) + 3600)
    assert get(blob, headers={"If-Modified-Since": later}).status_int == 304
    earlier = serialize_date(int(blob.stat().st_mtime) - 3600)
    res = get(blob, headers={"If-Modified-Since": earlier})
    assert res.status_int == 200 and res.body == DATA
    assert get(blob, headers={"If-Modified-Since": "not a date"}).status_int == 200


def test_if_none_match_wins_over_if_modified_since(blob: Path) -> None:
    lm = get(blob).headers["Last-Modified"]
    res = get(blob, headers={"If-None-Match": '"stale"', "If-Modified-Since": lm})
    assert res.status_int == 200
    assert res.body == DATA


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=100-199", 100, 200),
        ("bytes=10000-", 10000, 10240),
        ("bytes=-5", 10235, 10240),
        ("bytes=-99999", 0, 10240),
        ("bytes=10200-99999", 10200, 10240),
        ("BYTES = 3 - 3", 3, 4),
    ],
)
def test_single_range_206(blob: Path, header: str, start: int, stop: int) -> None:
    res = get(blob, headers={"Range": header})
    assert res.status_int == 206
    assert res.body == DATA[start:stop]
    assert res.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(DATA)}"
    assert res.headers["Content-Length"] == str(stop - start)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0", "bytes=" + "9" * 4000 + "-"])
def test_unsatisfiable_range_416(blob: Path, header: str) -> None:
    res = get(blob, headers={"Range": header})
    assert res.status_int == 416
    assert res.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert res.body == b""


@pytest.mark.parametrize(
    "header",
    ["bytes=0-1,5-6", "bytes=0-1, 5-6", "items=0-9", "bytes=9-2", "bytes=abc", "bytes=-", "bytes=\u0661-2"],
)
def test_multi_or_malformed_range_is_whole_file(blob: Path, header: str) -> None:
    res = get(blob, headers={"Range": header})
    assert res.status_int == 200
    assert res.body == DATA
    assert "Content-Range" not in res.headers


def test_empty_file_ignores_range(tmp_path: Path) -> None:
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    res = get(p, headers={"Range": "bytes=0-"})
    assert res.status_int == 200
    assert res.body == b""


def test_if_range(blob: Path) -> None:
    first = get(blob)
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    rng = {"Range": "bytes=0-9"}
    assert get(blob, headers={**rng, "If-Range": etag}).status_int == 206
    assert get(blob, headers={**rng, "If-Range": lm}).status_int == 206
    for stale in ('"stale"', f"W/{etag}", serialize_date(int(blob.stat().st_mtime) - 60), "garbage"):
        res = get(blob, headers={**rng, "If-Range": stale})
        assert res.status_int == 200, stale
        assert res.body == DATA


def test_head_has_headers_and_no_body(blob: Path) -> None:
    res = get(blob, method="HEAD")
    assert res.status_int == 200
    assert res.headers["Content-Length"] == str(len(DATA))
    assert res.headers["ETag"]
    assert res.body == b""
    # Range handling is defined for GET only.
    ranged = get(blob, method="HEAD", headers={"Range": "bytes=0-9"})
    assert ranged.status_int == 200
    assert ranged.headers["Content-Length"] == str(len(DATA))


def test_other_methods_405(blob: Path) -> None:
    res = get(blob, method="DELETE")
    assert res.status_int == 405
    assert res.headers["Allow"] == "GET, HEAD"
    assert blob.exists()


class RecordingWrapper:
    """A wsgi.file_wrapper that records what it was given."""

    made: list[RecordingWrapper] = []

    def __init__(self, fh: Any, block_size: int) -> None:
        self.fh, self.block_size, self.closed = fh, block_size, False
        RecordingWrapper.made.append(self)

    def __iter__(self):
        while chunk := self.fh.read(self.block_size):
            yield chunk

    def close(self) -> None:
        self.closed = True
        self.fh.close()


def test_file_wrapper_used_for_full_responses(blob: Path) -> None:
    RecordingWrapper.made.clear()
    res = get(blob, environ={"wsgi.file_wrapper": RecordingWrapper})
    assert res.status_int == 200 and res.body == DATA
    (wrapper,) = RecordingWrapper.made
    assert wrapper.block_size == 64 * 1024
    assert os.path.samefile(wrapper.fh.name, blob)
    assert wrapper.closed


def test_file_wrapper_not_used_for_ranges(blob: Path) -> None:
    RecordingWrapper.made.clear()
    res = get(blob, environ={"wsgi.file_wrapper": RecordingWrapper}, headers={"Range": "bytes=5-14"})
    assert res.status_int == 206 and res.body == DATA[5:15]
    assert RecordingWrapper.made == []


def test_fallback_body_streams_blocks_and_closes(blob: Path) -> None:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    body = FileResponder(block_size=1000).serve(Request.blank("/f").environ, start_response, blob)
    assert isinstance(body, FileBody)
    chunks = list(body)
    assert seen["status"] == "200 OK"
    assert b"".join(chunks) == DATA
    assert max(map(len, chunks)) == 1000
    body.close()
    assert body._fh.closed


def test_body_closed_without_iteration(blob: Path) -> None:
    env = Request.blank("/f", headers={"Range": "bytes=0-9"}).environ
    body = FileResponder().serve(env, lambda s, h: None, blob)
    assert isinstance(body, FileBody)
    body.close()
    assert body._fh.closed


def test_missing_or_directory_is_not_found(tmp_path: Path) -> None:
    env = Request.blank("/f").environ
    with pytest.raises(NotFound):
        FileResponder().serve(env, lambda s, h: None, tmp_path / "absent.jpg")
    with pytest.raises(NotFound):
        FileResponder().serve(env, lambda s, h: None, tmp_path)


header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
range_like = st.builds(
    lambda a, b, sep: f"bytes={a}{sep}{b}",
    st.one_of(st.just(""), st.integers(0, 20000).map(str)),
    st.one_of(st.just(""), st.integers(0, 20000).map(str)),
    st.sampled_from(["-", ",", "-,", "--"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rng=st.one_of(st.none(), range_like, header_text),
    inm=st.one_of(st.none(), header_text),
    ims=st.one_of(st.none(), header_text),
    if_range=st.one_of(st.none(), header_text),
)
def test_any_headers_give_a_sane_answer(
    blob: Path, rng: str | None, inm: str | None, ims: str | None, if_range: str | None
) -> None:
    headers = {
        k: v
        for k, v in {"Range": rng, "If-None-Match": inm, "If-Modified-Since": ims, "If-Range": if_range}.items()
        if v is not None
    }
    res = get(blob, headers=headers)
    assert res.status_int in (200, 206, 304, 416)
    if res.status_int == 200:
        assert res.body == DATA
    elif res.status_int == 206:
        first, last = map(int, res.headers["Content-Range"].split(" ")[1].split("/")[0].split("-"))
        assert res.body == DATA[first : last + 1]
    else:
        assert res.body == b""


@pytest.mark.parametrize(
    "headers",
    [{}, {"Range": "bytes=0-9"}, {"Range": "bytes=99999-"}, {"If-None-Match": "*"}, {"Range": "bytes=0-1,4-5"}],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_responses_pass_the_wsgi_validator(blob: Path, headers: dict[str, str], method: str) -> None:
    from wsgiref.validate import validator

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the validator reports problems as warnings
        res = Request.blank("/f", method=method, headers=headers).get_response(validator(app_for(blob)))
        body = res.body  # reading closes the iterator, which the validator checks
    assert res.status_int in (200, 206, 304, 416)
    assert (body == b"") == (method == "HEAD" or res.status_int in (304, 416))


def test_range_takes_ascii_digits_only_and_far_starts_are_unsatisfiable(tmp_path):
    from webob import Request as _Request

    from s3media_wsgi.static import FileResponder as _Responder

    path = tmp_path / "a.jpg"
    path.write_bytes(b"0123456789")
    responder = _Responder()

    def get(range_header):
        req = _Request.blank("/a.jpg", headers={"Range": range_header})
        return req.get_response(lambda env, sr: responder.serve(env, sr, path))

    assert get("bytes=\u0660-1").status_int == 200  # Arabic-Indic zero: not a range
    assert get("bytes=" + "9" * 40 + "-").status_int == 416
    assert get("bytes=" + "0" * 30 + "2-3").body == b"23"
    resp = get("bytes=5-" + "9" * 40)
    assert resp.status_int == 206 and resp.body == b"56789"


@pytest.mark.parametrize(
    "name, value",
    [
        ("Range", "bytes=0-" + " " * 128_000 + "x"),
        ("Range", "bytes=" + " \t" * 64_000 + "0-1"),
        ("Range", "bytes=0-1" + ",0-1" * 30_000),
        ("If-None-Match", '"a", ' * 30_000),
        ("If-None-Match", '"' + '\\"' * 60_000),
        ("If-Modified-Since", "Mon, " * 30_000),
        ("If-Range", '"' + "x" * 100_000 + '"'),
    ],
)
def test_hostile_headers_cost_microseconds_not_seconds(blob: Path, name: str, value: str) -> None:
    # A backtracking parser took 47 s on the first of these, holding the GIL.
    # Headers over MAX_HEADER_CHARS are ignored: the whole file, at once.
    import time

    started = time.perf_counter()
    res = get(blob, headers={name: value})
    elapsed = time.perf_counter() - started
    assert res.status_int == 200
    assert res.body == DATA
    assert elapsed < 0.5


@pytest.mark.parametrize("pad", [0, 1, 100, 2000])
def test_range_with_blank_padding_within_the_cap_still_works(blob: Path, pad: int) -> None:
    res = get(blob, headers={"Range": "bytes=" + " " * pad + "2-5" + "\t" * pad})
    assert res.status_int == 206
    assert res.body == DATA[2:6]
