"""Repeated-frame detection (circle_rotate.repeats, through circle_rotate.video) against exact ground truth."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from circle_rotate import repeats, suite, video
from fixtures.synthetic_video import repeat_frames, sliding_square, write_video

SAMPLE_GIF = Path(video.__file__).parent / "samples" / "demo4_ours.gif"


def _decoded(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def _exact_distinct(frames: np.ndarray) -> np.ndarray:
    """Independent ground truth for lossless files: a repeat is bit-identical to its predecessor."""
    same = [np.array_equal(frames[i], frames[i - 1]) for i in range(1, len(frames))]
    return np.concatenate([[0], np.cumsum(np.logical_not(same))]).astype(np.int64)


def test_frame_change_is_the_largest_run_mean_edges_included():
    previous = np.zeros((20, 21), np.float32)
    current = previous.copy()
    current[0, 0] = 64.0  # one pixel in a full 16-pixel row run and column run: 64 / 16
    assert repeats.frame_change(previous, current) == pytest.approx(4.0)
    current[17, 20] = 30.0  # the last run of column 20 has 4 pixels (rows 16-19): 30 / 4; of row 17, 5 pixels: 30 / 5
    assert repeats.frame_change(previous, current) == pytest.approx(7.5)
    with pytest.raises(ValueError, match="same size"):
        repeats.frame_change(previous, current[:, :20])


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("suffix,crf", [("", None), (".mp4", 23)])
@pytest.mark.parametrize("flat_contrast", [None, 32])
def test_a_small_subject_sliding_on_a_static_frame_is_never_a_repeat(tmp_path, speed, suffix, crf, flat_contrast):
    # 40x40 subject (textured, or flat grey 132 on 100) on a 256x256 static frame: the global-mean test called
    # 16 of 17 such frames repeats
    scene = sliding_square(17, speed, flat_contrast=flat_contrast)
    path = write_video(scene.frames, tmp_path / f"slide{suffix}", crf=crf)
    report = suite.evaluate_file(path, None, suite.SuiteOptions(metrics=("subject_drift",), num_frames=0), masks=scene.masks)
    assert report["repeated_frames"] == 0
    assert report["subject_drift"]["speed_px_per_distinct_frame"] == pytest.approx(speed, abs=1e-9)
    assert report["subject_drift"]["speed_px_per_frame"] == pytest.approx(speed, abs=1e-9)


@pytest.mark.parametrize("times", [2, 3])
def test_gifs_that_repeat_every_frame_map_each_frame_to_its_distinct_frame(tmp_path, times):
    scene = sliding_square(9, 2.0)
    path = write_video(repeat_frames(scene.frames, times), tmp_path / "repeats.gif")
    clip = video.load_clip(path, num_frames=0)
    np.testing.assert_array_equal(clip.distinct_index, np.arange(9 * times) // times)
    assert clip.repeated_frames == 9 * (times - 1)
    masks = np.repeat(scene.masks, times, axis=0)
    report = suite.evaluate_file(path, None, suite.SuiteOptions(metrics=("subject_drift",), num_frames=0), masks=masks)
    assert report["subject_drift"]["speed_px_per_distinct_frame"] == pytest.approx(2.0, abs=1e-9)
    # per original frame: 8 steps of 2 px spread over 9 * times - 1 frame pairs
    assert report["subject_drift"]["speed_px_per_frame"] == pytest.approx(16.0 / (9 * times - 1), abs=1e-9)


@pytest.mark.parametrize("crf", [23, 28])
def test_repeats_with_codec_noise_are_still_repeats(tmp_path, crf):
    scene = sliding_square(9, 1.0)
    path = write_video(repeat_frames(scene.frames, 2), tmp_path / "repeats.mp4", crf=crf)
    decoded = _decoded(path)
    assert any(not np.array_equal(decoded[i], decoded[i + 1]) for i in range(0, 18, 2)), "the codec left no noise to test"
    clip = video.load_clip(path, num_frames=0)
    np.testing.assert_array_equal(clip.distinct_index, np.arange(18) // 2)


def test_the_bundled_demo_clip_has_its_15_true_repeats():
    clip = video.load_clip(SAMPLE_GIF, num_frames=0)
    truth = _exact_distinct(_decoded(SAMPLE_GIF))
    assert (clip.total_frames, clip.repeated_frames) == (32, 15)
    np.testing.assert_array_equal(clip.distinct_index, truth)


def test_the_original_demo_gifs_repeat_exactly_where_their_frames_are_identical(shared_dir):
    gifs = sorted((shared_dir / "upstream" / "demos").glob("*.gif"))
    assert gifs
    for path in gifs:
        clip = video.load_clip(path, num_frames=0)
        truth = _exact_distinct(_decoded(path))
        np.testing.assert_array_equal(clip.distinct_index, truth, err_msg=path.name)
        assert clip.repeated_frames == {32: 15, 51: 0}[clip.total_frames], path.name
