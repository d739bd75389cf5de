"""Video input for the metric suite: decode once, sample like the original, detect repeated frames.

A video (mp4, webm, gif, ... anything PyAV/FFmpeg decodes) or a folder of images becomes a :class:`Clip`: the
sampled frames as uint8 RGB (N, H, W, 3), their original indices, the frame rate, the total frame count, and
for every original frame the index of the distinct frame it shows.

Sampling (ours, ``Clip.indices``): the original Circle-Rotate scripts' ``np.linspace(0, total - 1, num_frames,
dtype=int)`` (truncation towards zero) over all decoded frames; ``num_frames=0`` (or ``num_frames >= total``)
keeps every frame, each once. The original's own sampling (``Clip.upstream_indices``, see
:func:`upstream_sample_indices`) differs only for a video shorter than ``num_frames``: its linspace then repeats
frames (a 12-frame video sampled at 16 shows frames 0, 2, 5 and 8 twice); the suite computes the report's
``upstream`` values on exactly those frames. Decoding streams: only the sampled frames stay in memory; visitors
(see :class:`FrameVisitor`) see every decoded frame in order once, so metrics defined over all frames (motion)
need no second decode.

The total frame count comes from the container (``stream.frames``) or, when it has none (webm), from duration x
rate. If the decoded count turns out different, the sampled frames are collected again in a second pass with the
true count (visitors are not called again); this is the only case where a file is decoded twice.

Damaged or cut input (decided here, the same for the CLI and the node):

- decoding that fails mid-file (FFmpeg reports invalid data) is a ``ValueError`` naming the file and the frame
  where it failed;
- a GIF without its trailer byte (0x3B) is cut: a ``ValueError`` naming the file and the last frame decoded
  (that frame may be partly drawn, and FFmpeg decodes the part silently);
- fewer frames decoded than the container declares, without a decoding error, is a warning, not an error (edit
  lists can legitimately hide frames): the metrics use the frames decoded and ``Clip.decode_warning`` says how
  many were declared and where decoding stopped (the report shows it);
- an image in a folder that cannot be read, or of another size than the first, is a ``ValueError`` naming it;
- fewer than ``MIN_FRAMES`` (2) frames is a ``ValueError`` (:func:`require_frames`, shared with the node).

Repeated frames: see ``repeats.py`` (a frame is a repeat when no run of 16 pixels of a row or column of its luma
changed by more than 12 grey levels on average).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from .images import UNREADABLE

from .repeats import REPEAT_TOLERANCE, RepeatDetector

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
DEFAULT_NUM_FRAMES = 16
DEFAULT_FOLDER_FPS = 16.0
MIN_FRAMES = 2
GIF_TRAILER = 0x3B


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
        upstream_indices: the original's sampled indices (:func:`upstream_sample_indices`, repeats possible), or
            None when they equal ``indices``.
        decode_warning: a sentence when decoding ended before the frames the container declared (the file, the
            frame where it stopped), else None.
    """

    frames: np.ndarray
    indices: np.ndarray
    fps: float
    total_frames: int
    source: str
    distinct_index: np.ndarray
    upstream_indices: np.ndarray | None = None
    decode_warning: str | None = None

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

    @property
    def upstream_positions(self) -> np.ndarray:
        """Positions in ``frames`` of the original's sampled frames, in its order (repeats included)."""
        if self.upstream_indices is None:
            return np.arange(len(self.indices), dtype=np.int64)
        return np.searchsorted(self.indices, self.upstream_indices).astype(np.int64)

    @property
    def upstream_repeats(self) -> int:
        """How many of the original's sampled frames repeat an earlier sample (0 unless the video is shorter than
        the requested sample count)."""
        if self.upstream_indices is None:
            return 0
        return int(len(self.upstream_indices) - len(np.unique(self.upstream_indices)))


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


def upstream_sample_indices(total: int, num_frames: int) -> np.ndarray:
    """The original's sampling exactly, repeats included: ``np.linspace(0, total - 1, num_frames).astype(int)``.

    It equals :func:`sample_indices` except for ``num_frames > total``, where it repeats frames.
    ``num_frames=0`` (all frames, ours; the original has no such option) gives ``arange(total)``.

    Raises:
        ValueError: as :func:`sample_indices`.
    """
    sample_indices(total, num_frames)  # the same checks
    if num_frames == 0:
        return np.arange(total, dtype=np.int64)
    return np.linspace(0, total - 1, num_frames).astype(int).astype(np.int64)


def require_frames(count: int, name: str) -> None:
    """Refuse a video of fewer than ``MIN_FRAMES`` frames (the CLI and the node give this same message).

    Args:
        count: frames in the video.
        name: the input, as the user knows it (``"images"``, ``"video 'a.mp4'"``).

    Raises:
        ValueError: count < ``MIN_FRAMES``.
    """
    if count < MIN_FRAMES:
        raise ValueError(
            f"{name}: {count} frame{'' if count == 1 else 's'} given; the metrics need a video of at least "
            f"{MIN_FRAMES} frames (they compare frames): give a longer video"
        )


def _iter_folder(path: Path) -> tuple[list[Path], Iterator[np.ndarray]]:
    from PIL import Image

    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"image folder '{path}' holds no {'/'.join(IMAGE_SUFFIXES)} files: give a video or a folder of frames")

    def frames() -> Iterator[np.ndarray]:
        size = None
        for index, file in enumerate(files):
            try:
                with Image.open(file) as image:
                    frame = np.asarray(image.convert("RGB"))
            except UNREADABLE as error:  # Pillow's (or ultralytics' Image.open's) errors for unreadable or cut images
                raise ValueError(
                    f"image '{file}' (frame {index} of folder '{path}') cannot be read ({type(error).__name__}: {error}): "
                    "replace or remove the file"
                ) from error
            if size is None:
                size = frame.shape
            elif frame.shape != size:
                raise ValueError(
                    f"image '{file}' (frame {index} of folder '{path}') is {frame.shape[1]}x{frame.shape[0]}, the folder's "
                    f"first image {size[1]}x{size[0]}: every frame of a video must have the same size"
                )
            yield frame

    return files, frames()


def _open_video(path: Path) -> tuple[float, int, "av.container.InputContainer"]:
    """(fps, estimated total, open container) of a video file; the caller closes the container. The total is the
    container's declared frame count (``stream.frames``) when it has one, else duration x rate."""
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


def _decode(container: "av.container.InputContainer", path: Path) -> Iterator[np.ndarray]:
    """Every frame of the container's first video stream as uint8 RGB; closes the container at the end.

    Raises:
        ValueError: decoding fails mid-file (names the file and the frame).
    """
    import av

    index = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        declared = int(stream.frames or 0)
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
                index += 1
        except av.error.FFmpegError as error:
            of = f" of the {declared} the container declares" if declared else ""
            raise ValueError(
                f"video '{path}' is damaged or cut: decoding failed at frame {index} ({index} frames decoded{of}; "
                f"FFmpeg: {error.strerror or error}): re-export or re-download the file"
            ) from error
    finally:
        container.close()


def _is_gif(container: "av.container.InputContainer") -> bool:
    return "gif" in container.format.name.split(",")


def _check_gif_trailer(path: Path, decoded: int) -> None:
    """Raise ValueError when a GIF lacks its trailer byte (the file was cut; FFmpeg does not say so)."""
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
    if last != bytes([GIF_TRAILER]):
        raise ValueError(
            f"GIF '{path}' is cut: it ends without the GIF trailer byte, after {decoded} decoded frame"
            f"{'' if decoded == 1 else 's'} (frame {decoded - 1}, the last, may be only partly drawn): "
            "re-download or re-export the file"
        )


def _declared_frames(container: "av.container.InputContainer") -> int:
    return int(container.streams.video[0].frames or 0)


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
        repeat_tolerance: grey-level tolerance of the repeated-frame test (``repeats.py``).

    Returns:
        The :class:`Clip`.

    Raises:
        ValueError: the path does not exist, is not decodable, is cut or damaged (see the module docstring), or has
            fewer than ``MIN_FRAMES`` frames; num_frames < 0.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"video '{path}' does not exist: check the path")
    if num_frames < 0:
        raise ValueError(f"num_frames={num_frames} is negative: use 0 for all frames or a positive count")
    repeats = RepeatDetector(repeat_tolerance)
    declared, gif = 0, False
    if path.is_dir():
        files, frames = _iter_folder(path)
        fps, estimate = float(folder_fps), len(files)
    else:
        fps, estimate, container = _open_video(path)
        declared, gif = _declared_frames(container), _is_gif(container)
        frames = _decode(container, path)
    kept, total = _collect(frames, sample_indices(estimate, num_frames), [repeats, *visitors])
    if total == 0:
        raise ValueError(f"video '{path}' decoded to 0 frames: the file is empty or damaged")
    if gif:
        _check_gif_trailer(path, total)
    require_frames(total, f"video '{path}'")
    indices = sample_indices(total, num_frames)
    if total != estimate:
        if path.is_dir():
            raise ValueError(f"image folder '{path}' changed while it was read: read it again")
        kept, _ = _collect(_decode(_open_video(path)[2], path), indices, ())
    warning = None
    if declared > total:
        warning = (
            f"video '{path}': decoding ended after frame {total - 1} ({total} frames) although the container declares "
            f"{declared}: the file may be cut; the metrics use the {total} frames decoded"
        )
    return Clip(
        frames=np.stack(kept),
        indices=indices,
        fps=fps,
        total_frames=total,
        source=str(path),
        distinct_index=repeats.result(),
        upstream_indices=_upstream_or_none(total, num_frames, indices),
        decode_warning=warning,
    )


def _upstream_or_none(total: int, num_frames: int, indices: np.ndarray) -> np.ndarray | None:
    upstream = upstream_sample_indices(total, num_frames)
    return None if np.array_equal(upstream, indices) else upstream


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
        ValueError: wrong shape, dtype, or fps; fewer than ``MIN_FRAMES`` frames.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"frames of shape {frames.shape}: expected (T, H, W, 3) RGB with T >= 1")
    if fps <= 0:
        raise ValueError(f"fps={fps}: must be positive")
    require_frames(int(frames.shape[0]), source)
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
        upstream_indices=_upstream_or_none(int(frames.shape[0]), num_frames, indices),
    )
