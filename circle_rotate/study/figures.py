"""The study's figures (matplotlib, Agg, PNG): what the numbers look like.

Written by :func:`write_figures` into one folder, with deterministic names (characters other than letters,
digits, ``.``, ``-`` and ``_`` in a pair id or metric path become ``_``):

- ``metric_<dotted path>.png``, per reported metric: the paired plot (one line per pair, base to LoRA, green
  where the LoRA is better) and the distribution of the paired changes with the median, its 95% bootstrap CI
  and, for pixel centroid metrics, the mask noise floor;
- ``pair_<id>_tracks.png``, per pair: the subject's centroid track drawn over the first frame of each video,
  and both videos' orbit yaw tracks (``orbit.yaw_track_deg``) against the original frame index;
- ``flow_<id>_<side>.png``, per video: the first-vs-last optical-flow heatmap the original project draws
  (``scripts/vis_optical_flow.py``): the Farneback magnitude from the first to the last frame (``metrics/flow.py``,
  the original's parameters 0.5, 3, 15, 3, 5, 1.2, 0), jet colour map, its mean in the caption.

Every figure carries its caption twice: drawn under the plot, and in the PNG's ``Description`` text chunk (which
``html.py`` reads). Figures are built as ``matplotlib.figure.Figure`` objects, never through pyplot, so no global
figure state is created or leaked.
"""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import video
from ..metrics.flow import farneback_magnitude, to_gray
from .noise import PIXEL_CENTROID_METRICS
from .summary import SIDES, paired_values
from .tables import metric_label, number

log = logging.getLogger(__name__)

DEFAULT_MAX_PAIRS = 24  # pairs that get track and flow figures (a study of thousands would otherwise write thousands)
BETTER, WORSE, SAME = "#2ca02c", "#d62728", "#7f7f7f"
DPI = 100
FRAME_HEIGHT = 3.4  # inches of a panel that shows a video frame


def safe_name(text: str) -> str:
    """``text`` with every character other than letters, digits, ``.``, ``-`` and ``_`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _frame_width(aspect: float) -> float:
    """Width in inches of a panel showing a frame of width/height ``aspect`` at ``FRAME_HEIGHT`` inches."""
    return min(6.0, max(2.4, FRAME_HEIGHT * aspect))


def _save(figure: Any, path: Path, caption: str) -> Path:
    """Draw ``caption`` under the plot, store it as the PNG's Description, write the PNG."""
    width_chars = int(figure.get_figwidth() * 15)
    figure.get_layout_engine().set(h_pad=0.1)
    figure.supxlabel(textwrap.fill(caption, width_chars), fontsize=8, ha="left", x=0.01)
    figure.savefig(path, format="png", metadata={"Description": caption})
    return path


def _metric_figure(study: Mapping[str, Any], path: str, entry: Mapping[str, Any], out: Path) -> Path:
    base, lora = paired_values(study.get("per_pair", []), path)
    pairs = np.array([(x, y) for x, y in zip(base, lora) if x is not None and y is not None], dtype=np.float64).reshape(-1, 2)
    changes = pairs[:, 1] - pairs[:, 0]
    lower = entry["lower_is_better"]
    label = metric_label(path, entry)
    figure = _figure(10, 4.6)
    paired, spread = figure.subplots(1, 2, width_ratios=[1, 1.4])
    for values, d in zip(pairs, changes):
        colour = SAME if d == 0 else BETTER if (d < 0) == lower else WORSE
        paired.plot([0, 1], values, "-o", color=colour, alpha=0.7, markersize=4)
    paired.plot([0, 1], [entry["base_median"], entry["lora_median"]], "D--", color="black", label="medians", zorder=3)
    paired.set_xticks([0, 1], ["base", "LoRA"])
    paired.set_xlim(-0.3, 1.3)
    figure.suptitle(label)
    paired.set_ylabel(f"value ({entry['unit']})" if entry["unit"] else "value")
    paired.set_title(f"{'lower' if lower else 'higher'} is better; LoRA better in {entry['lora_better']}/{entry['n']}")
    paired.legend(loc="best", fontsize=8)

    floor = study.get("noise_floor_px")
    if path in PIXEL_CENTROID_METRICS and floor is not None:
        spread.axvspan(-floor, floor, color="orange", alpha=0.25, label=f"± noise floor ({number(floor, 3)} px)")
    counts, _, _ = spread.hist(changes, bins=min(30, max(5, len(changes) // 2)), color="#9ecae1", edgecolor="white")
    spread.plot(changes, np.zeros_like(changes), "|", color="black", markersize=14)
    spread.axvline(0.0, color="grey", linestyle=":")
    median, ci = entry["median_change"], entry.get("ci95_median_change") or (entry["median_change"],) * 2
    spread.errorbar(
        median, counts.max() * 1.15, xerr=[[median - ci[0]], [ci[1] - median]], fmt="D", color="black", ecolor="tab:blue",
        elinewidth=3, capsize=6, label=f"median change {number(median)}, 95% CI [{number(ci[0])}, {number(ci[1])}]",
    )
    spread.set_ylim(0, counts.max() * 1.45)
    spread.yaxis.get_major_locator().set_params(integer=True)
    spread.set_xlabel(f"paired change, LoRA - base ({entry['unit'] or 'unitless'})")
    spread.set_ylabel("pairs")
    spread.set_title(f"p = {number(entry.get('p_wilcoxon'), 3)}, p (Holm) = {number(entry.get('p_holm'), 3)}, effect size {number(entry.get('effect_size'), 3)}")
    spread.legend(loc="best", fontsize=8)
    noise_note = " The orange band is ± the pooled mask noise floor: a median inside it cannot be told from mask flicker." if path in PIXEL_CENTROID_METRICS and floor is not None else ""
    caption = (
        f"{label} over {entry['n']} pairs. Left: one line per pair from base to LoRA, green where the LoRA is better "
        f"({'lower' if lower else 'higher'} is better), red where it is worse; the dashed line joins the medians. "
        f"Right: histogram of the paired changes (ticks: one per pair); the diamond is the median change and the blue bar "
        f"its 95% bootstrap CI. Look for lines sloping the same way and a CI that excludes 0 (dotted line).{noise_note}"
    )
    return _save(figure, out / f"metric_{safe_name(path)}.png", caption)


def _ends(path: str) -> tuple[np.ndarray, np.ndarray] | str:
    """(first, last) uint8 RGB frames of a video, or the reason they could not be read."""
    import av

    try:
        frames = video.load_clip(path, num_frames=2).frames
    except (ValueError, OSError, av.error.FFmpegError) as error:
        return f"{type(error).__name__}: {error}"
    return frames[0], frames[-1]


def _draw_track(axes: Any, side: str, path: str, report: Mapping[str, Any] | None, ends: tuple[np.ndarray, np.ndarray] | str) -> None:
    axes.set_title(f"{side}: {Path(path).name}", fontsize=9)
    if isinstance(ends, str):
        axes.text(0.5, 0.5, textwrap.fill(f"no frame: {ends}", 40), ha="center", va="center", transform=axes.transAxes, fontsize=8, color=WORSE)
    else:
        axes.imshow(ends[0])
    drift = (report or {}).get("subject_drift") or {}
    points = np.array([[np.nan, np.nan] if c is None else c for c in drift.get("centroids") or []], dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(points).any():
        axes.text(0.5, 0.1, "no centroid track (no subject-drift result)", ha="center", transform=axes.transAxes, fontsize=8, color=WORSE)
    else:
        axes.plot(points[:, 0], points[:, 1], "-", color="white", linewidth=1)
        dots = axes.scatter(points[:, 0], points[:, 1], c=np.arange(len(points)), cmap="viridis", s=14, zorder=3)
        axes.figure.colorbar(dots, ax=axes, label="analysed frame", shrink=0.7)
    if report is not None and isinstance(ends, str):
        axes.set_xlim(0, report.get("width") or 1)
        axes.set_ylim(report.get("height") or 1, 0)
    axes.set_xlabel("x (px)")
    axes.set_ylabel("y (px)")


def _yaw_x(report: Mapping[str, Any], count: int) -> tuple[np.ndarray, str]:
    if report.get("frames") == count and report.get("total_frames"):
        return video.sample_indices(int(report["total_frames"]), count), "original frame index"
    return np.arange(count), "analysed frame"


def _pair_figure(entry: Mapping[str, Any], reports: Mapping[str, Mapping[str, Any]], ends: Mapping[str, Any], out: Path) -> Path:
    shapes = [r for r in (reports.get(entry[side]) for side in SIDES) if r and r.get("width") and r.get("height")]
    frame = _frame_width(shapes[0]["width"] / shapes[0]["height"] if shapes else 16 / 9) + 1.0  # + colour bar
    figure = _figure(2 * frame + 5.0, FRAME_HEIGHT + 1.4)
    base_axes, lora_axes, yaw_axes = figure.subplots(1, 3, width_ratios=[frame, frame, 5.0])
    xlabel = "original frame index"
    for side, axes in zip(SIDES, (base_axes, lora_axes)):
        path = entry[side]
        report = reports.get(path)
        _draw_track(axes, side, path, report, ends[side])
        yaw = ((report or {}).get("orbit") or {}).get("yaw_track_deg")
        if yaw:
            x, xlabel = _yaw_x(report, len(yaw))
            yaw_axes.plot(x, [np.nan if y is None else y for y in yaw], "-o", markersize=3, label=side)
    yaw_axes.axhline(0.0, color="grey", linestyle=":")
    yaw_axes.set_xlabel(xlabel)
    yaw_axes.set_ylabel("cumulative camera yaw (degrees, + = left orbit)")
    yaw_axes.set_title("orbit yaw tracks")
    if yaw_axes.lines[1:]:
        yaw_axes.legend(fontsize=8)
    caption = (
        f"Pair {entry['pair']}. Left and middle: the subject's mask centroid at each analysed frame (colour = time) "
        "over the first frame of each video; a tight cluster means the subject held its place in the image. "
        "Right: the camera's cumulative yaw from the orbit metric; a steady orbit is a straight, monotone line, "
        "and the end value is the swept angle."
    )
    return _save(figure, out / f"pair_{safe_name(str(entry['pair']))}_tracks.png", caption)


def _flow_figure(pair: str, side: str, path: str, ends: tuple[np.ndarray, np.ndarray], out: Path) -> Path:
    first, last = ends
    magnitude = farneback_magnitude(to_gray(first), to_gray(last))
    mean = float(magnitude.mean())
    frame = _frame_width(first.shape[1] / first.shape[0])
    figure = _figure(3 * frame + 1.2, FRAME_HEIGHT + 1.4)
    first_axes, last_axes, flow_axes = figure.subplots(1, 3, width_ratios=[frame, frame, frame + 1.2])
    for axes, frame, title in ((first_axes, first, "first frame"), (last_axes, last, "last frame")):
        axes.imshow(frame)
        axes.set_title(title)
        axes.set_axis_off()
    image = flow_axes.imshow(magnitude, cmap="jet")
    figure.colorbar(image, ax=flow_axes, label="flow magnitude (px)", shrink=0.8)
    flow_axes.set_title(f"flow first to last, mean {mean:.2f} px")
    flow_axes.set_axis_off()
    caption = (
        f"Pair {pair}, {side}: {Path(path).name}. Optical-flow magnitude from the first to the last frame (OpenCV "
        f"Farneback, the original's parameters 0.5, 3, 15, 3, 5, 1.2, 0; jet colour map), mean {mean:.2f} px. "
        "Red regions moved most between the two ends of the video; in an orbit the background moves and the subject "
        "should move less."
    )
    return _save(figure, out / f"flow_{safe_name(pair)}_{side}.png", caption)


def write_figures(
    study: Mapping[str, Any],
    reports: Mapping[str, Mapping[str, Any]],
    out_dir: str | Path,
    max_pairs: int | None = DEFAULT_MAX_PAIRS,
) -> list[Path]:
    """Write the study's figures (see the module docstring) into ``out_dir`` (created).

    Args:
        study: the study dict (study.json's schema: ``metrics``, ``per_pair``, ``noise_floor_px``).
        reports: video path (as in ``per_pair``'s ``base`` / ``lora``) -> its per-video report; a video without a
            report still gets its frame drawn, with a note that it has no track.
        out_dir: folder for the PNG files.
        max_pairs: track and flow figures are drawn for the first ``max_pairs`` pairs of ``per_pair`` (None: all);
            metric figures always cover every metric.

    Returns:
        The paths written: metric figures, then per pair its track figure and its flow figures. A video that
        cannot be decoded gets no flow figure (logged) and a note in its pair's track figure.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_metric_figure(study, path, entry, out) for path, entry in study.get("metrics", {}).items()]
    per_pair: Sequence[Mapping[str, Any]] = study.get("per_pair", [])
    for entry in per_pair if max_pairs is None else per_pair[:max_pairs]:
        ends = {side: _ends(entry[side]) for side in SIDES}
        written.append(_pair_figure(entry, reports, ends, out))
        for side in SIDES:
            if isinstance(ends[side], str):
                log.warning("no flow figure for pair %s %s: %s", entry["pair"], side, ends[side])
                continue
            written.append(_flow_figure(str(entry["pair"]), side, entry[side], ends[side], out))
    if max_pairs is not None and len(per_pair) > max_pairs:
        log.info("track and flow figures drawn for the first %d of %d pairs", max_pairs, len(per_pair))
    return written
