"""Run an API workflow on a running ComfyUI server through the batch client (``circle_rotate.client``).

Images are uploaded under content-hash names (as ``circle-rotate batch`` does), the prompt is queued and followed
on the websocket (its ``progress`` messages drive the step counter), and the frames are the PNGs of the prompt's
``CAPTURE_NODE`` (a PreviewImage, in the server's temp folder, which ComfyUI empties when it starts), fetched
with ``/view``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..client.http import ComfyClient, ExecutionFailed, ServerUnavailable
from ..client.runner import file_digest
from .errors import missing_model, with_oom_hint
from .graph import CAPTURE_NODE, ModelRef
from .progress import StepProgress
from .video_file import frames_from_pngs


class RemoteComfy:
    """One ComfyUI server.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8188``.

    Raises:
        ValueError: not an http(s) URL.
        ServerUnavailable: the server does not answer.
    """

    def __init__(self, url: str) -> None:
        self.client = ComfyClient(url)
        if not self.client.alive():
            raise ServerUnavailable(f"server={url!r} does not answer (/system_stats): start ComfyUI there, or drop "
                                    "server= to run ComfyUI in this process")
        self._object_info: dict[str, Any] | None = None

    def put_image(self, path: Path) -> str:
        """Upload an image under a content-hash name; returns the name LoadImage takes."""
        return self.client.upload_image(path, f"circle_rotate_{file_digest(path)}{path.suffix.lower()}")

    def check_models(self, refs: list[ModelRef]) -> None:
        """Raise MissingModelError for the first model file that is not among the server's choices for its input."""
        if self._object_info is None:
            self._object_info = self.client.object_info()
        for ref in refs:
            choices = _choices(self._object_info.get(ref.class_type, {}), ref.input)
            if choices is not None and ref.name not in choices:
                where = f"the server's model folder '{ref.folder}' ({self.client.url}: <ComfyUI>/models/{ref.folder})"
                raise missing_model(ref, [where], choices, None)

    def run(self, prompt: dict[str, Any], source: list, progress: StepProgress) -> np.ndarray:
        """Queue ``prompt`` and wait for it; returns the frames of its ``CAPTURE_NODE`` ((T, H, W, 3) uint8).

        Raises:
            PromptRejected: the server refused the prompt (each node's errors in the message).
            ExecutionFailed: a node raised.
            ServerUnavailable: the server went away.
        """
        ws = self.client.connect()
        prompt_id = self.client.queue_prompt(prompt)
        try:
            entry = self.client.wait(prompt_id, ws, prompt=prompt,
                                     on_progress=lambda p: progress.update(p.node, p.value, p.maximum))
        except ExecutionFailed as error:
            raise ExecutionFailed(with_oom_hint(str(error))) from error
        images = entry["outputs"][CAPTURE_NODE]["images"]
        return frames_from_pngs(self.client.view(i["filename"], i.get("subfolder", ""), i["type"]) for i in images)


def _choices(info: dict[str, Any], name: str) -> list[str] | None:
    """The combo choices of input ``name`` in one ``/object_info`` entry; None when it is not a combo."""
    inputs = info.get("input", {})
    spec = inputs.get("required", {}).get(name) or inputs.get("optional", {}).get(name)
    if not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return spec[1].get("options")
    return None
