"""The study as tables and words: study.csv (one row per metric), study.md (a paper-ready table with the method
stated once under it) and the console summary of which conclusions survive.

All functions read a study dict in study.json's schema (``pairs``, ``evaluated_videos``, ``failed``,
``noise_floor_px``, ``metrics``, ``per_pair``; see ``summary.summarise`` for a metric's entry).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .noise import PIXEL_CENTROID_METRICS
from .stats import DEFAULT_RESAMPLES, DEFAULT_SEED
from .summary import ALPHA, is_significant

CSV_FIELDS = (
    "metric", "unit", "lower_is_better", "absolute", "n", "base_mean", "lora_mean", "base_median", "lora_median",
    "mean_change", "median_change", "relative_change", "lora_better", "p_wilcoxon", "p_holm", "ci95_low", "ci95_high",
    "effect_size", "within_noise", "same_values_as",
)


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits ("-" for None)."""
    return "-" if value is None else f"{value:.{digits}g}"


def metric_label(path: str, entry: Mapping[str, Any]) -> str:
    """The metric's name as the tables show it: |path| when its absolute value is compared, and its unit."""
    name = f"|{path}|" if entry.get("absolute") else path
    return f"{name} ({entry['unit']})" if entry.get("unit") else name


def method_note(study: Mapping[str, Any]) -> str:
    """The statistical method in one paragraph (the line under every table)."""
    metrics = study.get("metrics", {})
    first = next(iter(metrics.values()), {})
    resamples, seed = first.get("ci_resamples", DEFAULT_RESAMPLES), first.get("ci_seed", DEFAULT_SEED)
    tested = sum(1 for entry in metrics.values() if entry.get("p_wilcoxon") is not None and not entry.get("same_values_as"))
    floor = study.get("noise_floor_px")
    floor_text = (
        f"the pooled mask noise floor is {number(floor, 3)} px per axis (root mean square over the videos of the robust std "
        "of each centroid track's residual from a local quadratic fit); a centroid metric whose |median change| is within it is "
        "marked as within noise"
        if floor is not None
        else "the mask noise floor is unknown (no video had enough distinct frames with a subject mask)"
    )
    return (
        f"Method: n = pairs with a value on both sides; change = LoRA - base per pair; means and medians over those n pairs. "
        f"p: two-sided Wilcoxon signed-rank test (scipy's default method; zero differences dropped), Holm-adjusted across "
        f"the {tested} distinct metrics with a p-value (a metric whose per-pair values repeat an earlier one's, such as an "
        f"upstream. name of a native value, shares its adjusted p). 95% CI: percentile bootstrap of the median change ({resamples:,} resamples, "
        f"PCG64 seed {seed}). Effect size: matched-pairs rank-biserial correlation, positive = LoRA better. "
        f"|name|: the absolute value is compared (its sign is the orbit's direction). Significant: p (Holm) < {ALPHA}; "
        f"{floor_text}."
    )


def _row(path: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    ci = entry.get("ci95_median_change") or (None, None)
    row = {field: entry.get(field) for field in CSV_FIELDS}
    row.update(metric=path, ci95_low=ci[0], ci95_high=ci[1])
    return {key: "" if value is None else value for key, value in row.items()}


def write_csv(study: Mapping[str, Any], path: str | Path) -> None:
    """study.csv: one row per metric, columns ``CSV_FIELDS`` (the CI split in two); empty cells for None."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CSV_FIELDS))
        writer.writeheader()
        for name, entry in study.get("metrics", {}).items():
            writer.writerow(_row(name, entry))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}%"


def table_rows(study: Mapping[str, Any]) -> list[list[str]]:
    """Header and one row of formatted cells per metric (shared by the Markdown and HTML tables)."""
    header = ["Metric", "Better", "n", "Base mean", "LoRA mean", "Median change", "95% CI", "Rel. change", "LoRA better",
              "p", "p (Holm)", "Effect size", "Noise"]
    rows = [header]
    for path, entry in study.get("metrics", {}).items():
        ci = entry.get("ci95_median_change")
        noise = {True: "within", False: "outside", None: ""}[entry.get("within_noise")]
        alias = entry.get("same_values_as")
        rows.append([
            metric_label(path, entry) + (f" (same values as {alias})" if alias else ""),
            "lower" if entry["lower_is_better"] else "higher",
            str(entry["n"]),
            number(entry["base_mean"]),
            number(entry["lora_mean"]),
            number(entry["median_change"]),
            "-" if ci is None else f"[{number(ci[0])}, {number(ci[1])}]",
            _percent(entry.get("relative_change")),
            f"{entry['lora_better']}/{entry['n']}",
            number(entry.get("p_wilcoxon"), 3),
            number(entry.get("p_holm"), 3),
            number(entry.get("effect_size"), 3),
            noise,
        ])
    return rows


def markdown_table(study: Mapping[str, Any]) -> str:
    """The paper-ready Markdown table with the method stated once under it."""
    rows = table_rows(study)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(rows[0]))) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
    header = f"{study.get('pairs', 0)} pairs, {study.get('evaluated_videos', 0)} videos evaluated, {len(study.get('failed', []))} failed."
    return "\n".join([header, "", *lines, "", method_note(study), ""])


def write_markdown(study: Mapping[str, Any], path: str | Path) -> None:
    """study.md: :func:`markdown_table`."""
    Path(path).write_text(markdown_table(study), encoding="utf-8")


def _finding(path: str, entry: Mapping[str, Any]) -> str:
    better = "better" if (entry.get("effect_size") or 0.0) > 0 else "worse"
    return (
        f"{metric_label(path, entry)}: LoRA {better} (median change {number(entry['median_change'])}, "
        f"{entry['lora_better']}/{entry['n']} pairs better, p (Holm) = {number(entry['p_holm'], 3)})"
    )


def summary_text(study: Mapping[str, Any]) -> str:
    """The console summary: which conclusions survive, in plain words.

    A conclusion survives when its Holm-adjusted p is below ``ALPHA`` and, for a pixel centroid metric, its median
    change lies outside the mask noise floor. The text lists those, the significant centroid changes that the
    noise floor swallows, the metrics with no significant difference, and the failed videos.
    """
    metrics = study.get("metrics", {})
    significant = {k: v for k, v in metrics.items() if is_significant(v)}
    swallowed = [k for k, v in significant.items() if v.get("within_noise") is True]
    survive = [k for k in significant if k not in swallowed]
    unknown_floor = [k for k in survive if k in PIXEL_CENTROID_METRICS and significant[k].get("within_noise") is None]
    not_significant = [k for k in metrics if k not in significant]
    floor = study.get("noise_floor_px")
    lines = [
        f"{study.get('pairs', 0)} pairs, {study.get('evaluated_videos', 0)} videos evaluated, {len(study.get('failed', []))} failed; "
        f"mask noise floor {'unknown' if floor is None else number(floor, 3) + ' px'}."
    ]
    if survive:
        lines.append(f"Conclusions that survive (p (Holm) < {ALPHA}" + (", outside the noise floor):" if floor is not None else "):"))
        lines += [f"  - {_finding(k, significant[k])}" for k in survive]
    elif swallowed:
        lines.append("No conclusion survives: every significant difference is within the mask noise floor.")
    else:
        lines.append(f"No conclusion survives: no metric differs between base and LoRA at p (Holm) < {ALPHA}.")
    if unknown_floor:
        lines.append("  (the noise floor is unknown, so these centroid changes could still be mask flicker: " + ", ".join(unknown_floor) + ")")
    if swallowed:
        lines.append("Significant but within the mask noise floor, so not a conclusion about the subject's motion:")
        lines += [f"  - {_finding(k, significant[k])}" for k in swallowed]
    if not_significant:
        lines.append(f"No significant difference ({len(not_significant)}): " + ", ".join(not_significant) + ".")
    tested = [v for v in metrics.values() if v.get("p_wilcoxon") is not None and not v.get("same_values_as")]
    most = max((v["n"] for v in tested), default=0)
    if tested and len(tested) * 2.0 / 2**most >= ALPHA:
        lines.append(
            f"With at most {most} pairs the smallest p a two-sided signed-rank test can give is 2/2^{most} = {number(2.0 / 2**most, 3)}; "
            f"Holm over {len(tested)} metrics multiplies it by {len(tested)}, so no metric can reach {ALPHA}: more pairs are needed."
        )
    for failure in study.get("failed", []):
        lines.append(f"Failed: pair {failure.get('pair')} {failure.get('side')} {failure.get('video')}: {failure.get('error')}")
    return "\n".join(lines)
