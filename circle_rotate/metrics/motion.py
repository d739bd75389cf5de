"""Motion: the original's motion magnitude and frame-difference ratio, and VBench's RAFT dynamic degree.

Original (Circle-Rotate ``metrics/motion.py``), over ALL consecutive frame pairs of the video at native
resolution, grayscale as ``cv2.COLOR_RGB2GRAY``:

- ``motion_magnitude`` = mean over pairs of the mean Farneback flow magnitude (see ``flow.py``); pixels per frame.
- ``dynamic_degree`` (reported here as ``frame_diff_ratio``) = mean over pairs of the fraction of pixels with
  ``|gray(t+1) - gray(t)| > 10``; a frame-difference ratio in [0, 1]. It is NOT VBench's dynamic degree; the
  upstream-compatible report keeps the original key ``dynamic_degree`` for it.

VBench ``dynamic_degree`` (Vchitect/VBench ``dynamic_degree.py``), when an optical-flow model is given:
frames every ``round(fps / 8)`` (at least 1) of a video file, every frame of an image folder (VBench 0.1.5
reads a folder whole: no rate, no stride); for each consecutive pair of those, the score is the mean of the
top 5% flow magnitudes (``int(H * W * 0.05)`` pixels); threshold ``6.0 * min(H, W) / 256`` pixels (VBench's
constant: 6 px at a 256-pixel short side, scaled with resolution); the video is dynamic when at least
``round(4 * n / 16)`` pairs exceed the threshold, where VBench's ``n`` is the number of selected FRAMES (its
``count=len(frames)``), not pairs; Python's round (half to even) as VBench. Padding as VBench: each frame is
edge-padded to sides that are multiples of 8 (RAFT's ``InputPadder``) and the top 5% is taken over the flow of the
PADDED frame (``vbench_dynamic_degree``); the same flows with the padding cropped off give our own reading,
``dynamic_degree_cropped``, beside it. The flow model (RAFT "things", 20 iterations in VBench) is the
:class:`OpticalFlow` protocol's job.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..metric_models.protocols import OpticalFlow
from .flow import FlowCache, PairWorkers, farneback_magnitude, to_gray

FRAME_DIFF_THRESHOLD = 10
VBENCH_TOP_FRACTION = 0.05


class UpstreamMotion:
    """Frame visitor accumulating the original's motion statistics over every consecutive pair.

    The pairs run on a few threads while the video streams (``flow.PairWorkers``); :meth:`result` waits for them.

    Args:
        cache: where to offer each pair's flow magnitude (so drift can reuse it), or None.
        workers: threads for the pairs (default: the machine's cores, at most 8).
    """

    def __init__(self, cache: FlowCache | None = None, workers: int | None = None) -> None:
        self.cache = cache
        self.magnitudes: list[float] = []
        self.diff_ratios: list[float] = []
        self._previous: tuple[int, np.ndarray] | None = None
        self._workers = PairWorkers(workers)
        self._finished = False

    def visit(self, index: int, frame: np.ndarray) -> None:
        gray = to_gray(frame)
        if self._previous is not None:
            previous_index, previous = self._previous
            self._collect(self._workers.submit(self._pair, (previous_index, index), previous, gray))
        self._previous = (index, gray)

    def _pair(self, pair: tuple[int, int], previous: np.ndarray, gray: np.ndarray) -> tuple:
        """(pair, mean flow magnitude, frame-difference ratio, the magnitude if the cache keeps this pair)."""
        magnitude = farneback_magnitude(previous, gray)
        diff = np.abs(gray.astype(np.int16) - previous.astype(np.int16))
        kept = magnitude if self.cache is not None and pair in self.cache.keep else None
        return pair, float(magnitude.mean()), float((diff > FRAME_DIFF_THRESHOLD).mean()), kept

    def _collect(self, results: list[tuple]) -> None:
        for pair, magnitude_mean, diff_ratio, magnitude in results:
            self.magnitudes.append(magnitude_mean)
            self.diff_ratios.append(diff_ratio)
            if magnitude is not None:
                self.cache.offer(pair, magnitude)

    def finish(self) -> None:
        """Wait for the pairs still running and take their results (and offer their flows to the cache).

        Call it once the last frame was visited; no frame may be visited after it. Raises what a pair raised.
        """
        if not self._finished:
            self._finished = True
            self._collect(self._workers.finish())

    def result(self) -> dict:
        """``{"motion_magnitude": px/frame, "frame_diff_ratio": [0, 1], "pairs": n}``; 0.0 with fewer than 2 frames
        (as the original). Calls :meth:`finish` first."""
        self.finish()
        return {
            "motion_magnitude": float(np.mean(self.magnitudes)) if self.magnitudes else 0.0,
            "frame_diff_ratio": float(np.mean(self.diff_ratios)) if self.diff_ratios else 0.0,
            "pairs": len(self.magnitudes),
        }


def upstream_motion(frames: np.ndarray) -> dict:
    """The original's motion statistics of all frames (T, H, W, 3) uint8 RGB; see :meth:`UpstreamMotion.result`."""
    accumulator = UpstreamMotion()
    for index, frame in enumerate(frames):
        accumulator.visit(index, frame)
    return accumulator.result()


def vbench_stride(fps: float | None) -> int:
    """VBench's frame interval: ``round(fps / 8)``, at least 1, for a video file; 1 for an image folder
    (``fps=None``), which VBench 0.1.5 reads whole (``get_frames_from_img_folder``: every image, no stride)."""
    return 1 if fps is None else max(1, round(fps / 8))


class StrideCollector:
    """Frame visitor keeping every ``stride``-th frame (index % stride == 0) for VBench's dynamic degree."""

    def __init__(self, stride: int) -> None:
        self.stride = stride
        self.frames: list[np.ndarray] = []

    def visit(self, index: int, frame: np.ndarray) -> None:
        if index % self.stride == 0:
            self.frames.append(frame.copy())


def top_fraction_mean(magnitude: np.ndarray, fraction: float = VBENCH_TOP_FRACTION) -> float:
    """Mean of the largest ``int(size * fraction)`` values of ``magnitude`` (VBench's per-pair score)."""
    count = int(magnitude.size * fraction)
    if count < 1:
        return float(magnitude.max())
    top = np.partition(magnitude.ravel(), magnitude.size - count)[-count:]
    return float(top.mean())


def vbench_padding(height: int, width: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) padding of VBench's RAFT ``InputPadder`` (default "sintel" mode): each side up to
    the next multiple of 8, split evenly with the odd pixel at the right/bottom; the pixels are edge-replicated."""
    pad_h, pad_w = (-height) % 8, (-width) % 8
    return pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2


def vbench_dynamic_degree(
    frames: np.ndarray, flow_model: OpticalFlow, batch_size: int = 4, before_batch: Callable[[], None] = lambda: None
) -> dict:
    """VBench's dynamic degree of already strided frames, and our variant on the unpadded frame.

    Each frame is padded as VBench's ``InputPadder`` (``vbench_padding``, edge replication) before the flow model
    sees it, as VBench does; VBench then scores the flow of the WHOLE padded frame (``get_score`` on the padded
    image and RAFT's padded ``flow_up``), so the replicated border counts in its top 5%. That is VBench's number,
    reported as is. ``cropped`` scores the same flows with the padding cropped off first (only the video's own
    pixels; ``int(H * W * 0.05)`` of them), our preferred reading; it differs when a side is not a multiple of 8.
    Threshold and pair count are VBench's in both (from the unpadded frame size).

    Args:
        frames: (n, H, W, 3) uint8 RGB, every ``vbench_stride(fps)``-th frame of the video, n >= 2.
        flow_model: optical flow (RAFT) following the ``OpticalFlow`` protocol; it gets the padded frames. A model
            with a ``min_side`` attribute pads shorter sides further itself (torchvision's RAFT: 128), which VBench's
            RAFT does not: a sentence in ``notes`` then says the number is not exactly VBench's.
        batch_size: pairs per model call.
        before_batch: called before each model call (progress and interrupt checks).

    Returns:
        ``{"dynamic": bool, "pair_scores": [px], "threshold_px", "required_pairs", "moving_pairs", "frames": n,
        "padding": [left, right, top, bottom], "notes": [str], "cropped": {"dynamic", "pair_scores",
        "moving_pairs"}}``.

    Raises:
        ValueError: fewer than 2 frames.
    """
    n = len(frames)
    if n < 2:
        raise ValueError(f"VBench dynamic degree needs at least 2 strided frames, got {n}: the video is too short")
    height, width = frames.shape[1:3]
    left, right, top, bottom = vbench_padding(height, width)
    padded = np.pad(frames, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="edge")
    min_side = getattr(flow_model, "min_side", 0)
    notes = []
    if min(padded.shape[1:3]) < min_side:
        notes.append(
            f"frames of {width}x{height}: the flow model pads sides under {min_side} px further, VBench's RAFT does "
            "not, so vbench_dynamic_degree is not exactly VBench's number here"
        )
    scores: list[float] = []
    cropped: list[float] = []
    for start in range(0, n - 1, batch_size):
        stop = min(start + batch_size, n - 1)
        before_batch()
        flows = flow_model.flow(padded[start:stop], padded[start + 1 : stop + 1])
        for flow in flows:
            magnitude = np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2)
            scores.append(top_fraction_mean(magnitude))
            cropped.append(top_fraction_mean(magnitude[top : top + height, left : left + width]))
    threshold = 6.0 * min(height, width) / 256.0
    required = round(4 * n / 16)
    moving = sum(score > threshold for score in scores)
    moving_cropped = sum(score > threshold for score in cropped)
    return {
        "dynamic": bool(moving >= required),
        "pair_scores": scores,
        "threshold_px": threshold,
        "required_pairs": int(required),
        "moving_pairs": int(moving),
        "frames": n,
        "padding": [left, right, top, bottom],
        "notes": notes,
        "cropped": {"dynamic": bool(moving_cropped >= required), "pair_scores": cropped, "moving_pairs": int(moving_cropped)},
    }
