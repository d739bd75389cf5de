"""Errors of ``generate``, each naming the input and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import weights
from .graph import ModelRef


class GenerationError(RuntimeError):
    """ComfyUI ran the workflow and a node failed (the message is ComfyUI's, with the node named)."""


class ComfyUINotFoundError(RuntimeError):
    """No ComfyUI to run in-process was found; the message says how to point at one."""


class MissingModelError(FileNotFoundError):
    """A model file the workflow loads is not in ComfyUI's model folders; the message says how to get it."""


PARAMETERS = {
    ("CircleRotateLoadExperts", "high_noise_model"): "model_high",
    ("CircleRotateLoadExperts", "low_noise_model"): "model_low",
    ("CircleRotateDualLora", "lora_high"): "lora_high",
    ("CircleRotateDualLora", "lora_low"): "lora_low",
    ("VAELoader", "vae_name"): "vae",
    ("CLIPLoader", "clip_name"): "text_encoder",
}
"""Loader inputs that a ``CircleRotateInference`` argument sets (for the message)."""

OOM_HINT = (
    "out of memory: use the fp8 model files (wan2.2_*_14B_fp8_scaled.safetensors, umt5_xxl_fp8_e4m3fn_scaled."
    "safetensors) and a smaller size or length (e.g. width=832, height=480, length=49), or start ComfyUI with "
    "--lowvram"
)


def comfyui_not_found(tried: Sequence[str]) -> ComfyUINotFoundError:
    """The error for no ComfyUI: where it looked, and the three ways to point at one."""
    where = "; ".join(tried) if tried else "nowhere"
    return ComfyUINotFoundError(
        f"no ComfyUI found to run in-process (looked: {where}). Point at a ComfyUI checkout (the folder with "
        "main.py) with comfyui=PATH (CLI: --comfyui PATH) or the COMFYUI_PATH environment variable, install this "
        "pack into ComfyUI/custom_nodes, or queue on a running server with server='http://127.0.0.1:8188' "
        "(CLI: --server URL)."
    )


def missing_model(ref: ModelRef, folders: Sequence[str], available: Sequence[str], comfyui: Path | str | None) -> MissingModelError:
    """The error for a model file that is not there: the file, the folders searched, the download command."""
    parameter = PARAMETERS.get((ref.class_type, ref.input))
    named = f"{parameter} " if parameter else ""
    entry = next((e for e in weights.entries("generation") if e.name == ref.name), None)
    where = ", ".join(str(folder) for folder in folders) or f"<ComfyUI>/models/{ref.folder}"
    target = f"--comfyui {comfyui}" if comfyui else "--comfyui <ComfyUI>"
    if entry is not None:
        fix = (f"Get it with `circle-rotate models download --what generation {target}` "
               f"(or download {entry.url} into {ref.folder}/).")
    else:
        fix = f"Put the file into {where}" + (f", or pass another file with {parameter}=" if parameter else "") + "."
    choices = f" Files there: {', '.join(sorted(available)[:8])}." if available else ""
    return MissingModelError(
        f"{named}model file {ref.name!r} (node {ref.node_id}, {ref.class_type}.{ref.input}) was not found in "
        f"{where}. {fix}{choices}"
    )


def with_oom_hint(message: str) -> str:
    """``message``, followed by ``OOM_HINT`` when it reports an out-of-memory error."""
    lowered = message.lower()
    if "out of memory" in lowered or "outofmemory" in lowered:
        return f"{message}\n{OOM_HINT}"
    return message
