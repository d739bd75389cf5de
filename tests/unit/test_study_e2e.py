"""``circle-rotate study`` end to end on the shipped demo pairs with their masks (no ComfyUI host, no weights).

Each test works on its own copy of one finished study, so every test passes alone and in any order.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from circle_rotate import suite
from circle_rotate.cli import main
from circle_rotate.study import figures

DEMOS = Path(__file__).resolve().parents[2] / "circle_rotate" / "samples" / "demos"
GOOD = ("demo2", "demo4")
ARGS = ["--metrics", "subject_drift,orbit", "--num-frames", "8", "--device", "cpu", "--resamples", "200", "--no-progress"]


class CountingEvaluate:
    """Wraps ``suite.evaluate_file`` and counts the calls per video file name."""

    def __init__(self) -> None:
        self.original = suite.evaluate_file
        self.calls: Counter[str] = Counter()

    def __call__(self, path, *args, **kwargs):
        self.calls[Path(path).name] += 1
        return self.original(path, *args, **kwargs)


def _study(monkeypatch, out: Path, manifest: Path, draw_figures: bool = True) -> tuple[int, Counter]:
    counter = CountingEvaluate()
    monkeypatch.setattr(suite, "evaluate_file", counter)
    if not draw_figures:  # the store tests need no figures; drawing them is the slowest part
        monkeypatch.setattr(figures, "write_figures", lambda study, reports, out_dir: [])
    code = main(["study", "--pairs", str(manifest), "--output", str(out), *ARGS])
    return code, counter.calls


@pytest.fixture(scope="module")
def first_study(tmp_path_factory):
    """Two shipped demo pairs, a pair whose base GIF is cut short, and one whose LoRA masks belong to another video."""
    folder = tmp_path_factory.mktemp("study")
    cut = folder / "cut_base.gif"
    data = (DEMOS / "demo3_base.gif").read_bytes()
    cut.write_bytes(data[: len(data) // 3])  # opens (10 frames listed), then fails to decode: no GIF trailer
    rows = [f"{p},{DEMOS / f'{p}_base.gif'},{DEMOS / f'{p}_ours.gif'},{DEMOS / f'{p}_base.masks.npz'},{DEMOS / f'{p}_ours.masks.npz'}" for p in GOOD]
    rows.append(f"cut,{cut.name},{DEMOS / 'demo3_ours.gif'},,{DEMOS / 'demo3_ours.masks.npz'}")
    rows.append(f"wrongmasks,{DEMOS / 'demo5_base.gif'},{DEMOS / 'demo1_ours.gif'},{DEMOS / 'demo5_base.masks.npz'},{DEMOS / 'demo5_ours.masks.npz'}")
    manifest = folder / "pairs.csv"
    manifest.write_text("pair,base,lora,base_masks,lora_masks\n" + "\n".join(rows) + "\n")
    out = folder / "out"
    with pytest.MonkeyPatch.context() as patch:
        code, calls = _study(patch, out, manifest)
    return {"manifest": manifest, "out": out, "code": code, "calls": calls}


def _copy(first_study, tmp_path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_study["out"], out)
    return out


def test_the_first_run_writes_every_file_and_evaluates_each_video_once(first_study):
    out = first_study["out"]
    assert first_study["code"] == 1  # written, but videos failed
    assert set(first_study["calls"].values()) == {1} and len(first_study["calls"]) == 8
    for name in ("study.json", "study.csv", "study.md", "study.html"):
        assert (out / name).stat().st_size > 0, name
    assert sorted(p.name for p in (out / "videos").iterdir()) == sorted(f"{p}.{s}.json" for p in (*GOOD, "cut", "wrongmasks") for s in ("base", "lora"))
    pngs = list((out / "figures").glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    html = (out / "study.html").read_text()
    assert "src=\"http" not in html and "href=\"http" not in html  # self-contained
    csv_lines = (out / "study.csv").read_text().splitlines()
    assert csv_lines[0].startswith("metric,") and any(line.startswith("subject_drift.subject_flow,") for line in csv_lines)


def test_study_json_follows_the_schema_and_failed_videos_do_not_stop_the_others(first_study):
    study = json.loads((first_study["out"] / "study.json").read_text())
    for key in ("pairs", "evaluated_videos", "failed", "noise_floor_px", "metrics", "per_pair"):
        assert key in study
    assert study["pairs"] == 4 and study["evaluated_videos"] == 6
    failed = {(f["pair"], f["side"]) for f in study["failed"]}
    assert failed == {("cut", "base"), ("wrongmasks", "lora")}
    cut = next(f for f in study["failed"] if f["pair"] == "cut")
    assert "cut" in cut["error"] and cut["video"].endswith("cut_base.gif")
    flow = study["metrics"]["subject_drift.subject_flow"]
    assert flow["n"] == 2  # only the two complete pairs count
    for key in ("lower_is_better", "base_mean", "lora_mean", "base_median", "lora_median", "mean_change", "median_change",
                "relative_change", "lora_better", "p_wilcoxon", "p_holm", "ci95_median_change", "effect_size", "within_noise"):
        assert key in flow
    per_pair = {entry["pair"]: entry for entry in study["per_pair"]}
    assert set(per_pair) == {*GOOD, "cut", "wrongmasks"}
    demo2 = per_pair["demo2"]["values"]["subject_drift.subject_flow"]
    assert demo2["base"] is not None and demo2["lora"] is not None
    assert per_pair["cut"]["values"]["subject_drift.subject_flow"]["base"] is None
    assert per_pair["cut"]["values"]["subject_drift.subject_flow"]["lora"] is not None
    stored = json.loads((first_study["out"] / "videos" / "demo2.base.json").read_text())
    assert stored["report"]["subject_drift"]["subject_flow"] == demo2["base"]


def test_a_rerun_evaluates_nothing_and_gives_the_same_numbers(first_study, tmp_path, monkeypatch, capsys):
    out = _copy(first_study, tmp_path)
    before = json.loads((out / "study.json").read_text())
    code, calls = _study(monkeypatch, out, first_study["manifest"], draw_figures=False)
    assert code == 1 and sum(calls.values()) == 0
    after = json.loads((out / "study.json").read_text())
    assert after["metrics"] == before["metrics"] and after["failed"] == before["failed"]
    assert after["reused"] == 8 and after["evaluated_this_run"] == 0
    assert "wrote" in capsys.readouterr().out


def test_deleting_one_report_evaluates_only_that_video(first_study, tmp_path, monkeypatch):
    out = _copy(first_study, tmp_path)
    (out / "videos" / "demo4.lora.json").unlink()
    code, calls = _study(monkeypatch, out, first_study["manifest"], draw_figures=False)
    assert calls == Counter({"demo4_ours.gif": 1})
    assert json.loads((out / "study.json").read_text())["metrics"] == json.loads((first_study["out"] / "study.json").read_text())["metrics"]


def test_retry_failed_evaluates_only_the_failed_videos_again(first_study, tmp_path, monkeypatch):
    out = _copy(first_study, tmp_path)
    counter = CountingEvaluate()
    monkeypatch.setattr(suite, "evaluate_file", counter)
    monkeypatch.setattr(figures, "write_figures", lambda study, reports, out_dir: [])
    main(["study", "--pairs", str(first_study["manifest"]), "--output", str(out), *ARGS, "--retry-failed"])
    assert counter.calls == Counter({"cut_base.gif": 1, "demo1_ours.gif": 1})


def test_bad_arguments_exit_2_before_anything_runs(tmp_path, monkeypatch, capsys):
    counter = CountingEvaluate()
    monkeypatch.setattr(suite, "evaluate_file", counter)
    assert main(["study", "--output", str(tmp_path / "o")]) == 2
    assert "give the pairs" in capsys.readouterr().err
    assert main(["study", "--demo", "--base", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    empty = tmp_path / "empty.csv"
    empty.write_text("pair,base,lora\nx,missing.gif,missing2.gif\n")
    assert main(["study", "--pairs", str(empty), "--output", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "line 2, field 'base'" in err and "no usable pair" in err
    assert sum(counter.calls.values()) == 0


def test_the_local_executor_reports_each_stage_and_goes_on_after_a_failing_video(tmp_path):
    from circle_rotate.study.executors import EvalJob, ModelSpec, run_jobs

    broken = tmp_path / "broken.gif"
    broken.write_bytes(b"GIF89a but nothing else")
    jobs = [
        EvalJob("bad", broken),
        EvalJob("good", DEMOS / "demo2_ours.gif", DEMOS / "demo2_ours.masks.npz"),
    ]
    stages = []
    options = suite.SuiteOptions(metrics=("subject_drift",), num_frames=8)
    results = {r.job.name: r for r in run_jobs(jobs, options, ModelSpec(device="cpu"), on_stage=lambda job, stage: stages.append((job.name, stage)))}
    assert results["bad"].report is None and "broken.gif" in results["bad"].error
    assert results["good"].error is None and results["good"].report["subject_drift"]["subject_flow"] > 0
    assert ("good", "decode") in stages and ("good", "subject_drift") in stages


def test_executor_arguments_are_checked(monkeypatch):
    import sys

    from circle_rotate.study.executors import EvalJob, ModelSpec, run_jobs

    job = EvalJob("a", DEMOS / "demo2_ours.gif")
    with pytest.raises(ValueError, match="unique"):
        run_jobs([job, job], suite.SuiteOptions(), ModelSpec())
    with pytest.raises(ValueError, match="unknown"):
        run_jobs([job], suite.SuiteOptions(), ModelSpec(), executor="dask")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ValueError, match=r"pip install 'comfyui-circlerotate\[ray\]'"):
        run_jobs([job], suite.SuiteOptions(), ModelSpec(), executor="ray")


def test_the_progress_bar_counts_videos_on_stderr(first_study, tmp_path, monkeypatch, capsys):
    out = _copy(first_study, tmp_path)
    (out / "videos" / "demo2.base.json").unlink()
    monkeypatch.setattr(figures, "write_figures", lambda study, reports, out_dir: [])
    main(["study", "--pairs", str(first_study["manifest"]), "--output", str(out), *[a for a in ARGS if a != "--no-progress"]])
    err = capsys.readouterr().err
    assert "study:" in err and "8/8" in err and "demo2.base: subject_drift" in err
