"""Expert-pair loader: loads as UNETLoader does and refuses pairs that are not two Wan2.2 A14B I2V experts."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import save_file

from fixtures.lora_files import make_sdxl_lora
from fixtures.tiny_models import tiny_expert_state_dict


def load(comfy_host, high: str, low: str, weight_dtype: str = "default"):
    return comfy_host.node("CircleRotateLoadExperts").execute(
        high_noise_model=high, low_noise_model=low, weight_dtype=weight_dtype
    )


@pytest.fixture(scope="module")
def extra_files(tiny_models) -> dict[str, str]:
    """Misfit files in diffusion_models: a copy of the high expert, a 5B-like and a wider model, a LoRA."""
    folder = tiny_models.models_dir / "diffusion_models"
    shutil.copyfile(folder / tiny_models.high_expert, folder / "copy_of_high.safetensors")
    save_file(tiny_expert_state_dict(seed=5, in_dim=48, out_dim=48), str(folder / "wan2.2_ti2v_5B_tiny.safetensors"))
    save_file(tiny_expert_state_dict(seed=6, dim=256, ffn_dim=256), str(folder / "wan_wide_tiny.safetensors"))
    save_file(make_sdxl_lora(), str(folder / "not_a_model.safetensors"))
    return {"copy": "copy_of_high.safetensors", "5b": "wan2.2_ti2v_5B_tiny.safetensors",
            "wide": "wan_wide_tiny.safetensors", "lora": "not_a_model.safetensors"}


def test_pair_loads_like_unet_loader(comfy_host, tiny_models) -> None:
    model_high, model_low = load(comfy_host, tiny_models.high_expert, tiny_models.low_expert)[:2]
    native = comfy_host.node("UNETLoader")().load_unet(tiny_models.high_expert, "default")[0]
    assert model_high.model.model_config.unet_config["in_dim"] == 36
    assert type(model_high.model) is type(native.model)
    ours, theirs = model_high.model.diffusion_model.state_dict(), native.model.diffusion_model.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert not torch.equal(ours["head.head.weight"], model_low.model.diffusion_model.state_dict()["head.head.weight"])


def test_fp8_weight_dtype_is_passed_to_the_loader(comfy_host, tiny_models) -> None:
    model_high = load(comfy_host, tiny_models.high_expert, tiny_models.low_expert, "fp8_e4m3fn")[0]
    assert model_high.model.diffusion_model.blocks[0].self_attn.q.weight.dtype == torch.float8_e4m3fn


def test_same_file_twice_is_refused(comfy_host, tiny_models) -> None:
    with pytest.raises(ValueError, match="high_noise_model and low_noise_model are the same file"):
        load(comfy_host, tiny_models.high_expert, tiny_models.high_expert)


def test_two_copies_of_one_expert_are_refused(comfy_host, tiny_models, extra_files) -> None:
    with pytest.raises(ValueError, match=r"high_noise_model '.*' and low_noise_model 'copy_of_high.safetensors' hold "
                       r"the same weights: two copies of one expert"):
        load(comfy_host, tiny_models.high_expert, extra_files["copy"])


def test_t2v_expert_is_refused(comfy_host, tiny_models) -> None:
    with pytest.raises(ValueError, match=r"low_noise_model 'wan2.1_t2v_tiny.safetensors' is a text-to-video \(T2V\) "
                       r"Wan model with in_dim 16"):
        load(comfy_host, tiny_models.high_expert, tiny_models.t2v_expert)


def test_5b_model_is_refused(comfy_host, tiny_models, extra_files) -> None:
    with pytest.raises(ValueError, match=r"high_noise_model 'wan2.2_ti2v_5B_tiny.safetensors' is a Wan2.2 TI2V 5B"):
        load(comfy_host, extra_files["5b"], tiny_models.low_expert)


def test_experts_of_different_width_are_refused(comfy_host, tiny_models, extra_files) -> None:
    with pytest.raises(ValueError, match=r"\(dim 128\) and low_noise_model 'wan_wide_tiny.safetensors' \(dim 256\) "
                       r"are not a pair"):
        load(comfy_host, tiny_models.high_expert, extra_files["wide"])


def test_a_file_that_is_not_a_diffusion_model_is_refused(comfy_host, tiny_models, extra_files) -> None:
    with pytest.raises(ValueError, match=r"low_noise_model 'not_a_model.safetensors' is not a diffusion model ComfyUI "
                       r"recognises"):
        load(comfy_host, tiny_models.high_expert, extra_files["lora"])


def test_swapped_expert_files_are_warned_about(comfy_host, tiny_models, caplog) -> None:
    with caplog.at_level("WARNING"):
        load(comfy_host, tiny_models.low_expert, tiny_models.high_expert)
    assert "high_noise_model 'wan2.2_i2v_low_noise_tiny.safetensors' looks like the low-noise expert" in caplog.text
    assert "low_noise_model 'wan2.2_i2v_high_noise_tiny.safetensors' looks like the high-noise expert" in caplog.text
