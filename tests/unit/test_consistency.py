"""VBench subject consistency (circle_rotate.metrics.consistency) against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from circle_rotate.metrics.consistency import compute_consistency, subject_consistency


def _vbench_reference(features):
    """VBench's loop, written independently with plain Python floats."""
    def unit(v):
        n = math.sqrt(sum(x * x for x in v))
        return [x / n for x in v]

    feats = [unit(list(map(float, v))) for v in features]
    total = 0.0
    for i in range(1, len(feats)):
        prev = max(0.0, sum(a * b for a, b in zip(feats[i - 1], feats[i])))
        first = max(0.0, sum(a * b for a, b in zip(feats[0], feats[i])))
        total += (prev + first) / 2
    return total / (len(feats) - 1)


@pytest.mark.parametrize("seed,offset", [(0, 0.0), (1, 1.5), (2, -0.2)])
def test_formula_matches_independent_loop(seed, offset):
    f = np.random.default_rng(seed).normal(size=(17, 24)) + offset  # offset 0 and -0.2 give negative cosines (clipped)
    assert subject_consistency(f) == pytest.approx(_vbench_reference(f), rel=1e-12)


def test_identical_embeddings_score_one_and_both_flavours_are_reported():
    f = np.tile(np.arange(1, 5, dtype=float), (6, 1))
    result = compute_consistency(vbench_embeddings=f, upstream_embeddings=f[:3])
    assert result == {"vbench": pytest.approx(1.0), "upstream": pytest.approx(1.0), "vbench_frames": 6, "upstream_frames": 3}
    assert compute_consistency()["vbench"] is None


def test_needs_two_frames():
    with pytest.raises(ValueError, match="N >= 2"):
        subject_consistency(np.ones((1, 3)))
