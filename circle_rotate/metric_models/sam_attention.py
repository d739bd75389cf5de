"""SAM's image-encoder attention through one fused kernel: the same function, in about half the encoder's CPU time.

segment-anything's ``Attention.forward`` computes, per head,

    softmax(scale · Q Kᵀ + P) V,    P[(qh, qw), (kh, kw)] = Q(qh, qw) · Rh[qh, kh] + Q(qh, qw) · Rw[qw, kw]

(decomposed relative positions, ``add_decomposed_rel_pos``) by materialising the attention map and adding the two
position terms through broadcast additions that each allocate a new map, then a softmax into another. At SAM's
1024x1024 input the four global-attention blocks see N = 64 x 64 = 4096 tokens, so every such map holds
12 heads x 4096 x 4096 float32 = 805 MB. On CPU most of the encoder's time goes to allocating (page-faulting)
and streaming those maps rather than to arithmetic. ``bench/sam_attention.py`` on a 2-core AMD EPYC (Zen 4), two
threads: 14.24 s and 3543 MiB peak per frame through segment-anything, 7.09 s and 2197 MiB through this module.

``fused_attention(image_encoder, workspace)`` computes the same function: P is written into one buffer that the
workspace reuses across blocks and frames, and ``torch.nn.functional.scaled_dot_product_attention`` does the
rest with P as its additive mask (a fused softmax; the flash kernel on CPU). The modules' own parameters are used
(nothing is copied) and their forward is restored when the context ends, so the caller's model is unchanged
afterwards. The result equals segment-anything's up to float32 rounding (the tests bound the difference).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from segment_anything.modeling.image_encoder import Attention, get_rel_pos


class AttentionWorkspace:
    """Position-bias buffers reused across attention calls, one per (shape, dtype, device); ``clear`` frees them."""

    def __init__(self) -> None:
        self._buffers: dict[tuple, torch.Tensor] = {}

    def buffer(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """An uninitialised tensor of ``shape`` with ``like``'s dtype and device, the same one on every call."""
        key = (shape, like.dtype, like.device)
        if key not in self._buffers:
            self._buffers[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return self._buffers[key]

    def clear(self) -> None:
        """Drop every buffer (805 MB for one 1024x1024 frame of SAM ViT-B's global attention)."""
        self._buffers.clear()


def rel_pos_attention(attention: Attention, x: torch.Tensor, workspace: AttentionWorkspace) -> torch.Tensor:
    """What ``attention(x)`` returns, with the position bias in a reused buffer and a fused softmax-attention kernel.

    Args:
        attention: one of segment-anything's image-encoder ``Attention`` modules.
        x: its input, (B, H, W, C) tokens (B counts frames x windows in windowed blocks).
        workspace: where the (B, heads, H·W, H·W) position bias is kept between calls.
    """
    batch, height, width, _ = x.shape
    heads = attention.num_heads
    qkv = attention.qkv(x).reshape(batch, height * width, 3, heads, -1).permute(2, 0, 3, 1, 4)
    query, key, value = qkv.unbind(0)  # (B, heads, H·W, head_dim) each
    bias = None
    if attention.use_rel_pos:
        rows = get_rel_pos(height, height, attention.rel_pos_h)
        columns = get_rel_pos(width, width, attention.rel_pos_w)
        grid_query = query.reshape(batch, heads, height, width, -1)
        row_terms = torch.einsum("bnhwc,hkc->bnhwk", grid_query, rows)
        column_terms = torch.einsum("bnhwc,wkc->bnhwk", grid_query, columns)
        bias = workspace.buffer((batch, heads, height, width, height, width), query)
        torch.add(row_terms[..., :, None], column_terms[..., None, :], out=bias)
        bias = bias.view(batch, heads, height * width, height * width)
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=bias, scale=attention.scale)
    out = out.view(batch, heads, height, width, -1).permute(0, 2, 3, 1, 4).reshape(batch, height, width, -1)
    return attention.proj(out)


@contextmanager
def fused_attention(image_encoder: Any, workspace: AttentionWorkspace | None = None) -> Iterator[int]:
    """Within the context, every ``Attention`` of ``image_encoder`` runs ``rel_pos_attention``.

    Yields the number of modules switched. On exit their own forward is restored and the workspace cleared.
    """
    workspace = workspace if workspace is not None else AttentionWorkspace()
    attentions = [module for module in image_encoder.modules() if isinstance(module, Attention)]
    switched = [(module, module.__dict__.get("forward")) for module in attentions]
    try:
        for module, _ in switched:
            module.forward = lambda x, module=module: rel_pos_attention(module, x, workspace)
        yield len(switched)
    finally:
        for module, previous in switched:
            module.__dict__.pop("forward", None)
            if previous is not None:
                module.forward = previous
        workspace.clear()
