"""Dual LoRA node: applies LoRAs as LoraLoaderModelOnly does, inspects them first, refuses misfits, warns on swaps."""

from __future__ import annotations

import logging

import pytest
import torch

from fixtures.generation_graphs import conditioning
from fixtures.lora_files import make_lora, make_wan21_i2v_lora, wan_lora_modules, widened, write_lora
from fixtures.tiny_models import tiny_expert_state_dict


@pytest.fixture(scope="module")
def sample(comfy_host):
    """Sample a fixed latent with a (high, low) pair: same seed, conditioning and settings every call."""
    latent = {"samples": torch.zeros(1, 16, 3, 8, 8)}
    positive, negative = conditioning(1), conditioning(2)

    def run(model_high, model_low) -> torch.Tensor:
        with torch.inference_mode():
            return comfy_host.node("CircleRotateTwoExpertSampler").execute(
                model_high=model_high, model_low=model_low, positive=positive, negative=negative, latent=latent,
                seed=3, steps=4, cfg_high=1.0, cfg_low=1.0, sampler_name="euler", scheduler="simple", shift=8.0,
                handover="step", handover_step=2, boundary=0.9, add_noise=True,
            )[0]["samples"]

    return run


def dual_lora(comfy_host, experts, lora_high, lora_low, strength_high=1.0, strength_low=1.0, **extra):
    return comfy_host.node("CircleRotateDualLora").execute(
        model_high=experts[0], model_low=experts[1], lora_high=lora_high, strength_high=strength_high,
        lora_low=lora_low, strength_low=strength_low, **extra,
    )


@pytest.mark.parametrize("key_format", ["musubi", "peft", "wan_fun"])
def test_each_format_applies_like_the_native_loader(comfy_host, tiny_models, experts, sample, key_format) -> None:
    high, low = tiny_models.loras[f"high_{key_format}"], tiny_models.loras[f"low_{key_format}"]
    result = dual_lora(comfy_host, experts, high, low)
    report = result[2]
    assert report.count("matched 20/20 modules") == 2, report
    assert f": {key_format}, rank 4" in report
    native = comfy_host.node("LoraLoaderModelOnly")()
    native_high = native.load_lora_model_only(experts[0], high, 1.0)[0]
    native_low = native.load_lora_model_only(experts[1], low, 1.0)[0]
    ours = sample(result[0], result[1])
    assert torch.equal(ours, sample(native_high, native_low))
    assert not torch.equal(ours, sample(*experts)), "the LoRA did not change the output"


def test_inputs_are_not_mutated_and_outputs_are_clones(comfy_host, tiny_models, experts) -> None:
    before = (len(experts[0].patches), len(experts[1].patches))
    result = dual_lora(comfy_host, experts, tiny_models.loras["high_musubi"], tiny_models.loras["low_musubi"])
    assert (len(experts[0].patches), len(experts[1].patches)) == before == (0, 0)
    assert result[0] is not experts[0] and len(result[0].patches) == 20


def test_strength_zero_equals_no_lora(comfy_host, tiny_models, experts, sample) -> None:
    result = dual_lora(comfy_host, experts, tiny_models.loras["high_musubi"], tiny_models.loras["low_musubi"], 0.0, 0.0)
    assert "skipped: strength 0" in result[2]
    assert torch.equal(sample(result[0], result[1]), sample(*experts))


def test_extra_pair_is_applied_before_the_main_pair(comfy_host, tiny_models, experts, sample) -> None:
    loras = tiny_models.loras
    result = dual_lora(comfy_host, experts, loras["high_musubi"], loras["low_musubi"],
                       extra_lora_high=loras["lightx2v_high"], extra_strength_high=1.0,
                       extra_lora_low=loras["lightx2v_low"], extra_strength_low=1.0)
    lines = result.ui["text"]
    assert [line.split(" ", 1)[0] for line in lines if not line.startswith("WARNING")] == [
        "extra_lora_high", "lora_high", "extra_lora_low", "lora_low"]
    assert "comfy, rank 4, alpha 4" in lines[0]
    native = comfy_host.node("LoraLoaderModelOnly")()
    high = native.load_lora_model_only(native.load_lora_model_only(experts[0], loras["lightx2v_high"], 1.0)[0],
                                       loras["high_musubi"], 1.0)[0]
    low = native.load_lora_model_only(native.load_lora_model_only(experts[1], loras["lightx2v_low"], 1.0)[0],
                                      loras["low_musubi"], 1.0)[0]
    assert torch.equal(sample(result[0], result[1]), sample(high, low))


def test_none_leaves_that_expert_as_it_is(comfy_host, tiny_models, experts, sample) -> None:
    low = tiny_models.loras["low_musubi"]
    options = next(item for item in comfy_host.node("CircleRotateDualLora").define_schema().inputs if item.id == "lora_high")
    assert options.options[-1] == "None" and options.options[0] != "None" and options.default is None

    result = dual_lora(comfy_host, experts, "None", low)

    assert len(result[0].patches) == 0 and len(result[1].patches) == 20
    assert [line.split(" ", 1)[0] for line in result.ui["text"]] == ["lora_low"]
    native_low = comfy_host.node("LoraLoaderModelOnly")().load_lora_model_only(experts[1], low, 1.0)[0]
    assert torch.equal(sample(result[0], result[1]), sample(experts[0], native_low))


def test_every_lora_none_is_an_error_naming_the_inputs(comfy_host, experts) -> None:
    with pytest.raises(ValueError, match="lora_high, lora_low, extra_lora_high and extra_lora_low are all None"):
        dual_lora(comfy_host, experts, "None", "None")


def test_sdxl_lora_is_refused_with_a_clear_message(comfy_host, tiny_models, experts) -> None:
    with pytest.raises(ValueError) as error:
        dual_lora(comfy_host, experts, tiny_models.loras["sdxl"], tiny_models.loras["low_musubi"])
    message = str(error.value)
    assert message.startswith(
        f"lora_high '{tiny_models.loras['sdxl']}' matched 0 of 12 modules of the high-noise expert"
    ), message
    assert "it is not a Wan2.2 LoRA (its keys look like SDXL/SD UNet" in message
    assert "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k" in message


def test_partly_matching_lora_is_refused(comfy_host, tiny_models, experts) -> None:
    modules = wan_lora_modules(tiny_expert_state_dict(seed=1))
    deeper = {name.replace("blocks.1.", "blocks.7."): shape for name, shape in modules.items()}
    write_lora(tiny_models.models_dir / "loras" / "deeper_model.safetensors", make_lora(deeper, "musubi"))
    with pytest.raises(ValueError, match=r"lora_low 'deeper_model.safetensors' matched 10 of 20 modules of the "
                       r"low-noise expert \(at least 90% needed\): unmatched modules such as lora_unet_blocks_7_"):
        dual_lora(comfy_host, experts, tiny_models.loras["high_musubi"], "deeper_model.safetensors")


def test_swapped_loras_are_warned_about(comfy_host, tiny_models, experts, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        result = dual_lora(comfy_host, experts, tiny_models.loras["low_peft"], tiny_models.loras["high_musubi"])
    assert result[2].count("WARNING:") == 2
    assert "lora_high 'circle_rotate_l_peft.safetensors' looks like a LoRA for the low-noise expert (its file name " \
           "says low-noise) but is applied to the high-noise expert" in result[2]
    assert "lora_low 'circle_rotate_h.safetensors' looks like a LoRA for the high-noise expert (its file name and " \
           "metadata say high-noise)" in result[2]
    assert sum("check that the high and low LoRAs are not swapped" in r.getMessage() for r in caplog.records) == 2
    assert result.ui["text"] == result[2].split("\n")


def test_wan21_i2v_lora_skips_the_image_branch_exactly_as_the_native_loader(comfy_host, tiny_models, experts,
                                                                            sample) -> None:
    name = "wan2.1_i2v_lightx2v_tiny.safetensors"
    write_lora(tiny_models.models_dir / "loras" / name, make_wan21_i2v_lora(tiny_expert_state_dict(seed=1)))

    result = dual_lora(comfy_host, experts, name, name)

    assert result[2].count("matched 22/22 modules (10 not applicable: Wan2.1 I2V image cross-attention") == 2, result[2]
    native = comfy_host.node("LoraLoaderModelOnly")()
    native_high = native.load_lora_model_only(experts[0], name, 1.0)[0]
    native_low = native.load_lora_model_only(experts[1], name, 1.0)[0]
    for ours, theirs in ((result[0], native_high), (result[1], native_low)):
        assert set(ours.patches) == set(theirs.patches) and len(ours.patches) == 2 * 11 + 2  # 2 .diff_b biases
        assert not any("img" in key for key in ours.patches)
    patched = sample(result[0], result[1])
    assert torch.equal(patched, sample(native_high, native_low))
    assert not torch.equal(patched, sample(*experts)), "the LoRA did not change the output"


def test_a_lora_with_only_image_branch_modules_is_refused(comfy_host, tiny_models, experts) -> None:
    tensors = make_wan21_i2v_lora(tiny_expert_state_dict(seed=1))
    image_only = {key: value for key, value in tensors.items() if "img" in key}
    write_lora(tiny_models.models_dir / "loras" / "image_branch_only.safetensors", image_only)
    with pytest.raises(ValueError, match=r"lora_high 'image_branch_only.safetensors' matched 0 of 0 modules of the "
                       r"high-noise expert \(and 10 not applicable: Wan2.1 I2V image cross-attention\)"):
        dual_lora(comfy_host, experts, "image_branch_only.safetensors", "None")


def test_a_lora_for_another_wan_width_is_refused_with_both_shapes(comfy_host, tiny_models, experts) -> None:
    modules = widened(wan_lora_modules(tiny_expert_state_dict(seed=1)))
    write_lora(tiny_models.models_dir / "loras" / "wider_wan.safetensors", make_lora(modules, "musubi"))
    with pytest.raises(ValueError) as error:
        dual_lora(comfy_host, experts, tiny_models.loras["high_musubi"], "wider_wan.safetensors")
    assert str(error.value).startswith(
        "lora_low 'wider_wan.safetensors' does not fit the low-noise expert: 20 of its 20 matched modules have other "
        "shapes than the expert's weights, e.g. lora_unet_blocks_0_cross_attn_k carries a (256, 256) delta where "
        "the expert's diffusion_model.blocks.0.cross_attn.k.weight is (128, 128)."
    ), error.value


def test_one_module_of_the_wrong_shape_is_refused(comfy_host, tiny_models, experts) -> None:
    modules = wan_lora_modules(tiny_expert_state_dict(seed=1))
    modules["blocks.1.ffn.2"] = (modules["blocks.1.ffn.2"][0], modules["blocks.1.ffn.2"][1] * 2)
    write_lora(tiny_models.models_dir / "loras" / "one_wrong.safetensors", make_lora(modules, "peft"))
    with pytest.raises(ValueError, match=r"lora_high 'one_wrong.safetensors' does not fit the high-noise expert: 1 "
                       r"of its 20 matched modules .* diffusion_model.blocks.1.ffn.2 carries a \(128, 512\) delta "
                       r"where the expert's diffusion_model.blocks.1.ffn.2.weight is \(128, 256\)"):
        dual_lora(comfy_host, experts, "one_wrong.safetensors", "None")


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("truncated.safetensors", lambda data: data[: len(data) // 2]),
        ("empty.safetensors", lambda data: b""),
        ("not_safetensors.safetensors", lambda data: b"<html>404 Not Found</html>" * 4),
        ("truncated.pt", lambda data: b"PK\x03\x04" + data[:100]),
    ],
)
def test_a_damaged_file_names_the_input_and_the_file(comfy_host, tiny_models, experts, name, damage) -> None:
    loras = tiny_models.models_dir / "loras"
    (loras / name).write_bytes(damage((loras / tiny_models.loras["low_musubi"]).read_bytes()))
    try:
        with pytest.raises(ValueError) as error:
            dual_lora(comfy_host, experts, tiny_models.loras["high_musubi"], name)
    finally:
        (loras / name).unlink()  # no damaged file left for other tests that list the LoRA folder
    message = str(error.value)
    assert message.startswith(f"lora_low '{name}' cannot be read as a LoRA ({loras / name}, "), message
    assert "The file is corrupt or incomplete: download it again" in message
