"""The keep/reject rule of ``dataset score`` (circle_rotate/dataset/scoring.py) on hand-made reports: each reason, its
threshold as a boundary, the order of reasons, and the motion kinds of clips that are not orbits."""

from __future__ import annotations

import pytest

from circle_rotate.dataset.scoring import REASONS, Thresholds, judge, motion_kind

WIDTH = 320


def orbit(**fields: object) -> dict:
    """An orbit metric result of a clean left orbit, with ``fields`` changed."""
    result = {
        "direction": "left", "direction_confidence": 0.9, "parallax_index": 0.8, "yaw_deg": 30.0, "backtracks": 0,
        "angular_speed_cv": 0.05, "angular_speed_deg_per_s": 15.0, "near_motion_px_per_frame": 0.5,
        "far_motion_px_per_frame": -2.0, "subject_motion_px_per_frame": 0.1, "notes": [],
    }
    result.update(fields)
    return result


def report(orbit_result: dict | None = None, frames: int = 81, repeated: int = 0, shift: float | None = 0.01) -> dict:
    return {
        "total_frames": frames, "repeated_frames": repeated, "fps": 16.0, "width": WIDTH, "height": 180,
        "orbit": orbit() if orbit_result is None else orbit_result,
        "subject_drift": None if shift is None else {"max_deviation_px_norm": shift},
        "motion": {"motion_magnitude": 1.0}, "errors": {},
    }


def test_a_clean_orbit_is_kept_with_its_readings() -> None:
    verdict = judge(report())
    assert verdict.keep and verdict.reasons == [] and verdict.reason == ""
    assert verdict.readings["direction"] == "left" and verdict.readings["repeated_fraction"] == 0.0


@pytest.mark.parametrize(
    ("changes", "limit", "reason"),
    [
        ({"frames": 32}, {"min_frames": 33}, "too short"),
        ({"orbit_result": orbit(backtracks=1)}, {"max_backtracks": 0}, "backtracks"),
        ({"orbit_result": orbit(angular_speed_cv=0.36)}, {"max_speed_cv": 0.35}, "uneven angular speed"),
        ({"repeated": 9}, {"max_repeated_fraction": 0.1}, "repeated frames"),  # 9 of 80 pairs
        ({"shift": 0.051}, {"max_subject_shift": 0.05}, "subject sliding"),
        ({"orbit_result": orbit(direction_confidence=0.39)}, {"min_confidence": 0.4}, "not an orbit (uncertain)"),
    ],
)
def test_each_reason_at_its_threshold(changes: dict, limit: dict, reason: str) -> None:
    assert judge(report(**changes), thresholds=Thresholds(**limit)).reasons == [reason]
    # at the limit itself the clip passes
    at_limit = {"frames": 33, "repeated": 8, "shift": 0.05}
    if "orbit_result" not in changes:
        key = next(iter(changes))
        assert judge(report(**{key: at_limit[key]}), thresholds=Thresholds(**limit)).keep


def test_unreadable_and_failed_orbit() -> None:
    verdict = judge(None, "video 'x.mp4' is not decodable")
    assert verdict.reasons == ["unreadable"] and "not decodable" in verdict.details[0]
    failed = report()
    failed["orbit"], failed["errors"] = None, {"orbit": "ValueError: too few frames"}
    assert judge(failed).reasons == ["unreadable"]


def test_reasons_come_in_the_documented_order() -> None:
    bad = report(orbit(direction="none", backtracks=3, angular_speed_cv=1.1), frames=20, repeated=10, shift=0.2)
    verdict = judge(bad)
    assert [r.split(" (")[0] for r in verdict.reasons] == [r for r in REASONS if r != "unreadable"]
    assert verdict.reason == "too short" and not verdict.keep


def test_a_still_clip_is_static_not_repeated() -> None:
    still = orbit(direction="none", near_motion_px_per_frame=0.0, far_motion_px_per_frame=0.0, subject_motion_px_per_frame=0.0,
                  notes=["all 16 frames repeat the first (mean |difference| < 0.5 grey levels): nothing moves"], angular_speed_cv=None)
    assert judge(report(still, repeated=80)).reasons == ["not an orbit (static)"]


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"near_motion_px_per_frame": 0.0, "far_motion_px_per_frame": 0.0, "subject_motion_px_per_frame": 0.01}, "static"),
        ({"near_motion_px_per_frame": 0.0, "far_motion_px_per_frame": 0.0, "subject_motion_px_per_frame": 0.5}, "turntable"),
        ({"notes": ["only the centre moves: the subject moves or turns in front of a still camera"]}, "turntable"),
        ({"notes": ["zoom or dolly: radial flow of 3.00 px per step"], "parallax_index": 0.0}, "dolly"),
        ({"notes": ["vertical camera motion (tilt or crane) dominates"], "parallax_index": 0.0}, "tilt"),
        ({"parallax_index": 0.0, "near_motion_px_per_frame": -1.5, "far_motion_px_per_frame": -1.6}, "pan"),
        ({"parallax_index": 0.0, "near_motion_px_per_frame": -1.8, "far_motion_px_per_frame": -0.4}, "slide"),
        ({"parallax_index": 0.8}, "uncertain"),
    ],
)
def test_motion_kinds(fields: dict, kind: str) -> None:
    assert motion_kind(orbit(direction="none", **fields), WIDTH) == kind


def test_thresholds_out_of_range_are_named() -> None:
    with pytest.raises(ValueError, match="max_repeated_fraction=1.5"):
        Thresholds(max_repeated_fraction=1.5)
    with pytest.raises(ValueError, match="min_frames=1"):
        Thresholds(min_frames=1)
