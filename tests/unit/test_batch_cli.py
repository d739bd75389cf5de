"""``circle-rotate batch`` without a live server, and the HTTP client's pure parts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from circle_rotate.cli import main
from circle_rotate.client.http import ComfyClient, format_rejection

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "tiny_flf.json"


def test_show_map_prints_each_field_and_its_inputs(capsys, tmp_path) -> None:
    status = main(["batch", str(tmp_path / "jobs.csv"), "--workflow", str(TINY), "--server", "http://127.0.0.1:9",
                   "--out", str(tmp_path / "out"), "--map", "steps_low=12.steps", "--show-map"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert "seed: 11.noise_seed, 12.noise_seed" in lines and "steps_low: 12.steps" in lines


def test_bad_workflow_or_map_stops_before_running(capsys, tmp_path) -> None:
    (tmp_path / "ui.json").write_text('{"nodes": [], "links": []}')
    args = ["batch", str(tmp_path / "jobs.csv"), "--server", "http://127.0.0.1:9", "--out", str(tmp_path / "out")]
    assert main([*args, "--workflow", str(tmp_path / "ui.json")]) == 2
    assert "UI format" in capsys.readouterr().err
    assert main([*args, "--workflow", str(TINY), "--map", "seed=12"]) == 2
    assert "field=node_id.input" in capsys.readouterr().err


def test_unreachable_server_fails_jobs_and_reports_skipped_rows(capsys, tmp_path) -> None:
    (tmp_path / "first.png").write_bytes(b"png")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("id,first_image,last_image,seed\na,first.png,none,1\nb,first.png,none,x\n")
    status = main(["batch", str(jobs), "--workflow", str(TINY), "--server", "http://127.0.0.1:9",
                   "--out", str(tmp_path / "out"), "--server-wait", "0.2", "--no-progress"])
    captured = capsys.readouterr()
    assert status == 1
    assert "done 0 (0 this run, 0 before), failed 1, skipped 1" in captured.out
    assert "failed a: no server answered within 0.2 s" in captured.out
    assert "skipped line 3, field 'seed': 'x' is not an integer" in captured.out
    with open(tmp_path / "out" / "summary.csv") as handle:
        assert [row["status"] for row in csv.DictReader(handle)] == ["failed", "skipped"]


def test_rejection_message_names_every_node_error() -> None:
    body = {
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                  "details": ""},
        "node_errors": {"1": {"class_type": "UNETLoader", "errors": [
            {"message": "Value not in list", "details": "unet_name: 'x.safetensors' not in []"}]}},
    }
    assert format_rejection(body, {}) == ("Prompt outputs failed validation; node 1 (UNETLoader): Value not in "
                                          "list: unet_name: 'x.safetensors' not in []")


def test_client_url_must_be_http() -> None:
    assert ComfyClient("http://127.0.0.1:8188/").ws_url == "ws://127.0.0.1:8188/ws"
    with pytest.raises(ValueError, match="not an http"):
        ComfyClient("127.0.0.1:8188")
