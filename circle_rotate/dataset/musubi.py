"""The original Circle-Rotate training recipe for kohya-ss/musubi-tuner, as data, and the shell scripts built from it.

Source: the "Training" section of the original project's README (Jklaity/Circle-Rotate, Apache-2.0, README.md
as of commit 32282c3, February 2026): two ``accelerate launch ... wan_train_network.py --task i2v-A14B`` commands,
one for the low-noise expert (``circle_rotate_l``) and one for the high-noise expert (``circle_rotate_h``), that
differ only in ``--dit``, ``--output_dir`` and ``--output_name``. :data:`ORIGINAL_FLAGS` holds their flags one for
one, in the original's order; values that name files or folders on the original author's machine are
:class:`Param` placeholders that the scripts fill from environment variables.

What the original does NOT give and musubi-tuner's own documentation (docs/wan.md) requires before training is
the caching of VAE latents (``wan_cache_latents.py --i2v``) and T5 outputs (``wan_cache_text_encoder_outputs.py``):
:func:`cache_script` writes those two commands. musubi-tuner's docs also recommend, when one Wan2.2 expert is
trained alone, a timestep range per expert (I2V high noise ``--min_timestep 900 --max_timestep 1000``, low noise
``0``-``900``) with ``--preserve_distribution_shape``; the original's commands do not use them, so the scripts
leave them out and say how to add them (:data:`MUSUBI_DOCS_TIMESTEPS`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    """A value the user supplies: the environment variable ``env`` (its ``default`` when unset, else required).

    Attributes:
        env: the variable's name.
        default: shell text used when it is unset (may name other variables), or None when it must be set.
        help: what it is and where to get it.
    """

    env: str
    default: str | None
    help: str


@dataclass(frozen=True)
class ModelFile:
    """A file the training needs: the original's name for it and where to download it."""

    param: str
    original_name: str
    source: str


EXPERTS = ("high", "low")

LAUNCHER = ("accelerate", "launch", "--num_processes", "1", "src/musubi_tuner/wan_train_network.py")
"""The original's launcher: ``CUDA_VISIBLE_DEVICES=0 accelerate launch --num_processes 1`` the training script."""

DIT = {"high": "DIT_HIGH", "low": "DIT_LOW"}

ORIGINAL_FLAGS: tuple[tuple[str, str | Param | None], ...] = (
    ("--task", "i2v-A14B"),
    ("--dit", Param("DIT", None, "the expert's DiT (set per script from DIT_HIGH / DIT_LOW)")),
    ("--dataset_config", Param("DATASET_CONFIG", "$HERE/dataset.toml", "the dataset .toml written by circle-rotate dataset prepare")),
    ("--vae", Param("VAE", None, "the Wan2.1 VAE")),
    ("--sdpa", None),
    ("--fp8_base", None),
    ("--optimizer_type", "adamw8bit"),
    ("--learning_rate", "2e-4"),
    ("--gradient_checkpointing", None),
    ("--gradient_checkpointing_cpu_offload", None),
    ("--max_data_loader_n_workers", "1"),
    ("--persistent_data_loader_workers", None),
    ("--network_module", "networks.lora_wan"),
    ("--network_dim", "32"),
    ("--timestep_sampling", "shift"),
    ("--discrete_flow_shift", "8.0"),
    ("--max_train_epochs", "100"),
    ("--save_every_n_epochs", "1"),
    ("--seed", "42"),
    ("--output_dir", Param("OUTPUT_DIR", None, "where the LoRA checkpoints go (set per script: outputs/high, outputs/low)")),
    ("--output_name", Param("OUTPUT_NAME", None, "the LoRA file name (set per script: circle_rotate_h, circle_rotate_l)")),
    ("--mixed_precision", "fp16"),
    ("--blocks_to_swap", "30"),
    ("--vae_cache_cpu", None),
    ("--t5", Param("T5", None, "the UMT5-XXL text encoder")),
    ("--sample_prompts", Param("SAMPLE_PROMPTS", "$HERE/prompts.txt", "musubi-tuner's sample prompt file (one line per sample, --i the first frame)")),
    ("--sample_every_n_epochs", "1"),
    ("--sample_at_first", None),
)
"""Every flag of the original's two commands, in its order, with its value (None for a switch)."""

PER_EXPERT = {
    "high": {"DIT": "$DIT_HIGH", "OUTPUT_DIR": "$HERE/outputs/high", "OUTPUT_NAME": "circle_rotate_h"},
    "low": {"DIT": "$DIT_LOW", "OUTPUT_DIR": "$HERE/outputs/low", "OUTPUT_NAME": "circle_rotate_l"},
}
"""The three values in which the original's high and low commands differ (output paths relative to the dataset)."""

MODEL_FILES = (
    ModelFile("DIT_HIGH", "models/wan2.2_i2v_high_noise_14B_fp16.safetensors",
              "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/tree/main/split_files/diffusion_models (fp16 or bf16; musubi-tuner does not support fp8_scaled files)"),
    ModelFile("DIT_LOW", "models/wan2.2_i2v_low_noise_14B_fp16.safetensors",
              "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/tree/main/split_files/diffusion_models (same folder)"),
    ModelFile("VAE", "models/Wan2.1_VAE.pth",
              "https://huggingface.co/Wan-AI/Wan2.1-I2V-14B-720P (Wan2.1_VAE.pth; the Wan2.2 VAE is for the 5B model only)"),
    ModelFile("T5", "models/models_t5_umt5-xxl-enc-bf16.pth",
              "https://huggingface.co/Wan-AI/Wan2.1-I2V-14B-720P (models_t5_umt5-xxl-enc-bf16.pth)"),
)
"""The model files of the original's commands and where each comes from (musubi-tuner docs/wan.md, "Wan2.2")."""

MUSUBI_DOCS_TIMESTEPS = {"high": "--min_timestep 900 --max_timestep 1000 --preserve_distribution_shape",
                         "low": "--min_timestep 0 --max_timestep 900 --preserve_distribution_shape"}
"""musubi-tuner's recommended timestep range for training one Wan2.2 I2V expert alone (not used by the original)."""


def flag_values(expert: str) -> list[tuple[str, str | None]]:
    """The original's flags for ``expert`` ("high" or "low") with its per-expert values filled in and the other
    placeholders as ``$VAR`` shell references. Raises ValueError for another expert name."""
    if expert not in EXPERTS:
        raise ValueError(f"expert {expert!r} is unknown: use one of {', '.join(EXPERTS)}")
    filled: list[tuple[str, str | None]] = []
    for flag, value in ORIGINAL_FLAGS:
        if isinstance(value, Param):
            value = PER_EXPERT[expert].get(value.env, f"${value.env}")
        filled.append((flag, value))
    return filled


def _quote(value: str) -> str:
    """Double-quote shell text that may hold ``$VAR`` references (expanded, never word-split)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'


def _model_block() -> list[str]:
    lines = ["# Model files: environment variables holding ABSOLUTE paths (the commands run inside MUSUBI_TUNER_PATH);",
             "# the original's file names in brackets:"]
    for model in MODEL_FILES:
        lines.append(f"#   {model.param}  [{model.original_name}]  from {model.source}")
    return lines


def _require(names: list[str]) -> list[str]:
    return [f': "${{{name}:?set {name}: see the header of this script}}"' for name in names]


def train_script(expert: str) -> str:
    """The text of ``train_<expert>.sh``: the original's command for that expert, flag for flag.

    Model paths come from ``DIT_HIGH`` / ``DIT_LOW``, ``VAE`` and ``T5``; ``MUSUBI_TUNER_PATH`` is the
    musubi-tuner checkout the command runs in; extra arguments to the script are appended to the command.
    Raises ValueError for an unknown expert.
    """
    flags = flag_values(expert)
    params = [value for _, value in ORIGINAL_FLAGS if isinstance(value, Param) and value.env not in PER_EXPERT[expert]]
    lines = [
        "#!/usr/bin/env bash",
        f"# Train the {expert}-noise expert's LoRA with musubi-tuner: the original Circle-Rotate command",
        "# (Jklaity/Circle-Rotate README, \"Training\"), every flag as it gives them; only file paths are parameters.",
        "# Written by `circle-rotate dataset prepare`. Run cache.sh once first (musubi-tuner needs cached latents",
        "# and text-encoder outputs; that step is from musubi-tuner's docs/wan.md, not from the original README).",
        "#",
        *_model_block(),
        "#   MUSUBI_TUNER_PATH  a checkout of https://github.com/kohya-ss/musubi-tuner with its requirements installed",
        "#",
        "# Arguments given to this script are appended to the command. musubi-tuner's docs/wan.md recommends, for one",
        f"# Wan2.2 expert trained alone, `{MUSUBI_DOCS_TIMESTEPS[expert]}`; the original did not use it.",
        "set -euo pipefail",
        'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        *_require(["MUSUBI_TUNER_PATH", DIT[expert], *[p.env for p in params if p.default is None]]),
        *[f'{p.env}="${{{p.env}:-{p.default}}}"' for p in params if p.default is not None],
        'cd "$MUSUBI_TUNER_PATH"',
        'CUDA_VISIBLE_DEVICES="${CUDA_VISIBLE_DEVICES:-0}" ' + " ".join(LAUNCHER[:-1]) + " \\",
        f"    {LAUNCHER[-1]} \\",
    ]
    for flag, value in flags:
        lines.append(f"    {flag} \\" if value is None else f"    {flag} {_quote(value) if '$' in value else shlex.quote(value)} \\")
    lines.append('    "$@"')
    return "\n".join(lines) + "\n"


def cache_script() -> str:
    """The text of ``cache.sh``: musubi-tuner's latent and text-encoder caching for Wan2.2 I2V (docs/wan.md)."""
    lines = [
        "#!/usr/bin/env bash",
        "# Cache the VAE latents and the T5 outputs of the dataset, once, before train_high.sh / train_low.sh.",
        "# These two commands come from musubi-tuner's docs/wan.md (\"Pre-caching\"; --i2v for image-to-video),",
        "# not from the original Circle-Rotate README, which shows only the training commands.",
        "#",
        *[line for line in _model_block() if "DIT" not in line],
        "#   MUSUBI_TUNER_PATH  a checkout of https://github.com/kohya-ss/musubi-tuner with its requirements installed",
        "set -euo pipefail",
        'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        *_require(["MUSUBI_TUNER_PATH", "VAE", "T5"]),
        'DATASET_CONFIG="${DATASET_CONFIG:-$HERE/dataset.toml}"',
        'cd "$MUSUBI_TUNER_PATH"',
        'python src/musubi_tuner/wan_cache_latents.py --dataset_config "$DATASET_CONFIG" --vae "$VAE" --i2v',
        'python src/musubi_tuner/wan_cache_text_encoder_outputs.py --dataset_config "$DATASET_CONFIG" --t5 "$T5" --batch_size 16',
    ]
    return "\n".join(lines) + "\n"
