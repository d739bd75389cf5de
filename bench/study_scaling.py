"""Study throughput: the local executor vs Ray with 1 and 2 workers, same videos, same run.

Evaluates the 12 videos of the shipped demo pairs (``circle_rotate/samples/demos``, with their masks) three times
through ``circle_rotate.study.executors.run_jobs``: ``local`` (in this process), then ``ray`` with 1 and with 2
worker actors on a local Ray cluster started here (``--cpus``, default 2). Each figure is the wall time from the
call to the last result, including the workers' start-up (a fresh set of actors per run; the cluster itself is
started once, before the Ray runs, and its start-up is printed separately). It prints videos per second and the
ratios to the local run, then a projection (a projection, not a measurement) for the 2,168 videos of the
Circle-Rotate dataset on N workers:

    ideal: T(N) = 2168 * t_video / N;   at the measured efficiency: T(N) = 2168 * t_video / max(1, N * e),

with t_video the measured local seconds per video (or ``--per-video-seconds``, e.g. a full-model time measured
on a GPU) and e the scaling efficiency measured here at 2 workers (Ray 2-worker throughput / (2 x Ray 1-worker
throughput), at most 1), assumed to hold at N. On a machine with fewer free cores than workers, e measures the
machine, not Ray: workers that each own a GPU do not compete for cores.

Without model weights (as here) the suite runs the weightless metrics only (masks-based subject drift, motion,
orbit, PSNR/SSIM); the model families record a missing-weights error, which costs nothing. Pass
``--models-dir`` to time the full suite.

Usage: ``python bench/study_scaling.py [--metrics LIST] [--num-frames N] [--cpus 2] [--workers-max 2]
[--models-dir DIR] [--per-video-seconds S] [--gpu-workers 1,4,8,16]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from circle_rotate.study import manifest  # noqa: E402
from circle_rotate.study.executors import EvalJob, ModelSpec, RayOptions, import_ray, run_jobs  # noqa: E402
from circle_rotate.suite import SuiteOptions  # noqa: E402

DATASET_VIDEOS = 2168
PAIRS = ROOT / "circle_rotate" / "samples" / "demos" / "pairs.csv"


def demo_jobs() -> list[EvalJob]:
    """The 12 videos of the shipped demo pairs, with their masks."""
    jobs = []
    for pair in manifest.from_csv(PAIRS).pairs:
        for name in manifest.SIDES:
            side = pair.side(name)
            jobs.append(EvalJob(f"{pair.id}.{name}", side.video, side.masks, side.first, side.last))
    return jobs


def timed(jobs: list[EvalJob], options: SuiteOptions, spec: ModelSpec, executor: str, workers: int | None = None) -> float:
    """Seconds from the call to the last result; raises if a video failed."""
    start = time.perf_counter()
    results = list(run_jobs(jobs, options, spec, executor, RayOptions(workers=workers)))
    seconds = time.perf_counter() - start
    failed = [f"{r.job.name}: {r.error}" for r in results if r.error]
    if failed:
        raise SystemExit("videos failed: " + "; ".join(failed))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", default="subject_drift,fidelity,motion,orbit", help="metric families (default: the weightless ones)")
    parser.add_argument("--num-frames", type=int, default=16)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default 2)")
    parser.add_argument("--workers-max", type=int, default=2, help="largest Ray worker count timed (1 .. this; default 2)")
    parser.add_argument("--models-dir", type=Path)
    parser.add_argument("--per-video-seconds", type=float, help="project from this per-video time instead of the measured local one")
    parser.add_argument("--gpu-workers", default="1,4,8,16", help="worker counts N of the projection")
    args = parser.parse_args()

    jobs = demo_jobs()
    options = SuiteOptions(metrics=tuple(args.metrics.split(",")), num_frames=args.num_frames)
    spec = ModelSpec(models_dir=args.models_dir, device="cpu")
    print(f"{len(jobs)} videos (shipped demo pairs, 180x320, 32-51 frames), metrics {args.metrics}, {args.num_frames} sampled frames")

    local = timed(jobs, options, spec, "local")
    ray = import_ray()
    start = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    print(f"Ray local cluster start-up ({args.cpus} CPUs): {time.perf_counter() - start:.1f} s (not in the figures below)")
    try:
        remote = {n: timed(jobs, options, spec, "ray", n) for n in range(1, args.workers_max + 1)}
    finally:
        ray.shutdown()

    print(f"\n| Executor | Wall time (s) | Videos/s | Throughput vs local |\n|---|---:|---:|---:|")
    print(f"| local (in-process) | {local:.1f} | {len(jobs) / local:.3f} | 1.00x |")
    for n, seconds in remote.items():
        print(f"| ray, {n} worker{'s' if n > 1 else ''} | {seconds:.1f} | {len(jobs) / seconds:.3f} | {local / seconds:.2f}x |")
    if 1 in remote and 2 in remote:
        efficiency = min(1.0, remote[1] / remote[2] / 2)
        print(f"Ray 2 workers vs 1 worker: {remote[1] / remote[2]:.2f}x (scaling efficiency {efficiency:.2f})")
    else:
        efficiency = 1.0
    per_video = args.per_video_seconds or local / len(jobs)
    source = "given with --per-video-seconds" if args.per_video_seconds else "measured local time per video in this run"
    print(f"\nProjection (not a measurement) for the {DATASET_VIDEOS:,}-video Circle-Rotate dataset, t_video = {per_video:.2f} s ({source}):")
    for n in (int(v) for v in args.gpu_workers.split(",")):
        ideal = DATASET_VIDEOS * per_video / n / 3600
        measured = DATASET_VIDEOS * per_video / max(1.0, n * efficiency) / 3600
        print(f"  N = {n:>3} workers: {ideal:.2f} h ideal, {measured:.2f} h at efficiency {efficiency:.2f}")


if __name__ == "__main__":
    main()
