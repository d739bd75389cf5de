"""Report and A/B nodes: merge metric results, save them as JSON/CSV in ComfyUI's output folder, show them in the UI.

The UI payloads (``ui`` of the executed message, read by ``web/js/circle_rotate_report.js``):

- report node: ``{"circle_rotate_report": [{"title", "table": [{"family", "metric", "value"}], "errors",
  "series": {"width", "height", "indices", "centroids", "drift_px", "similarity": {name: [..]}, "yaw_deg",
  "parallax", "look_at_deg", "colour_delta_e": {"colour": [..], "pixels": [..]}}, "files": [{"filename", "subfolder",
  "type"}]}]}`` (``colour_delta_e``: the colour family's per-frame CIEDE2000 against the first frame, of the mean
  colour and per pixel)
- A/B node: ``{"circle_rotate_ab": [{"label_a", "label_b", "rows": [{"metric", "a", "b", "change",
  "relative_percent"}], "highlights": [...], "files": [...]}]}``
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from comfy_api.latest import io

from ..circle_rotate import report as core_report
from . import routes
from .types import Metrics

CATEGORY = "CircleRotate/metrics"
HEADER_KEYS = ("video", "frames", "total_frames", "width", "height", "fps", "repeated_frames")
SAME_VIDEO_KEYS = ("total_frames", "width", "height")
HIGHLIGHTS = (
    ("subject_drift.speed_px_per_frame", "subject drift speed"),
    ("subject_drift.drift_std_px", "subject drift std"),
    ("subject_drift.subject_flow", "subject flow"),
    ("clip_i.frame_acc", "CLIP-I consecutive"),
    ("subject_consistency.vbench", "subject consistency (VBench)"),
    ("orbit.parallax_index", "parallax index"),
    ("orbit.look_at_stability_deg", "look-at stability"),
    ("colour.mean_delta_e_colour", "colour drift (CIEDE2000)"),
)


def _family(metric: str) -> str:
    return metric.split(".", 1)[0]


def merge_reports(reports: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None) -> dict:
    """One report from several results of the same video (e.g. one per family node).

    ``names`` are the inputs the reports came in on, for error messages (default metrics, metrics_2, ...). Each family is taken from the first report that has it; errors and skipped metrics are kept for the families whose
    result came from the same report, or that no report has. The ``upstream`` view is rebuilt from the merged
    families; ``notes`` are the union of the reports' notes in order, ``masks_source`` and ``decode_warning`` the
    first given.

    Raises:
        ValueError: the reports come from videos of different size or length.
    """
    names = list(names or ["metrics", *(f"metrics_{i}" for i in range(2, len(reports) + 1))])
    first = reports[0]
    for name, other in zip(names[1:], reports[1:]):
        for key in SAME_VIDEO_KEYS:
            if other.get(key) != first.get(key):
                raise ValueError(
                    f"{name} comes from another video ({key} {other.get(key)} vs {first.get(key)} of "
                    f"{names[0]}): connect results of the same frames, or compare two videos with the A/B node"
                )
    merged: dict[str, Any] = {key: first.get(key) for key in HEADER_KEYS}
    source: dict[str, int] = {}
    for family in core_report.FAMILIES:
        merged[family] = None
        for position, candidate in enumerate(reports):
            if candidate.get(family) is not None:
                merged[family], source[family] = candidate[family], position
                break
    merged["upstream"] = core_report.upstream_view(merged)
    merged["errors"] = _entries_of_merged_families(reports, "errors", source)
    merged["skipped"] = _entries_of_merged_families(reports, "skipped", source)
    merged["masks_source"] = next((r["masks_source"] for r in reports if r.get("masks_source")), None)
    merged["decode_warning"] = next((r["decode_warning"] for r in reports if r.get("decode_warning")), None)
    merged["notes"] = list(dict.fromkeys(note for candidate in reports for note in candidate.get("notes") or []))
    return merged


def _entries_of_merged_families(reports: Sequence[Mapping[str, Any]], key: str, source: Mapping[str, int]) -> dict[str, str]:
    """The ``key`` entries (metric -> message) of every report, kept only where the metric's family result came from
    that report (``source``: family -> report position) or from none; the first report naming a metric wins."""
    entries: dict[str, str] = {}
    for position, candidate in enumerate(reports):
        for metric, message in (candidate.get(key) or {}).items():
            if source.get(_family(metric), position) == position and metric not in entries:
                entries[metric] = message
    return entries


def table_rows(report: Mapping[str, Any]) -> list[dict]:
    """Scalar results of the metric families as ``{"family", "metric", "value"}`` rows (per-frame lists left out)."""
    rows = []
    for family in core_report.FAMILIES:
        result = report.get(family)
        if not isinstance(result, Mapping):
            continue
        for name, value in core_report.flatten(result).items():
            rows.append({"family": family, "metric": name, "value": core_report.finite(value)})
    return rows


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and len(values) >= 2 and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values
    )


def plot_series(report: Mapping[str, Any]) -> dict:
    """The per-frame series the web extension plots (missing families give empty series)."""
    drift = report.get("subject_drift") or {}
    centroids = drift.get("centroids") or []
    start = next((c for c in centroids if c is not None), None)
    drift_px = [None if c is None or start is None else math.hypot(c[0] - start[0], c[1] - start[1]) for c in centroids]
    similarity = {}
    for family in ("clip_i", "subject_consistency"):
        for name, values in (report.get(family) or {}).items():
            if _numbers(values):
                similarity[f"{family}.{name}"] = values
    orbit = report.get("orbit") or {}
    colour = report.get("colour") or {}
    return {
        "width": report.get("width"),
        "height": report.get("height"),
        "indices": drift.get("indices") or [],
        "centroids": centroids,
        "drift_px": drift_px,
        "similarity": similarity,
        "yaw_deg": orbit.get("yaw_track_deg") if _numbers(orbit.get("yaw_track_deg")) else [],
        "parallax": orbit.get("parallax_track") if _numbers(orbit.get("parallax_track")) else [],
        "look_at_deg": orbit.get("look_at_track_deg") if _numbers(orbit.get("look_at_track_deg")) else [],
        "colour_delta_e": {
            key: colour[f"delta_e_{key}"] for key in ("colour", "pixels") if _numbers(colour.get(f"delta_e_{key}"))
        },
    }


def _save(prefix: str, stem_suffix: str, write_json: Callable[[Path], None], write_csv: Callable[[Path], None]) -> list[dict]:
    """Write ``<prefix>_NNNNN_<suffix>.json/.csv`` in the output folder; returns their UI file entries."""
    import folder_paths

    folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(prefix, folder_paths.get_output_directory())
    Path(folder).mkdir(parents=True, exist_ok=True)
    stem = f"{filename}_{counter:05}_{stem_suffix}"
    write_json(Path(folder) / f"{stem}.json")
    write_csv(Path(folder) / f"{stem}.csv")
    return [{"filename": f"{stem}{suffix}", "subfolder": subfolder, "type": "output"} for suffix in (".json", ".csv")]


def _prefix_input(default: str) -> io.Input:
    return io.String.Input(
        "filename_prefix", default=default,
        tooltip="Where to save the JSON and CSV in ComfyUI's output folder (a prefix; a counter is appended).",
    )


class Report(io.ComfyNode):
    """Merges metric results of one video, saves them as JSON and CSV, and shows a table and plots."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateReport",
            display_name="Metrics Report (Circle Rotate)",
            category=CATEGORY,
            description="Merges the results of the metric nodes for one video (each family from the first input "
            "that has it), saves the report as JSON (with the original eval_all.py view under 'upstream') and CSV "
            "in the output folder, and shows a table with plots: the subject's centroid track, per-frame drift, "
            "similarity curves, the orbit's yaw track and the colour drift (CIEDE2000 against the first frame).",
            inputs=[
                Metrics.Input("metrics", tooltip="Results of the evaluate node or of a metric family node."),
                Metrics.Input("metrics_2", optional=True, tooltip="More results of the same video (another family node)."),
                Metrics.Input("metrics_3", optional=True, tooltip="More results of the same video."),
                Metrics.Input("metrics_4", optional=True, tooltip="More results of the same video."),
                _prefix_input("circle_rotate/report"),
                io.String.Input("title", default="", tooltip="Heading of the table in the UI (e.g. the video's name); empty = the report's source."),
            ],
            outputs=[Metrics.Output("report", tooltip="The merged report, e.g. for the A/B node.")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, metrics: dict, filename_prefix: str, title: str, **more: dict | None) -> io.NodeOutput:
        named = [("metrics", metrics), *((name, more[name]) for name in ("metrics_2", "metrics_3", "metrics_4") if more.get(name) is not None)]
        merged = merge_reports([report for _, report in named], [name for name, _ in named])
        files = _save(
            filename_prefix, "report",
            lambda path: core_report.write_json([merged], path), lambda path: core_report.write_csv([merged], path),
        )
        payload = {
            "title": title or str(merged.get("video") or ""),
            "header": {key: merged.get(key) for key in HEADER_KEYS},
            "table": table_rows(merged),
            "errors": merged["errors"],
            "series": plot_series(merged),
            "files": files,
            "route": routes.ROUTE,
        }
        return io.NodeOutput(merged, ui={"circle_rotate_report": [core_report.finite(payload)]})


def ab_rows(baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[dict]:
    """``report.compare`` of the metric families as rows (header fields and the upstream duplicate left out)."""
    rows = []
    for metric, values in core_report.compare(baseline, candidate).items():
        if _family(metric) in core_report.FAMILIES:
            rows.append({"metric": metric, **core_report.finite(values)})
    return rows


def ab_highlights(rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The headline changes (e.g. subject drift speed: -15.1 %) for the metrics both reports have."""
    by_metric = {row["metric"]: row for row in rows}
    return [
        {"metric": metric, "label": label, "relative_percent": by_metric[metric]["relative_percent"]}
        for metric, label in HIGHLIGHTS
        if metric in by_metric
    ]


class ABCompare(io.ComfyNode):
    """Side-by-side comparison of two reports with the relative change of every metric."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateABCompare",
            display_name="A/B Compare (Circle Rotate)",
            category=CATEGORY,
            description="Compares two reports (e.g. the same inputs and seed without and with the Circle-Rotate "
            "LoRAs): every metric both have, with B - A and the relative change 100 * (B - A) / |A| (a subject drift "
            "reduction of 15% shows as -15%). Saves the comparison as JSON and CSV and shows a side-by-side table.",
            inputs=[
                Metrics.Input("metrics_a", tooltip="Report A, the baseline (e.g. without the LoRAs)."),
                Metrics.Input("metrics_b", tooltip="Report B, the candidate (e.g. with the LoRAs)."),
                io.String.Input("label_a", default="without LoRA", tooltip="Name of A in the table."),
                io.String.Input("label_b", default="with LoRA", tooltip="Name of B in the table."),
                _prefix_input("circle_rotate/ab"),
            ],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, metrics_a: dict, metrics_b: dict, label_a: str, label_b: str, filename_prefix: str) -> io.NodeOutput:
        rows = ab_rows(metrics_a, metrics_b)
        comparison = {"label_a": label_a, "label_b": label_b, "rows": rows, "highlights": ab_highlights(rows)}

        def write_json(path: Path) -> None:
            path.write_text(json.dumps(comparison, indent=2, allow_nan=False) + "\n", encoding="utf-8")

        def write_csv(path: Path) -> None:
            core_report.write_csv([{**row, "label_a": label_a, "label_b": label_b} for row in rows] or [{}], path)

        files = _save(filename_prefix, "ab", write_json, write_csv)
        return io.NodeOutput(ui={"circle_rotate_ab": [core_report.finite({**comparison, "files": files, "route": routes.ROUTE})]})


routes.register()

NODES: list[type[io.ComfyNode]] = [Report, ABCompare]
