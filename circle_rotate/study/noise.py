"""Mask noise floor: how much a subject's mask centroid jitters from frame to frame, in pixels.

Centroid metrics (drift, speed, deviation) are only as good as the masks: on real generations the subject moves
about as much as the masks flicker (FACTS.md: about 1 px per frame on the original project's demos). This module
measures that flicker per video so a study can tell a real change from mask noise.

Model. The centroid track of one video is ``c(t) = m(t) + e(t)``: a smooth motion ``m`` (the subject and camera)
plus mask noise ``e`` that is independent from frame to frame, zero-mean, with the same standard deviation
``sigma`` on the x and on the y axis. ``sigma`` (pixels, per axis) is the noise floor.

Estimator (``track_noise_px``):

1. Keep the frames with a centroid and a distinct image: rows without a detection (NaN) are dropped, and so is a
   row showing the same distinct frame as an earlier one (a repeated frame carries the same mask, so it would add
   a zero residual, not a new noise sample). Time ``t`` is the distinct-frame index.
2. Smooth fit: for each kept frame i, a least-squares quadratic in t over a window of ``WINDOW`` consecutive kept
   frames (centred on i, shifted inwards at the ends of the track), fitted to x and to y separately. The
   residual ``r_i = c_i - fit_i(t_i)`` is a linear combination of the noise whose variance is
   ``sigma^2 (1 - h_ii)``, ``h_ii`` being the leverage of frame i in its window (the fit is a projection, so
   ``I - H`` is idempotent). The normalised residual ``z_i = r_i / sqrt(1 - h_ii)`` therefore has standard
   deviation exactly ``sigma`` wherever the motion is a quadratic over the window (still, linear, uniformly
   accelerated), and very nearly so on smooth curves (on a circular arc the cubic term of the window is left
   over: about ``r w^3`` for radius r and w radians per frame, 0.01 px for a quarter turn over 32 frames).
3. ``sigma = 1.4826 * median(|z|)`` over both axes together: the robust standard deviation of a zero-mean normal
   (1.4826 = 1 / Phi^-1(3/4)); a mask that fuses with the background on a few frames moves the median little.

On synthetic tracks (still, linear, half a turn of a 60 px circle; 32, 57 and 81 frames; Gaussian jitter with
sigma 0.25-4 px per axis; ``tests/unit/test_study_noise.py``) the mean estimate over 200 seeds is within 1% of
sigma everywhere; one track scatters around sigma by a standard deviation of 16% (32 frames) to 10% (81 frames),
so a single video's value is rough, while the pooled value over 20 videos stayed within 6% of sigma in all 450
groups tried.

A study pools the per-video values as their root mean square (``pooled_noise_px``): the estimate of a common
sigma from variances, each video weighing the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

WINDOW = 7  # kept frames per local quadratic fit
DEGREE = 2  # degree of the local polynomial
MAD_TO_SIGMA = 1.4826  # 1 / Phi^-1(3/4): median |z| of a zero-mean normal times this is its std

PIXEL_CENTROID_METRICS: frozenset[str] = frozenset(
    {
        "subject_drift.speed_px_per_frame",
        "subject_drift.speed_px_per_distinct_frame",
        "subject_drift.drift_std_px",
        "subject_drift.max_deviation_px",
        "subject_drift.upstream_drift",
        "upstream.subject_drift.drift",
    }
)
"""Dotted report paths of the metrics computed from mask centroids in pixels: the ones the noise floor bounds."""


def _normalised_residuals(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(n, 2) residuals of ``values`` (n, 2) from local quadratic fits in ``times``, divided by sqrt(1 - h_ii)."""
    n = len(times)
    z = np.empty_like(values)
    for i in range(n):
        start = min(max(i - WINDOW // 2, 0), n - WINDOW)
        window = slice(start, start + WINDOW)
        span = times[window] - times[i]
        design = np.vander(span / max(1.0, float(np.abs(span).max())), DEGREE + 1, increasing=True)
        # Row i of the window's hat matrix: the fit at t_i is hat @ values[window] (design row at t_i is [1, 0, 0]).
        hat = np.linalg.solve(design.T @ design, design.T)[0]
        leverage = hat[i - start]
        z[i] = (values[i] - hat @ values[window]) / math.sqrt(1.0 - leverage)
    return z


def track_noise_px(centroids: np.ndarray, distinct_index: np.ndarray | None = None) -> float | None:
    """Mask noise of one centroid track, in pixels per axis (see the module docstring for the estimator).

    Args:
        centroids: (N, 2) float (x, y) centroids in pixels, one row per analysed frame in time order; NaN rows
            for frames without a detection.
        distinct_index: (N,) non-decreasing distinct-frame index of each row (the time coordinate; a row whose
            index equals an earlier row's is a repeated frame and is dropped). Default: ``arange(N)``, every row
            a distinct frame one step apart.

    Returns:
        ``sigma`` in pixels, or None when fewer than ``WINDOW`` distinct frames have a centroid.

    Raises:
        ValueError: ``centroids`` is not (N, 2), or ``distinct_index`` does not have N non-decreasing values.
    """
    points = np.asarray(centroids, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"centroids of shape {points.shape}: expected (N, 2) (x, y) pixels, NaN rows for missing frames")
    times = np.arange(len(points), dtype=np.float64) if distinct_index is None else np.asarray(distinct_index, dtype=np.float64)
    if times.shape != (len(points),) or np.any(np.diff(times) < 0):
        raise ValueError(f"distinct_index of shape {times.shape}: expected {len(points)} non-decreasing values, one per centroid row")
    keep = np.all(np.isfinite(points), axis=1)
    points, times = points[keep], times[keep]
    first = np.concatenate([[True], np.diff(times) > 0]) if len(times) else np.zeros(0, dtype=bool)
    points, times = points[first], times[first]
    if len(points) < WINDOW:
        return None
    z = _normalised_residuals(times, points)
    return float(MAD_TO_SIGMA * np.median(np.abs(z)))


def video_noise_px(report: Mapping[str, Any]) -> float | None:
    """Mask noise of one per-video report (``suite`` output), in pixels per axis.

    Reads ``subject_drift.centroids`` (``[x, y]`` or None per analysed frame) and ``subject_drift.indices``
    (original frame indices, the time coordinate). A row equal to the previous detected row is taken for a
    repeated frame and dropped: the suite gives a repeated frame its predecessor's mask, and the reports do not
    carry distinct-frame indices.

    Returns:
        :func:`track_noise_px` of the track, or None when the report has no subject-drift result or too few
        distinct detected frames.
    """
    drift = report.get("subject_drift")
    if not drift or not drift.get("centroids"):
        return None
    points = np.array([[math.nan, math.nan] if c is None else c for c in drift["centroids"]], dtype=np.float64)
    times = np.asarray(drift["indices"], dtype=np.float64)
    detected = np.all(np.isfinite(points), axis=1)
    points, times = points[detected], times[detected]
    distinct = np.concatenate([[True], np.any(np.diff(points, axis=0) != 0, axis=1)]) if len(points) else detected[:0]
    return track_noise_px(points[distinct], times[distinct])


def pooled_noise_px(values: Iterable[float | None]) -> float | None:
    """The study's noise floor: root mean square of the per-video values that are not None (None if none are).

    The RMS averages variances, so for videos sharing one sigma it estimates that sigma; each video weighs the
    same whatever its frame count.
    """
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    return math.sqrt(sum(v * v for v in known) / len(known)) if known else None
