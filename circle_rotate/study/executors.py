"""Run the metric suite over many videos: in this process (``local``) or on a Ray cluster (``ray``).

Generic over a per-video :class:`EvalJob` (a video, its masks and conditioning images): a :class:`Worker`, built
once per worker, loads the metric models once (``ModelSpec.build``) and evaluates jobs with
``circle_rotate.suite.evaluate_file``. :func:`run_jobs` yields one :class:`JobResult` per job, as each finishes
(in completion order); it writes nothing, so the caller (the driver) is the only writer of files.

- ``local`` (default): one worker in this process, jobs one after another; ``on_stage`` hears every suite stage.
- ``ray``: ``workers`` actors (``RayOptions``), each a :class:`Worker` holding its models; each job is one task on
  an idle actor, and results stream back to the driver as they finish. An actor whose process dies is restarted
  by Ray (``max_restarts=-1``) and the task it was running is retried (``max_task_retries``), so a killed worker
  costs only the video it was on; a video that keeps killing its worker ends with an error after the retries.
  Paths must be readable at the same location on every node (e.g. a shared filesystem). Ray is the optional
  extra ``pip install 'comfyui-circlerotate[ray]'``.

A failing video (unreadable, masks that do not match it) gives a ``JobResult`` with ``error`` set; the other jobs go
on. A missing metric model is not a failure: the suite records it in the report's ``errors``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from .. import suite
from ..images import read_image
from ..masks import load_masks

EXECUTORS = ("local", "ray")
RAY_INSTALL = "pip install 'comfyui-circlerotate[ray]'"


@dataclass(frozen=True)
class EvalJob:
    """One video to evaluate.

    Attributes:
        name: a unique name within the run (e.g. ``<pair>.<side>``), used to match results to jobs.
        video: the video file or image folder.
        masks: its ``.npz`` subject masks (``circle_rotate.masks``), or None (then YOLO + SAM find the subject).
        first, last: the conditioning images, or None.
    """

    name: str
    video: Path
    masks: Path | None = None
    first: Path | None = None
    last: Path | None = None


@dataclass(frozen=True)
class ModelSpec:
    """How a worker loads the metric models (``circle_rotate.weights.MetricModels``).

    Attributes:
        models_dir: the folder holding the weight files; None uses ``weights.default_models_dir()``.
        device: "auto", "cpu", "cuda" or "cuda:N".
        disabled: (model name, reason) pairs of models turned off (e.g. ("raft", "turned off with --no-raft"));
            the reports list them under ``skipped``.
        sam_attention: "fused" or "segment-anything" (``SamSegmenter``'s ``fused_attention``).
        detector_rule: ``YoloDetector``'s ``rule`` ("centre" or "upstream").
    """

    models_dir: Path | None = None
    device: str = "auto"
    disabled: tuple[tuple[str, str], ...] = ()
    sam_attention: str = "fused"
    detector_rule: str = "centre"

    def build(self) -> Any:
        """The lazily loading model bundle. Raises ValueError for an unknown or unavailable device."""
        from ..metric_models.sam_segmenter import ATTENTION_CHOICES
        from ..weights import MetricModels, default_models_dir

        models_dir = self.models_dir or default_models_dir()
        return MetricModels(
            search_dirs=[models_dir] if models_dir is not None else [],
            device=self.device,
            disabled=dict(self.disabled),
            options={"segmenter": {"fused_attention": ATTENTION_CHOICES[self.sam_attention]}, "detector": {"rule": self.detector_rule}},
        )


@dataclass(frozen=True)
class RayOptions:
    """The Ray executor's settings.

    Attributes:
        address: the cluster to join (``ray.init(address=...)``, e.g. "auto" or "ray://host:10001"); None starts a
            local cluster unless this process already joined one.
        workers: how many actors; None: as many as the cluster's GPUs (with ``gpus_per_worker`` > 0) or CPUs allow.
        gpus_per_worker: GPUs each actor reserves (fractions share a GPU).
        cpus_per_worker: CPUs each actor reserves.
        max_task_retries: how often a video whose worker died is retried.
    """

    address: str | None = None
    workers: int | None = None
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    max_task_retries: int = 2


@dataclass
class JobResult:
    """The outcome of one job: the suite's ``report``, or ``error`` (then ``report`` is None); ``seconds`` taken;
    ``worker_lost``: the error is that the Ray worker died on every try, not something the video itself raised."""

    job: EvalJob
    report: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    worker_lost: bool = False



class Worker:
    """Evaluates jobs with models loaded once (lazily, on first use, by the bundle ``spec.build()`` returns).

    Args:
        options: what the suite computes.
        spec: how the models are loaded.
    """

    def __init__(self, options: suite.SuiteOptions, spec: ModelSpec) -> None:
        self.options = options
        self.models = spec.build()

    def evaluate(self, job: EvalJob, progress: Callable[[str], None] | None = None) -> JobResult:
        """The job's report, or its error; never raises for a bad video (``progress`` as in ``suite.evaluate_file``)."""
        started = time.perf_counter()
        try:
            masks = load_masks(job.masks, f"masks of '{job.video}'") if job.masks is not None else None
            conditioning = suite.Conditioning(
                first=read_image(job.first, "first image") if job.first is not None else None,
                last=read_image(job.last, "last image") if job.last is not None else None,
            )
            report = suite.evaluate_file(job.video, self.models, self.options, masks, conditioning, progress)
        except ValueError as error:
            return JobResult(job, error=str(error), seconds=time.perf_counter() - started)
        except Exception as error:  # an unexpected failure on one video must not stop the others
            return JobResult(job, error=f"{type(error).__name__}: {error}", seconds=time.perf_counter() - started)
        return JobResult(job, report=report, seconds=time.perf_counter() - started)


class SuiteWorker:
    """The Ray actor: a :class:`Worker` living in its own process (the class Ray runs as ``ray::SuiteWorker``)."""

    def __init__(self, options: suite.SuiteOptions, spec: ModelSpec) -> None:
        self.worker = Worker(options, spec)

    def evaluate(self, job: EvalJob) -> JobResult:
        return self.worker.evaluate(job)


def import_ray() -> Any:
    """The ``ray`` module. Raises ValueError naming the install command when Ray is not installed."""
    try:
        import ray
    except ImportError as error:
        raise ValueError(f"--executor ray needs Ray, which is not installed ({error}): {RAY_INSTALL}") from None
    return ray


def run_jobs(
    jobs: Iterable[EvalJob],
    options: suite.SuiteOptions,
    spec: ModelSpec,
    executor: str = "local",
    ray_options: RayOptions | None = None,
    on_stage: Callable[[EvalJob, str], None] | None = None,
) -> Iterator[JobResult]:
    """Evaluate ``jobs``, yielding each result as it finishes (see the module docstring).

    Args:
        jobs: the videos (names unique).
        options: what the suite computes.
        spec: how each worker loads its models.
        executor: "local" or "ray".
        ray_options: the Ray settings (default ``RayOptions()``).
        on_stage: called with a job and a stage: each suite stage (local), or "worker N" when a Ray task starts.

    Raises:
        ValueError: an unknown executor, Ray not installed, or duplicate job names.
    """
    jobs = list(jobs)
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError("job names must be unique within a run")
    if executor == "local":
        return _local(jobs, options, spec, on_stage)
    if executor == "ray":
        return _ray(jobs, options, spec, ray_options or RayOptions(), import_ray(), on_stage)
    raise ValueError(f"--executor {executor!r} is unknown: use one of {', '.join(EXECUTORS)}")


def _local(jobs: list[EvalJob], options: suite.SuiteOptions, spec: ModelSpec, on_stage: Callable[[EvalJob, str], None] | None) -> Iterator[JobResult]:
    if not jobs:
        return
    worker = Worker(options, spec)
    for job in jobs:
        yield worker.evaluate(job, (lambda stage, job=job: on_stage(job, stage)) if on_stage else None)


def _worker_count(ray: Any, settings: RayOptions, jobs: int) -> int:
    if settings.workers is not None:
        if settings.workers < 1:
            raise ValueError(f"--workers {settings.workers}: give 1 or more")
        return min(settings.workers, jobs)
    resources = ray.cluster_resources()
    if settings.gpus_per_worker > 0:
        fit = resources.get("GPU", 0) / settings.gpus_per_worker
    else:
        fit = resources.get("CPU", 1) / max(settings.cpus_per_worker, 1e-9)
    return max(1, min(jobs, math.floor(fit)))


def _ray(
    jobs: list[EvalJob],
    options: suite.SuiteOptions,
    spec: ModelSpec,
    settings: RayOptions,
    ray: Any,
    on_stage: Callable[[EvalJob, str], None] | None,
) -> Iterator[JobResult]:
    if not jobs:
        return
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=settings.address)
    actors: list[Any] = []
    try:
        remote = ray.remote(
            num_cpus=settings.cpus_per_worker, num_gpus=settings.gpus_per_worker,
            max_restarts=-1, max_task_retries=settings.max_task_retries,
        )(SuiteWorker)
        actors = [remote.remote(options, spec) for _ in range(_worker_count(ray, settings, len(jobs)))]
        pending = deque(jobs)
        running: dict[Any, tuple[EvalJob, int]] = {}

        def submit(index: int) -> None:
            job = pending.popleft()
            running[actors[index].evaluate.remote(job)] = (job, index)
            if on_stage is not None:
                on_stage(job, f"worker {index + 1}/{len(actors)}")

        for index in range(len(actors)):
            submit(index)
        while running:
            (done,), _ = ray.wait(list(running), num_returns=1)
            job, index = running.pop(done)
            try:
                result = ray.get(done)
            except ray.exceptions.RayError as error:
                result = JobResult(job, error=f"its Ray worker failed (retried up to {settings.max_task_retries} times): {error}", worker_lost=True)
            if pending:
                submit(index)
            yield result
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
        if started_here:
            ray.shutdown()
