"""Video input for the metric suite: decode once, sample like the original, detect repeated frames.

A video (mp4, webm, gif, ... anything PyAV/FFmpeg decodes) or a folder of images becomes a :class:`Clip`: the
sampled frames as uint8 RGB (N, H, W, 3), their original indices, the frame rate, the total frame count, and
for every original frame the index of the distinct frame it shows.

Sampling follows the original Circle-Rotate scripts: ``np.linspace(0, total - 1, num_frames, dtype=int)``
(truncation towards zero) over all decoded frames; ``num_frames=0`` (or ``num_frames >= total``) keeps every
frame. Decoding streams: only the sampled frames stay in memory; visitors (see :class:`FrameVisitor`) see every
decoded frame in order once, so metrics defined over all frames (motion) need no second decode.

The total frame count comes from the container (``stream.frames``) or, when it has none (webm), from duration x
rate. If the decoded count turns out different, the sampled frames are collected again in a second pass with the
true count (visitors are not called again); this is the only case where a file is decoded twice.

Repeated frames: a frame is a repeat when the mean absolute difference of its grayscale (every 4th pixel) to the
previous frame is at most ``repeat_tolerance`` grey levels (default 0.5). Some GIFs show every frame twice
(FACTS.md: the 32-frame demo GIFs have 15 repeats); per-frame speeds on those are half the true value unless
divided by distinct frames instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
DEFAULT_NUM_FRAMES = 16
DEFAULT_FOLDER_FPS = 16.0
REPEAT_TOLERANCE = 0.5


class FrameVisitor(Protocol):
    """Sees every decoded frame once, in order (index 0, 1, ...); frames are uint8 RGB (H, W, 3)."""

    def visit(self, index: int, frame: np.ndarray) -> None:
        """Take frame ``index``; the array may be reused by the caller after this returns."""


@dataclass(frozen=True)
class Clip:
    """Sampled frames of one video and where they came from.

    Attributes:
        frames: (N, H, W, 3) uint8 RGB sampled frames.
        indices: (N,) int64 original frame indices of ``frames`` (increasing).
        fps: frames per second of the source (``DEFAULT_FOLDER_FPS`` for image folders unless given).
        total_frames: number of frames in the source.
        source: path of the source, or a label for in-memory frames.
        distinct_index: (total_frames,) int64: for each original frame, the index of the distinct frame it shows
            (0 for frame 0; increases by one at every frame that is not a repeat of its predecessor).
    """

    frames: np.ndarray
    indices: np.ndarray
    fps: float
    total_frames: int
    source: str
    distinct_index: np.ndarray

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def repeated_frames(self) -> int:
        """How many original frames repeat their predecessor."""
        return int(self.total_frames - (self.distinct_index[-1] + 1 if self.total_frames else 0))

    @property
    def sampled_distinct_index(self) -> np.ndarray:
        """(N,) the distinct-frame index of each sampled frame."""
        return self.distinct_index[self.indices]


def sample_indices(total: int, num_frames: int) -> np.ndarray:
    """The original's frame sampling.

    Args:
        total: number of frames in the video (>= 1).
        num_frames: how many to sample; 0 or >= total means all frames.

    Returns:
        (n,) int64 increasing indices: ``np.linspace(0, total - 1, num_frames, dtype=int)`` or ``arange(total)``.

    Raises:
        ValueError: total < 1 or num_frames < 0.
    """
    if total < 1:
        raise ValueError(f"video has {total} frames: nothing to sample (is the file a video?)")
    if num_frames < 0:
        raise ValueError(f"num_frames={num_frames} is negative: use 0 for all frames or a positive count")
    if num_frames == 0 or num_frames >= total:
        return np.arange(total, dtype=np.int64)
    return np.linspace(0, total - 1, num_frames, dtype=int).astype(np.int64)


class RepeatDetector:
    """Visitor that maps every frame to its distinct-frame index (see the module docstring)."""

    def __init__(self, tolerance: float = REPEAT_TOLERANCE) -> None:
        self.tolerance = tolerance
        self.distinct: list[int] = []
        self._previous: np.ndarray | None = None

    def visit(self, index: int, frame: np.ndarray) -> None:
        thumb = frame[::4, ::4].astype(np.int16).mean(axis=2)
        if self._previous is None:
            self.distinct.append(0)
        else:
            repeat = float(np.abs(thumb - self._previous).mean()) <= self.tolerance
            self.distinct.append(self.distinct[-1] + (0 if repeat else 1))
        self._previous = thumb

    def result(self) -> np.ndarray:
        return np.asarray(self.distinct, dtype=np.int64)


def _iter_folder(path: Path) -> tuple[list[Path], Iterator[np.ndarray]]:
    from PIL import Image

    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"image folder '{path}' holds no {'/'.join(IMAGE_SUFFIXES)} files: give a video or a folder of frames")

    def frames() -> Iterator[np.ndarray]:
        for file in files:
            with Image.open(file) as image:
                yield np.asarray(image.convert("RGB"))

    return files, frames()


def _open_video(path: Path) -> tuple[float, int, "av.container.InputContainer"]:
    """(fps, estimated total, open container) of a video file; the caller closes the container."""
    import av

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise ValueError(f"video '{path}' cannot be opened by FFmpeg ({error}): give an mp4/webm/gif file or an image folder") from error
    if not container.streams.video:
        container.close()
        raise ValueError(f"'{path}' has no video stream: give a video file or an image folder")
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.base_rate or Fraction(DEFAULT_FOLDER_FPS)
    fps = float(rate)
    total = int(stream.frames or 0)
    if total <= 0:
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / 1_000_000
        else:
            seconds = 0.0
        total = max(1, round(seconds * fps))
    return fps, total, container


def _decode(container: "av.container.InputContainer") -> Iterator[np.ndarray]:
    """Every frame of the container's first video stream as uint8 RGB; closes the container at the end."""
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")
    finally:
        container.close()


def _collect(frames: Iterable[np.ndarray], wanted: np.ndarray, visitors: Sequence[FrameVisitor]) -> tuple[list[np.ndarray], int]:
    """Keep the frames whose index is in ``wanted``; show every frame to the visitors; return (kept, count)."""
    wanted_set = set(int(i) for i in wanted)
    kept: list[np.ndarray] = []
    count = 0
    for index, frame in enumerate(frames):
        for visitor in visitors:
            visitor.visit(index, frame)
        if index in wanted_set:
            kept.append(frame)
        count = index + 1
    return kept, count


def probe(path: str | Path, folder_fps: float = DEFAULT_FOLDER_FPS) -> tuple[float, int]:
    """(fps, estimated total frames) of a video file or image folder without decoding any frame.

    Raises:
        ValueError: as :func:`load_clip`.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"video '{path}' does not exist: check the path")
    if path.is_dir():
        files, _ = _iter_folder(path)
        return float(folder_fps), len(files)
    fps, total, container = _open_video(path)
    container.close()
    return fps, total


def load_clip(
    path: str | Path,
    num_frames: int = DEFAULT_NUM_FRAMES,
    visitors: Sequence[FrameVisitor] = (),
    folder_fps: float = DEFAULT_FOLDER_FPS,
    repeat_tolerance: float = REPEAT_TOLERANCE,
) -> Clip:
    """Decode a video file or an image folder once and sample it.

    Args:
        path: video file (mp4, webm, gif, ...) or a folder of images (sorted by name).
        num_frames: frames to sample by the original's linspace; 0 = all frames.
        visitors: objects that see every decoded frame in order (e.g. motion accumulators).
        folder_fps: frame rate to assume for an image folder.
        repeat_tolerance: grey-level tolerance of the repeated-frame test.

    Returns:
        The :class:`Clip`.

    Raises:
        ValueError: the path does not exist, is not decodable, or has no frames; num_frames < 0.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"video '{path}' does not exist: check the path")
    if num_frames < 0:
        raise ValueError(f"num_frames={num_frames} is negative: use 0 for all frames or a positive count")
    repeats = RepeatDetector(repeat_tolerance)
    if path.is_dir():
        files, frames = _iter_folder(path)
        fps, estimate = float(folder_fps), len(files)
    else:
        fps, estimate, container = _open_video(path)
        frames = _decode(container)
    kept, total = _collect(frames, sample_indices(estimate, num_frames), [repeats, *visitors])
    if total == 0:
        raise ValueError(f"video '{path}' decoded to 0 frames: the file is empty or damaged")
    indices = sample_indices(total, num_frames)
    if total != estimate:
        if path.is_dir():
            raise ValueError(f"image folder '{path}' changed while it was read: read it again")
        kept, _ = _collect(_decode(_open_video(path)[2]), indices, ())
    return Clip(
        frames=np.stack(kept),
        indices=indices,
        fps=fps,
        total_frames=total,
        source=str(path),
        distinct_index=repeats.result(),
    )


def clip_from_array(
    frames: np.ndarray,
    fps: float,
    num_frames: int = 0,
    source: str = "<frames>",
    visitors: Sequence[FrameVisitor] = (),
    repeat_tolerance: float = REPEAT_TOLERANCE,
) -> Clip:
    """A :class:`Clip` from frames already in memory (e.g. a ComfyUI IMAGE batch).

    Args:
        frames: (T, H, W, 3) uint8 RGB, or float RGB in [0, 1] (ComfyUI IMAGE as numpy; values are clipped and
            rounded to uint8).
        fps: frame rate (> 0).
        num_frames: frames to sample (0 = all).
        source: label for the report.
        visitors: see :func:`load_clip`.
        repeat_tolerance: grey-level tolerance of the repeated-frame test.

    Returns:
        The :class:`Clip`.

    Raises:
        ValueError: wrong shape, dtype, or fps.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"frames of shape {frames.shape}: expected (T, H, W, 3) RGB with T >= 1")
    if fps <= 0:
        raise ValueError(f"fps={fps}: must be positive")
    if frames.dtype != np.uint8:
        if not np.issubdtype(frames.dtype, np.floating):
            raise ValueError(f"frames of dtype {frames.dtype}: expected uint8 or float in [0, 1]")
        frames = np.round(np.clip(frames, 0.0, 1.0) * 255.0).astype(np.uint8)
    repeats = RepeatDetector(repeat_tolerance)
    indices = sample_indices(frames.shape[0], num_frames)
    for index, frame in enumerate(frames):
        repeats.visit(index, frame)
        for visitor in visitors:
            visitor.visit(index, frame)
    return Clip(
        frames=np.ascontiguousarray(frames[indices]),
        indices=indices,
        fps=float(fps),
        total_frames=int(frames.shape[0]),
        source=source,
        distinct_index=repeats.result(),
    )
