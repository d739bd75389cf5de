"""The study's metric table: paired statistics per metric, Holm across metrics, the noise-floor verdict.

Input: the study's ``per_pair`` entries, ``{"pair": id, "base": path, "lora": path, "values": {dotted path:
{"base": float | None, "lora": float | None}}}`` (the raw report values), and the pooled noise floor
(``noise.pooled_noise_px``). Output: study.json's ``"metrics"`` object (see :func:`summarise`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .noise import PIXEL_CENTROID_METRICS
from .stats import DEFAULT_RESAMPLES, DEFAULT_SEED, METRIC_DIRECTIONS, compared_value, holm, paired_statistics

ALPHA = 0.05  # family-wise error rate of the Holm-adjusted p-values the summaries call significant
SIDES = ("base", "lora")


def is_significant(entry: Mapping[str, Any]) -> bool:
    """Whether a metric entry of :func:`summarise` has p (Holm) below ``ALPHA``."""
    return entry.get("p_holm") is not None and entry["p_holm"] < ALPHA


def paired_values(per_pair: Sequence[Mapping[str, Any]], path: str) -> tuple[list[float | None], list[float | None]]:
    """(base values, LoRA values) of metric ``path``, one per pair, as compared (``stats.compared_value``)."""
    sides: tuple[list[float | None], list[float | None]] = ([], [])
    for entry in per_pair:
        value = entry.get("values", {}).get(path) or {}
        for side, values in zip(SIDES, sides):
            values.append(compared_value(path, value.get(side)))
    return sides


def within_noise(path: str, median_change: float | None, noise_floor_px: float | None) -> bool | None:
    """True when the pixel centroid metric ``path`` changed by no more than the noise floor (|median change| <=
    floor), False when by more; None for other metrics or when the floor or the change is unknown."""
    if path not in PIXEL_CENTROID_METRICS or noise_floor_px is None or median_change is None:
        return None
    return abs(median_change) <= noise_floor_px


def summarise(
    per_pair: Sequence[Mapping[str, Any]],
    noise_floor_px: float | None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, dict]:
    """study.json's ``"metrics"``: one entry per metric with a declared direction and at least one complete pair.

    Args:
        per_pair: the study's per-pair values (see the module docstring).
        noise_floor_px: the pooled mask noise floor, or None when unknown.
        n_resamples, seed: of the bootstrap CI of the median change.

    Returns:
        dotted path -> ``{"n", "lower_is_better", "base_mean", "lora_mean", "base_median", "lora_median",
        "mean_change", "median_change", "relative_change", "lora_better", "p_wilcoxon", "p_holm",
        "ci95_median_change" ([low, high]), "effect_size", "within_noise", "same_values_as", "absolute", "unit",
        "ci_resamples", "ci_seed"}`` (see ``stats.paired_statistics``), in ``METRIC_DIRECTIONS`` order.
        ``p_holm`` is Holm's adjustment across the distinct metrics returned: a metric whose compared per-pair
        values equal an earlier metric's (the original's names under ``upstream.`` that repeat a native value)
        is the same hypothesis, so it names that metric in ``same_values_as``, shares its adjusted p and does not
        count in Holm's m (``same_values_as`` is None for the others). ``within_noise`` as :func:`within_noise`;
        ``absolute``: the values compared are |value| (``stats.MetricDirection``). Metrics without a declared
        direction, or with no pair where both sides have a value, are left out.
    """
    present = {path for entry in per_pair for path in entry.get("values", {})}
    metrics: dict[str, dict] = {}
    first_with: dict[tuple, str] = {}  # compared per-pair values -> the first metric that has them
    for path, direction in METRIC_DIRECTIONS.items():
        if path not in present:
            continue
        base, lora = paired_values(per_pair, path)
        representative = first_with.setdefault((tuple(base), tuple(lora)), path)
        stats = paired_statistics(base, lora, direction.lower_is_better, n_resamples, seed)
        if stats.n == 0:
            continue
        metrics[path] = {
            "n": stats.n,
            "lower_is_better": stats.lower_is_better,
            "base_mean": stats.base_mean,
            "lora_mean": stats.lora_mean,
            "base_median": stats.base_median,
            "lora_median": stats.lora_median,
            "mean_change": stats.mean_change,
            "median_change": stats.median_change,
            "relative_change": stats.relative_change,
            "lora_better": stats.lora_better,
            "p_wilcoxon": stats.p_wilcoxon,
            "p_holm": None,
            "ci95_median_change": list(stats.ci95_median_change) if stats.ci95_median_change else None,
            "effect_size": stats.effect_size,
            "within_noise": within_noise(path, stats.median_change, noise_floor_px),
            "same_values_as": None if representative == path else representative,
            "absolute": direction.absolute,
            "unit": direction.unit,
            "ci_resamples": n_resamples,
            "ci_seed": seed,
        }
    adjusted = holm({path: entry["p_wilcoxon"] for path, entry in metrics.items() if entry["same_values_as"] is None})
    for path, entry in metrics.items():
        entry["p_holm"] = adjusted[entry["same_values_as"] or path]
    return metrics
