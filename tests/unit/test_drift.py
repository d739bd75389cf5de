"""Subject drift against analytic trajectories (circle_rotate.metrics.drift)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from circle_rotate.metrics.drift import compute_drift, mask_centroids
from circle_rotate.video import sample_indices
from fixtures.synthetic_video import moving_disc


def test_linear_trajectory_matches_analytic_values():
    t = np.arange(81)
    video = moving_disc(np.stack([20 + 2 * t, 10 + t], axis=1).astype(float), height=110, width=200, radius=8)
    indices = sample_indices(81, 16)
    result = compute_drift(video.masks[indices], indices)
    speed = math.sqrt(5)
    assert result["speed_px_per_frame"] == pytest.approx(speed, rel=1e-9)
    assert result["drift_std_px"] == pytest.approx(speed * np.std(indices), rel=1e-9)
    assert result["max_deviation_px"] == pytest.approx(speed * 80, rel=1e-9)
    assert result["upstream_drift"] == result["drift_std_px"]
    assert result["speed_px_per_frame_norm"] == pytest.approx(speed / math.hypot(110, 200))
    assert result["detection_rate"] == 1.0
    assert result["centroids"][3] == pytest.approx([20 + 2 * indices[3], 10 + indices[3]])


def test_circular_trajectory_within_one_percent():
    radius, omega = 30.0, 0.05  # rad per frame
    t = np.arange(81)
    centres = np.stack([80 + radius * np.cos(omega * t), 60 + radius * np.sin(omega * t)], axis=1)
    video = moving_disc(centres, height=120, width=160, radius=12)
    indices = sample_indices(81, 16)
    result = compute_drift(video.masks[indices], indices)
    steps = np.diff(indices)
    speed = np.mean(2 * radius * np.sin(omega * steps / 2) / steps)
    c = centres[indices]
    std = math.hypot(np.std(c[:, 0]), np.std(c[:, 1]))
    max_dev = np.max(np.linalg.norm(c - c[0], axis=1))
    assert result["speed_px_per_frame"] == pytest.approx(speed, rel=0.01)
    assert result["drift_std_px"] == pytest.approx(std, rel=0.01)
    assert result["max_deviation_px"] == pytest.approx(max_dev, rel=0.01)


def test_repeated_frames_give_the_true_speed_per_distinct_frame():
    t = np.arange(16)
    distinct = moving_disc(np.stack([20 + 3 * t, 30 + 0 * t], axis=1).astype(float), radius=6)
    masks = np.repeat(distinct.masks, 2, axis=0)  # every frame shown twice
    indices = np.arange(32)
    result = compute_drift(masks, indices, distinct_indices=indices // 2)
    assert result["speed_px_per_frame"] == pytest.approx(3 * 15 / 31)
    assert result["speed_px_per_distinct_frame"] == pytest.approx(3.0)


def test_frames_without_detection_are_skipped_and_reported():
    t = np.arange(5)
    video = moving_disc(np.stack([20 + 4 * t, 30 + 0 * t], axis=1).astype(float), radius=6)
    masks = video.masks.copy()
    masks[2] = False
    result = compute_drift(masks, np.arange(5) * 2)
    assert result["centroids"][2] is None and result["detected"] == [True, True, False, True, True]
    assert result["detection_rate"] == pytest.approx(0.8)
    assert result["speed_px_per_frame"] == pytest.approx(2.0)  # 4 px per 2 frames, the gap is 8 px per 4 frames
    assert result["areas"][2] == 0


def test_fewer_than_two_detections_give_none_and_upstream_minus_one():
    masks = np.zeros((3, 10, 10), bool)
    masks[1, 2:4, 2:4] = True
    result = compute_drift(masks, np.arange(3))
    assert result["speed_px_per_frame"] is None and result["drift_std_px"] is None
    assert result["upstream_drift"] == -1.0
    assert result["centroids"] == [None, [2.5, 2.5], None]


def test_flow_statistics_follow_the_original():
    rng = np.random.default_rng(0)
    masks = rng.random((4, 8, 10)) > 0.6
    masks[1] = False
    flows = [rng.random((8, 10)).astype(np.float32) for _ in range(3)]
    result = compute_drift(masks, np.arange(4), flow_magnitudes=flows)
    subject = np.mean([flows[0][masks[0]].mean(), flows[2][masks[2]].mean()])
    global_flow = np.mean([f.mean() for f in flows])
    assert result["subject_flow"] == pytest.approx(subject)
    assert result["global_flow"] == pytest.approx(global_flow)
    assert result["flow_ratio"] == pytest.approx(subject / global_flow)


def test_mask_centroids_are_mean_pixel_coordinates():
    masks = np.zeros((1, 6, 8), bool)
    masks[0, 1, 2] = masks[0, 4, 7] = True
    centroids, areas = mask_centroids(masks)
    np.testing.assert_allclose(centroids, [[4.5, 2.5]])
    assert areas.tolist() == [2]


def test_shape_errors_name_the_problem():
    with pytest.raises(ValueError, match="expected \\(N, H, W\\) with N = 3"):
        compute_drift(np.zeros((2, 4, 4), bool), np.arange(3))
    with pytest.raises(ValueError, match="one per consecutive pair"):
        compute_drift(np.zeros((3, 4, 4), bool), np.arange(3), flow_magnitudes=[np.zeros((4, 4))])
