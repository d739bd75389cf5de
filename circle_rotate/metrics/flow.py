"""Dense optical flow shared by the drift and motion metrics (OpenCV Farneback, the original's parameters).

Flow between two frames is computed on their grayscale (``cv2.COLOR_RGB2GRAY``, as the original) with
``cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)`` (pyramid scale 0.5, 3 levels, window 15,
3 iterations, poly_n 5, poly_sigma 1.2, no flags) at native resolution. Only the magnitude
``sqrt(u^2 + v^2)`` (pixels between the two frames) is used by the metrics, so that is what is kept.

:class:`FlowCache` computes each pair once: the motion pass over all consecutive frames stores the pairs the drift
metric will ask for (consecutive sampled frames, which are consecutive original frames when all are sampled).
"""

from __future__ import annotations

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
        if pair not in self._store:
            self._store[pair] = farneback_magnitude(to_gray(frame_a), to_gray(frame_b))
            self.computed += 1
        return self._store[pair]
