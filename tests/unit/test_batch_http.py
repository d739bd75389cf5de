"""ComfyClient.wait: following a prompt on a scripted websocket, with /history and /queue stubbed."""

from __future__ import annotations

import json

import pytest
import websocket

from circle_rotate.client.http import ComfyClient, ExecutionFailed, Progress, ServerUnavailable

PROMPT = {"11": {"class_type": "KSamplerAdvanced", "inputs": {}}}


class ScriptedSocket:
    """Returns the scripted messages in order; an exception instance in the script is raised instead."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.closed = False

    def settimeout(self, seconds: float) -> None:
        pass

    def recv(self):
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item if isinstance(item, bytes) else json.dumps(item)

    def close(self) -> None:
        self.closed = True


def client_with(history: dict, queue: dict | None = None) -> ComfyClient:
    client = ComfyClient("http://127.0.0.1:9")
    client.history = lambda prompt_id: history.get(prompt_id)  # type: ignore[method-assign]
    client.queue = lambda: queue or {"queue_running": [], "queue_pending": []}  # type: ignore[method-assign]
    return client


def event(kind: str, **data) -> dict:
    return {"type": kind, "data": {"prompt_id": "p", **data}}


def test_wait_reports_progress_and_returns_the_history_entry() -> None:
    entry = {"outputs": {}, "status": {"status_str": "success"}}
    ws = ScriptedSocket([
        {"type": "status", "data": {"status": {}}}, event("execution_start"), event("executing", node="11"),
        b"\x00preview", event("progress", value=1, max=2, node="11"), event("progress", value=1, max=2, prompt_id="q"),
        event("execution_success"),
    ])
    seen: list[Progress] = []
    result = client_with({"p": entry}).wait("p", ws, lambda p: seen.append(Progress(**vars(p))), prompt=PROMPT)
    assert result is entry and ws.closed
    assert [(p.class_type, p.value, p.maximum) for p in seen] == [
        ("KSamplerAdvanced", 0, 0), ("KSamplerAdvanced", 1, 2)]


def test_execution_error_names_node_class_and_message() -> None:
    ws = ScriptedSocket([event("execution_error", node_id="11", node_type="KSamplerAdvanced",
                               exception_type="RuntimeError", exception_message="shapes differ\n")])
    with pytest.raises(ExecutionFailed, match=r"^node 11 \(KSamplerAdvanced\) raised RuntimeError: shapes differ$"):
        client_with({}).wait("p", ws)


def test_history_error_status_fails_the_prompt() -> None:
    entry = {"status": {"status_str": "error", "messages": [["execution_error", {
        "node_id": "3", "node_type": "VAEDecode", "exception_type": "ValueError", "exception_message": "bad"}]]}}
    ws = ScriptedSocket([event("executing", node=None)])
    with pytest.raises(ExecutionFailed, match="node 3 \\(VAEDecode\\) raised ValueError: bad"):
        client_with({"p": entry}).wait("p", ws)


def test_dropped_socket_and_lost_prompt_is_server_unavailable() -> None:
    ws = ScriptedSocket([websocket.WebSocketConnectionClosedException("closed")])
    with pytest.raises(ServerUnavailable, match="vanished"):
        client_with({}).wait("p", ws)


def test_silence_checks_history_and_returns_a_finished_prompt() -> None:
    entry = {"outputs": {}, "status": {"status_str": "success"}}
    ws = ScriptedSocket([websocket.WebSocketTimeoutException("quiet")])
    assert client_with({"p": entry}).wait("p", ws) is entry


def test_silence_while_running_keeps_waiting() -> None:
    entry = {"outputs": {}, "status": {"status_str": "success"}}
    history: dict = {}
    client = client_with(history)

    def queue_then_finish() -> dict:  # running when asked; in the history right after
        history["p"] = entry
        return {"queue_running": [[0, "p", {}, {}, []]], "queue_pending": []}

    client.queue = queue_then_finish  # type: ignore[method-assign]
    ws = ScriptedSocket([websocket.WebSocketTimeoutException("quiet"), event("execution_success")])
    assert client.wait("p", ws) is entry and not ws.script
