"""flow.PairWorkers: results in submission order, a bound on calls in flight, errors raised to the caller."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from circle_rotate.metrics.flow import FlowCache, PairWorkers, farneback_magnitude, to_gray
from fixtures.synthetic_video import shifted_texture


def test_results_come_back_in_submission_order_even_when_later_calls_finish_first() -> None:
    def slow_for_small(value: int) -> int:
        time.sleep(0.02 * (5 - value))
        return value * 10

    assert PairWorkers(3).map(slow_for_small, [(v,) for v in range(5)]) == [0, 10, 20, 30, 40]


def test_no_more_than_twice_the_workers_are_in_flight() -> None:
    workers, lock, state = 2, threading.Lock(), {"submitted": 0, "done": 0, "most": 0}

    def work(_: int) -> None:
        time.sleep(0.005)
        with lock:
            state["done"] += 1

    pool = PairWorkers(workers)
    for value in range(20):
        pool.submit(work, value)
        with lock:
            state["submitted"] += 1
            state["most"] = max(state["most"], state["submitted"] - state["done"])
    pool.finish()
    assert state["done"] == 20
    assert state["most"] <= 2 * workers + 1  # the bound, plus the call just submitted


def test_an_error_in_a_call_reaches_the_caller() -> None:
    def fail(value: int) -> int:
        if value == 3:
            raise ValueError("pair 3 is broken")
        return value

    with pytest.raises(ValueError, match="pair 3 is broken"):
        PairWorkers(2).map(fail, [(v,) for v in range(6)])


def test_one_worker_runs_each_call_at_once_in_the_callers_thread() -> None:
    seen = []
    pool = PairWorkers(1)
    assert pool.submit(lambda: seen.append(threading.current_thread()) or "done") == ["done"]
    assert seen == [threading.current_thread()]
    assert pool.finish() == []


def test_flow_cache_computes_missing_pairs_on_threads_and_keeps_them() -> None:
    frames = shifted_texture(5, dx=2, dy=0)
    cache = FlowCache()
    pairs = [(0, 1), (1, 2), (3, 4)]
    magnitudes = cache.magnitudes(pairs, [(frames[a], frames[b]) for a, b in pairs], workers=2)
    assert cache.computed == 3
    for (a, b), magnitude in zip(pairs, magnitudes):
        np.testing.assert_array_equal(magnitude, farneback_magnitude(to_gray(frames[a]), to_gray(frames[b])))
    assert cache.magnitude((1, 2), frames[1], frames[2]) is magnitudes[1]
    assert cache.computed == 3
