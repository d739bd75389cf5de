"""The "Metric Models (Circle Rotate)" loader node: a lazy bundle of the metric suite's models.

Registers the model folders the metric weights live in with ComfyUI's ``folder_paths`` (``ultralytics_bbox`` ->
``models/ultralytics/bbox``, ``sams`` -> ``models/sams``, ``circle_rotate`` -> ``models/circle_rotate``; the first two
are the names other packs use for the same files), offers their files as combos, and outputs a
``CIRCLE_ROTATE_METRIC_MODELS`` socket carrying ``circle_rotate.weights.MetricModels``. Nothing is loaded here:
each model is loaded when a metric first needs it and cached per process, and a missing file is recorded in the
bundle (the metric that needs it reports it; the others run). The ``status`` output says up front which files
were found, and for each one that was not, where it was looked for and how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

import folder_paths
import numpy as np
import torch
from comfy_api.latest import io

from ..circle_rotate.metric_models.sam_segmenter import ATTENTION_CHOICES
from ..circle_rotate.weights import METRIC_KEYS, MetricModels, get_entry
from .types import MetricModels as MetricModelsSocket

CATEGORY = "CircleRotate/metrics"

FOLDER_KEYS = {"ultralytics/bbox": "ultralytics_bbox", "sams": "sams", "circle_rotate": "circle_rotate"}
"""Registry folder -> folder_paths key."""

_FILE_INPUTS = {
    # file input id -> the bundle attributes it serves
    "detector_file": ("detector",),
    "sam_file": ("segmenter",),
    "clip_file": ("clip",),
    "dino_file": ("dino_vbench", "dino_upstream"),
    "lpips_alexnet_file": ("lpips",),
    "raft_file": ("raft",),
}


def register_folders() -> None:
    """Add the metric weight folders under ComfyUI's models directory to ``folder_paths`` (idempotent)."""
    for folder, key in FOLDER_KEYS.items():
        folder_paths.add_model_folder_path(key, os.path.join(folder_paths.models_dir, *folder.split("/")))
        extensions = folder_paths.folder_names_and_paths[key][1]
        if not extensions:
            extensions.update(folder_paths.supported_pt_extensions)


register_folders()


def _folder_key(attribute: str) -> str:
    return FOLDER_KEYS[get_entry(METRIC_KEYS[attribute]).folder]


def _file_options(attribute: str) -> list[str]:
    """Files of the attribute's folder, with the registry's file name always offered (and first)."""
    default = get_entry(METRIC_KEYS[attribute]).name
    return [default, *sorted(name for name in folder_paths.get_filename_list(_folder_key(attribute)) if name != default)]


def _file_input(input_id: str) -> io.Combo.Input:
    attribute = _FILE_INPUTS[input_id][0]
    entry = get_entry(METRIC_KEYS[attribute])
    return io.Combo.Input(
        input_id,
        options=_file_options(attribute),
        default=entry.name,
        tooltip=f"{entry.description}. Files in models/{entry.folder}/ (and extra_model_paths '{_folder_key(attribute)}'). "
        f"Default {entry.name}; get it with `circle-rotate models download --what metrics --comfyui <ComfyUI>`.",
    )


def _switch(input_id: str, what: str) -> io.Boolean.Input:
    return io.Boolean.Input(input_id, default=True, tooltip=f"Offer {what} in the bundle. Off: metrics that need it report it as disabled.")


def _resolve_device(device: str) -> str:
    """'auto' follows ComfyUI's own device choice (so --cpu is honoured); others go through unchanged."""
    if device != "auto":
        return device
    import comfy.model_management

    return str(comfy.model_management.get_torch_device())


class ComfyClipVisionEncoder:
    """ImageEncoder over a ComfyUI CLIP_VISION model: its projected ``image_embeds``, L2-normalised.

    ComfyUI preprocesses (``clip_preprocess``: bicubic antialiased resize of the short side to the model's size,
    centre crop, CLIP mean/std) and places the model. The values are those of the connected model (often ViT-L or
    ViT-H), so they are comparable only with runs that used the same CLIP_VISION model, not with ViT-B/32.
    """

    def __init__(self, clip_vision: object, batch_size: int = 16) -> None:
        self.clip_vision = clip_vision
        self.batch_size = batch_size

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of ``frames`` ((N, H, W, 3) uint8 RGB)."""
        from ..circle_rotate.metric_models.frames import check_frames

        check_frames(frames)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                image = torch.from_numpy(frames[start : start + self.batch_size]).float() / 255.0
                embeds = self.clip_vision.encode_image(image, crop=True)["image_embeds"]
                out.append(torch.nn.functional.normalize(embeds.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)


def _candidates(attribute: str, name: str) -> list[Path]:
    key = _folder_key(attribute)
    found = folder_paths.get_full_path(key, name)
    if found is not None:
        return [Path(found)]
    return [Path(folder) / name for folder in folder_paths.get_folder_paths(key)]


class MetricModelsLoader(io.ComfyNode):
    """Builds the lazy metric-model bundle from the chosen files and device."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateMetricModels",
            display_name="Metric Models (Circle Rotate)",
            category=CATEGORY,
            description="Chooses the models of the metric suite (YOLO subject detector, SAM ViT-B segmenter, CLIP "
            "ViT-B/32, DINO ViT-B/16, LPIPS AlexNet, RAFT) and the device they run on, and passes them to the metric "
            "nodes as one bundle. Models load lazily on first use and stay cached in this process; a missing file "
            "only disables the metrics that need it. The status output lists what was found and, for each missing "
            "file, the folders searched and the download command. See models/README.md of the pack.",
            inputs=[
                io.Combo.Input(
                    "device", options=["auto", "cpu", "cuda"], default="auto",
                    tooltip="auto: ComfyUI's device (CUDA when available, CPU with --cpu). cuda without a GPU is an error.",
                ),
                _switch("use_detector", "the YOLO subject detector (subject drift)"),
                _file_input("detector_file"),
                io.Combo.Input(
                    "detector_rule", options=["centre", "upstream"], default="centre",
                    tooltip="centre: the box with the highest confidence x (1 - distance from the image centre / half "
                    "diagonal) among detector_classes. upstream: the original's rule (car/bus/truck > 0.25, else the "
                    "largest box if > 0.2).",
                ),
                io.String.Input(
                    "detector_classes", default="",
                    tooltip="Comma-separated COCO class ids or names the subject may have, e.g. 'car, truck' or '2,7'. "
                    "Empty: any class. Ignored by the upstream rule.",
                ),
                io.Float.Input(
                    "detector_min_confidence", default=0.25, min=0.0, max=1.0, step=0.01,
                    tooltip="Boxes below this YOLO confidence are ignored (ultralytics' default 0.25).",
                ),
                _switch("use_segmenter", "the SAM segmenter (subject masks for subject drift)"),
                _file_input("sam_file"),
                _switch("use_clip", "CLIP ViT-B/32 (CLIP-I)"),
                _file_input("clip_file"),
                io.ClipVision.Input(
                    "clip_vision", optional=True,
                    tooltip="Optional: a CLIP_VISION model (CLIPVisionLoader) to use for CLIP-I instead of the open_clip "
                    "ViT-B/32 file. Its values are then those of that model (e.g. ViT-H), not comparable with ViT-B/32.",
                ),
                _switch("use_dino", "DINO ViT-B/16 (subject consistency, VBench and upstream)"),
                _file_input("dino_file"),
                _switch("use_lpips", "LPIPS AlexNet (fidelity)"),
                _file_input("lpips_alexnet_file"),
                _switch("use_raft", "RAFT (VBench dynamic degree)"),
                _file_input("raft_file"),
                io.Combo.Input(
                    "sam_attention", options=list(ATTENTION_CHOICES), default="fused",
                    tooltip="fused: SAM's image-encoder attention through one fused kernel (same function, about 2x "
                    "faster on CPU; embeddings equal to float32 rounding). segment-anything: its own code, "
                    "bit-identical to the original evaluation's SamPredictor.",
                ),
            ],
            outputs=[
                MetricModelsSocket.Output("metric_models", tooltip="The lazy model bundle; connect it to the metric nodes."),
                io.String.Output("status", tooltip="One line per model: the file found, or why it is unavailable."),
            ],
        )

    @classmethod
    def execute(
        cls,
        device: str,
        use_detector: bool,
        detector_file: str,
        detector_rule: str,
        detector_classes: str,
        detector_min_confidence: float,
        use_segmenter: bool,
        sam_file: str,
        use_clip: bool,
        clip_file: str,
        use_dino: bool,
        dino_file: str,
        use_lpips: bool,
        lpips_alexnet_file: str,
        use_raft: bool,
        raft_file: str,
        sam_attention: str = "fused",
        clip_vision: io.ClipVision.Type | None = None,
    ) -> io.NodeOutput:
        choices = {
            "detector_file": (use_detector, detector_file),
            "sam_file": (use_segmenter, sam_file),
            "clip_file": (use_clip, clip_file),
            "dino_file": (use_dino, dino_file),
            "lpips_alexnet_file": (use_lpips, lpips_alexnet_file),
            "raft_file": (use_raft, raft_file),
        }
        files, enabled = {}, []
        objects = {"clip": ComfyClipVisionEncoder(clip_vision)} if use_clip and clip_vision is not None else {}
        for input_id, attributes in _FILE_INPUTS.items():
            use, file_name = choices[input_id]
            if use and not set(attributes) <= set(objects):
                enabled.extend(attributes)
                files.update({attribute: _candidates(attribute, file_name) for attribute in attributes})
        classes = [item.strip() for item in detector_classes.split(",") if item.strip()]
        options = {
            "detector": {"rule": detector_rule, "classes": classes or None, "min_confidence": detector_min_confidence},
            "segmenter": {"fused_attention": ATTENTION_CHOICES[sam_attention]},
        }
        try:
            bundle = MetricModels(
                device=_resolve_device(device), files=files, enabled=enabled, options=options, objects=objects
            )
        except ValueError as error:
            raise ValueError(f"Metric Models: device {device!r}: {error}") from None
        return io.NodeOutput(bundle, _status(bundle))


def _status(bundle: MetricModels) -> str:
    """One line per bundle attribute: the file it will load, a connected model, disabled, or the missing-file message."""
    lines = []
    for name in MetricModels.NAMES:
        if name not in bundle.enabled:
            lines.append(f"{name}: disabled")
            continue
        if bundle.status()[name] == "loaded":
            lines.append(f"{name}: {type(bundle.get(name)).__name__} (connected model)")
            continue
        try:
            lines.append(f"{name}: {bundle.path_of(name)} ({bundle.device})")
        except FileNotFoundError as error:
            lines.append(f"{name}: MISSING: {error}")
    return "\n".join(lines)


NODES: list[type[io.ComfyNode]] = [MetricModelsLoader]
