"""Parsing what a stranger sends, with bounds set before the parser starts.

Python's ``json`` module recurses once per nesting level and has no size
limit; ``wsgi.input`` under a plain PEP 3333 server (wsgiref) is the socket
itself, so reading one byte past ``CONTENT_LENGTH`` waits for a byte the
client will never send.  Every body and every JSON document the library reads
from a request or a setting goes through here.

    >>> loads_json(b'{"key": [1, 2]}', max_bytes=100)
    {'key': [1, 2]}
    >>> loads_json(b"[" * 100 + b"]" * 100, max_bytes=1000)
    Traceback (most recent call last):
    ...
    s3media_wsgi.bounded.JSONRefused: the JSON nests deeper than 32 levels
    >>> import io
    >>> read_exactly(io.BytesIO(b"abcdef"), 4)
    b'abcd'
"""

from __future__ import annotations

import io
import json
import re
from itertools import accumulate
from typing import IO, Any

#: Deepest nesting of arrays and objects accepted (the library's own documents nest 3 levels).
MAX_JSON_DEPTH = 32
#: Bytes read from a request body per call.
READ_CHUNK = 64 * 1024

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")


class JSONRefused(ValueError):
    """A JSON document is too large, too deep, or not JSON; the message says which."""


class BodyTooShort(ValueError):
    """A request body ended before its ``Content-Length``."""


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in *data*, outside strings.

    >>> json_depth(b'{"a": [[1], "[[[["]}')
    3
    """
    if data.count(b"[") + data.count(b"{") <= 1:
        return data.count(b"[") + data.count(b"{")
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b'""', data))
    steps = (1 if byte in b"[{" else -1 for byte in brackets)
    return max(accumulate(steps, initial=0))


def loads_json(data: bytes | str, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """*data* parsed as JSON, or :class:`JSONRefused` when it is over *max_bytes*, deeper than *max_depth*, or not JSON.

    The size and depth are checked before the parser runs, so no document
    can make it recurse or allocate beyond them.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise JSONRefused(f"the JSON is {len(raw)} bytes, over {max_bytes}")
    # A cheap bound first: fewer openers than the limit cannot nest deeper.
    if raw.count(b"[") + raw.count(b"{") > max_depth and json_depth(raw) > max_depth:
        raise JSONRefused(f"the JSON nests deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise JSONRefused("the text is not valid JSON") from None


def read_exactly(stream: IO[bytes], length: int) -> bytes:
    """Exactly *length* bytes of *stream*, never asking for one more; :class:`BodyTooShort` when it ends first."""
    out = io.BytesIO()
    copy_exactly(stream, length, out)
    return out.getvalue()


def copy_exactly(stream: IO[bytes], length: int, out: IO[bytes]) -> None:
    """Copy exactly *length* bytes of *stream* to *out*, a chunk at a time; :class:`BodyTooShort` as above."""
    left = length
    while left > 0:
        chunk = stream.read(min(left, READ_CHUNK))
        if not chunk:
            raise BodyTooShort(f"the body ended {left} bytes before its Content-Length of {length}")
        out.write(chunk)
        left -= len(chunk)


__all__ = [
    "MAX_JSON_DEPTH",
    "BodyTooShort",
    "JSONRefused",
    "copy_exactly",
    "json_depth",
    "loads_json",
    "read_exactly",
]
