"""Dense optical flow with torchvision's RAFT (``raft_large``, Chairs+Things weights ``raft_large_C_T_V2``).

VBench's dynamic degree runs the original RAFT ("raft-things") with 20 refinement iterations; torchvision's
``raft_large`` is the same architecture, and ``Raft_Large_Weights.C_T_V2`` is its Chairs+Things training.
Preprocessing as torchvision's ``OpticalFlow`` transform: uint8 -> [0, 1] -> [-1, 1] (RAFT's own
``2 * (x / 255) - 1``). RAFT needs sides divisible by 8, and torchvision's at least 128 (its correlation pyramid):
frames are padded by edge replication split evenly between the two sides (VBench's ``InputPadder``, "sintel"
mode) and the flow is cropped back to the frames given. The flow of the last iteration is returned, in pixels.

VBench's dynamic degree scores the flow of the PADDED frame, so ``metrics/motion.py`` pads the frames itself, as
VBench does, before calling :meth:`RaftFlow.flow`; they then arrive with sides that are multiples of 8 and nothing
more is padded here, unless a side is under 128 px (the original RAFT runs on such frames unpadded: there the
flow, and so VBench's number, cannot be matched exactly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .frames import check_pair, to_tensor

SIZES = ("large", "small")
MIN_SIDE = 128
"""RAFT's correlation pyramid needs feature maps of at least 16x16, i.e. frames of at least 128x128."""


def build_model(size: str = "large") -> Any:
    """torchvision RAFT (``raft_large`` or ``raft_small``) with random weights (nothing is downloaded)."""
    from torchvision.models import optical_flow

    if size not in SIZES:
        raise ValueError(f"RAFT size {size!r} is unknown: use one of {', '.join(SIZES)}.")
    return getattr(optical_flow, f"raft_{size}")(weights=None, progress=False)


def pad_amounts(height: int, width: int, multiple: int = 8, minimum: int = MIN_SIDE) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) replicate padding making both sides multiples of ``multiple`` and >= ``minimum``."""
    pad_h = max(minimum, height + (-height) % multiple) - height
    pad_w = max(minimum, width + (-width) % multiple) - width
    return pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2


class RaftFlow:
    """OpticalFlow: (N, H, W, 2) float32 flow from ``a[i]`` to ``b[i]`` in pixels (x, y)."""

    min_side = MIN_SIDE
    """Frames with a shorter side are padded further than VBench's RAFT pads them (read by ``metrics/motion.py``,
    which then says in the report that VBench's number is not matched exactly)."""

    def __init__(self, model: Any, device: str = "auto", num_flow_updates: int = 20, batch_size: int = 8) -> None:
        """Args:
            model: a torchvision ``RAFT`` module.
            device: "auto", "cpu", "cuda" or "cuda:N".
            num_flow_updates: refinement iterations (VBench: 20).
            batch_size: frame pairs per forward pass.
        """
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.num_flow_updates = int(num_flow_updates)
        self.batch_size = int(batch_size)

    @staticmethod
    def load_model(path: str | Path, size: str = "large") -> Any:
        """RAFT with the torchvision weights in ``path``. Raises FileNotFoundError if absent."""
        import torch

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"RAFT weights file {str(path)!r} does not exist.")
        model = build_model(size)
        model.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True), strict=True)
        return model

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", size: str = "large", **options: Any) -> RaftFlow:
        """Flow on the weights in ``path``."""
        return cls(cls.load_model(path, size), device=device, **options)

    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(N, H, W, 2) float32 flow from ``a[i]`` to ``b[i]`` (uint8 RGB, same shape), in pixels."""
        import torch

        check_pair(a, b)
        height, width = a.shape[1:3]
        left, right, top, bottom = pad_amounts(height, width)
        out = []
        with torch.inference_mode():
            for start in range(0, len(a), self.batch_size):
                pair = [
                    torch.nn.functional.pad(
                        to_tensor(x[start : start + self.batch_size], self.device).float() / 127.5 - 1.0,
                        (left, right, top, bottom),
                        mode="replicate",
                    )
                    for x in (a, b)
                ]
                flow = self.model(pair[0], pair[1], num_flow_updates=self.num_flow_updates)[-1]
                flow = flow[:, :, top : top + height, left : left + width]
                out.append(flow.permute(0, 2, 3, 1).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)
