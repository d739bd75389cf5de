"""``circle-rotate eval``: run the metric suite on video files and write a JSON (and CSV) report.

One video gives one JSON object, several give a list (the CSV has one row per video). Every argument and path
(videos, masks, conditioning images, --models-dir, the folders of --output and --csv) is checked before anything
is evaluated (``eval_inputs.py``). Each video is then evaluated on its own: a video that cannot be decoded gets a
report whose ``errors`` say why (``{"video": ...}``) and the others still run; the reports are always written.

Exit status: 0 when everything asked for was computed; 1 when any video or requested metric failed (missing
weights included; the reports are still written); 2 for a bad argument (nothing is evaluated). Metrics turned off
(``--no-raft``, ``--no-lpips``) or not asked for are listed under ``skipped``, never as failures.

stderr: a progress bar over the videos (tqdm) with each video's current stage, a line per finished video, then a
summary with each distinct error once, and "wrote <path>" for each file written.

``--executor ray`` evaluates the videos on a Ray cluster instead of one after another in this process
(``eval_many.py``; the same reports, in the same order).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..metric_models.sam_segmenter import ATTENTION_CHOICES
from ..metric_models.yolo_detector import RULES
from .eval_inputs import EvalInputs, VideoInput, check_inputs
from .suite_options import add_executor_arguments, horizontal_fov, model_spec, ray_options, suite_options

METRICS_LIST = "subject_drift, clip_i, fidelity, subject_consistency, motion, orbit, colour"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eval`` on the CLI's sub-parsers; sets ``run``."""
    parser = subparsers.add_parser(
        "eval",
        help="evaluate orbit videos (subject drift, CLIP-I, fidelity, consistency, motion, orbit, colour drift)",
        description="Run the metric suite on videos and write a JSON report (one object per video; a list for "
        "several). Exit status: 0 when everything asked for was computed, 1 when a video or a requested metric "
        "failed (the reports are still written), 2 for a bad argument.",
    )
    parser.add_argument("videos", nargs="*", metavar="VIDEO", help="video files (mp4, webm, gif) or image folders")
    parser.add_argument("--sample", action="store_true", help="also evaluate the bundled demo clip, with its masks (circle_rotate/samples/README.md)")
    parser.add_argument(
        "--masks", type=Path, action="append", metavar="MASKS.npz",
        help="an .npz holding 'masks': (T, H, W) bool subject masks for all T frames; give it once per video, in the "
        "order of the videos. Without it, <video stem>.masks.npz beside each video is used when it exists",
    )
    parser.add_argument("--masks-dir", type=Path, metavar="DIR", help="look for <video stem>.masks.npz in DIR instead of beside each video")
    parser.add_argument("--no-masks", action="store_true", help="use no masks files: find the subject with the detector and segmenter")
    parser.add_argument("--first", type=Path, metavar="IMG", help="conditioning first image (for fidelity, CLIP-I and colour drift against it)")
    parser.add_argument("--last", type=Path, metavar="IMG", help="conditioning last image")
    parser.add_argument("--num-frames", type=int, default=16, metavar="N", help="frames sampled by linspace as the original (0 = all; default 16)")
    parser.add_argument("--metrics", default=METRICS_LIST.replace(" ", ""), metavar="LIST", help=f"comma-separated metric families (default: all of {METRICS_LIST})")
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS (listed under 'skipped' in the report)")
    parser.add_argument(
        "--no-raft", action="store_true",
        help="skip VBench's RAFT dynamic degree even when the RAFT weights are present (on CPU it takes about 17 s "
        "per 1280x720 frame pair, 11 minutes for 81 frames at 16 fps)",
    )
    parser.add_argument(
        "--detector-rule", default="centre", choices=list(RULES),
        help="how the subject box is picked when masks are segmented: centre (default: the most confident box "
        "weighted by its closeness to the image centre) or upstream (the original's: car/bus/truck first, else the "
        "largest box). The report's upstream.subject_drift always uses the original's rule",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where the models run (default auto: CUDA when available)")
    parser.add_argument("--models-dir", type=Path, metavar="DIR", help="folder holding the metric weight files (see models/README.md); default $CIRCLE_ROTATE_MODELS_DIR, else $COMFYUI_PATH/models")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N", help="frames per model call (default 8)")
    parser.add_argument(
        "--sam-attention", default="fused", choices=list(ATTENTION_CHOICES),
        help="SAM image-encoder attention: fused (default; same function, about 2x faster on CPU, equal to float32 "
        "rounding) or segment-anything's own code (bit-identical to the original's SamPredictor)",
    )
    parser.add_argument(
        "--horizontal-fov", type=horizontal_fov, default=None, metavar="auto|DEGREES",
        help="the camera's horizontal field of view for the orbit metric: auto (default: estimated from the video; "
        "60 assumed, with a note, when the motion does not fix it) or degrees in [1, 170]",
    )
    parser.add_argument("--output", type=Path, metavar="OUT.json", help="write the JSON report here (default: print it)")
    parser.add_argument("--csv", type=Path, metavar="OUT.csv", help="also write a CSV with one row per video")
    add_executor_arguments(parser)
    parser.set_defaults(run=run)
    return parser


def load_models(
    models_dir: Path | None,
    device: str,
    disabled: dict[str, str] | None = None,
    sam_attention: str = "fused",
    detector_rule: str = "centre",
) -> Any:
    """The lazily loading metric model bundle (``circle_rotate.weights.MetricModels``) for ``--models-dir``.

    ``disabled`` names bundle attributes turned off, with the reason the report lists under ``skipped`` (e.g.
    {"raft": "turned off with --no-raft"}); ``sam_attention`` is "fused" or "segment-anything"
    (``SamSegmenter``'s ``fused_attention``); ``detector_rule`` is ``YoloDetector``'s ``rule``.

    Raises:
        ValueError: an unknown or unavailable ``--device``.
    """
    from ..study.executors import ModelSpec

    return ModelSpec(models_dir, device, tuple((disabled or {}).items()), sam_attention, detector_rule).build()


def _evaluate_one(item: VideoInput, models: Any, options: Any, conditioning: Any, bar: Any) -> dict:
    """The report of one video; a video that cannot be evaluated gives ``report.failed_report``."""
    from .. import report, suite
    from ..masks import load_masks

    def stage(name: str) -> None:
        bar.set_postfix_str(f"{item.path.name}: {name}", refresh=True)

    try:
        masks = load_masks(item.masks, f"{item.masks_source} masks") if item.masks is not None else None
        result = suite.evaluate_file(item.path, models, options, masks, conditioning, progress=stage)
    except Exception as error:  # any failure of one video (damaged file, masks of another video) is its report's error
        message = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        result = report.failed_report(str(item.path), message)
    if item.masks is not None:
        result["masks_source"] = item.masks_source
    result["masks_file"] = None if item.masks is None else str(item.masks)
    return result


def _summary(reports: list[dict]) -> list[str]:
    """Summary lines: counts, then each distinct (metric, message) once with the number of videos it hit."""
    failed = [r for r in reports if "video" in r["errors"]]
    partial = [r for r in reports if r["errors"] and "video" not in r["errors"]]
    lines = [
        f"evaluated {len(reports)} video(s): {len(reports) - len(failed) - len(partial)} complete, "
        f"{len(partial)} with metric errors, {len(failed)} failed"
    ]
    seen: dict[tuple[str, str], list[str]] = {}
    for item in reports:
        for metric, message in item["errors"].items():
            seen.setdefault((metric, message), []).append(item["video"])
    for (metric, message), videos in seen.items():
        where = videos[0] if len(videos) == 1 else f"{len(videos)} videos"
        lines.append(f"error ({where}): {metric}: {message}")
    skipped: dict[tuple[str, str], int] = {}
    for item in reports:
        for metric, reason in item.get("skipped", {}).items():
            skipped[(metric, reason)] = skipped.get((metric, reason), 0) + 1
    lines.extend(f"skipped: {metric}: {reason}" for (metric, reason) in skipped if not reason.startswith("not asked for"))
    return lines


def _write(reports: list[dict], inputs: EvalInputs) -> bool:
    """Write the JSON (file or stdout) and the CSV; True when all was written ("wrote <path>" on stderr)."""
    from .. import report

    written = True
    if inputs.output is None:
        print(report.to_json(reports))
    for path, writer in ((inputs.output, report.write_json), (inputs.csv, report.write_csv)):
        if path is None:
            continue
        try:
            writer(reports, path)
            print(f"wrote {path}", file=sys.stderr)
        except OSError as error:
            written = False
            print(f"circle-rotate eval: could not write {path} ({error})", file=sys.stderr)
            if path == inputs.output:
                print(report.to_json(reports))  # the reports are not lost: they go to stdout instead
    return written


def run(args: argparse.Namespace) -> int:
    """Evaluate ``args.videos``; the exit status of the module docstring."""
    from tqdm import tqdm

    from .. import suite

    try:
        inputs = check_inputs(args)
        options = suite_options(args)
        spec = model_spec(args)
        models = load_models(spec.models_dir, spec.device, dict(spec.disabled), spec.sam_attention, spec.detector_rule)
        if args.executor == "ray":
            from ..study.executors import import_ray

            import_ray()  # a missing Ray is a bad argument: nothing is evaluated yet
            ray_options(args)  # checks --workers and --gpus-per-worker
    except ValueError as error:
        print(f"circle-rotate eval: {error}", file=sys.stderr)
        return 2
    conditioning = suite.Conditioning(first=inputs.first, last=inputs.last)
    reports = []
    if args.executor == "ray":
        from .eval_many import evaluate_with_executor

        reports = evaluate_with_executor(inputs, args, options)
    else:
        with tqdm(inputs.videos, desc="eval", unit="video", file=sys.stderr) as bar:
            for item in bar:
                reports.append(_evaluate_one(item, models, options, conditioning, bar))
                errors = reports[-1]["errors"]
                bar.write(f"{item.path}: {'failed' if 'video' in errors else f'{len(errors)} metric error(s)' if errors else 'done'}", file=sys.stderr)
    for line in _summary(reports):
        print(line, file=sys.stderr)
    written = _write(reports, inputs)
    return 0 if written and not any(r["errors"] for r in reports) else 1
