"""Subject masks from an .npz file: the format ``circle-rotate eval --masks`` and the ComfyUI mask loader read.

An .npz (``numpy.savez``) holding one array, by default under the key ``masks``: (T, H, W), one mask per frame of
the video (all T frames, not only the sampled ones), any dtype; a pixel belongs to the subject where the value is
non-zero (bool True, or > 0 for numbers).

A video's masks file is found by name: ``<video stem>.masks.npz`` (``find_masks``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

MASKS_KEY = "masks"
MASKS_SUFFIX = ".masks.npz"


def masks_name(video: str | Path) -> str:
    """The file name the masks of ``video`` are found under: ``<video stem>.masks.npz`` (``clip.mp4`` -> ``clip.masks.npz``)."""
    return Path(video).stem + MASKS_SUFFIX


def find_masks(video: str | Path, masks_dir: str | Path | None = None) -> Path | None:
    """The masks file of ``video``, found by name, or None when there is none.

    Args:
        video: the video file (or image folder) the masks belong to.
        masks_dir: where to look; None looks beside the video.

    Returns:
        ``masks_dir / "<stem>.masks.npz"`` (or the same name beside the video) when that file exists, else None.
        Only the name is checked here; ``load_masks`` reads and checks the file.
    """
    video = Path(video)
    folder = Path(masks_dir) if masks_dir is not None else video.parent
    candidate = folder / masks_name(video)
    return candidate if candidate.is_file() else None


def load_masks(path: str | Path, source: str = "masks file", key: str = MASKS_KEY) -> np.ndarray:
    """(T, H, W) bool subject masks from the .npz at ``path``.

    Args:
        path: the .npz file.
        source: how the user named it (e.g. "--masks", "masks_file"), for error messages.
        key: the array's name in the file.

    Raises:
        ValueError: the file is missing or not an .npz, has no ``key``, or its array is not (T, H, W).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{source} '{path}' does not exist: give an .npz file holding '{key}' (T, H, W) bool")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:  # ValueError: numpy refusing a pickle
        raise ValueError(f"{source} '{path}' is not a readable .npz file ({error}): save it with np.savez") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError(f"{source} '{path}' holds a bare array (.npy), not an .npz: save it with np.savez(path, {key}=array)")
    with loaded:
        if key not in loaded.files:
            raise ValueError(
                f"{source} '{path}' holds {sorted(loaded.files)}, not '{key}': save it with np.savez(path, {key}=array)"
            )
        masks = loaded[key]
    if masks.ndim != 3:
        raise ValueError(f"{source} '{path}': '{key}' has shape {masks.shape}, expected (T, H, W), one mask per frame")
    return masks.astype(bool)
