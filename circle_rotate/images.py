"""Image files for the core: one reader that turns every unreadable file into a ValueError naming the input.

Pillow raises ``UnidentifiedImageError`` for a file it cannot identify and ``OSError``/``SyntaxError``/``ValueError``
for a cut or damaged one. Once ultralytics is imported (the YOLO detector), it replaces ``PIL.Image.open`` for the
whole process with a wrapper that, for an unidentifiable file, tries to import the HEIF plugin ``pi_heif`` and raises
``ModuleNotFoundError`` where that is not installed. All of these mean the same to a caller: not an image that can be
read, so :data:`UNREADABLE` lists them together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

UNREADABLE = (OSError, SyntaxError, ValueError, ImportError)
"""Exceptions from opening or decoding an image file that mean it cannot be read (see the module docstring)."""


def read_image(path: str | Path, name: str) -> np.ndarray:
    """uint8 RGB (H, W, 3) pixels of the image file at ``path``.

    Args:
        path: the image file (png, jpg, webp, ...).
        name: how the user gave it (e.g. "--first", "first_frame", "first image"), for the error message.

    Raises:
        ValueError: naming ``name`` and the path: the file is missing, or it is not a readable image.
    """
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{name} '{path}' does not exist: give an image file (png, jpg, webp)")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except UNREADABLE as error:
        raise ValueError(
            f"{name} '{path}' is not a readable image ({type(error).__name__}: {error}): give a png, jpg or webp file"
        ) from None
