"""Outputs, metrics, pair changes and the state file of the batch client."""

from __future__ import annotations

import csv
import json
import multiprocessing

import pytest

from circle_rotate.client.results import collect_metrics, flatten_numbers, pair_changes, split_outputs, write_results
from circle_rotate.client.state import BatchState


def test_split_outputs_separates_files_from_ui_payloads() -> None:
    report_files = [{"filename": "r.json", "subfolder": "m", "type": "output"},
                    {"filename": "r.csv", "subfolder": "m", "type": "output"}]
    outputs = {
        "14": {"images": [{"filename": "a.webp", "subfolder": "", "type": "output"}], "animated": [True]},
        "20": {"circle_rotate_report": [{"table": [{"metric": "drift", "value": 1.5}], "files": report_files}],
               "text": ["done"]},
    }
    files, ui = split_outputs(outputs)
    assert [(f.node_id, f.key, f.filename, f.subfolder) for f in files] == [
        ("14", "images", "a.webp", ""), ("20", "circle_rotate_report", "r.json", "m"),
        ("20", "circle_rotate_report", "r.csv", "m")]
    assert set(ui) == {"20"} and ui["20"]["text"] == ["done"]


def test_metrics_are_scalar_leaves_of_the_json_report_else_of_ui() -> None:
    report = {"frames": 16, "subject_drift": {"speed_px_per_frame": 1.5, "centroids": [[1, 2], [3, 4]]},
              "upstream": {"clip_i": {"first_last": 0.9}}, "video": "x.mp4", "errors": {}}
    assert flatten_numbers(report) == {"frames": 16.0, "subject_drift.speed_px_per_frame": 1.5,
                                       "upstream.clip_i.first_last": 0.9}
    assert flatten_numbers({"a": [{"b": 1, "ok": True}]}) == {"a.b": 1.0}
    ui = {"20": {"report": [{"drift": 2, "series": [1, 2, 3]}]}}
    assert collect_metrics(ui, {}) == {"report.drift": 2.0}
    assert collect_metrics(ui, {"20": {"drift": 3}, "21": {"drift": 4, "clip": 0.9}}) == {
        "drift": 3.0, "21.drift": 4.0, "clip": 0.9}


def record(job_id, lora, pair, metrics, status="done"):
    return {"id": job_id, "line": 2, "status": status, "lora": lora, "pair_key": pair, "metrics": metrics,
            "outputs": [f"{job_id}/a.webp"], "attempts": 1}


def test_pair_changes_compare_with_and_without_lora() -> None:
    records = [
        record("a", False, "p1", {"drift": 4.0, "clip": 0.8}), record("b", True, "p1", {"drift": 3.0, "clip": 0.9}),
        record("c", False, "p2", {"drift": 0.0}), record("d", True, "p2", {"drift": 1.0}),
        record("e", True, "p3", {"drift": 1.0}),  # no twin
        record("f", False, "p4", {"drift": 1.0}), record("g", True, "p4", {"drift": 9.0}, status="failed"),
    ]
    rows = pair_changes(records)
    assert [(r["pair"], r["metric"]) for r in rows] == [("p1", "clip"), ("p1", "drift"), ("p2", "drift")]
    assert rows[1]["change"] == -1.0 and rows[1]["relative"] == -0.25
    assert rows[2]["relative"] is None


def test_write_results_files(tmp_path) -> None:
    records = [record("a", False, "p1", {"drift": 4.0}), record("b", True, "p1", {"drift": 2.0}),
               {**record("c", None, None, {}, "failed"), "error": "node 1 (UNETLoader): missing"}]
    files = write_results(tmp_path, records, [{"line": 5, "field": "seed", "error": "'x' is not an integer"}])
    assert set(files) == {"results", "summary", "pairs"}
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    with open(tmp_path / "summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["status"], r["drift"]) for r in rows] == [
        ("a", "done", "4.0"), ("b", "done", "2.0"), ("c", "failed", ""), ("", "skipped", "")]
    assert rows[3]["error"] == "field 'seed': 'x' is not an integer" and rows[3]["line"] == "5"
    with open(tmp_path / "pairs.csv") as handle:
        assert next(csv.DictReader(handle))["change"] == "-2.0"
    assert not list(tmp_path.glob(".*.tmp"))


def test_state_persists_and_resumes(tmp_path) -> None:
    state = BatchState(tmp_path)
    assert state.job("a") == {"status": "pending", "attempts": 0}
    state.update("a", status="queued", prompt_id="p", attempts=1)
    state.update("a", status="done")
    state.close()
    again = BatchState(tmp_path)
    assert again.job("a") == {"status": "done", "prompt_id": "p", "attempts": 1}
    again.close()


def _hold_lock(folder, ready, release) -> None:
    state = BatchState(folder)
    ready.set()
    release.wait(10)
    state.close()


def test_state_folder_is_locked_against_a_second_client(tmp_path) -> None:
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(RuntimeError, match="in use by another circle-rotate batch"):
            BatchState(tmp_path)
    finally:
        release.set()
        holder.join(10)
    BatchState(tmp_path).close()  # free again once the holder is gone


def test_bad_state_file_is_refused(tmp_path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="not a version 1 batch state file"):
        BatchState(tmp_path)
