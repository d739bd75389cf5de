"""The report's ``upstream.subject_drift`` uses the original's detector rule; ``subject_drift`` the chosen one.

A fake detector returns one box under the "centre" rule and another under the "upstream" rule; a fake segmenter
fills the box. The two drift results must equal ``compute_drift`` on each rule's masks, computed here directly.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from circle_rotate import suite
from circle_rotate.metric_models.protocols import Detection
from circle_rotate.metric_models.yolo_detector import YoloDetector
from circle_rotate.metrics.drift import compute_drift
from circle_rotate.weights import MetricModels

SIZE = 64
FRAMES = 9


def _box(rule: str, index: int) -> Detection:
    # centre: a box standing still; upstream: a box moving 3 px per frame (so the drifts differ)
    x = 20 if rule == "centre" else 5 + 3 * index
    return Detection((x, 20, x + 10, 30), 0.9, 2, "car")


class RuleDetector:
    """Frame i is recognised by its first pixel's value (i); each rule picks its own box."""

    def __init__(self, rule: str = "centre"):
        self.rule = rule

    def with_rule(self, rule: str) -> "RuleDetector":
        return RuleDetector(rule)

    def detect(self, frames):
        return [_box(self.rule, int(frame[0, 0, 0])) for frame in frames]


class BoxSegmenter:
    def __init__(self):
        self.frames_segmented = 0

    def segment(self, frames, boxes):
        self.frames_segmented += len(frames)
        masks = np.zeros(frames.shape[:3], bool)
        for mask, box in zip(masks, boxes):
            x0, y0, x1, y1 = (int(v) for v in box.box_xyxy)
            mask[y0:y1, x0:x1] = True
        return masks


def _frames() -> np.ndarray:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (FRAMES, SIZE, SIZE, 3), dtype=np.uint8)
    frames[:, 0, 0, 0] = np.arange(FRAMES)
    return frames


def _masks(rule: str) -> np.ndarray:
    return BoxSegmenter().segment(_frames(), [_box(rule, i) for i in range(FRAMES)])


@pytest.mark.parametrize("rule", ["centre", "upstream"])
def test_upstream_drift_uses_the_original_rule(rule):
    segmenter = BoxSegmenter()
    models = MetricModels.from_objects(detector=RuleDetector(rule), segmenter=segmenter)
    options = suite.SuiteOptions(metrics=("subject_drift",), num_frames=0)
    report = suite.evaluate_frames(_frames(), 16.0, models, options)

    indices = np.arange(FRAMES)
    ours, original = compute_drift(_masks(rule), indices), compute_drift(_masks("upstream"), indices)
    assert report["subject_drift"]["drift_std_px"] == pytest.approx(ours["drift_std_px"])
    assert report["upstream"]["subject_drift"]["drift"] == pytest.approx(original["upstream_drift"])
    assert report["upstream"]["subject_drift"]["drift"] > 5  # the moving box: not the centre rule's 0
    if rule == "centre":  # our rule's number beside the original's, under its own name
        assert report["subject_drift"]["upstream_drift"] == pytest.approx(ours["upstream_drift"])
        assert report["subject_drift"]["original_rule"]["upstream_drift"] == pytest.approx(original["upstream_drift"])
    assert report["masks_source"] == "segmented" and report["errors"] == {}
    assert any("original's detector rule" in note for note in report["notes"]) == (rule == "centre")
    assert segmenter.frames_segmented == (2 * FRAMES - 1 if rule == "centre" else FRAMES)  # frame 5's boxes agree


def test_with_rule_shares_the_model_and_drops_classes_for_upstream():
    model = SimpleNamespace(names={0: "person", 2: "car"})
    detector = YoloDetector(model, device="cpu", classes=["car"])
    original = detector.with_rule("upstream")
    assert (original.rule, original.class_ids, original.model) == ("upstream", None, model)
    assert (detector.rule, detector.class_ids) == ("centre", [2])  # unchanged
    with pytest.raises(ValueError, match="rule 'widest' is unknown"):
        detector.with_rule("widest")


def test_no_subject_found_is_an_error_with_the_reason():
    class Blind(RuleDetector):
        def detect(self, frames):
            return [None for _ in frames]

    class EmptySegmenter(BoxSegmenter):
        def segment(self, frames, boxes):
            return np.zeros(frames.shape[:3], bool)

    models = MetricModels.from_objects(detector=Blind("upstream"), segmenter=EmptySegmenter())
    report = suite.evaluate_frames(_frames(), 16.0, models, suite.SuiteOptions(metrics=("subject_drift",), num_frames=0))
    assert report["errors"]["subject_drift"].startswith("no subject found: the detector (rule 'upstream') found no subject in any of the 9")
    assert report["upstream"]["subject_drift"]["drift"] == -1.0 and report["upstream"]["subject_drift"]["subject_flow"] == -1.0
    assert len(report["notes"]) == 2  # both -1 sentinels explained
