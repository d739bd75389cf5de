"""Repeated frames: is a decoded frame a repeat of the one before it?

Some videos show each frame more than once (the original project's 32-frame demo GIFs show every frame twice;
frame-rate conversions duplicate frames). Per-frame speeds of such videos are a fraction of the true value unless
they are divided by distinct frames instead, so the suite maps every frame to the distinct frame it shows.

Test: with g = the grayscale of each frame at full resolution (BT.601 luma 0.299 R + 0.587 G + 0.114 B rounded to
integers, as ``cv2.COLOR_RGB2GRAY``), the frame
change is the LARGEST mean |g(t) - g(t-1)| along a run of ``REPEAT_RUN`` (16) pixels: the rows and the columns of
the frame cut into runs of 16 on a fixed grid (the last run of a row or column may be shorter), in grey levels.
Frame t is a repeat when that change is at most the tolerance (``REPEAT_TOLERANCE`` = 12 grey levels).

Why a maximum over short runs: a repeat must be unchanged everywhere, so one place that changed is enough to
refuse it, and what changes when something moves is its outline, a line: a vertical edge of contrast C moving
0.5 px changes a column run by C / 2 all along it, whereas an 8x8 block straddling the edge changes by C / 16. A
40x40 subject moving 0.5 px per frame on a static 256x256 frame (``tests/fixtures/synthetic_video.sliding_square``)
gives 15 or more as a flat square of contrast 32 and 17.8 or more when textured (2 px per frame: 31 and 62),
while the frame's global mean changes by a fraction of one grey level: the global mean of every 4th pixel against
0.5 (the test this replaced) called 16 of 17 such frames repeats. Averaging along a run rather than taking single
pixels keeps isolated noisy pixels from refusing a repeat.

The tolerance is set by codec noise, measured as the largest run change between truly repeated frames: GIF and
lossless video 0; libx264 yuv420p, preset medium: crf 18 to 23 (x264's default) on the synthetic test scenes
0.6 to 6.9, crf 28 up to 10.1; the 32-frame demo GIFs re-encoded at crf 23 8.3 to 14.1 as they are (the codec
cannot keep their dithering), 5.6 to 9.6 with the dithering blurred away. Repeats noisier than the tolerance count
as distinct frames, the safe side: speeds per distinct frame then equal speeds per frame and no frame is skipped,
whereas a false repeat would drop a frame that moved. Motion below the tolerance reads as a repeat: a flat edge of
contrast under 24 moving 0.5 px per frame (under 12 moving 1 px or more), a textured subject moving 0.25 px
(8.3 to 10.5).
"""

from __future__ import annotations

import numpy as np

REPEAT_RUN = 16
REPEAT_TOLERANCE = 12.0


def luma(frame: np.ndarray) -> np.ndarray:
    """(H, W) uint8 grayscale of a uint8 RGB (H, W, 3) frame, as ``cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)``."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def _run_means(diff: np.ndarray, run: int, axis: int) -> np.ndarray:
    """Means of ``diff`` over consecutive runs of ``run`` pixels along ``axis`` (the last run may be shorter)."""
    starts = np.arange(0, diff.shape[axis], run)
    lengths = np.diff(np.append(starts, diff.shape[axis]))
    sums = np.add.reduceat(diff, starts, axis=axis, dtype=np.float64 if diff.dtype.kind == "f" else np.uint32)
    return sums / (lengths[:, None] if axis == 0 else lengths[None, :])


def frame_change(previous: np.ndarray, current: np.ndarray, run: int = REPEAT_RUN) -> float:
    """The largest mean |previous - current| along a row or column run (see the module docstring), in grey levels.

    Args:
        previous, current: (H, W) grayscale of two frames of the same size and dtype (see :func:`luma`).
        run: run length in pixels (>= 1).

    Returns:
        max over the horizontal and vertical runs of their mean absolute difference.

    Raises:
        ValueError: the frames differ in shape, or run < 1.
    """
    if previous.shape != current.shape:
        raise ValueError(f"frames of shape {previous.shape} and {current.shape}: every frame of a video must have the same size")
    if run < 1:
        raise ValueError(f"run={run}: must be >= 1")
    import cv2

    diff = cv2.absdiff(previous, current)
    return float(max(_run_means(diff, run, axis=1).max(), _run_means(diff, run, axis=0).max()))


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
        self._previous: np.ndarray | None = None

    def visit(self, index: int, frame: np.ndarray) -> None:
        """Take frame ``index`` (uint8 RGB (H, W, 3)); frames must come in order 0, 1, ..."""
        current = luma(frame)
        if self._previous is None:
            self.distinct.append(0)
        else:
            change = frame_change(self._previous, current)
            self.distinct.append(self.distinct[-1] + (0 if change <= self.tolerance else 1))
        self._previous = current

    def result(self) -> np.ndarray:
        """(frames seen,) int64 distinct-frame index of each frame: 0 for frame 0, +1 at each frame that is not a
        repeat of its predecessor."""
        return np.asarray(self.distinct, dtype=np.int64)
