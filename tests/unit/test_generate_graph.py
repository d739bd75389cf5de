"""Workflow edits of ``generate`` (``circle_rotate.generation.graph``) on the shipped API workflows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from circle_rotate.generation import graph

API = Path(__file__).resolve().parents[2] / "workflows" / "api"


def _read(name: str) -> dict:
    return json.loads((API / name).read_text(encoding="utf-8"))


@pytest.fixture
def paper() -> dict:
    return _read("circle_rotate_paper_preset.json")


def test_frames_come_from_the_decode_that_feeds_create_video(paper) -> None:
    assert graph.frame_source(paper) == ["11", 0]


def test_a_workflow_with_two_videos_or_none_is_refused() -> None:
    with pytest.raises(ValueError, match=r"makes 2 videos"):
        graph.frame_source(_read("circle_rotate_ab_lora.json"))
    with pytest.raises(ValueError, match=r"makes no video"):
        graph.frame_source(_read("circle_rotate_evaluate_video.json"))


def test_capture_graph_keeps_what_the_frames_need_plus_a_preview(paper) -> None:
    capture = graph.capture_graph(paper)
    assert list(capture) == [str(n) for n in range(1, 12)] + [graph.CAPTURE_NODE]
    assert capture[graph.CAPTURE_NODE] == {"class_type": "PreviewImage", "inputs": {"images": ["11", 0]},
                                           "_meta": {"title": "Frames (circle_rotate.generate)"}}
    capture["9"]["inputs"]["width"] = 1
    assert paper["9"]["inputs"]["width"] == 1280, "the input workflow is not modified"


def test_drop_last_image_removes_the_link_and_its_loader(paper) -> None:
    dropped = graph.drop_last_image(graph.capture_graph(paper))
    assert "end_image" not in dropped["9"]["inputs"]
    assert "6" not in dropped and "5" in dropped
    assert "end_image" in paper["9"]["inputs"]


def test_replace_prompt_encoder_encodes_the_text_on_the_same_clip(paper) -> None:
    replaced = graph.replace_prompt_encoder(graph.capture_graph(paper), "A silver sedan, the camera orbits left")
    assert replaced["7"]["class_type"] == "CLIPTextEncode"
    assert replaced["7"]["inputs"] == {"text": "A silver sedan, the camera orbits left", "clip": ["4", 0]}
    assert replaced["8"] == paper["8"]


def test_replace_prompt_encoder_without_one_names_the_fix(paper) -> None:
    del paper["7"]
    paper["9"]["inputs"]["positive"] = ["8", 0]
    paper["8"]["class_type"] = "SomethingElse"
    with pytest.raises(ValueError, match=r"prompt: the workflow has no text prompt input"):
        graph.replace_prompt_encoder(paper, "text")


def test_model_refs_list_every_file_with_its_folder(paper) -> None:
    refs = {(r.node_id, r.input): (r.folder, r.name) for r in graph.model_refs(paper)}
    assert refs == {
        ("1", "high_noise_model"): ("diffusion_models", "wan2.2_fun_inpaint_high_noise_14B_fp8_scaled.safetensors"),
        ("1", "low_noise_model"): ("diffusion_models", "wan2.2_fun_inpaint_low_noise_14B_fp8_scaled.safetensors"),
        ("2", "lora_high"): ("loras", "circle_rotate_h.safetensors"),
        ("2", "lora_low"): ("loras", "circle_rotate_l.safetensors"),
        ("2", "extra_lora_high"): ("loras", "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors"),
        ("2", "extra_lora_low"): ("loras", "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors"),
        ("3", "vae_name"): ("vae", "wan_2.1_vae.safetensors"),
        ("4", "clip_name"): ("text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors"),
    }
    no_extra = _read("circle_rotate_wan22_i2v_first_last.json")
    assert not [r for r in graph.model_refs(no_extra) if r.input.startswith("extra_")], "'None' LoRAs are no files"


def test_prompt_fields_write_the_orbit_node_or_build_the_text(paper) -> None:
    from circle_rotate.generation.inference import _prompt_fields

    work, values = _prompt_fields(paper, None, "a car", "left", {"language": "en"})
    assert work == paper and values == {"subject": "a car", "direction": "left", "language": "en"}
    text_workflow = {**paper, "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 0]}}}
    work, values = _prompt_fields(text_workflow, None, "a car", "right", {"language": "en", "cfg": 2})
    assert values == {"prompt": "A car, static side view, camera smoothly orbits right, medium shot", "cfg": 2}
    with pytest.raises(ValueError, match="either prompt= or subject="):
        _prompt_fields(paper, "text", None, "left", {})
    with pytest.raises(ValueError, match="direction= needs subject="):
        _prompt_fields(text_workflow, None, None, "left", {})
