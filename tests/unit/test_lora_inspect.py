"""circle_rotate.lora_inspect: key formats, rank/alpha, Wan module paths, coverage and expert hints."""

from __future__ import annotations

import pytest
import torch

from circle_rotate import lora_inspect
from fixtures.lora_files import WAN_LORA_TARGETS, make_lora, make_sdxl_lora, musubi_metadata

MODULES = {f"blocks.{b}.{t}": (8, 8) for b in range(2) for t in WAN_LORA_TARGETS}


@pytest.mark.parametrize(
    ("key_format", "expected_stem", "alpha"),
    [
        ("musubi", "lora_unet_blocks_0_self_attn_q", 4.0),
        ("wan_fun", "lora_unet__blocks_0_self_attn_q", 4.0),
        ("peft", "diffusion_model.blocks.0.self_attn.q", None),
        ("comfy", "diffusion_model.blocks.0.self_attn.q", 4.0),
    ],
)
def test_wan_formats_are_detected_with_rank_alpha_and_paths(key_format: str, expected_stem: str, alpha) -> None:
    info = lora_inspect.inspect_lora(make_lora(MODULES, key_format, rank=4, alpha=4.0))
    assert info.key_format == key_format
    assert len(info.modules) == len(MODULES) == 20
    assert info.rank == 4 and info.ranks == [4]
    assert info.alpha == alpha
    assert info.modules[expected_stem].wan_path == "blocks.0.self_attn.q"
    assert {module.wan_path for module in info.modules.values()} == set(MODULES)


def test_musubi_names_with_underscores_are_restored() -> None:
    info = lora_inspect.inspect_lora(
        {
            "lora_unet_blocks_3_cross_attn_norm_k_img.lora_down.weight": torch.zeros(2, 4),
            "lora_unet_blocks_3_cross_attn_k_img.lora_down.weight": torch.zeros(2, 4),
            "lora_unet_time_projection_1.lora_down.weight": torch.zeros(2, 4),
        }
    )
    assert {m.wan_path for m in info.modules.values()} == {
        "blocks.3.cross_attn.norm_k_img", "blocks.3.cross_attn.k_img", "time_projection.1",
    }


def test_sdxl_lora_is_recognised_and_described() -> None:
    info = lora_inspect.inspect_lora(make_sdxl_lora())
    assert info.key_format == "sdxl"
    assert all(module.wan_path is None for module in info.modules.values())
    assert info.key_example().startswith("SDXL/SD UNet")
    assert ": lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k" in info.key_example()


def test_other_formats() -> None:
    diffusers = lora_inspect.inspect_lora(
        {"transformer.blocks.0.attn1.to_out.0.lora_A.weight": torch.zeros(2, 4),
         "transformer.blocks.0.ffn.net.0.proj.lora_A.weight": torch.zeros(2, 4)}
    )
    assert diffusers.key_format == "diffusers"
    assert {m.wan_path for m in diffusers.modules.values()} == {"blocks.0.self_attn.o", "blocks.0.ffn.0"}
    bare = lora_inspect.inspect_lora({"blocks.0.self_attn.q.lora_A.weight": torch.zeros(2, 4)})
    assert bare.key_format == "peft_bare"
    loha = lora_inspect.inspect_lora({"lycoris_blocks_0_self_attn_q.hada_w1_a": torch.zeros(4, 2),
                                      "lycoris_blocks_0_self_attn_q.hada_w1_b": torch.zeros(2, 4)})
    assert loha.key_format == "lycoris" and loha.rank == 2
    assert lora_inspect.inspect_lora({"foo.bar": torch.zeros(1)}).key_format == "unknown"


def test_alpha_falls_back_to_metadata_and_empty_lora_is_rejected() -> None:
    info = lora_inspect.inspect_lora(make_lora(MODULES, "musubi", alpha=None), musubi_metadata(4, 2.0, "high"))
    assert info.alpha == 2.0
    with pytest.raises(ValueError, match="no tensors"):
        lora_inspect.inspect_lora({})


def test_coverage_counts_module_stems_against_model_keys() -> None:
    tensors = make_lora(MODULES, "comfy")
    stems = lora_inspect.module_stems(tensors)
    model_keys = {f"diffusion_model.{name}" for name in list(MODULES)[:15]}
    result = lora_inspect.coverage(stems, model_keys)
    assert (result.matched, result.total) == (15, 20)
    assert result.fraction == pytest.approx(0.75)
    assert len(result.unmatched) == 3 and all(stem not in model_keys for stem in result.unmatched)
    assert lora_inspect.coverage(stems, set()).matched == 0


@pytest.mark.parametrize(
    ("name", "metadata", "expected"),
    [
        ("circle_rotate_h.safetensors", None, "high"),
        ("circle_rotate_l_peft.safetensors", None, "low"),
        ("wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors", None, "high"),
        ("Wan2.2-I2V-A14B-LowNoise.safetensors", None, "low"),
        ("orbit.safetensors", musubi_metadata(4, 4.0, "low"), "low"),
        ("orbit.safetensors", {"ss_min_timestep": "900", "ss_max_timestep": "1000"}, "high"),
        ("orbit.safetensors", {"ss_min_timestep": "0", "ss_max_timestep": "900"}, "low"),
        ("orbit.safetensors", {"ss_min_timestep": "n/a"}, None),
        ("wan2.1_t2v_tiny.safetensors", None, None),
        ("high_and_low.safetensors", None, None),
    ],
)
def test_expert_hint(name: str, metadata, expected) -> None:
    expert, evidence = lora_inspect.expert_hint(name, metadata)
    assert expert == expected
    if expected:
        assert expected in evidence


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("diffusion_model.blocks.3.cross_attn.k_img", True),
        ("lora_unet_blocks_0_cross_attn_v_img", True),
        ("lora_unet_blocks_12_cross_attn_norm_k_img", True),
        ("diffusion_model.img_emb.proj.1", True),
        ("lora_unet_img_emb_proj_3", True),
        ("diffusion_model.blocks.3.cross_attn.k", False),
        ("diffusion_model.blocks.3.self_attn.norm_k", False),
        ("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k", False),
    ],
)
def test_wan21_image_branch(stem: str, expected: bool) -> None:
    assert lora_inspect.wan21_image_branch(stem) is expected


def test_modules_the_model_lacks_by_design_are_not_applicable() -> None:
    stems = {f"diffusion_model.{name}" for name in MODULES} | {
        "diffusion_model.blocks.0.cross_attn.k_img", "diffusion_model.img_emb.proj.1", "diffusion_model.blocks.9.ffn.0"}
    model_keys = {f"diffusion_model.{name}" for name in MODULES}

    plain = lora_inspect.coverage(stems, model_keys)
    assert (plain.matched, plain.total, plain.applicable, plain.not_applicable) == (20, 23, 23, ())

    result = lora_inspect.coverage(stems, model_keys, lacks_by_design=lora_inspect.wan21_image_branch)
    assert (result.matched, result.total, result.applicable) == (20, 23, 21)
    assert result.not_applicable == ("diffusion_model.blocks.0.cross_attn.k_img", "diffusion_model.img_emb.proj.1")
    assert result.unmatched == ("diffusion_model.blocks.9.ffn.0",)
    assert result.fraction == pytest.approx(20 / 21)
    nothing = lora_inspect.coverage({"diffusion_model.img_emb.proj.1"}, model_keys, lacks_by_design=lambda s: True)
    assert (nothing.applicable, nothing.fraction) == (0, 0.0)


KEY_MAP = {
    "lora_unet_blocks_0_self_attn_q": "diffusion_model.blocks.0.self_attn.q.weight",
    "diffusion_model.blocks.0.self_attn.q": "diffusion_model.blocks.0.self_attn.q.weight",
    "diffusion_model.blocks.0.norm3": "diffusion_model.blocks.0.norm3.weight",
    "diffusion_model.patch_embedding": "diffusion_model.patch_embedding.weight",
    "fused.k": ("diffusion_model.qkv.weight", (0, 8, 8)),
}
SHAPES = {
    "diffusion_model.blocks.0.self_attn.q.weight": (8, 6),
    "diffusion_model.blocks.0.self_attn.q.bias": (8,),
    "diffusion_model.blocks.0.norm3.weight": (8,),
    "diffusion_model.patch_embedding.weight": (8, 4, 1, 2, 2),
    "diffusion_model.qkv.weight": (24, 6),
}


def test_fitting_deltas_of_every_kind_pass_the_shape_check() -> None:
    tensors = {
        "lora_unet_blocks_0_self_attn_q.lora_up.weight": torch.zeros(8, 2),
        "lora_unet_blocks_0_self_attn_q.lora_down.weight": torch.zeros(2, 6),
        "lora_unet_blocks_0_self_attn_q.alpha": torch.tensor(2.0),
        "diffusion_model.blocks.0.self_attn.q.diff_b": torch.zeros(8),
        "diffusion_model.blocks.0.norm3.diff": torch.zeros(8),
        "diffusion_model.patch_embedding.lora_B.weight": torch.zeros(8, 2, 1, 1, 1),
        "diffusion_model.patch_embedding.lora_A.weight": torch.zeros(2, 4, 1, 2, 2),
        "fused.k.lora_up.weight": torch.zeros(8, 2),
        "fused.k.lora_down.weight": torch.zeros(2, 6),
        "not.in.the.model.lora_up.weight": torch.zeros(99, 2),
        "not.in.the.model.lora_down.weight": torch.zeros(2, 99),
    }
    assert lora_inspect.shape_mismatches(tensors, KEY_MAP, SHAPES) == []


def test_deltas_of_another_shape_are_found_with_both_shapes() -> None:
    tensors = {
        "lora_unet_blocks_0_self_attn_q.lora_up.weight": torch.zeros(16, 2),  # a wider model's q
        "lora_unet_blocks_0_self_attn_q.lora_down.weight": torch.zeros(2, 12),
        "diffusion_model.blocks.0.self_attn.q.diff_b": torch.zeros(16),
        "diffusion_model.blocks.0.norm3.diff": torch.zeros(16),
        "diffusion_model.patch_embedding.lora_B.weight": torch.zeros(8, 2, 1, 1, 1),  # 16 input channels, not 4
        "diffusion_model.patch_embedding.lora_A.weight": torch.zeros(2, 16, 1, 2, 2),
        "fused.k.lora_up.weight": torch.zeros(24, 2),  # the whole qkv, not its k slice
        "fused.k.lora_down.weight": torch.zeros(2, 6),
    }
    found = lora_inspect.shape_mismatches(tensors, KEY_MAP, SHAPES)
    assert [(m.stem, m.model_key, m.lora_shape, m.model_shape) for m in found] == [
        ("diffusion_model.blocks.0.norm3", "diffusion_model.blocks.0.norm3.weight", (16,), (8,)),
        ("diffusion_model.blocks.0.self_attn.q", "diffusion_model.blocks.0.self_attn.q.bias", (16,), (8,)),
        ("diffusion_model.patch_embedding", "diffusion_model.patch_embedding.weight", (8, 16, 1, 2, 2),
         (8, 4, 1, 2, 2)),
        ("fused.k", "diffusion_model.qkv.weight", (24, 6), (8, 6)),
        ("lora_unet_blocks_0_self_attn_q", "diffusion_model.blocks.0.self_attn.q.weight", (16, 12), (8, 6)),
    ]


def test_a_transposed_delta_of_the_same_size_is_a_mismatch() -> None:
    tensors = {"diffusion_model.blocks.0.self_attn.q.lora_up.weight": torch.zeros(6, 2),
               "diffusion_model.blocks.0.self_attn.q.lora_down.weight": torch.zeros(2, 8)}
    found = lora_inspect.shape_mismatches(tensors, KEY_MAP, SHAPES)
    assert [(m.lora_shape, m.model_shape) for m in found] == [((6, 8), (8, 6))]
