"""Paired statistics of a study (circle_rotate/study/stats.py, summary.py) against scipy and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from circle_rotate.study.noise import PIXEL_CENTROID_METRICS
from circle_rotate.study.stats import (
    METRIC_DIRECTIONS,
    bootstrap_median_ci,
    compared_value,
    direction_of,
    holm,
    numeric_scalars,
    paired_statistics,
    rank_biserial,
)
from circle_rotate.study.summary import summarise


@pytest.mark.parametrize("n", [30, 80])  # scipy's exact null distribution, then its normal approximation (n > 50)
def test_paired_statistics_equal_scipy_and_numpy_on_random_pairs(n: int) -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(10.0, 2.0, n)
    lora = base + rng.normal(-0.8, 1.0, n)
    stats = paired_statistics(list(base), list(lora), lower_is_better=True)
    d = lora - base
    assert stats.n == n
    assert stats.base_mean == pytest.approx(base.mean()) and stats.lora_mean == pytest.approx(lora.mean())
    assert stats.base_median == pytest.approx(np.median(base)) and stats.lora_median == pytest.approx(np.median(lora))
    assert stats.mean_change == pytest.approx(d.mean()) and stats.median_change == pytest.approx(np.median(d))
    assert stats.relative_change == pytest.approx((lora.mean() - base.mean()) / abs(base.mean()))
    assert stats.lora_better == int((d < 0).sum())
    assert stats.p_wilcoxon == pytest.approx(scipy_stats.wilcoxon(lora, base).pvalue)
    low, high = stats.ci95_median_change
    assert low <= np.median(d) <= high
    # Rank-biserial from scipy's one-sided statistic R+ (no zeros, no ties): (R+ - R-) / T with R- = T - R+.
    r_plus, total = scipy_stats.wilcoxon(d, alternative="greater").statistic, n * (n + 1) / 2
    assert stats.effect_size == pytest.approx(-(2 * r_plus - total) / total)


def test_hand_computed_case_with_a_tie_and_a_zero_difference() -> None:
    # changes d = lora - base = [-1, -2, -2, 0, 3]: the zero is dropped; |d| = 1, 2, 2, 3 -> ranks 1, 2.5, 2.5, 4.
    base = [5.0, 5.0, 5.0, 5.0, 5.0]
    lora = [4.0, 3.0, 3.0, 5.0, 8.0]
    stats = paired_statistics(base, lora, lower_is_better=True)
    assert stats.n == 5 and stats.lora_better == 3
    assert stats.mean_change == pytest.approx(-0.4) and stats.median_change == -1.0
    # R+ = 4, R- = 1 + 2.5 + 2.5 = 6, total 10: (R+ - R-) / 10 = -0.2; lower is better, so +0.2 (LoRA better).
    assert stats.effect_size == pytest.approx(0.2)
    assert rank_biserial(np.array([-1.0, -2.0, -2.0, 0.0, 3.0]), lower_is_better=False) == pytest.approx(-0.2)
    # Ties and a zero: scipy's default switches to its exhaustive permutation test (n = 5 <= 13).
    assert stats.p_wilcoxon == pytest.approx(scipy_stats.wilcoxon(np.array(lora) - np.array(base)).pvalue)
    # By hand: the 16 sign patterns of the ranks (1, 2.5, 2.5, 4) give R+ in {0, 1, 2.5, 2.5, 3.5, 3.5, 4, 5, 5, 6,
    # 6.5, 6.5, 7.5, 7.5, 9, 10}; the observed R+ = 4 has P(R+ <= 4) = 7/16, so two-sided p = 2 * 7/16.
    assert stats.p_wilcoxon == pytest.approx(14 / 16)


def test_n_one_and_two_and_no_pairs() -> None:
    one = paired_statistics([2.0], [1.0], lower_is_better=True)
    assert (one.n, one.p_wilcoxon, one.ci95_median_change, one.effect_size, one.lora_better) == (1, 1.0, (-1.0, -1.0), 1.0, 1)
    two = paired_statistics([2.0, 3.0], [1.0, 1.0], lower_is_better=True)
    assert two.n == 2 and two.p_wilcoxon == pytest.approx(0.5)  # 2 / 2^2: the smallest two-sided p with 2 pairs
    assert two.effect_size == 1.0 and two.median_change == pytest.approx(-1.5)
    none = paired_statistics([None], [1.0], lower_is_better=True)
    assert none.n == 0 and none.base_mean is None and none.p_wilcoxon is None and none.ci95_median_change is None
    assert none.effect_size is None and none.relative_change is None and none.lora_better == 0


def test_all_zero_differences_have_no_p_and_no_effect_size() -> None:
    stats = paired_statistics([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], lower_is_better=False)
    assert stats.n == 3 and stats.p_wilcoxon is None and stats.effect_size is None
    assert stats.ci95_median_change == (0.0, 0.0) and stats.lora_better == 0 and stats.relative_change == 0.0


def test_a_missing_side_drops_the_pair() -> None:
    stats = paired_statistics([1.0, None, 3.0, float("nan"), 5.0], [2.0, 7.0, None, 1.0, 4.0], lower_is_better=False)
    assert stats.n == 2
    assert stats.base_mean == pytest.approx(3.0) and stats.lora_mean == pytest.approx(3.0)
    assert stats.lora_better == 1 and stats.relative_change == 0.0


def test_relative_change_is_none_for_a_zero_base_mean_and_lengths_must_match() -> None:
    assert paired_statistics([1.0, -1.0], [2.0, 2.0], lower_is_better=True).relative_change is None
    with pytest.raises(ValueError, match="one of each per pair"):
        paired_statistics([1.0], [1.0, 2.0], lower_is_better=True)


def test_bootstrap_reproduces_with_its_seed_and_changes_with_another() -> None:
    d = np.random.default_rng(1).normal(0.3, 1.0, 25)
    first = bootstrap_median_ci(d, 2_000, seed=7)
    assert bootstrap_median_ci(d, 2_000, seed=7) == first
    assert bootstrap_median_ci(d, 2_000, seed=8) != first
    # The procedure stated in the docstring, written out: PCG64(seed), blocks of 1,000 resamples, percentiles.
    rng = np.random.Generator(np.random.PCG64(7))
    medians = np.concatenate([np.median(d[rng.integers(0, 25, size=(1_000, 25))], axis=1) for _ in range(2)])
    assert first == tuple(np.percentile(medians, [2.5, 97.5]))
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_median_ci(d, 0)


def test_holm_against_a_hand_computed_example() -> None:
    # m = 4 (None does not count); sorted: a 0.01 (x4 = 0.04), c 0.02 (x3 = 0.06), b 0.04 (x2 = 0.08), d 0.5 (x1).
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.02, "d": 0.5, "e": None})
    assert adjusted == pytest.approx({"a": 0.04, "b": 0.08, "c": 0.06, "d": 0.5, "e": None})
    # Monotone: b's own 2 x 0.012 = 0.024 is below a's 0.03, so b keeps 0.03; c is 1 x 0.9.
    assert holm({"a": 0.01, "b": 0.012, "c": 0.9}) == pytest.approx({"a": 0.03, "b": 0.03, "c": 0.9})
    # Capped at 1: 2 x 0.6 = 1.2 -> 1, and b = max(1, 0.7).
    assert holm({"a": 0.6, "b": 0.7}) == {"a": 1.0, "b": 1.0}
    assert holm({}) == {} and holm({"x": None}) == {"x": None}


def test_numeric_scalars_keep_finite_numbers_only() -> None:
    report = {"frames": 16, "ok": True, "name": "x", "a": {"b": 1.5, "c": None, "d": [1, 2], "e": {"f": float("inf"), "g": -2}}}
    assert numeric_scalars(report) == {"frames": 16.0, "a.b": 1.5, "a.e.g": -2.0}


def test_directions_table_has_a_reason_for_each_metric_and_covers_the_pixel_metrics() -> None:
    assert all(direction.reason for direction in METRIC_DIRECTIONS.values())
    assert PIXEL_CENTROID_METRICS <= set(METRIC_DIRECTIONS)
    assert direction_of("subject_drift.subject_flow").lower_is_better
    assert not direction_of("upstream.clip_i.first_last").lower_is_better
    assert direction_of("frames") is None and direction_of("orbit.yaw_deg") is None
    assert compared_value("orbit.parallax_index", -0.9) == 0.9
    assert compared_value("upstream.subject_drift.drift", -1.0) is None
    assert compared_value("subject_drift.drift_std_px", float("nan")) is None


def _entry(pair: str, values: dict[str, tuple[float | None, float | None]]) -> dict:
    return {"pair": pair, "base": f"{pair}_base.mp4", "lora": f"{pair}_lora.mp4", "values": {k: {"base": sides[0], "lora": sides[1]} for k, sides in values.items()}}


def test_summarise_builds_the_schema_with_holm_and_the_noise_verdict() -> None:
    per_pair = [
        _entry("p1", {"subject_drift.drift_std_px": (3.0, 2.9), "subject_drift.subject_flow": (2.0, 1.0), "frames": (16, 16), "orbit.parallax_index": (-0.2, -0.9)}),
        _entry("p2", {"subject_drift.drift_std_px": (3.0, 3.1), "subject_drift.subject_flow": (2.0, 1.5), "frames": (16, 16), "orbit.parallax_index": (0.3, 0.8)}),
        _entry("p3", {"subject_drift.drift_std_px": (3.0, 2.95), "subject_drift.subject_flow": (2.0, None), "frames": (16, 16), "orbit.parallax_index": (0.1, 0.7)}),
        _entry("p4", {"clip_i.first_last": (None, 0.9)}),
    ]
    metrics = summarise(per_pair, noise_floor_px=0.2, n_resamples=500)
    assert list(metrics) == ["subject_drift.drift_std_px", "subject_drift.subject_flow", "orbit.parallax_index"]
    drift = metrics["subject_drift.drift_std_px"]
    assert drift["n"] == 3 and drift["lower_is_better"] and drift["within_noise"] is True
    assert drift["median_change"] == pytest.approx(-0.05) and drift["lora_better"] == 2
    flow = metrics["subject_drift.subject_flow"]
    assert flow["n"] == 2 and flow["within_noise"] is None and flow["lora_better"] == 2
    parallax = metrics["orbit.parallax_index"]
    assert parallax["absolute"] and parallax["base_mean"] == pytest.approx(0.2) and parallax["lora_better"] == 3
    expected = holm({k: v["p_wilcoxon"] for k, v in metrics.items()})
    assert {k: v["p_holm"] for k, v in metrics.items()} == expected
    assert set(drift) >= {"n", "lower_is_better", "base_mean", "lora_mean", "base_median", "lora_median", "mean_change", "median_change",
                          "relative_change", "lora_better", "p_wilcoxon", "p_holm", "ci95_median_change", "effect_size", "within_noise"}
    assert isinstance(drift["ci95_median_change"], list) and drift["ci_resamples"] == 500
    assert summarise(per_pair, noise_floor_px=0.01, n_resamples=500)["subject_drift.drift_std_px"]["within_noise"] is False
    assert summarise(per_pair, noise_floor_px=None, n_resamples=500)["subject_drift.drift_std_px"]["within_noise"] is None
    assert all(math.isfinite(v) for v in drift["ci95_median_change"])


def test_a_metric_repeating_another_one_shares_its_holm_p_and_counts_once() -> None:
    drift = [(3.0, 2.0), (3.5, 2.0), (4.0, 3.1), (2.0, 1.8), (5.0, 4.0), (3.0, 2.5)]
    flow = [(1.0, 1.2), (1.0, 0.7), (2.0, 2.5), (1.5, 1.0), (1.0, 1.4), (2.0, 1.9)]
    per_pair = [
        _entry(f"p{i}", {"subject_drift.drift_std_px": d, "upstream.subject_drift.drift": d, "subject_drift.subject_flow": f})
        for i, (d, f) in enumerate(zip(drift, flow))
    ]
    metrics = summarise(per_pair, noise_floor_px=None, n_resamples=200)
    alias, native, other = metrics["upstream.subject_drift.drift"], metrics["subject_drift.drift_std_px"], metrics["subject_drift.subject_flow"]
    assert alias["same_values_as"] == "subject_drift.drift_std_px" and native["same_values_as"] is None
    expected = holm({"subject_drift.drift_std_px": native["p_wilcoxon"], "subject_drift.subject_flow": other["p_wilcoxon"]})
    assert native["p_holm"] == alias["p_holm"] == expected["subject_drift.drift_std_px"]
    assert other["p_holm"] == expected["subject_drift.subject_flow"]
