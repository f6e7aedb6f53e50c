"""Share one computation among identical concurrent calls in a process.

When a popular page goes live, dozens of browsers ask for the same new resize
at once; only the first should decode the original, the others wait for its
result (or its exception).

    >>> flight = SingleFlight()
    >>> flight.do("key", lambda: 42)
    42
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .errors import Busy

T = TypeVar("T")


class _Call(Generic[T]):
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    """Run ``fn`` once per key among callers that overlap in time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call[T]] = {}

    def do(self, key: str, fn: Callable[[], T], wait: float | None = None) -> T:
        """Return ``fn()``, or the result of an identical call already running.

        A caller that joins a running call waits at most *wait* seconds (None:
        as long as it takes), then gets :class:`~s3media_wsgi.errors.Busy`:
        the leader keeps its work, the follower gives its thread back.
        """
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
        if not leader:
            if not call.done.wait(wait):
                raise Busy(f"an identical request has been at work for over {wait:g} s")
            if call.error is not None:
                raise call.error
            return call.result  # type: ignore[no-any-return]
        try:
            call.result = fn()
            return call.result  # type: ignore[no-any-return]
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()


__all__ = ["SingleFlight"]
