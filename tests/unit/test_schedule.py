"""circle_rotate.schedule: flow sigma table, the simple scheduler and Wan's expert handover rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from circle_rotate import schedule


def closed_form_simple_sigmas(shift: float, steps: int) -> list[float]:
    """The simple schedule in float64 from its definition: every (1000 / steps)-th table entry from the top."""
    sigmas = []
    for x in range(steps):
        s = (1000 - math.floor(x * 1000 / steps)) / 1000
        sigmas.append(shift * s / (1 + (shift - 1) * s))
    return [*sigmas, 0.0]


def wan_rule_step(sigmas: list[float], boundary: float) -> int:
    """Wan's rule as its reference code states it: the high expert while t >= boundary * 1000."""
    high_steps = [t for t in (sigma * 1000 for sigma in sigmas[:-1]) if t >= boundary * 1000 - 1e-3]  # float32 ties
    return len(high_steps)


def test_table_is_ascending_and_ends_at_one() -> None:
    table = schedule.flow_sigma_table(8.0)
    assert table.dtype == np.float32 and len(table) == 1000
    assert np.all(np.diff(table) > 0)
    assert table[-1] == pytest.approx(1.0)
    assert table[0] == pytest.approx(8 * 0.001 / (1 + 7 * 0.001), rel=1e-6)


@pytest.mark.parametrize("shift", [1.0, 3.0, 5.0, 8.0, 12.5])
@pytest.mark.parametrize("steps", [1, 3, 4, 7, 20, 30])
def test_simple_sigmas_match_the_closed_form(shift: float, steps: int) -> None:
    ours = schedule.simple_sigmas(shift, steps)
    assert len(ours) == steps + 1 and ours[-1] == 0.0
    np.testing.assert_allclose(ours, closed_form_simple_sigmas(shift, steps), rtol=2e-6, atol=1e-7)


def test_paper_schedule_hands_over_after_two_of_four_steps_at_shift_8() -> None:
    # shift 8, 4 steps: sigmas 1.0, 0.96, 0.889, 0.727, 0 -> the first sigma below 0.9 is step 2.
    sigmas = schedule.simple_sigmas(8.0, 4)
    np.testing.assert_allclose(sigmas, [1.0, 24 / 25, 8 / 9, 8 / 11, 0.0], rtol=1e-6)
    assert schedule.handover_step(sigmas, 0.9) == 2


@pytest.mark.parametrize("shift", [1.0, 3.0, 5.0, 8.0, 12.0])
@pytest.mark.parametrize("steps", [4, 6, 8, 10, 20, 40])
@pytest.mark.parametrize("boundary", [0.9, 0.875, 0.5])
def test_handover_follows_the_wan_rule(shift: float, steps: int, boundary: float) -> None:
    expected = wan_rule_step(closed_form_simple_sigmas(shift, steps), boundary)
    assert schedule.simple_handover_step(shift, steps, boundary) == expected


def test_handover_edges() -> None:
    assert schedule.handover_step([0.8, 0.5, 0.0], 0.9) == 0  # low expert only
    assert schedule.handover_step([1.0, 0.95, 0.0], 0.5) == 2  # high expert only
    assert schedule.handover_step([1.0, 0.9, 0.0], 0.9) == 2  # t == boundary stays high


@pytest.mark.parametrize("boundary", [0.0, -0.1, 1.5])
def test_bad_boundary_is_rejected_with_the_value(boundary: float) -> None:
    with pytest.raises(ValueError, match=rf"boundary {boundary!r} must be in \(0, 1\]"):
        schedule.handover_step([1.0, 0.0], boundary)


def test_bad_steps_and_shift_are_rejected() -> None:
    with pytest.raises(ValueError, match="steps 0 must be >= 1"):
        schedule.simple_sigmas(8.0, 0)
    with pytest.raises(ValueError, match="shift 0.0 must be > 0"):
        schedule.flow_sigma_table(0.0)


def test_format_schedule_marks_each_expert() -> None:
    text = schedule.format_schedule([1.0, 0.96, 0.8889, 0.7273, 0.0], 2)
    lines = text.splitlines()
    assert lines[0] == "step 0: sigma 1.0000 (t 1000.0) high"
    assert lines[2].endswith("low") and lines[1].endswith("high")
    assert lines[-1] == "end: sigma 0.0000"
