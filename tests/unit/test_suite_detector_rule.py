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
            if box is None:  # nothing detected: an empty mask, as SamSegmenter gives
                continue
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


class FakeYolo:
    """An ultralytics-like model: ``predict`` returns fixed boxes per frame (the frame index is read from pixel
    (0, 0) of the BGR image it is given), honouring ``conf`` and ``classes`` as ultralytics does."""

    names = {0: "person", 2: "car", 16: "dog"}

    def __init__(self, boxes_per_frame):
        self.boxes_per_frame = boxes_per_frame

    def predict(self, images, device, imgsz, conf, classes, verbose):
        import torch

        results = []
        for image in images:
            rows = [b for b in self.boxes_per_frame[int(image[0, 0, 2])] if b[4] >= conf and (classes is None or b[5] in classes)]
            table = torch.tensor(rows, dtype=torch.float32).reshape(-1, 6)
            results.append(SimpleNamespace(boxes=SimpleNamespace(xyxy=table[:, :4], conf=table[:, 4], cls=table[:, 5])))
        return results


def _original_drift(boxes_per_frame, size):
    """eval_all.py's subject drift, written from its description (FACTS.md): per frame the most confident
    car/bus/truck box above 0.25, else the largest box if its confidence > 0.2 (prediction at conf 0.25); the
    mask's centre; frames without a box skipped; sqrt(std(cx)^2 + std(cy)^2), or -1 with fewer than 2 centres."""
    centres = []
    for boxes in boxes_per_frame:
        boxes = [b for b in boxes if b[4] >= 0.25]
        cars = [b for b in boxes if b[5] in (2, 5, 7) and b[4] > 0.25]
        pick = max(cars, key=lambda b: b[4]) if cars else max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), default=None)
        if pick is None or (not cars and pick[4] <= 0.2):
            continue
        mask = np.zeros((size, size), bool)
        mask[int(pick[1]) : int(pick[3]), int(pick[0]) : int(pick[2])] = True
        ys, xs = np.nonzero(mask)
        centres.append((xs.mean(), ys.mean()))
    if len(centres) < 2:
        return -1.0
    centres = np.array(centres)
    return float(np.sqrt(np.std(centres[:, 0]) ** 2 + np.std(centres[:, 1]) ** 2))


def test_upstream_drift_equals_the_original_computation_through_the_real_detector():
    # a large static person at the centre (the centre rule's pick) and a smaller car moving right (the original's
    # pick); in frame 3 the car is too faint (0.22), so the original falls back to the largest box; frame 6 is empty
    boxes = []
    for i in range(FRAMES):
        person = [20, 16, 44, 48, 0.9, 0]
        car = [2 + 2 * i, 4, 14 + 2 * i, 12, 0.22 if i == 3 else 0.6, 2]
        boxes.append([] if i == 6 else [person, car])
    detector = YoloDetector(FakeYolo(boxes), device="cpu")  # rule "centre", any class
    models = MetricModels.from_objects(detector=detector, segmenter=BoxSegmenter())
    report = suite.evaluate_frames(_frames(), 16.0, models, suite.SuiteOptions(metrics=("subject_drift",), num_frames=0))

    assert report["upstream"]["subject_drift"]["drift"] == pytest.approx(_original_drift(boxes, SIZE), rel=1e-9)
    assert report["upstream"]["subject_drift"]["drift"] > 3
    assert report["subject_drift"]["drift_std_px"] == pytest.approx(0.0)  # the centre rule keeps the static person
    assert report["subject_drift"]["detection_rate"] == pytest.approx((FRAMES - 1) / FRAMES)
