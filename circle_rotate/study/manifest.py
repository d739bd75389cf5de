"""The base/LoRA pairs of a study: from a CSV manifest, two folders, or a ``circle-rotate batch`` run folder.

Every input is checked here, before any evaluation starts:

- a row (or pair) with a missing field, a path that does not exist, a masks file that is not a (T, H, W)
  ``.npz``, an unreadable conditioning image or a duplicate pair id is a :class:`RowProblem` naming its line and
  field, and is skipped; the other pairs go on;
- a video that exists but cannot be opened (``video.probe`` fails) keeps its pair (the study lists it under
  ``failed``, and the pair's other side still counts), with the reason in :attr:`Side.error`.

Sources:

- ``from_csv``: columns ``pair,base,lora`` and optional ``base_masks,lora_masks,first,last``; paths relative to
  the manifest's folder; empty optional cells mean "none". Masks not named are looked for by name beside the
  video (``<video stem>.masks.npz``, ``circle_rotate.masks.find_masks``).
- ``from_folders``: videos of the same file name in ``base_dir`` and ``lora_dir`` form a pair (the pair id is the
  name's stem); masks by name beside each video, or in ``masks_dir``. A video without a twin is a problem.
- ``from_batch_run``: the folder ``circle-rotate batch`` wrote; ``results.jsonl`` records with ``status`` done, a
  known ``lora`` and a ``pair_key`` form the pairs (the first video output of each job; its ``first_image`` /
  ``last_image`` as conditioning).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import video as video_io
from ..images import UNREADABLE
from ..masks import find_masks, load_masks

SIDES = ("base", "lora")
REQUIRED_COLUMNS = ("pair", "base", "lora")
OPTIONAL_COLUMNS = ("base_masks", "lora_masks", "first", "last")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".gif", ".webp")
PAIR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Side:
    """One video of a pair and what goes with it.

    Attributes:
        video: the video file or image folder.
        masks: its ``.npz`` subject masks, or None.
        first, last: the conditioning images it was generated from, or None.
        error: why the video cannot be evaluated (found while checking), or None.
    """

    video: Path
    masks: Path | None = None
    first: Path | None = None
    last: Path | None = None
    error: str | None = None


@dataclass(frozen=True)
class Pair:
    """A base/LoRA pair: ``id`` (letters, digits, ``._-``), ``line`` in its source (0 where there is none)."""

    id: str
    base: Side
    lora: Side
    line: int = 0

    def side(self, name: str) -> Side:
        """``base`` or ``lora``."""
        return self.base if name == "base" else self.lora


@dataclass(frozen=True)
class RowProblem:
    """A skipped row: its ``line`` (1-based; CSV counts the header as line 1; 0 where there is none), the
    ``field`` at fault (or "" for the whole row) and the ``error``."""

    line: int
    field: str
    error: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "pair"
        return f"{where}, field {self.field!r}: {self.error}" if self.field else f"{where}: {self.error}"


@dataclass
class PairSet:
    """The checked pairs and the skipped rows, in source order."""

    pairs: list[Pair] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    source: str = ""


class _RowError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _existing(path: Path, field_name: str, what: str) -> Path:
    if not path.exists():
        raise _RowError(field_name, f"{what} '{path}' does not exist: check the path (relative paths start at the manifest's folder)")
    return path


def _check_masks(path: Path, field_name: str) -> Path:
    _existing(path, field_name, "masks file")
    try:
        load_masks(path, field_name)
    except ValueError as error:
        raise _RowError(field_name, str(error)) from None
    return path


def _check_image(path: Path, field_name: str) -> Path:
    from PIL import Image

    _existing(path, field_name, "image")
    try:
        with Image.open(path) as image:
            image.verify()
    except UNREADABLE as error:
        raise _RowError(field_name, f"image '{path}' is not readable ({error}): give a png, jpg or webp file") from None
    return path


def _side(video: Path, masks: Path | None, first: Path | None, last: Path | None, name: str, masks_dir: Path | None) -> Side:
    """A checked side; raises _RowError for what makes the row unusable."""
    _existing(video, name, "video")
    if masks is not None:
        _check_masks(masks, f"{name}_masks")
    else:
        found = find_masks(video, masks_dir)
        masks = _check_masks(found, f"{name}_masks") if found is not None else None
    error = None
    try:
        video_io.probe(video)
    except ValueError as problem:
        error = str(problem)
    return Side(video, masks, first, last, error)


def _check_pair_id(pair_id: str, seen: set[str]) -> None:
    if not PAIR_ID.match(pair_id):
        raise _RowError("pair", f"pair id {pair_id!r} must be letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit")
    if pair_id in seen:
        raise _RowError("pair", f"pair id {pair_id!r} is used twice: give every pair its own id")


def from_csv(manifest: str | Path, masks_dir: str | Path | None = None) -> PairSet:
    """Pairs from a CSV manifest (see the module docstring).

    Args:
        manifest: the CSV file.
        masks_dir: where masks not named in the manifest are looked for (default: beside each video).

    Returns:
        The checked pairs and the problems of skipped rows.

    Raises:
        ValueError: the manifest is missing, unreadable, or lacks a required column.
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise ValueError(f"--pairs '{manifest}' does not exist: give a CSV with columns {','.join(REQUIRED_COLUMNS)}")
    root = manifest.parent
    masks_dir = Path(masks_dir) if masks_dir is not None else None
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise ValueError(
                f"--pairs '{manifest}' lacks the column(s) {', '.join(missing)}: the header must name "
                f"{','.join(REQUIRED_COLUMNS)} (optional: {','.join(OPTIONAL_COLUMNS)})"
            )
        unknown = [name for name in columns if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        if unknown:
            raise ValueError(f"--pairs '{manifest}' has unknown column(s) {', '.join(unknown)}: use {','.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}")
        rows = [({(k or "").strip(): (v or "").strip() for k, v in row.items()}, reader.line_num) for row in reader]
    result = PairSet(source=str(manifest))
    seen: set[str] = set()
    for row, line in rows:
        try:
            result.pairs.append(_csv_pair(row, line, root, masks_dir, seen))
            seen.add(result.pairs[-1].id)
        except _RowError as error:
            result.problems.append(RowProblem(line, error.field, str(error)))
    return result


def _csv_pair(row: dict[str, str], line: int, root: Path, masks_dir: Path | None, seen: set[str]) -> Pair:
    def path(name: str) -> Path | None:
        return root / row[name] if row.get(name) else None

    for name in REQUIRED_COLUMNS:
        if not row.get(name):
            raise _RowError(name, f"'{name}' is empty: every row needs pair, base and lora")
    _check_pair_id(row["pair"], seen)
    first = _check_image(path("first"), "first") if row.get("first") else None
    last = _check_image(path("last"), "last") if row.get("last") else None
    sides = {name: _side(path(name), path(f"{name}_masks"), first, last, name, masks_dir) for name in SIDES}
    return Pair(row["pair"], sides["base"], sides["lora"], line)


def _videos(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES}


def from_folders(base_dir: str | Path, lora_dir: str | Path, masks_dir: str | Path | None = None) -> PairSet:
    """Pairs of same-named videos in ``base_dir`` and ``lora_dir`` (see the module docstring).

    Raises:
        ValueError: a folder is missing or the two share no video name.
    """
    base_dir, lora_dir = Path(base_dir), Path(lora_dir)
    for option, folder in (("--base", base_dir), ("--lora", lora_dir)):
        if not folder.is_dir():
            raise ValueError(f"{option} '{folder}' is not a folder: give the folder holding the {option[2:]} videos")
    base, lora = _videos(base_dir), _videos(lora_dir)
    common = sorted(set(base) & set(lora))
    if not common:
        raise ValueError(f"--base '{base_dir}' and --lora '{lora_dir}' share no video file name: name each pair's two videos alike")
    result = PairSet(source=f"{base_dir} | {lora_dir}")
    for name in sorted(set(base) ^ set(lora)):
        where, other = ("--base", "--lora") if name in base else ("--lora", "--base")
        result.problems.append(RowProblem(0, where[2:], f"'{name}' is in {where} but not in {other}: it has no twin and is left out"))
    masks_folder = Path(masks_dir) if masks_dir is not None else None
    seen: set[str] = set()
    for name in common:
        pair_id = Path(name).stem
        try:
            _check_pair_id(pair_id, seen)
            sides = {side: _side(folder[name], None, None, None, side, masks_folder) for side, folder in (("base", base), ("lora", lora))}
            result.pairs.append(Pair(pair_id, sides["base"], sides["lora"]))
            seen.add(pair_id)
        except _RowError as error:
            result.problems.append(RowProblem(0, error.field, f"{name}: {error}"))
    return result


def _job_video(run_dir: Path, outputs: Iterable[str]) -> Path | None:
    for output in outputs:
        if Path(output).suffix.lower() in VIDEO_SUFFIXES:
            return run_dir / output
    return None


def from_batch_run(run_dir: str | Path, masks_dir: str | Path | None = None) -> PairSet:
    """The with/without-LoRA pairs of a ``circle-rotate batch`` output folder (see the module docstring).

    Raises:
        ValueError: the folder has no ``results.jsonl`` (the batch has not finished writing its results) or
            it holds no with/without-LoRA pair.
    """
    run_dir = Path(run_dir)
    results = run_dir / "results.jsonl"
    if not results.is_file():
        raise ValueError(f"--batch-run '{run_dir}' holds no results.jsonl: give the --out folder of a finished `circle-rotate batch` run")
    records = [(number, json.loads(text)) for number, text in enumerate(results.read_text(encoding="utf-8").splitlines(), 1) if text.strip()]
    groups: dict[str, dict[str, tuple[int, dict]]] = {}
    result = PairSet(source=str(results))
    for number, record in records:
        if record.get("lora") is None or not record.get("pair_key"):
            continue
        if record.get("status") != "done":
            result.problems.append(RowProblem(number, "status", f"job {record.get('id')!r} is {record.get('status')!r}, not done: its pair is left out"))
            continue
        side = "lora" if record["lora"] else "base"
        group = groups.setdefault(str(record["pair_key"]), {})
        if side in group:
            result.problems.append(RowProblem(number, "pair", f"pair {record['pair_key']!r} has a second {side} job {record.get('id')!r}: only the first is used"))
            continue
        group[side] = (number, record)
    masks_folder = Path(masks_dir) if masks_dir is not None else None
    seen: set[str] = set()
    for pair_key, group in groups.items():
        try:
            result.pairs.append(_batch_pair(run_dir, pair_key, group, masks_folder, seen))
            seen.add(result.pairs[-1].id)
        except _RowError as error:
            line = min(number for number, _ in group.values())
            result.problems.append(RowProblem(line, error.field, f"pair {pair_key!r}: {error}"))
    if not result.pairs and not result.problems:
        raise ValueError(f"--batch-run '{run_dir}' has no with/without-LoRA jobs: its jobs need 'lora' on/off (or strengths) and a 'pair' label")
    return result


def _batch_pair(run_dir: Path, pair_key: str, group: dict[str, tuple[int, dict]], masks_dir: Path | None, seen: set[str]) -> Pair:
    missing = [side for side in SIDES if side not in group]
    if missing:
        raise _RowError("lora", f"no {'with' if missing[0] == 'lora' else 'without'}-LoRA job finished for this pair")
    pair_id = re.sub(r"[^A-Za-z0-9._-]", "_", pair_key)[:128].lstrip("._-") or "pair"
    _check_pair_id(pair_id, seen)
    sides = {}
    for side in SIDES:
        _, record = group[side]
        video = _job_video(run_dir, record.get("outputs") or [])
        if video is None:
            raise _RowError(side, f"job {record.get('id')!r} has no video among its outputs {record.get('outputs')}: the workflow must save the video")
        values = record.get("values") or {}
        images = {name: Path(values[name]) for name in ("first_image", "last_image") if values.get(name) and Path(values[name]).is_file()}
        sides[side] = _side(video, None, images.get("first_image"), images.get("last_image"), side, masks_dir)
    return Pair(pair_id, sides["base"], sides["lora"], min(number for number, _ in group.values()))

