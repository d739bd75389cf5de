"""A small client for one ComfyUI server's HTTP + websocket API.

Endpoints used: ``POST /upload/image``, ``POST /prompt`` (with our own ``prompt_id`` and ``client_id``),
``GET /ws?clientId=`` (progress messages), ``GET /history/{id}``, ``GET /queue``, ``GET /view``,
``GET /object_info``, ``POST /interrupt`` and ``GET /system_stats`` (health).

Errors fall in three kinds, which the batch runner treats differently:
- ``ServerUnavailable``: connection refused or dropped, a websocket drop while the server went away, a prompt
  that vanished from ``/history`` and ``/queue`` (the server restarted): retry the job, on any server.
- ``PromptRejected``: ``/prompt`` answered 400 (``node_errors``): the job is wrong, do not retry.
- ``ExecutionFailed``: the prompt ran and ComfyUI reported ``execution_error`` or an interruption: do not retry.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests


class ComfyError(RuntimeError):
    """Base class of the client's errors."""


class ServerUnavailable(ComfyError):
    """The server cannot be reached, went away mid-job, or lost the prompt (restart): the job may be retried."""


class PromptRejected(ComfyError):
    """ComfyUI refused the prompt (HTTP 400); ``str()`` is ComfyUI's message with each node's errors."""


class ExecutionFailed(ComfyError):
    """ComfyUI ran the prompt and reported an error or an interruption."""


@dataclass
class Progress:
    """Where a running prompt is: the node executing (id and class) and its step counter (0/0 when none)."""

    node: str | None = None
    class_type: str | None = None
    value: int = 0
    maximum: int = 0
    cached: int = 0


ProgressCallback = Callable[[Progress], None]


def format_rejection(body: dict[str, Any], prompt: dict[str, Any]) -> str:
    """ComfyUI's 400 body from ``/prompt`` as one readable message: the error, then each node's errors."""
    error = body.get("error", {})
    parts = [error.get("message", "prompt rejected") if isinstance(error, dict) else str(error)]
    if isinstance(error, dict) and error.get("details"):
        parts[0] += f": {error['details']}"
    for node_id, node in (body.get("node_errors") or {}).items():
        class_type = node.get("class_type") or prompt.get(node_id, {}).get("class_type", "?")
        for item in node.get("errors", []):
            text = item.get("message", "")
            if item.get("details"):
                text += f": {item['details']}"
            parts.append(f"node {node_id} ({class_type}): {text}")
    return "; ".join(parts)


class ComfyClient:
    """One ComfyUI server.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8188``.
        timeout: seconds for each HTTP request (not for a whole prompt).
    """

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"server URL {url!r} is not an http(s) URL: give one like http://127.0.0.1:8188.")
        self.url = url.rstrip("/")
        self.ws_url = ("wss" if parts.scheme == "https" else "ws") + "://" + parts.netloc + parts.path + "/ws"
        self.timeout = timeout
        self.client_id = uuid.uuid4().hex
        self.session = requests.Session()

    def __repr__(self) -> str:
        return f"ComfyClient({self.url!r})"

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise ServerUnavailable(f"{self.url}{path}: {error.__class__.__name__}: {error}") from error

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code >= 500:
            raise ServerUnavailable(f"{self.url}{path} answered {response.status_code}: {response.text[:500]}")
        if response.status_code >= 400:
            raise ComfyError(f"{self.url}{path} answered {response.status_code}: {response.text[:2000]}")
        return response.json()

    def alive(self) -> bool:
        """True when ``/system_stats`` answers."""
        try:
            self._json("GET", "/system_stats")
        except ComfyError:
            return False
        return True

    def object_info(self) -> dict[str, Any]:
        """``/object_info``: every node class the server knows, with its inputs."""
        return self._json("GET", "/object_info")

    def queue(self) -> dict[str, Any]:
        """``/queue``: ``queue_running`` and ``queue_pending`` lists of [number, prompt_id, ...]."""
        return self._json("GET", "/queue")

    def history(self, prompt_id: str) -> dict[str, Any] | None:
        """The ``/history`` entry of ``prompt_id`` (outputs, status), or None while it has none."""
        return self._json("GET", f"/history/{prompt_id}").get(prompt_id)

    def interrupt(self, prompt_id: str | None = None) -> None:
        """``/interrupt`` the running prompt (only ``prompt_id`` when given)."""
        self._request("POST", "/interrupt", json={"prompt_id": prompt_id} if prompt_id else {})

    def upload_image(self, path: Path, name: str | None = None) -> str:
        """Upload ``path`` to the server's input folder (overwriting ``name``); returns the name LoadImage takes.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            ComfyError / ServerUnavailable: the server refused the upload or cannot be reached.
        """
        name = name or path.name
        with open(path, "rb") as handle:
            body = self._json(
                "POST", "/upload/image", files={"image": (name, handle)}, data={"overwrite": "true", "type": "input"}
            )
        return f"{body['subfolder']}/{body['name']}" if body.get("subfolder") else body["name"]

    def view(self, filename: str, subfolder: str = "", folder_type: str = "output") -> bytes:
        """The bytes of an output file (``/view``)."""
        query = urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
        response = self._request("GET", f"/view?{query}")
        if response.status_code != 200:
            raise ComfyError(f"{self.url}/view {filename!r} (subfolder {subfolder!r}) answered {response.status_code}")
        return response.content

    def queue_prompt(self, prompt: dict[str, Any], prompt_id: str | None = None) -> str:
        """POST ``/prompt``; returns the prompt id (``prompt_id`` when given).

        Raises:
            PromptRejected: ComfyUI answered 400; the message lists every node error.
            ServerUnavailable: the server cannot be reached.
        """
        payload = {"prompt": prompt, "client_id": self.client_id, "prompt_id": prompt_id or uuid.uuid4().hex}
        response = self._request("POST", "/prompt", json=payload)
        if response.status_code == 400:
            raise PromptRejected(format_rejection(response.json(), prompt))
        if response.status_code != 200:
            raise ServerUnavailable(f"{self.url}/prompt answered {response.status_code}: {response.text[:500]}")
        return response.json()["prompt_id"]

    def connect(self) -> Any:
        """A websocket connected to ``/ws?clientId=<client_id>`` (connect before queueing to miss nothing)."""
        import websocket

        try:
            return websocket.create_connection(f"{self.ws_url}?clientId={self.client_id}", timeout=self.timeout)
        except (OSError, websocket.WebSocketException) as error:
            raise ServerUnavailable(f"{self.ws_url}: {error.__class__.__name__}: {error}") from error

    def locate(self, prompt_id: str) -> str:
        """Where ``prompt_id`` is on the server: "done", "running", "pending" or "missing"."""
        if self.history(prompt_id) is not None:
            return "done"
        queue = self.queue()
        if any(item[1] == prompt_id for item in queue.get("queue_running", [])):
            return "running"
        if any(item[1] == prompt_id for item in queue.get("queue_pending", [])):
            return "pending"
        # It may have moved from the queue to the history between the two requests.
        return "done" if self.history(prompt_id) is not None else "missing"

    def wait(
        self, prompt_id: str, ws: Any | None = None, on_progress: ProgressCallback | None = None,
        timeout: float = 3600.0, poll: float = 5.0, prompt: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Follow ``prompt_id`` until it finishes; returns its ``/history`` entry.

        Args:
            prompt_id: the prompt to follow.
            ws: an open websocket from ``connect()`` (opened here when None); closed before returning.
            on_progress: called with a ``Progress`` on every executing/progress message.
            timeout: seconds before giving up (raises ExecutionFailed and interrupts the prompt).
            poll: seconds of websocket silence after which ``/history`` and ``/queue`` are checked (a message
                missed, or the prompt lost in a restart).
            prompt: the prompt as queued, to name node classes in progress reports.

        Raises:
            ServerUnavailable: the connection dropped and the server is gone, or the prompt vanished.
            ExecutionFailed: ComfyUI reported execution_error or execution_interrupted, or the timeout passed.
        """
        import websocket

        ws = ws or self.connect()
        ws.settimeout(poll)
        progress = Progress()
        deadline = time.monotonic() + timeout
        try:
            while True:
                if time.monotonic() > deadline:
                    self.interrupt(prompt_id)
                    raise ExecutionFailed(f"prompt {prompt_id} did not finish within {timeout:.0f} s; interrupted")
                try:
                    message = ws.recv()
                except websocket.WebSocketTimeoutException:
                    if self._check(prompt_id) == "done":
                        return self.finished(prompt_id)
                    continue
                except (OSError, websocket.WebSocketException) as error:
                    where = self._check(prompt_id)  # raises ServerUnavailable when the server or prompt is gone
                    if where == "done":
                        return self.finished(prompt_id)
                    ws.close()
                    ws = self.connect()  # the server is up and still has the prompt: follow it again
                    ws.settimeout(poll)
                    continue
                if not isinstance(message, str):
                    continue  # binary previews
                event = json.loads(message)
                data = event.get("data") or {}
                if data.get("prompt_id") not in (None, prompt_id):
                    continue
                kind = event.get("type")
                if kind == "execution_cached":
                    progress.cached = len(data.get("nodes") or [])
                elif kind == "executing" and data.get("prompt_id") == prompt_id:
                    if data.get("node") is None:
                        return self.finished(prompt_id)
                    progress.node = str(data["node"])
                    progress.class_type = (prompt or {}).get(progress.node, {}).get("class_type")
                    progress.value = progress.maximum = 0
                elif kind == "progress" and data.get("prompt_id") == prompt_id:
                    progress.value, progress.maximum = int(data.get("value", 0)), int(data.get("max", 0))
                elif kind == "execution_success":
                    return self.finished(prompt_id)
                elif kind == "execution_error":
                    raise ExecutionFailed(
                        f"node {data.get('node_id')} ({data.get('node_type')}) raised {data.get('exception_type')}: "
                        f"{str(data.get('exception_message') or '').strip()}"
                    )
                elif kind == "execution_interrupted":
                    raise ExecutionFailed(f"prompt {prompt_id} was interrupted at node {data.get('node_id')}")
                else:
                    continue
                if on_progress is not None:
                    on_progress(progress)
        finally:
            ws.close()

    def _check(self, prompt_id: str) -> str:
        """``locate`` that turns a vanished prompt into ServerUnavailable (the server restarted and lost it)."""
        where = self.locate(prompt_id)
        if where == "missing":
            raise ServerUnavailable(f"prompt {prompt_id} vanished from {self.url} (/history and /queue): restarted?")
        return where

    def finished(self, prompt_id: str) -> dict[str, Any]:
        """The history entry of a finished prompt; raises ExecutionFailed when its status is an error."""
        delay = 0.005
        while (entry := self.history(prompt_id)) is None:  # history is written just after the final message
            if self.locate(prompt_id) == "missing":
                raise ServerUnavailable(f"prompt {prompt_id} finished on {self.url} but is in neither /history "
                                        "nor /queue: restarted?")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise ExecutionFailed(_history_error(status))
        return entry


def _history_error(status: dict[str, Any]) -> str:
    """The execution_error message of a history status, as ``node N (Class) raised Type: message``."""
    for kind, data in status.get("messages") or []:
        if kind == "execution_error":
            return (
                f"node {data.get('node_id')} ({data.get('node_type')}) raised {data.get('exception_type')}: "
                f"{str(data.get('exception_message', '')).strip()}"
            )
        if kind == "execution_interrupted":
            return f"interrupted at node {data.get('node_id')}"
    return "ComfyUI reported status error"
