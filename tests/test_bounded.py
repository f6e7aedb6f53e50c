"""Bounded parsing: JSON size and depth before the parser, bodies never read past their length."""

from __future__ import annotations

import io

import pytest

from s3media_wsgi.bounded import BodyTooShort, JSONRefused, copy_exactly, json_depth, loads_json, read_exactly


def test_deep_json_is_refused_before_the_parser() -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    with pytest.raises(JSONRefused, match="deeper"):
        loads_json(deep, max_bytes=1 << 20)
    with pytest.raises(JSONRefused, match="deeper"):
        loads_json(b'{"a":' * 40 + b"1" + b"}" * 40, max_bytes=1 << 20)


def test_brackets_inside_strings_do_not_count() -> None:
    text = b'{"key": "' + b"[" * 1000 + b'\\"{{{{"}'
    assert json_depth(text) == 1
    assert loads_json(text, max_bytes=1 << 20)["key"].startswith("[[[")


def test_a_completion_of_10000_parts_is_accepted() -> None:
    parts = b",".join(b'{"PartNumber": %d, "ETag": "\\"abc\\""}' % n for n in range(1, 10_001))
    data = loads_json(b'{"parts": [' + parts + b"]}", max_bytes=1 << 20)
    assert len(data["parts"]) == 10_000


def test_size_and_garbage() -> None:
    with pytest.raises(JSONRefused, match="over 10"):
        loads_json(b"[" + b"1," * 10 + b"1]", max_bytes=10)
    with pytest.raises(JSONRefused, match="not valid"):
        loads_json(b"{nope", max_bytes=100)
    with pytest.raises(JSONRefused, match="not valid"):
        loads_json("\ud800", max_bytes=100)


class _Socketish(io.RawIOBase):
    """A stream that fails the test if asked for more than it was told it holds (as wsgiref would hang)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked = 0

    def read(self, size: int = -1) -> bytes:
        assert size is not None and size > 0
        assert self.asked + size <= len(self.data), "read past Content-Length"
        chunk = self.data[self.asked : self.asked + size]
        self.asked += len(chunk)
        return chunk


def test_reads_stop_at_the_length() -> None:
    body = b"x" * 200_000
    assert read_exactly(_Socketish(body), len(body)) == body
    out = io.BytesIO()
    copy_exactly(_Socketish(body), len(body), out)
    assert out.getvalue() == body
    with pytest.raises(BodyTooShort):
        read_exactly(io.BytesIO(b"abc"), 4)
