"""Options shared by the commands that run the metric suite over many videos (``study``; ``eval`` for ``--executor``).

``add_suite_arguments`` registers what the suite computes and how models load (``--metrics``, ``--num-frames``,
``--no-lpips``, ``--no-raft``, ``--detector-rule``, ``--device``, ``--models-dir``, ``--batch-size``,
``--sam-attention``, ``--horizontal-fov``, with ``eval``'s meanings); ``add_executor_arguments`` where it runs (``--executor``,
``--address``, ``--workers``, ``--gpus-per-worker``). ``suite_options``, ``model_spec`` and ``ray_options`` turn
the parsed arguments into the objects ``circle_rotate.study.executors`` takes, raising ValueError naming the
option for a bad value.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..metric_models.sam_segmenter import ATTENTION_CHOICES
from ..metric_models.yolo_detector import RULES
from ..study.executors import EXECUTORS, RAY_INSTALL, ModelSpec, RayOptions
from ..suite import METRIC_FAMILIES, SuiteOptions

METRICS_LIST = ", ".join(METRIC_FAMILIES)


def horizontal_fov(text: str) -> float | None:
    """``--horizontal-fov``: ``auto`` -> None (estimated from the video), else degrees in [1, 170]."""
    if text.strip().lower() == "auto":
        return None
    try:
        degrees = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither auto nor a number of degrees (e.g. 60)") from None
    if not 1.0 <= degrees <= 170.0:
        raise argparse.ArgumentTypeError(f"{text} degrees is outside [1, 170]: give the lens's horizontal field of view, or auto")
    return degrees


def add_suite_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the suite and model options on ``parser``."""
    parser.add_argument("--metrics", default=",".join(METRIC_FAMILIES), metavar="LIST", help=f"comma-separated metric families (default: all of {METRICS_LIST})")
    parser.add_argument("--num-frames", type=int, default=16, metavar="N", help="frames sampled by linspace as the original (0 = all; default 16)")
    parser.add_argument("--no-lpips", action="store_true", help="skip LPIPS (listed under 'skipped' in the reports)")
    parser.add_argument("--no-raft", action="store_true", help="skip VBench's RAFT dynamic degree even when its weights are present (slow on CPU)")
    parser.add_argument(
        "--detector-rule", default="centre", choices=list(RULES),
        help="how the subject box is picked when there are no masks: centre (default) or upstream (the original's rule)",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where the models run (default auto: CUDA when available)")
    parser.add_argument("--models-dir", type=Path, metavar="DIR", help="folder holding the metric weight files (see models/README.md); default $CIRCLE_ROTATE_MODELS_DIR, else $COMFYUI_PATH/models")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N", help="frames per model call (default 8)")
    parser.add_argument("--sam-attention", default="fused", choices=list(ATTENTION_CHOICES), help="SAM image-encoder attention: fused (default) or segment-anything's own code")
    parser.add_argument(
        "--horizontal-fov", type=horizontal_fov, default=None, metavar="auto|DEGREES",
        help="the camera's horizontal field of view for the orbit metric: auto (default: estimated from each video) or degrees in [1, 170]",
    )


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the executor options on ``parser``."""
    parser.add_argument(
        "--executor", default="local", choices=list(EXECUTORS),
        help=f"where the videos are evaluated: local (default: in this process, one after another) or ray (one actor per worker holding its models; needs {RAY_INSTALL})",
    )
    parser.add_argument("--address", metavar="ADDR", help="with --executor ray: the Ray cluster to join (e.g. auto, ray://host:10001); default: start a local one")
    parser.add_argument("--workers", type=int, metavar="N", help="with --executor ray: number of worker actors (default: as many as the cluster's CPUs, or GPUs with --gpus-per-worker, allow)")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0, metavar="G", help="with --executor ray: GPUs each worker reserves (fractions share a GPU; default 0)")


def suite_options(args: argparse.Namespace) -> SuiteOptions:
    """The ``SuiteOptions`` of the parsed arguments. Raises ValueError naming the bad option.

    ``--no-lpips`` and ``--no-raft`` are not suite options: :func:`model_spec` turns those models off, so every
    report lists them under ``skipped`` as "turned off with --no-lpips" / "--no-raft", whatever the executor.
    """
    metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    if not metrics:
        raise ValueError(f"--metrics '{args.metrics}' names no metric family: use some of {METRICS_LIST}")
    if args.num_frames < 0:
        raise ValueError(f"--num-frames {args.num_frames} is negative: use 0 for all frames")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size {args.batch_size}: give 1 or more")
    try:
        return SuiteOptions(
            metrics=metrics, num_frames=args.num_frames, batch_size=args.batch_size, horizontal_fov=args.horizontal_fov
        )
    except ValueError as error:
        raise ValueError(f"--metrics: {error}") from None


def model_spec(args: argparse.Namespace) -> ModelSpec:
    """The ``ModelSpec`` of the parsed arguments. Raises ValueError for a ``--models-dir`` that is not a folder."""
    if args.models_dir is not None and not args.models_dir.is_dir():
        raise ValueError(f"--models-dir '{args.models_dir}' is not a folder: give the folder holding the weight files (see models/README.md)")
    disabled = tuple((name, f"turned off with --no-{name}") for name, off in (("lpips", args.no_lpips), ("raft", args.no_raft)) if off)
    return ModelSpec(args.models_dir, args.device, disabled, args.sam_attention, args.detector_rule)


def ray_options(args: argparse.Namespace) -> RayOptions:
    """The ``RayOptions`` of the parsed arguments. Raises ValueError for a bad ``--workers`` or ``--gpus-per-worker``."""
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: give 1 or more")
    if args.gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker {args.gpus_per_worker:g} is negative: give 0 (CPU workers) or more")
    return RayOptions(address=args.address, workers=args.workers, gpus_per_worker=args.gpus_per_worker)
