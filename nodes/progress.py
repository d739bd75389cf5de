"""ComfyUI's progress bar and interrupt check, driven by the core's per-stage ``progress`` callback.

``circle_rotate.suite.evaluate_frames`` / ``evaluate_file`` call ``progress(stage)`` as each stage starts
(``"decode"``, then each requested metric family) and again with the same name within it (after each decoded frame,
before each model batch), and let an exception raised there propagate. ``StageProgress`` is that callback for a
node: every call first checks ComfyUI's interrupt flag (Cancel in the UI, ``/interrupt`` over HTTP; raises
``comfy.model_management.InterruptProcessingException``, which ComfyUI reports as an interruption, not an error), so
a long stage (SAM over many frames, RAFT) stops at its next frame or batch; a call naming a new stage then moves the
node's progress bar to the number of stages finished.
"""

from __future__ import annotations

import comfy.model_management
import comfy.utils


class StageProgress:
    """The ``progress`` callback of one evaluation: interrupt check, then one progress-bar step per stage.

    Args:
        stages: how many times the core will call it (1 for the decode + one per requested metric family).
    """

    def __init__(self, stages: int) -> None:
        self.stages = stages
        self.started = 0
        self.current: str | None = None
        self.bar = comfy.utils.ProgressBar(stages)

    def __call__(self, stage: str) -> None:
        """Called as a stage starts and again within it (see ``circle_rotate.suite``): stop here if the user
        interrupted; when ``stage`` is a new one, mark the stages before it as done.

        Raises:
            comfy.model_management.InterruptProcessingException: the user interrupted the run.
        """
        comfy.model_management.throw_exception_if_processing_interrupted()
        if stage == self.current:
            return
        self.current = stage
        self.bar.update_absolute(self.started, self.stages)
        self.started += 1

    def finish(self) -> None:
        """Every stage is done: the bar at its end (the executor checks for an interrupt before the next node)."""
        self.bar.update_absolute(self.stages, self.stages)
