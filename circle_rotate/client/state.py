"""The batch's durable state file (``DIR/state.json``): every job's status, attempts, prompt id and result.

Statuses: ``pending`` (not started or waiting for a retry), ``queued`` (a prompt id was chosen and is being
sent to, or runs on, ``server``), ``done`` (its result is recorded and its outputs are in ``DIR/<id>/``),
``failed`` (with ``error``). Every change is written at once, atomically (temporary file, ``os.replace``;
fsync when a job becomes final), so a killed client leaves either the old or the new state, never half a file.
A lock file (``DIR/.lock``, ``flock``) keeps two clients off the same folder; the kernel releases it when a
client dies.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

STATE_VERSION = 1
FINAL = ("done", "failed")


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The replace is atomic for readers and survives a killed process either way; ``sync`` also flushes the
    file to disk first (``fsync``, about 10 ms here) so that it survives a power loss too.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, path)


class BatchState:
    """The state of one output folder.

    Args:
        out_dir: the batch's output folder (created).

    Raises:
        RuntimeError: another client holds the folder's lock.
        ValueError: ``state.json`` exists but is not a state file of this version.
    """

    def __init__(self, out_dir: Path) -> None:
        import fcntl

        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / "state.json"
        self._lock = threading.Lock()
        self._lock_file = open(self.out_dir / ".lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise RuntimeError(f"{self.out_dir} is in use by another circle-rotate batch: wait for it or pick "
                               "another --out") from None
        self.data: dict[str, Any] = {"version": STATE_VERSION, "jobs": {}}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(
                        data.get("jobs"), dict):
                    raise ValueError(f"{self.path} is not a version {STATE_VERSION} batch state file: move it away")
            except ValueError:
                self._lock_file.close()
                raise
            self.data = data

    def close(self) -> None:
        """Release the folder's lock."""
        self._lock_file.close()

    def job(self, job_id: str) -> dict[str, Any]:
        """A copy of the job's record (``{"status": "pending", "attempts": 0}`` for a new job)."""
        with self._lock:
            return dict(self.data["jobs"].get(job_id) or {"status": "pending", "attempts": 0})

    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the job's record and save the file; returns the new record.

        A change to a final status (done, failed) is fsynced; others are only atomically replaced (enough for a
        killed client; after a power loss such a job is looked up on its server or run again).
        """
        with self._lock:
            record = self.data["jobs"].setdefault(job_id, {"status": "pending", "attempts": 0})
            record.update(fields)
            text = json.dumps(self.data, indent=1, ensure_ascii=False).encode()
            write_atomic(self.path, text, sync=record["status"] in FINAL)
            return dict(record)

    def set_meta(self, **fields: Any) -> None:
        """Record batch-level facts (workflow, jobs file) beside the jobs, and save."""
        with self._lock:
            self.data.setdefault("meta", {}).update(fields)
            write_atomic(self.path, json.dumps(self.data, indent=1, ensure_ascii=False).encode())
