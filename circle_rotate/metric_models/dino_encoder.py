"""DINO ViT-B/16 image features (the CLS token after the final norm, as VBench uses), L2-normalised.

Architecture: timm ``vit_base_patch16_224`` without head (``num_classes=0``). The forward pass is written here
the way DINO's own ``VisionTransformer`` does it (VBench loads that through ``torch.hub``): patch embedding,
CLS token, position embeddings interpolated bicubically with DINO's ``scale_factor = (n + 0.1) / 14`` rule for
non-224 inputs, the blocks, the final norm, token 0.

Weights (``convert_state_dict``): the original checkpoint ``dino_vitbase16_pretrain.pth`` already uses timm's
key names (``cls_token``, ``pos_embed``, ``patch_embed.proj.*``, ``blocks.{i}.norm1.*``, ``blocks.{i}.attn.qkv.*``,
``blocks.{i}.attn.proj.*``, ``blocks.{i}.norm2.*``, ``blocks.{i}.mlp.fc1.*``, ``blocks.{i}.mlp.fc2.*``,
``norm.*``), so the mapping is the identity after unwrapping: a full training checkpoint keeps the backbone
under ``teacher`` (or ``student``) with a ``backbone.`` (and DDP ``module.``) prefix and a projection ``head.*``,
which is dropped. timm's ``vit_base_patch16_224.dino`` (``model.safetensors``) loads unchanged.

Preprocessing:
- ``vbench``: VBench's code path exactly (``vbench/utils.py``: ``load_video`` turns the uint8 frames into a float32
  tensor with ``torch.Tensor(frames)``, then ``dino_transform(224)``): the frames converted to float32 FIRST, resized
  in float so the short side is 224 (torchvision ``Resize(224, antialias=False)``, bilinear, long side
  ``int(224 * long / short)``; no rounding back to uint8), no crop, /255, ImageNet mean/std. Resizing the uint8
  tensor instead (as this module did before) rounds every pixel to a grey level: up to 0.5 grey level off.
- ``upstream``: the original Circle-Rotate evaluation: PIL Resize(256) on the short side (bilinear), CenterCrop(224),
  ToTensor, ImageNet mean/std.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .frames import check_frames, to_tensor

PREPROCESSINGS = ("vbench", "upstream")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_WRAPPERS = ("teacher", "student", "state_dict", "model")
_PREFIXES = ("module.", "backbone.")


def build_model() -> Any:
    """An uninitialised-weights timm ViT-B/16 (224, patch 16, no head): DINO's backbone architecture."""
    import timm

    return timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=0)


def convert_state_dict(state: Mapping[str, Any]) -> dict[str, Any]:
    """timm ViT keys from a DINO checkpoint (original backbone, full training checkpoint, or timm's own).

    Raises:
        ValueError: if no ``cls_token``/``pos_embed`` is found after unwrapping (not a DINO ViT checkpoint).
    """
    for wrapper in _WRAPPERS:
        if wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
            break
    converted = {}
    for key, value in state.items():
        for prefix in _PREFIXES:
            while key.startswith(prefix):
                key = key[len(prefix) :]
        if key.startswith("head."):
            continue
        converted[key] = value
    if "cls_token" not in converted or "pos_embed" not in converted:
        sample = ", ".join(list(state)[:5])
        raise ValueError(
            f"the checkpoint is not a DINO ViT (no cls_token/pos_embed after unwrapping; first keys: {sample}). "
            "Use dino_vitbase16_pretrain.pth or timm's vit_base_patch16_224.dino model.safetensors."
        )
    return converted


def interpolate_pos_embed(pos_embed: Any, rows: int, cols: int) -> Any:
    """DINO's position-embedding interpolation for a grid of ``rows`` x ``cols`` patches (CLS kept as is)."""
    import torch

    count = pos_embed.shape[1] - 1
    side = int(math.sqrt(count))
    if rows * cols == count and rows == cols:
        return pos_embed
    patch = pos_embed[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
    patch = torch.nn.functional.interpolate(
        patch, scale_factor=((rows + 0.1) / side, (cols + 0.1) / side), mode="bicubic"
    )
    if patch.shape[-2:] != (rows, cols):
        raise RuntimeError(f"position embedding interpolated to {tuple(patch.shape[-2:])}, expected {(rows, cols)}")
    return torch.cat([pos_embed[:, :1], patch.permute(0, 2, 3, 1).reshape(1, rows * cols, -1)], dim=1)


class DinoEncoder:
    """ImageEncoder: (N, 768) float32 L2-normalised DINO CLS features, with VBench or upstream preprocessing."""

    def __init__(self, model: Any, device: str = "auto", preprocessing: str = "vbench", batch_size: int = 16) -> None:
        """Args:
            model: a timm ``VisionTransformer`` (``build_model()`` with DINO weights).
            device: "auto", "cpu", "cuda" or "cuda:N".
            preprocessing: "vbench" or "upstream" (module doc).
            batch_size: frames per forward pass.
        """
        if preprocessing not in PREPROCESSINGS:
            raise ValueError(f"DINO preprocessing {preprocessing!r} is unknown: use one of {', '.join(PREPROCESSINGS)}.")
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.preprocessing = preprocessing
        self.batch_size = int(batch_size)

    @staticmethod
    def load_model(path: str | Path) -> Any:
        """``build_model()`` with the DINO weights in ``path`` (.pth or .safetensors), loaded strictly.

        Raises:
            FileNotFoundError: if ``path`` does not exist. ValueError: if it is not a DINO ViT-B/16 checkpoint.
        """
        import torch

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"DINO weights file {str(path)!r} does not exist.")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        model = build_model()
        model.load_state_dict(convert_state_dict(state), strict=True)
        return model

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", **options: Any) -> DinoEncoder:
        """An encoder on the weights in ``path``."""
        return cls(cls.load_model(path), device=device, **options)

    def preprocess(self, frames: np.ndarray) -> Any:
        """(N, 3, h, w) float tensor on the device, normalised as ``self.preprocessing`` says."""
        import torch
        from torchvision.transforms import functional as TF

        if self.preprocessing == "vbench":
            batch = TF.resize(to_tensor(frames, self.device).float(), 224, antialias=False) / 255.0
        else:
            from PIL import Image

            tensors = []
            for frame in frames:
                image = TF.center_crop(TF.resize(Image.fromarray(frame), 256), 224)
                tensors.append(TF.to_tensor(image))
            batch = torch.stack(tensors).to(self.device)
        mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)
        return (batch - mean) / std

    def features(self, images: Any) -> Any:
        """CLS token after the final norm for a normalised image batch (DINO's forward, module doc)."""
        import torch

        model = self.model
        patch = model.patch_embed.patch_size[0]
        rows, cols = images.shape[-2] // patch, images.shape[-1] // patch
        tokens = model.patch_embed.proj(images).flatten(2).transpose(1, 2)
        cls = model.cls_token.expand(len(images), -1, -1)
        tokens = torch.cat([cls, tokens], dim=1) + interpolate_pos_embed(model.pos_embed, rows, cols)
        tokens = model.blocks(model.norm_pre(model.pos_drop(tokens)))
        return model.norm(tokens)[:, 0]

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of ``frames`` ((N, H, W, 3) uint8 RGB)."""
        import torch

        check_frames(frames)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                features = self.features(self.preprocess(frames[start : start + self.batch_size]))
                out.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
