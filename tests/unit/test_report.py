"""Report layout, the original-compatible view, JSON/CSV writers and A/B comparison (circle_rotate.report)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from circle_rotate import report
from circle_rotate.video import clip_from_array

RESULTS = {
    "subject_drift": {"subject_flow": None, "global_flow": 2.5, "upstream_drift": -1.0, "speed_px_per_frame": 4.0, "centroids": [None, [1.0, 2.0]]},
    "clip_i": {"first_last": 0.9, "global_avg": 0.95, "frame_acc": 0.97, "global_avg_excl_first": 0.94},
    "fidelity": {"first_last": {"psnr": None, "ssim": 1.0, "lpips": 0.0}, "first_vs_conditioning": None, "last_vs_conditioning": None},
    "subject_consistency": {"vbench": 0.9, "upstream": 0.8},
    "motion": {"motion_magnitude": 1.5, "frame_diff_ratio": 0.3, "vbench_dynamic_degree": None},
    "orbit": None,
}


@pytest.fixture
def built():
    clip = clip_from_array(np.zeros((3, 4, 6, 3), np.uint8), fps=16, source="a.mp4")
    return report.build_report(clip, RESULTS, {"orbit": "boom"})


def test_report_layout(built):
    assert list(built)[:7] == ["video", "frames", "total_frames", "width", "height", "fps", "repeated_frames"]
    assert (built["video"], built["frames"], built["width"], built["height"], built["repeated_frames"]) == ("a.mp4", 3, 6, 4, 2)
    for family in ("subject_drift", "clip_i", "fidelity", "subject_consistency", "motion", "orbit"):
        assert family in built
    assert built["errors"] == {"orbit": "boom"}


def test_upstream_view_has_exactly_the_original_keys(built):
    upstream = built["upstream"]
    assert upstream == {
        "subject_drift": {"subject_flow": -1.0, "global_flow": 2.5, "drift": -1.0},
        "clip_i": {"first_last": 0.9, "global_avg": 0.95, "frame_acc": 0.97},
        "fidelity": {"psnr": None, "ssim": 1.0, "lpips": 0.0},
        "vbench_sc": 0.8,
        "motion": {"motion_magnitude": 1.5, "dynamic_degree": 0.3},
    }
    assert report.upstream_view({}) == {"subject_drift": None, "clip_i": None, "fidelity": None, "vbench_sc": None, "motion": None}


def test_json_one_object_or_a_list_and_strict(tmp_path, built):
    nan_report = dict(built, fps=float("nan"))
    report.write_json([nan_report], tmp_path / "one.json")
    one = json.loads((tmp_path / "one.json").read_text())
    assert isinstance(one, dict) and one["fps"] is None
    report.write_json([built, built], tmp_path / "two.json")
    assert len(json.loads((tmp_path / "two.json").read_text())) == 2


def test_csv_one_row_per_video_with_dotted_columns(tmp_path, built):
    other = dict(built, video="b.mp4", clip_i=None)
    report.write_csv([built, other], tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert [row["video"] for row in rows] == ["a.mp4", "b.mp4"]
    assert rows[0]["subject_drift.speed_px_per_frame"] == "4.0"
    assert rows[0]["upstream.motion.dynamic_degree"] == "0.3"
    assert rows[0]["fidelity.first_last.psnr"] == "" and rows[1]["clip_i.first_last"] == ""
    assert "subject_drift.centroids" not in rows[0]


def test_compare_gives_relative_change(built):
    better = json.loads(json.dumps(built))
    better["subject_drift"]["speed_px_per_frame"] = 3.0
    diff = report.compare(built, better)
    assert diff["subject_drift.speed_px_per_frame"] == {"a": 4.0, "b": 3.0, "change": -1.0, "relative_percent": -25.0}
    assert "video" not in diff and "fidelity.first_last.psnr" not in diff


def test_csv_joins_notes_and_leaves_out_the_constant_thresholds(tmp_path, built):
    orbit = {"yaw_deg": 30.0, "direction": "left", "thresholds": {"min_yaw_deg": 10.0, "max_ratio": 0.5}, "notes": ["few tracks", "pan-like"]}
    with_orbit = dict(built, orbit=orbit, notes=["a note"], skipped={"clip_i": "turned off"})
    report.write_csv([with_orbit, dict(with_orbit, orbit=dict(orbit, notes=[]))], tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert rows[0]["orbit.notes"] == "few tracks | pan-like" and rows[1]["orbit.notes"] == ""
    assert rows[0]["notes"] == "a note" and rows[0]["skipped.clip_i"] == "turned off" and rows[0]["errors.orbit"] == "boom"
    assert not [name for name in rows[0] if "thresholds" in name]
    assert rows[0]["orbit.yaw_deg"] == "30.0"


def test_report_lists_skipped_and_the_masks_source():
    clip = clip_from_array(np.zeros((3, 4, 6, 3), np.uint8), fps=16, source="a.mp4")
    built = report.build_report(clip, RESULTS, {}, {"fidelity.lpips": "turned off with --no-lpips"}, "segmented")
    assert built["skipped"] == {"fidelity.lpips": "turned off with --no-lpips"} and built["masks_source"] == "segmented"
    assert any("drift is -1.0" in note for note in built["notes"])  # RESULTS' upstream drift is the -1 sentinel


def test_upstream_view_takes_the_original_rule_drift_when_given():
    original = {"subject_flow": 1.0, "global_flow": 2.5, "upstream_drift": 7.0}
    view = report.upstream_view({**RESULTS, "subject_drift": {**RESULTS["subject_drift"], report.ORIGINAL_RULE: original}})
    assert view["subject_drift"] == {"subject_flow": 1.0, "global_flow": 2.5, "drift": 7.0}
    failed = {**RESULTS, "subject_drift": {**RESULTS["subject_drift"], report.ORIGINAL_RULE: None}}
    assert report.upstream_view(failed)["subject_drift"] is None  # it failed


def test_a_failed_video_has_every_key_of_a_report(built):
    failed = report.failed_report("broken.mp4", "video 'broken.mp4' cannot be opened")
    assert list(failed) == list(built)
    assert failed["errors"] == {"video": "video 'broken.mp4' cannot be opened"} and failed["motion"] is None
