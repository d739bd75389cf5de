"""Subject masks from an .npz file into a native MASK batch (the format ``circle-rotate eval --masks`` reads).

Only files inside ComfyUI's input folder are read: the name is joined to the folder, every symbolic link is
resolved, and the result must be an existing ``.npz`` file inside the (resolved) folder. Every refused name
(absolute, ``../``, a link pointing outside, a folder, a file that does not exist) gets the same message, so the
answer tells nothing about what exists outside. The node has no ``validate_inputs``: ComfyUI's own check that the
value is one of the listed files applies before anything runs.
"""

from __future__ import annotations

import os

import folder_paths
import torch
from comfy_api.latest import io

from ..circle_rotate.masks import MASKS_KEY, load_masks

CATEGORY = "CircleRotate/metrics"
SUFFIX = ".npz"


def inside_input(masks_file: str) -> str | None:
    """The real path of ``masks_file`` when it names an existing .npz file inside ComfyUI's input folder, else None.

    Args:
        masks_file: a path relative to the input folder, as the node's list shows it.

    Returns:
        The resolved absolute path (symbolic links followed), or None for any name that does not resolve to an
        existing ``.npz`` file inside the resolved input folder (absolute paths, ``..``, links pointing outside,
        folders, missing files, names with a NUL byte).
    """
    if not masks_file or "\x00" in masks_file or not masks_file.endswith(SUFFIX):
        return None
    root = os.path.realpath(folder_paths.get_input_directory())
    path = os.path.realpath(os.path.join(root, masks_file))
    if os.path.commonpath([root, path]) != root or not os.path.isfile(path):
        return None
    return path


def resolve_masks_file(masks_file: str) -> str:
    """``inside_input``, or an error that is the same for every refused name.

    Raises:
        ValueError: naming the input and the fix, if ``masks_file`` is not an .npz file inside the input folder.
    """
    path = inside_input(masks_file)
    if path is None:
        raise ValueError(
            f"masks_file {masks_file!r} is not an .npz file in ComfyUI's input folder: put the .npz there (or in a "
            "sub-folder), refresh, and pick it from the list"
        )
    return path


def npz_files() -> list[str]:
    """The .npz files in ComfyUI's input folder and its sub-folders that ``inside_input`` accepts (links pointing
    outside are left out), as paths relative to it (sorted)."""
    root = folder_paths.get_input_directory()
    found = []
    for folder, _, names in os.walk(root):
        relative = (os.path.relpath(os.path.join(folder, name), root) for name in names if name.endswith(SUFFIX))
        found.extend(name for name in relative if inside_input(name) is not None)
    return sorted(found)


class LoadSubjectMasks(io.ComfyNode):
    """Reads (T, H, W) subject masks from an .npz in ComfyUI's input folder."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateLoadSubjectMasks",
            display_name="Load Subject Masks (Circle Rotate)",
            category=CATEGORY,
            description="Loads subject masks saved with numpy.savez (one (T, H, W) array, one mask per frame of "
            "the whole video, non-zero = subject), the file `circle-rotate eval --masks` reads, from ComfyUI's "
            "input folder (only files inside it: a path that leads outside, also through a link, is refused). "
            "Connect it to the masks input of the evaluate or subject-drift node: subject drift then needs no "
            "detector or segmenter.",
            inputs=[
                io.Combo.Input(
                    "masks_file", options=npz_files(),
                    tooltip="An .npz file in ComfyUI/input (or a sub-folder). Put the file there and refresh.",
                ),
                io.String.Input(
                    "key", default=MASKS_KEY,
                    tooltip="The array's name in the .npz (np.savez(path, masks=array) names it 'masks').",
                ),
            ],
            outputs=[
                io.Mask.Output("masks", tooltip="The masks as a native MASK batch (T, H, W), 1.0 = subject."),
                io.Int.Output("frames", tooltip="T, the number of masks (it must equal the video's frame count)."),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, masks_file: str, key: str) -> str:
        path = inside_input(masks_file)
        if path is None:  # execute refuses it; the fingerprint must not tell whether it exists
            return f"{masks_file}:{key}:refused"
        stat = os.stat(path)
        return f"{masks_file}:{key}:{stat.st_mtime_ns}:{stat.st_size}"

    @classmethod
    def execute(cls, masks_file: str, key: str) -> io.NodeOutput:
        masks = load_masks(resolve_masks_file(masks_file), "masks_file", key.strip() or MASKS_KEY)
        return io.NodeOutput(torch.from_numpy(masks).float(), len(masks))


NODES: list[type[io.ComfyNode]] = [LoadSubjectMasks]
