"""Every shipped API workflow runs end to end over HTTP on a real server with the tiny models.

The text encoder is replaced by the test conditioning node and the video shrunk to 64x64x9 (see
``fixtures/workflow_tiny.py``). No metric weights exist here, so the model-based metrics must come back as errors
while the others (PSNR/SSIM, motion, orbit) are computed. The paper preset's latent must equal, bit for bit, the
one of the original workflow's native graph.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from safetensors.torch import load_file

from fixtures.comfy_in_process import PACK_LINK_NAME
from fixtures.object_info import PACK_SNAPSHOT, WORKFLOWS_DIR, without_user_files
from fixtures.workflow_check import check_api, check_ui
from fixtures.workflow_tiny import native_paper_prompt, node_ids, tiny_prompt, write_inputs

pytestmark = pytest.mark.server
API_FILES = sorted((WORKFLOWS_DIR / "api").glob("*.json"))


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server(comfy_server):
    write_inputs(comfy_server.base_dir / "input")
    return comfy_server


@pytest.fixture(scope="module")
def live_info(server) -> dict:
    return server.get_json("/object_info")


def test_pack_snapshot_equals_what_the_server_reports(live_info) -> None:
    snapshot = _read(PACK_SNAPSHOT)
    live = {name: info for name, info in live_info.items() if name.startswith("CircleRotate") and name != "CircleRotateTestConditioning"}
    assert sorted(live) == sorted(snapshot), "regenerate: .venv/bin/python tests/fixtures/object_info.py"
    for name in snapshot:
        assert without_user_files(live[name]) == snapshot[name], f"{name} changed: regenerate the snapshot"


@pytest.mark.parametrize("path", sorted(WORKFLOWS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_workflows_are_valid_against_the_live_server(path: Path, live_info) -> None:
    assert check_ui(_read(path), live_info) == []
    assert check_api(_read(WORKFLOWS_DIR / "api" / path.name), live_info) == []


def test_the_templates_browser_lists_each_workflow_and_serves_its_thumbnail(server) -> None:
    listed = server.get_json("/api/workflow_templates")[PACK_LINK_NAME]
    assert sorted(listed) == sorted(path.stem for path in WORKFLOWS_DIR.glob("*.json"))
    for name in listed:  # the URL the frontend's template card asks for
        with urllib.request.urlopen(f"{server.url}/api/workflow_templates/{PACK_LINK_NAME}/{name}.jpg") as response:
            assert response.headers["Content-Type"] == "image/jpeg"
            assert response.read() == (WORKFLOWS_DIR / f"{name}.jpg").read_bytes()


def _outputs(server, prompt: dict) -> dict:
    return server.run_prompt(prompt, timeout=600)["outputs"]


def _check_report(payload: dict, output_dir: Path) -> None:
    families = {row["family"] for row in payload["table"]}
    assert {"motion", "orbit", "fidelity"} <= families
    assert "clip_i" in payload["errors"] and "subject_drift" in payload["errors"]
    for file in payload["files"]:
        assert (output_dir / file["subfolder"] / file["filename"]).is_file()
    saved = _read(output_dir / payload["files"][0]["subfolder"] / payload["files"][0]["filename"])
    assert saved["motion"]["motion_magnitude"] >= 0 and saved["upstream"]["motion"] is not None


@pytest.mark.parametrize("path", API_FILES, ids=lambda p: p.stem)
def test_api_workflow_runs_on_tiny_models(path: Path, server, tiny_models) -> None:
    prompt = tiny_prompt(_read(path), tiny_models)
    outputs = _outputs(server, prompt)
    output_dir = server.base_dir / "output"
    for node_id in node_ids(prompt, "CircleRotateReport"):
        _check_report(outputs[node_id]["circle_rotate_report"][0], output_dir)
    for node_id in node_ids(prompt, "SaveVideo"):
        assert outputs[node_id]["images"], "SaveVideo saved nothing"
    for node_id in node_ids(prompt, "CircleRotateABCompare"):
        ab = outputs[node_id]["circle_rotate_ab"][0]
        assert (ab["label_a"], ab["label_b"]) == ("without LoRA", "with LoRA")
        changed = [row for row in ab["rows"] if row["change"] not in (0, None)]
        assert changed, "strength 0 and 1 gave identical metrics: the LoRA had no effect"
        assert all(row["relative_percent"] is None or abs(row["relative_percent"] - 100 * row["change"] / abs(row["a"])) < 1e-6 for row in ab["rows"])


def _saved_latent(server, outputs: dict, node_id: str):
    entry = outputs[node_id]["latents"][0]
    return load_file(str(server.base_dir / "output" / entry["subfolder"] / entry["filename"]))["latent_tensor"]


def test_paper_preset_is_bit_identical_to_the_native_original_graph(server, tiny_models) -> None:
    import torch

    preset = tiny_prompt(_read(WORKFLOWS_DIR / "api" / "circle_rotate_paper_preset.json"), tiny_models)
    (sampler,) = node_ids(preset, "CircleRotateTwoExpertSampler")
    preset["900"] = {"class_type": "SaveLatent", "inputs": {"samples": [sampler, 0], "filename_prefix": "latents/preset"}}
    seed = preset[sampler]["inputs"]["seed"]
    preset_latent = _saved_latent(server, _outputs(server, preset), "900")
    native_latent = _saved_latent(server, _outputs(server, native_paper_prompt(tiny_models, seed)), "32")
    assert preset_latent.shape == (1, 16, 3, 8, 8)
    assert torch.isfinite(preset_latent).all()
    assert torch.equal(preset_latent, native_latent)
    other = _saved_latent(server, _outputs(server, native_paper_prompt(tiny_models, seed, strength=0.0)), "32")
    assert not torch.equal(other, native_latent), "the LoRA strength should change the latent"
