"""Paired statistics of a base/LoRA study: which way each metric is better, and the tests on paired values.

Pure functions of numbers; no files, no models.

A metric is a numeric scalar of the per-video report (``report.py``) named by its dotted path
(``subject_drift.subject_flow``, ``orbit.parallax_index``, ``upstream.clip_i.first_last``). Whether lower or higher
is better is declared once, in :data:`METRIC_DIRECTIONS`, with the reason. A study reports only the metrics
declared there: a scalar without a better direction (frame counts, the assumed focal length, thresholds, the
net yaw whose sign is the requested orbit's) has no "LoRA better" and no one-sided reading, so it stays in the
per-video reports and the per-pair values but gets no row in the table. The original's names under
``upstream.`` mostly repeat values of the native families; they are declared too (the original's table can be
checked against them), and where their values are the same as a native metric's the study counts them as one
hypothesis (``summary.summarise``).

Paired change = LoRA - base, per pair. For each metric (:func:`paired_statistics`): n complete pairs, the means
and medians of both sides over those pairs, the mean and median change, the relative change of the means, the
count of pairs where the LoRA is better, a two-sided Wilcoxon signed-rank p-value (scipy, default method), a
percentile-bootstrap 95% CI of the median change, and the matched-pairs rank-biserial effect size. Across the
metrics of a study the p-values are Holm-adjusted (:func:`holm`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 0
_BOOTSTRAP_CHUNK = 1_000  # resamples drawn per block (bounds memory at 1,000 x n values)


@dataclass(frozen=True)
class MetricDirection:
    """Which way a metric is better, and why.

    Attributes:
        lower_is_better: True when a lower value is the better generation.
        reason: why, in one sentence.
        unit: unit of the value ("" for dimensionless).
        absolute: compare |value| (the sign is a direction, e.g. a left or right orbit, not a quality).
        missing: a value that means "not computed" (the original's -1), read as no value.
    """

    lower_is_better: bool
    reason: str
    unit: str = ""
    absolute: bool = False
    missing: float | None = None


_STILL = "the orbit keeps the subject at the same place in the image; a LoRA that holds it still moves it less"
_CLIP = "a higher CLIP cosine means the subject's identity is better preserved"
_PSNR = "a higher PSNR means the two frames are closer"
_SSIM = "a higher SSIM means the two frames are structurally closer"
_LPIPS = "a lower LPIPS means the two frames are perceptually closer"
_FIRST_LAST = " (first vs last generated frame, the original's fidelity convention)"
_VS_CONDITIONING = " (generated frame vs the conditioning image it should reproduce)"
_SC = "a higher subject consistency means the subject looks the same from frame to frame (VBench)"
_SENTINEL = "; the original's -1 (not computed) is read as no value"
_COLOUR_VS_CONDITIONING = "the generated frame keeps the conditioning image's colours (CIEDE2000 of the average colours)"

METRIC_DIRECTIONS: dict[str, MetricDirection] = {
    # subject drift (metrics/drift.py): mask centroids and flow inside the subject
    "subject_drift.detection_rate": MetricDirection(False, "the subject is found in more frames: it stays recognisable and in view"),
    "subject_drift.speed_px_per_frame": MetricDirection(True, _STILL, "px/frame"),
    "subject_drift.speed_px_per_distinct_frame": MetricDirection(True, _STILL, "px/distinct frame"),
    "subject_drift.drift_std_px": MetricDirection(True, _STILL, "px"),
    "subject_drift.max_deviation_px": MetricDirection(True, _STILL, "px"),
    "subject_drift.speed_px_per_frame_norm": MetricDirection(True, _STILL, "1/frame (image diagonals)"),
    "subject_drift.speed_px_per_distinct_frame_norm": MetricDirection(True, _STILL, "1/distinct frame (image diagonals)"),
    "subject_drift.drift_std_px_norm": MetricDirection(True, _STILL, "image diagonals"),
    "subject_drift.max_deviation_px_norm": MetricDirection(True, _STILL, "image diagonals"),
    "subject_drift.subject_flow": MetricDirection(True, "less optical flow inside the subject mask: the subject holds still while the camera orbits (the original's headline)", "px"),
    "subject_drift.flow_ratio": MetricDirection(True, "the subject moves less relative to the whole frame: the camera, not the subject, makes the motion"),
    "subject_drift.upstream_drift": MetricDirection(True, _STILL + _SENTINEL, "px", missing=-1.0),
    # CLIP-I (metrics/clip_i.py)
    "clip_i.first_last": MetricDirection(False, _CLIP),
    "clip_i.global_avg": MetricDirection(False, _CLIP),
    "clip_i.global_avg_excl_first": MetricDirection(False, _CLIP),
    "clip_i.frame_acc": MetricDirection(False, _CLIP),
    "clip_i.first_vs_conditioning": MetricDirection(False, _CLIP + _VS_CONDITIONING),
    "clip_i.last_vs_conditioning": MetricDirection(False, _CLIP + _VS_CONDITIONING),
    # fidelity (metrics/fidelity.py)
    "fidelity.first_last.psnr": MetricDirection(False, _PSNR + _FIRST_LAST, "dB"),
    "fidelity.first_last.ssim": MetricDirection(False, _SSIM + _FIRST_LAST),
    "fidelity.first_last.lpips": MetricDirection(True, _LPIPS + _FIRST_LAST),
    "fidelity.first_vs_conditioning.psnr": MetricDirection(False, _PSNR + _VS_CONDITIONING, "dB"),
    "fidelity.first_vs_conditioning.ssim": MetricDirection(False, _SSIM + _VS_CONDITIONING),
    "fidelity.first_vs_conditioning.lpips": MetricDirection(True, _LPIPS + _VS_CONDITIONING),
    "fidelity.last_vs_conditioning.psnr": MetricDirection(False, _PSNR + _VS_CONDITIONING, "dB"),
    "fidelity.last_vs_conditioning.ssim": MetricDirection(False, _SSIM + _VS_CONDITIONING),
    "fidelity.last_vs_conditioning.lpips": MetricDirection(True, _LPIPS + _VS_CONDITIONING),
    # subject consistency (metrics/consistency.py)
    "subject_consistency.vbench": MetricDirection(False, _SC),
    "subject_consistency.upstream": MetricDirection(False, _SC),
    # orbit (metrics/orbit.py)
    "orbit.parallax_index": MetricDirection(
        False, "|parallax index| near 1: near and far move in opposite directions, a clean orbit around the subject; 0: a pan, slide or still camera (the sign is only left or right)", absolute=True
    ),
    "orbit.subject_motion_px_per_frame": MetricDirection(
        True, "the image centre moves less horizontally: the orbit keeps the subject in place (the sign is only left or right)", "px/frame", absolute=True
    ),
    "orbit.angular_speed_cv": MetricDirection(True, "a lower coefficient of variation means a steadier orbit speed"),
    "orbit.backtracks": MetricDirection(True, "fewer reversals of the orbit direction: a smooth orbit goes one way"),
    "orbit.look_at_stability_deg": MetricDirection(
        True, "the camera's aim strays less from the subject during the orbit: a true orbit keeps the subject on its axis", "deg"
    ),
    "colour.mean_delta_e_colour": MetricDirection(True, "the frames' average colour shifts less from the first frame (CIEDE2000)", "ΔE00"),
    "colour.max_delta_e_colour": MetricDirection(True, "the largest average-colour shift from the first frame is smaller", "ΔE00"),
    "colour.first_vs_conditioning.delta_e_colour": MetricDirection(True, _COLOUR_VS_CONDITIONING, "ΔE00"),
    "colour.last_vs_conditioning.delta_e_colour": MetricDirection(True, _COLOUR_VS_CONDITIONING, "ΔE00"),
    # the original's keys (report.upstream_view)
    "upstream.subject_drift.subject_flow": MetricDirection(True, "as subject_drift.subject_flow" + _SENTINEL, "px", missing=-1.0),
    "upstream.subject_drift.drift": MetricDirection(True, "as subject_drift.drift_std_px" + _SENTINEL, "px", missing=-1.0),
    "upstream.clip_i.first_last": MetricDirection(False, "as clip_i.first_last"),
    "upstream.clip_i.global_avg": MetricDirection(False, "as clip_i.global_avg"),
    "upstream.clip_i.frame_acc": MetricDirection(False, "as clip_i.frame_acc"),
    "upstream.fidelity.psnr": MetricDirection(False, "as fidelity.first_last.psnr", "dB"),
    "upstream.fidelity.ssim": MetricDirection(False, "as fidelity.first_last.ssim"),
    "upstream.fidelity.lpips": MetricDirection(True, "as fidelity.first_last.lpips"),
    "upstream.vbench_sc": MetricDirection(False, "as subject_consistency.upstream"),
}
"""Dotted report path -> direction. Only these metrics are reported by a study (see the module docstring)."""


def direction_of(path: str) -> MetricDirection | None:
    """The declared direction of the metric at dotted ``path``, or None when it has none."""
    return METRIC_DIRECTIONS.get(path)


def compared_value(path: str, value: float | None) -> float | None:
    """The value a study compares for metric ``path``: None for the metric's missing marker (or None, or a
    non-finite value), |value| for metrics declared ``absolute``, else the value itself."""
    if value is None or not math.isfinite(value):
        return None
    direction = direction_of(path)
    if direction is None:
        return float(value)
    if direction.missing is not None and value == direction.missing:
        return None
    return abs(float(value)) if direction.absolute else float(value)


def numeric_scalars(report: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every finite numeric scalar of a (nested) report under its dotted path.

    Lists, strings, bools, None and non-finite numbers are skipped; ints become floats.
    """
    values: dict[str, float] = {}
    for key, value in report.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            values.update(numeric_scalars(value, f"{path}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            values[path] = float(value)
    return values


@dataclass(frozen=True)
class PairedStatistics:
    """Statistics of one metric over paired values (change = LoRA - base); see :func:`paired_statistics`.

    Means, medians and changes are None when n = 0; ``relative_change`` also when the base mean is 0.
    """

    n: int
    lower_is_better: bool
    base_mean: float | None
    lora_mean: float | None
    base_median: float | None
    lora_median: float | None
    mean_change: float | None
    median_change: float | None
    relative_change: float | None
    lora_better: int
    p_wilcoxon: float | None
    ci95_median_change: tuple[float, float] | None
    effect_size: float | None


def _complete_pairs(base: Sequence[float | None], lora: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    if len(base) != len(lora):
        raise ValueError(f"{len(base)} base values and {len(lora)} LoRA values: give one of each per pair (None where missing)")
    pairs = [(x, y) for x, y in zip(base, lora) if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    array = np.array(pairs, dtype=np.float64).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def wilcoxon_p(changes: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value of paired ``changes`` with scipy's defaults; None where undefined.

    scipy's defaults (``scipy.stats.wilcoxon(d)``; scipy >= 1.15, checked with 1.17): zero differences are
    dropped before ranking (``zero_method="wilcox"``), tied |d| get their average rank, no continuity correction,
    and ``method="auto"`` picks the exact null distribution when n <= 50 with no ties and no zeros, an exhaustive
    permutation test when there are ties or zeros and n <= 13, and the tie-corrected normal approximation
    otherwise (n > 50, or ties or zeros with n > 13). n counts the zeros here. (Before scipy 1.15 "auto" had no
    permutation branch, so p-values with ties or zeros differ there.)

    Edge cases: None for n = 0 and when every difference is zero (no signed rank: the statistic is undefined);
    n = 1 gives 1.0 and n = 2 at least 0.5 (the smallest two-sided p with n pairs is 2 / 2^n).
    """
    if len(changes) == 0 or not np.any(changes):
        return None
    from scipy.stats import wilcoxon

    p = float(wilcoxon(changes).pvalue)
    return p if math.isfinite(p) else None


def bootstrap_median_ci(changes: np.ndarray, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> tuple[float, float] | None:
    """Percentile-bootstrap 95% CI of the median of ``changes``.

    ``n_resamples`` resamples of the n changes drawn with replacement by ``numpy.random.Generator(PCG64(seed))``
    (``integers(0, n)``, in blocks of 1,000 resamples); the CI is the 2.5th and 97.5th percentiles (numpy's
    linear interpolation) of their medians. The same seed gives the same CI. None for n = 0; (d, d) for n = 1.

    Raises:
        ValueError: ``n_resamples`` < 1.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples}: must be >= 1")
    n = len(changes)
    if n == 0:
        return None
    rng = np.random.Generator(np.random.PCG64(seed))
    medians = []
    for start in range(0, n_resamples, _BOOTSTRAP_CHUNK):
        rows = min(_BOOTSTRAP_CHUNK, n_resamples - start)
        medians.append(np.median(changes[rng.integers(0, n, size=(rows, n))], axis=1))
    low, high = np.percentile(np.concatenate(medians), [2.5, 97.5])
    return float(low), float(high)


def rank_biserial(changes: np.ndarray, lower_is_better: bool) -> float | None:
    """Matched-pairs rank-biserial correlation (Kerby 2014), signed so that positive means the LoRA is better.

    Zero differences are dropped (as the Wilcoxon test drops them); the others are ranked by |d| with average
    ranks for ties. With R+ and R- the rank sums of the positive and negative differences,
    ``r = (R+ - R-) / (R+ + R-)`` in [-1, 1]; the sign is flipped when lower is better, so +1 means the LoRA is
    better in every pair and -1 worse in every pair. None when every difference is zero (or n = 0).
    """
    nonzero = changes[changes != 0]
    if len(nonzero) == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(np.abs(nonzero))
    r = float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())
    return -r if lower_is_better else r


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if len(values) else None


def paired_statistics(
    base: Sequence[float | None],
    lora: Sequence[float | None],
    lower_is_better: bool,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedStatistics:
    """Paired statistics of one metric (change = LoRA - base).

    Args:
        base, lora: one value per pair (same length), None (or a non-finite number) where a side has no value;
            a pair with a missing side is dropped, so every statistic is over the n complete pairs.
        lower_is_better: the metric's direction (see :data:`METRIC_DIRECTIONS`).
        n_resamples, seed: of the bootstrap CI (:func:`bootstrap_median_ci`).

    Returns:
        :class:`PairedStatistics`: ``relative_change = (lora_mean - base_mean) / |base_mean|`` (None when the
        base mean is 0); ``lora_better`` counts the pairs where the LoRA is strictly better (ties count for
        neither); ``p_wilcoxon`` as :func:`wilcoxon_p`, ``ci95_median_change`` as :func:`bootstrap_median_ci`,
        ``effect_size`` as :func:`rank_biserial` (positive = LoRA better).

    Raises:
        ValueError: ``base`` and ``lora`` differ in length, or ``n_resamples`` < 1.
    """
    base_values, lora_values = _complete_pairs(base, lora)
    d = lora_values - base_values
    base_mean, lora_mean = _mean(base_values), _mean(lora_values)
    relative = None if base_mean is None or lora_mean is None or base_mean == 0 else (lora_mean - base_mean) / abs(base_mean)
    return PairedStatistics(
        n=len(d),
        lower_is_better=lower_is_better,
        base_mean=base_mean,
        lora_mean=lora_mean,
        base_median=_median(base_values),
        lora_median=_median(lora_values),
        mean_change=_mean(d),
        median_change=_median(d),
        relative_change=relative,
        lora_better=int(np.count_nonzero(d < 0 if lower_is_better else d > 0)),
        p_wilcoxon=wilcoxon_p(d),
        ci95_median_change=bootstrap_median_ci(d, n_resamples, seed),
        effect_size=rank_biserial(d, lower_is_better),
    )


def holm(pvalues: Mapping[str, float | None]) -> dict[str, float | None]:
    """Holm step-down adjusted p-values.

    With the m p-values that are not None sorted ascending, p_(1) <= ... <= p_(m), the adjusted value of the
    i-th is ``max over j <= i of min(1, (m - j + 1) p_(j))``: monotone in p, capped at 1. Rejecting where the
    adjusted value is below alpha controls the family-wise error rate at alpha. None stays None and does not
    count in m.

    Returns:
        The same keys, adjusted.
    """
    known = sorted((p, name) for name, p in pvalues.items() if p is not None)
    adjusted: dict[str, float | None] = {name: None for name in pvalues}
    running = 0.0
    for rank, (p, name) in enumerate(known):
        running = max(running, min(1.0, (len(known) - rank) * p))
        adjusted[name] = running
    return adjusted
