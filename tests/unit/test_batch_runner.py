"""Scheduling, retries and resuming of the batch runner, with scripted fake servers (no ComfyUI)."""

from __future__ import annotations

import json
from pathlib import Path

from circle_rotate.client import BatchOptions, BatchRunner, ExecutionFailed, FieldMap, Job, ServerUnavailable
from circle_rotate.client.state import BatchState

WORKFLOW = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
    "2": {"class_type": "KSampler", "inputs": {"seed": 0, "positive": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t"}},
}


class FakeServer:
    """What one fake server does: ``down`` refuses everything; ``drops`` prompts fail mid-run (then run)."""

    def __init__(self, down: bool = False, drops: int = 0, fail_seed: int | None = None) -> None:
        self.down = down
        self.drops = drops
        self.fail_seed = fail_seed
        self.queued: dict[str, dict] = {}
        self.history: dict[str, dict] = {}


class FakeClient:
    """The subset of ComfyClient the runner uses, backed by a FakeServer."""

    servers: dict[str, FakeServer] = {}

    def __init__(self, url: str) -> None:
        self.url = url
        self.server = self.servers[url]

    def _check(self) -> None:
        if self.server.down:
            raise ServerUnavailable(f"{self.url}: connection refused")

    def alive(self) -> bool:
        return not self.server.down

    def upload_image(self, path: Path, name: str) -> str:
        self._check()
        return name

    def connect(self) -> "FakeClient":
        self._check()
        return self

    def close(self) -> None:
        pass

    def queue_prompt(self, prompt: dict, prompt_id: str) -> str:
        self._check()
        self.server.queued[prompt_id] = prompt
        return prompt_id

    def wait(self, prompt_id, ws=None, on_progress=None, timeout=0.0, poll=0.0, prompt=None) -> dict:
        self._check()
        if self.server.drops:
            self.server.drops -= 1
            raise ServerUnavailable(f"{self.url}: websocket dropped")
        seed = self.server.queued[prompt_id]["2"]["inputs"]["seed"]
        if seed == self.server.fail_seed:
            raise ExecutionFailed("node 2 (KSampler) raised RuntimeError: boom")
        entry = {"outputs": {"3": {"images": [{"filename": f"{prompt_id}.png", "subfolder": "", "type": "output"}]},
                             "4": {"report": [{"drift": seed / 10}]}}, "status": {"status_str": "success"}}
        self.server.history[prompt_id] = entry
        return entry

    def locate(self, prompt_id: str) -> str:
        self._check()
        return "done" if prompt_id in self.server.history else "missing"

    def finished(self, prompt_id: str) -> dict:
        return self.server.history[prompt_id]

    def view(self, filename: str, subfolder: str = "", folder_type: str = "output") -> bytes:
        self._check()
        return filename.encode()


def jobs(count: int, tmp_path: Path) -> list[Job]:
    image = tmp_path / "f.png"
    image.write_bytes(b"png")
    return [Job(f"j{i}", i + 2, {"first_image": image, "seed": i}) for i in range(count)]


def run(tmp_path: Path, servers: dict[str, FakeServer], job_list: list[Job], **options) -> BatchRunner:
    FakeClient.servers = servers
    field_map = FieldMap(WORKFLOW)
    runner = BatchRunner(WORKFLOW, field_map, list(servers), tmp_path / "out",
                         BatchOptions(**{"server_wait": 2.0, **options}), progress=False, client_factory=FakeClient)
    runner.submit(job_list)
    runner.wait()
    runner.close()
    return runner


def test_jobs_spread_over_servers_and_record_outputs_and_metrics(tmp_path) -> None:
    servers = {"http://a": FakeServer(), "http://b": FakeServer()}
    runner = run(tmp_path, servers, jobs(6, tmp_path))
    assert sorted(runner.summary.done) == [f"j{i}" for i in range(6)] and not runner.summary.failed
    assert sum(len(s.queued) for s in servers.values()) == 6
    records = runner.results()
    assert records[3]["metrics"] == {"report.drift": 0.3}
    out = tmp_path / "out"
    assert (out / records[3]["outputs"][0]).read_text() == records[3]["prompt_id"] + ".png"


def test_dropped_job_moves_to_another_server_and_runs_once_more(tmp_path) -> None:
    servers = {"http://a": FakeServer(drops=1), "http://b": FakeServer()}
    runner = run(tmp_path, servers, jobs(4, tmp_path))
    assert sorted(runner.summary.done) == ["j0", "j1", "j2", "j3"]
    attempts = sorted(record["attempts"] for record in runner.results())
    assert attempts == [1, 1, 1, 2]


def test_retries_are_bounded(tmp_path) -> None:
    servers = {"http://a": FakeServer(drops=100)}
    runner = run(tmp_path, servers, jobs(1, tmp_path), max_attempts=3)
    assert runner.summary.failed["j0"].startswith("gave up after 3 tries; last: http://a: websocket dropped")
    assert len(servers["http://a"].queued) == 3


def test_execution_error_fails_the_job_without_retry(tmp_path) -> None:
    servers = {"http://a": FakeServer(fail_seed=1)}
    runner = run(tmp_path, servers, jobs(3, tmp_path))
    assert runner.summary.failed == {"j1": "node 2 (KSampler) raised RuntimeError: boom"}
    assert len(servers["http://a"].queued) == 3


def test_no_server_answering_fails_the_jobs_after_the_wait(tmp_path) -> None:
    servers = {"http://a": FakeServer(down=True), "http://b": FakeServer(down=True)}
    runner = run(tmp_path, servers, jobs(2, tmp_path), server_wait=0.5)
    assert set(runner.summary.failed) == {"j0", "j1"}
    assert "no server answered within 0.5 s; last error: http://" in runner.summary.failed["j0"]


def test_resume_collects_a_finished_prompt_and_skips_done_jobs(tmp_path) -> None:
    server = FakeServer()
    server.history["p-old"] = {"outputs": {"3": {"images": [{"filename": "old.png", "subfolder": ""}]}}}
    state = BatchState(tmp_path / "out")
    state.update("j0", status="done", attempts=1, prompt_id="p-done", outputs=["j0/x.png"])
    state.update("j1", status="queued", attempts=1, prompt_id="p-old", server="http://a")
    state.close()
    runner = run(tmp_path, {"http://a": server}, jobs(3, tmp_path))
    assert runner.summary.already_done == ["j0"] and sorted(runner.summary.done) == ["j1", "j2"]
    assert len(server.queued) == 1  # only j2 was queued; j1's earlier prompt was collected
    saved = json.loads((tmp_path / "out" / "state.json").read_text())["jobs"]
    assert saved["j1"]["prompt_id"] == "p-old" and saved["j1"]["outputs"] == ["j1/old.png"]
    assert saved["j0"]["prompt_id"] == "p-done"


def test_a_job_without_last_frame_queues_the_workflow_without_its_loader(tmp_path) -> None:
    workflow = {**WORKFLOW, "4": {"class_type": "LoadImage", "inputs": {"image": "last.png"}},
                "2": {"class_type": "KSampler", "inputs": {"seed": 0, "positive": ["1", 0], "end_image": ["4", 0]}}}
    FakeClient.servers = {"http://a": (server := FakeServer())}
    runner = BatchRunner(workflow, FieldMap(workflow), ["http://a"], tmp_path / "out",
                         BatchOptions(server_wait=2.0), progress=False, client_factory=FakeClient)
    runner.submit([Job("j0", 2, {"last_image": None, "seed": 5})])
    runner.wait()
    runner.write_results([])
    runner.close()
    (prompt,) = server.queued.values()
    assert "4" not in prompt and prompt["2"]["inputs"] == {"seed": 5, "positive": ["1", 0]}
    assert runner.summary.done == ["j0"]
    (result,) = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert result["values"]["last_image"] is None
