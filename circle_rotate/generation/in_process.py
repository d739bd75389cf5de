"""Run an API workflow through ComfyUI's own executor inside this process (no server).

ComfyUI is imported lazily, on the first ``InProcessComfy``: an already-imported ComfyUI is reused (one copy per
process); otherwise it is imported from ``comfyui=``, ``COMFYUI_PATH`` or the ComfyUI this pack is installed in,
as its ``main.py`` does it: ``--cpu`` parsed before ``comfy.model_management`` when there is no CUDA,
``utils.extra_config`` before ``nodes``, then ``init_extra_nodes`` (custom nodes, this pack included).

One ``execution.PromptExecutor`` per process keeps its classic output cache, so loader nodes whose inputs did not
change are not run again: models stay loaded between calls, and ComfyUI's model management keeps them on the
device. Prompts are checked with ``execution.validate_prompt`` (ComfyUI's own per-node messages).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..client.http import ExecutionFailed, PromptRejected, format_rejection
from ..client.runner import file_digest
from .errors import comfyui_not_found, missing_model, with_oom_hint
from .graph import ModelRef
from .progress import StepProgress

PACK_DIR = Path(__file__).resolve().parents[2]
"""The pack's folder (with its ComfyUI ``__init__.py``)."""
PACK_NODE = "CircleRotateTwoExpertSampler"
"""A node id of this pack: present in ``NODE_CLASS_MAPPINGS`` once the pack is loaded."""


def run_coroutine(coroutine: Coroutine) -> Any:
    """Run ``coroutine`` to completion; in a thread of its own when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # none: run here (outside this handler, so errors do not chain onto it)
        loop_running = False
    else:
        loop_running = True
    if not loop_running:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def find_comfyui(explicit: str | Path | None) -> Path:
    """The ComfyUI checkout to import: ``explicit``, else ``$COMFYUI_PATH``, else the ComfyUI whose
    ``custom_nodes`` holds this pack.

    Raises:
        ComfyUINotFoundError: none of them is a folder with ``main.py``; the message says how to point at one.
    """
    candidates = []
    if explicit:
        candidates.append((Path(explicit).expanduser(), "comfyui="))
    elif os.environ.get("COMFYUI_PATH"):
        candidates.append((Path(os.environ["COMFYUI_PATH"]).expanduser(), "COMFYUI_PATH"))
    elif PACK_DIR.parent.name == "custom_nodes":
        candidates.append((PACK_DIR.parent.parent, "the ComfyUI this pack is installed in"))
    for path, _ in candidates:
        if (path / "main.py").is_file():
            return path.resolve()
    tried = [f"{origin} {path} (no main.py)" for path, origin in candidates]
    if not candidates:
        tried = ["comfyui= not given", "COMFYUI_PATH not set", f"this pack ({PACK_DIR}) is not in a custom_nodes folder"]
    raise comfyui_not_found(tried)


def _loaded_comfyui() -> ModuleType | None:
    """ComfyUI's ``nodes`` module when ComfyUI is already imported in this process."""
    module = sys.modules.get("nodes")
    if module is not None and hasattr(module, "NODE_CLASS_MAPPINGS") and hasattr(module, "load_custom_node"):
        return module
    return None


def _import_comfyui(path: Path, extra_args: Sequence[str]) -> ModuleType:
    import torch

    sys.path.insert(0, str(path))
    saved_argv = sys.argv
    sys.argv = [str(path / "main.py"), *(() if torch.cuda.is_available() else ("--cpu",)), "--disable-api-nodes",
                *extra_args]
    try:
        import comfy.options

        comfy.options.enable_args_parsing()
        import comfy.cli_args  # noqa: F401  (parses sys.argv)
        import comfy.model_management  # noqa: F401  (after --cpu)
        import utils.extra_config  # before nodes, as main.py does

        config = path / "extra_model_paths.yaml"
        if config.is_file():
            utils.extra_config.load_extra_path_config(str(config))
        import nodes
    finally:
        sys.argv = saved_argv
    return nodes


def load_comfyui(explicit: str | Path | None = None, extra_args: Sequence[str] = ()) -> ModuleType:
    """ComfyUI's ``nodes`` module with its extra nodes and this pack loaded (importing ComfyUI if needed).

    Args:
        explicit: a ComfyUI checkout; None for ``COMFYUI_PATH`` or the ComfyUI this pack is installed in.
        extra_args: ComfyUI command-line options for a fresh import (e.g. ``["--lowvram"]``).

    Raises:
        ComfyUINotFoundError: no ComfyUI found.
        ValueError: another ComfyUI than ``explicit`` is already imported in this process.
        RuntimeError: ComfyUI failed to load this pack.
    """
    nodes = _loaded_comfyui()
    if nodes is None:
        nodes = _import_comfyui(find_comfyui(explicit), extra_args)
    else:
        loaded = Path(nodes.__file__).resolve().parent
        if explicit and Path(explicit).expanduser().resolve() != loaded:
            raise ValueError(f"comfyui={str(explicit)!r}: ComfyUI from {loaded} is already loaded in this process, "
                             "and a process holds one ComfyUI; drop comfyui= or use a new process")
    if "CreateVideo" not in nodes.NODE_CLASS_MAPPINGS:
        run_coroutine(nodes.init_extra_nodes(init_custom_nodes=True, init_api_nodes=False))
    if PACK_NODE not in nodes.NODE_CLASS_MAPPINGS and not run_coroutine(nodes.load_custom_node(str(PACK_DIR))):
        raise RuntimeError(f"ComfyUI failed to load this pack from {PACK_DIR}; see the log above")
    return nodes


class _ServerStandIn:
    """The part of ComfyUI's ``PromptServer`` that ``PromptExecutor`` uses. Nobody listens in-process, so
    messages are dropped; the executor keeps its own copy in ``status_messages``."""

    def __init__(self) -> None:
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self.last_prompt_id: str | None = None
        self.sockets_metadata: dict = {}

    def send_sync(self, event: str, data: Any, sid: str | None = None) -> None:
        """Accept a message for the (absent) websocket clients."""

    def queue_updated(self) -> None:
        """Accept a queue change notice (there is no queue in-process)."""


class InProcessComfy:
    """ComfyUI in this process, with one executor whose caches keep models loaded between prompts.

    Use ``InProcessComfy.shared(comfyui)``: one per process.
    """

    _shared: InProcessComfy | None = None
    _shared_lock = threading.Lock()

    def __init__(self, comfyui: str | Path | None = None) -> None:
        self.nodes = load_comfyui(comfyui)
        self.path = Path(self.nodes.__file__).resolve().parent
        import execution

        self._execution = execution
        self.executor = execution.PromptExecutor(
            _ServerStandIn(), cache_type=execution.CacheType.CLASSIC, cache_args={"lru": 0, "ram": 0}
        )
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, comfyui: str | Path | None = None) -> InProcessComfy:
        """The process's instance (created on first use; see ``load_comfyui`` for its errors)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls(comfyui)
            elif comfyui and Path(comfyui).expanduser().resolve() != cls._shared.path:
                raise ValueError(f"comfyui={str(comfyui)!r}: ComfyUI from {cls._shared.path} already runs in this "
                                 "process; drop comfyui= or use a new process")
            return cls._shared

    def put_image(self, path: Path) -> str:
        """Copy an image into ComfyUI's input folder under a content-hash name; returns the name LoadImage takes."""
        import folder_paths

        name = f"circle_rotate_{file_digest(path)}{path.suffix.lower()}"
        target = Path(folder_paths.get_input_directory()) / name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return name

    def check_models(self, refs: list[ModelRef]) -> None:
        """Raise MissingModelError for the first model file that is in none of ComfyUI's folders for it."""
        import folder_paths

        for ref in refs:
            if folder_paths.get_full_path(ref.folder, ref.name) is None:
                raise missing_model(ref, folder_paths.get_folder_paths(ref.folder),
                                    folder_paths.get_filename_list(ref.folder), self.path)

    def run(self, prompt: dict[str, Any], source: list, progress: StepProgress) -> np.ndarray:
        """Validate ``prompt`` and execute what ``source`` (the frames' link) needs; returns the frames.

        The whole prompt (with its ``CAPTURE_NODE``) is validated; only ``source`` and its inputs are executed,
        and the frames are read from the executor's output cache, quantised as ComfyUI's SaveImage/PreviewImage
        do (``to_uint8``): the same values as the PNGs a server writes for the capture node.

        Raises:
            PromptRejected: ComfyUI's validation refused the prompt (each node's errors in the message).
            ExecutionFailed: a node raised (ComfyUI's message with the node named; an out-of-memory hint).
        """
        import comfy.model_management
        import comfy.utils
        from comfy_execution.utils import get_executing_context

        def hook(value: int, total: int, preview: Any, prompt_id: str | None = None, node_id: str | None = None) -> None:
            comfy.model_management.throw_exception_if_processing_interrupted()
            if node_id is None and (context := get_executing_context()) is not None:
                node_id = context.node_id
            progress.update(node_id, value, total)

        prompt_id = uuid.uuid4().hex
        with self._lock:
            valid, error, _, node_errors = run_coroutine(self._execution.validate_prompt(prompt_id, prompt, None))
            if not valid:
                raise PromptRejected(format_rejection({"error": error, "node_errors": node_errors}, prompt))
            saved_hook = comfy.utils.PROGRESS_BAR_HOOK
            comfy.utils.set_progress_bar_global_hook(hook)
            try:
                run_coroutine(self.executor.execute_async(prompt, prompt_id, {}, [source[0]]))
            finally:
                comfy.utils.set_progress_bar_global_hook(saved_hook)
            if not self.executor.success:
                raise ExecutionFailed(with_oom_hint(_failure(self.executor.status_messages)))
            images = self.executor.caches.outputs.get(source[0]).outputs[source[1]]
        if len(images) != 1:
            raise ExecutionFailed(f"node {source[0]} gave {len(images)} image batches (a list output): generate "
                                  "takes one batch of frames")
        return to_uint8(images[0])


def to_uint8(images: Any) -> np.ndarray:
    """An IMAGE tensor ((T, H, W, 3) float in [0, 1]) as uint8, exactly as ComfyUI's SaveImage writes its PNGs
    (``clip(255 * x)`` in float32, truncated)."""
    return np.clip(255.0 * images.cpu().numpy(), 0, 255).astype(np.uint8)


def _failure(messages: list) -> str:
    for kind, data in messages:
        if kind == "execution_error":
            return (f"node {data.get('node_id')} ({data.get('node_type')}) raised {data.get('exception_type')}: "
                    f"{str(data.get('exception_message') or '').strip()}")
        if kind == "execution_interrupted":
            return f"interrupted at node {data.get('node_id')}"
    return "ComfyUI reported a failure without a message"
