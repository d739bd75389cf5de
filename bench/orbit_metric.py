"""Benchmark: the orbit metric (``compute_orbit``) now against the version of an earlier commit, same run, same video.

The video: an 81-frame 1280x720 left orbit of 45 degrees around the textured test scene of
``tests/fixtures/orbit_scenes.py`` (pinhole, 60-degree lens), ray-cast at full size. The metric reads the frames
the suite gives it: the original's 16 linspace-sampled frames (``--all-frames``: all 81). The earlier version is
read with ``git show <commit>:circle_rotate/metrics/orbit.py`` into a temporary file and imported from there (it
must be a single self-contained module, as it was before the field-of-view estimate split it up). Both run in
this process, alternating, ``--repeats`` times after one warm-up call each; printed: the median seconds of
each, the ratio new / old, and both readings (direction, yaw, FOV).

    .venv/bin/python bench/orbit_metric.py                       # against b79a6f5 (before the FOV estimate)
    .venv/bin/python bench/orbit_metric.py --commit HEAD~3 --repeats 5 --all-frames

Measured on the shared 2-core development machine (2026-12-02, other engineers' jobs running, load average 2-14;
figures from it vary by tens of percent between runs, the ratio less since both versions alternate):
16 frames, 5 repeats: old 0.410 s, new 0.409 s, ratio 1.00x (an earlier run under heavier load: 0.805 / 0.950 s,
1.18x); all 81 frames, 3 repeats: old 5.92 s, new 2.45 s, ratio 0.41x (the old version re-tracked each keyframe
pair, the chained tracks do not). Both read the orbit as left, yaw 44.2-44.9 deg (truth 45); the new one
estimates the lens at 60.1 deg from the 16 frames and falls back to the assumed 60 (with its note) on all 81.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

BASELINE_COMMIT = "b79a6f5"
N_FRAMES, WIDTH, HEIGHT, SWEEP_DEG, FPS = 81, 1280, 720, 45.0, 16.0


def old_module(commit: str, folder: Path) -> ModuleType:
    """``circle_rotate/metrics/orbit.py`` at ``commit``, imported from a file in ``folder``."""
    source = subprocess.run(
        ["git", "show", f"{commit}:circle_rotate/metrics/orbit.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = folder / "orbit_old.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("orbit_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["orbit_old"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def video(indices: np.ndarray) -> np.ndarray:
    """The benchmark orbit's frames at ``indices`` (uint8, (len(indices), HEIGHT, WIDTH, 3))."""
    from fixtures import orbit_scenes as scenes

    yaws = SWEEP_DEG * indices / (N_FRAMES - 1)
    return np.stack([scenes.render(scenes.orbit_camera(y), WIDTH, HEIGHT, supersample=1) for y in yaws])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default=BASELINE_COMMIT, help=f"the earlier version (default {BASELINE_COMMIT})")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each version (default 3)")
    parser.add_argument("--all-frames", action="store_true", help="analyse all 81 frames instead of the suite's 16")
    args = parser.parse_args()

    from circle_rotate.metrics.orbit import compute_orbit

    indices = np.arange(N_FRAMES) if args.all_frames else np.round(np.linspace(0, N_FRAMES - 1, 16)).astype(int)
    print(f"rendering {len(indices)} of {N_FRAMES} frames at {WIDTH}x{HEIGHT} ...", file=sys.stderr)
    frames = video(indices)
    with tempfile.TemporaryDirectory() as folder:
        old = old_module(args.commit, Path(folder))
        versions = {"old": old.compute_orbit, "new": compute_orbit}
        times: dict[str, list[float]] = {name: [] for name in versions}
        readings = {}
        for call in range(args.repeats + 1):
            for name, function in versions.items():
                start = time.perf_counter()
                readings[name] = function(frames, indices, FPS)
                if call:
                    times[name].append(time.perf_counter() - start)
    for name in versions:
        reading = readings[name]
        print(
            f"{name} ({args.commit if name == 'old' else 'working tree'}): median {statistics.median(times[name]):.3f} s "
            f"over {args.repeats} calls; direction {reading['direction']}, yaw {reading['yaw_deg']} deg "
            f"(truth {SWEEP_DEG:g}), FOV {reading['horizontal_fov_deg']} ({reading.get('fov_source', 'assumed')})"
        )
    ratio = statistics.median(times["new"]) / statistics.median(times["old"])
    print(f"ratio new / old: {ratio:.2f}x (budget 1.2x)")


if __name__ == "__main__":
    main()
