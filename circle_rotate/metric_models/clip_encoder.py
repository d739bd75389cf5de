"""CLIP ViT-B/32 image embeddings (OpenAI weights) through open_clip, L2-normalised.

Preprocessing is exactly the original's: transformers' ``CLIPProcessor`` for ``openai/clip-vit-base-patch32``
(``CLIPImageProcessor`` as of transformers 4.37, the version the original was written for), per frame:

1. the uint8 frame as a PIL image, resized with PIL bicubic so its short side is 224 and its long side
   ``int(224 * long / short)`` (floored);
2. centre crop 224 x 224 with the offsets FLOORED: ``top = (h - 224) // 2``, ``left = (w - 224) // 2``;
3. / 255, then the OpenAI CLIP mean/std.

open_clip's own evaluation transform (torchvision ``Resize`` + ``CenterCrop``) differs in step 2 only:
torchvision rounds the offset half to even (``int(round((w - 224) / 2))``), so where ``w - 224`` is odd its crop sits
one column (row) further right (down); e.g. a 200 x 132 frame resizes to 339 x 224 and torchvision crops from
column 58, CLIPProcessor from 57. We follow CLIPProcessor, so the ``upstream`` CLIP-I is the original's number; the
same embeddings serve our own CLIP-I values (neither offset is better). Frames are preprocessed one by one (cheap)
and encoded in batches of ``batch_size``.

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
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_processor_preprocess(frame: np.ndarray, size: int = 224) -> Any:
    """(3, size, size) float32 tensor of one uint8 RGB frame (H, W, 3), as the original's CLIPProcessor (module doc)."""
    import torch
    from PIL import Image

    height, width = frame.shape[:2]
    short, long = (height, width) if height <= width else (width, height)
    new_long = int(size * long / short)
    new_height, new_width = (size, new_long) if height <= width else (new_long, size)
    resized = np.asarray(Image.fromarray(frame).resize((new_width, new_height), resample=Image.Resampling.BICUBIC))
    top, left = (new_height - size) // 2, (new_width - size) // 2
    crop = resized[top : top + size, left : left + size].astype(np.float32) / 255.0
    normalised = (crop - np.array(OPENAI_MEAN, np.float32)) / np.array(OPENAI_STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(normalised.transpose(2, 0, 1)))


class ClipEncoder:
    """ImageEncoder: (N, 512) float32 L2-normalised CLIP image embeddings."""

    def __init__(self, model: Any, device: str = "auto", batch_size: int = 32) -> None:
        """Args:
            model: an open_clip ``CLIP`` model (ViT-B-32 for the metric suite).
            device: "auto", "cpu", "cuda" or "cuda:N".
            batch_size: frames per forward pass.
        """
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = int(batch_size)
        size = model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, (tuple, list)) else size)

    def preprocess(self, frame: np.ndarray) -> Any:
        """(3, S, S) float32 tensor of one uint8 RGB frame, S the model's input size (module doc)."""
        return clip_processor_preprocess(frame, self.image_size)

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

        check_frames(frames)
        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), self.batch_size):
                batch = torch.stack([self.preprocess(f) for f in frames[start : start + self.batch_size]])
                features = self.model.encode_image(batch.to(self.device))
                out.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
