"""random_init: bundles of random-initialised real architectures for tests and benchmarks (no files, offline)."""

from __future__ import annotations

import numpy as np
import pytest

from circle_rotate.metric_models.lpips_distance import LpipsDistance
from circle_rotate.metric_models.random_init import random_metric_models, random_model
from circle_rotate.metric_models.raft_flow import RaftFlow


def test_random_bundle_serves_working_protocol_objects() -> None:
    models = random_metric_models(device="cpu", names=["lpips", "raft"])
    frames = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)

    assert isinstance(models.lpips, LpipsDistance) and isinstance(models.raft, RaftFlow)
    assert models.lpips.distance(frames, frames).tolist() == [0.0]
    assert models.get("clip") is None and "not enabled" in models.errors["clip"]


def test_random_dino_pair_shares_one_model() -> None:
    models = random_metric_models(device="cpu", names=["dino_vbench", "dino_upstream"])
    assert models.dino_vbench.model is models.dino_upstream.model
    assert (models.dino_vbench.preprocessing, models.dino_upstream.preprocessing) == ("vbench", "upstream")


def test_unknown_random_model_is_named() -> None:
    with pytest.raises(ValueError, match="'optical' is unknown"):
        random_model("optical")
