"""The tiny test models stand in for the real ones: ComfyUI sees them as it sees Wan2.2 I2V A14B experts."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def loaded_experts(comfy_host, tiny_models):
    loader = comfy_host.node("UNETLoader")()
    with torch.inference_mode():
        high = loader.load_unet(tiny_models.high_expert, "default")[0]
        low = loader.load_unet(tiny_models.low_expert, "default")[0]
    return high, low


def test_tiny_experts_load_as_wan_with_36_input_channels(loaded_experts) -> None:
    for model in loaded_experts:
        config = model.model.model_config.unet_config
        assert config["image_model"] == "wan2.1"
        assert config["in_dim"] == 36 and config["dim"] == 128 and config["num_layers"] == 2
    high, low = loaded_experts
    high_weight = high.model.diffusion_model.blocks[0].self_attn.q.weight
    low_weight = low.model.diffusion_model.blocks[0].self_attn.q.weight
    assert not torch.equal(high_weight, low_weight), "the two experts must differ"


@pytest.mark.parametrize("role", ["high_musubi", "low_musubi", "high_peft", "low_peft", "high_wan_fun", "low_wan_fun",
                                  "lightx2v_high", "lightx2v_low"])
def test_every_wan_lora_format_matches_all_its_modules(comfy_host, tiny_models, loaded_experts, role) -> None:
    import comfy.lora
    import comfy.lora_convert
    import comfy.utils
    import folder_paths

    model = loaded_experts[0 if "high" in role else 1]
    lora = comfy.utils.load_torch_file(folder_paths.get_full_path_or_raise("loras", tiny_models.loras[role]))
    key_map = comfy.lora.model_lora_keys_unet(model.model, {})
    patches = comfy.lora.load_lora(comfy.lora_convert.convert_lora(lora), key_map, log_missing=False)
    assert len(patches) == 2 * 10, f"{role}: {len(patches)} of 20 modules matched"


def test_sdxl_lora_matches_nothing(comfy_host, tiny_models, loaded_experts) -> None:
    import comfy.lora
    import comfy.lora_convert
    import comfy.utils
    import folder_paths

    lora = comfy.utils.load_torch_file(folder_paths.get_full_path_or_raise("loras", tiny_models.loras["sdxl"]))
    key_map = comfy.lora.model_lora_keys_unet(loaded_experts[0].model, {})
    assert comfy.lora.load_lora(comfy.lora_convert.convert_lora(lora), key_map, log_missing=False) == {}
