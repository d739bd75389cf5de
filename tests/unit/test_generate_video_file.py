"""The lossless mp4 of ``generate`` and its all-or-nothing write (``generation.video_file``)."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from circle_rotate.generation import video_file


def _frames(count: int = 7, height: int = 36, width: int = 50) -> np.ndarray:
    return (np.random.default_rng(0).random((count, height, width, 3)) * 255).astype(np.uint8)


def test_the_mp4_decodes_to_exactly_the_frames(tmp_path) -> None:
    frames = _frames()
    path = video_file.write_video(frames, 16.0, tmp_path / "sub" / "out.mp4")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.average_rate) == 16.0
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
    assert np.array_equal(decoded, frames)
    assert [p.name for p in path.parent.iterdir()] == ["out.mp4"]


def test_a_failed_write_leaves_neither_file_nor_partial(tmp_path, monkeypatch) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"older video")
    calls = []

    def failing(array, format):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("encoder died")
        return original(array, format=format)

    original = av.VideoFrame.from_ndarray
    monkeypatch.setattr(av.VideoFrame, "from_ndarray", failing)
    with pytest.raises(RuntimeError, match="encoder died"):
        video_file.write_video(_frames(), 16.0, target)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    assert target.read_bytes() == b"older video", "the old file stays until a new one is complete"


@pytest.mark.parametrize(("frames", "fps", "message"), [
    (np.zeros((2, 8, 8), np.uint8), 16.0, r"\(T, H, W, 3\) uint8"),
    (np.zeros((2, 8, 8, 3), np.float32), 16.0, r"\(T, H, W, 3\) uint8"),
    (np.zeros((2, 8, 8, 3), np.uint8), 0.0, "fps 0.0 must be positive"),
])
def test_bad_frames_or_fps_are_refused(tmp_path, frames, fps, message) -> None:
    with pytest.raises(ValueError, match=message):
        video_file.write_video(frames, fps, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_frames_from_pngs_reads_rgb_in_order() -> None:
    frames = _frames(3)
    pngs = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    assert np.array_equal(video_file.frames_from_pngs(pngs), frames)
    with pytest.raises(ValueError, match="no frames"):
        video_file.frames_from_pngs([])
