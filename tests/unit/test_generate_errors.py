"""``generate``'s errors name the input and the fix: no ComfyUI, a missing model file, out of memory; progress."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from circle_rotate.cli import main
from circle_rotate.generation import ComfyUINotFoundError, in_process
from circle_rotate.generation.errors import OOM_HINT, missing_model, with_oom_hint
from circle_rotate.generation.graph import ModelRef
from circle_rotate.generation.progress import StepProgress


def test_no_comfyui_says_how_to_point_at_one(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("COMFYUI_PATH", raising=False)
    monkeypatch.setattr(in_process, "PACK_DIR", tmp_path / "pack")
    with pytest.raises(ComfyUINotFoundError, match=r"not in a custom_nodes folder.*comfyui=PATH \(CLI: --comfyui "
                       r"PATH\) or the COMFYUI_PATH environment variable.*server="):
        in_process.find_comfyui(None)
    with pytest.raises(ComfyUINotFoundError, match=rf"comfyui= {tmp_path} \(no main.py\)"):
        in_process.find_comfyui(tmp_path)
    monkeypatch.setenv("COMFYUI_PATH", str(tmp_path))
    with pytest.raises(ComfyUINotFoundError, match=rf"COMFYUI_PATH {tmp_path} \(no main.py\)"):
        in_process.find_comfyui(None)


def test_comfyui_is_found_from_the_argument_the_variable_or_custom_nodes(tmp_path, monkeypatch) -> None:
    comfy = tmp_path / "ComfyUI"
    (comfy / "custom_nodes" / "ComfyUI-CircleRotate").mkdir(parents=True)
    (comfy / "main.py").write_text("")
    monkeypatch.delenv("COMFYUI_PATH", raising=False)
    assert in_process.find_comfyui(comfy) == comfy.resolve()
    monkeypatch.setattr(in_process, "PACK_DIR", comfy / "custom_nodes" / "ComfyUI-CircleRotate")
    assert in_process.find_comfyui(None) == comfy.resolve()
    monkeypatch.setenv("COMFYUI_PATH", str(comfy))
    monkeypatch.setattr(in_process, "PACK_DIR", tmp_path / "elsewhere")
    assert in_process.find_comfyui(None) == comfy.resolve()


def test_cli_without_comfyui_exits_2_naming_the_fix(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(in_process, "_loaded_comfyui", lambda: None)  # as in a process without ComfyUI
    monkeypatch.setattr(in_process.InProcessComfy, "_shared", None)
    first = tmp_path / "first.png"
    from PIL import Image

    Image.new("RGB", (16, 16)).save(first)
    code = main(["generate", "--first", str(first), "--output", str(tmp_path / "o.mp4"), "--comfyui", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "no ComfyUI found" in err and "COMFYUI_PATH" in err and "--comfyui PATH" in err
    assert not (tmp_path / "o.mp4").exists()


def test_cli_missing_first_image_exits_2_naming_the_option(tmp_path, capsys) -> None:
    assert main(["generate", "--first", str(tmp_path / "no.png"), "--output", str(tmp_path / "o.mp4")]) == 2
    assert f"--first '{tmp_path / 'no.png'}' does not exist" in capsys.readouterr().err


def test_missing_model_message_names_file_folder_and_command() -> None:
    ref = ModelRef("1", "CircleRotateLoadExperts", "high_noise_model", "diffusion_models",
                   "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors")
    message = str(missing_model(ref, ["/c/models/diffusion_models"], ["other.safetensors"], "/c"))
    assert message.startswith("model_high model file 'wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors' (node 1, "
                              "CircleRotateLoadExperts.high_noise_model) was not found in /c/models/diffusion_models.")
    assert "`circle-rotate models download --what generation --comfyui /c`" in message
    assert "https://huggingface.co/" in message and "Files there: other.safetensors." in message
    unknown = ModelRef("3", "VAELoader", "vae_name", "vae", "mine.safetensors")
    assert "Put the file into /c/models/vae, or pass another file with vae=." in str(
        missing_model(unknown, ["/c/models/vae"], [], None))


def test_out_of_memory_gets_the_fp8_and_size_hint() -> None:
    message = "node 10 (CircleRotateTwoExpertSampler) raised torch.OutOfMemoryError: CUDA out of memory."
    assert with_oom_hint(message) == f"{message}\n{OOM_HINT}"
    assert "fp8" in OOM_HINT and "length" in OOM_HINT
    assert with_oom_hint("node 9 raised ValueError: width") == "node 9 raised ValueError: width"


def test_progress_adds_up_the_sampler_nodes_only() -> None:
    seen = []
    progress = StepProgress(lambda done, total: seen.append((done, total)),
                            {"10": "KSamplerAdvanced", "11": "KSamplerAdvanced", "12": "VAEDecode"})
    progress.update("10", 1, 2)
    progress.update("12", 5, 9)
    progress.update("10", 2, 2)
    progress.update("11", 1, 2)
    progress.update(None, 1, 1)
    assert seen == [(1, 2), (2, 2), (3, 4)]


def test_importing_the_api_imports_no_comfyui_and_no_torch() -> None:
    code = ("import sys, circle_rotate; circle_rotate.CircleRotateInference; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'comfy', 'nodes', 'execution', 'av'}))")
    env = {key: value for key, value in os.environ.items() if key != "COMFYUI_PATH"}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert output.stdout.strip() == "[]"
