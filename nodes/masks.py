"""Subject masks from an .npz file into a native MASK batch (the format ``circle-rotate eval --masks`` reads)."""

from __future__ import annotations

import os

import folder_paths
import torch
from comfy_api.latest import io

from ..circle_rotate.masks import MASKS_KEY, load_masks

CATEGORY = "CircleRotate/metrics"
SUFFIX = ".npz"


def npz_files() -> list[str]:
    """The .npz files in ComfyUI's input folder and its sub-folders, as paths relative to it (sorted)."""
    root = folder_paths.get_input_directory()
    found = []
    for folder, _, names in os.walk(root):
        found.extend(os.path.relpath(os.path.join(folder, name), root) for name in names if name.endswith(SUFFIX))
    return sorted(found)


def _path(masks_file: str) -> str:
    return os.path.join(folder_paths.get_input_directory(), masks_file)


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
            "input folder. Connect it to the masks input of the evaluate or subject-drift node: subject drift then "
            "needs no detector or segmenter.",
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
    def validate_inputs(cls, masks_file: str, key: str) -> bool | str:
        if not os.path.isfile(_path(masks_file)):
            return f"masks_file '{masks_file}' is not in ComfyUI's input folder: put the .npz there and refresh"
        return True

    @classmethod
    def fingerprint_inputs(cls, masks_file: str, key: str) -> str:
        stat = os.stat(_path(masks_file))
        return f"{masks_file}:{key}:{stat.st_mtime_ns}:{stat.st_size}"

    @classmethod
    def execute(cls, masks_file: str, key: str) -> io.NodeOutput:
        masks = load_masks(_path(masks_file), "masks_file", key.strip() or MASKS_KEY)
        return io.NodeOutput(torch.from_numpy(masks).float(), len(masks))


NODES: list[type[io.ComfyNode]] = [LoadSubjectMasks]
