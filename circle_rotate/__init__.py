"""ComfyUI-free core of ComfyUI-CircleRotate: video IO, the metric suite, LoRA inspection, the batch client, the CLI.

Nothing in this package imports ComfyUI; the ComfyUI adapters live in ``nodes/`` beside it and import this
package, never the other way round. Heavy libraries (ultralytics, segment_anything, open_clip, lpips, cv2)
are imported inside the functions that need them, so importing this package stays cheap.
"""

__version__ = "0.1.0"

_LAZY = {"CircleRotateInference": "generation", "GenerationResult": "generation"}
"""Attributes imported on first use (``circle_rotate.CircleRotateInference``), so ``import circle_rotate`` stays light."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
