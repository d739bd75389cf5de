"""LpipsDistance and RaftFlow on random-initialised real architectures: value range, batching, padding, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from circle_rotate.metric_models import lpips_distance, raft_flow
from circle_rotate.metric_models.lpips_distance import LpipsDistance
from circle_rotate.metric_models.raft_flow import RaftFlow


@pytest.fixture(scope="module")
def pairs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (2, 36, 52, 3), dtype=np.uint8), rng.integers(0, 256, (2, 36, 52, 3), dtype=np.uint8)


def test_lpips_scales_to_minus_one_one_and_batches(pairs) -> None:
    torch.manual_seed(0)
    model = lpips_distance.build_model()
    a, b = pairs

    batched = LpipsDistance(model, device="cpu", batch_size=2).distance(a, b)
    single = LpipsDistance(model, device="cpu", batch_size=1).distance(a, b)

    with torch.inference_mode():
        to01 = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255  # noqa: E731
        expected = model(to01(a), to01(b), normalize=True).reshape(-1).numpy()
    np.testing.assert_allclose(batched, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(batched, single, rtol=1e-4, atol=1e-6)
    assert (batched > 0).all()
    assert LpipsDistance(model, device="cpu").distance(a, a).tolist() == [0.0, 0.0]


def test_lpips_rejects_mismatched_pairs(pairs) -> None:
    a, b = pairs
    with pytest.raises(ValueError, match="same shape"):
        LpipsDistance(lpips_distance.build_model(), device="cpu").distance(a, b[:1])


def test_alexnet_mapping_reports_missing_key() -> None:
    with pytest.raises(ValueError, match="'features.0.weight'"):
        lpips_distance.load_alexnet(lpips_distance.build_model(), {})


def test_raft_padding_amounts() -> None:
    assert raft_flow.pad_amounts(720, 1280) == (0, 0, 0, 0)
    assert raft_flow.pad_amounts(180, 321) == (3, 4, 2, 2)
    assert raft_flow.pad_amounts(36, 52) == (38, 38, 46, 46)


def test_raft_flow_shape_batching_and_crop(pairs) -> None:
    torch.manual_seed(0)
    model = raft_flow.build_model("small")
    a, b = pairs

    batched = RaftFlow(model, device="cpu", num_flow_updates=2, batch_size=2).flow(a, b)
    single = RaftFlow(model, device="cpu", num_flow_updates=2, batch_size=1).flow(a, b)

    assert batched.shape == (2, 36, 52, 2) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, atol=1e-4)
    left, _, top, _ = raft_flow.pad_amounts(36, 52)
    padded = [
        torch.nn.functional.pad(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1, raft_flow.pad_amounts(36, 52), mode="replicate")
        for x in (a, b)
    ]
    with torch.inference_mode():
        full = model(padded[0], padded[1], num_flow_updates=2)[-1]
    np.testing.assert_allclose(batched, full[:, :, top : top + 36, left : left + 52].permute(0, 2, 3, 1).numpy(), atol=1e-4)


def test_raft_large_builds_and_unknown_size_is_named() -> None:
    assert sum(p.numel() for p in raft_flow.build_model("large").parameters()) > 5_000_000
    with pytest.raises(ValueError, match="RAFT size 'huge'"):
        raft_flow.build_model("huge")


def test_raft_flow_of_frames_padded_as_vbench_is_not_padded_again() -> None:
    """Frames VBench's InputPadder already padded (sides multiples of 8, >= 128) reach RAFT as they are, so the
    returned flow covers the padded frame, as VBench scores it."""
    torch.manual_seed(0)
    model = raft_flow.build_model("small")
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 256, (2, 1, 136, 160, 3), dtype=np.uint8)
    assert raft_flow.pad_amounts(136, 160) == (0, 0, 0, 0)
    flow = RaftFlow(model, device="cpu", num_flow_updates=2).flow(a, b)
    with torch.inference_mode():
        direct = model(*(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1 for x in (a, b)), num_flow_updates=2)[-1]
    np.testing.assert_allclose(flow, direct.permute(0, 2, 3, 1).numpy(), atol=1e-5)
