"""The batch client against real ComfyUI servers running the tiny first/last-frame workflow.

Two servers at most: the shared ``comfy_server`` and one more that the tests kill and restart.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from circle_rotate.client import BatchOptions, BatchRunner, FieldMap, load_workflow, parse_jobs
from fixtures.hosts import PACK_DIR

WORKFLOWS = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
WORKFLOW = WORKFLOWS / "tiny_flf.json"
METRICS_WORKFLOW = WORKFLOWS / "tiny_flf_metrics.json"  # + the pack's motion, orbit and report nodes
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def two_servers(comfy_server, start_server):
    """The shared server and a second one this module may kill and restart."""
    return comfy_server, start_server()


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> Path:
    """A folder with first.png and last.png (64x64)."""
    folder = tmp_path_factory.mktemp("frames")
    Image.new("RGB", (64, 64), (200, 40, 40)).save(folder / "first.png")
    Image.new("RGB", (64, 64), (40, 40, 200)).save(folder / "last.png")
    return folder


def write_jobs(path: Path, rows: list[dict]) -> Path:
    columns = sorted({key for row in rows for key in row})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def good_rows(count: int, seed0: int, frames: Path) -> list[dict]:
    return [{"id": f"job{seed0 + i}", "first_image": str(frames / "first.png"), "last_image": str(frames / "last.png"),
             "seed": seed0 + i} for i in range(count)]


def history_ids(server) -> set[str]:
    return set(server.get_json("/history"))


def run_batch(
    jobs_path: Path, servers: list[str], out: Path, workflow_path: Path = WORKFLOW, **options
) -> tuple[BatchRunner, list, object]:
    workflow = load_workflow(workflow_path)
    field_map = FieldMap(workflow)
    jobs, errors = parse_jobs(jobs_path, field_map)
    runner = BatchRunner(workflow, field_map, servers, out, BatchOptions(**options), progress=False)
    runner.submit(jobs)
    summary = runner.wait()
    runner.write_results([{"line": e.line, "field": e.field, "error": e.message} for e in errors])
    runner.close()
    return runner, errors, summary


def test_ten_jobs_on_two_servers_with_bad_rows_and_a_rejected_prompt(two_servers, frames, tmp_path) -> None:
    first, second = two_servers
    before = history_ids(first) | history_ids(second)
    rows = good_rows(10, 100, frames)
    for index, row in enumerate(rows):  # five with/without-LoRA pairs, the twins sharing their seed
        row.update(seed=100 + index // 2, pair=f"p{index // 2}", lora="on" if index % 2 else "off")
    rows += [
        {"id": "no_image", "first_image": str(frames / "missing.png"), "seed": 1},
        {"id": "bad_seed", "first_image": str(frames / "first.png"), "seed": "abc"},
        {"id": "unknown", "first_image": str(frames / "first.png"), "seed": 2, "colour": "red"},
        {"id": "rejected", "first_image": str(frames / "first.png"), "last_image": "none", "seed": 3,
         "1.unet_name": "missing.safetensors"},
    ]
    jobs_path = write_jobs(tmp_path / "jobs.csv", rows)
    out = tmp_path / "out"

    runner, errors, summary = run_batch(jobs_path, [first.url, second.url], out, METRICS_WORKFLOW)

    assert [(e.line, e.field) for e in errors] == [(12, "first_image"), (13, "seed"), (14, "colour")]
    assert sorted(summary.done) == sorted(f"job{100 + i}" for i in range(10))
    assert list(summary.failed) == ["rejected"]
    assert "missing.safetensors" in summary.failed["rejected"] and "node 1 (UNETLoader)" in summary.failed["rejected"]
    assert "node 10" not in summary.failed["rejected"]  # last_image none: no end_image, which the server accepts
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    done = [r for r in records if r["status"] == "done"]
    assert len(done) == 10 and {r["server"] for r in done} == {first.url, second.url}
    for record in done:
        assert sorted(Path(p).suffix for p in record["outputs"]) == [".csv", ".json", ".webp"]
        assert all((out / path).stat().st_size > 0 for path in record["outputs"])
        assert (out / record["id"] / "prompt_id.txt").read_text().strip() == record["prompt_id"]
        assert record["attempts"] == 1
        assert "motion.motion_magnitude" in record["metrics"] and record["metrics"]["frames"] == 9
    for index, record in enumerate(sorted(done, key=lambda r: r["id"])):
        assert record["lora"] is bool(index % 2) and record["pair_key"] == f"p{index // 2}"
        assert ("lora_strength" in record["values"]) is not record["lora"]  # off -> strengths written as 0
    with open(out / "pairs.csv") as handle:
        pairs = list(csv.DictReader(handle))
    assert {row["pair"] for row in pairs} == {f"p{i}" for i in range(5)}
    assert any(row["metric"] == "motion.motion_magnitude" and float(row["change"]) != 0 for row in pairs)
    new = (history_ids(first) | history_ids(second)) - before
    assert new == {r["prompt_id"] for r in done}  # each job ran exactly once; the rejected one never ran
    with open(out / "summary.csv") as handle:
        statuses = Counter(row["status"] for row in csv.DictReader(handle))
    assert statuses == {"done": 10, "failed": 1, "skipped": 3}


def test_server_killed_mid_job_and_restarted(two_servers, frames, tmp_path) -> None:
    first, second = two_servers
    jobs_path = write_jobs(tmp_path / "jobs.csv", good_rows(8, 200, frames))
    out = tmp_path / "out"
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(
        zip(("runner", "errors", "summary"), run_batch(jobs_path, [first.url, second.url], out, server_wait=240))))
    thread.start()
    deadline = time.monotonic() + 120
    running: list = []
    while not running and time.monotonic() < deadline:
        running = second.get_json("/queue")["queue_running"]
        time.sleep(0.01)
    assert running, "no job reached the second server"
    second.kill()  # while it executes running[0]
    jobs = json.loads((out / "state.json").read_text())["jobs"]
    # Cut off: jobs on the second server not yet recorded done (normally the one it was running; none in the
    # rare case where that job finished and was collected in the few ms between the /queue poll and the kill).
    cut_off = {job_id for job_id, record in jobs.items() if record.get("server") == second.url
               and record["status"] != "done"}
    time.sleep(2.0)
    second.start()
    thread.join(timeout=600)
    assert not thread.is_alive()

    summary = result["summary"]
    assert sorted(summary.done) == sorted(f"job{200 + i}" for i in range(8)) and not summary.failed
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [f"job{200 + i}" for i in range(8)]
    assert all(r["attempts"] == (2 if r["id"] in cut_off else 1) for r in records), (cut_off, records)
    for record in records:
        assert sorted(p.name for p in (out / record["id"]).iterdir()) == sorted(
            [Path(record["outputs"][0]).name, "prompt_id.txt"])
    assert not (out / ".partial").exists()


def cli(jobs_path: Path, server: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "circle_rotate", "batch", str(jobs_path), "--workflow", str(WORKFLOW),
            "--server", server, "--out", str(out), "--no-progress"]


def test_client_killed_and_rerun_resumes_without_repeating(two_servers, frames, tmp_path) -> None:
    server = two_servers[0]
    before = history_ids(server)
    jobs_path = write_jobs(tmp_path / "jobs.csv", good_rows(6, 300, frames))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(PACK_DIR)}
    process = subprocess.Popen(cli(jobs_path, server.url, out), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    done_before: dict[str, str] = {}
    while time.monotonic() < deadline and len(done_before) < 2:
        if (out / "state.json").exists():
            jobs = json.loads((out / "state.json").read_text())["jobs"]
            done_before = {i: r["prompt_id"] for i, r in jobs.items() if r["status"] == "done"}
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 2 <= len(done_before) < 6, process.stdout.read().decode()

    rerun = subprocess.run(cli(jobs_path, server.url, out), env=env, capture_output=True, text=True, timeout=600)

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "done 6" in rerun.stdout
    state = json.loads((out / "state.json").read_text())["jobs"]
    assert all(record["status"] == "done" for record in state.values()) and len(state) == 6
    for job_id, prompt_id in done_before.items():
        assert state[job_id]["prompt_id"] == prompt_id  # finished jobs kept, not run again
    assert history_ids(server) - before == {record["prompt_id"] for record in state.values()}
