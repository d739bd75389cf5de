"""Dual LoRA on Wan experts loaded by city96's ComfyUI-GGUF (``UnetLoaderGGUF``), inside the real host.

The GGUF pack is found by ``fixtures/gguf_pack.py``; without it (or without the ``gguf`` package) these tests skip
and say how to enable them. Both ways ComfyUI-GGUF stores weights are covered: Q8_0 (the tensor stays quantized and
the LoRA patches ride on it, applied each time it is dequantized in a forward) and F16 (torch-compatible: its model
patcher computes and writes the patched weight, as core ComfyUI does). The model outputs compared are one forward
of the diffusion model on fixed random inputs, after ComfyUI loads the model with its patches as samplers do.
"""

from __future__ import annotations

import pytest
import torch

from fixtures.comfy_in_process import run_coroutine
from fixtures.gguf_pack import find_gguf_pack
from fixtures.lora_files import make_lora, make_wan21_i2v_lora, wan_lora_modules, widened, write_lora
from fixtures.tiny_gguf import write_tiny_expert_gguf
from fixtures.tiny_models import tiny_expert_state_dict

GGUF_LINK_NAME = "ComfyUI-GGUF"
STRENGTH = 0.8


@pytest.fixture(scope="module")
def gguf_loader(comfy_host) -> type:
    """ComfyUI-GGUF's ``UnetLoaderGGUF`` class, after loading the pack into the in-process host as ComfyUI does."""
    path, reason = find_gguf_pack()
    if path is None:
        pytest.skip(f"GGUF tests need city96's ComfyUI-GGUF: {reason}")
    if "UnetLoaderGGUF" not in comfy_host.nodes.NODE_CLASS_MAPPINGS:
        link = comfy_host.base_dir / "custom_nodes" / GGUF_LINK_NAME
        if not link.exists():
            link.symlink_to(path, target_is_directory=True)
        if not run_coroutine(comfy_host.nodes.load_custom_node(str(link), module_parent="custom_nodes")):
            raise RuntimeError(f"ComfyUI failed to load ComfyUI-GGUF from {link} ({path}); see the log above")
    return comfy_host.node("UnetLoaderGGUF")


@pytest.fixture(scope="module", params=["Q8_0", "F16"])
def gguf_experts(request, comfy_host, tiny_models, gguf_loader) -> tuple:
    """(high, low) tiny experts written as GGUF (weights as ``request.param``) and loaded by ``UnetLoaderGGUF``.

    They are the experts of the ``tiny_models`` fixture (same seeds), so its LoRA files fit them.
    """
    loaded = []
    for expert, seed in (("high", 1), ("low", 2)):
        name = f"wan2.2_i2v_{expert}_noise_tiny_{request.param}.gguf"
        write_tiny_expert_gguf(tiny_models.models_dir / "diffusion_models" / name, tiny_expert_state_dict(seed),
                               request.param)
        loaded.append(gguf_loader().load_unet(name)[0])
    return tuple(loaded)


def forward(model) -> torch.Tensor:
    """One forward of ``model``'s diffusion model with its patches (loaded as a sampler loads it), fixed inputs."""
    import comfy.model_management

    generator = torch.Generator().manual_seed(0)
    latent = torch.randn(1, 16, 2, 8, 8, generator=generator)
    image_and_mask = torch.randn(1, 20, 2, 8, 8, generator=generator)
    context = torch.randn(1, 8, 4096, generator=generator)
    comfy.model_management.load_models_gpu([model])
    with torch.inference_mode():
        return model.model.apply_model(latent, torch.tensor([0.7]), c_concat=image_and_mask,
                                       c_crossattn=context).clone()


def dual_lora(comfy_host, high, low, lora_high: str, lora_low: str, **extra):
    return comfy_host.node("CircleRotateDualLora").execute(
        model_high=high, model_low=low, lora_high=lora_high, strength_high=STRENGTH, lora_low=lora_low,
        strength_low=STRENGTH, **extra,
    )


def native(comfy_host, model, *loras: str):
    """``model`` through one ``LoraLoaderModelOnly`` per LoRA, in order, each at ``STRENGTH``."""
    for lora in loras:
        model = comfy_host.node("LoraLoaderModelOnly")().load_lora_model_only(model, lora, STRENGTH)[0]
    return model


def test_gguf_expert_is_the_expert_it_was_built_from(gguf_experts, experts, request) -> None:
    weight_type = request.node.callspec.params["gguf_experts"]
    high = gguf_experts[0]
    assert type(high).__name__ == "GGUFModelPatcher"
    assert high.model.model_config.unet_config["in_dim"] == 36
    weight = high.model.diffusion_model.blocks[0].self_attn.q.weight
    assert weight.tensor_type.name == weight_type, "the LoRA targets are not stored as the file says"
    tolerance = 0.1 if weight_type == "Q8_0" else 0.01
    torch.testing.assert_close(forward(high), forward(experts[0]), atol=tolerance, rtol=tolerance)


def test_dual_lora_matches_every_module_and_applies_like_the_native_loader(comfy_host, tiny_models, experts,
                                                                          gguf_experts) -> None:
    loras = tiny_models.loras
    result = dual_lora(comfy_host, *gguf_experts, loras["high_musubi"], loras["low_musubi"])
    report = result[2]
    assert report.count("matched 20/20 modules") == 2 and "WARNING" not in report, report
    assert report == dual_lora(comfy_host, *experts, loras["high_musubi"], loras["low_musubi"])[2], \
        "the report on GGUF experts differs from the one on safetensors experts"
    for ours, model, lora in ((result[0], gguf_experts[0], loras["high_musubi"]),
                              (result[1], gguf_experts[1], loras["low_musubi"])):
        patched = forward(ours)
        assert (patched - forward(model)).abs().max() > 0.05, "the LoRA did not change the GGUF expert's output"
        torch.testing.assert_close(patched, forward(native(comfy_host, model, lora)), rtol=1e-6, atol=1e-6)


def test_extra_pair_chains_on_gguf_like_two_native_loaders(comfy_host, tiny_models, gguf_experts) -> None:
    loras = tiny_models.loras
    result = dual_lora(comfy_host, *gguf_experts, loras["high_musubi"], loras["low_musubi"],
                       extra_lora_high=loras["lightx2v_high"], extra_strength_high=STRENGTH,
                       extra_lora_low=loras["lightx2v_low"], extra_strength_low=STRENGTH)
    high = native(comfy_host, gguf_experts[0], loras["lightx2v_high"], loras["high_musubi"])
    low = native(comfy_host, gguf_experts[1], loras["lightx2v_low"], loras["low_musubi"])
    torch.testing.assert_close(forward(result[0]), forward(high), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(forward(result[1]), forward(low), rtol=1e-6, atol=1e-6)
    only_main = dual_lora(comfy_host, *gguf_experts, loras["high_musubi"], loras["low_musubi"])
    assert (forward(result[0]) - forward(only_main[0])).abs().max() > 0.05, "the extra LoRA was not applied"


def test_input_gguf_model_is_not_mutated(comfy_host, tiny_models, gguf_experts) -> None:
    high, low = gguf_experts
    before = forward(high), forward(low)
    result = dual_lora(comfy_host, high, low, tiny_models.loras["high_musubi"], tiny_models.loras["low_musubi"])
    for patched in result[:2]:  # load the patched clones onto the modules they share with the inputs
        forward(patched)
    assert result[0] is not high and type(result[0]) is type(high), "the output is not a GGUF clone of the input"
    assert (high.patches, low.patches) == ({}, {})
    assert torch.equal(forward(high), before[0]) and torch.equal(forward(low), before[1])


def test_a_lora_for_another_width_is_refused_on_gguf_experts(comfy_host, tiny_models, gguf_experts) -> None:
    modules = widened(wan_lora_modules(tiny_expert_state_dict(seed=1)))
    write_lora(tiny_models.models_dir / "loras" / "wider_wan_gguf.safetensors", make_lora(modules, "musubi"))
    with pytest.raises(ValueError, match=r"lora_high 'wider_wan_gguf.safetensors' does not fit the high-noise "
                       r"expert: 20 of its 20 matched modules .* carries a \(256, 256\) delta where the expert's "
                       r"diffusion_model.blocks.0.cross_attn.k.weight is \(128, 128\)"):
        dual_lora(comfy_host, *gguf_experts, "wider_wan_gguf.safetensors", "None")


def test_wan21_i2v_lora_on_gguf_experts_does_what_the_native_loader_does(comfy_host, tiny_models,
                                                                        gguf_experts) -> None:
    name = "wan2.1_i2v_lightx2v_tiny_gguf.safetensors"
    write_lora(tiny_models.models_dir / "loras" / name, make_wan21_i2v_lora(tiny_expert_state_dict(seed=1)))
    result = dual_lora(comfy_host, *gguf_experts, name, name)
    assert result[2].count("matched 22/22 modules (10 not applicable") == 2, result[2]
    for ours, model in zip(result[:2], gguf_experts):
        patched = forward(ours)
        assert (patched - forward(model)).abs().max() > 0.01, "the LoRA did not change the GGUF expert's output"
        torch.testing.assert_close(patched, forward(native(comfy_host, model, name)), rtol=1e-6, atol=1e-6)
