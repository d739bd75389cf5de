"""ClipEncoder and DinoEncoder on random-initialised real architectures: shapes, norms, batching, preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from circle_rotate.metric_models import dino_encoder
from circle_rotate.metric_models.clip_encoder import ClipEncoder
from circle_rotate.metric_models.dino_encoder import DinoEncoder


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(2).integers(0, 256, (3, 60, 100, 3), dtype=np.uint8)


def tiny_vit() -> torch.nn.Module:
    """A small timm ViT with DINO's layout (patch 16, CLS token, no head): the wrappers' code path, fast on CPU."""
    import timm

    return timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0)


@pytest.fixture(scope="module")
def dino() -> torch.nn.Module:
    torch.manual_seed(0)
    return tiny_vit()


@pytest.fixture(scope="module")
def clip_model() -> torch.nn.Module:
    import open_clip

    torch.manual_seed(0)
    return open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True)


def test_clip_embeddings_are_normalised_batched_and_use_the_clip_processor_preprocessing(clip_model, frames) -> None:
    from circle_rotate.metric_models.clip_encoder import clip_processor_preprocess

    encoder = ClipEncoder(clip_model, device="cpu", batch_size=2)
    embeddings = encoder.embed(frames)

    assert embeddings.shape == (3, 512) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    with torch.inference_mode():
        direct = clip_model.encode_image(clip_processor_preprocess(frames[2])[None])
    np.testing.assert_allclose(embeddings[2], torch.nn.functional.normalize(direct, dim=-1)[0].numpy(), atol=1e-5)


def test_dino_forward_equals_timm_at_224(dino) -> None:
    images = torch.randn(2, 3, 224, 224)
    encoder = DinoEncoder(dino, device="cpu")
    with torch.inference_mode():
        np.testing.assert_allclose(encoder.features(images).numpy(), dino(images).numpy(), atol=1e-4)


def test_dino_vbench_preprocessing_resizes_short_side_without_crop(dino, frames) -> None:
    from torchvision.transforms import functional as TF

    batch = DinoEncoder(dino, device="cpu", preprocessing="vbench").preprocess(frames)

    assert tuple(batch.shape) == (3, 3, 224, 373)
    resized = TF.resize(torch.from_numpy(frames).permute(0, 3, 1, 2).float(), [224, 373], antialias=False)  # float, not uint8
    mean = torch.tensor(dino_encoder.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(dino_encoder.IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(batch, (resized / 255 - mean) / std)


def test_dino_upstream_preprocessing_is_256_then_centre_224(dino, frames) -> None:
    batch = DinoEncoder(dino, device="cpu", preprocessing="upstream").preprocess(frames)
    assert tuple(batch.shape) == (3, 3, 224, 224)


@pytest.mark.parametrize("preprocessing", ["vbench", "upstream"])
def test_dino_embeddings_batched_equal_single(dino, frames, preprocessing) -> None:
    batched = DinoEncoder(dino, device="cpu", preprocessing=preprocessing, batch_size=3).embed(frames)
    single = DinoEncoder(dino, device="cpu", preprocessing=preprocessing, batch_size=1).embed(frames)
    assert batched.shape == (3, 192)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_dino_position_embedding_interpolation_follows_dinos_rule() -> None:
    pos = torch.randn(1, 1 + 14 * 14, 8)
    out = dino_encoder.interpolate_pos_embed(pos, 14, 23)
    assert out.shape == (1, 1 + 14 * 23, 8)
    torch.testing.assert_close(out[:, 0], pos[:, 0])
    grid = pos[:, 1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2)
    expected = torch.nn.functional.interpolate(grid, scale_factor=(14.1 / 14, 23.1 / 14), mode="bicubic")
    torch.testing.assert_close(out[:, 1:], expected.permute(0, 2, 3, 1).reshape(1, -1, 8))
    assert dino_encoder.interpolate_pos_embed(pos, 14, 14) is pos


def test_dino_vitb16_embeddings_have_768_dimensions(frames) -> None:
    torch.manual_seed(0)
    embeddings = DinoEncoder(dino_encoder.build_model(), device="cpu").embed(frames[:1])
    assert embeddings.shape == (1, 768)


def test_dino_original_training_checkpoint_converts_and_loads(
    dino, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dino_encoder, "build_model", tiny_vit)
    backbone = {f"backbone.{key}": value for key, value in dino.state_dict().items()}
    backbone["head.mlp.0.weight"] = torch.zeros(4, 4)
    path = tmp_path / "dino_vitbase16_checkpoint.pth"
    torch.save({"teacher": backbone, "epoch": 100}, path)

    loaded = DinoEncoder.load_model(path)

    for key, value in dino.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)


def test_dino_converter_rejects_other_checkpoints() -> None:
    with pytest.raises(ValueError, match="not a DINO ViT"):
        dino_encoder.convert_state_dict({"conv1.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="preprocessing 'imagenet' is unknown"):
        DinoEncoder(torch.nn.Linear(1, 1), device="cpu", preprocessing="imagenet")
