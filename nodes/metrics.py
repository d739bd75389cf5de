"""Metric nodes: one node per metric family and an all-in-one evaluate node, thin adapters of ``circle_rotate.suite``.

Each node takes IMAGE frames (float RGB in [0, 1], (N, H, W, 3)), their frame rate, the metric-model bundle
(optional: without it the model-based metrics report an error and the others still run), and where the family
uses them a subject MASK batch and the conditioning first/last images. It returns ``CIRCLE_ROTATE_METRICS``: the
core suite's report dict with only the requested families filled in (``errors`` says what could not run). Feed
one or several of them to the report node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from comfy_api.latest import io

from ..circle_rotate import suite, video
from .progress import StageProgress
from .types import MetricModels, Metrics

CATEGORY = "CircleRotate/metrics"


def require_finite(tensor: torch.Tensor, name: str) -> None:
    """Refuse NaN and ±inf in an IMAGE or MASK input (clamping would turn them into plausible pixels).

    Args:
        tensor: the input, batch first.
        name: the input's name, for the message.

    Raises:
        ValueError: naming the input, how many values are not finite, in how many of its frames, and the first.
    """
    bad = ~torch.isfinite(tensor.detach())
    count = int(bad.sum())
    if count:
        per_frame = bad.reshape(bad.shape[0], -1).any(dim=1) if bad.ndim > 1 else bad
        frames = torch.nonzero(per_frame).flatten().tolist()
        raise ValueError(
            f"{name} contains {count} non-finite values (NaN/inf) in {len(frames)} of {len(per_frame)} frames (first: "
            f"frame {frames[0]}): the metrics would read them as plausible pixels. Fix the node that produced them "
            "(e.g. a VAE decoding in fp16 that overflowed: try --fp32-vae or another VAE dtype) before evaluating."
        )


def frames_to_uint8(images: torch.Tensor, name: str = "images") -> np.ndarray:
    """uint8 RGB (N, H, W, 3) from a ComfyUI IMAGE batch, rounding as the core suite does.

    Args:
        images: IMAGE tensor, float in [0, 1], (N, H, W, 3) (or (H, W, 3) for one image).
        name: the input's name, for error messages.

    Returns:
        A numpy uint8 array (N, H, W, 3).

    Raises:
        ValueError: the tensor is not an RGB image batch, or holds NaN or ±inf (``require_finite``).
    """
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"{name}: IMAGE of shape {tuple(images.shape)}, expected (N, H, W, 3) RGB; "
            "drop an alpha channel or convert the images to RGB first"
        )
    require_finite(images, name)
    return (images.detach().float().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu().numpy()


def masks_to_bool(masks: torch.Tensor, frames: np.ndarray) -> np.ndarray:
    """(N, H, W) bool subject masks (value > 0.5) for every frame of ``frames``.

    Raises:
        ValueError: one mask per frame of the frames' size is not what was given, or the masks hold NaN or ±inf.
    """
    if masks.ndim == 2:
        masks = masks.unsqueeze(0)
    require_finite(masks, "masks")
    expected = frames.shape[:3]
    if tuple(masks.shape) != tuple(expected):
        raise ValueError(
            f"masks: MASK of shape {tuple(masks.shape)} for {expected[0]} frames of {expected[2]}x{expected[1]}: "
            "give one mask per frame, of the frames' size (resize or repeat the mask batch first)"
        )
    return (masks.detach().float().cpu().numpy() > 0.5)


def _first_image(image: torch.Tensor | None, name: str) -> np.ndarray | None:
    return None if image is None else frames_to_uint8(image, name)[0]


def evaluate(
    families: tuple[str, ...],
    images: torch.Tensor,
    fps: float,
    num_frames: int,
    models: object | None = None,
    masks: torch.Tensor | None = None,
    first_image: torch.Tensor | None = None,
    last_image: torch.Tensor | None = None,
    use_lpips: bool = True,
    label: str = "",
    horizontal_fov: float = 0.0,
) -> dict:
    """Run the core suite on an IMAGE batch for the given metric families.

    Args:
        families: metric families (``suite.METRIC_FAMILIES`` names).
        images: the frames (IMAGE).
        fps: their frame rate (> 0).
        num_frames: frames sampled by the original's linspace (0 = all).
        models: the metric-model bundle, or None.
        masks: subject MASK batch, one per frame, or None (then the bundle's detector and segmenter are used).
        first_image, last_image: conditioning images (IMAGE; the first of each batch is used), or None.
        use_lpips: compute LPIPS in the fidelity family.
        label: the report's ``video`` field (default: "IMAGE input").
        horizontal_fov: the camera's horizontal field of view for the orbit metric in degrees, 0 = auto (estimated
            from the video).

    Returns:
        The report dict (see ``circle_rotate/report.py``).

    Progress: ComfyUI's progress bar advances once per stage (the decode, then each family), and each stage
    starts with ComfyUI's interrupt check (``progress.StageProgress``).

    Raises:
        ValueError: bad frames, masks, fps or horizontal_fov, or NaN/inf in an IMAGE or MASK input (the message
            names the input).
        comfy.model_management.InterruptProcessingException: the user interrupted the run.
    """
    if fps <= 0:
        raise ValueError(f"fps={fps}: the frame rate must be positive; connect GetVideoComponents' fps or type it")
    frames = frames_to_uint8(images)
    video.require_frames(len(frames), "images")  # the core's check and message: the CLI refuses the same way
    conditioning = suite.Conditioning(_first_image(first_image, "first_image"), _first_image(last_image, "last_image"))
    if horizontal_fov != 0 and not 1.0 <= horizontal_fov <= 170.0:
        raise ValueError(f"horizontal_fov={horizontal_fov:g}: give 0 (auto: estimated from the video) or degrees in [1, 170]")
    options = suite.SuiteOptions(
        metrics=families, num_frames=num_frames, use_lpips=use_lpips, horizontal_fov=horizontal_fov or None
    )
    progress = StageProgress(1 + len(families))  # the decode, then each family
    report = suite.evaluate_frames(
        frames,
        fps,
        models,
        options,
        masks=None if masks is None else masks_to_bool(masks, frames),
        conditioning=conditioning,
        source=label or "IMAGE input",
        progress=progress,
    )
    progress.finish()
    return report


def _common_inputs() -> list[io.Input]:
    return [
        io.Image.Input("images", tooltip="The video frames to evaluate (IMAGE batch, e.g. from VAEDecode or GetVideoComponents)."),
        io.Float.Input(
            "fps", default=16.0, min=0.1, max=240.0, step=0.1,
            tooltip="Frame rate of the frames (Wan2.2 generates 16 fps). Connect GetVideoComponents' fps when evaluating a file.",
        ),
        io.Int.Input(
            "num_frames", default=16, min=0, max=4096,
            tooltip="Frames sampled evenly (np.linspace, as the original scripts) for the per-frame metrics; 0 = all frames.",
        ),
        MetricModels.Input(
            "models", optional=True,
            tooltip="Metric models from the metric-models loader. Without it the model-based metrics are reported as errors.",
        ),
    ]


def _masks_input() -> io.Input:
    return io.Mask.Input(
        "masks", optional=True,
        tooltip="Subject masks, one per frame (value > 0.5 = subject). When given, no detector/segmenter is needed.",
    )


def _conditioning_inputs() -> list[io.Input]:
    return [
        io.Image.Input("first_image", optional=True, tooltip="The conditioning first image the video was generated from."),
        io.Image.Input("last_image", optional=True, tooltip="The conditioning last image the video was generated from."),
    ]


def _lpips_input() -> io.Input:
    return io.Boolean.Input("use_lpips", default=True, tooltip="Compute LPIPS (AlexNet) besides PSNR and SSIM.")


def _fov_input() -> io.Input:
    return io.Float.Input(
        "horizontal_fov", default=0.0, min=0.0, max=170.0, step=0.5, optional=True,
        tooltip="Horizontal field of view of the camera for the orbit metric, degrees. 0 = auto: estimated from the "
        "video (self-calibration), 60 assumed with a note when the camera motion does not fix it.",
    )


def _label_input() -> io.Input:
    return io.String.Input("label", default="", tooltip="Name of this clip in the report (e.g. 'with LoRA'); empty = 'IMAGE input'.")


@dataclass(frozen=True)
class Family:
    """What a per-family node looks like: its id, names and the extra inputs its metric uses."""

    family: str
    node_id: str
    display_name: str
    description: str
    masks: bool = False
    conditioning: bool = False
    lpips: bool = False
    fov: bool = False


FAMILIES = (
    Family(
        "subject_drift", "CircleRotateSubjectDrift", "Subject Drift (Circle Rotate)",
        "Where the subject's mask centre goes: speed (px per frame), drift std (the original's 'drift', px), max "
        "deviation, each also relative to the image diagonal, detection rate, subject and global Farneback flow. "
        "Masks come from the MASK input or from the detector + segmenter of the metric models.",
        masks=True,
    ),
    Family(
        "clip_i", "CircleRotateClipI", "CLIP-I (Circle Rotate)",
        "CLIP image similarity: first vs last frame, mean similarity to the first frame (with and without frame 0), "
        "consecutive-frame similarity, and first/last frames vs the conditioning images when given.",
        conditioning=True,
    ),
    Family(
        "fidelity", "CircleRotateFidelity", "Fidelity (Circle Rotate)",
        "PSNR, SSIM and LPIPS: the original's generated-first vs generated-last frame, and the conditioning images "
        "vs the generated first/last frames when given.",
        conditioning=True, lpips=True,
    ),
    Family(
        "subject_consistency", "CircleRotateSubjectConsistency", "Subject Consistency (Circle Rotate)",
        "DINO subject consistency: the official VBench definition (all frames) and the original's variant "
        "(sampled frames, Resize 256 + CenterCrop 224), under distinct names.",
    ),
    Family(
        "motion", "CircleRotateMotion", "Motion (Circle Rotate)",
        "The original's motion magnitude (Farneback, px/frame) and frame-difference ratio, and VBench's RAFT "
        "dynamic degree when RAFT weights are loaded.",
    ),
    Family(
        "orbit", "CircleRotateOrbit", "Orbit Camera (Circle Rotate)",
        "Orbit direction (left/right/none) from the camera geometry and the parallax, with a confidence; the swept "
        "yaw angle; the field of view (given, or estimated from the video); look-at stability when masks are given; "
        "angular-speed variation and backtracks. Needs no model.",
        masks=True, fov=True,
    ),
    Family(
        "colour", "CircleRotateColourDrift", "Colour Drift (Circle Rotate)",
        "CIEDE2000 colour difference (sRGB D65 -> CIELAB) of each sampled frame against the first frame, of the "
        "mean colour (the colour cast drifting) and per pixel (includes motion); the frame with the largest shift; "
        "and the generated first/last frames against the conditioning images when given. Needs no model.",
        conditioning=True,
    ),
)


def _family_node(spec: Family) -> type[io.ComfyNode]:
    """A node class running one metric family."""

    class FamilyNode(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            inputs = _common_inputs()
            if spec.masks:
                inputs.append(_masks_input())
            if spec.conditioning:
                inputs.extend(_conditioning_inputs())
            if spec.lpips:
                inputs.append(_lpips_input())
            inputs.append(_label_input())
            if spec.fov:
                inputs.append(_fov_input())
            return io.Schema(
                node_id=spec.node_id,
                display_name=spec.display_name,
                category=CATEGORY,
                description=spec.description,
                inputs=inputs,
                outputs=[Metrics.Output("metrics", tooltip=f"The {spec.family} results (and errors); connect to the report node.")],
            )

        @classmethod
        def execute(cls, images: torch.Tensor, fps: float, num_frames: int, label: str, **optional: object) -> io.NodeOutput:
            return io.NodeOutput(evaluate((spec.family,), images, fps, num_frames, label=label, **optional))

    FamilyNode.__name__ = FamilyNode.__qualname__ = spec.node_id
    FamilyNode.__doc__ = spec.description
    return FamilyNode


class Evaluate(io.ComfyNode):
    """All metric families in one pass over the frames (shared decode, flows and models)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateEvaluate",
            display_name="Evaluate Orbit Video (Circle Rotate)",
            category=CATEGORY,
            description="Runs the whole metric suite (subject drift, CLIP-I, fidelity, subject consistency, motion, "
            "orbit, colour drift) over the frames in one pass. Metrics whose models are missing are reported under 'errors'; the "
            "others still run. Connect the output to the report node.",
            inputs=[*_common_inputs(), _masks_input(), *_conditioning_inputs(), _lpips_input(), _label_input(), _fov_input()],
            outputs=[Metrics.Output("metrics", tooltip="The full report (and errors); connect to the report or A/B node.")],
        )

    @classmethod
    def execute(cls, images: torch.Tensor, fps: float, num_frames: int, use_lpips: bool, label: str, **optional: object) -> io.NodeOutput:
        return io.NodeOutput(evaluate(suite.METRIC_FAMILIES, images, fps, num_frames, use_lpips=use_lpips, label=label, **optional))


NODES: list[type[io.ComfyNode]] = [Evaluate, *(_family_node(spec) for spec in FAMILIES)]
