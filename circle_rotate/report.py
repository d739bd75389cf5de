"""The evaluation report: its layout, the original-compatible view, JSON/CSV writers and A/B comparison.

A report is a JSON-ready dict:

- ``video`` (source path), ``frames`` (frames analysed), ``total_frames``, ``width``, ``height``, ``fps``,
  ``repeated_frames`` (frames that repeat their predecessor, see ``repeats.py``);
- one object per family, None when it was not run or failed: ``subject_drift`` (``metrics/drift.py``),
  ``clip_i`` (``metrics/clip_i.py``), ``fidelity`` (``metrics/fidelity.py``), ``subject_consistency``
  (``metrics/consistency.py``), ``motion`` (``metrics/motion.py``), ``orbit`` (``metrics/orbit.py``),
  ``colour`` (``metrics/colour.py``: CIEDE2000 colour drift);
- ``upstream``: exactly the keys of the original ``scripts/eval_all.py`` output (Jklaity/Circle-Rotate), with
  their meanings (a family is None where the original stored None after an error), computed on the original's
  sampled frames: for a video shorter than ``num_frames`` its linspace repeats frames, and the values come from
  the ``upstream_sampling`` object of ``subject_drift``, ``clip_i`` and ``subject_consistency`` (those frames,
  repeats included; ``UPSTREAM_SAMPLING``), with a sentence in ``notes``:

  - ``subject_drift``: ``subject_flow`` (mean Farneback magnitude inside the subject mask between consecutive
    sampled frames, px; -1 when no mask), ``global_flow`` (same over the whole frame, px; -1 with fewer than 2
    frames), ``drift`` (sqrt(std(cx)^2 + std(cy)^2) of the mask centres, px, NOT px/frame; -1 with fewer than 2);
    with detected masks, these come from the original's detector rule: ``subject_drift.original_rule`` (computed
    by the suite when the chosen rule differs; None if that failed), while ``subject_drift`` keeps the chosen rule's;
  - ``clip_i``: ``first_last``, ``global_avg`` (includes frame 0), ``frame_acc``: CLIP cosines;
  - ``fidelity``: ``psnr`` (dB; None for identical frames where the original wrote Infinity), ``ssim``,
    ``lpips`` (None with --no-lpips): generated first frame vs generated last frame;
  - ``vbench_sc``: subject consistency on the sampled frames with Resize(256) + CenterCrop(224) (a float);
  - ``motion``: ``motion_magnitude`` (mean Farneback magnitude over all consecutive frames, px/frame) and
    ``dynamic_degree`` (the frame-difference ratio |gray diff| > 10, NOT VBench's dynamic degree).
- ``masks_source``: where the subject masks came from: "given" (the caller's masks; the CLI says more precisely:
  "--masks", "beside the video", "masks dir"), "segmented" (detector + segmenter), or None (drift not run);
- ``notes``: sentences explaining values that would otherwise mislead (the original's -1 sentinels, the
  detector rule of ``upstream.subject_drift``, the original's sampling repeating frames);
- ``decode_warning``: a sentence when decoding ended before the frames the container declares (the file may be
  cut; ``video.Clip.decode_warning``), else None;
- ``errors``: metric name -> message for what was asked for but could not be computed;
- ``skipped``: metric name -> reason for what was not computed on purpose (a family not asked for, a model
  turned off such as ``--no-raft`` / ``--no-lpips``). A null value is always explained by one of the two.

The CSV (``write_csv``) has one column per scalar, lists of strings (``orbit.notes``, ``notes``) joined with
" | ", and leaves out per-frame lists and the constant ``thresholds`` objects (those stay in the JSON).

Non-finite floats are written as null so the files are strict JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FAMILIES = ("subject_drift", "clip_i", "fidelity", "subject_consistency", "motion", "orbit", "colour")
ORIGINAL_RULE = "original_rule"
"""Key, inside the subject_drift result, of its values under the original's detector rule (when that differs):
``subject_flow``, ``global_flow``, ``upstream_drift``, ``detection_rate``, ``detected``."""
UPSTREAM_SAMPLING = "upstream_sampling"
"""Key, inside the subject_drift, clip_i and subject_consistency results, of their ``upstream`` values computed on
the original's sampled frames when that sampling repeats frames (a video shorter than ``num_frames``: the
original's ``np.linspace(0, T - 1, num_frames).astype(int)`` repeats some, ours keeps each frame once, see
``video.upstream_sample_indices``). The upstream view uses them; the families' own values stay on our frames."""
CSV_LEFT_OUT = ("thresholds",)
"""Keys whose objects the CSV leaves out: constants of the method, the same in every row (kept in the JSON)."""


def _or(value: Any, default: float) -> Any:
    return default if value is None else value


def _original_rule_drift(results: Mapping[str, Any]) -> Mapping[str, Any] | None:
    drift = results.get("subject_drift")
    if drift is not None and UPSTREAM_SAMPLING in drift:  # the original's frames (and rule, see suite._drift)
        return drift[UPSTREAM_SAMPLING]
    return drift[ORIGINAL_RULE] if drift is not None and ORIGINAL_RULE in drift else drift


def _on_original_frames(result: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return result[UPSTREAM_SAMPLING] if result is not None and UPSTREAM_SAMPLING in result else result


def upstream_view(results: Mapping[str, Any]) -> dict:
    """The original ``eval_all.py`` output computed from our family results (see the module docstring)."""
    drift = _original_rule_drift(results)
    clip_i, fidelity = _on_original_frames(results.get("clip_i")), results.get("fidelity")
    consistency, motion = _on_original_frames(results.get("subject_consistency")), results.get("motion")
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


def upstream_notes(results: Mapping[str, Any], upstream: Mapping[str, Any]) -> list[str]:
    """Sentences explaining the ``upstream`` object's detector rule and -1 sentinels (empty when none applies)."""
    notes = []
    if ORIGINAL_RULE in (results.get("subject_drift") or {}):
        notes.append(
            "upstream.subject_drift uses the original's detector rule ('upstream': the most confident car/bus/truck, "
            "else the largest box), as eval_all.py; subject_drift uses the chosen rule"
        )
    values = upstream.get("subject_drift")
    source = _original_rule_drift(results)
    if values is None or source is None:
        return notes
    found = sum(bool(d) for d in source.get("detected", []))
    if values["drift"] == -1.0:
        notes.append(
            f"upstream.subject_drift.drift is -1.0, the original's value when fewer than 2 frames have a subject "
            f"centre ({found} of {len(source.get('detected', []))} sampled frames had one); it is not a distance"
        )
    if values["subject_flow"] == -1.0:
        notes.append("upstream.subject_drift.subject_flow is -1.0, the original's value when no frame pair has a subject mask")
    return notes


def sampling_notes(clip: Any) -> list[str]:
    """A sentence when the original's frame sampling repeats frames of this clip (see ``UPSTREAM_SAMPLING``)."""
    repeats = getattr(clip, "upstream_repeats", 0)
    if not repeats:
        return []
    indices = [int(i) for i in clip.upstream_indices]
    return [
        f"the original samples {len(indices)} frames of this {clip.total_frames}-frame video by np.linspace(0, "
        f"{clip.total_frames - 1}, {len(indices)}).astype(int), which repeats {repeats} of them ({indices}): the upstream "
        "values are computed on exactly those frames, as eval_all.py; subject_drift, clip_i and subject_consistency "
        "use each frame once"
    ]


def build_report(
    clip: Any,
    results: Mapping[str, Any],
    errors: Mapping[str, str],
    skipped: Mapping[str, str] | None = None,
    masks_source: str | None = None,
) -> dict:
    """The report of one evaluated clip.

    Args:
        clip: the ``video.Clip`` that was analysed.
        results: family name -> result dict (or None) as returned by the metric functions.
        errors: metric name -> message (asked for, failed).
        skipped: metric name -> reason (not computed on purpose).
        masks_source: where the masks came from (see the module docstring).

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
    report["masks_source"] = masks_source
    report["notes"] = upstream_notes(results, report["upstream"]) + sampling_notes(clip)
    report["decode_warning"] = getattr(clip, "decode_warning", None)
    report["errors"] = dict(errors)
    report["skipped"] = dict(skipped or {})
    return report


def failed_report(source: str, message: str) -> dict:
    """The report of a video that could not be evaluated at all: the keys of :func:`build_report`, every value
    None (empty ``notes``/``skipped``), and ``errors`` = {"video": message}."""
    report: dict[str, Any] = dict.fromkeys(("frames", "total_frames", "width", "height", "fps", "repeated_frames"))
    report = {"video": source, **report, **dict.fromkeys(FAMILIES)}
    report.update(upstream=None, masks_source=None, notes=[], decode_warning=None, errors={"video": message}, skipped={})
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


def csv_row(report: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The CSV cells of one report: as :func:`flatten`, but lists of strings (notes) are joined with " | " and
    the ``CSV_LEFT_OUT`` objects are left out."""
    row: dict[str, Any] = {}
    for key, value in report.items():
        name = f"{prefix}{key}"
        if key in CSV_LEFT_OUT:
            continue
        if isinstance(value, Mapping):
            row.update(csv_row(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            if value and all(isinstance(item, str) for item in value):
                row[name] = " | ".join(value)
            elif key == "notes":
                row[name] = ""
        else:
            row[name] = finite(value)
    return row


def write_csv(reports: Sequence[dict], path: str | Path) -> None:
    """One row per report (:func:`csv_row`); columns are the union of the names in first-seen order; empty
    cells for None or absent values."""
    rows = [csv_row(report) for report in reports]
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
