"""The "Load Subject Masks" node: an .npz from ComfyUI's input folder becomes a MASK batch that gives, through the
subject-drift node, exactly what ``circle-rotate eval --masks`` gives for the same video and file."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from circle_rotate import suite, video
from circle_rotate.commands.eval_inputs import SAMPLE_MASKS, SAMPLE_VIDEO
from circle_rotate.masks import load_masks
from fixtures.comfy_in_process import run_coroutine

NODE_ID = "CircleRotateLoadSubjectMasks"
SUBFOLDER = "circle_rotate_masks_test"


@pytest.fixture
def input_folder(comfy_host) -> Iterator[Path]:
    """A sub-folder of the host's input folder holding a copy of the bundled sample's masks; removed afterwards."""
    import folder_paths

    folder = Path(folder_paths.get_input_directory()) / SUBFOLDER
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE_MASKS, folder / "demo4.npz")
    yield folder
    shutil.rmtree(folder)


def test_lists_npz_files_and_loads_them_as_a_mask_batch(comfy_host, input_folder: Path) -> None:
    node = comfy_host.node(NODE_ID)
    name = f"{SUBFOLDER}/demo4.npz"
    options = next(item for item in node.define_schema().inputs if item.id == "masks_file").options
    assert name in options

    masks, frames = node.execute(masks_file=name, key="masks")

    expected = load_masks(SAMPLE_MASKS)
    assert masks.dtype == torch.float32 and tuple(masks.shape) == expected.shape and frames == len(expected)
    assert torch.equal(masks, torch.from_numpy(expected).float())
    assert 0 < float(masks.mean()) < 1


def test_subject_drift_through_the_node_equals_the_cli_on_the_same_files(comfy_host, input_folder: Path) -> None:
    masks, _ = comfy_host.node(NODE_ID).execute(masks_file=f"{SUBFOLDER}/demo4.npz", key="masks")
    clip = video.load_clip(SAMPLE_VIDEO, num_frames=0)
    images = torch.from_numpy(np.stack(clip.frames)).float() / 255.0

    through_node = comfy_host.node("CircleRotateSubjectDrift").execute(
        images=images, fps=clip.fps, num_frames=16, label="demo4", masks=masks
    )[0]["subject_drift"]
    through_cli = suite.evaluate_file(
        SAMPLE_VIDEO, None, suite.SuiteOptions(metrics=("subject_drift",)), masks=load_masks(SAMPLE_MASKS, "--masks")
    )["subject_drift"]

    assert through_node["indices"] == through_cli["indices"] and len(through_node["indices"]) == 16
    for key in ("speed_px_per_frame", "drift_std_px", "max_deviation_px", "detection_rate", "global_flow"):
        assert through_node[key] == pytest.approx(through_cli[key], rel=1e-9, abs=1e-12), key
    assert through_node["speed_px_per_frame"] > 0


def test_bad_files_and_keys_name_the_input_and_the_fix(comfy_host, input_folder: Path) -> None:
    node = comfy_host.node(NODE_ID)
    with pytest.raises(ValueError, match=r"masks_file '.*gone.npz' is not an .npz file in ComfyUI's input folder"):
        node.execute(masks_file=f"{SUBFOLDER}/gone.npz", key="masks")
    with pytest.raises(ValueError, match=r"masks_file .* holds \['masks'\], not 'subject'"):
        node.execute(masks_file=f"{SUBFOLDER}/demo4.npz", key="subject")
    np.savez(input_folder / "flat.npz", masks=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"masks_file .* has shape \(4, 5\), expected \(T, H, W\)"):
        node.execute(masks_file=f"{SUBFOLDER}/flat.npz", key="masks")
    (input_folder / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="masks_file .* is not a readable .npz file"):
        node.execute(masks_file=f"{SUBFOLDER}/text.npz", key="masks")


def test_a_rewritten_file_changes_the_fingerprint(comfy_host, input_folder: Path) -> None:
    node = comfy_host.node(NODE_ID)
    name = f"{SUBFOLDER}/demo4.npz"
    before = node.fingerprint_inputs(masks_file=name, key="masks")
    np.savez(input_folder / "demo4.npz", masks=np.ones((3, 4, 4), dtype=bool))
    assert node.fingerprint_inputs(masks_file=name, key="masks") != before
    assert node.fingerprint_inputs(masks_file=name, key="other") != node.fingerprint_inputs(masks_file=name, key="masks")



@pytest.fixture
def outside_secret(comfy_host, input_folder: Path) -> Iterator[Path]:
    """A valid masks file OUTSIDE the input folder (beside it), and a symlink to it inside the input folder."""
    import folder_paths

    outside = Path(folder_paths.get_input_directory()).resolve().parent / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret_masks.npz"
    shutil.copy(SAMPLE_MASKS, secret)
    (input_folder / "link_out.npz").symlink_to(secret)
    (input_folder / "linkdir").symlink_to(outside, target_is_directory=True)
    yield secret
    shutil.rmtree(outside)


def _refused_names(secret: Path) -> list[str]:
    import folder_paths

    input_dir = Path(folder_paths.get_input_directory())
    up = os.path.relpath(secret, input_dir / SUBFOLDER)  # ../../outside/secret_masks.npz, from the sub-folder
    return [
        str(secret),  # absolute, exists
        f"{SUBFOLDER}/{up}",  # ../ out of the input folder, exists
        "../outside/secret_masks.npz",
        urllib.parse.quote("../outside/secret_masks.npz", safe=""),  # %2E%2E%2Foutside%2F...: a literal name
        "%2e%2e/outside/secret_masks.npz",
        f"{SUBFOLDER}/link_out.npz",  # a symlink inside pointing outside
        f"{SUBFOLDER}/linkdir/secret_masks.npz",  # through a symlinked folder
        "/etc/passwd",
        "/no/such/file.npz",  # absolute, missing
        f"{SUBFOLDER}/gone.npz",  # inside, missing
        SUBFOLDER,  # a folder
        f"{SUBFOLDER}/demo4.npz\x00.npz",
    ]


def test_every_path_outside_the_input_folder_gets_the_same_answer(comfy_host, input_folder, outside_secret) -> None:
    node = comfy_host.node(NODE_ID)
    messages = set()
    for name in _refused_names(outside_secret):
        with pytest.raises(ValueError) as error:
            node.execute(masks_file=name, key="masks")
        messages.add(str(error.value).replace(repr(name), "<name>"))
    assert messages == {
        "masks_file <name> is not an .npz file in ComfyUI's input folder: put the .npz there (or in a sub-folder), "
        "refresh, and pick it from the list"
    }


def test_refused_paths_are_not_listed_and_the_fingerprint_does_not_read_them(comfy_host, input_folder,
                                                                            outside_secret) -> None:
    node = comfy_host.node(NODE_ID)
    options = next(item for item in node.define_schema().inputs if item.id == "masks_file").options
    assert f"{SUBFOLDER}/demo4.npz" in options
    assert not any("link_out" in name or "secret" in name for name in options), options
    fingerprints = {node.fingerprint_inputs(masks_file=name, key="masks").replace(name, "<name>")
                    for name in _refused_names(outside_secret)}
    assert fingerprints == {"<name>:masks:refused"}


def test_comfyui_list_check_applies_before_execution(comfy_host, input_folder, outside_secret) -> None:
    import execution

    node = comfy_host.node(NODE_ID)
    assert "validate_inputs" not in vars(node), "a validate_inputs taking masks_file turns ComfyUI's list check off"

    def validate(masks_file: str) -> tuple:
        prompt = {"1": {"class_type": NODE_ID, "inputs": {"masks_file": masks_file, "key": "masks"}}}
        return run_coroutine(execution.validate_inputs("test", prompt, "1", {}))

    assert validate(f"{SUBFOLDER}/demo4.npz")[0] is True
    for name in (str(outside_secret), f"{SUBFOLDER}/link_out.npz", "../outside/secret_masks.npz", "/etc/passwd"):
        valid, errors, _ = validate(name)
        assert valid is False and [error["type"] for error in errors] == ["value_not_in_list"], (name, errors)
