"""Over a real server's HTTP API, the paper graph from the pack's nodes gives the native graph's latent and frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from fixtures.generation_graphs import GraphInputs, native_api_prompt, pack_api_prompt, smooth_image


def write_png(path, image) -> str:
    array = (image[0].numpy() * 255).round().astype(np.uint8)
    Image.fromarray(array).save(path)
    return path.name


def saved_files(server, entry: dict, node_id: str, kind: str) -> list:
    output = server.base_dir / "output"
    return [output / item["subfolder"] / item["filename"] for item in entry["outputs"][node_id][kind]]


@pytest.mark.server
def test_paper_graph_over_http_matches_the_native_graph(comfy_server, tiny_models) -> None:
    input_dir = comfy_server.base_dir / "input"
    input_dir.mkdir(exist_ok=True)
    start = write_png(input_dir / "orbit_first.png", smooth_image(3, 48, 80))  # other aspect: centre crop
    end = write_png(input_dir / "orbit_last.png", smooth_image(4, 96, 64))
    loras = tiny_models.loras
    inputs = GraphInputs(
        high_expert=tiny_models.high_expert, low_expert=tiny_models.low_expert, vae=tiny_models.vae,
        lightx2v_high=loras["lightx2v_high"], lightx2v_low=loras["lightx2v_low"], lora_high=loras["high_musubi"],
        lora_low=loras["low_musubi"], positive=[], negative=[], start_image=None, end_image=None, seed=21,
        strength_high=0.8, strength_low=0.8,
    )
    native = comfy_server.run_prompt(native_api_prompt(inputs, start, end, (1, 2), "native"))
    ours = comfy_server.run_prompt(pack_api_prompt(inputs, start, end, (1, 2), "pack"))

    native_latent = load_file(str(saved_files(comfy_server, native, "save_latent", "latents")[0]))["latent_tensor"]
    our_latent = load_file(str(saved_files(comfy_server, ours, "save_latent", "latents")[0]))["latent_tensor"]
    assert our_latent.shape == (1, 16, 3, 8, 8)
    assert our_latent.abs().sum() > 0
    assert our_latent.equal(native_latent)

    native_frames = [np.asarray(Image.open(p)) for p in saved_files(comfy_server, native, "save_image", "images")]
    our_frames = [np.asarray(Image.open(p)) for p in saved_files(comfy_server, ours, "save_image", "images")]
    assert len(our_frames) == len(native_frames) == 9
    assert all(np.array_equal(a, b) for a, b in zip(our_frames, native_frames))

    report = ours["outputs"]["loras"]["text"]
    assert report[0].startswith("extra_lora_high 'wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors' -> "
                                "high-noise expert, strength 1: comfy, rank 4, alpha 4, matched 20/20 modules")
    assert ours["outputs"]["sampler"]["text"][0].startswith("handover at step 2")


@pytest.mark.server
def test_sdxl_lora_over_http_fails_with_the_clear_message(comfy_server, tiny_models) -> None:
    loras = tiny_models.loras
    inputs = GraphInputs(
        high_expert=tiny_models.high_expert, low_expert=tiny_models.low_expert, vae=tiny_models.vae,
        lightx2v_high=None, lightx2v_low=None, lora_high=loras["high_musubi"], lora_low=loras["sdxl"],
        positive=[], negative=[], start_image=None, end_image=None,
    )
    input_dir = comfy_server.base_dir / "input"
    input_dir.mkdir(exist_ok=True)
    start = write_png(input_dir / "orbit_first_sdxl.png", smooth_image(5, 64, 64))
    with pytest.raises(RuntimeError, match=r"lora_low 'sdxl_style_lora.safetensors' matched 0 of 12 modules of the "
                       r"low-noise expert"):
        comfy_server.run_prompt(pack_api_prompt(inputs, start, start, (1, 2), "sdxl"))
