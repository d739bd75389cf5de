"""Two-expert sampler: native KSamplerAdvanced semantics, Wan's sigma-boundary rule, one progress bar."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from circle_rotate import schedule
from fixtures.generation_graphs import conditioning


@pytest.fixture(scope="module")
def latent() -> dict:
    return {"samples": torch.zeros(1, 16, 3, 8, 8)}


def ours(comfy_host, experts, latent, **overrides):
    values = dict(model_high=experts[0], model_low=experts[1], positive=conditioning(1), negative=conditioning(2),
                  latent=latent, seed=11, steps=4, cfg_high=1.6, cfg_low=1.6, sampler_name="euler",
                  scheduler="simple", shift=8.0, handover="step", handover_step=2, boundary=0.9, add_noise=True)
    values.update(overrides)
    with torch.inference_mode():
        return comfy_host.node("CircleRotateTwoExpertSampler").execute(**values)


def native_chain(comfy_host, experts, latent, steps, split, shift=8.0, cfg=1.6, seed=11, sampler="euler",
                 scheduler="simple") -> torch.Tensor:
    patch = comfy_host.node("ModelSamplingSD3")().patch
    high, low = patch(experts[0], shift)[0], patch(experts[1], shift)[0]
    ksampler = comfy_host.node("KSamplerAdvanced")()
    common = (seed, steps, cfg, sampler, scheduler, conditioning(1), conditioning(2))
    with torch.inference_mode():
        out = ksampler.sample(high, "enable", *common, latent, 0, split, "enable")[0]
        return ksampler.sample(low, "disable", *common, out, split, steps, "disable")[0]["samples"]


@pytest.mark.parametrize(("steps", "split", "sampler"), [(4, 2, "euler"), (6, 3, "dpmpp_2m"), (5, 1, "euler")])
def test_step_handover_is_bit_identical_to_two_ksampler_advanced(comfy_host, experts, latent, steps, split,
                                                                  sampler) -> None:
    result = ours(comfy_host, experts, latent, steps=steps, handover_step=split, sampler_name=sampler)
    assert torch.equal(result[0]["samples"], native_chain(comfy_host, experts, latent, steps, split, sampler=sampler))
    assert not torch.equal(result[0]["samples"],
                           native_chain(comfy_host, experts, latent, steps, split + 1, sampler=sampler))


def test_separate_cfg_per_expert(comfy_host, experts, latent) -> None:
    same = ours(comfy_host, experts, latent, cfg_high=1.6, cfg_low=1.6)[0]["samples"]
    different = ours(comfy_host, experts, latent, cfg_high=1.6, cfg_low=3.0)[0]["samples"]
    assert not torch.equal(same, different)


def wan_rule(shift: float, steps: int, boundary: float) -> int:
    """Independent: simple-schedule sigmas in float64 from the definition, high while t >= boundary * 1000."""
    sigmas = [shift * s / (1 + (shift - 1) * s) for s in ((1000 - math.floor(x * 1000 / steps)) / 1000
                                                          for x in range(steps))]
    return sum(1 for sigma in sigmas if sigma * 1000 >= boundary * 1000 - 1e-3)


@pytest.mark.parametrize("shift", [3.0, 5.0, 8.0, 12.0])
@pytest.mark.parametrize("steps", [4, 8, 20, 30])
def test_comfy_sigmas_of_the_shifted_model_match_the_core_schedule(comfy_host, experts, shift, steps) -> None:
    from importlib import import_module

    sampling = import_module(comfy_host.node("CircleRotateTwoExpertSampler").__module__)
    sigmas = sampling.schedule_sigmas(sampling.with_shift(experts[0], shift), steps, "euler", "simple")
    np.testing.assert_array_equal(np.array(sigmas, dtype=np.float32), schedule.simple_sigmas(shift, steps))
    assert schedule.handover_step(sigmas, 0.9) == wan_rule(shift, steps, 0.9)
    assert schedule.handover_step(sigmas, 0.875) == wan_rule(shift, steps, 0.875)


@pytest.mark.parametrize(("steps", "shift", "boundary"), [(4, 8.0, 0.9), (8, 5.0, 0.9), (10, 3.0, 0.875),
                                                          (6, 1.0, 0.5)])
def test_sigma_boundary_picks_the_wan_step_and_samples_as_that_step(comfy_host, experts, latent, steps, shift,
                                                                    boundary) -> None:
    expected = wan_rule(shift, steps, boundary)
    assert 0 < expected < steps
    result = ours(comfy_host, experts, latent, steps=steps, shift=shift, handover="sigma_boundary",
                  boundary=boundary)
    assert result[1].startswith(f"handover at step {expected} (first sigma below boundary {boundary:g})")
    assert torch.equal(result[0]["samples"], native_chain(comfy_host, experts, latent, steps, expected, shift=shift))


def test_handover_at_either_end_runs_one_expert(comfy_host, experts, latent) -> None:
    # shift 1, 4 steps: sigmas 1, .75, .5, .25; boundary 0.2 keeps every step on the high expert.
    all_high = ours(comfy_host, experts, latent, shift=1.0, handover="sigma_boundary", boundary=0.2)
    assert all_high[1].startswith("handover at step 4")
    only_low = ours(comfy_host, experts, latent, handover="step", handover_step=0)
    assert only_low[1].startswith("handover at step 0")
    ksampler = comfy_host.node("KSamplerAdvanced")()
    low = comfy_host.node("ModelSamplingSD3")().patch(experts[1], 8.0)[0]
    with torch.inference_mode():
        native_low = ksampler.sample(low, "enable", 11, 4, 1.6, "euler", "simple", conditioning(1), conditioning(2),
                                     latent, 0, 4, "disable")[0]["samples"]
    assert torch.equal(only_low[0]["samples"], native_low)
    assert torch.isfinite(all_high[0]["samples"]).all()


def test_one_progress_bar_spans_both_experts(comfy_host, experts, latent, monkeypatch) -> None:
    import comfy.utils

    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(comfy.utils, "PROGRESS_BAR_HOOK", lambda value, total, preview, node_id=None:
                        seen.append((value, total)))
    ours(comfy_host, experts, latent, steps=6, handover_step=2)
    assert seen == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]


def test_report_shows_the_schedule_with_the_handover(comfy_host, experts, latent) -> None:
    result = ours(comfy_host, experts, latent)
    lines = result[1].splitlines()
    assert lines[1:] == ["step 0: sigma 1.0000 (t 1000.0) high", "step 1: sigma 0.9600 (t 960.0) high",
                         "step 2: sigma 0.8889 (t 888.9) low", "step 3: sigma 0.7273 (t 727.3) low",
                         "end: sigma 0.0000"]
    assert result.ui["text"] == lines


def test_shift_zero_keeps_the_models_sampling(comfy_host, experts, latent) -> None:
    patch = comfy_host.node("ModelSamplingSD3")().patch
    shifted = (patch(experts[0], 8.0)[0], patch(experts[1], 8.0)[0])
    assert torch.equal(ours(comfy_host, shifted, latent, shift=0.0)[0]["samples"],
                       ours(comfy_host, experts, latent, shift=8.0)[0]["samples"])
