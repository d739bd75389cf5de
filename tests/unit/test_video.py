"""Video decoding, sampling and repeated-frame detection (circle_rotate.video)."""

from __future__ import annotations

import numpy as np
import pytest

from circle_rotate import video
from fixtures.synthetic_video import moving_disc, repeat_frames, write_video


def _disc_video(frames: int = 33):
    t = np.arange(frames)
    return moving_disc(np.stack([30 + 2 * t, 20 + t], axis=1).astype(float))


@pytest.mark.parametrize("total,num,expected", [(81, 16, np.linspace(0, 80, 16, dtype=int)), (10, 0, np.arange(10)), (10, 10, np.arange(10)), (5, 16, np.arange(5)), (1, 16, [0])])
def test_sample_indices_follow_the_original_linspace(total, num, expected):
    np.testing.assert_array_equal(video.sample_indices(total, num), expected)


def test_sample_indices_reject_bad_input():
    with pytest.raises(ValueError, match="0 frames"):
        video.sample_indices(0, 16)
    with pytest.raises(ValueError, match="num_frames=-1"):
        video.sample_indices(10, -1)


@pytest.mark.parametrize("suffix,tolerance", [(".mp4", 1.0), (".webm", 1.0), ("", 0.0)])
def test_load_clip_samples_frames_of_each_container(tmp_path, suffix, tolerance):
    source = _disc_video()
    path = write_video(source.frames, tmp_path / f"clip{suffix}", fps=16)
    clip = video.load_clip(path, num_frames=16)
    expected = np.linspace(0, 32, 16, dtype=int)
    np.testing.assert_array_equal(clip.indices, expected)
    assert clip.frames.shape == (16, 96, 128, 3) and clip.frames.dtype == np.uint8
    assert (clip.total_frames, clip.width, clip.height, clip.fps) == (33, 128, 96, 16.0)
    assert np.abs(clip.frames.astype(int) - source.frames[expected]).mean() <= tolerance
    assert clip.repeated_frames == 0


def test_load_clip_all_frames_and_visitors_see_every_frame_once(tmp_path):
    source = _disc_video(12)
    path = write_video(source.frames, tmp_path / "frames")
    seen = []

    class Recorder:
        def visit(self, index, frame):
            seen.append((index, frame.copy()))

    clip = video.load_clip(path, num_frames=0, visitors=[Recorder()])
    assert [i for i, _ in seen] == list(range(12))
    np.testing.assert_array_equal(np.stack([f for _, f in seen]), source.frames)
    np.testing.assert_array_equal(clip.frames, source.frames)


def test_repeated_frames_of_a_gif_are_detected_and_mapped(tmp_path):
    source = _disc_video(16)
    path = write_video(repeat_frames(source.frames, 2), tmp_path / "twice.gif", fps=16)
    clip = video.load_clip(path, num_frames=0)
    assert clip.total_frames == 32
    assert clip.repeated_frames == 16
    np.testing.assert_array_equal(clip.distinct_index, np.arange(32) // 2)
    sampled = video.load_clip(path, num_frames=16)
    np.testing.assert_array_equal(sampled.sampled_distinct_index, np.linspace(0, 31, 16, dtype=int) // 2)


def test_clip_from_array_converts_comfy_float_images():
    frames = _disc_video(9).frames
    clip = video.clip_from_array(frames.astype(np.float32) / 255.0, fps=16, num_frames=4, source="node")
    np.testing.assert_array_equal(clip.indices, [0, 2, 5, 8])
    np.testing.assert_array_equal(clip.frames, frames[[0, 2, 5, 8]])
    assert (clip.source, clip.total_frames, clip.repeated_frames) == ("node", 9, 0)


@pytest.mark.parametrize("frames,fps,match", [(np.zeros((2, 4, 4), np.uint8), 16, "expected \\(T, H, W, 3\\)"), (np.zeros((2, 4, 4, 3), np.uint8), 0, "fps=0"), (np.zeros((2, 4, 4, 3), np.int32), 16, "dtype int32")])
def test_clip_from_array_rejects_bad_input(frames, fps, match):
    with pytest.raises(ValueError, match=match):
        video.clip_from_array(frames, fps)


def test_load_clip_names_a_missing_or_broken_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        video.load_clip(tmp_path / "nope.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot be opened"):
        video.load_clip(broken)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no"):
        video.load_clip(tmp_path / "empty")


def test_a_wrong_container_frame_count_is_corrected_by_a_second_pass(tmp_path, monkeypatch):
    source = _disc_video(20)
    path = write_video(source.frames, tmp_path / "clip.mp4")
    real_open = video._open_video
    monkeypatch.setattr(video, "_open_video", lambda p: (lambda fps, total, c: (fps, total + 7, c))(*real_open(p)))
    seen = []

    class Counter:
        def visit(self, index, frame):
            seen.append(index)

    clip = video.load_clip(path, num_frames=5, visitors=[Counter()])
    np.testing.assert_array_equal(clip.indices, np.linspace(0, 19, 5, dtype=int))
    assert clip.total_frames == 20 and seen == list(range(20))  # visitors saw each frame once
    assert np.abs(clip.frames.astype(int) - source.frames[clip.indices]).mean() < 1.0
