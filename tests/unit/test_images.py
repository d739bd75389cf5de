"""The core image reader: every unreadable file is a ValueError naming the input, also after ultralytics has
replaced ``PIL.Image.open`` for the whole process (its wrapper raises ModuleNotFoundError for pi_heif instead of
Pillow's UnidentifiedImageError when the HEIF plugin is not installed)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from circle_rotate.images import read_image


def test_reads_rgb_pixels(tmp_path) -> None:
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png", "--first"), pixels)


def test_a_missing_file_names_the_input(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"--first '.*gone.png' does not exist"):
        read_image(tmp_path / "gone.png", "--first")


@pytest.mark.parametrize("ultralytics_loaded", [False, True])
def test_a_file_that_is_no_image_names_the_input(tmp_path, monkeypatch, ultralytics_loaded: bool) -> None:
    if ultralytics_loaded:
        from ultralytics.utils import patches

        monkeypatch.setattr(Image, "open", patches.image_open)
        monkeypatch.setattr(patches, "_pil_plugins_registered", False, raising=False)
    path = tmp_path / "masks.npz"
    np.savez(path, masks=np.zeros((2, 3, 3), bool))
    with pytest.raises(ValueError, match=r"last_frame '.*masks.npz' is not a readable image"):
        read_image(path, "last_frame")


def test_a_cut_image_names_the_input(tmp_path) -> None:
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"first image '.*cut.jpg' is not a readable image"):
        read_image(tmp_path / "cut.jpg", "first image")
