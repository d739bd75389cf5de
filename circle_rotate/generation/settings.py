"""Generation settings (models, sampling, size) and per-call fields, written into an API workflow.

Settings are written through the batch client's mapper (``client.workflow_fill.FieldMap`` with explicit targets,
and ``fill``), so ``generate`` and ``circle-rotate batch`` put a value into a workflow the same way. Each setting
names the (class, input) pairs it writes; a setting the workflow has no input for is an error naming it.

The paper preset (``workflows/api/circle_rotate_paper_preset.json``, after the original Circle-Rotate
workflow.json) is the default workflow; a setting left at None keeps the workflow's own value, so the defaults
are the preset's: ``PAPER_DEFAULTS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..client.jobs import convert
from ..client.workflow_fill import FieldMap, Target, fill, is_link

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows" / "api"
PAPER_PRESET = WORKFLOWS_DIR / "circle_rotate_paper_preset.json"

PAPER_DEFAULTS: dict[str, Any] = {
    "model_high": "wan2.2_fun_inpaint_high_noise_14B_fp8_scaled.safetensors",
    "model_low": "wan2.2_fun_inpaint_low_noise_14B_fp8_scaled.safetensors",
    "lora_high": "circle_rotate_h.safetensors",
    "lora_low": "circle_rotate_l.safetensors",
    "vae": "wan_2.1_vae.safetensors",
    "text_encoder": "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "seed": 689614986174150,
    "steps": 4,
    "cfg": 1.6,
    "shift": 8.0,
    "handover": 2,
    "width": 1280,
    "height": 720,
    "length": 81,
    "fps": 16.0,
    "lora_strength": 1.0,
}
"""The paper preset's values (FACTS.md: 4 euler/simple steps split 2/2, cfg 1.6, shift 8, 81 frames at 16 fps,
1280x720 as inference.py; LoRA strength 1.0; the lightx2v 4-step LoRAs under the Circle-Rotate ones)."""

BASE_MODELS: dict[str, tuple[str, str]] = {
    "Wan2.2-I2V-14B": ("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
                       "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"),
    "Wan2.2-Fun-Inpaint-14B": ("wan2.2_fun_inpaint_high_noise_14B_fp8_scaled.safetensors",
                               "wan2.2_fun_inpaint_low_noise_14B_fp8_scaled.safetensors"),
}
"""``base_model`` names (the original's ``"Wan2.2-I2V-14B"``) -> (high, low) expert files (fp8, Comfy-Org)."""

_CONDITIONING = ("CircleRotateFirstLastFrame", "WanFirstLastFrameToVideo", "WanFunInpaintToVideo", "WanImageToVideo")
_SAMPLER = "CircleRotateTwoExpertSampler"
SETTING_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "model_high": (("CircleRotateLoadExperts", "high_noise_model"),),
    "model_low": (("CircleRotateLoadExperts", "low_noise_model"),),
    "lora_high": (("CircleRotateDualLora", "lora_high"),),
    "lora_low": (("CircleRotateDualLora", "lora_low"),),
    "lora_strength": (("CircleRotateDualLora", "strength_high"), ("CircleRotateDualLora", "strength_low")),
    "vae": (("VAELoader", "vae_name"),),
    "text_encoder": (("CLIPLoader", "clip_name"),),
    "steps": ((_SAMPLER, "steps"), ("KSamplerAdvanced", "steps")),
    "cfg": ((_SAMPLER, "cfg_high"), (_SAMPLER, "cfg_low"), ("KSamplerAdvanced", "cfg")),
    "shift": ((_SAMPLER, "shift"), ("ModelSamplingSD3", "shift")),
    "width": tuple((kind, "width") for kind in _CONDITIONING),
    "height": tuple((kind, "height") for kind in _CONDITIONING),
    "length": tuple((kind, "length") for kind in _CONDITIONING),
    "fps": (("CreateVideo", "fps"),),
    "handover": ((_SAMPLER, "handover"),),
    "handover_step": ((_SAMPLER, "handover_step"),),
    "boundary": ((_SAMPLER, "boundary"),),
}
"""Setting -> the (class, input) pairs it writes (every node of that class in the workflow)."""


def handover_fields(handover: int | float) -> dict[str, Any]:
    """The sampler fields of ``handover``: an int is the step where the low-noise expert takes over, a float in
    (0, 1) the sigma boundary (timestep/1000; Wan's I2V rule is 0.9).

    Raises:
        ValueError: a negative int, or a float outside (0, 1).
    """
    if isinstance(handover, bool) or not isinstance(handover, (int, float)):
        raise ValueError(f"handover {handover!r} is neither a step (int) nor a sigma boundary (float in (0, 1))")
    if isinstance(handover, int):
        if handover < 0:
            raise ValueError(f"handover {handover} is negative: give the step where the low-noise expert starts (e.g. 2 of 4)")
        return {"handover": "step", "handover_step": handover}
    if not 0.0 < handover < 1.0:
        raise ValueError(f"handover {handover} is not a sigma boundary in (0, 1): use e.g. 0.9, or an int step")
    return {"handover": "sigma_boundary", "boundary": float(handover)}


def setting_targets(workflow: dict[str, Any], name: str) -> list[Target]:
    """The literal inputs ``name`` (a key of ``SETTING_INPUTS``) writes in ``workflow``; empty when none."""
    pairs = SETTING_INPUTS[name]
    return [Target(node_id, input_name) for node_id, node in workflow.items() for kind, input_name in pairs
            if node["class_type"] == kind and input_name in node["inputs"] and not is_link(node["inputs"][input_name])]


def apply(workflow: dict[str, Any], settings: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``workflow`` with ``settings`` (keys of ``SETTING_INPUTS``) and ``fields`` (the batch mapper's
    fields: ``first_image``, ``seed``, ``prompt``, ``subject``, ``cfg``, ``12.steps`` ...) written in.

    None values are skipped. Each value is converted to the type of the input it replaces.

    Raises:
        ValueError: a setting or field the workflow has no input for, or a value of the wrong type; the message
            names it.
    """
    settings = {name: value for name, value in settings.items() if value is not None}
    fields = {name: value for name, value in fields.items() if value is not None}
    overrides: dict[str, list[Target]] = {}
    for name in settings:
        targets = setting_targets(workflow, name)
        if not targets:
            where = ", ".join(f"{kind}.{input_name}" for kind, input_name in SETTING_INPUTS[name])
            raise ValueError(f"{name}={settings[name]!r}: the workflow has no input for it (looked for {where}); "
                             "leave it unset or use a workflow that has one")
        overrides[f"setting:{name}"] = targets
    field_map = FieldMap(workflow, overrides)
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if not field_map.resolve(name):
            raise ValueError(f"{name}={value!r}: the workflow has no input for it; name an input (e.g. cfg or "
                             "12.steps) or use a workflow that takes it")
        values[name] = value
    values.update({f"setting:{name}": value for name, value in settings.items()})
    for name, value in values.items():
        try:
            values[name] = convert(value, field_map.kind(name))
        except ValueError as error:
            raise ValueError(f"{name.removeprefix('setting:')}: {error}") from None
    return fill(workflow, field_map, values)
