"""Look-at stability: how far the camera's aim strays from the subject during the clip, in degrees.

Per analysed frame t with a non-empty subject mask: the mask's centroid (x_t, y_t) (mean of its pixel
centres, input pixels) and its viewing ray ``d_t = normalise((x_t - W/2) / f, (y_t - H/2) / f, 1)`` in camera
axes (the orbit metric's pinhole with focal length f). The camera keeps the subject where it was in the first
frame when d_t stays at d_0; the look-at offset is ``theta_t = angle(d_t, d_0)`` (degrees; 0 at the first frame
with a mask) and ``look_at_stability_deg = max_t theta_t`` (0 for a camera that keeps its aim; grows with a
look-at point that drifts or a subject that slides in the frame). The angles scale with the focal length
(the FOV used by the orbit metric); mask noise adds to them (a mask that flickers by 1 px reads about
1 px / f rad).
"""

from __future__ import annotations

import numpy as np


def look_at_track(masks: np.ndarray, focal: float) -> list[float | None]:
    """theta_t in degrees per frame (None where the mask is empty, or before the first non-empty mask).

    Args:
        masks: (N, H, W) bool subject masks of the analysed frames.
        focal: focal length in input pixels.
    """
    _, height, width = masks.shape
    rays: list[np.ndarray | None] = []
    for mask in masks:
        rows, cols = np.nonzero(mask)
        if len(rows) == 0:
            rays.append(None)
            continue
        ray = np.array([(cols.mean() + 0.5 - width / 2) / focal, (rows.mean() + 0.5 - height / 2) / focal, 1.0])
        rays.append(ray / np.linalg.norm(ray))
    first = next((ray for ray in rays if ray is not None), None)
    if first is None:
        return [None] * len(rays)
    return [None if ray is None else float(np.degrees(np.arccos(np.clip(ray @ first, -1.0, 1.0)))) for ray in rays]
