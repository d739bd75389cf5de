"""Which torch device the metric models run on: CUDA when available, else CPU, with an explicit override."""

from __future__ import annotations

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(requested: str | None = "auto") -> str:
    """The torch device string for ``requested``.

    Args:
        requested: "auto" or None (CUDA when ``torch.cuda.is_available()``, else CPU), "cpu", "cuda" or "cuda:N".

    Returns:
        "cpu", "cuda" or "cuda:N".

    Raises:
        ValueError: for an unknown device name, or when CUDA is requested but not available.
    """
    import torch

    name = (requested or "auto").strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {requested!r} was requested but CUDA is not available here "
                "(torch.cuda.is_available() is False: no NVIDIA driver/GPU, or a CPU-only torch build). "
                "Use device 'cpu' or 'auto'."
            )
        index = int(name[5:]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device {requested!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist; "
                "use 'cuda' or 'cuda:0'."
            )
        return name
    raise ValueError(f"device {requested!r} is not a known device: use one of auto, cpu, cuda, cuda:N.")
