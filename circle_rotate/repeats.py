"""Repeated frames: is a decoded frame a repeat of the one before it?

Some videos show each frame more than once (the original project's 32-frame demo GIFs show every frame twice;
frame-rate conversions duplicate frames). Per-frame speeds of such videos are a fraction of the true value unless
they are divided by distinct frames instead, so the suite maps every frame to the distinct frame it shows.

Test: with g = BT.601 luma (0.299 R + 0.587 G + 0.114 B, float) of each frame at full resolution, the frame
change is the LARGEST, over a grid of ``REPEAT_BLOCK`` x ``REPEAT_BLOCK`` (8 x 8) pixel blocks (the blocks on the
right and bottom edges may be smaller), of the block's mean |g(t) - g(t-1)|, in grey levels. Frame t is a repeat
when that change is at most the tolerance (``REPEAT_TOLERANCE`` = 5.0 grey levels).

Why a block maximum: a repeat must be unchanged everywhere, so one block that changed is enough to refuse it. A
textured 40x40 subject moving 0.5 px per frame on a static 256x256 frame changes its blocks by 9.5 grey levels or
more (``tests/fixtures/synthetic_video.sliding_square``; 2 px per frame: 32 or more), while the frame's global
mean changes by a fraction of one grey level: the global mean of every 4th pixel against 0.5 (the test this
replaced) called 16 of 17 such frames repeats. Averaging over a block rather than taking single pixels keeps
isolated noisy pixels from refusing a repeat.

The tolerance is set by codec noise, measured as the largest block change between truly repeated frames: GIF and
lossless video 0; libx264 yuv420p, preset medium, at crf 18 to 23 (x264's default) on the synthetic test scenes
0.2 to 4.2 (the largest on the last frame of a stream); at crf 28 up to 7.3; the original demo GIFs re-encoded
at crf 23, whose dithering the codec cannot keep, 4.7 to 9.2. Repeats noisier than the tolerance count as
distinct frames, the safe side (speeds per distinct frame then equal speeds per frame; no frame is skipped). A
subject must change some block by more than 5 grey levels to count as moving: at 0.5 px per frame, a straight edge of
contrast 100 across a block does it on its own (a half-pixel shift changes one of its 8 columns by 50: 6.25),
a low-contrast texture (30% of the range) does not (3.4) and then reads as a repeat.
"""

from __future__ import annotations

import numpy as np

REPEAT_BLOCK = 8
REPEAT_TOLERANCE = 5.0
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luma(frame: np.ndarray) -> np.ndarray:
    """(H, W) float32 BT.601 luma of a uint8 RGB (H, W, 3) frame."""
    return frame.astype(np.float32) @ _LUMA


def frame_change(previous: np.ndarray, current: np.ndarray, block: int = REPEAT_BLOCK) -> float:
    """The largest block mean of |previous - current| (see the module docstring), in grey levels.

    Args:
        previous, current: (H, W) float luma of two frames of the same size (see :func:`luma`).
        block: block side in pixels (>= 1).

    Returns:
        max over blocks of the block's mean absolute difference.

    Raises:
        ValueError: the frames differ in shape, or block < 1.
    """
    if previous.shape != current.shape:
        raise ValueError(f"frames of shape {previous.shape} and {current.shape}: every frame of a video must have the same size")
    if block < 1:
        raise ValueError(f"block={block}: must be >= 1")
    diff = np.abs(current - previous)
    rows = np.arange(0, diff.shape[0], block)
    cols = np.arange(0, diff.shape[1], block)
    sums = np.add.reduceat(np.add.reduceat(diff, rows, axis=0), cols, axis=1)
    heights = np.diff(np.append(rows, diff.shape[0]))
    widths = np.diff(np.append(cols, diff.shape[1]))
    return float((sums / np.outer(heights, widths)).max())


class RepeatDetector:
    """Frame visitor mapping every frame to the index of the distinct frame it shows.

    Args:
        tolerance: largest frame change (grey levels, see :func:`frame_change`) of a repeat.
    """

    def __init__(self, tolerance: float = REPEAT_TOLERANCE) -> None:
        if tolerance < 0:
            raise ValueError(f"repeat tolerance {tolerance}: must be >= 0 grey levels")
        self.tolerance = tolerance
        self.distinct: list[int] = []
        self.changes: list[float] = []
        self._previous: np.ndarray | None = None

    def visit(self, index: int, frame: np.ndarray) -> None:
        """Take frame ``index`` (uint8 RGB (H, W, 3)); frames must come in order 0, 1, ..."""
        current = luma(frame)
        if self._previous is None:
            self.distinct.append(0)
        else:
            change = frame_change(self._previous, current)
            self.changes.append(change)
            self.distinct.append(self.distinct[-1] + (0 if change <= self.tolerance else 1))
        self._previous = current

    def result(self) -> np.ndarray:
        """(frames seen,) int64 distinct-frame index of each frame: 0 for frame 0, +1 at each frame that is not a
        repeat of its predecessor."""
        return np.asarray(self.distinct, dtype=np.int64)
