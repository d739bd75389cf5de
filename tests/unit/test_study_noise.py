"""Mask noise floor (circle_rotate/study/noise.py): recovers known jitter on synthetic centroid tracks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from circle_rotate.study.noise import pooled_noise_px, track_noise_px, video_noise_px

SIGMAS = (0.25, 0.5, 1.0, 2.0, 4.0)  # px per axis
SIZES = (32, 57, 81)  # frames
SEEDS = range(40)


def smooth_motion(kind: str, frames: int) -> np.ndarray:
    """(frames, 2) noise-free centroid track: a still subject, a linear drift, or a half turn on a 60 px circle."""
    t = np.arange(frames, dtype=np.float64)
    if kind == "still":
        return np.tile([90.0, 160.0], (frames, 1))
    if kind == "linear":
        return np.stack([50.0 + 1.3 * t, 120.0 - 0.7 * t], axis=1)
    angle = np.linspace(0.0, np.pi, frames)
    return np.stack([90.0 + 60.0 * np.cos(angle), 160.0 + 60.0 * np.sin(angle)], axis=1)


def jittered(kind: str, frames: int, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return smooth_motion(kind, frames) + rng.normal(0.0, sigma, (frames, 2))


@pytest.mark.parametrize("kind", ["still", "linear", "arc"])
@pytest.mark.parametrize("sigma", SIGMAS)
def test_recovers_the_jitter_sigma_within_10_percent(kind: str, sigma: float) -> None:
    for frames in SIZES:
        estimates = np.array([track_noise_px(jittered(kind, frames, sigma, seed)) for seed in SEEDS]) / sigma
        # Unbiased: the mean over seeds is within 10% (it is within about 3%).
        assert abs(estimates.mean() - 1.0) < 0.10, (kind, frames, sigma, estimates.mean())
        # A study's pooled floor over 20 videos is within 10% for every seed group.
        pooled = [pooled_noise_px(group) for group in estimates.reshape(2, 20)]
        assert all(abs(p - 1.0) < 0.10 for p in pooled), (kind, frames, sigma, pooled)


def test_noise_free_smooth_tracks_read_zero() -> None:
    assert track_noise_px(smooth_motion("linear", 40)) == pytest.approx(0.0, abs=1e-9)
    accelerated = np.stack([0.02 * np.arange(40.0) ** 2, np.zeros(40)], axis=1)
    assert track_noise_px(accelerated) == pytest.approx(0.0, abs=1e-9)


def test_repeated_and_missing_frames_are_dropped() -> None:
    track = jittered("linear", 40, 1.0, seed=5)
    expected = track_noise_px(track)
    doubled = np.repeat(track, 2, axis=0)  # a GIF showing every frame twice
    assert track_noise_px(doubled, np.repeat(np.arange(40), 2)) == pytest.approx(expected)
    holes = track.copy()
    holes[[3, 17]] = np.nan
    assert track_noise_px(holes) == pytest.approx(track_noise_px(np.delete(track, [3, 17], axis=0), np.delete(np.arange(40), [3, 17])))


def test_uneven_sampling_is_fitted_in_time() -> None:
    times = np.linspace(0, 80, 40, dtype=int)  # the suite's linspace sampling of an 81-frame video
    rng = np.random.default_rng(2)
    estimates = []
    for _ in range(40):
        track = np.stack([3.0 + 0.5 * times + 0.01 * times**2, 7.0 - 0.3 * times], axis=1) + rng.normal(0, 1.0, (40, 2))
        estimates.append(track_noise_px(track, times))
    assert abs(np.mean(estimates) - 1.0) < 0.10


def test_too_short_tracks_and_bad_input() -> None:
    assert track_noise_px(np.zeros((6, 2))) is None
    assert track_noise_px(np.full((10, 2), np.nan)) is None
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        track_noise_px(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="non-decreasing"):
        track_noise_px(np.zeros((10, 2)), np.arange(10)[::-1])


def test_video_noise_reads_the_report_and_drops_repeats() -> None:
    track = jittered("arc", 32, 1.5, seed=9)
    centroids = [None if i == 4 else [float(x), float(y)] for i, (x, y) in enumerate(track)]
    report = {"subject_drift": {"indices": list(range(0, 64, 2)), "centroids": centroids}}
    expected = track_noise_px(np.delete(track, 4, axis=0), np.delete(np.arange(0, 64, 2), 4))
    assert video_noise_px(report) == pytest.approx(expected)
    repeated = {"subject_drift": {"indices": list(range(64)), "centroids": [c for c in centroids for _ in range(2)]}}
    assert video_noise_px(repeated) == pytest.approx(track_noise_px(np.delete(track, 4, axis=0), np.delete(np.arange(0, 64, 2), 4)))
    assert video_noise_px({"subject_drift": None}) is None


def test_pooled_is_the_root_mean_square() -> None:
    assert pooled_noise_px([3.0, None, 4.0]) == pytest.approx(math.sqrt(12.5))
    assert pooled_noise_px([None]) is None and pooled_noise_px([]) is None
