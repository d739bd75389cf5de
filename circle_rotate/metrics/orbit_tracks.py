"""Feature tracks for the orbit metric: grayscale analysis frames, repeat detection, chained Lucas-Kanade tracks.

Preprocessing: grayscale (``cv2.COLOR_RGB2GRAY``), resized (area) to at most ``ANALYSIS_WIDTH`` pixels wide. A
frame that repeats the previous kept frame (GIFs that show every frame twice) is skipped; the test is the suite's
own (``circle_rotate/repeats.py``: the largest mean |difference| along a 16-pixel row or column run, at full
resolution, at most ``REPEAT_TOLERANCE`` grey levels), so a small subject moving on a static frame is not a repeat.

Tracks: Shi-Tomasi corners detected in ``DETECTION_STRIPS`` horizontal strips (every height of the image gets
features, not only the most textured one), followed from kept frame to kept frame with pyramidal Lucas-Kanade
and kept while the backward track returns within ``FB_MAX_PX`` of the start. After each step a strip holding
fewer than half its corner budget gets new corners (away from the live ones), so one track can span many frames:
the pair and triple geometry of the orbit reads the same points in several frames without tracking again.
"""

from __future__ import annotations

import numpy as np

from ..repeats import REPEAT_TOLERANCE, frame_change, luma

ANALYSIS_WIDTH = 480  # px: frames wider than this are resized (area) before tracking
DETECTION_STRIPS = 6  # horizontal strips, each with its own corner budget
CORNERS_PER_STRIP = 75
FB_MAX_PX = 1.0  # forward-backward tracking error above this drops a track (analysis px)
_LK = {"winSize": (21, 21), "maxLevel": 3}


def gray_frames(frames: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Grayscale frames resized to at most ANALYSIS_WIDTH wide, and the scale (analysis px per input px)."""
    import cv2

    width = frames.shape[2]
    scale = min(1.0, ANALYSIS_WIDTH / width)
    size = (round(width * scale), round(frames.shape[1] * scale))
    grays = []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        grays.append(cv2.resize(gray, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else gray)
    return grays, size[0] / width


def distinct(frames: np.ndarray) -> list[int]:
    """Positions of the frames (uint8 RGB (N, H, W, 3)) that are not repeats of the previous kept frame."""
    lumas = [luma(frame) for frame in frames]
    kept = [0]
    for position in range(1, len(lumas)):
        if frame_change(lumas[kept[-1]], lumas[position]) > REPEAT_TOLERANCE:
            kept.append(position)
    return kept


def _detect(gray: np.ndarray, live: np.ndarray) -> np.ndarray:
    """New corners (K, 2) in the strips of ``gray`` holding fewer than half their budget of ``live`` points."""
    import cv2

    height, width = gray.shape
    spacing = max(3, width // 80)
    free = np.full_like(gray, 255)
    for x, y in live.round().astype(int):
        cv2.circle(free, (int(x), int(y)), spacing, 0, -1)
    found = []
    edges = np.linspace(0, height, DETECTION_STRIPS + 1).round().astype(int)
    for top, bottom in zip(edges, edges[1:]):
        have = int(np.count_nonzero((live[:, 1] >= top) & (live[:, 1] < bottom)))
        if have >= CORNERS_PER_STRIP // 2:
            continue
        mask = np.zeros_like(gray)
        mask[top:bottom] = free[top:bottom]
        corners = cv2.goodFeaturesToTrack(gray, CORNERS_PER_STRIP - have, 0.005, spacing, mask=mask, blockSize=5)
        if corners is not None:
            found.append(corners.reshape(-1, 2))
    return np.concatenate(found).astype(np.float32) if found else np.zeros((0, 2), np.float32)


def track_sequence(grays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Chained tracks over ``grays`` (the kept frames, in order).

    Returns:
        (table, lost): table (M, T, 2) float32 analysis-pixel positions of M tracks in the T frames, NaN where a
        track is absent; lost (T - 1,) the fraction of the tracks alive at each step's start that were lost.
    """
    import cv2

    height, width = grays[0].shape
    start = _detect(grays[0], np.zeros((0, 2), np.float32))
    table = np.full((len(start), len(grays), 2), np.nan, np.float32)
    table[:, 0] = start
    lost = np.zeros(max(0, len(grays) - 1))
    for t in range(len(grays) - 1):
        ids = np.flatnonzero(~np.isnan(table[:, t, 0]))
        points = table[ids, t]
        if len(points):
            forward, ok_f, _ = cv2.calcOpticalFlowPyrLK(grays[t], grays[t + 1], points, None, **_LK)
            back, ok_b, _ = cv2.calcOpticalFlowPyrLK(grays[t + 1], grays[t], forward, None, **_LK)
            inside = (forward[:, 0] >= 0) & (forward[:, 0] < width) & (forward[:, 1] >= 0) & (forward[:, 1] < height)
            good = ok_f.ravel().astype(bool) & ok_b.ravel().astype(bool) & inside
            good &= np.linalg.norm(back - points, axis=1) < FB_MAX_PX
            table[ids[good], t + 1] = forward[good]
            lost[t] = 1.0 - good.mean()
        new = _detect(grays[t + 1], table[~np.isnan(table[:, t + 1, 0]), t + 1])
        if len(new):
            rows = np.full((len(new), len(grays), 2), np.nan, np.float32)
            rows[:, t + 1] = new
            table = np.concatenate([table, rows])
    return table, lost


def common(table: np.ndarray, *frames: int) -> list[np.ndarray]:
    """Positions (K, 2) float64 in each of ``frames`` of the K tracks present in all of them."""
    present = np.all([~np.isnan(table[:, f, 0]) for f in frames], axis=0)
    return [table[present, f].astype(np.float64) for f in frames]
