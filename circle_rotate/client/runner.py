"""Run a batch of jobs on one or more ComfyUI servers, durably.

Scheduling: one worker thread per server (``per_server`` for more), each with its own client id; a worker
takes the next pending job whenever its server is free, so faster servers run more jobs. Per job: upload the
files (images, videos; named by content hash, so a retry reuses them), fill the workflow, record the chosen prompt id in
the state file, queue it, follow it on the websocket, fetch every output into ``DIR/.partial/`` and move the
folder to ``DIR/<job id>/`` before the job is recorded ``done``.

Failures:
- ``ServerUnavailable`` (refused, dropped, prompt lost in a restart): the job goes back to the queue for any
  server, up to ``max_attempts`` tries; the worker waits up to ``server_wait`` seconds for its server.
- ``PromptRejected`` / ``ExecutionFailed`` / anything else: the job fails with the message; no retry.

Resuming: a ``done`` job is never run again. A job the state shows ``queued`` on a server of this run is
first looked up there: finished -> its outputs are fetched; still queued or running -> followed; gone ->
run again. ``failed`` jobs run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .http import ComfyClient, ComfyError, Progress, ServerUnavailable
from .jobs import Job, default_id
from .results import OutputFile, collect_metrics, split_outputs, write_results
from .state import FINAL, BatchState
from .workflow_fill import LORA_FIELDS, FieldMap, fill


@dataclass
class BatchOptions:
    """How the runner retries and waits.

    Attributes:
        max_attempts: tries per job when servers fail (connection or restart), at least 1.
        job_timeout: seconds one prompt may run before it is interrupted and failed.
        server_wait: seconds a worker waits for its unreachable server before it gives up.
        per_server: jobs run at once on each server.
        poll: seconds of websocket silence before the runner checks ``/history`` and ``/queue``.
    """

    max_attempts: int = 3
    job_timeout: float = 3600.0
    server_wait: float = 300.0
    per_server: int = 1
    poll: float = 5.0


@dataclass
class BatchSummary:
    """What a run did: ids done in this run, already done before it, and failed (id -> reason)."""

    done: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's sha256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def pair_key(job: Job) -> str | None:
    """The label that joins a job to its with/without-LoRA twin: ``pair``, else the row minus LoRA fields."""
    if job.pair is not None:
        return job.pair
    if job.lora is None:
        return None
    ignored = {"id", "lora", "pair", *LORA_FIELDS}
    return default_id({k: v for k, v in job.row.items() if k not in ignored})


class BatchRunner:
    """The Python API of the batch client: ``submit`` jobs, ``wait`` for them, read ``results``.

    Args:
        workflow: the API-format workflow (not modified).
        field_map: how job fields map onto it.
        servers: server base URLs (at least one).
        out_dir: the batch folder (state file, outputs, result files).
        options: retries and waits.
        progress: show a tqdm bar on stderr.
        client_factory: builds the client of a server URL (``ComfyClient``; tests pass a fake).

    Raises:
        ValueError: no server, or a bad server URL.
        RuntimeError: another client uses ``out_dir``.
    """

    def __init__(
        self, workflow: dict[str, Any], field_map: FieldMap, servers: list[str], out_dir: Path,
        options: BatchOptions | None = None, progress: bool = True,
        client_factory: Callable[[str], ComfyClient] = ComfyClient,
    ) -> None:
        if not servers:
            raise ValueError("no server given: pass at least one --server URL")
        self.workflow = workflow
        self.field_map = field_map
        self.options = options or BatchOptions()
        self.clients = [client_factory(url) for url in servers for _ in range(self.options.per_server)]
        self.servers = [client.url for client in self.clients]
        self.out_dir = Path(out_dir)
        self.state = BatchState(self.out_dir)
        self.progress = progress
        self.jobs: list[Job] = []
        self.summary = BatchSummary()
        self._pending: deque[Job] = deque()
        self._adopted: dict[str, deque[Job]] = {url: deque() for url in self.servers}
        self._in_flight = 0
        self._workers_left = 0
        self._cond = threading.Condition()
        self._digests: dict[Path, str] = {}
        self._status: dict[int, str] = {}
        self._bar_lock = threading.Lock()
        self._bar: Any = None

    def close(self) -> None:
        """Release the output folder."""
        self.state.close()

    def submit(self, jobs: list[Job]) -> None:
        """Add jobs to the batch; ``done`` ones are counted and skipped, ``queued`` ones on our servers adopted."""
        for job in jobs:
            self.jobs.append(job)
            record = self.state.job(job.id)
            if record["status"] == "done":
                self.summary.already_done.append(job.id)
            elif record["status"] == "queued" and record.get("server") in self._adopted:
                self._adopted[record["server"]].append(job)
            else:
                if record["status"] == "failed":
                    self.state.update(job.id, status="pending", attempts=0, error=None)
                self._pending.append(job)

    def wait(self) -> BatchSummary:
        """Run every submitted job that is not done, until each is done or failed; return the summary.

        A job still unfinished when every worker gave up on its server is marked failed. On KeyboardInterrupt
        the running jobs stay ``queued`` in the state file, so the next run picks them up.
        """
        from tqdm import tqdm

        self._bar = tqdm(total=len(self.jobs), initial=len(self.summary.already_done), desc="batch", unit="job",
                         file=sys.stderr, disable=not self.progress, dynamic_ncols=True)
        threads = [threading.Thread(target=self._worker, args=(index, client), daemon=True,
                                    name=f"batch-{index}") for index, client in enumerate(self.clients)]
        self._workers_left = len(threads)
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
        finally:
            self._bar.close()
        shutil.rmtree(self.out_dir / ".partial", ignore_errors=True)  # folders of attempts that never finished
        for job in self.jobs:
            record = self.state.job(job.id)
            if record["status"] not in FINAL:
                reason = f"no server answered within {self.options.server_wait:g} s; last error: {record.get('error')}"
                self.state.update(job.id, status="failed", error=reason)
                self.summary.failed[job.id] = reason
        return self.summary

    def results(self) -> list[dict[str, Any]]:
        """One record per submitted job, in submission order, from the state file."""
        records = []
        for job in self.jobs:
            record = self.state.job(job.id)
            values = {k: str(v) if isinstance(v, Path) else v for k, v in job.values.items()}
            records.append({"id": job.id, "line": job.line, **record, "values": values, "lora": job.lora,
                            "pair_key": pair_key(job)})
        return records

    def write_results(self, skipped: list[dict[str, Any]]) -> dict[str, Path]:
        """Write results.jsonl, summary.csv (with ``skipped`` rows) and pairs.csv; returns their paths."""
        self.summary.files = write_results(self.out_dir, self.results(), skipped)
        return self.summary.files

    # scheduling -------------------------------------------------------------------------------------------

    def _take(self, url: str) -> Job | None:
        """The next job for the worker of ``url``; blocks while others may still hand jobs back; None at the end."""
        with self._cond:
            while True:
                queue = self._adopted[url] if self._adopted[url] else self._pending
                if queue:
                    self._in_flight += 1
                    return queue.popleft()
                if self._in_flight == 0 and not any(self._adopted.values()):
                    return None
                self._cond.wait(0.5)

    def _release(self, job: Job | None = None) -> None:
        """A job left its worker; ``job`` goes back to the shared queue when given."""
        with self._cond:
            if job is not None:
                self._pending.append(job)
            self._in_flight -= 1
            self._cond.notify_all()

    def _work_left(self) -> bool:
        with self._cond:
            return bool(self._pending or self._in_flight or any(self._adopted.values()))

    def _wait_alive(self, client: ComfyClient) -> bool:
        """Wait for ``client``'s server; False when it stayed down ``server_wait`` s or no work is left."""
        deadline = time.monotonic() + self.options.server_wait
        while time.monotonic() < deadline:
            if client.alive():
                return True
            if not self._work_left():
                return False
            time.sleep(1.0)
        return False

    def _worker(self, index: int, client: ComfyClient) -> None:
        try:
            while True:
                job = self._take(client.url)
                if job is None:
                    return
                retry = self._attempt(index, job, client)
                self._release(job if retry else None)
                if retry and not self._wait_alive(client):
                    return
        finally:
            server_down = not client.alive()
            with self._cond:
                self._workers_left -= 1
                if self._workers_left == 0 or server_down:
                    self._pending.extend(self._adopted[client.url])
                    self._adopted[client.url].clear()
                self._cond.notify_all()

    def _attempt(self, index: int, job: Job, client: ComfyClient) -> bool:
        """Run ``job`` once on ``client``; record the outcome. Returns True when it should be retried."""
        started = time.monotonic()
        try:
            self._run(index, job, client, started)
        except ServerUnavailable as error:
            attempts = self.state.job(job.id)["attempts"]
            if attempts < self.options.max_attempts:
                self.state.update(job.id, status="pending", error=f"{client.url}: {error}")
                self._note(f"{job.id}: {error}; retrying ({attempts}/{self.options.max_attempts} tries used)")
                return True
            self._fail(job, f"gave up after {attempts} tries; last: {error}")
        except (ComfyError, OSError, ValueError) as error:
            self._fail(job, str(error))
        except Exception as error:  # a bug must fail the job, not hang the batch on a dead worker
            self._fail(job, f"{error.__class__.__name__}: {error}")
        else:
            self.summary.done.append(job.id)
            self._advance()
        finally:
            with self._bar_lock:
                self._status.pop(index, None)
        return False

    def _fail(self, job: Job, reason: str) -> None:
        self.state.update(job.id, status="failed", error=reason)
        self.summary.failed[job.id] = reason
        self._note(f"{job.id} failed: {reason}")
        self._advance()

    # one job ------------------------------------------------------------------------------------------------

    def _run(self, index: int, job: Job, client: ComfyClient, started: float) -> None:
        record = self.state.job(job.id)
        on_progress = self._progress_callback(index, job, client)
        entry = None
        if record["status"] == "queued" and record.get("server") == client.url and record.get("prompt_id"):
            prompt_id = record["prompt_id"]
            where = client.locate(prompt_id)
            if where == "done":
                entry = client.finished(prompt_id)
            elif where in ("running", "pending"):
                entry = client.wait(prompt_id, None, on_progress, self.options.job_timeout, self.options.poll)
        if entry is None:
            values = {name: self._upload(client, value) if isinstance(value, Path) else value
                      for name, value in job.values.items()}
            prompt = fill(self.workflow, self.field_map, values)
            prompt_id = uuid.uuid4().hex
            ws = client.connect()
            self.state.update(job.id, status="queued", server=client.url, prompt_id=prompt_id,
                              attempts=record["attempts"] + 1, error=None)
            try:
                client.queue_prompt(prompt, prompt_id)
            except ComfyError:
                ws.close()
                raise
            entry = client.wait(prompt_id, ws, on_progress, self.options.job_timeout, self.options.poll, prompt)
        outputs, metrics, ui = self._collect(job, client, entry, prompt_id)
        self.state.update(job.id, status="done", outputs=outputs, metrics=metrics, ui=ui, error=None,
                          seconds=round(time.monotonic() - started, 3))

    def _upload(self, client: ComfyClient, path: Path) -> str:
        """Upload ``path`` as ``circle_rotate_<content hash><suffix>`` (idempotent across retries and jobs)."""
        if path not in self._digests:
            self._digests[path] = file_digest(path)
        return client.upload_image(path, f"circle_rotate_{self._digests[path]}{path.suffix.lower()}")

    def _collect(
        self, job: Job, client: ComfyClient, entry: dict[str, Any], prompt_id: str
    ) -> tuple[list[str], dict[str, float], dict[str, Any]]:
        """Fetch every output file into ``DIR/<job id>/`` (atomically, replacing a stale folder)."""
        files, ui = split_outputs(entry.get("outputs") or {})
        partial = self.out_dir / ".partial" / f"{job.id}.{prompt_id}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        names: list[str] = []
        reports: dict[str, Any] = {}
        for item in files:
            name = Path(item.filename).name
            if name in names:
                name = f"{item.node_id}_{name}"
            data = client.view(item.filename, item.subfolder, item.folder_type)
            (partial / name).write_bytes(data)
            names.append(name)
            if name.lower().endswith(".json"):
                reports[_report_key(item, reports)] = json.loads(data)
        (partial / "prompt_id.txt").write_text(prompt_id + "\n", encoding="utf-8")
        final = self.out_dir / job.id
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        return [f"{job.id}/{name}" for name in names], collect_metrics(ui, reports), ui

    # progress -------------------------------------------------------------------------------------------------

    def _progress_callback(self, index: int, job: Job, client: ComfyClient) -> Any:
        server = urlsplit(client.url).netloc

        def report(progress: Progress) -> None:
            step = f" {progress.value}/{progress.maximum}" if progress.maximum else ""
            with self._bar_lock:
                self._status[index] = f"{server} {job.id} {progress.class_type or progress.node or ''}{step}"
                if self._bar is not None:
                    self._bar.set_postfix_str(" | ".join(self._status[k] for k in sorted(self._status)))

        with self._bar_lock:
            self._status[index] = f"{server} {job.id}"
        return report

    def _advance(self) -> None:
        with self._bar_lock:
            if self._bar is not None:
                self._bar.update(1)

    def _note(self, text: str) -> None:
        with self._bar_lock:
            if self._bar is not None and self.progress:
                self._bar.write(text, file=sys.stderr)


def _report_key(item: OutputFile, reports: dict[str, Any]) -> str:
    key = item.node_id
    return key if key not in reports else f"{item.node_id}.{Path(item.filename).stem}"
