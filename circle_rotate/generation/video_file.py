"""Frames from ComfyUI's PNG outputs, and the lossless video file ``generate`` writes.

The video is H.264 in RGB (libx264rgb, ``-crf 0``: lossless), so decoding it gives back exactly the frames
``generate`` returned. It plays in ffmpeg/VLC/mpv and decodes with PyAV; browsers do not play RGB H.264
(re-encode for the web, e.g. ``ffmpeg -i out.mp4 -pix_fmt yuv420p web.mp4``, which is lossy).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

CODEC = "libx264rgb"
CODEC_OPTIONS = {"crf": "0", "preset": "medium"}


def frames_from_pngs(images: Iterable[bytes]) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB from PNG files' bytes, in order.

    Raises:
        ValueError: no images, or images of different sizes.
    """
    from PIL import Image

    frames = []
    for data in images:
        with Image.open(io.BytesIO(data)) as image:
            frames.append(np.asarray(image.convert("RGB")))
    if not frames:
        raise ValueError("the workflow produced no frames")
    if len({frame.shape for frame in frames}) != 1:
        raise ValueError(f"the frames have different sizes: {sorted({frame.shape for frame in frames})}")
    return np.stack(frames)


def write_video(frames: np.ndarray, fps: float, path: str | Path) -> Path:
    """Write ``frames`` ((T, H, W, 3) uint8) to ``path`` as a lossless mp4; the file appears only when complete.

    Encodes to a temporary file in the same folder, then renames it (``os.replace``) over ``path``.

    Raises:
        ValueError: frames that are not (T, H, W, 3) uint8, or a non-positive fps.
    """
    import av

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if fps <= 0:
        raise ValueError(f"fps {fps} must be positive")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".partial.mp4", dir=path.parent)
    os.close(handle)
    try:
        with av.open(partial, "w", format="mp4") as container:
            stream = container.add_stream(CODEC, rate=_rate(fps))
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = "rgb24"
            stream.options = dict(CODEC_OPTIONS)
            for frame in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def _rate(fps: float) -> object:
    from fractions import Fraction

    return Fraction(fps).limit_denominator(1001)
