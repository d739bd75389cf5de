"""``circle-rotate dataset``: curate orbit clips for a LoRA and write the original's musubi-tuner recipe.

- ``dataset score VIDEOS... --output DIR``: the orbit metric, motion and (with masks or detector weights) subject
  drift on every clip through the study executors; DIR/scores.csv and DIR/scores.html with keep or reject and the
  named reasons (``circle_rotate/dataset/scoring.py``). Exit status 0 when at least one clip is kept, 1 when none
  is, 2 for a bad argument.
- ``dataset prepare DIR --output DATASET``: the kept clips with captions, dataset.toml, prompts.txt, cache.sh,
  train_high.sh and train_low.sh (``circle_rotate/dataset/prepare.py``). Exit status 0, or 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..cli import DefaultsHelpFormatter
from ..dataset.scoring import Thresholds
from .eval import horizontal_fov
from .suite_options import add_executor_arguments, ray_options

DEFAULTS = asdict(Thresholds())


def _resolution(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT (e.g. 832x480)") from None
    return width, height


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of frame counts (e.g. 33,81)") from None


def _add_score(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        formatter_class=DefaultsHelpFormatter,
        help="keep or reject orbit clips for a training set (scores.csv, scores.html)",
        description="Run the orbit metric and motion (and subject drift where masks or detector weights exist) on "
        "every clip and keep the true, smooth, one-way orbits. Each reject names its reason: not an orbit (pan, "
        "slide, static, turntable, ...), backtracks, uneven angular speed, subject sliding, too short, repeated "
        "frames, unreadable. Thresholds and their reasons: README, 'Train your own'.",
    )
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="clip files, or folders of clips")
    parser.add_argument("--output", "-o", type=Path, required=True, metavar="DIR", help="folder for scores.csv and scores.html (created if missing)")
    parser.add_argument("--masks-dir", type=Path, metavar="DIR", help="look for <clip stem>.masks.npz here instead of beside each clip")
    limits = parser.add_argument_group("thresholds")
    limits.add_argument("--min-frames", type=int, default=DEFAULTS["min_frames"], metavar="N", help="fewest frames of a kept clip")
    limits.add_argument("--max-repeated-fraction", type=float, default=DEFAULTS["max_repeated_fraction"], metavar="F", help="largest share of frames that repeat their predecessor")
    limits.add_argument("--max-backtracks", type=int, default=DEFAULTS["max_backtracks"], metavar="N", help="most reversals of the turning direction (default 0)")
    limits.add_argument("--max-speed-cv", type=float, default=DEFAULTS["max_speed_cv"], metavar="CV", help="largest coefficient of variation of the angular speed")
    limits.add_argument("--max-subject-shift", type=float, default=DEFAULTS["max_subject_shift"], metavar="F", help="largest move of the subject's centre, as a fraction of the image diagonal")
    limits.add_argument("--min-confidence", type=float, default=DEFAULTS["min_confidence"], metavar="C", help="lowest direction confidence of an orbit")
    parser.add_argument("--num-frames", type=int, default=16, metavar="N", help="frames the orbit metric samples (0 = all)")
    parser.add_argument(
        "--horizontal-fov", type=horizontal_fov, default=None, metavar="auto|DEGREES",
        help="the camera's horizontal field of view: auto (estimated per clip) or degrees",
    )
    parser.add_argument("--no-segment", action="store_true", help="no detector + segmenter for clips without masks (subject sliding is then not checked for them)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where the detector and segmenter run")
    parser.add_argument("--models-dir", type=Path, metavar="DIR", help="folder holding the detector and segmenter weights (see models/README.md)")
    add_executor_arguments(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_score)


def _add_prepare(subparsers: Any) -> None:
    from ..dataset.frames import EXTRACTIONS, WAN_MAX_FRAMES
    from ..prompts import LANGUAGES, SHOT_SIZES

    parser = subparsers.add_parser(
        "prepare",
        formatter_class=DefaultsHelpFormatter,
        help="write a musubi-tuner dataset and the original's training scripts from the kept clips",
        description="From the clips `dataset score` kept, write DATASET/videos (clips and captions), dataset.toml, "
        "prompts.txt, cache.sh, train_high.sh and train_low.sh (the original Circle-Rotate commands, flag for flag).",
    )
    parser.add_argument("scores", type=Path, metavar="DIR", help="the --output folder of `circle-rotate dataset score` (or its scores.csv)")
    parser.add_argument("--output", "-o", type=Path, required=True, metavar="DATASET", help="the dataset folder (new or empty)")
    parser.add_argument("--subject", metavar="TEXT", help="what the clips show, for the captions written here (e.g. 汽车 or 'a car'); needed unless every clip has its <stem>.txt")
    parser.add_argument("--scene", default="", metavar="TEXT", help="the scene, for written captions (e.g. 建筑外景)")
    parser.add_argument("--shot-size", default="medium", choices=SHOT_SIZES, help="shot size in written captions")
    parser.add_argument("--language", default="zh", choices=LANGUAGES, help="caption language: zh (the Circle-Rotate dataset's captions) or en")
    parser.add_argument("--link", action="store_true", help="symbolic links to the clips instead of copies")
    parser.add_argument("--resolution", type=_resolution, default=(832, 480), metavar="WxH", help="training resolution (default 832x480; buckets keep each clip's aspect ratio at about this area)")
    parser.add_argument("--target-frames", type=_int_list, metavar="LIST", help="sample lengths, each 4k+1 (default: the largest 4k+1 every clip holds, at most --max-frames)")
    parser.add_argument("--frame-extraction", default="head", choices=EXTRACTIONS, help="how musubi-tuner cuts samples from a clip")
    parser.add_argument("--frame-sample", type=int, default=1, metavar="N", help="windows per clip with --frame-extraction uniform")
    parser.add_argument("--max-frames", type=int, default=WAN_MAX_FRAMES, metavar="N", help="cap of the automatic target frames and of --frame-extraction full")
    parser.add_argument("--batch-size", type=int, default=1, metavar="N", help="musubi-tuner batch size")
    parser.add_argument("--num-repeats", type=int, default=1, metavar="N", help="times each clip counts per epoch")
    parser.add_argument("--overwrite", action="store_true", help="write into a folder that is not empty (its videos/, cache/ and samples/ are emptied first)")
    parser.set_defaults(run=run_prepare)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``dataset`` and its ``score`` / ``prepare`` sub-commands; each sets ``run``."""
    parser = subparsers.add_parser(
        "dataset",
        help="score and curate orbit clips, then write a musubi-tuner dataset and the original's training scripts",
        description="Train your own orbit LoRA: `dataset score` keeps the true orbits, `dataset prepare` writes the "
        "musubi-tuner dataset and the original Circle-Rotate training commands for both experts.",
    )
    commands = parser.add_subparsers(dest="dataset_command", required=True, metavar="STEP")
    _add_score(commands)
    _add_prepare(commands)
    return parser


def run_score(args: argparse.Namespace) -> int:
    """``dataset score``; the exit status of the module docstring."""
    from ..dataset.score import ScoreSettings, collect_videos, score_clips
    from ..study.executors import ModelSpec

    try:
        if args.num_frames < 0:
            raise ValueError(f"--num-frames {args.num_frames} is negative: use 0 for all frames")
        if args.models_dir is not None and not args.models_dir.is_dir():
            raise ValueError(f"--models-dir '{args.models_dir}' is not a folder: give the folder holding the weight files")
        if args.masks_dir is not None and not args.masks_dir.is_dir():
            raise ValueError(f"--masks-dir '{args.masks_dir}' is not a folder")
        thresholds = Thresholds(**{name: getattr(args, name) for name in DEFAULTS})
        disabled = [("raft", "not used by dataset score")]
        if args.no_segment:
            disabled += [("detector", "turned off with --no-segment"), ("segmenter", "turned off with --no-segment")]
        settings = ScoreSettings(
            output=args.output, thresholds=thresholds, num_frames=args.num_frames, horizontal_fov=args.horizontal_fov,
            masks_dir=args.masks_dir, spec=ModelSpec(args.models_dir, args.device, tuple(disabled)),
            executor=args.executor, ray=ray_options(args), progress=not args.no_progress,
        )
        scores = score_clips(collect_videos(args.videos), settings)
    except ValueError as error:
        print(f"circle-rotate dataset score: {error}", file=sys.stderr)
        return 2
    for score in scores:
        print(f"{'keep  ' if score.verdict.keep else 'reject'}  {score.video.name}  {score.verdict.reason}")
    kept = sum(score.verdict.keep for score in scores)
    seconds = sum(score.seconds for score in scores)
    print(f"kept {kept} of {len(scores)} clip(s); {seconds / max(1, len(scores)):.2f} s per clip")
    print(f"wrote {args.output / 'scores.csv'} and {args.output / 'scores.html'}")
    return 0 if kept else 1


def run_prepare(args: argparse.Namespace) -> int:
    """``dataset prepare``; the exit status of the module docstring."""
    from ..dataset.prepare import PrepareSettings, prepare_dataset

    try:
        settings = PrepareSettings(
            output=args.output, subject=args.subject, scene=args.scene, shot_size=args.shot_size, language=args.language,
            link=args.link, resolution=args.resolution, target_frames=args.target_frames,
            frame_extraction=args.frame_extraction, frame_sample=args.frame_sample, max_frames=args.max_frames,
            batch_size=args.batch_size, num_repeats=args.num_repeats, overwrite=args.overwrite,
        )
        prepared = prepare_dataset(args.scores, settings)
    except ValueError as error:
        print(f"circle-rotate dataset prepare: {error}", file=sys.stderr)
        return 2
    written = sum(clip["caption_source"] == "written" for clip in prepared.clips)
    print(f"{len(prepared.clips)} clip(s) in {prepared.output / 'videos'} ({written} caption(s) written, "
          f"{len(prepared.clips) - written} kept); target_frames {list(prepared.target_frames)}")
    print(f"wrote {', '.join(path.name for path in prepared.files)} in {prepared.output}")
    print("next: set MUSUBI_TUNER_PATH, DIT_HIGH, DIT_LOW, VAE and T5 (see the scripts' headers), run cache.sh, "
          "then train_high.sh and train_low.sh")
    return 0
