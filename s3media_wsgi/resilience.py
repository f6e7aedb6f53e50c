"""Keep a slow or broken storage from taking the host application down with it.

A media request that reaches storage holds one of the web server's threads
until storage answers.  If S3 stops answering, or answers a byte every few
seconds, every such request waits, and a handful of them are enough to occupy
every thread, so the host app's own pages stop too.  Three small guards, one
:class:`StorageGuard`, for every public :class:`~s3media_wsgi.Media` method
that touches storage (a resize, ``put``, ``confirm_upload``, the multipart
calls, ``get``, ``exists``, ``delete``: each is one :meth:`StorageGuard.request`):

- a **time budget** per media request (:func:`budget`): the total seconds its
  storage calls may take, retries included, in wall-clock time.  Backends
  check it before every attempt (:func:`check_budget`), and an S3 storage
  runs each call on a :class:`CallPool` thread that the request waits for at
  most the budget left: at the deadline the request gets
  :class:`~s3media_wsgi.errors.StorageUnavailable` (503) at once, even if S3
  is still dripping an answer within its read timeout, and the call is
  cancelled (its socket shut down).  A pool whose threads are all stuck
  refuses the next call at once (503) instead of queueing it, so a hung S3
  holds at most ``call_threads`` extra threads.  Time spent decoding or
  waiting for a decode slot does not count: only time inside storage calls.
- a **bound on requests waiting for storage** (``max_requests``): when that
  many media requests are already inside a storage call, the next one waits
  at most :data:`SLOT_WAIT` for a slot and is then answered 503, rather than
  joining them, so the other threads stay free for the host app.  Requests
  decoding an image hold no slot.
- a **circuit breaker**: after ``threshold`` storage failures within
  :data:`BREAKER_WINDOW` seconds (timeouts, refused connections, 5xx,
  throttling), every storage call fails at once for ``cooldown`` seconds;
  then one trial call goes through, and its success closes the circuit
  again.  No restart is needed.

    >>> guard = StorageGuard(budget_seconds=10, max_requests=8, threshold=5, cooldown=10)
    >>> with guard.request():
    ...     with guard.call():
    ...         pass   # one storage call, timed against the budget
"""

from __future__ import annotations

import collections
import contextvars
import math
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import MediaError, StorageBusy, StorageUnavailable
from .limits import positive_int, positive_number

#: Seconds of storage time one media request may use, retries included.
DEFAULT_STORAGE_BUDGET = 10.0
#: Media requests allowed inside storage at once, per process.  Half of an
#: 8-thread server: a hung storage can hold at most these threads.
DEFAULT_MAX_STORAGE_REQUESTS = 4
#: Seconds a media request waits for a storage slot before it is answered
#: 503.  Healthy storage frees a slot in milliseconds, so a burst of first
#: views queues briefly instead of failing; a hung one holds every slot, so
#: the wait ends in a fast 503.
SLOT_WAIT = 0.5
#: Storage failures in a row that open the circuit.
DEFAULT_BREAKER_THRESHOLD = 5
#: Seconds the circuit stays open before a trial call.
DEFAULT_BREAKER_COOLDOWN = 10.0
#: Failures count toward the threshold for this many seconds (or the cooldown, if longer).
BREAKER_WINDOW = 30.0
#: Threads per :class:`CallPool` (one per S3 storage) running storage calls
#: under a deadline: twice the default storage slots, so healthy calls never
#: meet a full pool, and a storage that ignores cancels holds at most these.
DEFAULT_CALL_THREADS = 8
#: Seconds an idle :class:`CallPool` thread waits for work before it ends.
CALL_THREAD_IDLE = 30.0
#: Most seconds of the fresh budget :meth:`StorageGuard.cleanup` gives an
#: undo (deleting what a failed write may have left), after the request's own
#: budget ran out.
CLEANUP_BUDGET = 2.0

T = TypeVar("T")


# --- the time budget ------------------------------------------------------------------


@dataclass
class _Budget:
    limit: float
    spent: float = 0.0
    #: When the storage call now running started (None between calls).
    call_started: float | None = None

    def used(self) -> float:
        running = 0.0 if self.call_started is None else time.monotonic() - self.call_started
        return self.spent + running


_current: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("s3media_wsgi_budget", default=None)


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Give the storage calls made inside this block *seconds* in total.

    Context variables are per thread (and per task), so concurrent requests
    each have their own.  Nested blocks keep the outer budget.
    """
    if _current.get() is not None:
        yield
        return
    token = _current.set(_Budget(seconds))
    try:
        yield
    finally:
        _current.reset(token)


def remaining() -> float | None:
    """Seconds left in the current budget; None outside any."""
    current = _current.get()
    return None if current is None else current.limit - current.used()


def check_budget(action: str = "storage call") -> None:
    """Raise :class:`StorageUnavailable` when the current budget is used up.

    Storage backends call this before each attempt, retries included.
    """
    current = _current.get()
    if current is not None and current.used() >= current.limit:
        raise StorageUnavailable(f"{action}: the storage time budget of {current.limit:g} s is used up")


@contextmanager
def _timed() -> Iterator[None]:
    current = _current.get()
    if current is None or current.call_started is not None:
        yield
        return
    current.call_started = time.monotonic()
    try:
        yield
    finally:
        current.spent += time.monotonic() - current.call_started
        current.call_started = None


# --- the circuit breaker ------------------------------------------------------------


class CircuitBreaker:
    """Fail fast for *cooldown* seconds after *threshold* failures within :data:`BREAKER_WINDOW` seconds.

    Failures are counted in a rolling window rather than "in a row": a
    storage whose HEADs answer while every GET times out is failing, even
    though its answers and its failures alternate.

    >>> breaker = CircuitBreaker(threshold=2, cooldown=30)
    >>> breaker.failure(); breaker.success(); breaker.failure(); breaker.is_open
    True
    """

    def __init__(self, threshold: int = DEFAULT_BREAKER_THRESHOLD, cooldown: float = DEFAULT_BREAKER_COOLDOWN) -> None:
        self.threshold = positive_int(threshold, "breaker_threshold")
        self.cooldown = positive_number(cooldown, "breaker_cooldown")
        self.window = max(BREAKER_WINDOW, self.cooldown)
        self._lock = threading.Lock()
        self._failures: collections.deque[float] = collections.deque()
        self._opened_at: float | None = None
        #: While half-open: until when the one trial call holds the right to try.
        self._trial_until = 0.0

    @property
    def is_open(self) -> bool:
        """True while calls are refused (half-open counts as open for everyone but the trial)."""
        return self._opened_at is not None

    def allow(self) -> None:
        """Return if a call may go ahead; raise :class:`StorageUnavailable` if the circuit is open."""
        if self._opened_at is None:  # the common case: no lock
            return
        with self._lock:
            if self._opened_at is None:
                return
            now = time.monotonic()
            wait = self._opened_at + self.cooldown - now
            if wait <= 0 and now >= self._trial_until:
                # Half-open: this caller tries; the others keep failing fast
                # until it reports (or until it has had a cooldown to do so).
                self._trial_until = now + self.cooldown
                return
        error = StorageUnavailable(
            f"storage circuit open after {self.threshold} failures within {self.window:g} s; "
            f"next try in {max(wait, 0):.1f} s"
        )
        error.retry_after = max(1, math.ceil(wait))
        raise error

    def success(self) -> None:
        """Storage answered: an open (half-open) circuit closes; counted failures stay until they age out."""
        if self._opened_at is not None:
            with self._lock:
                self._failures.clear()
                self._opened_at = None
                self._trial_until = 0.0

    def failure(self) -> None:
        """Storage failed: count it, and open (or reopen) the circuit at the threshold."""
        with self._lock:
            now = time.monotonic()
            self._failures.append(now)
            while self._failures and self._failures[0] < now - self.window:
                self._failures.popleft()
            if len(self._failures) >= self.threshold or self._opened_at is not None:
                self._opened_at = now
                self._trial_until = 0.0


# --- a wall-clock bound on each storage call -------------------------------------------


class Job:
    """One storage call running on a :class:`CallPool` thread, which its caller may cancel.

    Code running inside the call (an HTTP connection, a body reader) finds
    its job with :func:`current_job` and registers what a cancel must undo
    (:meth:`on_cancel`), e.g. shutting down the socket a recv() waits on.
    """

    __slots__ = ("_done", "_error", "_hooks", "_lock", "_result", "cancelled", "fn")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.cancelled = False
        # Held until the call has ended: a bare lock is the cheapest thing to wait on with a timeout.
        self._done = threading.Lock()
        self._done.acquire()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] | None = []
        self._result: Any = None
        self._error: BaseException | None = None

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call *hook* when the job is cancelled (now, if it already is; never once it has finished)."""
        with self._lock:
            if self._hooks is not None and not self.cancelled:
                self._hooks.append(hook)
                return
            run_now = self.cancelled and self._hooks is not None
        if run_now:
            hook()

    def cancel(self) -> None:
        """Ask the call to stop: its hooks run, and :func:`check_cancelled` raises from now on."""
        with self._lock:
            if self.cancelled or self._hooks is None:
                return
            self.cancelled = True
            hooks = list(self._hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook cannot fail the caller, who is already answered
                pass

    def _run(self, context: contextvars.Context) -> None:
        _job.current = self
        try:
            self._result = context.run(self.fn)
        except BaseException as exc:  # handed to the caller, who re-raises it
            self._error = exc
        finally:
            _job.current = None
            with self._lock:
                self._hooks = None  # finished: a late cancel touches nothing (the socket is reused)
            self._done.release()


_job = threading.local()


def current_job() -> Job | None:
    """The :class:`Job` this thread is running; None outside a :class:`CallPool` thread."""
    job: Job | None = getattr(_job, "current", None)
    return job


def check_cancelled(action: str = "storage call") -> None:
    """Raise :class:`StorageUnavailable` if the call running in this thread was cancelled."""
    job = current_job()
    if job is not None and job.cancelled:
        raise StorageUnavailable(f"{action}: cancelled, its caller's storage time budget is used up")


class CallPool:
    """At most *size* threads that run storage calls, each waited for at most the budget left.

    :meth:`run` hands a call to a pool thread and waits for it until the
    current :func:`budget` runs out, whatever the call is doing (a storage
    sending one byte every two seconds never trips a read timeout); then the
    caller gets :class:`StorageUnavailable` at once and the call is cancelled
    (:meth:`Job.cancel`).  A call that ignores the cancel keeps its thread
    until it ends on its own; when all *size* threads are taken, the next call
    is refused at once with :class:`StorageBusy`, never queued.  Threads are
    started on demand and end after :data:`CALL_THREAD_IDLE` idle seconds.

    Outside any budget, and inside a call already running on a pool thread,
    :meth:`run` calls the function in the caller's thread.

    The hand-over costs about 0.1 ms a call (two thread wake-ups), a small share of any S3 round trip.
    """

    def __init__(self, size: int = DEFAULT_CALL_THREADS, name: str = "s3media-storage") -> None:
        self.size = positive_int(size, "call_threads")
        self.name = name
        self._start_empty()
        if hasattr(os, "register_at_fork"):
            # A forked worker (gunicorn --preload) has none of the parent's threads.
            pool = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _restart(pool))

    def _start_empty(self) -> None:
        self._free = threading.BoundedSemaphore(self.size)
        self._work: queue.SimpleQueue[tuple[Job, contextvars.Context] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._busy = 0

    def run(self, fn: Callable[[], T], action: str = "storage call") -> T:
        """``fn()``, on a pool thread, waited for at most the current budget's remaining seconds."""
        left = remaining()
        if left is None or current_job() is not None:
            return fn()
        if left <= 0:
            check_budget(action)
        if not self._free.acquire(blocking=False):
            raise StorageBusy(f"{action}: all {self.size} storage call threads are waiting for storage")
        job = Job(fn)
        with self._lock:
            self._busy += 1
            if self._idle:
                self._idle -= 1
                start = False
            else:
                self._threads += 1
                start = True
        self._work.put((job, contextvars.copy_context()))
        if start:
            threading.Thread(target=self._serve, name=f"{self.name}-call", daemon=True).start()
        if not job._done.acquire(timeout=max(left, 0.0)):
            job.cancel()
            current = _current.get()
            limit = current.limit if current is not None else left
            raise StorageUnavailable(f"{action}: no answer within the storage time budget of {limit:g} s")
        if job._error is not None:
            raise job._error
        result: T = job._result
        return result

    def _serve(self) -> None:
        while True:
            try:
                item = self._work.get(timeout=CALL_THREAD_IDLE)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # nobody counted on this thread: it may go
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue  # a job was promised to this thread: it is on its way
            if item is None:
                return
            job, context = item
            try:
                job._run(context)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._idle += 1
                self._free.release()

    @property
    def threads(self) -> int:
        """Pool threads alive now (busy or idle)."""
        return self._threads

    @property
    def busy(self) -> int:
        """Calls running now, those cancelled but not yet ended included."""
        return self._busy


def _restart(pool: weakref.ref[CallPool]) -> None:
    alive = pool()
    if alive is not None:
        alive._start_empty()


# --- the guard ------------------------------------------------------------------------


class StorageGuard:
    """The budget, the bound and the breaker, as :class:`~s3media_wsgi.Media` uses them.

    :meth:`request` wraps the storage work of one media request: a resize, or
    one public method the application or an upload route calls (``put``,
    ``confirm_upload``, ``delete``...); :meth:`call` wraps each storage call
    in it, so that the breaker sees every failure and an open circuit fails
    every caller fast.
    """

    def __init__(
        self,
        budget_seconds: float = DEFAULT_STORAGE_BUDGET,
        max_requests: int = DEFAULT_MAX_STORAGE_REQUESTS,
        threshold: int = DEFAULT_BREAKER_THRESHOLD,
        cooldown: float = DEFAULT_BREAKER_COOLDOWN,
    ) -> None:
        self.budget_seconds = positive_number(budget_seconds, "storage_budget")
        self.max_requests = positive_int(max_requests, "max_storage_requests")
        self.breaker = CircuitBreaker(threshold, cooldown)
        self._slots = threading.BoundedSemaphore(self.max_requests)

    @contextmanager
    def request(self) -> Iterator[None]:
        """One media request's storage work: a time budget shared by its calls."""
        with budget(self.budget_seconds):
            yield

    @contextmanager
    def cleanup(self) -> Iterator[None]:
        """A fresh budget of at most :data:`CLEANUP_BUDGET` seconds, to undo a write that failed.

        The failed write may have used up the request's budget (a write cut
        off at its deadline may still land), so its undo gets its own.
        """
        token = _current.set(_Budget(min(self.budget_seconds, CLEANUP_BUDGET)))
        try:
            yield
        finally:
            _current.reset(token)

    @contextmanager
    def call(self) -> Iterator[None]:
        """One storage call: refused while the circuit is open; its outcome is recorded.

        Inside :meth:`request`, the call also needs one of ``max_requests``
        slots, and is answered :class:`StorageBusy` when none frees up within
        :data:`SLOT_WAIT`: only threads actually waiting for storage count,
        not those decoding.
        """
        self.breaker.allow()
        check_budget()
        in_request = _current.get() is not None
        if in_request and not self._slots.acquire(timeout=SLOT_WAIT):
            raise StorageBusy(f"{self.max_requests} media requests are already waiting for storage")
        try:
            with _timed():
                yield
        except StorageUnavailable:
            self.breaker.failure()
            raise
        except MediaError:
            # NotFound, AlreadyExists, even an access error: storage answered.
            self.breaker.success()
            raise
        finally:
            if in_request:
                self._slots.release()
        self.breaker.success()


__all__ = [
    "CALL_THREAD_IDLE",
    "CLEANUP_BUDGET",
    "DEFAULT_BREAKER_COOLDOWN",
    "DEFAULT_BREAKER_THRESHOLD",
    "DEFAULT_CALL_THREADS",
    "DEFAULT_MAX_STORAGE_REQUESTS",
    "DEFAULT_STORAGE_BUDGET",
    "SLOT_WAIT",
    "CallPool",
    "CircuitBreaker",
    "Job",
    "StorageGuard",
    "budget",
    "check_budget",
    "check_cancelled",
    "current_job",
    "remaining",
]
