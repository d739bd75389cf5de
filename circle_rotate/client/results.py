"""Job outputs and metrics from a ComfyUI history entry, and the batch's result files.

- Outputs: every ``{"filename", "subfolder", "type"}`` item in a node's history ``outputs`` (at any depth) is
  a file to fetch with ``/view``. Everything else there is the node's ``ui`` payload.
- Metrics: scalar numeric leaves of the fetched ``.json`` files (the report the pack's report node saves,
  ``circle_rotate/report.py``: ``subject_drift.speed_px_per_frame``, ``upstream.clip_i.first_last``...), or,
  when the workflow saves no JSON, of the ``ui`` payloads; per-frame lists are left out.
- Files in ``DIR``: ``results.jsonl`` (one record per job), ``summary.csv`` (one row per job, skipped rows
  included, metrics as columns) and, when jobs come in with/without-LoRA pairs, ``pairs.csv``: per pair and
  metric the value without and with the LoRA and the change (with - without, and relative to without).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .state import write_atomic

FILE_KEYS = ("filename", "subfolder", "type")


@dataclass(frozen=True)
class OutputFile:
    """A file a node reported: its node id, ``ui`` key (``images``, ``gifs``, ...), and /view coordinates."""

    node_id: str
    key: str
    filename: str
    subfolder: str
    folder_type: str


def _file_refs(node_id: str, key: str, value: Any) -> list[OutputFile]:
    """Every ``{"filename", "type", ...}`` dict anywhere in ``value``."""
    if isinstance(value, dict):
        if isinstance(value.get("filename"), str) and isinstance(value.get("type", "output"), str):
            return [OutputFile(node_id, key, value["filename"], str(value.get("subfolder", "")),
                               str(value.get("type", "output")))]
        return [ref for item in value.values() for ref in _file_refs(node_id, key, item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _file_refs(node_id, key, item)]
    return []


def split_outputs(outputs: dict[str, Any]) -> tuple[list[OutputFile], dict[str, dict[str, Any]]]:
    """Files and non-file ``ui`` payloads (node id -> {key: value}) of a history entry's ``outputs``.

    Files are found at any depth (a report node lists its saved JSON/CSV inside its payload); a payload that
    is only file references (``images``, ``gifs``) is not kept as ``ui``.
    """
    files: list[OutputFile] = []
    ui: dict[str, dict[str, Any]] = {}
    for node_id, payload in outputs.items():
        for key, value in (payload or {}).items():
            refs = _file_refs(str(node_id), key, value)
            files.extend(ref for ref in refs if ref not in files)
            items = value if isinstance(value, list) else [value]
            only_files = bool(refs) and all(isinstance(i, dict) and "filename" in i for i in items)
            if not only_files and key != "animated":
                ui.setdefault(str(node_id), {})[key] = value
    return files, ui


def flatten_numbers(value: Any, prefix: str = "") -> dict[str, float]:
    """Scalar numeric leaves of a JSON value under dotted names.

    One-item lists are unwrapped (ComfyUI wraps ``ui`` values in lists); longer lists (per-frame series,
    tables) are left out, as are booleans, strings and nulls.
    """
    if isinstance(value, list):
        return flatten_numbers(value[0], prefix) if len(value) == 1 else {}
    if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
        return {}
    if not isinstance(value, dict):
        return {prefix or "value": float(value)}
    found: dict[str, float] = {}
    for key, item in value.items():
        found.update(flatten_numbers(item, f"{prefix}.{key}" if prefix else str(key)))
    return found


def collect_metrics(ui: dict[str, dict[str, Any]], json_files: dict[str, Any]) -> dict[str, float]:
    """Metrics of a job: numeric leaves of its JSON report files (key -> content), else of its ``ui`` payloads.

    A name that two sources give is prefixed with the later source's key (its node id).
    """
    metrics: dict[str, float] = {}
    sources = list(json_files.items()) if json_files else list(ui.items())
    for key, payload in sources:
        for name, number in flatten_numbers(payload).items():
            metrics[f"{key}.{name}" if name in metrics else name] = number
    return metrics


def pair_changes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per pair and metric: mean without LoRA, mean with, change and relative change.

    Args:
        records: job records (``results.jsonl`` lines) with ``status``, ``lora`` (True/False/None),
            ``pair_key`` and ``metrics``; only ``done`` jobs with a known ``lora`` count.

    Returns:
        Rows ``{"pair", "metric", "without", "with", "change", "relative", "n_without", "n_with"}``, sorted by
        pair then metric; ``relative`` is None where ``without`` is 0.
    """
    groups: dict[str, dict[bool, list[dict[str, float]]]] = {}
    for record in records:
        if record.get("status") == "done" and record.get("lora") is not None and record.get("pair_key"):
            groups.setdefault(record["pair_key"], {True: [], False: []})[bool(record["lora"])].append(
                record.get("metrics") or {}
            )
    rows = []
    for pair, sides in sorted(groups.items()):
        if not sides[True] or not sides[False]:
            continue
        names = set.intersection(*(set(m) for m in sides[True] + sides[False]))
        for name in sorted(names):
            without = sum(m[name] for m in sides[False]) / len(sides[False])
            with_lora = sum(m[name] for m in sides[True]) / len(sides[True])
            relative = (with_lora - without) / abs(without) if without else None
            rows.append({"pair": pair, "metric": name, "without": without, "with": with_lora,
                         "change": with_lora - without, "relative": relative,
                         "n_without": len(sides[False]), "n_with": len(sides[True])})
    return rows


def _csv_bytes(rows: Iterable[dict[str, Any]], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue().encode()


def write_results(out_dir: Path, records: list[dict[str, Any]], skipped: list[dict[str, Any]]) -> dict[str, Path]:
    """Write ``results.jsonl``, ``summary.csv`` and (when pairs exist) ``pairs.csv`` atomically.

    Args:
        out_dir: the batch folder.
        records: one record per job (``id``, ``status``, ``error``, ``attempts``, ``server``, ``outputs``,
            ``metrics``, ...), in job order.
        skipped: rows that did not run: ``{"line", "field", "error"}``.

    Returns:
        Name -> path of each file written.
    """
    paths = {"results": out_dir / "results.jsonl", "summary": out_dir / "summary.csv"}
    lines = "".join(json.dumps(record, ensure_ascii=False, allow_nan=True) + "\n" for record in records)
    write_atomic(paths["results"], lines.encode())
    metric_names = sorted({name for record in records for name in record.get("metrics") or {}})
    columns = ["id", "line", "status", "error", "attempts", "server", "seconds", "outputs", *metric_names]
    rows = [{**{k: record.get(k) for k in columns[:7]}, "outputs": len(record.get("outputs") or []),
             **(record.get("metrics") or {})} for record in records]
    rows += [{"id": "", "line": row["line"], "status": "skipped",
              "error": f"field {row['field']!r}: {row['error']}" if row.get("field") else row["error"]}
             for row in skipped]
    write_atomic(paths["summary"], _csv_bytes(rows, columns))
    changes = pair_changes(records)
    if changes:
        paths["pairs"] = out_dir / "pairs.csv"
        write_atomic(paths["pairs"], _csv_bytes(changes, list(changes[0])))
    return paths

