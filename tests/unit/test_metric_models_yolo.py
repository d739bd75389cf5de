"""YoloDetector: subject selection rules, colour order, batching and thread settings (random YOLOv8n, offline)."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import torch

from circle_rotate.metric_models import yolo_detector
from circle_rotate.metric_models.yolo_detector import Candidates, YoloDetector


def candidates(boxes: list[list[float]], confidences: list[float], class_ids: list[int], size=(200, 100)) -> Candidates:
    return Candidates(np.array(boxes, float).reshape(-1, 4), np.array(confidences, float), np.array(class_ids), *size)


@pytest.fixture(scope="module")
def yolo():
    torch.manual_seed(0)
    return yolo_detector.import_yolo()("yolov8n.yaml", task="detect")


def test_centre_rule_prefers_a_central_box_over_a_slightly_more_confident_corner_box() -> None:
    found = candidates([[0, 0, 20, 20], [90, 40, 110, 60]], [0.9, 0.6], [0, 16])
    # corner box: centre (10, 10), d = hypot(90, 40) / hypot(100, 50) = 0.88 -> 0.9 * 0.12; central box: d = 0 -> 0.6
    assert yolo_detector.select_centre(found, None, 0.25) == 1
    np.testing.assert_allclose(
        yolo_detector.centre_score(found.boxes, found.confidences, 200, 100),
        [0.9 * (1 - np.hypot(90, 40) / np.hypot(100, 50)), 0.6],
    )


def test_centre_rule_honours_classes_and_minimum_confidence() -> None:
    found = candidates([[90, 40, 110, 60], [0, 0, 50, 50], [80, 30, 120, 70]], [0.9, 0.5, 0.2], [0, 2, 2])
    assert yolo_detector.select_centre(found, [2], 0.25) == 1
    assert yolo_detector.select_centre(found, [2], 0.1) == 2
    assert yolo_detector.select_centre(found, [7], 0.1) is None


def test_upstream_rule_prefers_vehicles_then_largest_box() -> None:
    vehicles = candidates([[0, 0, 10, 10], [0, 0, 100, 100], [0, 0, 20, 20]], [0.5, 0.9, 0.3], [2, 0, 7])
    assert yolo_detector.select_upstream(vehicles) == 0
    no_vehicle = candidates([[0, 0, 10, 10], [0, 0, 100, 100]], [0.9, 0.21], [0, 15])
    assert yolo_detector.select_upstream(no_vehicle) == 1
    weak = candidates([[0, 0, 10, 10], [0, 0, 100, 100]], [0.9, 0.2], [0, 15])
    assert yolo_detector.select_upstream(weak) is None
    weak_vehicle = candidates([[0, 0, 100, 100]], [0.24], [2])
    assert yolo_detector.select_upstream(weak_vehicle) == 0  # not > 0.25 as a vehicle, but largest and > 0.2


def test_classes_resolve_from_names_and_ids() -> None:
    names = {0: "person", 2: "car", 7: "truck"}
    assert yolo_detector.resolve_classes(["Car", 7, "0"], names) == [2, 7, 0]
    assert yolo_detector.resolve_classes(None, names) is None
    with pytest.raises(ValueError, match="'boat' is not a class"):
        yolo_detector.resolve_classes(["boat"], names)
    with pytest.raises(ValueError, match="id 99 is out of range"):
        yolo_detector.resolve_classes([99], names)


def test_frames_reach_the_network_in_rgb_order(yolo) -> None:
    seen = []
    hook = yolo.model.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].detach().clone()))
    red = np.zeros((1, 64, 64, 3), np.uint8)
    red[..., 0] = 255
    try:
        YoloDetector(yolo, device="cpu", image_size=64).candidates(red)
    finally:
        hook.remove()
    image = seen[0][0]  # (3, h, w) float in [0, 1], letterboxed with grey
    assert image[0].max() == pytest.approx(1.0)
    assert image[2].max() < 0.6  # blue carries only the grey padding (114/255), never the red subject


def test_batched_detection_equals_one_frame_at_a_time(yolo) -> None:
    frames = np.random.default_rng(0).integers(0, 256, (3, 96, 128, 3), dtype=np.uint8)
    detector = YoloDetector(yolo, device="cpu", min_confidence=1e-4, batch_size=3, image_size=160)
    single = YoloDetector(yolo, device="cpu", min_confidence=1e-4, batch_size=1, image_size=160)

    batched, one_by_one = detector.candidates(frames), single.candidates(frames)

    assert sum(len(found.confidences) for found in batched) > 0
    for a, b in zip(batched, one_by_one):
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        np.testing.assert_allclose(a.confidences, b.confidences, atol=1e-5)
    detections = detector.detect(frames)
    assert len(detections) == 3 and all(d is None or d.class_name == str(d.class_id) for d in detections)


def test_prediction_leaves_thread_settings_alone(yolo) -> None:
    torch_threads, cv2_threads, omp = torch.get_num_threads(), cv2.getNumThreads(), os.environ.get("OMP_NUM_THREADS")
    YoloDetector(yolo, device="cpu", image_size=64).detect(np.zeros((1, 32, 32, 3), np.uint8))
    assert (torch.get_num_threads(), cv2.getNumThreads(), os.environ.get("OMP_NUM_THREADS")) == (
        torch_threads, cv2_threads, omp,
    )


def test_keep_thread_settings_restores_changes() -> None:
    before = torch.get_num_threads(), cv2.getNumThreads()
    with yolo_detector.keep_thread_settings():
        torch.set_num_threads(1)
        cv2.setNumThreads(0)
    assert (torch.get_num_threads(), cv2.getNumThreads()) == before


def test_bad_arguments_are_named(yolo) -> None:
    with pytest.raises(ValueError, match="rule 'middle' is unknown"):
        YoloDetector(yolo, rule="middle")
    with pytest.raises(ValueError, match="cannot be combined with rule 'upstream'"):
        YoloDetector(yolo, rule="upstream", classes=[2])
    with pytest.raises(ValueError, match=r"shape \(4, 4\)"):
        YoloDetector(yolo, device="cpu").detect(np.zeros((4, 4), np.uint8))
    with pytest.raises(FileNotFoundError, match="yolov8n.pt"):
        YoloDetector.from_file("/nowhere/yolov8n.pt")
