"""Metric models with the real architectures and random weights, built offline (tests and benchmarks).

Nothing is downloaded: ultralytics builds YOLOv8n from its ``yolov8n.yaml`` architecture, segment-anything
builds SAM with ``checkpoint=None``, open_clip ViT-B-32 with ``pretrained=None``, timm and torchvision with
``pretrained=False`` / ``weights=None``, and LPIPS with its packaged linear layers on a random AlexNet. Scores
computed with them are meaningless; their cost and code paths are those of the real models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..weights import MetricModels


def random_model(name: str, device: str = "cpu", **options: Any) -> Any:
    """The protocol object for ``MetricModels`` attribute ``name`` around a random-initialised real architecture.

    ``options`` go to the wrapper (e.g. ``rule`` for the detector); for the segmenter ``sam_type`` picks the SAM
    size (default "vit_b"), for raft ``size`` ("large" default, or "small").

    Raises:
        ValueError: for an unknown name.
    """
    if name == "detector":
        from .yolo_detector import YoloDetector, import_yolo

        return YoloDetector(import_yolo()("yolov8n.yaml", task="detect"), device=device, **options)
    if name == "segmenter":
        from segment_anything import sam_model_registry

        from .sam_segmenter import SamSegmenter

        sam_type = options.pop("sam_type", "vit_b")
        return SamSegmenter(sam_model_registry[sam_type](checkpoint=None), device=device, **options)
    if name == "clip":
        import open_clip

        from .clip_encoder import MODEL_NAME, ClipEncoder

        model = open_clip.create_model(MODEL_NAME, pretrained=None, force_quick_gelu=True)
        return ClipEncoder(model, device=device, **options)
    if name in ("dino_vbench", "dino_upstream"):
        from .dino_encoder import DinoEncoder, build_model

        return DinoEncoder(build_model(), device=device, preprocessing=name.split("_")[1], **options)
    if name == "lpips":
        from .lpips_distance import LpipsDistance, build_model

        return LpipsDistance(build_model(), device=device, **options)
    if name == "raft":
        from .raft_flow import RaftFlow, build_model

        size = options.pop("size", "large")
        return RaftFlow(build_model(size), device=device, **options)
    raise ValueError(f"metric model {name!r} is unknown: use one of {', '.join(MetricModels.NAMES)}.")


def random_metric_models(
    device: str = "cpu", names: Iterable[str] | None = None, seed: int = 0
) -> MetricModels:
    """A ``MetricModels`` bundle of random-initialised real architectures (default: all seven models).

    ``dino_vbench`` and ``dino_upstream`` share one DINO model. Raises ValueError for an unknown name.
    """
    import torch

    torch.manual_seed(seed)
    chosen = list(MetricModels.NAMES if names is None else names)
    objects = {name: random_model(name, device) for name in chosen if name != "dino_upstream"}
    if "dino_upstream" in chosen:  # one DINO model behind both preprocessings, as the weight-file bundle has
        from .dino_encoder import DinoEncoder

        shared = objects["dino_vbench"].model if "dino_vbench" in objects else random_model("dino_vbench", device).model
        objects["dino_upstream"] = DinoEncoder(shared, device=device, preprocessing="upstream")
    return MetricModels.from_objects(device=device, **objects)
