"""``CircleRotateInference`` on the tiny models: in-process through ComfyUI's executor, and on a real server.

The workflow is the paper preset on the tiny models (text encoder replaced by the test conditioning node, 64x64,
9 frames). The checks: in-process frames equal, bit for bit, the PNGs the same prompt gives when queued on a real
``main.py --cpu`` server; ``server=`` mode gives the same frames; a second call loads no model file again; bad
input fails with a message naming the input and the fix.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from circle_rotate import CircleRotateInference
from circle_rotate.client import ExecutionFailed
from circle_rotate.generation import MissingModelError
from circle_rotate.generation.graph import CAPTURE_NODE
from fixtures.generate_setup import load_test_nodes, write_frame, write_tiny_workflow


@pytest.fixture(scope="module")
def tiny_workflow(comfy_host, tiny_models, tmp_path_factory):
    load_test_nodes(comfy_host.nodes)
    return write_tiny_workflow(tmp_path_factory.mktemp("workflow") / "paper_tiny.json", tiny_models)


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    write_frame(folder / "first.png", 3, 48, 80)  # another aspect: the conditioning node crops
    write_frame(folder / "last.png", 4)
    write_frame(folder / "other.png", 5)
    return folder


@pytest.fixture(scope="module")
def model(tiny_workflow):
    return CircleRotateInference(workflow=tiny_workflow)


def _server_frames(server, prompt: dict, frames_dir) -> np.ndarray:
    """Queue ``prompt`` (as generate ran it) on ``server`` with the same input files; the capture node's PNGs."""
    input_dir = server.base_dir / "input"
    input_dir.mkdir(exist_ok=True)
    import folder_paths

    for node in prompt.values():
        if node["class_type"] == "LoadImage":
            shutil.copyfile(f"{folder_paths.get_input_directory()}/{node['inputs']['image']}",
                            input_dir / node["inputs"]["image"])
    entry = server.run_prompt(prompt)
    images = entry["outputs"][CAPTURE_NODE]["images"]
    return np.stack([np.asarray(Image.open(server.base_dir / i["type"] / i["subfolder"] / i["filename"]).convert("RGB"))
                     for i in images])


@pytest.mark.server
def test_in_process_frames_equal_the_same_workflow_on_a_server(model, comfy_server, frames_dir) -> None:
    steps = []
    result = model.generate(frames_dir / "first.png", frames_dir / "last.png", seed=21,
                            progress=lambda done, total: steps.append((done, total)))
    assert result.frames.shape == (9, 64, 64, 3) and result.frames.dtype == np.uint8
    assert result.frames.std() > 0
    assert result.fps == 16.0 and result.seed == 21
    assert steps[-1] == (4, 4), "the progress covers both experts' 4 steps"
    assert np.array_equal(result.frames, _server_frames(comfy_server, result.prompt, frames_dir))


@pytest.mark.server
def test_server_mode_gives_the_in_process_frames(model, tiny_workflow, comfy_server, frames_dir) -> None:
    local = model.generate(frames_dir / "first.png", frames_dir / "last.png", seed=22)
    steps = []
    remote = CircleRotateInference(workflow=tiny_workflow, server=comfy_server.url).generate(
        frames_dir / "first.png", frames_dir / "last.png", seed=22, progress=lambda d, t: steps.append((d, t)))
    assert np.array_equal(remote.frames, local.frames)
    assert remote.fps == local.fps
    assert steps and steps[-1] == (4, 4)


@pytest.mark.server
def test_server_mode_checks_models_against_the_servers_choices(tiny_workflow, comfy_server, frames_dir) -> None:
    model = CircleRotateInference(workflow=tiny_workflow, server=comfy_server.url, vae="wan_2.1_vae.safetensors")
    with pytest.raises(MissingModelError, match=r"vae model file 'wan_2.1_vae.safetensors' .* was not found in the "
                       r"server's model folder 'vae'.*circle-rotate models download --what generation.*Files there: "
                       r".*wan_2.1_vae_tiny.safetensors"):
        model.generate(frames_dir / "first.png")


def test_second_call_loads_no_model(model, tiny_workflow, frames_dir, monkeypatch) -> None:
    import comfy.utils

    loads = []
    original = comfy.utils.load_torch_file

    def counting(*args, **kwargs):
        loads.append(args[0])
        return original(*args, **kwargs)

    first = model.generate(frames_dir / "first.png", frames_dir / "last.png", seed=31)
    monkeypatch.setattr(comfy.utils, "load_torch_file", counting)
    second = model.generate(frames_dir / "other.png", frames_dir / "last.png", seed=32, subject="a car")
    assert loads == [], f"the second call loaded {loads}"
    assert not np.array_equal(first.frames, second.frames)
    # The counter does see loads: another LoRA strength makes ComfyUI load the LoRA files again.
    CircleRotateInference(workflow=tiny_workflow, lora_strength=0.5).generate(frames_dir / "first.png", seed=31)
    assert any("lora" in str(path) or "musubi" in str(path) for path in loads)


def test_settings_reach_the_workflow(tiny_workflow, frames_dir) -> None:
    result = CircleRotateInference(workflow=tiny_workflow, width=80, height=48, length=5, steps=2, handover=1,
                                   cfg=1.0, fps=8).generate(np.asarray(Image.open(frames_dir / "first.png")),
                                                            prompt="a red car orbit")
    assert result.frames.shape == (5, 48, 80, 3)
    assert result.fps == 8.0
    nodes = result.prompt.values()
    (sampler,) = [n["inputs"] for n in nodes if n["class_type"] == "CircleRotateTwoExpertSampler"]
    assert (sampler["steps"], sampler["handover_step"], sampler["cfg_high"], sampler["cfg_low"]) == (2, 1, 1.0, 1.0)
    (conditioning,) = [n["inputs"] for n in nodes if n["class_type"] == "CircleRotateFirstLastFrame"]
    assert result.prompt[conditioning["positive"][0]]["inputs"]["text"] == "a red car orbit"
    assert not [n for n in nodes if n["class_type"] == "LoadImage" and n["inputs"]["image"].endswith("last.png")]


def test_missing_model_names_file_folder_and_download_command(tiny_workflow, frames_dir) -> None:
    model = CircleRotateInference(workflow=tiny_workflow, base_model="Wan2.2-I2V-14B")
    with pytest.raises(MissingModelError, match=r"model_high model file 'wan2.2_i2v_high_noise_14B_fp8_scaled"
                       r"\.safetensors' .* was not found in .*diffusion_models.*circle-rotate models download "
                       r"--what generation"):
        model.generate(frames_dir / "first.png")


def test_missing_first_frame_is_named(model, frames_dir) -> None:
    with pytest.raises(ValueError, match=r"first_frame '.*nowhere\.png' does not exist"):
        model.generate(frames_dir / "nowhere.png")
    with pytest.raises(ValueError, match="first_frame is missing"):
        model.generate(None)


@pytest.mark.parametrize(("setting", "message"), [
    ({"width": 70}, r"width 70 is not a multiple of 16; the nearest valid values are 64 and 80"),
    ({"length": 10}, r"length 10 is not 4k\+1 frames"),
])
def test_wrong_size_or_length_gives_the_conditioning_node_message(tiny_workflow, frames_dir, setting, message) -> None:
    model = CircleRotateInference(workflow=tiny_workflow, **setting)
    with pytest.raises(ExecutionFailed, match=rf"CircleRotateFirstLastFrame\) raised .*{message}"):
        model.generate(frames_dir / "first.png")


def test_out_of_memory_suggests_fp8_files_and_a_smaller_size(model, comfy_host, frames_dir, monkeypatch) -> None:
    import torch

    def out_of_memory(self, vae, samples):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(comfy_host.node("VAEDecode"), "decode", out_of_memory)
    with pytest.raises(ExecutionFailed, match=r"(?s)node 11 \(VAEDecode\) raised torch.OutOfMemoryError: CUDA out of "
                       r"memory.*\nout of memory: use the fp8 model files .* and a smaller size or length"):
        model.generate(frames_dir / "first.png", seed=99)
