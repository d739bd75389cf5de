"""The study's per-video reports on disk: one JSON file per video, keyed by content and options, for resuming.

``DIR/videos/<name>.json`` (``name`` is ``<pair id>.<side>``) holds::

    {"version": 1, "key": "<sha256>", "inputs": {"video": "<sha256>", "masks": ..., "first": ..., "last": ...},
     "options": {...}, "report": {...the suite's report...}}      (or "error": "<why it failed>" instead of "report")

``key`` is the sha256 of the inputs' content hashes (the video file, or every file of an image folder; the masks
file; the conditioning images) together with the evaluation options (``options_fingerprint``). A stored report is
used only when its key equals the key of the inputs now: a changed video, masks file, conditioning image or
option evaluates that video again; the others are reused. A failure is stored too (the same inputs and options
fail the same way), so a rerun does not repeat it unless asked to (``circle-rotate study --retry-failed``). Files are written atomically (temporary file, then
``os.replace``), so a killed study leaves whole reports or none. Only the driver process writes here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..client.state import write_atomic
from ..report import finite

STORE_VERSION = 1


def content_digest(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes, or of an image folder's files (names and contents, in name order)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for item in files:
        if path.is_dir():
            digest.update(item.relative_to(path).as_posix().encode() + b"\0")
        with open(item, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def input_digests(video: Path, masks: Path | None, first: Path | None, last: Path | None) -> dict[str, str | None]:
    """Content hashes of a video's inputs (None where an input is absent)."""
    named = {"video": video, "masks": masks, "first": first, "last": last}
    return {name: content_digest(path) if path is not None else None for name, path in named.items()}


def report_key(inputs: Mapping[str, str | None], options: Mapping[str, Any]) -> str:
    """The sha256 that identifies an evaluation: the inputs' hashes and the options (JSON, sorted keys)."""
    text = json.dumps({"inputs": dict(inputs), "options": dict(options), "version": STORE_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ReportStore:
    """Per-video reports under ``folder`` (see the module docstring).

    Args:
        folder: the ``videos`` folder (created when missing).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        """Where the report of ``name`` (``<pair>.<side>``) lives."""
        return self.folder / f"{name}.json"

    def load(self, name: str, key: str) -> dict | None:
        """The stored entry of ``name`` if its key is ``key``: a dict with ``report`` (the suite's report) or
        ``error`` (why the video failed); None when absent, stale or unreadable."""
        path = self.path(name)
        if not path.is_file():
            return None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None  # an unreadable entry is evaluated again and overwritten
        if not isinstance(stored, dict) or stored.get("key") != key:
            return None
        if isinstance(stored.get("report"), dict) or isinstance(stored.get("error"), str):
            return stored
        return None

    def save(self, name: str, key: str, inputs: Mapping[str, str | None], options: Mapping[str, Any], report: dict | None = None, error: str | None = None) -> Path:
        """Write the entry of ``name`` atomically: its ``report``, or the ``error`` it failed with; returns its path.

        Raises:
            ValueError: neither or both of ``report`` and ``error`` given.
        """
        if (report is None) == (error is None):
            raise ValueError("give a report or an error, not both or neither")
        document = {"version": STORE_VERSION, "key": key, "inputs": dict(inputs), "options": dict(options)}
        document.update({"report": report} if report is not None else {"error": error})
        path = self.path(name)
        write_atomic(path, json.dumps(finite(document), allow_nan=False).encode("utf-8"))
        return path
