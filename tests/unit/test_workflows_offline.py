"""Every shipped workflow (UI and API format) is valid against the node definitions, without ComfyUI.

Core node definitions come from ../shared/comfyui/object_info-0.8.0.json when present, else from the snapshot
``fixtures/object_info_core_0.8.0.json``; the pack's from ``fixtures/object_info_pack.json`` (a host test keeps
that snapshot equal to what a live server reports).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from circle_rotate.sample_inputs import INPUTS_DIR
from circle_rotate.weights import REGISTRY
from fixtures.object_info import REPO, WORKFLOWS_DIR, object_info, pack_object_info
from fixtures.workflow_check import check_api, check_ui, ui_as_api

UI_FILES = sorted(WORKFLOWS_DIR.glob("*.json"))
EXPECTED = {"circle_rotate_paper_preset", "circle_rotate_wan22_i2v_first_last", "circle_rotate_evaluate_video", "circle_rotate_ab_lora"}
LOADER_TYPES = {
    "CircleRotateLoadExperts", "CircleRotateDualLora", "CircleRotateMetricModels", "VAELoader", "CLIPLoader", "UNETLoader",
    "LoraLoaderModelOnly",
}
MODEL_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
HOSTS = ("https://huggingface.co/", "https://download.pytorch.org/", "https://dl.fbaipublicfiles.com/")  # Hub, torchvision, Meta
FOLDERS = ("diffusion_models", "loras", "vae", "text_encoders", "ultralytics_bbox", "sams", "circle_rotate")


@pytest.fixture(scope="module")
def info() -> dict:
    return object_info()


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _api_twin(path: Path) -> Path:
    return WORKFLOWS_DIR / "api" / path.name


def test_every_workflow_ships_in_both_formats() -> None:
    assert {path.stem for path in UI_FILES} == EXPECTED
    assert {path.stem for path in (WORKFLOWS_DIR / "api").glob("*.json")} == EXPECTED


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_ui_workflow_is_valid(path: Path, info: dict) -> None:
    assert check_ui(_read(path), info) == []


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_api_workflow_is_valid(path: Path, info: dict) -> None:
    assert check_api(_read(_api_twin(path)), info) == []


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_api_twin_is_the_same_graph(path: Path, info: dict) -> None:
    api = {key: {"class_type": node["class_type"], "inputs": node["inputs"]} for key, node in _read(_api_twin(path)).items()}
    assert ui_as_api(_read(path), info) == api


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_every_model_is_declared_and_listed_in_a_note(path: Path) -> None:
    workflow = _read(path)
    notes = "\n".join(node["widgets_values"][0] for node in workflow["nodes"] if node["type"] in ("Note", "MarkdownNote"))
    assert notes, "a note node should explain the workflow"
    for node in workflow["nodes"]:
        if node["type"] not in LOADER_TYPES:
            continue
        declared = {entry["name"]: entry for entry in node["properties"].get("models", [])}
        files = [v for v in node["widgets_values"] if isinstance(v, str) and v.endswith(MODEL_SUFFIXES)]
        assert files and set(files) <= set(declared), f"node {node['id']} ({node['type']}) does not declare {files}"
        for entry in declared.values():
            assert entry["url"].startswith(HOSTS) and entry["directory"] in FOLDERS
            assert entry["name"] in notes and entry["url"] in notes


def test_paper_preset_has_the_original_settings() -> None:
    nodes = _read(WORKFLOWS_DIR / "api" / "circle_rotate_paper_preset.json").values()
    by_type = {node["class_type"]: node["inputs"] for node in nodes}
    sampler = by_type["CircleRotateTwoExpertSampler"]
    assert (sampler["steps"], sampler["handover"], sampler["handover_step"], sampler["shift"]) == (4, "step", 2, 8.0)
    assert (sampler["cfg_high"], sampler["cfg_low"], sampler["sampler_name"], sampler["scheduler"]) == (1.6, 1.6, "euler", "simple")
    frames = by_type["CircleRotateFirstLastFrame"]
    assert (frames["width"], frames["height"], frames["length"], frames["mode"]) == (1280, 720, 81, "fun_inpaint")
    assert by_type["CreateVideo"]["fps"] == 16.0
    assert by_type["CircleRotateLoadExperts"]["high_noise_model"].startswith("wan2.2_fun_inpaint_high_noise")


def test_wan22_workflow_hands_over_at_sigma_boundary() -> None:
    nodes = _read(WORKFLOWS_DIR / "api" / "circle_rotate_wan22_i2v_first_last.json").values()
    sampler = next(node["inputs"] for node in nodes if node["class_type"] == "CircleRotateTwoExpertSampler")
    assert (sampler["steps"], sampler["handover"], sampler["boundary"]) == (20, "sigma_boundary", 0.9)


def test_ab_workflow_differs_only_in_lora_strength() -> None:
    nodes = _read(WORKFLOWS_DIR / "api" / "circle_rotate_ab_lora.json").values()
    loras = [node["inputs"] for node in nodes if node["class_type"] == "CircleRotateDualLora"]
    samplers = [node["inputs"] for node in nodes if node["class_type"] == "CircleRotateTwoExpertSampler"]
    assert sorted(lora["strength_high"] for lora in loras) == [0.0, 1.0]
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith("strength")}  # noqa: E731
    assert strip(loras[0]) == strip(loras[1])
    assert samplers[0]["seed"] == samplers[1]["seed"]
    assert any(node["class_type"] == "CircleRotateABCompare" for node in nodes)


def _evaluate_video() -> dict:
    return _read(WORKFLOWS_DIR / "api" / "circle_rotate_evaluate_video.json")


def test_checker_reports_an_unknown_node_type(info: dict) -> None:
    prompt = _evaluate_video()
    next(iter(prompt.values()))["class_type"] = "NoSuchNode"
    assert any("unknown node type 'NoSuchNode'" in p for p in check_api(prompt, info))


def test_checker_reports_a_link_of_the_wrong_type(info: dict) -> None:
    prompt = _evaluate_video()
    evaluate = next(node for node in prompt.values() if node["class_type"] == "CircleRotateEvaluate")
    evaluate["inputs"]["fps"] = [evaluate["inputs"]["images"][0], 0]  # IMAGE into a FLOAT
    assert any("expects FLOAT, linked to IMAGE" in p for p in check_api(prompt, info))


def test_checker_reports_values_out_of_range_and_bad_combo(info: dict) -> None:
    workflow = _read(WORKFLOWS_DIR / "circle_rotate_paper_preset.json")
    broken = copy.deepcopy(workflow)
    sampler = next(node for node in broken["nodes"] if node["type"] == "CircleRotateTwoExpertSampler")
    spec = info["CircleRotateTwoExpertSampler"]["input"]["required"]
    order = [n for n in info["CircleRotateTwoExpertSampler"]["input_order"]["required"] if n not in ("model_high", "model_low", "positive", "negative", "latent")]
    sampler["widgets_values"][order.index("steps") + 1] = 0  # +1: the seed's control value precedes steps
    sampler["widgets_values"][order.index("sampler_name") + 1] = "no_such_sampler"
    problems = check_ui(broken, info)
    assert any(".steps: 0 is outside" in p for p in problems), problems
    assert any(".sampler_name: 'no_such_sampler' is not one of" in p for p in problems), problems
    assert spec["steps"][1]["min"] == 1


def test_checker_reports_a_dangling_link(info: dict) -> None:
    workflow = _read(WORKFLOWS_DIR / "circle_rotate_evaluate_video.json")
    workflow["links"][0][3] = 999
    assert any("missing node 999" in p for p in check_ui(workflow, info))


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_shipped_files_are_what_the_builder_writes(path: Path) -> None:
    from fixtures.build_workflows import build

    graph = build(path.stem)
    assert _read(path) == graph.ui(path.stem), "regenerate: .venv/bin/python tests/fixtures/build_workflows.py"
    assert _read(_api_twin(path)) == graph.api()


def test_the_snapshots_alone_validate_every_workflow() -> None:
    """What runs where ../shared is absent: core definitions from the snapshot only."""
    from fixtures.object_info import CORE_SNAPSHOT, pack_object_info

    info = {**_read(CORE_SNAPSHOT), **pack_object_info()}
    for path in UI_FILES:
        assert check_ui(_read(path), info) == [], path.name
        assert check_api(_read(_api_twin(path)), info) == [], path.name


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_every_template_has_a_thumbnail_drawn_from_real_frames(path: Path) -> None:
    from PIL import Image, ImageStat

    thumbnail = path.with_suffix(".jpg")  # the frontend asks for /api/workflow_templates/<pack>/<name>.jpg
    assert thumbnail.is_file(), "make it: .venv/bin/python tests/fixtures/build_template_media.py"
    with Image.open(thumbnail) as image:
        assert image.format == "JPEG" and image.size == (512, 512)
        assert min(ImageStat.Stat(image.convert("RGB")).stddev) > 20, "a blank or flat card"


def test_thumbnails_differ_between_templates() -> None:
    contents = {path.with_suffix(".jpg").read_bytes() for path in UI_FILES}
    assert len(contents) == len(UI_FILES)


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_every_node_names_its_pack_for_install_missing_nodes(path: Path) -> None:
    import re

    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    name, version = (re.search(rf'^{key} = "([^"]+)"', pyproject, re.MULTILINE).group(1) for key in ("name", "version"))
    pack_types = set(pack_object_info())
    for node in _read(path)["nodes"]:
        if node["type"] in ("Note", "MarkdownNote"):
            continue
        properties = node["properties"]
        expected = (name, version) if node["type"] in pack_types else ("comfy-core", "0.8.0")
        assert (properties.get("cnr_id"), properties.get("ver")) == expected, f"node {node['id']} ({node['type']})"


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_declared_models_carry_the_known_sha256(path: Path) -> None:
    known = {entry.name: entry.sha256 for entry in REGISTRY.values()}
    for node in _read(path)["nodes"]:
        for entry in node["properties"].get("models", []):
            if known[entry["name"]]:
                assert (entry.get("hash"), entry.get("hash_type")) == (known[entry["name"]], "SHA256"), entry["name"]
            else:
                assert "hash" not in entry and "hash_type" not in entry


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_the_inputs_a_workflow_loads_ship_as_samples(path: Path) -> None:
    names = [node["inputs"][key] for node in _read(_api_twin(path)).values()
             for kind, key in (("LoadImage", "image"), ("LoadVideo", "file")) if node["class_type"] == kind]
    assert names, "every template loads an image or a video"
    for name in names:
        assert (INPUTS_DIR / name).is_file(), f"{name} is loaded by {path.name} but not in {INPUTS_DIR}"
