"""CLIP ViT-B/32 image embeddings (OpenAI weights) through open_clip, L2-normalised.

Preprocessing is open_clip's own evaluation transform for the model (``open_clip.image_transform(224,
is_train=False)``): each frame as a PIL image, Resize(224, bicubic) on the short side, CenterCrop(224), to
[0, 1], normalised with the OpenAI CLIP mean/std. That is also what the original's transformers
``CLIPProcessor`` does for ``openai/clip-vit-base-patch32`` (bicubic short-side resize, centre crop, same mean/std).
Frames are preprocessed one by one (cheap) and encoded in batches of ``batch_size``.

The OpenAI ViT-B/32 uses QuickGELU activations; open_clip builds ``ViT-B-32`` with plain GELU unless told,
so the model is created with ``force_quick_gelu=True`` (without it the weights load silently but the
embeddings are wrong).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .frames import check_frames

MODEL_NAME = "ViT-B-32"


class ClipEncoder:
    """ImageEncoder: (N, 512) float32 L2-normalised CLIP image embeddings."""

    def __init__(self, model: Any, device: str = "auto", batch_size: int = 32) -> None:
        """Args:
            model: an open_clip ``CLIP`` model (ViT-B-32 for the metric suite).
            device: "auto", "cpu", "cuda" or "cuda:N".
            batch_size: frames per forward pass.
        """
        import open_clip

        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = int(batch_size)
        self.preprocess = open_clip.image_transform(model.visual.image_size, is_train=False)

    @staticmethod
    def load_model(path: str | Path) -> Any:
        """open_clip ViT-B-32 (QuickGELU) with the weights in ``path`` (e.g. HF ``open_clip_pytorch_model.bin``).

        Raises:
            FileNotFoundError: if ``path`` does not exist.
        """
        import open_clip

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"CLIP weights file {str(path)!r} does not exist.")
        return open_clip.create_model(MODEL_NAME, pretrained=str(path), force_quick_gelu=True)

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", **options: Any) -> ClipEncoder:
        """An encoder on the weights in ``path``."""
        return cls(cls.load_model(path), device=device, **options)

    def embed(self, frames: np.ndarray) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of ``frames`` ((N, H, W, 3) uint8 RGB)."""
        import torch
        from PIL import Image

        check_frames(frames)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                batch = torch.stack([self.preprocess(Image.fromarray(f)) for f in frames[start : start + self.batch_size]])
                features = self.model.encode_image(batch.to(self.device))
                out.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
