"""Headless generation: ``CircleRotateInference`` runs our API workflows through ComfyUI's own executor in this
process, or queues them on a server through ``circle_rotate.client``.

Modules: ``inference`` (the API), ``settings`` (constructor settings -> workflow inputs), ``graph`` (pure workflow
edits), ``in_process`` (ComfyUI imported lazily, never at module import), ``remote`` (a server), ``progress``,
``video_file`` (lossless mp4, atomic write), ``errors``.
"""

from .errors import ComfyUINotFoundError, MissingModelError
from .inference import CircleRotateInference, GenerationResult

__all__ = ["CircleRotateInference", "ComfyUINotFoundError", "GenerationResult", "MissingModelError"]
