"""``circle-rotate eval --executor ray``: the videos of one ``eval`` run evaluated through the study executors.

Each checked video (``eval_inputs.VideoInput``) becomes an ``EvalJob`` with its masks file and the run's
conditioning images; ``circle_rotate.study.executors.run_jobs`` evaluates them (Ray: one actor per worker holding
its models, a video per task, a dead worker restarted and its video retried) and the reports come back in the
order of the videos, as ``eval``'s local loop gives them: a video that fails gets ``report.failed_report`` with
the reason, and ``masks_source`` / ``masks_file`` say where its masks came from.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..report import failed_report
from ..study.executors import EvalJob, run_jobs
from .eval_inputs import EvalInputs
from .suite_options import model_spec, ray_options


def evaluate_with_executor(inputs: EvalInputs, args: argparse.Namespace, options: Any) -> list[dict]:
    """The reports of ``inputs.videos``, in their order, evaluated by ``args.executor``.

    Args:
        inputs: the checked inputs of the run.
        args: the parsed ``eval`` arguments (the model options, ``--first``/``--last`` and the executor options).
        options: the ``suite.SuiteOptions`` of the run.

    Raises:
        ValueError: a bad executor option, or Ray not installed (before anything is evaluated).
    """
    from tqdm import tqdm

    jobs = [EvalJob(f"{index:06d}", item.path, item.masks, args.first, args.last) for index, item in enumerate(inputs.videos)]
    done: dict[str, Any] = {}
    with tqdm(total=len(jobs), desc="eval", unit="video", file=sys.stderr) as bar:
        results = run_jobs(jobs, options, model_spec(args), args.executor, ray_options(args),
                           on_stage=lambda job, stage: bar.set_postfix_str(f"{job.video.name}: {stage}", refresh=True))
        for result in results:
            done[result.job.name] = result
            bar.update(1)
            errors = result.report["errors"] if result.report is not None else None
            state = "failed" if errors is None else f"{len(errors)} metric error(s)" if errors else "done"
            bar.write(f"{result.job.video}: {state}", file=sys.stderr)
    reports = []
    for job, item in zip(jobs, inputs.videos):
        result = done[job.name]
        report = result.report if result.report is not None else failed_report(str(item.path), result.error or "failed")
        if item.masks is not None:
            report["masks_source"] = item.masks_source
        report["masks_file"] = None if item.masks is None else str(item.masks)
        reports.append(report)
    return reports
