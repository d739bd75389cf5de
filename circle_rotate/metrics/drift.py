"""Subject drift: where the subject's mask centre goes, and how much the subject moves in the image.

Input: per-frame subject masks (N, H, W) bool for the analysed (sampled) frames, the frames' original indices
t_i, optionally their distinct-frame indices d_i (see ``video.py``), and optionally the Farneback flow magnitude
between consecutive analysed frames (see ``flow.py``).

Per frame: centroid c = mean (x, y) of the mask's pixel coordinates (x = column, y = row, pixel centres at
integer coordinates, as the original), area = number of mask pixels, detected = area > 0. Over the frames with a
detection, in order (frames without one are skipped):

- ``speed_px_per_frame`` = mean over successive detected frames of |c(t_{i+1}) - c(t_i)| / (t_{i+1} - t_i):
  pixels per original frame.
- ``speed_px_per_distinct_frame``: the same divided by d_{i+1} - d_i instead (pairs showing the same distinct
  frame are skipped): pixels per distinct frame, the true speed of videos that repeat frames.
- ``drift_std_px`` = sqrt(std(cx)^2 + std(cy)^2), population std: the original's "drift" (pixels, NOT pixels
  per frame; ignores order).
- ``max_deviation_px`` = max |c(t) - c(t_first)|.
- each of the above also divided by the image diagonal sqrt(H^2 + W^2) (``*_norm``, dimensionless).
- ``detection_rate`` = detected frames / analysed frames.
- ``global_flow`` = mean over consecutive analysed pairs of the mean flow magnitude; ``subject_flow`` = mean over
  the pairs whose first frame i has a detection of the mean magnitude inside frame i's mask (both pixels between
  consecutive analysed frames, as the original); ``flow_ratio`` = subject_flow / global_flow.
- ``upstream_drift``: the original's value: drift_std_px, or -1 with fewer than 2 centres.

Values that cannot be computed (fewer than 2 detections, no flow given) are None.
"""

from __future__ import annotations

import math

import numpy as np


def mask_centroids(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids and areas of (N, H, W) bool masks.

    Returns:
        ((N, 2) float64 (x, y) centroids, NaN where a mask is empty; (N,) int64 areas).
    """
    masks = np.asarray(masks, dtype=bool)
    areas = masks.sum(axis=(1, 2)).astype(np.int64)
    rows = masks.sum(axis=2)  # (N, H) pixels per row
    cols = masks.sum(axis=1)  # (N, W) pixels per column
    with np.errstate(invalid="ignore", divide="ignore"):
        cy = rows @ np.arange(masks.shape[1], dtype=np.float64) / areas
        cx = cols @ np.arange(masks.shape[2], dtype=np.float64) / areas
    centroids = np.stack([cx, cy], axis=1)
    centroids[areas == 0] = np.nan
    return centroids, areas


def _flow_stats(masks: np.ndarray, flow_magnitudes: list[np.ndarray]) -> tuple[float | None, float | None]:
    if len(flow_magnitudes) != len(masks) - 1:
        raise ValueError(f"{len(flow_magnitudes)} flow magnitudes for {len(masks)} masks: expected one per consecutive pair ({len(masks) - 1})")
    global_flows = [float(m.mean()) for m in flow_magnitudes]
    subject_flows = [float(m[mask].mean()) for m, mask in zip(flow_magnitudes, masks[:-1]) if mask.any()]
    return (float(np.mean(subject_flows)) if subject_flows else None, float(np.mean(global_flows)) if global_flows else None)


def _mean_speed(points: np.ndarray, times: np.ndarray) -> float | None:
    steps = np.diff(times)
    keep = steps > 0
    if not keep.any():
        return None
    distances = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return float(np.mean(distances[keep] / steps[keep]))


def _norm(value: float | None, diagonal: float) -> float | None:
    return None if value is None else value / diagonal


def compute_drift(
    masks: np.ndarray,
    indices: np.ndarray,
    distinct_indices: np.ndarray | None = None,
    flow_magnitudes: list[np.ndarray] | None = None,
) -> dict:
    """Subject drift statistics (see the module docstring).

    Args:
        masks: (N, H, W) bool subject masks of the analysed frames.
        indices: (N,) increasing original frame indices of those frames.
        distinct_indices: (N,) distinct-frame indices (defaults to ``indices``: no repeats).
        flow_magnitudes: N - 1 (H, W) Farneback magnitudes between consecutive analysed frames, or None.

    Returns:
        JSON-ready dict: ``indices, centroids ([x, y] or None), areas, detected, detection_rate,
        speed_px_per_frame, speed_px_per_distinct_frame, drift_std_px, max_deviation_px`` and their ``*_norm``,
        ``subject_flow, global_flow, flow_ratio, upstream_drift``.

    Raises:
        ValueError: shapes disagree.
    """
    masks = np.asarray(masks, dtype=bool)
    indices = np.asarray(indices, dtype=np.int64)
    if masks.ndim != 3 or len(masks) != len(indices) or len(masks) == 0:
        raise ValueError(f"masks of shape {masks.shape} for {len(indices)} frame indices: expected (N, H, W) with N = {len(indices)} >= 1")
    distinct = indices if distinct_indices is None else np.asarray(distinct_indices, dtype=np.int64)
    if len(distinct) != len(indices):
        raise ValueError(f"{len(distinct)} distinct indices for {len(indices)} frames: give one per frame")
    height, width = masks.shape[1:]
    diagonal = math.hypot(height, width)
    centroids, areas = mask_centroids(masks)
    detected = areas > 0
    points = centroids[detected]

    speed = speed_distinct = std = max_dev = None
    if len(points) >= 2:
        speed = _mean_speed(points, indices[detected])
        speed_distinct = _mean_speed(points, distinct[detected])
        std = float(math.hypot(np.std(points[:, 0]), np.std(points[:, 1])))
        max_dev = float(np.linalg.norm(points - points[0], axis=1).max())
    subject_flow = global_flow = None
    if flow_magnitudes is not None:
        subject_flow, global_flow = _flow_stats(masks, flow_magnitudes)
    ratio = subject_flow / global_flow if subject_flow is not None and global_flow else None
    return {
        "indices": indices.tolist(),
        "centroids": [None if not d else [float(c[0]), float(c[1])] for c, d in zip(centroids, detected)],
        "areas": areas.tolist(),
        "detected": detected.tolist(),
        "detection_rate": float(detected.mean()),
        "speed_px_per_frame": speed,
        "speed_px_per_distinct_frame": speed_distinct,
        "drift_std_px": std,
        "max_deviation_px": max_dev,
        "speed_px_per_frame_norm": _norm(speed, diagonal),
        "speed_px_per_distinct_frame_norm": _norm(speed_distinct, diagonal),
        "drift_std_px_norm": _norm(std, diagonal),
        "max_deviation_px_norm": _norm(max_dev, diagonal),
        "subject_flow": subject_flow,
        "global_flow": global_flow,
        "flow_ratio": ratio,
        "upstream_drift": std if std is not None else -1.0,
    }
