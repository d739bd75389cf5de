"""Subject detection with ultralytics YOLO, and the rules that pick one subject box per frame.

Colour order: ultralytics reads numpy images as BGR (OpenCV's order) and converts them to RGB itself. Our
frames are RGB, so they are handed over with the channels reversed. The original Circle-Rotate evaluation
passed RGB arrays, so its detector saw red and blue swapped (FACTS.md).

Selection rules (``rule``):

- ``"centre"`` (default): among boxes of the chosen classes (any class when ``classes`` is None) with confidence
  >= ``min_confidence``, the box with the highest ``confidence * (1 - d)``, where ``d`` is the distance from the
  box centre to the image centre divided by half the image diagonal (0 at the centre, 1 at a corner). A box
  at the centre keeps its confidence; one halfway to a corner counts half.
- ``"upstream"``: the original's rule: the most confident box of COCO car/bus/truck (2, 5, 7) with confidence
  > 0.25; else the largest box (by area) of any class if its confidence > 0.2. Prediction runs at
  ``min_confidence`` (default 0.25, ultralytics' own default, which the original used).

Process settings: importing ultralytics sets ``OMP_NUM_THREADS=1`` and ``cv2.setNumThreads(0)``, and its first
prediction calls ``torch.set_num_threads(cpu_count - 1)`` (FACTS.md). Both are undone here, so the other models
keep every core. ``YOLO_OFFLINE=true`` and ``YOLO_AUTOINSTALL=false`` are set (unless already set) before the
import, so ultralytics neither looks up the network nor pip-installs anything.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .frames import check_frames
from .protocols import Detection

RULES = ("centre", "upstream")
UPSTREAM_CLASS_IDS = (2, 5, 7)
"""COCO car, bus, truck: the classes the original evaluation preferred."""
UPSTREAM_CLASS_CONFIDENCE = 0.25
UPSTREAM_FALLBACK_CONFIDENCE = 0.2


@dataclass(frozen=True)
class Candidates:
    """Every box found in one frame: ``boxes`` (K, 4) xyxy pixels, ``confidences`` (K,), ``class_ids`` (K,)."""

    boxes: np.ndarray
    confidences: np.ndarray
    class_ids: np.ndarray
    width: int
    height: int


@contextlib.contextmanager
def keep_thread_settings() -> Iterator[None]:
    """Restore torch's and OpenCV's thread counts and ``OMP_NUM_THREADS`` after the block (see module doc)."""
    import cv2
    import torch

    torch_threads = torch.get_num_threads()
    cv2_threads = cv2.getNumThreads()
    omp = os.environ.get("OMP_NUM_THREADS")
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        cv2.setNumThreads(cv2_threads)
        if omp is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = omp


def import_yolo() -> type:
    """``ultralytics.YOLO``, imported offline and without changing the process's thread settings."""
    os.environ.setdefault("YOLO_OFFLINE", "true")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    with keep_thread_settings():
        from ultralytics import YOLO
    return YOLO


def centre_score(boxes: np.ndarray, confidences: np.ndarray, width: int, height: int) -> np.ndarray:
    """``confidence * (1 - d)`` per box, ``d`` = box-centre distance to the image centre / half the diagonal."""
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    distance = np.hypot(centres[:, 0] - width / 2, centres[:, 1] - height / 2) / (np.hypot(width, height) / 2)
    return confidences * np.clip(1.0 - distance, 0.0, 1.0)


def select_centre(candidates: Candidates, class_ids: Sequence[int] | None, min_confidence: float) -> int | None:
    """Index of the box the ``"centre"`` rule picks, or None when no box qualifies."""
    keep = candidates.confidences >= min_confidence
    if class_ids is not None:
        keep &= np.isin(candidates.class_ids, np.asarray(list(class_ids)))
    if not keep.any():
        return None
    scores = centre_score(candidates.boxes, candidates.confidences, candidates.width, candidates.height)
    scores = np.where(keep, scores, -np.inf)
    return int(np.argmax(scores))


def select_upstream(candidates: Candidates) -> int | None:
    """Index of the box the original's rule picks (see module doc), or None."""
    if len(candidates.confidences) == 0:
        return None
    preferred = np.isin(candidates.class_ids, UPSTREAM_CLASS_IDS) & (candidates.confidences > UPSTREAM_CLASS_CONFIDENCE)
    if preferred.any():
        return int(np.argmax(np.where(preferred, candidates.confidences, -np.inf)))
    boxes = candidates.boxes
    largest = int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
    return largest if candidates.confidences[largest] > UPSTREAM_FALLBACK_CONFIDENCE else None


def resolve_classes(classes: Sequence[int | str] | None, names: dict[int, str]) -> list[int] | None:
    """COCO ids for ``classes`` given as ids or names (case-insensitive); None means any class.

    Raises:
        ValueError: for an id or a name the model does not have.
    """
    if classes is None or len(classes) == 0:
        return None
    by_name = {name.lower(): index for index, name in names.items()}
    ids = []
    for item in classes:
        if isinstance(item, str) and not item.strip().isdigit():
            if item.strip().lower() not in by_name:
                raise ValueError(
                    f"detector class {item!r} is not a class of the YOLO model; use a COCO id (0-{len(names) - 1}) "
                    f"or one of its names, e.g. {', '.join(list(by_name)[:8])}, ..."
                )
            ids.append(by_name[item.strip().lower()])
        else:
            index = int(item)
            if index not in names:
                raise ValueError(f"detector class id {index} is out of range: the model has ids 0-{len(names) - 1}.")
            ids.append(index)
    return ids


class YoloDetector:
    """SubjectDetector: one subject box per frame from an ultralytics YOLO model (see module doc for the rules)."""

    def __init__(
        self,
        model: Any,
        device: str = "auto",
        classes: Sequence[int | str] | None = None,
        rule: str = "centre",
        min_confidence: float = 0.25,
        image_size: int = 640,
        batch_size: int = 16,
    ) -> None:
        """Args:
            model: an ``ultralytics.YOLO`` (from a .pt file or a .yaml architecture).
            device: "auto", "cpu", "cuda" or "cuda:N" (see ``resolve_device``).
            classes: COCO ids or names the subject may have (``"centre"`` rule); None = any class.
            rule: "centre" or "upstream".
            min_confidence: boxes below this confidence are dropped by the prediction itself.
            image_size: YOLO's inference size (longest side, letterboxed).
            batch_size: frames per forward pass.

        Raises:
            ValueError: for an unknown rule, class or device.
        """
        if rule not in RULES:
            raise ValueError(f"detector rule {rule!r} is unknown: use one of {', '.join(RULES)}.")
        if rule == "upstream" and classes:
            raise ValueError("detector classes cannot be combined with rule 'upstream' (it fixes car/bus/truck).")
        self.model = model
        self.device = resolve_device(device)
        self.rule = rule
        self.class_ids = resolve_classes(classes, dict(model.names))
        self.min_confidence = float(min_confidence)
        self.image_size = int(image_size)
        self.batch_size = int(batch_size)

    @staticmethod
    def load_model(path: str | Path) -> Any:
        """An ``ultralytics.YOLO`` from a weights file. Raises FileNotFoundError if it does not exist.

        (ultralytics would otherwise try to download a file it knows by name.)
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"YOLO weights file {str(path)!r} does not exist.")
        return import_yolo()(str(path), task="detect")

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", **options: Any) -> YoloDetector:
        """A detector on the weights in ``path`` (e.g. yolov8n.pt); ``options`` as for the constructor."""
        return cls(cls.load_model(path), device=device, **options)

    def with_rule(self, rule: str) -> YoloDetector:
        """A detector on the same model and settings under ``rule`` (the classes are dropped for "upstream",
        which fixes its own). The suite uses it to report the original's rule beside the chosen one.

        Raises:
            ValueError: for an unknown rule.
        """
        if rule not in RULES:
            raise ValueError(f"detector rule {rule!r} is unknown: use one of {', '.join(RULES)}.")
        other = copy.copy(self)
        other.rule = rule
        other.class_ids = None if rule == "upstream" else self.class_ids
        return other

    def candidates(self, frames: np.ndarray) -> list[Candidates]:
        """Every box YOLO finds in each frame of ``frames`` ((N, H, W, 3) uint8 RGB), in batches."""
        check_frames(frames)
        height, width = frames.shape[1:3]
        classes = self.class_ids if self.rule == "centre" else None
        found: list[Candidates] = []
        for start in range(0, len(frames), self.batch_size):
            bgr = [np.ascontiguousarray(frame[..., ::-1]) for frame in frames[start : start + self.batch_size]]
            with keep_thread_settings():
                results = self.model.predict(
                    bgr, device=self.device, imgsz=self.image_size, conf=self.min_confidence,
                    classes=classes, verbose=False,
                )
            for result in results:
                boxes = result.boxes
                found.append(
                    Candidates(
                        boxes=boxes.xyxy.detach().cpu().numpy().astype(np.float64).reshape(-1, 4),
                        confidences=boxes.conf.detach().cpu().numpy().astype(np.float64).reshape(-1),
                        class_ids=boxes.cls.detach().cpu().numpy().astype(np.int64).reshape(-1),
                        width=width,
                        height=height,
                    )
                )
        return found

    def select(self, candidates: Candidates) -> Detection | None:
        """The subject box of one frame under this detector's rule, or None."""
        if self.rule == "upstream":
            index = select_upstream(candidates)
        else:
            index = select_centre(candidates, self.class_ids, self.min_confidence)
        if index is None:
            return None
        class_id = int(candidates.class_ids[index])
        return Detection(
            box_xyxy=tuple(float(v) for v in candidates.boxes[index]),
            confidence=float(candidates.confidences[index]),
            class_id=class_id,
            class_name=str(dict(self.model.names).get(class_id, class_id)),
        )

    def detect(self, frames: np.ndarray) -> list[Detection | None]:
        """The subject's box in each frame of ``frames`` ((N, H, W, 3) uint8 RGB); None where nothing qualifies."""
        return [self.select(candidates) for candidates in self.candidates(frames)]

