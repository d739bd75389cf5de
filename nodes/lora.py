"""Dual LoRA: a LoRA per Wan2.2 expert (plus an optional first pair, e.g. lightx2v), inspected before patching.

Order per expert, as the original Circle-Rotate workflow: the extra LoRA (lightx2v 4-step) first, then the
Circle-Rotate LoRA, each through ``comfy.sd.load_lora_for_models`` (clone, then patch) exactly as
``LoraLoaderModelOnly`` does. A LoRA whose modules the expert lacks is an error, not a log line: below
``MIN_MATCHED_FRACTION`` of its modules matched, the node stops and says what the keys look like. Modules the
expert lacks by design (Wan2.1 I2V's image cross-attention, ``lora_inspect.wan21_image_branch``, on an expert
without it) are "not applicable": reported, left out of that fraction, and skipped as ComfyUI skips them. A module
whose shape differs from the expert's weight (a LoRA for another Wan width) is an error too: ComfyUI would log it
and leave the weight unchanged. A file that cannot be read is an error naming the input and the file.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
from dataclasses import dataclass

import comfy.lora
import comfy.lora_convert
import comfy.sd
import comfy.utils
import folder_paths
from comfy_api.latest import io
from safetensors import SafetensorError

from ..circle_rotate.lora_inspect import (
    FORMAT_DESCRIPTIONS, coverage, expert_hint, inspect_lora, module_stems, shape_mismatches, wan21_image_branch,
)

CATEGORY = "CircleRotate/loaders"
NONE = "None"
MIN_MATCHED_FRACTION = 0.9
"""A LoRA must match at least this fraction of its modules in the expert (a Wan2.2 LoRA matches all of them)."""

_EXPERT_WORDS = {"high": "high-noise", "low": "low-noise"}


@dataclass(frozen=True)
class LoraReport:
    """One applied (or skipped) LoRA, for the UI and the STRING output."""

    input_name: str
    file_name: str
    expert: str
    strength: float
    key_format: str
    rank: int | None
    alpha: float | None
    matched: int
    total: int
    warning: str | None
    not_applicable: int = 0

    def line(self) -> str:
        alpha = "none (scale 1)" if self.alpha is None else f"{self.alpha:g}"
        skipped = (
            f" ({self.not_applicable} not applicable: Wan2.1 I2V image cross-attention the expert lacks, "
            "skipped as LoraLoaderModelOnly skips them)" if self.not_applicable else ""
        )
        text = (
            f"{self.input_name} '{self.file_name}' -> {_EXPERT_WORDS[self.expert]} expert, strength {self.strength:g}"
            f"{' (skipped: strength 0)' if self.strength == 0 else ''}: {self.key_format}, rank {self.rank}, "
            f"alpha {alpha}, matched {self.matched}/{self.total - self.not_applicable} modules{skipped}"
        )
        return f"{text}\nWARNING: {self.warning}" if self.warning else text


_READ_ERRORS = (SafetensorError, ValueError, RuntimeError, OSError, EOFError, pickle.UnpicklingError)
"""What reading a damaged file raises: safetensors (header, truncated data), torch.load (zip, pickle), the OS."""


def _read_lora(input_name: str, file_name: str) -> tuple[dict, dict]:
    """The LoRA's tensors and metadata.

    Raises:
        ValueError: naming the input, the file, its size and the reader's complaint, if the file cannot be read or
            holds no tensors.
    """
    path = folder_paths.get_full_path_or_raise("loras", file_name)
    try:
        tensors, metadata = comfy.utils.load_torch_file(path, safe_load=True, return_metadata=True)
    except _READ_ERRORS as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"{input_name} '{file_name}' cannot be read as a LoRA ({path}, {os.path.getsize(path)} bytes): "
            f"{type(error).__name__}: {reason}. The file is corrupt or incomplete: download it again (compare its "
            "size with the published one) or choose another file."
        ) from error
    if not isinstance(tensors, dict) or not tensors:
        raise ValueError(
            f"{input_name} '{file_name}' holds no tensors ({path}): it is empty or not a LoRA; choose a LoRA file."
        )
    return tensors, metadata or {}


def _model_shapes(model) -> dict[str, tuple[int, ...]]:
    """Key -> shape of every parameter and buffer of the model: the logical shape for quantized tensors (read from
    the modules themselves; ComfyUI-GGUF's state dict holds the packed bytes of a Q8_0 tensor)."""
    tensors = itertools.chain(model.model.named_parameters(), model.model.named_buffers())
    return {key: tuple(value.shape) for key, value in tensors}


def _lacks_image_branch(model_shapes: dict[str, tuple[int, ...]]) -> bool:
    """Whether the model has no Wan2.1 I2V image branch (no ``img_emb``, no ``k_img``): a Wan2.2 expert."""
    return not any(".k_img." in key or ".img_emb." in key for key in model_shapes)


def _check_shapes(input_name: str, file_name: str, expert_words: str, tensors: dict, key_map: dict,
                  model_shapes: dict[str, tuple[int, ...]], matched: int) -> None:
    """Raise ValueError naming the input, the file, the expert and one example module with both shapes if any
    matched module's delta has another shape than the expert's weight."""
    mismatches = shape_mismatches(tensors, key_map, model_shapes)
    if not mismatches:
        return
    first = mismatches[0]
    count = len({mismatch.stem for mismatch in mismatches})
    raise ValueError(
        f"{input_name} '{file_name}' does not fit the {expert_words} expert: {count} of its {matched} matched "
        f"modules have other shapes than the expert's weights, e.g. {first.stem} carries a {first.lora_shape} "
        f"delta where the expert's {first.model_key} is {first.model_shape}. The LoRA was made for another model "
        "(another Wan width, e.g. a 5B LoRA on an A14B expert); ComfyUI would skip these modules and leave the "
        f"expert unchanged. Choose a LoRA trained for this {expert_words} expert."
    )


def inspect_for_expert(input_name: str, file_name: str, expert: str, model, tensors: dict, metadata: dict,
                       strength: float) -> LoraReport:
    """Inspect a LoRA against the expert it is about to patch.

    Modules the expert lacks by design (Wan2.1 I2V image cross-attention on an expert without it) are counted
    as not applicable and left out of the matched fraction.

    Raises:
        ValueError: naming the input, the file and the expert, if fewer than ``MIN_MATCHED_FRACTION`` of the
            LoRA's applicable modules match the expert's LoRA keys, or if a matched module's shape differs from the
            expert's weight (one example key with both shapes).
    """
    info = inspect_lora(tensors, metadata)
    key_map = comfy.lora.model_lora_keys_unet(model.model, {})
    converted = comfy.lora_convert.convert_lora(tensors)
    model_shapes = _model_shapes(model)
    by_design = wan21_image_branch if _lacks_image_branch(model_shapes) else None
    matched = coverage(module_stems(converted), key_map, lacks_by_design=by_design)
    expert_words = _EXPERT_WORDS[expert]
    if matched.fraction < MIN_MATCHED_FRACTION:
        what = (
            f"it is not a Wan2.2 LoRA (its keys look like {info.key_example()})"
            if matched.matched == 0 else
            f"unmatched modules such as {', '.join(matched.unmatched)}; its keys look like {info.key_example()}"
        )
        not_applicable = (
            f" (and {len(matched.not_applicable)} not applicable: Wan2.1 I2V image cross-attention)"
            if matched.not_applicable else ""
        )
        raise ValueError(
            f"{input_name} '{file_name}' matched {matched.matched} of {matched.applicable} modules of the "
            f"{expert_words} expert{not_applicable} (at least {MIN_MATCHED_FRACTION:.0%} needed): {what}. Choose a "
            f"Wan2.2 A14B LoRA for the {expert_words} expert, in a format ComfyUI applies ({FORMAT_DESCRIPTIONS['musubi']}, "
            f"{FORMAT_DESCRIPTIONS['peft']}, {FORMAT_DESCRIPTIONS['wan_fun']} or {FORMAT_DESCRIPTIONS['comfy']})."
        )
    _check_shapes(input_name, file_name, expert_words, converted, key_map, model_shapes, matched.matched)
    hint, evidence = expert_hint(file_name, metadata)
    warning = None
    if hint is not None and hint != expert:
        warning = (
            f"{input_name} '{file_name}' looks like a LoRA for the {_EXPERT_WORDS[hint]} expert ({evidence}) but is "
            f"applied to the {expert_words} expert: check that the high and low LoRAs are not swapped."
        )
        logging.warning("Circle Rotate Dual LoRA: %s", warning)
    return LoraReport(input_name, file_name, expert, strength, info.key_format, info.rank, info.alpha,
                      matched.matched, matched.total, warning, len(matched.not_applicable))


def apply_lora(model, input_name: str, file_name: str, strength: float, expert: str) -> tuple[object, LoraReport]:
    """Inspect, then patch a clone of ``model`` as LoraLoaderModelOnly does; strength 0 returns ``model`` itself."""
    tensors, metadata = _read_lora(input_name, file_name)
    report = inspect_for_expert(input_name, file_name, expert, model, tensors, metadata, strength)
    if strength == 0:
        return model, report
    patched, _ = comfy.sd.load_lora_for_models(model, None, tensors, strength, 0)
    return patched, report


def _lora_input(name: str, tooltip: str, optional: bool) -> io.Combo.Input:
    """A LoRA file choice with a "None" entry: first and the default where ``optional``, else last (with no default
    set, the frontend then offers the first file; None leaves that expert without this LoRA)."""
    files = folder_paths.get_filename_list("loras")
    if optional:
        return io.Combo.Input(name, options=[NONE, *files], default=NONE, tooltip=tooltip)
    return io.Combo.Input(name, options=[*files, NONE], tooltip=tooltip)


def _strength_input(name: str, default: float, tooltip: str) -> io.Float.Input:
    return io.Float.Input(name, default=default, min=-100.0, max=100.0, step=0.01, tooltip=tooltip)


class DualLora(io.ComfyNode):
    """Applies a LoRA to each Wan2.2 expert (and an optional first pair), after checking each fits its expert."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateDualLora",
            display_name="Dual LoRA for Wan2.2 Experts (Circle Rotate)",
            category=CATEGORY,
            description="Applies lora_high to the high-noise expert and lora_low to the low-noise expert with "
            "ComfyUI's own LoRA loader (clone, then patch; as LoraLoaderModelOnly). Optional extra LoRAs (e.g. the "
            "lightx2v 4-step pair) are applied first, as in the original Circle-Rotate workflow. Each LoRA is "
            f"inspected first: key format, rank, alpha, how many of its modules the expert has and whether their "
            f"shapes fit. Fewer than {MIN_MATCHED_FRACTION:.0%} matched, a module of the wrong shape (a LoRA for "
            "another Wan width) or an unreadable file is an error; Wan2.1 image cross-attention modules, which a "
            "Wan2.2 expert lacks by design, are reported as not applicable and skipped as LoraLoaderModelOnly skips "
            "them; a LoRA whose name or metadata says it is for the other expert gets a warning. Accepts any MODEL "
            "(this pack's loader, UNETLoader, GGUF loaders).",
            inputs=[
                io.Model.Input("model_high", tooltip="The high-noise expert (any MODEL loader)."),
                io.Model.Input("model_low", tooltip="The low-noise expert (any MODEL loader)."),
                _lora_input("lora_high", "LoRA for the high-noise expert, e.g. circle_rotate_h.safetensors. None "
                            "leaves the high-noise expert without it.", False),
                _strength_input("strength_high", 1.0, "Strength of lora_high (0 leaves the expert unchanged; "
                                "the original project uses 0.8-1.0)."),
                _lora_input("lora_low", "LoRA for the low-noise expert, e.g. circle_rotate_l.safetensors. None "
                            "leaves the low-noise expert without it.", False),
                _strength_input("strength_low", 1.0, "Strength of lora_low (0 leaves the expert unchanged)."),
                _lora_input("extra_lora_high", "Optional LoRA applied to the high-noise expert BEFORE lora_high, "
                            "e.g. wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors. None to skip.", True),
                _strength_input("extra_strength_high", 1.0, "Strength of extra_lora_high."),
                _lora_input("extra_lora_low", "Optional LoRA applied to the low-noise expert BEFORE lora_low, "
                            "e.g. wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors. None to skip.", True),
                _strength_input("extra_strength_low", 1.0, "Strength of extra_lora_low."),
            ],
            outputs=[
                io.Model.Output(display_name="model_high",
                    tooltip="The high-noise expert with its LoRAs (a patched clone)."),
                io.Model.Output(display_name="model_low",
                    tooltip="The low-noise expert with its LoRAs (a patched clone)."),
                io.String.Output("report", tooltip="Per LoRA: expert, strength, format, rank, alpha, matched/total "
                                 "modules, and any warning."),
            ],
        )

    @classmethod
    def execute(
        cls, model_high: io.Model.Type, model_low: io.Model.Type, lora_high: str, strength_high: float, lora_low: str,
        strength_low: float, extra_lora_high: str = NONE, extra_strength_high: float = 1.0,
        extra_lora_low: str = NONE, extra_strength_low: float = 1.0,
    ) -> io.NodeOutput:
        plan = {
            "high": [("extra_lora_high", extra_lora_high, extra_strength_high),
                     ("lora_high", lora_high, strength_high)],
            "low": [("extra_lora_low", extra_lora_low, extra_strength_low),
                    ("lora_low", lora_low, strength_low)],
        }
        if all(file_name == NONE for steps in plan.values() for _, file_name, _ in steps):
            raise ValueError(
                "Dual LoRA: lora_high, lora_low, extra_lora_high and extra_lora_low are all None: choose at least one "
                "LoRA, or take the node out of the graph"
            )
        models = {"high": model_high, "low": model_low}
        reports: list[LoraReport] = []
        for expert, steps in plan.items():
            for input_name, file_name, strength in steps:
                if file_name == NONE:
                    continue
                models[expert], report = apply_lora(models[expert], input_name, file_name, strength, expert)
                reports.append(report)
        text = "\n".join(report.line() for report in reports)
        return io.NodeOutput(models["high"], models["low"], text, ui={"text": text.splitlines()})


NODES: list[type[io.ComfyNode]] = [DualLora]
