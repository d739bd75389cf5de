"""sam_attention: the fused attention computes segment-anything's Attention, and the context leaves the model as it was.

The relative-position tables are drawn at random (SAM zero-initialises them, which would hide a wrong bias).
"""

from __future__ import annotations

import pytest
import torch
from segment_anything.modeling.image_encoder import Attention

from circle_rotate.metric_models.sam_attention import AttentionWorkspace, fused_attention, rel_pos_attention

from fixtures.tiny_sam import tiny_sam


def random_attention(grid: tuple[int, int], use_rel_pos: bool = True, seed: int = 0) -> Attention:
    torch.manual_seed(seed)
    attention = Attention(48, num_heads=3, use_rel_pos=use_rel_pos, input_size=grid).eval()
    if use_rel_pos:
        torch.nn.init.normal_(attention.rel_pos_h, std=0.5)
        torch.nn.init.normal_(attention.rel_pos_w, std=0.5)
    return attention


@pytest.mark.parametrize(("grid", "batch"), [((16, 16), 1), ((5, 5), 6), ((6, 9), 2)])
@pytest.mark.parametrize("use_rel_pos", [True, False])
def test_rel_pos_attention_equals_segment_anythings_attention(grid: tuple[int, int], batch: int, use_rel_pos: bool) -> None:
    attention = random_attention(grid, use_rel_pos)
    x = torch.randn(batch, *grid, 48)

    with torch.inference_mode():
        expected = attention(x)
        got = rel_pos_attention(attention, x, AttentionWorkspace())

    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_the_position_bias_matters_so_the_comparison_can_fail() -> None:
    attention = random_attention((8, 8))
    x = torch.randn(1, 8, 8, 48)
    with torch.inference_mode():
        with_bias = rel_pos_attention(attention, x, AttentionWorkspace())
        attention.use_rel_pos = False
        without_bias = rel_pos_attention(attention, x, AttentionWorkspace())
    assert (with_bias - without_bias).abs().max() > 1e-2


def test_workspace_reuses_one_buffer_per_shape_and_clear_frees_it() -> None:
    workspace = AttentionWorkspace()
    like = torch.zeros(1)
    first = workspace.buffer((2, 3), like)
    assert workspace.buffer((2, 3), like) is first
    assert workspace.buffer((3, 2), like) is not first
    workspace.clear()
    assert workspace.buffer((2, 3), like) is not first


def test_encoder_under_fused_attention_equals_the_original_and_is_restored_afterwards() -> None:
    encoder = tiny_sam(rel_pos_std=0.5).image_encoder
    image = torch.randn(2, 3, 256, 256)
    calls: list[str] = []
    for block in encoder.blocks:
        block.attn.register_forward_hook(lambda module, inputs, output: calls.append("forward" in module.__dict__))

    with torch.inference_mode():
        expected = encoder(image)
        with fused_attention(encoder) as switched:
            fused = encoder(image)
        after = encoder(image)

    assert switched == len(encoder.blocks) == 2
    assert calls == [False, False, True, True, False, False]
    torch.testing.assert_close(fused, expected, rtol=1e-4, atol=1e-5)
    assert torch.equal(after, expected)


def test_the_model_is_restored_when_the_encoder_raises() -> None:
    encoder = tiny_sam().image_encoder
    workspace = AttentionWorkspace()
    with pytest.raises(RuntimeError), torch.inference_mode(), fused_attention(encoder, workspace):
        encoder(torch.randn(1, 3, 255, 256))
    assert all("forward" not in block.attn.__dict__ for block in encoder.blocks)
    assert workspace._buffers == {}
