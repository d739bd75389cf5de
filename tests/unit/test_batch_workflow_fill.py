"""Mapping job fields onto API-format workflows (circle_rotate.client.workflow_fill)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from circle_rotate.client.workflow_fill import FieldMap, Target, fill, load_workflow, parse_map_option

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "tiny_flf.json"


@pytest.fixture
def workflow() -> dict:
    return load_workflow(TINY)


def test_defaults_follow_the_graph(workflow) -> None:
    targets = FieldMap(workflow).describe()
    assert targets == {
        "first_image": ["6.image"], "last_image": ["7.image"],
        "lora_high": ["3.strength_model"], "lora_low": ["4.strength_model"],
        "lora_strength": ["3.strength_model", "4.strength_model"],
        "negative_prompt": ["9.text"], "prompt": ["8.text"], "seed": ["11.noise_seed", "12.noise_seed"],
    }


def test_clip_text_encode_prompts_are_found_through_the_conditioning_node() -> None:
    workflow = {
        "1": {"class_type": "CLIPTextEncode", "inputs": {"text": "a car", "clip": ["9", 0]}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["9", 0]}},
        "3": {"class_type": "WanFunInpaintToVideo", "inputs": {"positive": ["1", 0], "negative": ["2", 0]}},
        "4": {"class_type": "KSampler", "inputs": {"seed": 5, "positive": ["3", 0], "negative": ["3", 1]}},
        "9": {"class_type": "CLIPLoader", "inputs": {"clip_name": "umt5.safetensors"}},
    }
    field_map = FieldMap(workflow)
    assert field_map.resolve("prompt") == [Target("1", "text")]
    assert field_map.resolve("negative_prompt") == [Target("2", "text")]
    assert field_map.resolve("seed") == [Target("4", "seed")]


def test_title_marks_and_map_options_take_precedence(workflow) -> None:
    workflow["12"]["_meta"]["title"] = "Low sampler [batch: seed, low_steps=steps]"
    field_map = FieldMap(workflow, {"prompt": [Target("9", "text")]})
    assert field_map.resolve("seed") == [Target("12", "noise_seed")]
    assert field_map.resolve("low_steps") == [Target("12", "steps")]
    assert field_map.resolve("prompt") == [Target("9", "text")]


def test_other_fields_by_input_name_or_node_dot_input(workflow) -> None:
    field_map = FieldMap(workflow)
    assert field_map.resolve("cfg") == [Target("11", "cfg"), Target("12", "cfg")]
    assert field_map.kind("cfg") is float
    assert field_map.resolve("10.length") == [Target("10", "length")]
    assert field_map.kind("10.length") is int
    assert field_map.resolve("colour") == []
    assert field_map.current("seed") == 0


def test_fill_writes_every_target_and_leaves_the_template_alone(workflow) -> None:
    original = copy.deepcopy(workflow)
    field_map = FieldMap(workflow)
    filled = fill(workflow, field_map, {"seed": 7, "first_image": "a.png", "lora_strength": 0.0, "10.length": 13})
    assert workflow == original
    assert filled["11"]["inputs"]["noise_seed"] == filled["12"]["inputs"]["noise_seed"] == 7
    assert filled["6"]["inputs"]["image"] == "a.png"
    assert filled["3"]["inputs"]["strength_model"] == filled["4"]["inputs"]["strength_model"] == 0.0
    assert filled["10"]["inputs"]["length"] == 13


def test_a_link_or_a_missing_input_is_not_a_target(workflow) -> None:
    with pytest.raises(ValueError, match="is a link"):
        FieldMap(workflow, {"x": [Target("11", "model")]})
    with pytest.raises(ValueError, match="has no input 'nope'"):
        FieldMap(workflow, {"x": [Target("11", "nope")]})
    with pytest.raises(ValueError, match="no node '99'"):
        FieldMap(workflow, {"x": [Target("99", "seed")]})
    with pytest.raises(ValueError, match="different types"):
        FieldMap(workflow, {"x": [Target("11", "cfg"), Target("11", "sampler_name")]})


def test_title_on_a_node_with_several_literals_must_name_the_input(workflow) -> None:
    workflow["10"]["_meta"]["title"] = "Conditioning [batch: size]"
    with pytest.raises(ValueError, match=r"\[batch: size=<input>\]"):
        FieldMap(workflow)


def test_parse_map_option() -> None:
    assert parse_map_option("seed=12.noise_seed") == ("seed", Target("12", "noise_seed"))
    with pytest.raises(ValueError, match="field=node_id.input"):
        parse_map_option("seed=12")


def test_ui_format_workflow_is_refused_with_the_fix(tmp_path) -> None:
    path = tmp_path / "ui.json"
    path.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(ValueError, match="Export \\(API\\)"):
        load_workflow(path)
    path.write_text(json.dumps({"1": {"inputs": {}}}))
    with pytest.raises(ValueError, match="node '1' has no 'class_type'"):
        load_workflow(path)


PACK_WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / "workflows" / "api").glob("*.json"))


@pytest.mark.parametrize("path", PACK_WORKFLOWS, ids=[p.stem for p in PACK_WORKFLOWS])
def test_the_pack_api_workflows_map_their_inputs(path) -> None:
    field_map = FieldMap(load_workflow(path))
    targets = field_map.describe()
    assert {"first_image", "seed"} <= set(targets) or "video" in targets, targets
    if "last_image" in targets:  # every consumer of the last frame takes it as optional: "none" is allowed
        assert field_map.omit_blocker("last_image") is None


def test_a_none_value_removes_the_loader_and_its_links(workflow) -> None:
    workflow["15"] = {"class_type": "CircleRotateEvaluate", "inputs": {"images": ["13", 0], "last_image": ["7", 0]}}
    field_map = FieldMap(workflow)
    assert field_map.omit_blocker("last_image") is None
    filled = fill(workflow, field_map, {"last_image": None, "first_image": "a.png"})
    assert "7" not in filled and "7" in workflow
    assert "end_image" not in filled["10"]["inputs"] and "last_image" not in filled["15"]["inputs"]
    assert filled["10"]["inputs"]["start_image"] == ["6", 0] and filled["6"]["inputs"]["image"] == "a.png"


def test_omit_blocker_names_a_consumer_that_needs_the_image(workflow) -> None:
    workflow["20"] = {"class_type": "ImageScale", "inputs": {"image": ["7", 0]}}
    assert "node 20 (ImageScale) takes it in input 'image'" in FieldMap(workflow).omit_blocker("last_image")
    assert "not an image loader" in FieldMap(workflow).omit_blocker("seed")
    assert FieldMap(workflow).omit_blocker("colour") == "the workflow has no input for it"
