"""Subject consistency: VBench's formula on DINO embeddings, in two flavours.

Formula (VBench ``subject_consistency.py``; the original Circle-Rotate ``vbench_sc.py`` uses the same): for
L2-normalised embeddings f_0 ... f_{N-1},

    score = 1 / (N - 1) * sum_{i=1}^{N-1} [max(0, cos(f_{i-1}, f_i)) + max(0, cos(f_0, f_i))] / 2

in [0, 1]. The two reported values differ only in which frames are embedded and how (preprocessing is the
encoder's job, see ``metric_models``):

- ``vbench``: official VBench: DINO ViT-B/16 on ALL frames, ``Resize(224, antialias=False)`` of the short side,
  no crop, ImageNet normalisation.
- ``upstream``: the original's variant: the 16 linspace-sampled frames, ``Resize(256)`` + ``CenterCrop(224)``,
  ImageNet normalisation.
"""

from __future__ import annotations

import numpy as np


def subject_consistency(embeddings: np.ndarray) -> float:
    """VBench's subject consistency of (N, D) embeddings (N >= 2; re-normalised here).

    Raises:
        ValueError: fewer than 2 embeddings.
    """
    f = np.asarray(embeddings, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"subject consistency needs (N, D) embeddings with N >= 2, got shape {f.shape}")
    f = f / np.linalg.norm(f, axis=1, keepdims=True)
    to_previous = np.maximum(0.0, np.sum(f[:-1] * f[1:], axis=1))
    to_first = np.maximum(0.0, f[1:] @ f[0])
    return float(np.sum((to_previous + to_first) / 2) / (len(f) - 1))


def compute_consistency(vbench_embeddings: np.ndarray | None = None, upstream_embeddings: np.ndarray | None = None) -> dict:
    """``{"vbench": score | None, "upstream": score | None, "vbench_frames": n, "upstream_frames": n}``."""
    return {
        "vbench": None if vbench_embeddings is None else subject_consistency(vbench_embeddings),
        "upstream": None if upstream_embeddings is None else subject_consistency(upstream_embeddings),
        "vbench_frames": 0 if vbench_embeddings is None else int(len(vbench_embeddings)),
        "upstream_frames": 0 if upstream_embeddings is None else int(len(upstream_embeddings)),
    }
