"""``circle-rotate study``: base vs LoRA over many video pairs, with paired statistics, a mask noise floor and figures.

Pairs come from ``--pairs MANIFEST.csv``, ``--base DIR --lora DIR`` or ``--batch-run DIR``
(``circle_rotate/study/manifest.py``); every input is checked before anything is evaluated, and a bad row is
reported by line and field and skipped. The per-video reports land in ``OUT/videos/`` as they finish, so a rerun
evaluates only what is missing or changed (``study/store.py``). Then ``OUT/study.json``, ``study.csv``,
``study.md``, ``figures/*.png`` and ``study.html``. stdout: the study.md table, the summary of which conclusions
survive, and a final "wrote ..." line; stderr: skipped rows, unreadable videos and the progress bar.

Exit status: 0 when the study was written and no video failed; 1 when it was written but a video failed or a row
was skipped; 2 for a bad argument or no usable pair (nothing is evaluated).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .suite_options import add_executor_arguments, add_suite_arguments, model_spec, ray_options, suite_options

SHIPPED_PAIRS = Path(__file__).resolve().parents[1] / "samples" / "demos" / "pairs.csv"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``study`` on the CLI's sub-parsers; sets ``run``."""
    parser = subparsers.add_parser(
        "study",
        help="compare base and LoRA videos over many pairs (paired statistics, noise floor, figures; resumable)",
        description="Evaluate base/LoRA video pairs with the metric suite and compare them: per metric n, means, "
        "medians, the paired change with a bootstrap CI, a Wilcoxon p-value (Holm-adjusted) and an effect size. "
        "Reruns reuse the per-video reports already in OUT/videos.",
    )
    source = parser.add_argument_group("pairs (one of)")
    source.add_argument("--pairs", type=Path, metavar="MANIFEST.csv", help="CSV with columns pair,base,lora and optional base_masks,lora_masks,first,last (paths relative to the CSV)")
    source.add_argument("--base", type=Path, metavar="DIR", help="folder of base videos; with --lora, videos of the same file name form a pair")
    source.add_argument("--lora", type=Path, metavar="DIR", help="folder of LoRA videos (see --base)")
    source.add_argument("--batch-run", type=Path, metavar="DIR", help="the --out folder of a `circle-rotate batch` run: its with/without-LoRA pairs")
    source.add_argument("--demo", action="store_true", help=f"the six base/LoRA demo pairs shipped with the pack, with their masks ({SHIPPED_PAIRS.parent.name}/pairs.csv)")
    parser.add_argument("--masks-dir", type=Path, metavar="DIR", help="look for <video stem>.masks.npz here instead of beside each video")
    parser.add_argument("--output", "-o", type=Path, required=True, metavar="DIR", help="folder for the study (created if missing; reused by reruns)")
    add_suite_arguments(parser)
    add_executor_arguments(parser)
    parser.add_argument("--resamples", type=int, default=10_000, metavar="N", help="bootstrap resamples of each CI (default 10000, seed 0)")
    parser.add_argument("--retry-failed", action="store_true", help="evaluate again the videos that failed in an earlier run (by default a failure is kept until its inputs or options change)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
    return parser


def load_pairs(args: argparse.Namespace) -> Any:
    """The checked ``PairSet`` the arguments name. Raises ValueError for a missing or ambiguous source."""
    from ..study import manifest

    chosen = [name for name, given in (("--pairs", args.pairs), ("--base/--lora", args.base or args.lora), ("--batch-run", args.batch_run), ("--demo", args.demo)) if given]
    if len(chosen) != 1:
        raise ValueError(
            ("give the pairs with one of --pairs MANIFEST.csv, --base DIR --lora DIR, --batch-run DIR or --demo" if not chosen
             else f"{' and '.join(chosen)} both name pairs: give only one of them")
        )
    if args.pairs or args.demo:
        return manifest.from_csv(args.pairs or SHIPPED_PAIRS, args.masks_dir)
    if args.batch_run:
        return manifest.from_batch_run(args.batch_run, args.masks_dir)
    if not (args.base and args.lora):
        raise ValueError("--base and --lora go together: give both folders")
    return manifest.from_folders(args.base, args.lora, args.masks_dir)


def run(args: argparse.Namespace) -> int:
    """Run the study; the exit status of the module docstring."""
    from ..study.run import StudySettings, run_study
    from ..study.tables import markdown_table, summary_text

    try:
        if args.resamples < 1:
            raise ValueError(f"--resamples {args.resamples}: give 1 or more")
        if args.output.exists() and not args.output.is_dir():
            raise ValueError(f"--output '{args.output}' is a file: give a folder")
        settings = StudySettings(
            output=args.output, options=suite_options(args), models=model_spec(args), executor=args.executor,
            ray=ray_options(args), n_resamples=args.resamples, progress=not args.no_progress, retry_failed=args.retry_failed,
        )
        pair_set = load_pairs(args)
        for problem in pair_set.problems:
            print(f"circle-rotate study: skipped {problem}", file=sys.stderr)
        for pair in pair_set.pairs:
            for side in ("base", "lora"):
                if pair.side(side).error:
                    print(f"circle-rotate study: {pair.id} {side}: {pair.side(side).error}", file=sys.stderr)
        result = run_study(pair_set, settings)
    except ValueError as error:
        print(f"circle-rotate study: {error}", file=sys.stderr)
        return 2
    study = result.study
    print(markdown_table(study))
    print(summary_text(study))
    print(f"evaluated {len(result.evaluated)} video(s), reused {len(result.reused)} from {args.output / 'videos'}")
    print(f"wrote {', '.join(str(path) for path in result.files[:3])}, {args.output / 'study.html'} and {len(result.files) - 4} figure(s) in {args.output / 'figures'}")
    return 1 if study["failed"] or pair_set.problems else 0
