"""``circle-rotate generate`` on the tiny models, in this process's ComfyUI.

The mp4 it writes is lossless (H.264 RGB, crf 0): decoded, it must equal the frames the Python API returns for the
same call, bit for bit; its ``--report`` must equal what ``circle-rotate eval`` reports on that mp4 with the same
conditioning images; a failed run leaves no video and no partial file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from circle_rotate import CircleRotateInference
from circle_rotate.cli import main
from fixtures.generate_setup import decode_video, load_test_nodes, write_frame, write_tiny_workflow


@pytest.fixture(scope="module")
def inputs(comfy_host, tiny_models, tmp_path_factory):
    load_test_nodes(comfy_host.nodes)
    folder = tmp_path_factory.mktemp("generate_cli")
    return {
        "workflow": write_tiny_workflow(folder / "paper_tiny.json", tiny_models),
        "first": write_frame(folder / "first.png", 3),
        "last": write_frame(folder / "last.png", 4, 96, 64),
    }


def _argv(inputs, *extra: str) -> list[str]:
    return ["generate", "--first", str(inputs["first"]), "--last", str(inputs["last"]),
            "--workflow", str(inputs["workflow"]), "--seed", "41", *extra]


def test_cli_writes_a_lossless_mp4_of_the_api_frames_and_the_eval_report(inputs, tmp_path, capsys) -> None:
    video, report = tmp_path / "orbit.mp4", tmp_path / "orbit.json"
    assert main(_argv(inputs, "--output", str(video), "--report", str(report))) == 0
    err = capsys.readouterr().err
    assert "sampling" in err and "4/4" in err, "the progress bar spans both experts' 4 steps"
    assert f"wrote {video} (9 frames, 64x64, 16 fps, seed 41)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orbit.json", "orbit.mp4"], "no partial file is left"

    decoded, fps = decode_video(video)
    api = CircleRotateInference(workflow=inputs["workflow"]).generate(inputs["first"], inputs["last"], seed=41)
    assert fps == 16.0
    assert decoded.shape == api.frames.shape == (9, 64, 64, 3)
    assert np.array_equal(decoded, api.frames)

    evaluated = tmp_path / "eval" / "orbit.json"
    evaluated.parent.mkdir()
    main(["eval", str(video), "--first", str(inputs["first"]), "--last", str(inputs["last"]), "--output", str(evaluated)])
    ours, theirs = json.loads(report.read_text()), json.loads(evaluated.read_text())
    assert ours["motion"] is not None and ours["fidelity"] is not None
    for key in ("masks_file", "masks_source"):  # eval records where masks files came from; generate has none
        theirs.pop(key, None)
        ours.pop(key, None)
    assert ours == theirs


def test_api_report_equals_the_cli_report(inputs, tmp_path) -> None:
    from circle_rotate.report import to_json

    video, report = tmp_path / "orbit.mp4", tmp_path / "orbit.json"
    assert main(_argv(inputs, "--output", str(video), "--report", str(report))) == 0
    api = CircleRotateInference(workflow=inputs["workflow"]).generate(
        inputs["first"], inputs["last"], seed=41, output=tmp_path / "api" / "orbit.mp4", evaluate=True)
    assert api.report["video"] == str(tmp_path / "api" / "orbit.mp4")
    ours = json.loads(to_json([api.report]))
    ours["video"] = str(video)
    assert ours == json.loads(report.read_text())


def test_failed_run_leaves_no_video(inputs, tmp_path, capsys) -> None:
    video = tmp_path / "orbit.mp4"
    assert main(_argv(inputs, "--output", str(video), "--width", "70")) == 1
    assert "width 70 is not a multiple of 16" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_model_exits_2_with_the_download_command(inputs, tmp_path, capsys) -> None:
    assert main(_argv(inputs, "--output", str(tmp_path / "o.mp4"), "--vae", "wan_2.1_vae.safetensors")) == 2
    err = capsys.readouterr().err
    assert "vae model file 'wan_2.1_vae.safetensors'" in err
    assert "circle-rotate models download --what generation" in err


@pytest.mark.server
def test_cli_on_a_server_writes_the_same_video(inputs, comfy_server, tmp_path, capsys) -> None:
    local, remote = tmp_path / "local.mp4", tmp_path / "remote.mp4"
    assert main(_argv(inputs, "--output", str(local))) == 0
    capsys.readouterr()
    assert main(_argv(inputs, "--output", str(remote), "--server", comfy_server.url)) == 0
    assert "4/4" in capsys.readouterr().err, "the websocket's progress messages drive the bar"
    assert np.array_equal(decode_video(remote)[0], decode_video(local)[0])
