"""circle_rotate.masks.load_masks: the .npz masks format of the CLI and the mask-loader node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from circle_rotate.masks import find_masks, load_masks


def test_any_dtype_becomes_bool_non_zero_is_subject(tmp_path: Path) -> None:
    values = np.array([[[0, 1], [2, 0]], [[0, 0], [0, 255]]], dtype=np.uint8)
    np.savez(tmp_path / "m.npz", masks=values)
    np.savez(tmp_path / "f.npz", subject=values.astype(np.float32) / 255)

    masks = load_masks(tmp_path / "m.npz")

    assert masks.dtype == bool and masks.tolist() == [[[False, True], [True, False]], [[False, False], [False, True]]]
    np.testing.assert_array_equal(load_masks(tmp_path / "f.npz", key="subject"), masks)


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda path: None, r"--masks '.*m.npz' does not exist: give an .npz file holding 'masks'"),
        (lambda path: np.savez(path, other=np.zeros((1, 2, 2))), r"holds \['other'\], not 'masks': save it with np.savez\(path, masks=array\)"),
        (lambda path: np.savez(path, masks=np.zeros((2, 2))), r"'masks' has shape \(2, 2\), expected \(T, H, W\)"),
        (lambda path: path.write_text("not a zip"), r"is not a readable .npz file"),
        (lambda path: np.save(path, np.zeros((1, 2, 2))), r"holds a bare array \(.npy\), not an .npz"),
    ],
    ids=["missing", "wrong key", "wrong rank", "not npz", "bare npy"],
)
def test_bad_files_name_the_source_and_the_fix(tmp_path: Path, write, message: str) -> None:
    path = tmp_path / "m.npz"
    write(path)
    if path.with_suffix(".npz.npy").exists():  # np.save appends .npy
        path.with_suffix(".npz.npy").rename(path)
    with pytest.raises(ValueError, match=message):
        load_masks(path, "--masks")


def test_find_masks_beside_the_video_or_in_a_masks_dir(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    other = tmp_path / "masks"
    other.mkdir()

    assert find_masks(video) is None
    np.savez(tmp_path / "clip.masks.npz", masks=np.zeros((1, 2, 2), bool))
    assert find_masks(video) == tmp_path / "clip.masks.npz"
    assert find_masks(video, other) is None  # a masks dir looks only there
    np.savez(other / "clip.masks.npz", masks=np.zeros((1, 2, 2), bool))
    assert find_masks(video, other) == other / "clip.masks.npz"
    assert find_masks(tmp_path / "other.mp4") is None  # another stem
