"""WSGI on both sides of a :class:`~s3media_wsgi.response.MediaResponse`: read request headers, send the answer.

>>> headers = WSGIHeaders({"HTTP_RANGE": "bytes=0-9", "CONTENT_TYPE": "image/png"})
>>> headers.get("Range"), headers.get("content-type"), headers.get("If-Range")
('bytes=0-9', 'image/png', None)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .response import BLOCK_SIZE, MediaResponse

StartResponse = Callable[..., Any]

_UNPREFIXED = {"CONTENT_TYPE", "CONTENT_LENGTH"}


class WSGIHeaders(Mapping[str, str]):
    """The request headers of a WSGI environ, looked up by their HTTP names in any case.

    Only lookups are cheap (one dict access); iterating builds the names.
    """

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._environ = environ

    @staticmethod
    def _key(name: str) -> str:
        key = name.upper().replace("-", "_")
        return key if key in _UNPREFIXED else "HTTP_" + key

    def __getitem__(self, name: str) -> str:
        value = self._environ[self._key(name)]
        if not isinstance(value, str):
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:  # the hot path: no exception
        value = self._environ.get(self._key(name))
        return value if isinstance(value, str) else default

    def __iter__(self) -> Iterator[str]:
        for key in self._environ:
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title()
            elif key in _UNPREFIXED:
                yield key.replace("_", "-").title()

    def __len__(self) -> int:
        return sum(1 for _ in self)


def send(
    response: MediaResponse, environ: Mapping[str, Any], start_response: StartResponse, block_size: int = BLOCK_SIZE
) -> Iterable[bytes]:
    """Start *response* and return its body as a WSGI iterable.

    A whole file goes through the server's ``wsgi.file_wrapper`` when it has
    one (which may use ``sendfile()``); a range is streamed by
    :class:`~s3media_wsgi.response.FileBody`, which stops at its length.
    """
    try:
        start_response(response.status_line, response.headers)
    except BaseException:
        response.close()
        raise
    if response.file is None:
        return [response.body] if response.body else []
    wrapper = environ.get("wsgi.file_wrapper")
    if response.whole_file and wrapper is not None:
        return wrapper(response.file, block_size)  # type: ignore[no-any-return]
    return response.file_body(block_size)


__all__ = ["StartResponse", "WSGIHeaders", "send"]
