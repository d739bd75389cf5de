"""Sampling progress across both experts, from ComfyUI's per-node step counters."""

from __future__ import annotations

from collections.abc import Callable

StepCallback = Callable[[int, int], None]
"""Called with (steps done, steps in all) across every sampler node of the workflow."""


class StepProgress:
    """Adds up the step counters of the sampler nodes (class name containing "Sampler"): the pack's two-expert
    sampler reports both experts' steps on one counter; two native KSamplerAdvanced nodes report one each.

    Args:
        callback: receives (done, total) after each update; None to only keep count.
        class_of: node id -> class name (the workflow's nodes).
    """

    def __init__(self, callback: StepCallback | None, class_of: dict[str, str]) -> None:
        self.callback = callback
        self.class_of = class_of
        self.steps: dict[str, tuple[int, int]] = {}

    def update(self, node_id: str | None, value: int, maximum: int) -> None:
        """Record that node ``node_id`` is at step ``value`` of ``maximum``; other nodes are ignored."""
        if node_id is None or "Sampler" not in self.class_of.get(str(node_id), "") or maximum <= 0:
            return
        self.steps[str(node_id)] = (min(int(value), int(maximum)), int(maximum))
        if self.callback is not None:
            self.callback(*self.totals())

    def totals(self) -> tuple[int, int]:
        """(done, total) over the sampler nodes seen so far."""
        return sum(v for v, _ in self.steps.values()), sum(m for _, m in self.steps.values())
