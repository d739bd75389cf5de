"""Checks and conversions of the frame batches every metric model takes: uint8 RGB arrays (N, H, W, 3)."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_frames(frames: Any, name: str = "frames") -> np.ndarray:
    """``frames`` itself if it is a uint8 RGB array of shape (N, H, W, 3) with N >= 1.

    Raises:
        ValueError: naming ``name``, the shape and dtype it got.
    """
    if not (isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.shape[-1] == 3 and frames.dtype == np.uint8):
        shape = getattr(frames, "shape", None)
        dtype = getattr(frames, "dtype", type(frames).__name__)
        raise ValueError(
            f"{name} must be a uint8 RGB array of shape (N, H, W, 3), got shape {shape} dtype {dtype}; "
            "convert float images with (x * 255).round().astype(np.uint8)."
        )
    if len(frames) == 0:
        raise ValueError(f"{name} is empty (shape {frames.shape}); pass at least one frame.")
    return frames


def check_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` if both are valid frame batches of the same shape. Raises ValueError otherwise."""
    check_frames(a, "a")
    check_frames(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"frame batches a and b must have the same shape, got {a.shape} and {b.shape}.")
    return a, b


def to_tensor(frames: np.ndarray, device: str) -> Any:
    """(N, 3, H, W) uint8 torch tensor on ``device`` from (N, H, W, 3) uint8 frames."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 3, 1, 2)
