"""LPIPS (AlexNet, v0.1) perceptual distance between frame pairs, at full resolution as the original.

Inputs are scaled from uint8 to [-1, 1] (``x / 127.5 - 1``, what ``lpips`` expects with ``normalize=False``).
The LPIPS linear layers ship inside the ``lpips`` package; the AlexNet backbone is torchvision's ImageNet
AlexNet (``alexnet-owt-7be5be79.pth``), whose ``features.{i}.*`` keys map to lpips' ``net.slice{k}.{i}.*``
(slice1 = features 0-1, slice2 = 2-4, slice3 = 5-7, slice4 = 8-9, slice5 = 10-11). Loading it from a local
file avoids lpips' own ``torchvision.models.alexnet(pretrained=True)``, which downloads at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .frames import check_pair, to_tensor


def build_model() -> Any:
    """``lpips.LPIPS(net='alex')`` with its packaged linear layers and a random (not downloaded) AlexNet."""
    import warnings

    import lpips

    with warnings.catch_warnings():  # lpips calls torchvision's deprecated alexnet(pretrained=False)
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False)


def load_alexnet(model: Any, state: Mapping[str, Any]) -> None:
    """Copy torchvision AlexNet ``features.*`` weights from ``state`` into ``model.net`` (in place).

    Raises:
        ValueError: if ``state`` lacks a backbone weight lpips needs.
    """
    mapped = {}
    for name in model.net.state_dict():
        source = "features." + name.split(".", 1)[1]
        if source not in state:
            raise ValueError(f"AlexNet weights lack {source!r} (needed for lpips {name!r}); use alexnet-owt-7be5be79.pth.")
        mapped[name] = state[source]
    model.net.load_state_dict(mapped, strict=True)


class LpipsDistance:
    """PerceptualDistance: (N,) LPIPS distances between frame pairs."""

    def __init__(self, model: Any, device: str = "auto", batch_size: int = 4) -> None:
        """Args:
            model: an ``lpips.LPIPS`` module.
            device: "auto", "cpu", "cuda" or "cuda:N".
            batch_size: pairs per forward pass (full-resolution frames).
        """
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.batch_size = int(batch_size)

    @staticmethod
    def load_model(path: str | Path) -> Any:
        """LPIPS AlexNet with the torchvision AlexNet weights in ``path``. Raises FileNotFoundError if absent."""
        import torch

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"AlexNet weights file {str(path)!r} does not exist.")
        model = build_model()
        load_alexnet(model, torch.load(str(path), map_location="cpu", weights_only=True))
        return model

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", **options: Any) -> LpipsDistance:
        """A distance on the AlexNet weights in ``path``."""
        return cls(cls.load_model(path), device=device, **options)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(N,) float32 LPIPS distances between ``a[i]`` and ``b[i]`` (uint8 RGB, same shape)."""
        import torch

        check_pair(a, b)
        out = []
        with torch.inference_mode():
            for start in range(0, len(a), self.batch_size):
                x = to_tensor(a[start : start + self.batch_size], self.device).float() / 127.5 - 1.0
                y = to_tensor(b[start : start + self.batch_size], self.device).float() / 127.5 - 1.0
                out.append(self.model(x, y).reshape(-1).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)
