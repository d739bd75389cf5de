"""``circle-rotate generate``: one orbit video from a first (and last) frame, the CLI twin of
``circle_rotate.CircleRotateInference``.

ComfyUI runs in this process (``--comfyui PATH``, else ``COMFYUI_PATH`` or the ComfyUI this pack is installed in),
or the job is queued on a server (``--server URL``). A progress bar on stderr spans both experts' sampling steps.
The video (``--output``) is a lossless mp4 written to a temporary name and renamed when complete; ``--evaluate``
adds the metric report (stdout, or ``--report``).

Exit status: 0 when the video (and report) was written; 1 when ComfyUI failed while running (a node's error, an
out-of-memory, a server that went away); 2 for bad input (a missing image or model file, no ComfyUI, a setting or
prompt the workflow cannot take, ComfyUI's validation errors).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..prompts import DIRECTIONS, LANGUAGES, SHOT_SIZES

SETTINGS: tuple[tuple[str, type, str], ...] = (
    ("model_high", str, "high-noise expert file in diffusion_models"),
    ("model_low", str, "low-noise expert file in diffusion_models"),
    ("lora_high", str, "Circle-Rotate LoRA file for the high-noise expert, in loras"),
    ("lora_low", str, "Circle-Rotate LoRA file for the low-noise expert, in loras"),
    ("lora_strength", float, "strength of both Circle-Rotate LoRAs"),
    ("vae", str, "VAE file in vae"),
    ("text_encoder", str, "UMT5-XXL file in text_encoders"),
    ("steps", int, "sampling steps of both experts together"),
    ("cfg", float, "classifier-free guidance of both experts"),
    ("shift", float, "sigma shift (ModelSamplingSD3)"),
    ("width", int, "video width, a multiple of 16"),
    ("height", int, "video height, a multiple of 16"),
    ("length", int, "frames, 4k+1"),
    ("fps", float, "frames per second of the video"),
)
"""Constructor settings offered as ``--name`` options; unset keeps the workflow's value (the paper preset's)."""


def handover(text: str) -> int | float:
    """``--handover``: an int step, or a float sigma boundary in (0, 1)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a step (e.g. 2) nor a sigma boundary (e.g. 0.9)") from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``generate`` on the CLI's sub-parsers; sets ``run``."""
    parser = subparsers.add_parser(
        "generate",
        help="generate an orbit video with ComfyUI (in-process or on a server)",
        description="Generate one orbit video from a first (and last) frame with the two Wan2.2 experts and the "
        "Circle-Rotate LoRAs, through an API workflow (default: the paper preset). Settings left unset keep the "
        "workflow's values. Exit status: 0 done, 1 ComfyUI failed while running, 2 bad input.",
    )
    parser.add_argument("--first", type=Path, required=True, metavar="IMG", help="first frame (png, jpg, webp)")
    parser.add_argument("--last", type=Path, metavar="IMG", help="last frame; without it only the first frame conditions")
    prompt = parser.add_mutually_exclusive_group()
    prompt.add_argument("--prompt", help="positive prompt text")
    prompt.add_argument("--subject", help="build the orbit prompt around this subject, e.g. 'a car' (with --direction)")
    parser.add_argument("--direction", choices=DIRECTIONS, help="orbit direction for --subject")
    parser.add_argument("--shot-size", choices=SHOT_SIZES, help="shot size for --subject")
    parser.add_argument("--scene", help="scene for --subject, e.g. 'a building exterior'")
    parser.add_argument("--language", choices=LANGUAGES, help="language of the orbit prompt")
    parser.add_argument("--negative-prompt", help="negative prompt text (workflows with a text negative)")
    parser.add_argument("--output", type=Path, required=True, metavar="OUT.mp4",
                        help="the video: lossless H.264 RGB (libx264rgb, crf 0), written when complete")
    parser.add_argument("--evaluate", action="store_true", help="run the metric suite on the frames (as `circle-rotate eval`)")
    parser.add_argument("--report", type=Path, metavar="OUT.json", help="write the metric report here (implies --evaluate; default stdout)")
    parser.add_argument("--models-dir", type=Path, metavar="DIR", help="metric weights folder for --evaluate (default as eval)")
    parser.add_argument("--seed", type=int, help="sampler seed (default: the workflow's)")
    parser.add_argument("--workflow", type=Path, metavar="API.json", help="an API workflow (default: workflows/api/circle_rotate_paper_preset.json)")
    parser.add_argument("--base-model", help="expert pair by name: Wan2.2-I2V-14B or Wan2.2-Fun-Inpaint-14B")
    parser.add_argument("--handover", type=handover, help="expert handover: a step (2) or a sigma boundary (0.9)")
    for name, kind, text in SETTINGS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, dest=name, help=text)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--comfyui", type=Path, metavar="PATH", help="the ComfyUI checkout to run in this process (default COMFYUI_PATH, else the ComfyUI this pack is installed in)")
    where.add_argument("--server", metavar="URL", help="queue on this running ComfyUI server instead, e.g. http://127.0.0.1:8188")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Generate (and evaluate) one video; the exit status of the module docstring."""
    from tqdm import tqdm

    from .. import report
    from ..client.http import ComfyError, PromptRejected
    from ..generation import CircleRotateInference, ComfyUINotFoundError, MissingModelError

    settings = {name: getattr(args, name) for name, _, _ in SETTINGS}
    fields = {name: getattr(args, name) for name in ("shot_size", "scene", "language") if getattr(args, name)}
    evaluate = args.evaluate or args.report is not None
    bar = tqdm(desc="sampling", unit="step", file=sys.stderr, total=0)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        for option, path in (("--first", args.first), ("--last", args.last)):
            if path is not None and not path.is_file():
                raise ValueError(f"{option} '{path}' does not exist: give an image file (png, jpg, webp)")
        model = CircleRotateInference(base_model=args.base_model, handover=args.handover, seed=args.seed,
                                      workflow=args.workflow, server=args.server, comfyui=args.comfyui, **settings)
        metric_models = None
        if evaluate and args.models_dir is not None:
            from .eval import load_models

            metric_models = load_models(args.models_dir, "auto")
        result = model.generate(args.first, args.last, prompt=args.prompt, subject=args.subject,
                                direction=args.direction, negative_prompt=args.negative_prompt, output=args.output,
                                evaluate=evaluate, progress=progress, metric_models=metric_models, **fields)
    except (ValueError, MissingModelError, ComfyUINotFoundError, PromptRejected) as error:
        bar.close()
        print(f"circle-rotate generate: {error}", file=sys.stderr)
        return 2
    except ComfyError as error:
        bar.close()
        print(f"circle-rotate generate: {error}", file=sys.stderr)
        return 1
    bar.close()
    frames = result.frames
    print(f"wrote {result.video_path} ({len(frames)} frames, {frames.shape[2]}x{frames.shape[1]}, {result.fps:g} fps, "
          f"seed {result.seed})", file=sys.stderr)
    if result.report is not None:
        if args.report is not None:
            report.write_json([result.report], args.report)
            print(f"wrote {args.report}", file=sys.stderr)
        else:
            print(report.to_json([result.report]))
    return 0
