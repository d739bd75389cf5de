"""Orbit-camera metric against rendered scenes with known camera motion (tests/fixtures/orbit_scenes.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from circle_rotate.metrics.orbit import PARALLAX_THRESHOLD, compute_orbit
from fixtures import orbit_scenes as scenes

N_FRAMES, STEP, FPS = 17, 5, 16.0
YAW_TOLERANCE = 0.15


@lru_cache(maxsize=None)
def _clip(kind: str, total: float, noise_std: float = 0.0) -> np.ndarray:
    clip = scenes.render_motion(kind, N_FRAMES, total, noise_std)
    clip.setflags(write=False)
    return clip


def _orbit(frames: np.ndarray, step: int = STEP) -> dict:
    return compute_orbit(frames, np.arange(len(frames)) * step, FPS, scenes.HFOV_DEG)


def test_renderer_rays_and_projection_are_inverse() -> None:
    camera = scenes.orbit_camera(12.0)
    pixels = np.array([[0.5, 0.5], [80.0, 48.0], [150.25, 90.75]])
    points = camera.position + 3.0 * scenes.pixel_rays(camera, pixels)
    np.testing.assert_allclose(scenes.project(camera, points), pixels, atol=1e-9)


def test_renderer_left_orbit_moves_far_points_left_and_near_points_right() -> None:
    # The sign convention of the metric, checked on the scene geometry: a left orbit carries the camera along
    # its own left (-right vector) while it keeps the subject centred and turns to its right.
    before, after = scenes.orbit_camera(0.0), scenes.orbit_camera(5.0)
    assert np.dot(after.position - before.position, -before.right) > 0
    assert np.dot(after.forward - before.forward, before.right) > 0
    far_subject_near = np.array([[0.0, 3.0, scenes.BACKDROP_RADIUS], scenes.TARGET, [0.0, 0.0, -2.0]])
    shift = scenes.project(after, far_subject_near)[:, 0] - scenes.project(before, far_subject_near)[:, 0]
    assert shift[0] < -5 and abs(shift[1]) < 1e-9 and shift[2] > 5


def test_renderer_pan_and_slide_move_every_point_the_same_way() -> None:
    points = np.array([[0.0, 3.0, scenes.BACKDROP_RADIUS], scenes.TARGET, [0.0, 0.0, -2.0]])
    start = scenes.project(scenes.orbit_camera(0.0), points)[:, 0]
    pan = scenes.project(scenes.pan_camera(5.0), points)[:, 0] - start
    slide = scenes.project(scenes.slide_camera(0.3), points)[:, 0] - start
    # A pan turns every ray by the same angle: pixel shifts differ only by perspective (a few tens of percent).
    assert np.all(pan < 0) and np.ptp(pan) < 0.2 * abs(pan.mean())
    assert np.all(slide < 0) and slide[2] < slide[1] < slide[0]


@pytest.mark.parametrize(("kind", "direction", "sign"), [("orbit_left", "left", 1), ("orbit_right", "right", -1)])
def test_orbits_read_their_direction_and_swept_yaw(kind: str, direction: str, sign: int) -> None:
    result = _orbit(_clip(kind, 30.0))
    assert result["direction"] == direction
    assert sign * result["parallax_index"] >= PARALLAX_THRESHOLD
    assert sign * result["near_motion_px_per_frame"] > 0 > sign * result["far_motion_px_per_frame"]
    assert result["yaw_deg"] == pytest.approx(sign * 30.0, rel=YAW_TOLERANCE)
    assert result["angular_speed_deg_per_s"] == pytest.approx(30.0 / ((N_FRAMES - 1) * STEP) * FPS, rel=YAW_TOLERANCE)
    assert result["backtracks"] == 0
    assert result["valid_step_fraction"] == 1.0 and result["notes"] == []


@pytest.mark.parametrize(
    ("kind", "total", "noise_std", "yaw"),
    [("static", 0.0, 0.0, 0.0), ("static", 0.0, 3.0, 0.0), ("pan", 20.0, 3.0, 20.0), ("slide", 30.0, 3.0, 0.0)],
)
def test_static_pan_and_slide_are_not_orbits(kind: str, total: float, noise_std: float, yaw: float) -> None:
    result = _orbit(_clip(kind, total, noise_std))
    assert result["direction"] == "none"
    assert abs(result["parallax_index"]) < PARALLAX_THRESHOLD
    # The camera's own yaw is measured whatever the call: a pan turns it, a slide does not.
    assert result["yaw_deg"] == pytest.approx(yaw, abs=max(0.5, YAW_TOLERANCE * yaw))


def test_a_subject_turning_before_a_still_camera_is_not_an_orbit() -> None:
    result = _orbit(_clip("turntable", 60.0, 3.0))
    assert result["direction"] == "none"
    assert any(note.startswith("only the centre moves") for note in result["notes"])


def test_identical_frames_say_nothing_moves() -> None:
    result = _orbit(_clip("static", 0.0))
    assert result["repeated_sampled_frames"] == N_FRAMES - 1 and result["valid_step_fraction"] is None
    assert len(result["notes"]) == 1 and result["notes"][0].startswith(f"all {N_FRAMES} frames repeat the first")


def test_dolly_is_not_an_orbit_and_is_flagged() -> None:
    result = _orbit(_clip("dolly", 30.0))
    assert result["direction"] == "none"
    assert any(note.startswith("zoom or dolly") for note in result["notes"])


def test_back_and_forth_orbit_counts_its_backtracks() -> None:
    # yaw(t) = 10 sin(3 pi t) reverses three times (t = 1/6, 1/2, 5/6) and ends where it started.
    result = _orbit(_clip("back_and_forth", 20.0))
    assert result["backtracks"] == 3
    assert abs(result["yaw_deg"]) < 2.0
    assert result["angular_speed_cv"] > 0.8
    assert max(result["yaw_track_deg"]) == pytest.approx(10.0, rel=0.2)


def test_slow_orbit_sampled_densely_keeps_its_yaw_and_constant_speed() -> None:
    # 10 degrees over 80 original frames in 16 steps: 0.6 degree per step, too little parallax for an essential
    # matrix per step; keyframes gather enough of it.
    result = _orbit(_clip("orbit_left", 10.0, 2.0))
    assert result["direction"] == "left"
    assert result["yaw_deg"] == pytest.approx(10.0, rel=YAW_TOLERANCE)
    assert result["angular_speed_cv"] < 0.2 and result["backtracks"] == 0


def test_angular_speed_cv_separates_constant_from_accelerating_orbits() -> None:
    constant = _orbit(_clip("orbit_left", 30.0))
    accelerating = _orbit(_clip("accelerating", 30.0))
    assert constant["angular_speed_cv"] < 0.1
    # yaw = 30 t^2 sampled at 17 frames: per-step speeds grow linearly, CV = 0.58 exactly.
    assert accelerating["angular_speed_cv"] == pytest.approx(0.58, abs=0.1)
    assert accelerating["direction"] == "left" and accelerating["backtracks"] == 0
    track = np.array(accelerating["yaw_track_deg"])
    np.testing.assert_allclose(track, scenes.yaw_schedule("accelerating", N_FRAMES, 30.0), atol=0.15 * 30.0)


def test_repeated_frames_are_skipped_and_the_call_holds() -> None:
    doubled = np.repeat(_clip("orbit_left", 30.0), 2, axis=0)
    result = compute_orbit(doubled, np.arange(len(doubled)), FPS, scenes.HFOV_DEG)
    assert result["repeated_sampled_frames"] == N_FRAMES
    assert result["direction"] == "left"
    assert result["yaw_deg"] == pytest.approx(30.0, rel=YAW_TOLERANCE)
    assert len(result["yaw_track_deg"]) == len(doubled) and result["yaw_track_deg"][-1] == result["yaw_track_deg"][-2]
    assert result["notes"][0].startswith(f"{N_FRAMES} repeated frame(s) skipped")


def test_textureless_frames_report_missing_features() -> None:
    # flat frames whose brightness changes (so they are not repeats) with sensor noise: nothing to track
    rng = np.random.default_rng(0)
    levels = (60 + 30 * np.arange(6)).reshape(6, 1, 1, 1)
    flat = np.clip(levels + rng.normal(0, 0.8, (6, 96, 160, 1)), 0, 255).astype(np.uint8).repeat(3, axis=3)
    result = _orbit(flat)
    assert result["repeated_sampled_frames"] == 0
    assert result["direction"] == "none" and result["valid_step_fraction"] < 1.0
    assert any("fewer than" in note for note in result["notes"])


def test_noise_on_a_still_frame_reads_as_nothing_moving() -> None:
    rng = np.random.default_rng(0)
    still = np.clip(128 + rng.normal(0, 0.8, (6, 96, 160, 1)), 0, 255).astype(np.uint8).repeat(3, axis=3)
    result = _orbit(still)
    assert result["direction"] == "none" and result["valid_step_fraction"] is None
    assert result["notes"][0].startswith("all 6 frames repeat the first")


def test_result_is_json_ready_and_sized_per_frame_and_step() -> None:
    result = _orbit(_clip("orbit_left", 30.0))
    assert json.loads(json.dumps(result)) == result
    assert len(result["yaw_track_deg"]) == N_FRAMES and result["yaw_track_deg"][0] == 0.0
    assert len(result["parallax_track"]) == result["steps"] == N_FRAMES - 1
    assert result["focal_px"] == pytest.approx(scenes.focal_px(), abs=0.01)


def test_a_wider_assumed_fov_reads_a_larger_yaw() -> None:
    # The same pixel motion means more degrees under a shorter focal length.
    narrow = compute_orbit(_clip("pan", 20.0, 3.0), np.arange(N_FRAMES), FPS, 40.0)
    wide = compute_orbit(_clip("pan", 20.0, 3.0), np.arange(N_FRAMES), FPS, 80.0)
    assert narrow["yaw_deg"] < 20.0 * 0.8 and wide["yaw_deg"] > 20.0 * 1.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frames": np.zeros((4, 8, 8, 3), np.float32)}, "uint8 RGB"),
        ({"frames": np.zeros((1, 8, 8, 3), np.uint8), "indices": np.arange(1)}, "at least 2"),
        ({"indices": np.arange(3)}, "indices has shape"),
        ({"indices": np.array([0, 2, 2, 3])}, "strictly increasing"),
        ({"fps": 0.0}, "fps is 0.0"),
        ({"horizontal_fov_deg": 180.0}, "horizontal_fov_deg is 180.0"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    arguments = {"frames": np.zeros((4, 8, 8, 3), np.uint8), "indices": np.arange(4), "fps": 16.0} | kwargs
    with pytest.raises(ValueError, match=message):
        compute_orbit(**arguments)


@pytest.mark.shared
def test_demo_videos_with_the_lora_read_as_orbits(shared_dir: Path) -> None:
    from PIL import Image, ImageSequence

    calls = {}
    for path in sorted((shared_dir / "upstream" / "demos").glob("demo*_ours.gif")):
        frames = np.stack([np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(Image.open(path))])
        sampled = np.round(np.linspace(0, len(frames) - 1, 16)).astype(int)  # the original's 16 frames
        calls[path.name] = compute_orbit(frames[sampled], sampled, FPS)["direction"]
    assert len(calls) == 5
    assert set(calls.values()) == {"right"}, calls  # every LoRA demo orbits to the right
