"""Sigma schedules of flow-matching models (Wan) and the expert handover they imply. Pure math, no ComfyUI.

Wan2.2 A14B splits denoising between two experts: the high-noise expert runs while the timestep
``t = sigma * 1000`` is at or above ``boundary * 1000``, the low-noise expert afterwards. Wan's official code
uses boundary 0.9 for I2V and 0.875 for T2V (``if t >= boundary_timestep: high else low``).

ComfyUI samples Wan with ``ModelSamplingDiscreteFlow`` (set by ``ModelSamplingSD3``'s ``shift``): a table of
1000 sigmas ``sigma(i) = shift * s / (1 + (shift - 1) * s)`` with ``s = i / 1000``, ``i = 1 ... 1000``, in
float32. Its ``simple`` scheduler takes ``steps`` of them, from the largest down, every ``1000 / steps``
entries, and appends 0. This module recomputes both independently (numpy float32, the same operation order,
so the values equal ComfyUI's bit for bit) so that the handover step can be found without a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WAN_I2V_BOUNDARY = 0.9
"""Wan2.2 I2V A14B: switch to the low-noise expert where timestep / 1000 falls below this."""

WAN_T2V_BOUNDARY = 0.875
"""Wan2.2 T2V A14B boundary."""

BOUNDARY_TOLERANCE = 1e-6
"""A sigma this close to the boundary counts as on it (float32 rounding of e.g. 3 * 0.7 / 2.4 = 0.875)."""

FLOW_TIMESTEPS = 1000
"""Size of ModelSamplingDiscreteFlow's sigma table."""


def flow_sigma_table(shift: float, timesteps: int = FLOW_TIMESTEPS, multiplier: float = 1000.0) -> np.ndarray:
    """The ascending sigma table of a shifted flow model (ComfyUI's ``ModelSamplingDiscreteFlow.sigmas``).

    Args:
        shift: the flow shift (``ModelSamplingSD3``'s shift; the Circle-Rotate workflow uses 8). Must be > 0.
        timesteps: table size (1000 in ComfyUI).
        multiplier: timestep multiplier (1000 for Wan and SD3).

    Returns:
        float32 array of ``timesteps`` sigmas, ascending, the last one 1.0.

    Raises:
        ValueError: if ``shift`` is not positive or ``timesteps`` < 1.
    """
    if not shift > 0:
        raise ValueError(f"shift {shift!r} must be > 0 (Wan uses 5 to 8; the Circle-Rotate workflow uses 8)")
    if timesteps < 1:
        raise ValueError(f"timesteps {timesteps!r} must be >= 1")
    # Same operations in the same order and precision as ComfyUI's torch code (float32, Python scalars
    # rounded to float32 where torch rounds them), so the table equals ComfyUI's bit for bit.
    index = np.arange(1, timesteps + 1).astype(np.float32)
    t = index / np.float32(timesteps) * np.float32(multiplier)
    s = t / np.float32(multiplier)
    if shift == 1.0:
        return s
    return np.float32(shift) * s / (np.float32(1.0) + np.float32(shift - 1.0) * s)


def simple_sigmas(shift: float, steps: int) -> np.ndarray:
    """The ``simple`` scheduler's sigmas for a shifted flow model: ``steps + 1`` values, descending, last 0.

    Args:
        shift: the flow shift (see ``flow_sigma_table``).
        steps: number of sampling steps, >= 1.

    Returns:
        float32 array of length ``steps + 1``.

    Raises:
        ValueError: if ``steps`` < 1 or ``shift`` is not positive.
    """
    if steps < 1:
        raise ValueError(f"steps {steps!r} must be >= 1")
    table = flow_sigma_table(shift)
    stride = len(table) / steps
    picked = [table[-(1 + int(x * stride))] for x in range(steps)]
    return np.array([*picked, 0.0], dtype=np.float32)


def handover_step(sigmas: Sequence[float], boundary: float = WAN_I2V_BOUNDARY) -> int:
    """The first step the low-noise expert takes under Wan's rule, for a descending sigma schedule.

    Step ``i`` (going from ``sigmas[i]`` to ``sigmas[i + 1]``) belongs to the high-noise expert while
    ``sigmas[i] >= boundary`` (timestep ``sigma * 1000 >= boundary * 1000``; a sigma within
    ``BOUNDARY_TOLERANCE`` below the boundary counts as on it, so float32 rounding does not move the handover).
    The result ``k`` means steps ``0 .. k-1`` are high-noise and ``k .. steps-1`` low-noise: 0 means the low
    expert does everything, ``len(sigmas) - 1`` the high expert does everything.

    Args:
        sigmas: the schedule, ``steps + 1`` values, descending (the last one is usually 0).
        boundary: sigma (= timestep / 1000) boundary in (0, 1]; 0.9 for Wan2.2 I2V, 0.875 for T2V.

    Returns:
        The handover step, in ``0 .. len(sigmas) - 1``.

    Raises:
        ValueError: if ``boundary`` is outside (0, 1] or ``sigmas`` has fewer than 2 values.
    """
    if not 0.0 < boundary <= 1.0:
        raise ValueError(f"boundary {boundary!r} must be in (0, 1]: it is timestep / 1000 (Wan I2V uses 0.9)")
    values = [float(sigma) for sigma in sigmas]
    if len(values) < 2:
        raise ValueError(f"sigmas has {len(values)} values; a schedule of n steps has n + 1")
    steps = len(values) - 1
    for index in range(steps):
        if values[index] < boundary - BOUNDARY_TOLERANCE:
            return index
    return steps


def simple_handover_step(shift: float, steps: int, boundary: float = WAN_I2V_BOUNDARY) -> int:
    """``handover_step`` of the ``simple`` schedule with ``shift`` and ``steps`` (see both)."""
    return handover_step(simple_sigmas(shift, steps), boundary)


def format_schedule(sigmas: Sequence[float], handover: int) -> str:
    """One line per step: index, sigma, timestep and expert, e.g. ``step 0: sigma 1.0000 (t 1000.0) high``.

    Args:
        sigmas: the schedule (``steps + 1`` values).
        handover: the first low-noise step (see ``handover_step``).

    Returns:
        The schedule as text, ending with the final sigma.
    """
    values = [float(sigma) for sigma in sigmas]
    lines = []
    for index, sigma in enumerate(values[:-1]):
        expert = "high" if index < handover else "low"
        lines.append(f"step {index}: sigma {sigma:.4f} (t {sigma * 1000:.1f}) {expert}")
    lines.append(f"end: sigma {values[-1]:.4f}")
    return "\n".join(lines)
