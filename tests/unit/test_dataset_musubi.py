"""train_high.sh / train_low.sh / cache.sh of ``dataset prepare`` match the original Circle-Rotate training commands
flag for flag.

ORIGINAL below is typed from the original README's "Training" section (Jklaity/Circle-Rotate, commit 32282c3),
not taken from ``circle_rotate/dataset/musubi.py``; FACTS.md's summary of it (task i2v-A14B, networks.lora_wan,
network_dim 32, lr 2e-4, timestep_sampling shift, discrete_flow_shift 8.0, fp8 base, one run per expert) is a
subset. Each script is run with a stand-in ``accelerate`` on PATH that records its arguments, so the test checks
the command line bash really builds.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from circle_rotate.dataset import musubi

ORIGINAL = """
accelerate launch --num_processes 1 src/musubi_tuner/wan_train_network.py --task i2v-A14B --dit {dit}
--dataset_config datasets/circle/circle.toml --vae models/Wan2.1_VAE.pth --sdpa --fp8_base --optimizer_type adamw8bit
--learning_rate 2e-4 --gradient_checkpointing --gradient_checkpointing_cpu_offload --max_data_loader_n_workers 1
--persistent_data_loader_workers --network_module networks.lora_wan --network_dim 32 --timestep_sampling shift
--discrete_flow_shift 8.0 --max_train_epochs 100 --save_every_n_epochs 1 --seed 42 --output_dir ./outputs/{expert}
--output_name {name} --mixed_precision fp16 --blocks_to_swap 30 --vae_cache_cpu
--t5 models/models_t5_umt5-xxl-enc-bf16.pth --sample_prompts prompts.txt --sample_every_n_epochs 1 --sample_at_first
"""
FACTS = {"--task": "i2v-A14B", "--network_module": "networks.lora_wan", "--network_dim": "32", "--learning_rate": "2e-4",
         "--timestep_sampling": "shift", "--discrete_flow_shift": "8.0", "--fp8_base": None}
EXPERTS = {"high": ("wan2.2_i2v_high_noise_14B_fp16.safetensors", "circle_rotate_h"),
           "low": ("wan2.2_i2v_low_noise_14B_fp16.safetensors", "circle_rotate_l")}


def _expected(expert: str, here: Path, models: Path) -> list[str]:
    """The original's argv for ``expert`` with its paths replaced by the script's parameters."""
    dit, name = EXPERTS[expert]
    argv = ORIGINAL.format(dit=models / dit, expert=expert, name=name).split()
    swap = {"datasets/circle/circle.toml": str(here / "dataset.toml"), "models/Wan2.1_VAE.pth": str(models / "Wan2.1_VAE.pth"),
            "models/models_t5_umt5-xxl-enc-bf16.pth": str(models / "models_t5_umt5-xxl-enc-bf16.pth"),
            f"./outputs/{expert}": str(here / "outputs" / expert), "prompts.txt": str(here / "prompts.txt")}
    return [swap.get(arg, arg) for arg in argv]


def _pairs(argv: list[str]) -> dict[str, str | None]:
    flags: dict[str, str | None] = {}
    for i, arg in enumerate(argv):
        if arg.startswith("--") and arg != "--num_processes":
            flags[arg] = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else None
    return flags


@pytest.fixture
def runner(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(dataset folder holding the scripts, models folder, environment with a recording ``accelerate``)."""
    here, bin_dir, musubi_dir, models = tmp_path / "data set", tmp_path / "bin", tmp_path / "musubi", tmp_path / "models"
    for folder in (here, bin_dir, musubi_dir, models):
        folder.mkdir()
    for name, text in (("train_high.sh", musubi.train_script("high")), ("train_low.sh", musubi.train_script("low")), ("cache.sh", musubi.cache_script())):
        (here / name).write_text(text, encoding="utf-8")
    for tool in ("accelerate", "python"):
        (bin_dir / tool).write_text(f'#!/usr/bin/env bash\n{{ echo "{tool} cwd=$PWD"; printf "%s\\n" "$@"; echo; }} >> "$RECORD"\n', encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(tmp_path / "record.txt"), "MUSUBI_TUNER_PATH": str(musubi_dir),
        "DIT_HIGH": str(models / EXPERTS["high"][0]), "DIT_LOW": str(models / EXPERTS["low"][0]),
        "VAE": str(models / "Wan2.1_VAE.pth"), "T5": str(models / "models_t5_umt5-xxl-enc-bf16.pth"),
    }
    return here, models, env


def _run(here: Path, script: str, env: dict[str, str], *args: str) -> list[list[str]]:
    subprocess.run(["bash", str(here / script), *args], check=True, env=env, capture_output=True, text=True)
    calls = Path(env["RECORD"]).read_text(encoding="utf-8").split("\n\n")
    Path(env["RECORD"]).unlink()
    return [call.splitlines() for call in calls if call.strip()]


@pytest.mark.parametrize("expert", ["high", "low"])
def test_training_scripts_run_the_original_command_flag_for_flag(runner: tuple, expert: str) -> None:
    here, models, env = runner
    (call,) = _run(here, f"train_{expert}.sh", env)
    assert call[0] == f"accelerate cwd={env['MUSUBI_TUNER_PATH']}"
    expected = _expected(expert, here, models)
    assert call[1:] == expected[1:]  # every flag and value, in the original's order, nothing added
    flags = _pairs(call[1:])
    assert all(flags[flag] == value for flag, value in FACTS.items())


def test_the_flags_as_data_are_the_originals() -> None:
    for expert in ("high", "low"):
        data = [item for flag, value in musubi.flag_values(expert) for item in (flag, value) if item is not None]
        original = ORIGINAL.split()[5:]  # after "accelerate launch --num_processes 1 script"
        assert [a for a in data if a.startswith("--")] == [a for a in original if a.startswith("--")]


def test_extra_arguments_are_appended(runner: tuple) -> None:
    here, _, env = runner
    (call,) = _run(here, "train_high.sh", env, "--min_timestep", "900", "--max_timestep", "1000")
    assert call[-4:] == ["--min_timestep", "900", "--max_timestep", "1000"]


def test_a_missing_model_path_stops_the_script_with_its_name(runner: tuple) -> None:
    here, _, env = runner
    env = {k: v for k, v in env.items() if k != "DIT_LOW"}
    done = subprocess.run(["bash", str(here / "train_low.sh")], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "DIT_LOW" in done.stderr
    assert not Path(env["RECORD"]).exists()


def test_cache_script_runs_musubi_tuners_two_caching_steps(runner: tuple) -> None:
    here, models, env = runner
    latents, text = _run(here, "cache.sh", env)
    assert latents[1:] == ["src/musubi_tuner/wan_cache_latents.py", "--dataset_config", str(here / "dataset.toml"), "--vae", str(models / "Wan2.1_VAE.pth"), "--i2v"]
    assert text[1:] == ["src/musubi_tuner/wan_cache_text_encoder_outputs.py", "--dataset_config", str(here / "dataset.toml"), "--t5", str(models / "models_t5_umt5-xxl-enc-bf16.pth"), "--batch_size", "16"]


def test_scripts_name_where_each_model_file_comes_from() -> None:
    text = musubi.train_script("high") + musubi.train_script("low")
    for model in musubi.MODEL_FILES:
        assert model.source.split()[0] in text and model.original_name in text
