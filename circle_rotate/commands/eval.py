"""``circle-rotate eval``: run the metric suite on video files and write a JSON (and CSV) report.

One video gives one JSON object, several give a list (the CSV has one row per video). Metric errors (a missing
weight file, a failing model) are reported under ``errors`` and do not fail the command; bad input (a missing
video, masks that do not match the video, an unreadable image) exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..masks import load_masks
from ..metric_models.sam_segmenter import ATTENTION_CHOICES

METRICS_HELP = "subject_drift,clip_i,fidelity,subject_consistency,motion,orbit"
SAMPLE_VIDEO = Path(__file__).resolve().parents[1] / "samples" / "demo4_ours.gif"
SAMPLE_MASKS = SAMPLE_VIDEO.with_name("demo4_ours.masks.npz")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eval`` on the CLI's sub-parsers; sets ``run``."""
    parser = subparsers.add_parser(
        "eval",
        help="evaluate orbit videos (subject drift, CLIP-I, fidelity, consistency, motion, orbit)",
        description="Run the metric suite on videos and write a JSON report (one object per video; a list for several).",
    )
    parser.add_argument("videos", nargs="*", metavar="VIDEO", help="video files (mp4, webm, gif) or image folders")
    parser.add_argument("--sample", action="store_true", help="evaluate the bundled demo clip with its masks (circle_rotate/samples/README.md)")
    parser.add_argument("--masks", type=Path, metavar="MASKS.npz", help="MASKS.npz with 'masks': (T, H, W) bool subject masks for all T frames (one video only)")
    parser.add_argument("--first", type=Path, metavar="IMG", help="conditioning first image (for fidelity and CLIP-I against it)")
    parser.add_argument("--last", type=Path, metavar="IMG", help="conditioning last image")
    parser.add_argument("--num-frames", type=int, default=16, metavar="N", help="frames sampled by linspace as the original (0 = all; default 16)")
    parser.add_argument("--metrics", default=METRICS_HELP, metavar="LIST", help=f"comma-separated metric families (default: all: {METRICS_HELP})")
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS")
    parser.add_argument(
        "--no-raft", action="store_true",
        help="skip VBench's RAFT dynamic degree even when the RAFT weights are present (on CPU it takes about 17 s "
        "per 1280x720 frame pair, 11 minutes for 81 frames at 16 fps)",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where the models run (default auto: CUDA when available)")
    parser.add_argument("--models-dir", type=Path, metavar="DIR", help="folder holding the metric weight files (see models/README.md); default $CIRCLE_ROTATE_MODELS_DIR, else $COMFYUI_PATH/models")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N", help="frames per model call (default 8)")
    parser.add_argument(
        "--sam-attention", default="fused", choices=list(ATTENTION_CHOICES),
        help="SAM image-encoder attention: fused (default; same function, about 2x faster on CPU, equal to float32 "
        "rounding) or segment-anything's own code (bit-identical to the original's SamPredictor)",
    )
    parser.add_argument("--output", type=Path, metavar="OUT.json", help="write the JSON report here (default: print it)")
    parser.add_argument("--csv", type=Path, metavar="OUT.csv", help="also write a CSV with one row per video")
    parser.set_defaults(run=run)
    return parser


def read_image(path: Path, option: str) -> np.ndarray:
    """uint8 RGB (H, W, 3) of an image file; ValueError naming ``option`` when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise ValueError(f"{option} '{path}' does not exist: give an image file (png, jpg, webp)")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{option} '{path}' is not a readable image ({error})") from error


def load_models(
    models_dir: Path | None, device: str, skip: frozenset[str] = frozenset(), sam_attention: str = "fused"
) -> Any:
    """The lazily loading metric model bundle (``circle_rotate.weights.MetricModels``) for ``--models-dir``.

    ``skip`` names bundle attributes not to offer (e.g. "lpips", "raft"); ``sam_attention`` is "fused" or
    "segment-anything" (``SamSegmenter``'s ``fused_attention``).

    Raises:
        ValueError: an unknown or unavailable ``--device``.
    """
    from ..weights import MetricModels, default_models_dir

    names = [name for name in MetricModels.NAMES if name not in skip]
    models_dir = models_dir or default_models_dir()
    return MetricModels(
        search_dirs=[models_dir] if models_dir is not None else [], device=device, enabled=names,
        options={"segmenter": {"fused_attention": ATTENTION_CHOICES[sam_attention]}},
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate ``args.videos``; 0 when the report was written, 2 for bad input."""
    from .. import report, suite

    try:
        if args.sample:
            args.videos = [*args.videos, str(SAMPLE_VIDEO)]
            args.masks = args.masks or (SAMPLE_MASKS if len(args.videos) == 1 else None)
        if not args.videos:
            raise ValueError("no VIDEO given: name one or more video files or image folders, or use --sample")
        metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
        options = suite.SuiteOptions(metrics=metrics, num_frames=args.num_frames, use_lpips=not args.no_lpips, batch_size=args.batch_size)
        if args.num_frames < 0:
            raise ValueError(f"--num-frames {args.num_frames} is negative: use 0 for all frames")
        if args.masks is not None and len(args.videos) != 1:
            raise ValueError(f"--masks goes with exactly one video, got {len(args.videos)}: evaluate the videos one at a time")
        masks = load_masks(args.masks, "--masks") if args.masks is not None else None
        conditioning = suite.Conditioning(
            first=read_image(args.first, "--first") if args.first else None,
            last=read_image(args.last, "--last") if args.last else None,
        )
        skip = frozenset(name for name, off in (("lpips", args.no_lpips), ("raft", args.no_raft)) if off)
        models = load_models(args.models_dir, args.device, skip, args.sam_attention)
        reports = [suite.evaluate_file(video, models, options, masks, conditioning) for video in args.videos]
    except ValueError as error:
        print(f"circle-rotate eval: {error}", file=sys.stderr)
        return 2
    if args.output is not None:
        report.write_json(reports, args.output)
    else:
        print(report.to_json(reports))
    if args.csv is not None:
        report.write_csv(reports, args.csv)
    for item in reports:
        for metric, message in item["errors"].items():
            print(f"circle-rotate eval: {item['video']}: {metric}: {message}", file=sys.stderr)
    return 0
