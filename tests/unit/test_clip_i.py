"""CLIP-I statistics (circle_rotate.metrics.clip_i) against direct loops."""

from __future__ import annotations

import numpy as np
import pytest

from circle_rotate.metrics.clip_i import compute_clip_i


def _cos(a, b):
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_clip_i_matches_the_original_definitions():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(16, 32))
    result = compute_clip_i(f)
    assert result["first_last"] == pytest.approx(_cos(f[0], f[-1]))
    assert result["global_avg"] == pytest.approx(np.mean([_cos(f[0], x) for x in f]))
    assert result["global_avg_excl_first"] == pytest.approx(np.mean([_cos(f[0], x) for x in f[1:]]))
    assert result["frame_acc"] == pytest.approx(np.mean([_cos(f[i], f[i + 1]) for i in range(15)]))
    assert result["global_avg"] > result["global_avg_excl_first"]  # frame 0's 1.0 inflates the original's value
    assert result["first_vs_conditioning"] is None and result["frames"] == 16
    assert result["to_first"] == pytest.approx([_cos(f[0], x) for x in f])
    assert result["consecutive"] == pytest.approx([_cos(f[i], f[i + 1]) for i in range(15)])


def test_clip_i_against_conditioning_embeddings():
    rng = np.random.default_rng(2)
    f, first, last = rng.normal(size=(5, 8)), rng.normal(size=8), rng.normal(size=8)
    result = compute_clip_i(f, first, last)
    assert result["first_vs_conditioning"] == pytest.approx(_cos(first, f[0]))
    assert result["last_vs_conditioning"] == pytest.approx(_cos(last, f[-1]))


def test_clip_i_errors():
    with pytest.raises(ValueError, match="N >= 2"):
        compute_clip_i(np.ones((1, 4)))
    with pytest.raises(ValueError, match="dimension 3 vs frames' 4"):
        compute_clip_i(np.ones((2, 4)), conditioning_first=np.ones(3))
