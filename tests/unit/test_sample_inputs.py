"""The workflows' sample inputs (circle_rotate/samples/inputs/) and ``circle-rotate samples``, which copies them into
ComfyUI's input folder."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from circle_rotate.cli import main
from circle_rotate.sample_inputs import copy_samples, input_dir_from, installed_comfyui, sample_inputs


def test_the_samples_are_the_real_frames_and_video() -> None:
    assert [path.name for path in sample_inputs()] == [
        "circle_rotate_first.jpg", "circle_rotate_last.jpg", "circle_rotate_orbit.mp4"]
    first, last, video = sample_inputs()
    for image in (first, last):
        with Image.open(image) as opened:
            assert opened.size == (720, 1280) and opened.format == "JPEG"
    with av.open(str(video)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 51 and (frames[0].width, frames[0].height) == (180, 320)


def test_copy_reports_copied_then_present_and_keeps_a_different_file(tmp_path) -> None:
    target = tmp_path / "input"
    assert {status for _, status in copy_samples(target)} == {"copied"}
    assert [path.name for path in sorted(target.iterdir())] == [path.name for path in sample_inputs()]
    assert {status for _, status in copy_samples(target)} == {"present"}
    (target / "circle_rotate_first.jpg").write_bytes(b"the user's own picture")
    statuses = dict((path.name, status) for path, status in copy_samples(target))
    assert statuses["circle_rotate_first.jpg"] == "kept"
    assert (target / "circle_rotate_first.jpg").read_bytes() == b"the user's own picture"
    statuses = dict((path.name, status) for path, status in copy_samples(target, force=True))
    assert statuses["circle_rotate_first.jpg"] == "replaced"
    assert (target / "circle_rotate_first.jpg").read_bytes() == sample_inputs()[0].read_bytes()
    assert not list(target.glob("*.part"))


def test_cli_exit_codes(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("COMFYUI_PATH", raising=False)
    assert main(["samples", "--input-dir", str(tmp_path / "in")]) == 0
    assert capsys.readouterr().out.count("copied ") == 3
    (tmp_path / "in" / "circle_rotate_orbit.mp4").write_bytes(b"other")
    assert main(["samples", "--input-dir", str(tmp_path / "in")]) == 1
    assert "--force replaces it" in capsys.readouterr().err
    assert main(["samples", "--comfyui", str(tmp_path)]) == 2
    assert "not a ComfyUI checkout (no main.py there)" in capsys.readouterr().err


def _fake_install(root: Path) -> Path:
    """``root/ComfyUI/custom_nodes/ComfyUI-CircleRotate/circle_rotate``, with ComfyUI's main.py."""
    package = root / "ComfyUI" / "custom_nodes" / "ComfyUI-CircleRotate" / "circle_rotate"
    package.mkdir(parents=True)
    (root / "ComfyUI" / "main.py").write_text("")
    return package


def test_input_folder_from_options_environment_or_the_install(tmp_path, monkeypatch) -> None:
    package = _fake_install(tmp_path)
    comfyui = tmp_path / "ComfyUI"
    assert installed_comfyui(package) == comfyui
    assert installed_comfyui(tmp_path) is None
    assert input_dir_from(None, tmp_path / "x") == tmp_path / "x"
    assert input_dir_from(comfyui, None) == comfyui / "input"
    monkeypatch.setenv("COMFYUI_PATH", str(comfyui))
    assert input_dir_from(None, None) == comfyui / "input"
    monkeypatch.delenv("COMFYUI_PATH")
    monkeypatch.setattr("circle_rotate.sample_inputs.installed_comfyui", lambda: None)
    with pytest.raises(ValueError, match="give --comfyui PATH"):
        input_dir_from(None, None)
