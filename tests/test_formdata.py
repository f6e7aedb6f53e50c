"""The bounded multipart/form-data reader of the local upload form."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webob import Request

from s3media_wsgi.formdata import FormRefused, read_form


class Trickle(io.RawIOBase):
    """A body that hands out a few bytes per read, and fails a read past its end (a socket would hang)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def read(self, size: int = -1) -> bytes:
        assert self.at < len(self.data), "read past the end of the body"
        chunk = self.data[self.at : self.at + min(size, self.step)]
        self.at += len(chunk)
        return chunk


def encoded(fields: dict[str, Any]) -> tuple[bytes, str]:
    """*fields* as a browser posts them: multipart (a file is added last if there is none)."""
    if not any(isinstance(value, tuple) for value in fields.values()):
        fields = {**fields, "zzfile": ("z", b"z")}
    request = Request.blank("/", POST=fields)
    return request.body, request.headers["Content-Type"]


def read(body: bytes, content_type: str, step: int = 10**9, **bounds: int) -> Any:
    bounds = {"max_parts": 8, "max_field_bytes": 1000} | bounds
    return read_form(Trickle(body, step), len(body), content_type, **bounds)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000),
    step=st.integers(1, 200),
    value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=50),
)
def test_fields_and_file_come_back_whatever_the_reads(data: bytes, step: int, value: str) -> None:
    body, content_type = encoded({"key": value, "policy": "p", "file": ("a.bin", data)})
    form = read(body, content_type, step)
    assert form.fields == {"key": value, "policy": "p"}
    assert (form.file_field, form.size, form.file.read()) == ("file", len(data), data)
    form.close()


def test_a_file_holding_the_boundary_almost_is_kept_whole() -> None:
    body, content_type = encoded({"file": ("a", b"x")})
    boundary = content_type.split("boundary=")[1].encode()
    data = b"\r\n--" + boundary[:-1] + b"\r\n-" + b"\r\n--" + boundary[:5]
    body, content_type = encoded({"file": ("a", data)})
    form = read(body, content_type, 3)
    assert form.file.read() == data
    form.close()


@pytest.mark.parametrize(
    ("fields", "bounds", "message"),
    [
        ({f"f{n}": "x" for n in range(9)}, {}, "more than 8 parts"),
        ({"a": "x" * 600, "b": "y" * 600}, {}, "fields is longer than"),
        ({"file": ("a", b"x" * 101)}, {"max_file_bytes": 100}, "file is larger than 100"),
    ],
)
def test_bounds_are_refused(fields: dict[str, Any], bounds: dict[str, int], message: str) -> None:
    body, content_type = encoded(fields)
    with pytest.raises(FormRefused, match=message):
        read(body, content_type, **bounds)


def test_many_parts_are_refused_after_the_bound_without_reading_the_rest() -> None:
    body, content_type = encoded({f"f{n}": "x" for n in range(10_000)})
    stream = Trickle(body, 64 * 1024)
    with pytest.raises(FormRefused, match="more than 8 parts"):
        read_form(stream, len(body), content_type, max_parts=8, max_field_bytes=1000)  # type: ignore[arg-type]
    assert stream.at <= 64 * 1024


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"x", "application/x-www-form-urlencoded", "not a multipart form"),
        (b"x", "multipart/form-data", "no boundary"),
        (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxx", "multipart/form-data; boundary=b", "ends"),
        (b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b", "Disposition"),
        (b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b\r\n"
         b"Content-Disposition: form-data; name=a\r\n\r\ny\r\n--b--", "multipart/form-data; boundary=b", "twice"),
        (b"--b\r\nContent-Disposition: form-data; name=a; filename=x\r\n\r\nx\r\n--b\r\n"
         b"Content-Disposition: form-data; name=b; filename=y\r\n\r\ny\r\n--b--", "multipart/form-data; boundary=b",
         "more than one file"),
    ],
)  # fmt: skip
def test_malformed_forms_are_refused(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(FormRefused, match=message):
        read(body, content_type)


def test_a_body_shorter_than_its_length_is_refused() -> None:
    body, content_type = encoded({"key": "k", "file": ("a", b"data")})
    with pytest.raises(FormRefused, match="before its Content-Length"):
        read_form(io.BytesIO(body[:-10]), len(body), content_type, max_parts=4, max_field_bytes=100)


def test_a_quoted_boundary_and_a_closing_delimiter_without_crlf() -> None:
    body = b'--a b\r\nContent-Disposition: form-data; name="file"; filename="q\\"x"\r\n\r\nhi\r\n--a b--'
    form = read(body, 'multipart/form-data; boundary="a b"')
    assert (form.file_field, form.file.read()) == ("file", b"hi")
    form.close()
