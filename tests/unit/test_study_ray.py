"""The Ray executor on a local 2-CPU cluster the test starts: same numbers as the local executor, and a worker
killed mid-study costs only the video it was on."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'comfyui-circlerotate[ray]')")
psutil = pytest.importorskip("psutil", reason="psutil (installed with Ray) finds the worker processes")

from circle_rotate.study import figures, manifest  # noqa: E402
from circle_rotate.study.executors import ModelSpec, RayOptions  # noqa: E402
from circle_rotate.study.run import StudySettings, run_study  # noqa: E402
from circle_rotate.study.store import ReportStore  # noqa: E402
from circle_rotate.suite import SuiteOptions  # noqa: E402

DEMOS = Path(__file__).resolve().parents[2] / "circle_rotate" / "samples" / "demos"
PAIRS = ("demo2", "demo3", "demo4", "demo5")
OPTIONS = SuiteOptions(metrics=("subject_drift", "orbit"), num_frames=8)


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray_pairs")
    rows = [f"{p},{DEMOS / f'{p}_base.gif'},{DEMOS / f'{p}_ours.gif'}" for p in PAIRS]  # masks found beside the videos
    path = folder / "pairs.csv"
    path.write_text("pair,base,lora\n" + "\n".join(rows) + "\n")
    return manifest.from_csv(path)


def _settings(out: Path, executor: str) -> StudySettings:
    return StudySettings(
        output=out, options=OPTIONS, models=ModelSpec(device="cpu"), executor=executor,
        ray=RayOptions(workers=2), n_resamples=200, progress=False,
    )


def _run(monkeypatch, pairs, out: Path, executor: str, on_result=None):
    """The study and the names the driver stored, with figures left out (they are not what is tested here)."""
    monkeypatch.setattr(figures, "write_figures", lambda study, reports, out_dir: [])
    saved = _count_saves(monkeypatch)
    return run_study(pairs, _settings(out, executor), on_result), saved


def _count_saves(monkeypatch) -> Counter[str]:
    """How many times the driver stores each video's report from now on (``ReportStore.save`` wrapped)."""
    saved: Counter[str] = Counter()
    original = ReportStore.save

    def counting_save(self, name, *args, **kwargs):
        saved[name] += 1
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(ReportStore, "save", counting_save)
    return saved


def _evaluating_workers() -> list[psutil.Process]:
    """The Ray worker processes running a video right now (Ray names them after the actor method they run)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if cmdline and cmdline[0].startswith("ray::SuiteWorker.evaluate"):
            found.append(process)
    return found


def test_ray_through_the_command_gives_the_local_executors_numbers(cluster, pairs, tmp_path, monkeypatch):
    import json

    from circle_rotate.cli import main

    _run(monkeypatch, pairs, tmp_path / "local", "local")
    saved = _count_saves(monkeypatch)
    code = main([
        "study", "--pairs", pairs.source, "--output", str(tmp_path / "ray"), "--metrics", ",".join(OPTIONS.metrics),
        "--num-frames", str(OPTIONS.num_frames), "--device", "cpu", "--resamples", "200", "--no-progress",
        "--executor", "ray", "--workers", "2",
    ])
    assert code == 0
    local, remote = (json.loads((tmp_path / name / "study.json").read_text()) for name in ("local", "ray"))
    assert remote["executor"] == "ray" and remote["failed"] == []
    assert remote["metrics"] == local["metrics"]
    assert [e["values"] for e in remote["per_pair"]] == [e["values"] for e in local["per_pair"]]
    assert set(saved.values()) == {1} and len(saved) == 2 * len(PAIRS)


def test_a_killed_worker_is_restarted_and_only_its_video_is_retried(cluster, pairs, tmp_path, monkeypatch):
    results: Counter[str] = Counter()
    killed: list[int] = []

    def kill_a_busy_worker(result) -> None:
        results[result.job.name] += 1
        if not killed:  # after the first video is back, both workers are busy with the next ones
            for _ in range(200):
                busy = _evaluating_workers()
                if busy:
                    killed.append(busy[0].pid)
                    os.kill(busy[0].pid, signal.SIGKILL)
                    return
                psutil.wait_procs([], timeout=0.05)
            pytest.fail("no Ray worker was evaluating a video to kill")

    run, saved = _run(monkeypatch, pairs, tmp_path / "ray", "ray", kill_a_busy_worker)
    assert len(killed) == 1
    study = run.study
    assert study["failed"] == [] and study["evaluated_videos"] == 2 * len(PAIRS)
    names = [f"{p}.{s}" for p in PAIRS for s in ("base", "lora")]
    assert results == Counter({name: 1 for name in names})  # every video exactly once, none finished twice
    assert saved == Counter({name: 1 for name in names})  # the driver stored each report once
    assert all(v["base"] is not None and v["lora"] is not None for e in study["per_pair"] for v in [e["values"]["subject_drift.subject_flow"]])


def test_eval_with_the_ray_executor_gives_the_local_reports_in_order(cluster, tmp_path):
    import json

    from circle_rotate.cli import main

    videos = [str(DEMOS / "demo2_ours.gif"), str(DEMOS / "demo4_base.gif")]
    common = ["eval", *videos, "--metrics", "subject_drift,orbit", "--num-frames", "8", "--device", "cpu"]
    main([*common, "--output", str(tmp_path / "local.json")])
    main([*common, "--output", str(tmp_path / "ray.json"), "--executor", "ray", "--workers", "2"])
    local, remote = (json.loads((tmp_path / name).read_text()) for name in ("local.json", "ray.json"))
    assert [r["video"] for r in remote] == videos
    assert remote == local
