"""circle_rotate.weights: the registry, file lookup, missing-file messages and the lazy MetricModels bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from circle_rotate import weights
from circle_rotate.weights import MetricModels, MissingWeightError, ModelUnavailableError

README = Path(__file__).resolve().parents[2] / "models" / "README.md"


def test_registry_names_are_unique_and_every_metric_attribute_has_a_file() -> None:
    names = [(entry.folder, entry.name) for entry in weights.entries()]
    assert len(names) == len(set(names))
    assert set(weights.METRIC_KEYS.values()) <= set(weights.REGISTRY)
    assert {entry.group for entry in weights.entries()} == set(weights.GROUPS)
    for entry in weights.entries():
        assert entry.url.startswith("https://"), entry
        if entry.hf_repo:
            assert entry.url == f"https://huggingface.co/{entry.hf_repo}/resolve/main/{entry.hf_path}"


def test_models_readme_lists_every_registry_file() -> None:
    text = README.read_text(encoding="utf-8")
    for entry in weights.entries():
        assert entry.name in text, f"models/README.md lacks {entry.name}"
        assert entry.url in text, f"models/README.md lacks the URL of {entry.name}"


def test_entries_rejects_unknown_group() -> None:
    with pytest.raises(ValueError, match="generation, metrics or all"):
        weights.entries("everything")


def test_find_weight_looks_in_models_root_folder_then_flat_dir(tmp_path: Path) -> None:
    root, flat = tmp_path / "models", tmp_path / "flat"
    (root / "sams").mkdir(parents=True)
    flat.mkdir()
    (flat / "sam_vit_b_01ec64.pth").write_bytes(b"flat")
    assert weights.find_weight("sam_vit_b", [root, flat]) == flat / "sam_vit_b_01ec64.pth"
    (root / "sams" / "sam_vit_b_01ec64.pth").write_bytes(b"root")
    assert weights.find_weight("sam_vit_b", [root, flat]) == root / "sams" / "sam_vit_b_01ec64.pth"


def test_missing_weight_message_names_file_places_and_command(tmp_path: Path) -> None:
    with pytest.raises(MissingWeightError) as caught:
        weights.find_weight("yolov8n", [tmp_path])
    message = str(caught.value)
    assert "'yolov8n.pt'" in message
    assert str(tmp_path / "ultralytics" / "bbox" / "yolov8n.pt") in message
    assert "circle-rotate models download --what metrics" in message


def test_bundle_records_missing_file_and_raises_on_attribute(tmp_path: Path) -> None:
    models = MetricModels(search_dirs=[tmp_path], device="cpu")

    assert models.get("segmenter") is None
    with pytest.raises(ModelUnavailableError, match="sam_vit_b_01ec64.pth"):
        models.segmenter
    assert "sam_vit_b_01ec64.pth" in models.errors["segmenter"]
    assert models.status()["clip"] == "not loaded yet"


def test_bundle_rejects_unknown_names_and_unavailable_cuda() -> None:
    with pytest.raises(ValueError, match="'detectr' is unknown"):
        MetricModels(enabled=["detectr"])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            MetricModels(device="cuda")


def test_bundle_disabled_model_is_unavailable() -> None:
    models = MetricModels(device="cpu", enabled=["clip"])
    with pytest.raises(ModelUnavailableError, match="not enabled"):
        models.raft


@pytest.fixture
def alexnet_file(tmp_path: Path) -> Path:
    """A torchvision-layout AlexNet features file (random weights), as alexnet-owt-7be5be79.pth is laid out."""
    from torchvision.models import alexnet

    torch.manual_seed(0)
    features = {f"features.{k}": v for k, v in alexnet(weights=None).features.state_dict().items()}
    path = tmp_path / "models" / "circle_rotate" / "alexnet-owt-7be5be79.pth"
    path.parent.mkdir(parents=True)
    torch.save(features, path)
    return path


def test_bundle_loads_lazily_and_caches_per_process(alexnet_file: Path) -> None:
    weights.clear_cache()
    first = MetricModels(search_dirs=[alexnet_file.parents[1]], device="cpu")
    second = MetricModels(files={"lpips": alexnet_file}, device="cpu")

    distance = first.lpips
    frames = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)

    assert first.status()["lpips"] == "loaded"
    assert distance.distance(frames, frames).tolist() == [0.0, 0.0]
    assert second.lpips.model is distance.model
    assert torch.equal(
        distance.model.net.slice1[0].weight, torch.load(alexnet_file, weights_only=True)["features.0.weight"]
    )
    weights.clear_cache()


def test_explicit_file_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    models = MetricModels(files={"raft": tmp_path / "nope.pth"}, device="cpu")
    assert models.get("raft") is None
    assert str(tmp_path / "nope.pth") in models.errors["raft"]


def test_from_objects_serves_given_objects_and_disables_the_rest() -> None:
    sentinel = object()
    models = MetricModels.from_objects(device="cpu", clip=sentinel)
    assert models.clip is sentinel
    assert models.get("detector") is None


def test_default_models_dir_prefers_the_pack_variable_then_comfyui(monkeypatch, tmp_path) -> None:
    from circle_rotate.weights import default_models_dir

    monkeypatch.delenv("CIRCLE_ROTATE_MODELS_DIR", raising=False)
    monkeypatch.delenv("COMFYUI_PATH", raising=False)
    assert default_models_dir() is None
    monkeypatch.setenv("COMFYUI_PATH", str(tmp_path / "ComfyUI"))
    assert default_models_dir() == tmp_path / "ComfyUI" / "models"
    monkeypatch.setenv("CIRCLE_ROTATE_MODELS_DIR", str(tmp_path / "weights"))
    assert default_models_dir() == tmp_path / "weights"


def test_missing_weight_without_a_folder_says_how_to_give_one(monkeypatch) -> None:
    from circle_rotate.weights import MissingWeightError, find_weight

    with pytest.raises(MissingWeightError, match="pass --models-dir, or set CIRCLE_ROTATE_MODELS_DIR or COMFYUI_PATH"):
        find_weight("clip_vit_b32_openai", [])


def test_checksums_are_well_formed_listed_in_the_readme_and_agree_with_torch_hub_names() -> None:
    import re

    text = README.read_text(encoding="utf-8")
    for entry in weights.entries():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{entry.name}` |"))
        if entry.sha256:
            assert re.fullmatch("[0-9a-f]{64}", entry.sha256), entry.key
            assert entry.sha256 in row and str(entry.size_bytes) in row, entry.key
        else:
            assert "unverified" in row or f"prefix `{entry.sha256_prefix}`" in row, entry.key
        hub_name = re.search(r"-([0-9a-f]{8,})\.pth$", entry.name)
        if entry.url.startswith("https://download.pytorch.org/") and hub_name:
            assert (entry.sha256 or entry.sha256_prefix or "").startswith(hub_name.group(1)), entry.key
