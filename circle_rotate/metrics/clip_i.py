"""CLIP-I: identity preservation as cosine similarity of image embeddings.

Input: (N, D) L2-normalised image embeddings f_0 ... f_{N-1} of the analysed frames (the original: CLIP
ViT-B/32 with OpenAI weights on 16 linspace-sampled frames; preprocessing is the encoder's job), and optionally
the embeddings of the conditioning first/last images. Embeddings are re-normalised here, so unnormalised input
gives the same numbers. All values are cosines in [-1, 1].

- ``first_last`` = cos(f_0, f_{N-1}).
- ``global_avg`` = mean over i = 0 .. N-1 of cos(f_0, f_i), INCLUDING i = 0 as the original (the 1.0 of frame 0
  inflates it by (1 - mean) / N); ``global_avg_excl_first`` is the mean over i >= 1.
- ``frame_acc`` = mean over i of cos(f_i, f_{i+1}).
- ``first_vs_conditioning`` = cos(embedding of the conditioning first image, f_0); ``last_vs_conditioning`` =
  cos(conditioning last image, f_{N-1}); None when not given.
"""

from __future__ import annotations

import numpy as np


def _normalise(embeddings: np.ndarray) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float64)
    return embeddings / np.linalg.norm(embeddings, axis=-1, keepdims=True)


def compute_clip_i(
    embeddings: np.ndarray,
    conditioning_first: np.ndarray | None = None,
    conditioning_last: np.ndarray | None = None,
) -> dict:
    """CLIP-I statistics (see the module docstring).

    Args:
        embeddings: (N, D) frame embeddings, N >= 2.
        conditioning_first, conditioning_last: (D,) embeddings of the conditioning images, or None.

    Returns:
        ``{"first_last", "global_avg", "global_avg_excl_first", "frame_acc", "first_vs_conditioning",
        "last_vs_conditioning", "frames", "to_first", "consecutive"}``; ``to_first`` lists cos(f_0, f_i) for
        every frame and ``consecutive`` cos(f_i, f_{i+1}) for every pair (for plots).

    Raises:
        ValueError: fewer than 2 embeddings or mismatched dimensions.
    """
    f = _normalise(embeddings)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"CLIP-I needs (N, D) embeddings with N >= 2, got shape {f.shape}: sample at least 2 frames")
    to_first = f @ f[0]
    consecutive = np.sum(f[:-1] * f[1:], axis=1)
    result = {
        "first_last": float(to_first[-1]),
        "global_avg": float(to_first.mean()),
        "global_avg_excl_first": float(to_first[1:].mean()),
        "frame_acc": float(consecutive.mean()),
        "first_vs_conditioning": None,
        "last_vs_conditioning": None,
        "frames": int(len(f)),
        "to_first": [float(value) for value in to_first],
        "consecutive": [float(value) for value in consecutive],
    }
    for key, conditioning, frame in (("first_vs_conditioning", conditioning_first, f[0]), ("last_vs_conditioning", conditioning_last, f[-1])):
        if conditioning is not None:
            c = _normalise(np.ravel(conditioning))
            if c.shape != frame.shape:
                raise ValueError(f"{key}: conditioning embedding of dimension {c.shape[0]} vs frames' {frame.shape[0]}: use the same encoder")
            result[key] = float(c @ frame)
    return result
