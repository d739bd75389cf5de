"""Dense optical flow shared by the drift and motion metrics (OpenCV Farneback, the original's parameters).

Flow between two frames is computed on their grayscale (``cv2.COLOR_RGB2GRAY``, as the original) with
``cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)`` (pyramid scale 0.5, 3 levels, window 15,
3 iterations, poly_n 5, poly_sigma 1.2, no flags) at native resolution. Only the magnitude
``sqrt(u^2 + v^2)`` (pixels between the two frames) is used by the metrics, so that is what is kept.

:class:`FlowCache` computes each pair once: the motion pass over all consecutive frames stores the pairs the drift
metric will ask for (consecutive sampled frames, which are consecutive original frames when all are sampled).

Pairs are independent, and OpenCV's Farneback runs on one core whatever ``cv2.setNumThreads`` says (measured: 0.18
vs 0.17 s per 1280x720 pair with 1 and 2 OpenCV threads), so :class:`PairWorkers` runs several pairs at once in
threads (OpenCV releases the GIL): 0.09 s per pair on two cores.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

FARNEBACK_PARAMS = (0.5, 3, 15, 3, 5, 1.2, 0)


def to_gray(frame: np.ndarray) -> np.ndarray:
    """uint8 (H, W) grayscale of a uint8 RGB (H, W, 3) frame, as ``cv2.cvtColor(..., COLOR_RGB2GRAY)``."""
    import cv2

    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def farneback_magnitude(gray_a: np.ndarray, gray_b: np.ndarray) -> np.ndarray:
    """(H, W) float32 flow magnitude in pixels from ``gray_a`` to ``gray_b`` (uint8 grayscale, same shape)."""
    import cv2

    flow = cv2.calcOpticalFlowFarneback(gray_a, gray_b, None, *FARNEBACK_PARAMS)
    return np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2)


def default_workers() -> int:
    """Threads for per-pair work: the machine's cores, at most 8 (each pair in flight holds two frames)."""
    return max(1, min(8, os.cpu_count() or 1))


class PairWorkers:
    """Runs per-pair functions in a thread pool and hands the results back in submission order.

    At most ``2 x workers`` calls are in flight: :meth:`submit` returns the results that had to be collected to
    make room, :meth:`finish` the rest, so a streamed video never has more than that many frame pairs in memory.
    An exception raised in a call is raised again by the ``submit`` or ``finish`` that collects it.

    Args:
        workers: threads (default :func:`default_workers`); 1 runs each call at once in the caller's thread.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="circle-rotate-flow") if self.workers > 1 else None
        self._pending: deque[Future] = deque()

    def submit(self, function: Callable[..., Any], *args: Any) -> list[Any]:
        """Start ``function(*args)``; return the results of earlier calls collected to keep the bound."""
        if self._pool is None:
            return [function(*args)]
        self._pending.append(self._pool.submit(function, *args))
        collected = []
        while len(self._pending) > 2 * self.workers:
            collected.append(self._pending.popleft().result())
        return collected

    def finish(self) -> list[Any]:
        """The results of every call not yet returned, in order; the threads are released."""
        try:
            return [future.result() for future in self._pending]
        finally:
            self._pending.clear()
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)

    def map(self, function: Callable[..., Any], items: Iterable[tuple]) -> list[Any]:
        """``[function(*item) for item in items]``, run on the workers; then :meth:`finish`."""
        results = []
        for item in items:
            results.extend(self.submit(function, *item))
        return results + self.finish()


class FlowCache:
    """Farneback magnitudes keyed by original frame indices ``(a, b)``.

    Args:
        keep: the pairs worth storing when offered through :meth:`offer` (others are dropped to save memory).
    """

    def __init__(self, keep: set[tuple[int, int]] | None = None) -> None:
        self.keep = set(keep or ())
        self.computed = 0
        self._store: dict[tuple[int, int], np.ndarray] = {}

    def offer(self, pair: tuple[int, int], magnitude: np.ndarray) -> None:
        """Store a magnitude computed elsewhere if ``pair`` is one of the kept pairs."""
        if pair in self.keep:
            self._store[pair] = magnitude

    def magnitude(self, pair: tuple[int, int], frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """The magnitude for ``pair`` (original indices of RGB ``frame_a`` -> ``frame_b``), computed if absent."""
        return self.magnitudes([pair], [(frame_a, frame_b)])[0]

    def magnitudes(self, pairs: list[tuple[int, int]], frames: list[tuple[np.ndarray, np.ndarray]], workers: int | None = None) -> list[np.ndarray]:
        """The magnitude for each pair (``frames[i]`` holds RGB frames a and b of ``pairs[i]``); the absent ones
        are computed on ``workers`` threads (see :class:`PairWorkers`)."""
        missing = [(pair, images) for pair, images in zip(pairs, frames) if pair not in self._store]
        computed = PairWorkers(workers if len(missing) > 1 else 1).map(
            lambda a, b: farneback_magnitude(to_gray(a), to_gray(b)), [images for _, images in missing]
        )
        for (pair, _), magnitude in zip(missing, computed):
            self._store[pair] = magnitude
        self.computed += len(missing)
        return [self._store[pair] for pair in pairs]
