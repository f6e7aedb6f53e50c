"""The storage guard's parts on their own: budget, breaker, bound.  (Against real S3 faults: tests/reliability/.)"""

from __future__ import annotations

import threading
import time

import pytest

from s3media_wsgi.errors import ConfigError, NotFound, StorageBusy, StorageError, StorageUnavailable
from s3media_wsgi.resilience import SLOT_WAIT, CircuitBreaker, StorageGuard, budget, check_budget, remaining


def test_budget_counts_only_time_inside_storage_calls() -> None:
    guard = StorageGuard(budget_seconds=0.2)
    with guard.request():
        time.sleep(0.3)  # decoding, waiting for a decode slot: not storage time
        with guard.call():
            pass
        with guard.call():
            time.sleep(0.25)
        with pytest.raises(StorageUnavailable, match="budget of 0.2 s is used up"):
            with guard.call():
                pass


def test_budget_is_checked_inside_a_running_call_and_is_per_thread() -> None:
    seen: dict[str, object] = {}

    def other_thread() -> None:
        seen["other"] = remaining()

    with budget(0.1):
        assert remaining() is not None
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        check_budget()
    assert seen["other"] is None
    assert remaining() is None


def test_nested_budget_keeps_the_outer_one() -> None:
    with budget(5):
        with budget(100):
            left = remaining()
    assert left is not None and left <= 5


def test_breaker_opens_after_threshold_and_fails_fast() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=60)
    for _ in range(2):
        breaker.failure()
        breaker.allow()
    breaker.failure()
    assert breaker.is_open
    started = time.perf_counter()
    with pytest.raises(StorageUnavailable, match="circuit open") as info:
        breaker.allow()
    assert time.perf_counter() - started < 0.01
    assert 1 <= info.value.retry_after <= 60


def test_answers_in_between_do_not_hide_failures() -> None:
    # HEADs that answer while every GET times out: the storage is failing.
    breaker = CircuitBreaker(threshold=3, cooldown=60)
    for _ in range(3):
        breaker.success()
        breaker.failure()
    assert breaker.is_open


def test_old_failures_age_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import s3media_wsgi.resilience as resilience

    clock = [1000.0]
    monkeypatch.setattr(resilience.time, "monotonic", lambda: clock[0])
    breaker = CircuitBreaker(threshold=2, cooldown=5)
    breaker.failure()
    clock[0] += resilience.BREAKER_WINDOW + 1
    breaker.failure()
    assert not breaker.is_open


def test_half_open_lets_one_trial_through_then_closes_or_reopens(monkeypatch: pytest.MonkeyPatch) -> None:
    import s3media_wsgi.resilience as resilience

    clock = [1000.0]  # a fake clock: the cooldown passes when the test says, not after a sleep
    monkeypatch.setattr(resilience.time, "monotonic", lambda: clock[0])
    breaker = CircuitBreaker(threshold=1, cooldown=0.1)
    breaker.failure()
    with pytest.raises(StorageUnavailable):
        breaker.allow()
    clock[0] += 0.15
    breaker.allow()  # the trial
    with pytest.raises(StorageUnavailable):
        breaker.allow()  # everyone else still fails fast
    breaker.failure()  # the trial failed: a new cooldown
    with pytest.raises(StorageUnavailable):
        breaker.allow()
    clock[0] += 0.15
    breaker.allow()
    breaker.success()
    assert not breaker.is_open
    breaker.allow()


def test_guard_records_answers_and_failures() -> None:
    guard = StorageGuard(threshold=2, cooldown=60)
    for error in (StorageUnavailable("timeout"), StorageUnavailable("timeout")):
        with pytest.raises(StorageUnavailable):
            with guard.call():
                raise error
    assert guard.breaker.is_open
    with pytest.raises(StorageUnavailable, match="circuit open"):
        with guard.call():
            pytest.fail("an open circuit must not call storage")


@pytest.mark.parametrize("answer", [NotFound("no such key"), StorageError("AccessDenied")])
def test_an_error_answer_from_storage_is_not_an_outage(answer: Exception) -> None:
    guard = StorageGuard(threshold=2, cooldown=60)
    for _ in range(3):
        with pytest.raises(type(answer)):
            with guard.call():
                raise answer
    assert not guard.breaker.is_open


def test_bound_refuses_at_once_when_full_and_frees_slots() -> None:
    guard = StorageGuard(max_requests=2)
    inside = threading.Barrier(3)
    release = threading.Event()

    def hold() -> None:
        with guard.request(), guard.call():
            inside.wait(timeout=5)
            release.wait(timeout=5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    inside.wait(timeout=5)
    started = time.perf_counter()
    with pytest.raises(StorageBusy) as info:
        with guard.request(), guard.call():
            pass
    waited = time.perf_counter() - started
    assert SLOT_WAIT * 0.9 <= waited < SLOT_WAIT + 0.3
    assert info.value.retry_after == 1
    with guard.call():  # outside a media request (the app's own put): no slot needed
        pass
    release.set()
    for t in holders:
        t.join(timeout=5)
    with guard.request(), guard.call():
        pass
    assert not guard.breaker.is_open  # being busy is not a storage failure


def test_a_slot_freed_while_waiting_is_taken() -> None:
    # A burst against healthy storage queues briefly instead of failing.
    guard = StorageGuard(max_requests=1)
    inside = threading.Event()

    def hold() -> None:
        with guard.request(), guard.call():
            inside.set()
            time.sleep(SLOT_WAIT / 3)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(timeout=5)
    with guard.request(), guard.call():
        pass
    holder.join(timeout=5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"budget_seconds": 0},
        {"budget_seconds": float("inf")},
        {"max_requests": 0},
        {"max_requests": 1.5},
        {"threshold": True},
        {"cooldown": -1},
    ],
)
def test_guard_settings_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        StorageGuard(**kwargs)  # type: ignore[arg-type]


def test_followers_of_a_stuck_call_give_their_thread_back() -> None:
    # Identical requests while storage hangs must not hold every server thread.
    from s3media_wsgi.errors import Busy
    from s3media_wsgi.singleflight import SingleFlight

    flight: SingleFlight[int] = SingleFlight()
    release = threading.Event()
    leader = threading.Thread(target=lambda: flight.do("k", lambda: release.wait(5) and 1))
    leader.start()
    time.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(Busy):
        flight.do("k", lambda: 2, wait=0.2)
    assert time.perf_counter() - started < 1.0
    release.set()
    leader.join(timeout=5)


# --- CallPool: the wall-clock bound on one storage call (row 6) ------------------------------


def test_call_pool_answers_at_the_deadline_and_cancels_the_call() -> None:
    from s3media_wsgi.resilience import CallPool, check_cancelled, current_job

    pool = CallPool(2, "test-pool")
    released = threading.Event()
    cancelled = threading.Event()

    def stuck() -> None:
        job = current_job()
        assert job is not None and remaining() is not None  # the caller's budget, seen from the pool thread
        job.on_cancel(released.set)  # what an S3 connection does: shut its socket down
        released.wait(10)
        with pytest.raises(StorageUnavailable, match="cancelled"):
            check_cancelled()
        cancelled.set()

    started = time.monotonic()
    with budget(0.3), pytest.raises(StorageUnavailable, match="no answer within the storage time budget of 0.3 s"):
        pool.run(stuck)
    assert time.monotonic() - started < 1.0
    assert cancelled.wait(2)
    with budget(1):
        assert pool.run(lambda: 42) == 42
        with pytest.raises(KeyError):
            pool.run(lambda: {}["missing"])
    assert pool.run(threading.get_ident) == threading.get_ident()  # outside a budget: the caller's thread


def test_a_call_pool_full_of_stuck_calls_refuses_at_once_and_holds_at_most_its_size() -> None:
    from s3media_wsgi.resilience import CallPool

    pool = CallPool(2, "test-pool")
    release = threading.Event()
    before = threading.active_count()
    for _ in range(2):
        with budget(0.05), pytest.raises(StorageUnavailable):
            pool.run(lambda: release.wait(10))  # ignores the cancel
    started = time.monotonic()
    with budget(5), pytest.raises(StorageBusy, match="all 2 storage call threads"):
        pool.run(lambda: None)
    assert time.monotonic() - started < 0.1
    assert threading.active_count() - before == 2 == pool.threads
    release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the stuck calls end: their threads serve again
        try:
            with budget(5):
                assert pool.run(lambda: "ok") == "ok"
            break
        except StorageBusy:
            time.sleep(0.01)
    else:
        raise AssertionError("the pool never freed its threads")
    assert pool.threads == 2


def test_guarded_media_methods_share_one_budget(tmp_path) -> None:
    # Row 7: a public method is one request: its calls share one budget and need slots.
    from s3media_wsgi import LocalStorage, Media

    media = Media(LocalStorage(tmp_path, base_url="/m/"), secret_key="resilience-secret-0123456789-abcdefgh")
    seen = []
    real_exists = media.storage.exists

    def exists(key: str) -> bool:
        seen.append(remaining())
        return real_exists(key)

    media.storage.exists = exists  # type: ignore[method-assign]
    media.exists("3c72aedc/ba25/41e6/a569/406c8f413974/cat.jpg")
    assert seen and seen[0] is not None and 0 < seen[0] <= media.guard.budget_seconds
    assert remaining() is None


def test_cleanup_gets_a_fresh_short_budget_after_the_request_used_its_own() -> None:
    from s3media_wsgi.resilience import CLEANUP_BUDGET

    guard = StorageGuard(budget_seconds=0.05)
    with guard.request():
        with guard.call():
            time.sleep(0.06)
        with pytest.raises(StorageUnavailable, match="used up"):
            check_budget()
        with guard.cleanup():
            check_budget()  # a put cut off at its deadline can still be undone
            left = remaining()
            assert left is not None and 0 < left <= min(0.05, CLEANUP_BUDGET)
        with pytest.raises(StorageUnavailable, match="used up"):
            check_budget()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_process_starts_its_call_pool_afresh() -> None:
    # gunicorn --preload: the parent's pool threads do not exist in the child.
    import os

    from s3media_wsgi.resilience import CallPool

    pool = CallPool(2, "test-pool")
    with budget(5):
        assert pool.run(lambda: 1) == 1  # the parent now has an idle pool thread
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            with budget(2):
                ok = pool.run(lambda: 2) == 2
        except BaseException:
            ok = False
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(child, 0)
    assert answer == b"1"
