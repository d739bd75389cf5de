"""Read batch jobs from CSV or JSONL, one job per row, checking every field against the workflow's mapping.

Columns (all optional unless the workflow needs them):
- ``id``: the job's name and output folder (letters, digits, ``._-``); default ``job-<hash of the row>``, stable.
- ``first_image`` (required when the workflow has a first-frame input), ``last_image`` (required when it has a
  last-frame input; ``none`` runs without a last frame where every consumer's last-frame input is optional),
  ``video``: file paths, relative to the jobs file's folder (uploaded to the server before the job runs).
- ``prompt``, or ``subject`` with ``direction``/``shot_size``/``scene``/``language``, which build the orbit
  prompt (``circle_rotate.prompts.orbit_prompt``); ``negative_prompt``. A workflow whose prompt node takes
  ``subject``, ``direction``... as inputs (CircleRotateOrbitPromptEncode) gets those fields directly.
- ``seed``; ``lora_high``, ``lora_low``, ``lora_strength`` (LoRA strengths); ``lora`` (on/off: off sets every
  LoRA strength to 0); ``pair`` (a label joining a with-LoRA job to its without-LoRA twin).
- Any other field the workflow maps (see ``workflow_fill``), e.g. ``cfg`` or ``12.steps``.

A row with a problem (a missing file, a value of the wrong type, a field that maps to nothing, a duplicate
id) becomes a ``RowError`` naming its line and field; the other rows still run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..prompts import orbit_prompt
from .workflow_fill import IMAGE_FIELDS, LORA_FIELDS, FieldMap

PROMPT_PARTS = ("subject", "direction", "shot_size", "scene", "language")
CONTROL_FIELDS = ("id", "lora", "pair")
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
NO_IMAGE = "none"
"""The ``last_image`` value that runs a job without a last frame (the workflow's last-frame loader is removed)."""
TRUE_WORDS = {"1", "true", "yes", "on", "with"}
FALSE_WORDS = {"0", "false", "no", "off", "without"}


@dataclass
class Job:
    """One valid row.

    Attributes:
        id: the job id (unique in the batch).
        line: the row's line in the jobs file (1-based; CSV rows count the header as line 1).
        values: field -> value to write into the workflow (file fields hold the local Path, uploaded later).
        lora: True/False when the row says (or implies by its strengths) whether LoRAs are on; None otherwise.
        pair: the ``pair`` label, or None.
        row: the row as read (strings for CSV), for reports.
    """

    id: str
    line: int
    values: dict[str, Any]
    lora: bool | None = None
    pair: str | None = None
    row: dict[str, Any] = field(default_factory=dict)


@dataclass
class RowError:
    """A row that cannot run: its ``line``, the ``field`` at fault (None for the whole row) and why."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self.message}"


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """Rows of a ``.csv`` or ``.jsonl``/``.ndjson`` file as (line, {field: value}), skipping blank lines.

    Empty CSV cells and JSON nulls are dropped (the workflow's value stays).

    Raises:
        ValueError: another file extension, or a CSV without a header.
    """
    suffix = path.suffix.lower()
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise ValueError(f"jobs file {str(path)!r} is empty: the first line must name the columns")
            header = [name.strip() for name in header]
            while True:
                start = reader.line_num + 1
                cells = next(reader, None)
                if cells is None:
                    break
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > len(header):
                    message = f"{len(cells)} cells but the header names {len(header)} columns"
                    errors.append(RowError(start, None, message))
                    continue
                rows.append((start, {name: cell.strip() for name, cell in zip(header, cells) if cell.strip()}))
        return rows, errors
    if suffix in (".jsonl", ".ndjson"):
        with open(path, encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as error:
                    errors.append(RowError(number, None, f"not JSON: {error.msg} at column {error.colno}"))
                    continue
                if not isinstance(row, dict):
                    errors.append(RowError(number, None, "a row must be a JSON object of field: value"))
                    continue
                rows.append((number, {key: value for key, value in row.items() if value is not None}))
        return rows, errors
    raise ValueError(f"jobs file {str(path)!r} has extension {suffix!r}: use .csv or .jsonl")


def convert(value: Any, kind: type) -> Any:
    """``value`` (a CSV string or a JSON value) as ``kind`` (int, float, bool or str).

    Raises:
        ValueError: the value is not of that type (a message saying which type was expected).
    """
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return str(value).strip().lower() in TRUE_WORDS
        raise ValueError(f"{value!r} is not a boolean: use true/false")
    if kind is int:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not an integer") from None
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
    if isinstance(value, (dict, list)):
        raise ValueError(f"{value!r} is not text")
    return str(value)


def default_id(row: dict[str, Any]) -> str:
    """``job-`` + 10 hex digits of the row's content: stable across runs and row order."""
    text = json.dumps({k: str(v) for k, v in row.items() if k != "id"}, sort_keys=True, ensure_ascii=False)
    return "job-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def _parse_row(row: dict[str, Any], base_dir: Path, field_map: FieldMap) -> tuple[dict[str, Any], bool | None]:
    """Values and LoRA flag of one row. Raises ``_FieldError`` (field + message) on the first bad field."""
    values: dict[str, Any] = {}
    build_prompt = not field_map.resolve("subject")  # else the workflow takes subject, direction... itself
    for name, raw in row.items():
        if name in CONTROL_FIELDS or (build_prompt and name in PROMPT_PARTS):
            continue
        try:
            targets = field_map.resolve(name)
        except ValueError as error:
            raise _FieldError(name, str(error)) from None
        if not targets and name in IMAGE_FIELDS:
            raise _FieldError(name, "the workflow has no input for it (no LoadImage linked into "
                              f"{'start_image' if name == 'first_image' else 'end_image'}; map one with --map)")
        if not targets:
            raise _FieldError(name, "unknown field: it matches no workflow input; name an input "
                              "(e.g. cfg or 12.steps), title a node [batch: field], or use --map field=node.input")
        if name == "last_image" and str(raw).strip().lower() == NO_IMAGE:
            reason = field_map.omit_blocker(name)
            if reason:
                raise _FieldError(name, f"'{NO_IMAGE}' cannot leave the last frame out: {reason}; give an image path")
            values[name] = None
            continue
        if field_map.is_upload(name):
            path = (base_dir / str(raw)).resolve()
            if not path.is_file():
                raise _FieldError(name, f"file {str(raw)!r} not found (looked at {path})")
            values[name] = path
            continue
        try:
            values[name] = convert(raw, field_map.kind(name))
        except ValueError as error:
            raise _FieldError(name, str(error)) from None
    if "first_image" not in values and field_map.resolve("first_image"):
        raise _FieldError("first_image", "missing: the workflow takes a first frame; give the image path")
    last_targets = field_map.resolve("last_image")
    if "last_image" not in values and last_targets:
        where = ", ".join(str(target) for target in last_targets)
        blocker = field_map.omit_blocker("last_image")
        how = (f"give the image path, or {NO_IMAGE} to run without a last frame" if blocker is None
               else f"give the image path (the workflow cannot run without it: {blocker})")
        raise _FieldError("last_image", f"missing: the workflow takes a last frame ({where}); {how}")
    parts = {name: str(row[name]) for name in PROMPT_PARTS if name in row}
    if parts and build_prompt:
        if "prompt" in row:
            raise _FieldError("subject", "give either prompt or subject (with direction ...), not both")
        if "subject" not in parts:
            raise _FieldError("subject", f"missing: {', '.join(parts)} build the orbit prompt around a subject")
        if not field_map.resolve("prompt"):
            raise _FieldError("subject", "the workflow has no prompt input (map one with --map prompt=node.text)")
        try:
            values["prompt"] = orbit_prompt(**parts)
        except ValueError as error:
            first_word = str(error).split()[0]
            raise _FieldError(first_word if first_word in PROMPT_PARTS else "subject", str(error)) from None
    lora = None
    if "lora" in row:
        try:
            lora = convert(row["lora"], bool)
        except ValueError as error:
            raise _FieldError("lora", str(error)) from None
        lora_targets = [name for name in LORA_FIELDS if field_map.resolve(name)]
        if not lora_targets:
            raise _FieldError("lora", "the workflow has no Circle-Rotate LoRA strength to switch (map lora_strength)")
        if not lora:
            for name in lora_targets:
                if values.get(name, 0.0) != 0.0:
                    raise _FieldError(name, f"lora is off but {name} is {values[name]}: leave it empty or 0")
                values[name] = 0.0
    elif any(name in values for name in LORA_FIELDS):
        lora = any(values[name] > 0 for name in LORA_FIELDS if name in values)
    return values, lora


class _FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def parse_jobs(path: Path, field_map: FieldMap) -> tuple[list[Job], list[RowError]]:
    """Read and check every row of the jobs file ``path``.

    Args:
        path: a ``.csv`` or ``.jsonl`` file.
        field_map: the workflow's mapping (decides which fields exist and their types).

    Returns:
        The valid jobs in file order, and one RowError per row that cannot run.

    Raises:
        ValueError: the file itself cannot be read as jobs (extension, empty CSV).
    """
    rows, errors = read_rows(path)
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            values, lora = _parse_row(row, path.parent, field_map)
        except _FieldError as error:
            errors.append(RowError(line, error.field, str(error)))
            continue
        job_id = str(row.get("id") or default_id(row))
        if not JOB_ID.match(job_id):
            message = f"{job_id!r} is not a folder-safe id: use letters, digits, '.', '_', '-'"
            errors.append(RowError(line, "id", message))
            continue
        if job_id in seen:
            errors.append(RowError(line, "id", f"{job_id!r} repeats the job on line {seen[job_id]}"))
            continue
        seen[job_id] = line
        pair = str(row["pair"]) if "pair" in row else None
        jobs.append(Job(job_id, line, values, lora, pair, row))
    errors.sort(key=lambda error: error.line)
    return jobs, errors
