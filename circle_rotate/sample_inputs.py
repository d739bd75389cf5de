"""The sample inputs the pack's workflows name (``circle_rotate/samples/inputs/``), and copying them into ComfyUI's
``input/`` folder, where Load Image and Load Video look for them.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

INPUTS_DIR = Path(__file__).resolve().parent / "samples" / "inputs"
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".mp4", ".webm", ".gif")


def sample_inputs() -> list[Path]:
    """The bundled sample files (images and videos, not the README), sorted by name."""
    return sorted(path for path in INPUTS_DIR.iterdir() if path.suffix.lower() in MEDIA_SUFFIXES)


def installed_comfyui(package_dir: Path = Path(__file__).resolve().parent) -> Path | None:
    """The ComfyUI this checkout sits in (``<ComfyUI>/custom_nodes/<pack>/circle_rotate``), or None."""
    custom_nodes = package_dir.parent.parent
    comfyui = custom_nodes.parent
    if custom_nodes.name == "custom_nodes" and (comfyui / "main.py").is_file():
        return comfyui
    return None


def input_dir_from(comfyui: str | Path | None, input_dir: str | Path | None) -> Path:
    """ComfyUI's input folder: ``input_dir`` if given, else ``<comfyui>/input``, else ``$COMFYUI_PATH/input``, else
    the input folder of the ComfyUI this pack is installed in.

    Raises:
        ValueError: none of these is known, or ``comfyui`` is not a ComfyUI checkout (no main.py); the message
            names the option that fixes it.
    """
    if input_dir is not None:
        return Path(input_dir).expanduser()
    if comfyui is None and os.environ.get("COMFYUI_PATH"):
        comfyui = os.environ["COMFYUI_PATH"]
    if comfyui is None:
        found = installed_comfyui()
        if found is None:
            raise ValueError("give --comfyui PATH (a ComfyUI checkout) or --input-dir DIR (its input folder), "
                             "or set COMFYUI_PATH")
        return found / "input"
    root = Path(comfyui).expanduser()
    if not (root / "main.py").is_file():
        raise ValueError(f"--comfyui {str(root)!r} is not a ComfyUI checkout (no main.py there); fix the path")
    return root / "input"


def copy_samples(target: Path, force: bool = False) -> list[tuple[Path, str]]:
    """Copy every sample file into ``target`` (created if missing).

    Args:
        target: ComfyUI's input folder.
        force: replace a different file that has a sample's name (by default it is kept).

    Returns:
        (destination, status) per sample: "copied", "present" (an identical file was there), "replaced", or
        "kept" (a different file of that name was there and ``force`` is False).

    Raises:
        OSError: ``target`` cannot be created or written.
    """
    target.mkdir(parents=True, exist_ok=True)
    results = []
    for source in sample_inputs():
        destination = target / source.name
        exists = destination.exists()
        if exists and filecmp.cmp(source, destination, shallow=False):
            results.append((destination, "present"))
            continue
        if exists and not force:
            results.append((destination, "kept"))
            continue
        partial = destination.with_name(destination.name + ".part")
        shutil.copyfile(source, partial)
        os.replace(partial, destination)
        results.append((destination, "replaced" if exists else "copied"))
    return results
