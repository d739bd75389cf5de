"""Expert-pair loader: the Wan2.2 A14B high-noise and low-noise experts through ComfyUI's own loader."""

from __future__ import annotations

import logging

import comfy.sd
import folder_paths
import torch
from comfy_api.latest import io

from ..circle_rotate.lora_inspect import expert_hint

CATEGORY = "CircleRotate/loaders"
WEIGHT_DTYPES = ("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2")
I2V_IN_CHANNELS = 36
"""Wan2.2 A14B I2V and Fun-Inpaint experts: 16 noise + 16 image + 4 mask latent channels."""

_IDENTITY_TENSORS = ("patch_embedding.weight", "head.head.weight", "blocks.0.self_attn.q.weight")
"""Weights compared to detect two copies of one expert."""


def unet_model_options(weight_dtype: str) -> dict:
    """The ``model_options`` UNETLoader passes to ``comfy.sd.load_diffusion_model`` for ``weight_dtype``."""
    if weight_dtype == "fp8_e4m3fn":
        return {"dtype": torch.float8_e4m3fn}
    if weight_dtype == "fp8_e4m3fn_fast":
        return {"dtype": torch.float8_e4m3fn, "fp8_optimizations": True}
    if weight_dtype == "fp8_e5m2":
        return {"dtype": torch.float8_e5m2}
    if weight_dtype == "default":
        return {}
    raise ValueError(f"weight_dtype {weight_dtype!r} is not one of {', '.join(WEIGHT_DTYPES)}")


def _load(input_name: str, file_name: str, weight_dtype: str):
    path = folder_paths.get_full_path_or_raise("diffusion_models", file_name)
    try:
        return comfy.sd.load_diffusion_model(path, model_options=unet_model_options(weight_dtype))
    except RuntimeError as error:
        raise ValueError(
            f"{input_name} '{file_name}' is not a diffusion model ComfyUI recognises ({error}). "
            "Choose a Wan2.2 I2V A14B (or Fun-Inpaint A14B) expert from models/diffusion_models."
        ) from error


def describe_expert(input_name: str, file_name: str, model) -> dict:
    """The Wan architecture of a loaded expert (image_model, model_type, dim, num_layers, in_dim, out_dim).

    Raises:
        ValueError: if the model is not a Wan A14B-style I2V/Fun-Inpaint expert (36 input channels).
    """
    unet_config = model.model.model_config.unet_config
    keys = ("image_model", "model_type", "dim", "num_layers", "in_dim", "out_dim")
    config = {key: unet_config.get(key) for key in keys}
    label = f"{input_name} '{file_name}'"
    if config["image_model"] not in ("wan2.1", "wan2.2"):
        raise ValueError(
            f"{label} is a {config['image_model'] or type(model.model).__name__} model, not Wan. "
            "Choose a Wan2.2 I2V A14B expert."
        )
    if config["in_dim"] == 48 or config["out_dim"] == 48:
        raise ValueError(
            f"{label} is a Wan2.2 TI2V 5B model (48 latent channels); the Circle-Rotate LoRAs are for the two "
            "A14B I2V experts (36 input channels). Choose wan2.2_i2v_high/low_noise_14B files."
        )
    if config["in_dim"] != I2V_IN_CHANNELS:
        kind = "text-to-video (T2V)" if config["in_dim"] == 16 else f"{config['in_dim']}-channel"
        raise ValueError(
            f"{label} is a {kind} Wan model with in_dim {config['in_dim']}; the experts must be image-to-video "
            f"with {I2V_IN_CHANNELS} input channels (Wan2.2 I2V A14B or Fun-Inpaint A14B)."
        )
    return config


def _same_weights(model_a, model_b) -> bool:
    net_a, net_b = model_a.model.diffusion_model, model_b.model.diffusion_model
    return all(torch.equal(net_a.get_parameter(name), net_b.get_parameter(name)) for name in _IDENTITY_TENSORS)


def check_pair(high_name: str, low_name: str, model_high, model_low) -> tuple[dict, dict]:
    """Check that two loaded experts form a Wan2.2 A14B I2V pair; returns their architectures.

    Raises:
        ValueError: naming the input, if either is not an I2V Wan expert, if width/depth differ, or if both
            hold the same weights.
    """
    high = describe_expert("high_noise_model", high_name, model_high)
    low = describe_expert("low_noise_model", low_name, model_low)
    for key in ("dim", "num_layers"):
        if high[key] != low[key]:
            raise ValueError(
                f"high_noise_model '{high_name}' ({key} {high[key]}) and low_noise_model '{low_name}' "
                f"({key} {low[key]}) are not a pair: both experts of Wan2.2 A14B have the same {key}. "
                "Choose the high- and low-noise files of the same release."
            )
    if _same_weights(model_high, model_low):
        raise ValueError(
            f"high_noise_model '{high_name}' and low_noise_model '{low_name}' hold the same weights: two copies of "
            "one expert. Choose the high-noise file for high_noise_model and the low-noise file for low_noise_model."
        )
    return high, low


def _warn_if_swapped(input_name: str, file_name: str, expected: str) -> None:
    hint, evidence = expert_hint(file_name)
    if hint is not None and hint != expected:
        logging.warning(
            "Circle Rotate expert loader: %s '%s' looks like the %s-noise expert (%s); check the two are not swapped.",
            input_name, file_name, hint, evidence,
        )


class LoadExpertPair(io.ComfyNode):
    """Loads the two Wan2.2 A14B experts and checks they form an I2V pair."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        files = folder_paths.get_filename_list("diffusion_models")
        dtype_tooltip = (
            "Weight dtype, as in UNETLoader: default keeps the file's dtype; fp8_e4m3fn / fp8_e5m2 store weights in "
            "fp8 to halve memory; fp8_e4m3fn_fast also uses fp8 matrix multiplication where the GPU supports it."
        )
        return io.Schema(
            node_id="CircleRotateLoadExperts",
            display_name="Load Wan2.2 Expert Pair (Circle Rotate)",
            category=CATEGORY,
            description="Loads the high-noise and the low-noise expert of Wan2.2 I2V A14B (or Fun-Inpaint A14B) from "
            "models/diffusion_models with ComfyUI's own loader (as UNETLoader), and checks that they form a pair: both "
            "Wan, same width and depth, 36 input channels, not two copies of one file. A T2V or 5B model, or a file "
            "that is not a diffusion model, is an error naming the input.",
            inputs=[
                io.Combo.Input("high_noise_model", options=files, tooltip="The high-noise expert (early, noisy steps), "
                               "e.g. wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors."),
                io.Combo.Input("low_noise_model", options=files, tooltip="The low-noise expert (late, detail steps), "
                               "e.g. wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors."),
                io.Combo.Input("weight_dtype", options=list(WEIGHT_DTYPES), default="default", tooltip=dtype_tooltip),
            ],
            outputs=[
                io.Model.Output("model_high", tooltip="The high-noise expert (a native MODEL)."),
                io.Model.Output("model_low", tooltip="The low-noise expert (a native MODEL)."),
            ],
        )

    @classmethod
    def execute(cls, high_noise_model: str, low_noise_model: str, weight_dtype: str) -> io.NodeOutput:
        if high_noise_model == low_noise_model:
            raise ValueError(
                f"high_noise_model and low_noise_model are the same file '{high_noise_model}': choose the high-noise "
                "expert for high_noise_model and the low-noise expert for low_noise_model."
            )
        _warn_if_swapped("high_noise_model", high_noise_model, "high")
        _warn_if_swapped("low_noise_model", low_noise_model, "low")
        model_high = _load("high_noise_model", high_noise_model, weight_dtype)
        model_low = _load("low_noise_model", low_noise_model, weight_dtype)
        check_pair(high_noise_model, low_noise_model, model_high, model_low)
        return io.NodeOutput(model_high, model_low)


NODES: list[type[io.ComfyNode]] = [LoadExpertPair]
