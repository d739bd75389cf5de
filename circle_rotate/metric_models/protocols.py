"""What the metric suite needs from each model, as protocols.

The suite and the metric functions depend only on these; the real implementations (YOLO, SAM, open_clip,
DINO, LPIPS, RAFT) live beside this file and are loaded through ``circle_rotate.weights``; tests pass
random-initialised real models or exact fakes. All frames are uint8 RGB arrays of shape (N, H, W, 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One detected box in pixel coordinates of the frame it was found in."""

    box_xyxy: tuple[float, float, float, float]
    confidence: float
    class_id: int
    class_name: str


class SubjectDetector(Protocol):
    def detect(self, frames: np.ndarray) -> list[Detection | None]:
        """The subject's box in each frame (None where nothing qualifies)."""


class SubjectSegmenter(Protocol):
    def segment(self, frames: np.ndarray, boxes: list[Detection | None]) -> np.ndarray:
        """(N, H, W) bool masks, one per frame; all False where the box is None."""


class ImageEncoder(Protocol):
    def embed(self, frames: np.ndarray) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings."""


class PerceptualDistance(Protocol):
    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(N,) LPIPS distances between frame pairs a[i], b[i] (same shape)."""


class OpticalFlow(Protocol):
    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(N, H, W, 2) float32 flow from a[i] to b[i], in pixels."""
