"""Cut, damaged and too-short input (circle_rotate.video): an error or a recorded warning naming the file and the
frame, never a silently shorter video."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from circle_rotate import suite, video
from fixtures.synthetic_video import sliding_square, write_video

SAMPLE_GIF = Path(video.__file__).parent / "samples" / "demo4_ours.gif"


def _cut(source: Path, target: Path, size: int) -> Path:
    target.write_bytes(source.read_bytes()[:size])
    return target


def test_the_first_50_kb_of_a_gif_are_refused_as_cut_naming_the_file_and_frame(tmp_path):
    cut = _cut(SAMPLE_GIF, tmp_path / "cut.gif", 50_000)
    with pytest.raises(ValueError, match=r"GIF '.*cut\.gif' is cut: .*after (\d+) decoded frames? \(frame \d+, the last") as caught:
        video.load_clip(cut, num_frames=0)
    decoded = int(re.search(r"after (\d+) decoded", str(caught.value)).group(1))
    assert 1 <= decoded < 32


def test_an_intact_gif_is_accepted(tmp_path):
    path = write_video(sliding_square(4, 1.0).frames, tmp_path / "whole.gif")
    assert video.load_clip(path, num_frames=0).total_frames == 4


@pytest.fixture
def whole_mp4(tmp_path) -> Path:
    """A 40-frame lossy mp4 with its index at the front (so a cut file still opens)."""
    return write_video(sliding_square(40, 1.0, size=128, side=20).frames, tmp_path / "whole.mp4", crf=23)


def test_an_mp4_cut_mid_file_is_an_error_naming_the_file_and_the_frame(tmp_path, whole_mp4):
    cut = _cut(whole_mp4, tmp_path / "cut.mp4", whole_mp4.stat().st_size // 2)
    with pytest.raises(ValueError, match=r"video '.*cut\.mp4' is damaged or cut: decoding failed at frame (\d+) \(\1 frames decoded of the 40 the container declares") as caught:
        video.load_clip(cut, num_frames=16)
    assert "Invalid data" in str(caught.value) and not str(caught.value).startswith("[Errno")


def test_an_mp4_that_ends_before_its_declared_frames_carries_a_warning(tmp_path, whole_mp4):
    assert video.load_clip(whole_mp4, num_frames=16).decode_warning is None
    cut = _cut(whole_mp4, tmp_path / "cut.mp4", int(whole_mp4.stat().st_size * 0.9))
    clip = video.load_clip(cut, num_frames=16)
    assert 2 <= clip.total_frames < 40
    assert clip.decode_warning == (
        f"video '{cut}': decoding ended after frame {clip.total_frames - 1} ({clip.total_frames} frames) although the "
        f"container declares 40: the file may be cut; the metrics use the {clip.total_frames} frames decoded"
    )
    np.testing.assert_array_equal(clip.indices, np.linspace(0, clip.total_frames - 1, 16, dtype=int))
    report = suite.evaluate_file(cut, None, suite.SuiteOptions(metrics=("fidelity",), use_lpips=False))
    assert report["decode_warning"] == clip.decode_warning and report["total_frames"] == clip.total_frames


def test_an_image_folder_with_a_corrupt_png_names_the_file(tmp_path):
    folder = write_video(sliding_square(5, 1.0, size=64, side=16).frames, tmp_path / "frames")
    broken = folder / "frame_00003.png"
    broken.write_bytes(broken.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"image '.*frame_00003\.png' \(frame 3 of folder '.*frames'\) cannot be read"):
        video.load_clip(folder, num_frames=0)


def test_an_image_folder_with_a_frame_of_another_size_names_the_file(tmp_path):
    from PIL import Image

    folder = write_video(sliding_square(3, 1.0, size=64, side=16).frames, tmp_path / "frames")
    Image.new("RGB", (32, 64)).save(folder / "frame_00001.png")
    with pytest.raises(ValueError, match=r"image '.*frame_00001\.png' \(frame 1 .*\) is 32x64, the folder's first image 64x64"):
        video.load_clip(folder, num_frames=0)


ONE_FRAME = "{}: 1 frame given; the metrics need a video of at least 2 frames (they compare frames): give a longer video"


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ""])
def test_a_one_frame_video_is_refused_by_the_core_with_the_shared_message(tmp_path, suffix):
    path = write_video(sliding_square(1, 1.0, size=64, side=16).frames, tmp_path / f"one{suffix}")
    with pytest.raises(ValueError) as caught:
        suite.evaluate_file(path, None, suite.SuiteOptions(metrics=("motion", "fidelity")))
    assert str(caught.value) == ONE_FRAME.format(f"video '{path}'")


def test_one_frame_in_memory_is_refused_with_the_same_message_as_the_node():
    frame = sliding_square(1, 1.0, size=64, side=16).frames
    with pytest.raises(ValueError) as caught:
        video.clip_from_array(frame, fps=16, source="images")
    assert str(caught.value) == ONE_FRAME.format("images")
    with pytest.raises(ValueError) as direct:
        video.require_frames(1, "images")  # what nodes/metrics.py calls before evaluating
    assert str(direct.value) == str(caught.value)
    video.require_frames(2, "images")


def test_the_node_refuses_one_frame_through_the_core_check():
    source = (Path(video.__file__).parents[1] / "nodes" / "metrics.py").read_text(encoding="utf-8")
    assert 'video.require_frames(len(frames), "images")' in source
    assert "at least 2 frames" not in source


def test_the_cli_records_the_same_refusal_for_a_one_frame_video(tmp_path):
    import argparse
    import json

    from circle_rotate.commands import eval as eval_command

    path = write_video(sliding_square(1, 1.0, size=64, side=16).frames, tmp_path / "one.mp4")
    out = tmp_path / "r.json"
    parser = argparse.ArgumentParser()
    eval_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["eval", str(path), "--metrics", "motion,fidelity", "--no-lpips", "--output", str(out)])
    assert args.run(args) == 1
    assert json.loads(out.read_text())["errors"] == {"video": ONE_FRAME.format(f"video '{path}'")}
