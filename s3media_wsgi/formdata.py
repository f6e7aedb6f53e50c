"""A ``multipart/form-data`` reader with its bounds set before it reads: the local upload form's parser.

What a stranger posts to the local form route is read here, before any
signature can be checked, so every cost is bounded up front: at most
*max_parts* parts (the form's few fields and the file), at most
*max_field_bytes* of text fields in all, at most 8 KiB of headers per part,
and never a byte past ``Content-Length`` (under a plain PEP 3333 server the
input is the socket itself).  The file part streams to a temporary file; the
text fields stay in memory.  A form that breaks a bound is refused as soon as
it does, without reading the rest.

    >>> import io
    >>> part = b'--b\\r\\nContent-Disposition: form-data; name="%s"%s\\r\\n\\r\\n%s\\r\\n'
    >>> body = part % (b"key", b"", b"k1") + part % (b"file", b'; filename="a.txt"', b"hello") + b"--b--\\r\\n"
    >>> form = read_form(io.BytesIO(body), len(body), "multipart/form-data; boundary=b", max_parts=4,
    ...                  max_field_bytes=100)
    >>> form.fields, form.file_field, form.size, form.file.read()
    ({'key': 'k1'}, 'file', 5, b'hello')
    >>> form.close()
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from typing import IO

from .bounded import READ_CHUNK

#: Most bytes of one part's headers.
MAX_PART_HEADER_BYTES = 8 * 1024

_BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))', re.IGNORECASE)
_PARAM = re.compile(r';\s*([A-Za-z0-9*_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


class FormRefused(ValueError):
    """The body is not a well-formed form, or breaks a bound; the message says which (and may be shown)."""


@dataclass
class Form:
    """The text fields of a form (each name once), and its one file: field name, temporary file, size."""

    fields: dict[str, str]
    file_field: str | None
    file: IO[bytes] | None
    size: int

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _Body:
    """The body, read a chunk at a time and never past *length*."""

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self.stream, self.left = stream, length
        self.buffer = b""

    def fill(self) -> bool:
        """Read one more chunk into the buffer; False at the end of the body."""
        if self.left <= 0:
            return False
        chunk = self.stream.read(min(self.left, READ_CHUNK))
        if not chunk:
            raise FormRefused("the form ended before its Content-Length")
        self.left -= len(chunk)
        self.buffer += chunk
        return True

    def until(self, marker: bytes, most: int, what: str) -> bytes:
        """The bytes before *marker* (consumed with it), at most *most* of them."""
        while True:
            at = self.buffer.find(marker)
            if at > most:
                raise FormRefused(f"the form's {what} is longer than {most} bytes")
            if at >= 0:
                found, self.buffer = self.buffer[:at], self.buffer[at + len(marker) :]
                return found
            if len(self.buffer) > most + len(marker):
                raise FormRefused(f"the form's {what} is longer than {most} bytes")
            if not self.fill():
                raise FormRefused("the form ends in the middle of a part")

    def stream_until(self, marker: bytes, out: IO[bytes] | None, most: int, what: str) -> int:
        """Copy the bytes before *marker* to *out* (or drop them), at most *most*; how many there were."""
        count = 0
        while True:
            at = self.buffer.find(marker)
            if at >= 0:
                data, self.buffer = self.buffer[:at], self.buffer[at + len(marker) :]
            else:
                # Keep what could be the start of the marker.
                cut = max(0, len(self.buffer) - len(marker) + 1)
                data, self.buffer = self.buffer[:cut], self.buffer[cut:]
            count += len(data)
            if count > most:
                raise FormRefused(f"the form's {what} is larger than {most} bytes")
            if out is not None and data:
                out.write(data)
            if at >= 0:
                return count
            if not self.fill():
                raise FormRefused("the form ends in the middle of a part")


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` *content_type*; :class:`FormRefused` for anything else."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise FormRefused("the upload is not a multipart form")
    found = _BOUNDARY.search(content_type)
    if not found:
        raise FormRefused("the form's Content-Type has no boundary")
    return (found.group(1) or found.group(2)).encode("latin-1")


def _disposition(headers: bytes) -> tuple[str, str | None]:
    """The name and filename (None if absent) of a part, from its ``Content-Disposition``."""
    for line in headers.split(b"\r\n"):
        name, _, value = line.decode("utf-8", "replace").partition(":")
        if name.strip().lower() == "content-disposition":
            kind, _, _ = value.partition(";")
            if kind.strip().lower() != "form-data":
                break
            params = {
                m.group(1).lower(): re.sub(r"\\(.)", r"\1", m.group(2)) if m.group(2) is not None else m.group(3)
                for m in _PARAM.finditer(value)
            }
            if "name" not in params:
                break
            return params["name"], params.get("filename")
    raise FormRefused("a part of the form has no Content-Disposition: form-data with a name")


def read_form(
    stream: IO[bytes], length: int, content_type: str, *, max_parts: int, max_field_bytes: int, max_file_bytes: int = -1
) -> Form:
    """Read the form of *length* bytes from *stream*; :class:`FormRefused` when it breaks a bound or is malformed.

    At most *max_parts* parts, *max_field_bytes* bytes of text fields in all,
    one file part (a part with a ``filename``) of at most *max_file_bytes*
    (``-1``: *length*), each field name once.  The caller closes the form.
    """
    body = _Body(stream, length)
    delimiter = b"--" + boundary_of(content_type)
    file_most = length if max_file_bytes < 0 else max_file_bytes
    form = Form({}, None, None, 0)
    try:
        body.until(delimiter, MAX_PART_HEADER_BYTES, "preamble")
        field_bytes = 0
        for _ in range(max_parts + 1):
            while len(body.buffer) < 2 and body.fill():
                pass
            if body.buffer.startswith(b"--"):
                return form  # the closing delimiter; what follows it is not read
            if body.until(b"\r\n", MAX_PART_HEADER_BYTES, "delimiter line").strip(b" \t"):
                raise FormRefused("the form's boundary is followed by something else")
            if len(form.fields) + (form.file is not None) >= max_parts:
                raise FormRefused(f"the form has more than {max_parts} parts")
            name, filename = _disposition(body.until(b"\r\n\r\n", MAX_PART_HEADER_BYTES, "part headers"))
            if name in form.fields or name == form.file_field:
                raise FormRefused(f"the form names the field {name!r} twice")
            marker = b"\r\n" + delimiter
            if filename is not None:
                if form.file is not None:
                    raise FormRefused("the form carries more than one file")
                form.file_field, form.file = name, tempfile.TemporaryFile()
                form.size = body.stream_until(marker, form.file, file_most, "file")
                form.file.seek(0)
            else:
                value = body.until(marker, max_field_bytes - field_bytes, "fields")
                field_bytes += len(value)
                form.fields[name] = value.decode("utf-8", "replace")
        raise FormRefused(f"the form has more than {max_parts} parts")
    except BaseException:
        form.close()
        raise


__all__ = ["MAX_PART_HEADER_BYTES", "Form", "FormRefused", "boundary_of", "read_form"]
