"""Run a study: pairs -> per-video evaluations (resumable) -> paired statistics -> study files.

One way through (``run_study``):

1. Every side of every checked pair (``manifest.PairSet``) becomes an :class:`~.executors.EvalJob` named
   ``<pair>.<side>``; a side the manifest check found unreadable goes straight to ``failed``.
2. Its inputs are hashed and its stored report (``store.ReportStore``, ``DIR/videos/<name>.json``) reused when
   the key matches; the others are evaluated by the executor (local or Ray), each report stored atomically as
   soon as it arrives. A video that fails is listed in ``failed`` (its error is stored too, and kept on reruns
   unless ``retry_failed``) and the study goes on.
3. ``per_pair`` holds every numeric scalar of both reports (``stats.numeric_scalars``) and each video's mask
   noise (``noise.video_noise_px``); the pooled noise floor and the paired statistics (``summary.summarise``)
   follow.
4. ``DIR/study.json``, ``study.csv``, ``study.md``, ``figures/*.png`` and ``study.html`` are written.

study.json (keys may be added, never renamed): ``pairs``, ``evaluated_videos`` (videos with a report, from this
run or reused), ``failed`` (``[{"pair", "side", "video", "error"}]``), ``noise_floor_px``, ``metrics``,
``per_pair`` (``[{"pair", "base", "lora", "values": {path: {"base", "lora"}}, "noise_px": {"base", "lora"},
"errors": {"base": {...}, "lora": {...}}}]``), and also ``evaluated_this_run``, ``reused``, ``skipped_rows``
(``[{"line", "field", "error"}]``), ``source``, ``options`` and ``executor``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__, suite
from ..client.state import write_atomic
from ..report import finite
from .executors import EvalJob, JobResult, ModelSpec, RayOptions, run_jobs
from .manifest import SIDES, PairSet
from .noise import pooled_noise_px, video_noise_px
from .stats import DEFAULT_RESAMPLES, DEFAULT_SEED, numeric_scalars
from .store import ReportStore, input_digests, report_key
from .summary import summarise


@dataclass(frozen=True)
class StudySettings:
    """How a study runs.

    Attributes:
        output: the output folder (``DIR``).
        options: what the suite computes for each video.
        models: how each worker loads the metric models.
        executor: "local" or "ray".
        ray: the Ray settings (with ``executor="ray"``).
        n_resamples, seed: of the bootstrap CIs.
        progress: show a tqdm bar on stderr.
        retry_failed: evaluate again the videos whose stored entry is a failure (by default a failure is kept
            until its inputs or options change).
    """

    output: Path
    options: suite.SuiteOptions = suite.SuiteOptions()
    models: ModelSpec = ModelSpec()
    executor: str = "local"
    ray: RayOptions = RayOptions()
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    progress: bool = True
    retry_failed: bool = False


@dataclass
class StudyRun:
    """What a run produced: the study dict, the job names evaluated now (reports or failures) and reused from the
    store, and the files written."""

    study: dict
    evaluated: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def options_fingerprint(settings: StudySettings) -> dict[str, Any]:
    """The options that decide a video's report (part of its store key): every field of the suite options, the
    models' folder, the models turned off, the SAM attention, the detector rule and the pack version."""
    models = settings.models
    return {
        **{name: sorted(value) if name == "metrics" else value for name, value in asdict(settings.options).items()},
        "models_dir": str(models.models_dir) if models.models_dir is not None else None,
        "disabled": sorted(name for name, _ in models.disabled),
        "sam_attention": models.sam_attention,
        "detector_rule": models.detector_rule,
        "version": __version__,
    }


def _bar(total: int, initial: int, enabled: bool, description: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=description, unit="video", file=sys.stderr, disable=not enabled, dynamic_ncols=True, leave=description == "study")


def _jobs(pair_set: PairSet) -> tuple[list[tuple[str, str, EvalJob]], list[dict]]:
    """(pair id, side, job) for each evaluable side, and the ``failed`` entries of sides found unreadable."""
    jobs, failed = [], []
    for pair in pair_set.pairs:
        for side_name in SIDES:
            side = pair.side(side_name)
            if side.error is not None:
                failed.append({"pair": pair.id, "side": side_name, "video": str(side.video), "error": side.error})
            else:
                jobs.append((pair.id, side_name, EvalJob(f"{pair.id}.{side_name}", side.video, side.masks, side.first, side.last)))
    return jobs, failed


def _evaluate(
    jobs: list[EvalJob], store: ReportStore, settings: StudySettings, reports: dict[str, dict], failed: dict[str, str], on_result: Callable[[JobResult], None] | None
) -> StudyRun:
    fingerprint = options_fingerprint(settings)
    keys: dict[str, tuple[str, dict]] = {}
    pending: list[EvalJob] = []
    run = StudyRun(study={})
    hashing = _bar(len(jobs), 0, settings.progress, "hashing inputs")
    for job in jobs:
        hashing.update(1)
        inputs = input_digests(job.video, job.masks, job.first, job.last)
        key = report_key(inputs, fingerprint)
        keys[job.name] = (key, inputs)
        stored = store.load(job.name, key)
        if stored is None or ("error" in stored and settings.retry_failed):
            pending.append(job)
            continue
        if "report" in stored:
            reports[job.name] = stored["report"]
        else:
            failed[job.name] = stored["error"]
        run.reused.append(job.name)
    hashing.close()
    bar = _bar(len(jobs), len(run.reused), settings.progress, "study")
    try:
        def on_stage(job: EvalJob, stage: str) -> None:
            bar.set_postfix_str(f"{job.name}: {stage}", refresh=True)

        for result in run_jobs(pending, settings.options, settings.models, settings.executor, settings.ray, on_stage):
            name = result.job.name
            key, inputs = keys[name]
            if result.report is not None:
                reports[name] = result.report
            else:
                failed[name] = result.error or "failed without a message"
            if not result.worker_lost:  # a lost worker says nothing about the video: the next run tries it again
                store.save(name, key, inputs, fingerprint, report=result.report, error=None if result.report is not None else failed[name])
            run.evaluated.append(name)
            if on_result is not None:
                on_result(result)
            bar.update(1)
    finally:
        bar.close()
    return run


def _per_pair(pair_set: PairSet, reports: dict[str, dict]) -> list[dict]:
    entries = []
    for pair in pair_set.pairs:
        sides = {name: reports.get(f"{pair.id}.{name}") for name in SIDES}
        scalars = {name: numeric_scalars(report) if report is not None else {} for name, report in sides.items()}
        paths = sorted(set(scalars["base"]) | set(scalars["lora"]))
        entries.append({
            "pair": pair.id,
            "base": str(pair.base.video),
            "lora": str(pair.lora.video),
            "values": {path: {name: scalars[name].get(path) for name in SIDES} for path in paths},
            "noise_px": {name: video_noise_px(report) if report is not None else None for name, report in sides.items()},
            "errors": {name: dict(report.get("errors") or {}) if report is not None else {} for name, report in sides.items()},
        })
    return entries


def run_study(pair_set: PairSet, settings: StudySettings, on_result: Callable[[JobResult], None] | None = None) -> StudyRun:
    """Evaluate the pairs, compare them and write the study files into ``settings.output``.

    Args:
        pair_set: the checked pairs (``manifest.from_csv`` / ``from_folders`` / ``from_batch_run``).
        settings: how to run.
        on_result: called in the driver with each job's result as it arrives (after its report is stored).

    Returns:
        The :class:`StudyRun`; ``files`` lists study.json, study.csv, study.md, the figures and study.html.

    Raises:
        ValueError: no pair to study, an unknown executor, or Ray missing for ``executor="ray"``.
    """
    from .figures import write_figures
    from .html import write_html
    from .tables import write_csv, write_markdown

    if not pair_set.pairs:
        raise ValueError("no usable pair: every row was skipped (see the problems listed above)")
    output = Path(settings.output)
    output.mkdir(parents=True, exist_ok=True)
    planned, failed_sides = _jobs(pair_set)
    reports: dict[str, dict] = {}
    errors: dict[str, str] = {}
    run = _evaluate([job for _, _, job in planned], ReportStore(output / "videos"), settings, reports, errors, on_result)
    failed = failed_sides + [
        {"pair": pair_id, "side": side, "video": str(job.video), "error": errors[job.name]} for pair_id, side, job in planned if job.name in errors
    ]
    per_pair = _per_pair(pair_set, reports)
    noise_floor = pooled_noise_px(value for entry in per_pair for value in entry["noise_px"].values())
    run.study = {
        "pairs": len(pair_set.pairs),
        "evaluated_videos": len(reports),
        "failed": failed,
        "noise_floor_px": noise_floor,
        "metrics": summarise(per_pair, noise_floor, settings.n_resamples, settings.seed),
        "per_pair": per_pair,
        "evaluated_this_run": len(run.evaluated),
        "reused": len(run.reused),
        "skipped_rows": [asdict(problem) for problem in pair_set.problems],
        "source": pair_set.source,
        "options": {**options_fingerprint(settings), "num_resamples": settings.n_resamples, "seed": settings.seed},
        "executor": settings.executor,
    }
    study_json = output / "study.json"
    write_atomic(study_json, (json.dumps(finite(run.study), indent=2, allow_nan=False) + "\n").encode("utf-8"))
    write_csv(run.study, output / "study.csv")
    write_markdown(run.study, output / "study.md")
    by_video = {str(job.video): reports[job.name] for _, _, job in planned if job.name in reports}
    figures = write_figures(run.study, by_video, output / "figures")
    write_html(run.study, figures, output / "study.html")
    run.files = [study_json, output / "study.csv", output / "study.md", *figures, output / "study.html"]
    return run
