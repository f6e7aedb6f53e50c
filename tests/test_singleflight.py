import threading

import pytest

from s3media_wsgi.singleflight import SingleFlight


def test_concurrent_identical_calls_share_one_computation():
    flight = SingleFlight()
    calls = []
    arrived = threading.Semaphore(0)

    def work():
        calls.append(1)
        # Hold the leader until every caller has at least started, then a little
        # longer so they are all parked on the shared call.
        for _ in range(8):
            arrived.acquire(timeout=5)
        threading.Event().wait(0.2)
        return "done"

    results = []

    def caller():
        arrived.release()
        results.append(flight.do("k", work))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["done"] * 8
    assert len(calls) == 1
    assert flight._calls == {}


def test_errors_reach_every_waiter_and_are_not_cached():
    flight = SingleFlight()
    with pytest.raises(ValueError):
        flight.do("k", lambda: (_ for _ in ()).throw(ValueError("boom")))
    assert flight.do("k", lambda: 1) == 1


def test_different_keys_do_not_share():
    flight = SingleFlight()
    assert [flight.do(k, lambda k=k: k * 2) for k in "ab"] == ["aa", "bb"]
