"""First/last-frame conditioning for Wan2.2 I2V: a resize policy and size checks in front of the native nodes.

The tensor work is ComfyUI's: this node calls ``WanFirstLastFrameToVideo``, ``WanFunInpaintToVideo`` or
``WanImageToVideo`` (``comfy_extras.nodes_wan``) with images already brought to the target size by the chosen
policy. With ``crop`` the images go to the native node untouched (it centre-crops itself), so the output is
identical to the native node's.
"""

from __future__ import annotations

import logging

import comfy.utils
import torch
from comfy_api.latest import io
from comfy_extras import nodes_wan

CATEGORY = "CircleRotate/conditioning"
MAX_SIZE = 16384
SIZE_MULTIPLE = 16
"""Width and height must be multiples of 16 (VAE stride 8 x patch size 2)."""
PAD_VALUE = 0.5
"""Padding colour (mid grey), the value Wan's conditioning nodes give frames they know nothing about."""

MODES = {
    "wan22_first_last": nodes_wan.WanFirstLastFrameToVideo,
    "fun_inpaint": nodes_wan.WanFunInpaintToVideo,
    "first_frame_only": nodes_wan.WanImageToVideo,
}
RESIZE_POLICIES = ("crop", "pad", "stretch")


_RULES = {"size": (SIZE_MULTIPLE, 0, SIZE_MULTIPLE), "length": (4, 1, 1)}
"""kind -> (step, offset, minimum): valid values are offset + k * step >= minimum."""


def nearest_valid(value: int, kind: str) -> tuple[int, int]:
    """The valid values nearest ``value`` below and above (equal when ``value`` is valid or below the minimum).

    Args:
        value: the given width/height (kind ``size``: multiples of 16) or length (kind ``length``: 4k+1).
        kind: ``size`` or ``length``.
    """
    step, offset, minimum = _RULES[kind]
    below = (value - offset) // step * step + offset
    above = below if below == value else below + step
    return max(below, minimum), max(above, minimum)


def check_or_fix(name: str, value: int, kind: str, fix_invalid: bool) -> int:
    """Return ``value`` if valid, else the nearest valid value (``fix_invalid``; ties round up) or raise.

    Raises:
        ValueError: naming the input, the value and the nearest valid values, when invalid and not fixed.
    """
    below, above = nearest_valid(value, kind)
    if below == above == value:
        return value
    rule = "a multiple of 16" if kind == "size" else "4k+1 frames (1, 5, 9, ..., 81)"
    nearest = f"the nearest valid value is {above}" if below == above else (
        f"the nearest valid values are {below} and {above}"
    )
    if not fix_invalid:
        raise ValueError(
            f"{name} {value} is not {rule}; {nearest}. Set {name} to a valid value, or turn on fix_invalid to round it."
        )
    fixed = below if value - below < above - value else above
    logging.warning("Circle Rotate First/Last Frame: %s %d is not %s; using %d.", name, value, rule, fixed)
    return fixed


def fit_image(image: torch.Tensor, width: int, height: int, policy: str) -> torch.Tensor:
    """Bring IMAGE frames (B, H, W, C in [0, 1]) to ``width`` x ``height`` by ``policy``.

    ``crop``: returned unchanged (the native node centre-crops to the target aspect, then resizes bilinearly).
    ``stretch``: resized bilinearly to the target, aspect not kept. ``pad``: resized bilinearly to fit inside the
    target, aspect kept, then centred on a mid-grey (0.5) canvas.

    Raises:
        ValueError: for an unknown policy.
    """
    if policy == "crop":
        return image
    channels_first = image.movedim(-1, 1)
    if policy == "stretch":
        return comfy.utils.common_upscale(channels_first, width, height, "bilinear", "disabled").movedim(1, -1)
    if policy != "pad":
        raise ValueError(f"resize {policy!r} is not one of {', '.join(RESIZE_POLICIES)}")
    old_height, old_width = image.shape[1], image.shape[2]
    scale = min(width / old_width, height / old_height)
    new_width = max(1, min(width, round(old_width * scale)))
    new_height = max(1, min(height, round(old_height * scale)))
    resized = comfy.utils.common_upscale(channels_first, new_width, new_height, "bilinear", "disabled").movedim(1, -1)
    canvas = torch.full((image.shape[0], height, width, image.shape[-1]), PAD_VALUE, dtype=image.dtype,
                        device=image.device)
    top, left = (height - new_height) // 2, (width - new_width) // 2
    canvas[:, top:top + new_height, left:left + new_width] = resized
    return canvas


class FirstLastFrameConditioning(io.ComfyNode):
    """Wan2.2 first/last-frame (or first-frame) conditioning with a resize policy and size checks."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateFirstLastFrame",
            display_name="First/Last Frame Conditioning (Circle Rotate)",
            category=CATEGORY,
            description="Builds the Wan2.2 image-to-video conditioning and the empty video latent from a first frame "
            "and an optional last frame by calling ComfyUI's own node for the chosen mode (WanFirstLastFrameToVideo, "
            "WanFunInpaintToVideo or WanImageToVideo). Both images are brought to width x height by the same resize "
            "policy. Width and height must be multiples of 16 and length 4k+1; with fix_invalid they are rounded "
            "to the nearest valid value, otherwise the node stops and says which input is wrong.",
            inputs=[
                io.Conditioning.Input("positive",
                                      tooltip="Positive text conditioning (e.g. from Orbit Prompt Encode)."),
                io.Conditioning.Input("negative", tooltip="Negative text conditioning (the original workflow uses an "
                                      "empty prompt)."),
                io.Vae.Input("vae", tooltip="The Wan2.1 VAE (wan_2.1_vae.safetensors) that encodes the frames."),
                io.Image.Input("start_image", tooltip="The first frame of the orbit."),
                io.Int.Input("width", default=720, min=SIZE_MULTIPLE, max=MAX_SIZE, step=SIZE_MULTIPLE,
                             tooltip="Video width in pixels, a multiple of 16 (the original workflow: 720)."),
                io.Int.Input("height", default=1280, min=SIZE_MULTIPLE, max=MAX_SIZE, step=SIZE_MULTIPLE,
                             tooltip="Video height in pixels, a multiple of 16 (the original workflow: 1280)."),
                io.Int.Input("length", default=81, min=1, max=MAX_SIZE, step=4,
                             tooltip="Number of frames, 4k+1 (the original workflow: 81, about 5 s at 16 fps)."),
                io.Int.Input("batch_size", default=1, min=1, max=4096, tooltip="Videos per run."),
                io.Combo.Input("mode", options=list(MODES), default="fun_inpaint",
                               tooltip="wan22_first_last: WanFirstLastFrameToVideo. fun_inpaint: WanFunInpaintToVideo "
                               "(the original Circle-Rotate workflow). first_frame_only: WanImageToVideo; the last "
                               "frame is ignored."),
                io.Combo.Input("resize", options=list(RESIZE_POLICIES), default="crop",
                               tooltip="How images of another size or aspect reach width x height. crop: centre crop "
                               "to the aspect, then resize (as the native nodes). pad: fit inside, mid-grey borders. "
                               "stretch: resize to the target, aspect not kept."),
                io.Boolean.Input("fix_invalid", default=False,
                                 tooltip="On: round a width/height that is not a multiple of 16, or a length that is "
                                 "not 4k+1, to the nearest valid value (logged). Off: stop with an error instead."),
                io.Image.Input("end_image", optional=True, tooltip="Optional last frame of the orbit."),
            ],
            outputs=[
                io.Conditioning.Output(display_name="positive",
                    tooltip="Positive conditioning with the encoded frames and mask."),
                io.Conditioning.Output(display_name="negative",
                    tooltip="Negative conditioning with the encoded frames and mask."),
                io.Latent.Output("latent", tooltip="Empty video latent of the target size for the sampler."),
            ],
        )

    @classmethod
    def execute(
        cls, positive: list, negative: list, vae: io.Vae.Type, start_image: torch.Tensor, width: int, height: int,
        length: int, batch_size: int, mode: str, resize: str, fix_invalid: bool, end_image: torch.Tensor | None = None,
    ) -> io.NodeOutput:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        width = check_or_fix("width", width, "size", fix_invalid)
        height = check_or_fix("height", height, "size", fix_invalid)
        length = check_or_fix("length", length, "length", fix_invalid)
        start = fit_image(start_image, width, height, resize)
        native = MODES[mode]
        if mode == "first_frame_only":
            if end_image is not None:
                logging.warning("Circle Rotate First/Last Frame: mode first_frame_only ignores end_image.")
            return native.execute(positive, negative, vae, width, height, length, batch_size, start_image=start)
        end = None if end_image is None else fit_image(end_image, width, height, resize)
        return native.execute(positive, negative, vae, width, height, length, batch_size, start_image=start,
                              end_image=end)


NODES: list[type[io.ComfyNode]] = [FirstLastFrameConditioning]
