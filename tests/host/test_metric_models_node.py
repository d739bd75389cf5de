"""The "Metric Models (Circle Rotate)" node in a real ComfyUI: folders, schema, the lazy bundle, missing files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

NODE_ID = "CircleRotateMetricModels"


def run_node(comfy_host, **overrides):
    node = comfy_host.node(NODE_ID)
    schema = node.define_schema()
    values = {item.id: item.default for item in schema.inputs if not item.optional}
    values.update(overrides)
    with torch.inference_mode():
        return node.execute(**values)


def test_folders_are_registered_under_the_models_dir(comfy_host) -> None:
    import folder_paths

    for key, folder in (("sams", "sams"), ("ultralytics_bbox", os.path.join("ultralytics", "bbox")), ("circle_rotate", "circle_rotate")):
        assert os.path.join(folder_paths.models_dir, folder) in folder_paths.get_folder_paths(key)


def test_schema_has_description_and_tooltips(comfy_host) -> None:
    schema = comfy_host.node(NODE_ID).define_schema()
    assert schema.display_name == "Metric Models (Circle Rotate)" and schema.description
    assert all(item.tooltip for item in [*schema.inputs, *schema.outputs])
    assert schema.outputs[0].io_type == "CIRCLE_ROTATE_METRIC_MODELS"


def test_bundle_loads_present_file_and_reports_missing_ones(comfy_host) -> None:
    import folder_paths
    from torchvision.models import alexnet

    folder = Path(folder_paths.models_dir) / "circle_rotate"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    path = folder / "alexnet-owt-7be5be79.pth"
    torch.save({f"features.{k}": v for k, v in alexnet(weights=None).features.state_dict().items()}, path)
    try:
        bundle, status = run_node(comfy_host, device="cpu", use_raft=False)

        assert type(bundle).__name__ == "MetricModels"
        frames = np.zeros((1, 64, 64, 3), np.uint8)
        assert bundle.lpips.distance(frames, frames).tolist() == [0.0]
        lines = dict(line.split(": ", 1) for line in status.splitlines())
        assert lines["lpips"] == f"{path} (cpu)"
        assert lines["raft"] == "disabled"
        assert lines["detector"].startswith("MISSING: model file 'yolov8n.pt'")
        assert os.path.join(folder_paths.models_dir, "ultralytics", "bbox", "yolov8n.pt") in lines["detector"]
        assert "circle-rotate models download --what metrics" in lines["detector"]
        assert bundle.get("segmenter") is None and "sam_vit_b_01ec64.pth" in bundle.errors["segmenter"]
    finally:
        path.unlink()


def test_detector_options_reach_the_bundle(comfy_host) -> None:
    bundle, _ = run_node(comfy_host, device="cpu", detector_rule="upstream", detector_classes=" ", detector_min_confidence=0.3)
    assert bundle.options["detector"] == {"rule": "upstream", "classes": None, "min_confidence": 0.3}


@pytest.mark.parametrize(("choice", "fused"), [("fused", True), ("segment-anything", False)])
def test_sam_attention_choice_reaches_the_segmenter_options(comfy_host, choice: str, fused: bool) -> None:
    default = next(item.default for item in comfy_host.node(NODE_ID).define_schema().inputs if item.id == "sam_attention")
    assert default == "fused"
    bundle, _ = run_node(comfy_host, device="cpu", sam_attention=choice)
    assert bundle.options["segmenter"] == {"fused_attention": fused}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is missing")
def test_cuda_without_gpu_is_a_clear_error(comfy_host) -> None:
    with pytest.raises(ValueError, match="Metric Models: device 'cuda'.*CUDA is not available"):
        run_node(comfy_host, device="cuda")


def tiny_clip_vision(tmp_path: Path):
    """A ComfyUI ClipVisionModel from a tiny config (2 layers, width 64), random weights."""
    import json

    import comfy.clip_vision

    config = tmp_path / "tiny_clip_vision.json"
    config.write_text(json.dumps({
        "hidden_act": "quick_gelu", "hidden_size": 64, "image_size": 224, "intermediate_size": 128,
        "layer_norm_eps": 1e-5, "model_type": "clip_vision_model", "num_attention_heads": 2, "num_channels": 3,
        "num_hidden_layers": 2, "patch_size": 32, "projection_dim": 32,
    }))
    model = comfy.clip_vision.ClipVisionModel(str(config))
    generator = torch.Generator().manual_seed(0)
    model.load_sd({key: torch.randn(value.shape, generator=generator) * 0.05 for key, value in model.get_sd().items()})
    return model


def test_connected_clip_vision_serves_clip(comfy_host, tmp_path: Path) -> None:
    clip_vision = tiny_clip_vision(tmp_path)
    frames = np.random.default_rng(0).integers(0, 256, (3, 48, 80, 3), dtype=np.uint8)

    bundle, status = run_node(comfy_host, device="cpu", clip_vision=clip_vision)
    embeddings = bundle.clip.embed(frames)

    assert "clip: ComfyClipVisionEncoder (connected model)" in status.splitlines()
    assert embeddings.shape == (3, 32) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    with torch.inference_mode():
        direct = clip_vision.encode_image(torch.from_numpy(frames[1:2]).float() / 255, crop=True)["image_embeds"]
    np.testing.assert_allclose(embeddings[1], torch.nn.functional.normalize(direct.float(), dim=-1)[0].numpy(), atol=1e-5)
