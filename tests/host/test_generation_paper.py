"""The paper configuration from the pack's nodes equals the native graph of the original workflow, bit for bit."""

from __future__ import annotations

import pytest
import torch

from fixtures.generation_graphs import GraphInputs, conditioning, native_graph, pack_graph, smooth_image


def paper_inputs(tiny_models, **overrides) -> GraphInputs:
    loras = tiny_models.loras
    values = dict(
        high_expert=tiny_models.high_expert, low_expert=tiny_models.low_expert, vae=tiny_models.vae,
        lightx2v_high=loras["lightx2v_high"], lightx2v_low=loras["lightx2v_low"],
        lora_high=loras["high_musubi"], lora_low=loras["low_musubi"],
        positive=conditioning(1), negative=conditioning(2),
        start_image=smooth_image(3, 64, 64), end_image=smooth_image(4, 64, 64), strength_high=0.9,
        strength_low=0.9,
    )
    values.update(overrides)
    return GraphInputs(**values)


@pytest.fixture(scope="module")
def paper_run(comfy_host, tiny_models):
    """(native latent, native frames, pack latent, pack frames, pack report) of the paper configuration."""
    inputs = paper_inputs(tiny_models)
    with torch.inference_mode():
        native_latent, native_frames = native_graph(comfy_host, inputs)
        pack_latent, pack_frames, report = pack_graph(comfy_host, inputs)
    return native_latent, native_frames, pack_latent, pack_frames, report


def test_paper_latent_is_bit_identical_to_the_native_graph(paper_run) -> None:
    native_latent, _, pack_latent, _, _ = paper_run
    assert pack_latent["samples"].shape == (1, 16, 3, 8, 8)
    assert torch.isfinite(pack_latent["samples"]).all()
    assert torch.equal(pack_latent["samples"], native_latent["samples"])


def test_paper_frames_are_bit_identical_to_the_native_graph(paper_run) -> None:
    _, native_frames, _, pack_frames, _ = paper_run
    assert pack_frames.shape == (9, 64, 64, 3)
    assert torch.equal(pack_frames, native_frames)


def test_sampler_reports_the_handover_and_schedule(paper_run) -> None:
    report = paper_run[4]
    assert report.splitlines()[0].startswith("handover at step 2 (handover_step 2); 4 steps, euler/simple, shift 8")
    assert "step 0: sigma 1.0000 (t 1000.0) high" in report
    assert "step 2: sigma 0.8889 (t 888.9) low" in report
