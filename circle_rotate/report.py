"""The evaluation report: its layout, the original-compatible view, JSON/CSV writers and A/B comparison.

A report is a JSON-ready dict:

- ``video`` (source path), ``frames`` (frames analysed), ``total_frames``, ``width``, ``height``, ``fps``,
  ``repeated_frames`` (frames identical to their predecessor, see ``video.py``);
- one object per family, None when it was not run or failed: ``subject_drift`` (``metrics/drift.py``),
  ``clip_i`` (``metrics/clip_i.py``), ``fidelity`` (``metrics/fidelity.py``), ``subject_consistency``
  (``metrics/consistency.py``), ``motion`` (``metrics/motion.py``), ``orbit`` (``metrics/orbit.py``);
- ``upstream``: exactly the keys of the original ``scripts/eval_all.py`` output (Jklaity/Circle-Rotate), with
  their meanings (a family is None where the original stored None after an error):

  - ``subject_drift``: ``subject_flow`` (mean Farneback magnitude inside the subject mask between consecutive
    sampled frames, px; -1 when no mask), ``global_flow`` (same over the whole frame, px; -1 with fewer than 2
    frames), ``drift`` (sqrt(std(cx)^2 + std(cy)^2) of the mask centres, px, NOT px/frame; -1 with fewer than 2);
  - ``clip_i``: ``first_last``, ``global_avg`` (includes frame 0), ``frame_acc``: CLIP cosines;
  - ``fidelity``: ``psnr`` (dB; None for identical frames where the original wrote Infinity), ``ssim``,
    ``lpips`` (None with --no-lpips): generated first frame vs generated last frame;
  - ``vbench_sc``: subject consistency on the sampled frames with Resize(256) + CenterCrop(224) (a float);
  - ``motion``: ``motion_magnitude`` (mean Farneback magnitude over all consecutive frames, px/frame) and
    ``dynamic_degree`` (the frame-difference ratio |gray diff| > 10, NOT VBench's dynamic degree).
- ``errors``: metric name -> message for what could not be computed.

Non-finite floats are written as null so the files are strict JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FAMILIES = ("subject_drift", "clip_i", "fidelity", "subject_consistency", "motion", "orbit")


def _or(value: Any, default: float) -> Any:
    return default if value is None else value


def upstream_view(results: Mapping[str, Any]) -> dict:
    """The original ``eval_all.py`` output computed from our family results (see the module docstring)."""
    drift, clip_i, fidelity = results.get("subject_drift"), results.get("clip_i"), results.get("fidelity")
    consistency, motion = results.get("subject_consistency"), results.get("motion")
    return {
        "subject_drift": None
        if drift is None
        else {
            "subject_flow": _or(drift["subject_flow"], -1.0),
            "global_flow": _or(drift["global_flow"], -1.0),
            "drift": drift["upstream_drift"],
        },
        "clip_i": None if clip_i is None else {k: clip_i[k] for k in ("first_last", "global_avg", "frame_acc")},
        "fidelity": None if fidelity is None else dict(fidelity["first_last"]),
        "vbench_sc": None if consistency is None else consistency["upstream"],
        "motion": None
        if motion is None
        else {"motion_magnitude": motion["motion_magnitude"], "dynamic_degree": motion["frame_diff_ratio"]},
    }


def build_report(clip: Any, results: Mapping[str, Any], errors: Mapping[str, str]) -> dict:
    """The report of one evaluated clip.

    Args:
        clip: the ``video.Clip`` that was analysed.
        results: family name -> result dict (or None) as returned by the metric functions.
        errors: metric name -> message.

    Returns:
        The report dict (see the module docstring).
    """
    report: dict[str, Any] = {
        "video": clip.source,
        "frames": int(len(clip.frames)),
        "total_frames": int(clip.total_frames),
        "width": clip.width,
        "height": clip.height,
        "fps": float(clip.fps),
        "repeated_frames": clip.repeated_frames,
    }
    for family in FAMILIES:
        report[family] = results.get(family)
    report["upstream"] = upstream_view(results)
    report["errors"] = dict(errors)
    return report


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (at any depth) replaced by None: strict JSON has no NaN/Infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def to_json(reports: Sequence[dict]) -> str:
    """One report as an object, several as a list; strict JSON (non-finite numbers become null)."""
    payload = reports[0] if len(reports) == 1 else list(reports)
    return json.dumps(finite(payload), indent=2, allow_nan=False)


def write_json(reports: Sequence[dict], path: str | Path) -> None:
    """Write :func:`to_json` to ``path``."""
    Path(path).write_text(to_json(reports) + "\n", encoding="utf-8")


def flatten(report: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalar leaves of a report under dotted names (``subject_drift.speed_px_per_frame``); lists (per-frame
    values) are left out, None stays None."""
    flat: dict[str, Any] = {}
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif not isinstance(value, (list, tuple)):
            flat[name] = finite(value)
    return flat


def write_csv(reports: Sequence[dict], path: str | Path) -> None:
    """One row per report; columns are the union of the flattened names in first-seen order; empty cells for
    None or absent values."""
    rows = [flatten(report) for report in reports]
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def compare(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> dict[str, dict]:
    """A/B comparison of two reports (e.g. base model vs LoRA) on every numeric value both have.

    Returns:
        dotted name -> ``{"a": baseline, "b": candidate, "change": b - a, "relative_percent": 100 * (b - a) / |a|
        (None when a is 0)}``; a drift reduction of 15% shows as relative_percent -15.
    """
    a, b = flatten(baseline), flatten(candidate)
    result: dict[str, dict] = {}
    for name, x in a.items():
        y = b.get(name)
        if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
            continue
        result[name] = {"a": x, "b": y, "change": y - x, "relative_percent": None if x == 0 else 100.0 * (y - x) / abs(x)}
    return result
