"""Check every input and output of ``circle-rotate eval`` before anything is evaluated.

``check_inputs`` turns the parsed arguments into an :class:`EvalInputs`: the videos, the masks file of each
(and where it came from), the conditioning images and the output paths. Every problem it finds is a bad argument
(``ValueError`` naming the option, the path and the fix; the command exits 2), so a run that starts can always
write its reports. What only decoding can tell (a damaged or too short video) is found later, per video.

Masks of each video, first rule that applies:

1. ``--no-masks``: none (the detector and segmenter find the subject).
2. ``--masks`` given once per video, in the order of the videos: that file (source ``"--masks"``).
3. ``--masks-dir DIR``: ``DIR/<video stem>.masks.npz`` if it exists (source ``"masks dir"``).
4. ``<video stem>.masks.npz`` beside the video if it exists (source ``"beside the video"``).
5. None: the subject is segmented (source ``"segmented"`` in the report).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..images import read_image
from ..masks import find_masks, load_masks

SAMPLE_VIDEO = Path(__file__).resolve().parents[1] / "samples" / "demo4_ours.gif"
SAMPLE_MASKS = SAMPLE_VIDEO.with_name("demo4_ours.masks.npz")
"""The bundled demo clip of ``--sample`` and its masks (found beside it, rule 4 of the module doc)."""
MASKS_SOURCES = ("--masks", "masks dir", "beside the video")


@dataclass(frozen=True)
class VideoInput:
    """One video to evaluate: ``path``, its masks file (or None) and where that came from (``MASKS_SOURCES``)."""

    path: Path
    masks: Path | None = None
    masks_source: str | None = None


@dataclass(frozen=True)
class EvalInputs:
    """Checked inputs and outputs of one ``eval`` run (conditioning images already read, uint8 RGB)."""

    videos: list[VideoInput]
    first: np.ndarray | None
    last: np.ndarray | None
    output: Path | None
    csv: Path | None
    models_dir: Path | None


def check_output(path: Path | None, option: str) -> Path | None:
    """``path`` if a file can be written there: its folder exists and is writable, and it is not a folder.

    Raises:
        ValueError: naming ``option``, the path and the fix.
    """
    if path is None:
        return None
    if path.is_dir():
        raise ValueError(f"{option} '{path}' is a folder: give a file name, e.g. {path / ('report' + (path.suffix or '.json'))}")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"{option} '{path}': the folder '{folder}' does not exist: create it (mkdir -p '{folder}') or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} '{path}' cannot be written (no permission): choose a writable folder")
    return path


def _video_paths(args: argparse.Namespace) -> list[Path]:
    videos = [Path(video) for video in args.videos]
    if args.sample:
        videos.append(SAMPLE_VIDEO)
    if not videos:
        raise ValueError("no VIDEO given: name one or more video files or image folders, or use --sample")
    for video in videos:
        if not video.exists():
            raise ValueError(f"VIDEO '{video}' does not exist: check the path (a video file or an image folder)")
    return videos


def _masks_of(args: argparse.Namespace, videos: list[Path]) -> list[VideoInput]:
    given = list(args.masks or [])
    if args.no_masks and (given or args.masks_dir is not None):
        raise ValueError("--no-masks cannot be combined with --masks or --masks-dir: drop one of them")
    if given and args.masks_dir is not None:
        raise ValueError("--masks and --masks-dir cannot be combined: give --masks once per video, or put <video stem>.masks.npz files in one folder for --masks-dir")
    if args.masks_dir is not None and not args.masks_dir.is_dir():
        raise ValueError(f"--masks-dir '{args.masks_dir}' is not a folder: give the folder holding <video stem>.masks.npz files")
    if given and len(given) != len(videos):
        raise ValueError(
            f"--masks was given {len(given)} time(s) for {len(videos)} video(s): give it once per video, in the order "
            "of the videos, or leave it out and put <video stem>.masks.npz beside each video (or use --masks-dir)"
        )
    inputs = []
    for index, video in enumerate(videos):
        if args.no_masks:
            inputs.append(VideoInput(video))
        elif given:
            inputs.append(VideoInput(video, given[index], "--masks"))
        else:
            found = find_masks(video, args.masks_dir)
            source = None if found is None else "masks dir" if args.masks_dir is not None else "beside the video"
            inputs.append(VideoInput(video, found, source))
    for item in inputs:
        if item.masks is not None:
            load_masks(item.masks, f"{item.masks_source} masks of '{item.path}'")  # a bad file is a bad argument
    return inputs


def check_inputs(args: argparse.Namespace) -> EvalInputs:
    """Every path and value of ``eval``'s arguments, checked before evaluating (see module doc).

    Raises:
        ValueError: the first bad argument, naming the option, the path or value and the fix.
    """
    if args.num_frames < 0:
        raise ValueError(f"--num-frames {args.num_frames} is negative: use 0 for all frames or a positive count")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size {args.batch_size}: use 1 or more")
    if args.models_dir is not None and not args.models_dir.is_dir():
        raise ValueError(f"--models-dir '{args.models_dir}' is not a folder: give the folder holding the metric weights (see models/README.md)")
    videos = _masks_of(args, _video_paths(args))
    return EvalInputs(
        videos=videos,
        first=read_image(args.first, "--first") if args.first else None,
        last=read_image(args.last, "--last") if args.last else None,
        output=check_output(args.output, "--output"),
        csv=check_output(args.csv, "--csv"),
        models_dir=args.models_dir,
    )
