"""The pack loads into real ComfyUI hosts and every node documents itself."""

from __future__ import annotations

import re

import pytest

from fixtures.comfy_in_process import PACK_LINK_NAME
from fixtures.comfy_server import ComfyServer
from fixtures.hosts import PACK_DIR, find_legacy_host


def pack_node_ids(nodes_module) -> set[str]:
    """Ids of the nodes ComfyUI registered from the pack (by the module it loaded them from)."""
    return {
        node_id for node_id, cls in nodes_module.NODE_CLASS_MAPPINGS.items()
        if getattr(cls, "RELATIVE_PYTHON_MODULE", "") == f"custom_nodes.{PACK_LINK_NAME}"
    }


def test_in_process_host_registers_every_pack_node(comfy_host) -> None:
    registered = pack_node_ids(comfy_host.nodes)
    assert registered, "the pack registered no node"
    assert all(node_id.startswith("CircleRotate") for node_id in registered)
    # The entry point is used, so NODE_CLASS_MAPPINGS must not be exported (ComfyUI would ignore the entry point).
    import importlib

    module = importlib.import_module(str(comfy_host.base_dir / "custom_nodes" / PACK_LINK_NAME).replace(".", "_x_"))
    assert not hasattr(module, "NODE_CLASS_MAPPINGS")
    assert module.WEB_DIRECTORY == "./web"


def assert_documented(object_info: dict, node_ids: set[str]) -> None:
    """Each node has a description, and every input and output a tooltip."""
    problems = []
    for node_id in sorted(node_ids):
        info = object_info[node_id]
        if not info.get("description", "").strip():
            problems.append(f"{node_id}: no description")
        for section in ("required", "optional"):
            for name, spec in info["input"].get(section, {}).items():
                options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
                if not options.get("tooltip", "").strip():
                    problems.append(f"{node_id}.{name}: no tooltip")
        tooltips = info.get("output_tooltips") or []
        if len(tooltips) != len(info["output"]) or not all(t and t.strip() for t in tooltips):
            problems.append(f"{node_id}: outputs without tooltips {info['output_name']}")
    assert not problems, "\n".join(problems)


def pack_nodes_in(object_info: dict) -> set[str]:
    return {node_id for node_id, info in object_info.items() if info.get("python_module") == f"custom_nodes.{PACK_LINK_NAME}"}


def assert_clean_log(log: str) -> None:
    assert "IMPORT FAILED" not in log or PACK_LINK_NAME not in _import_failed_lines(log), _import_failed_lines(log)
    assert f"Cannot import" not in log or PACK_LINK_NAME not in log.split("Cannot import", 1)[1].splitlines()[0], log


def _import_failed_lines(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if "IMPORT FAILED" in line)


@pytest.mark.server
def test_server_object_info_lists_every_pack_node_documented(comfy_server: ComfyServer, comfy_host) -> None:
    object_info = comfy_server.get_json("/object_info")
    served = pack_nodes_in(object_info)
    assert served == pack_node_ids(comfy_host.nodes)
    assert_documented(object_info, served)
    log = comfy_server.log_text()
    assert_clean_log(log)
    assert re.search(rf"\d+\.\d+ seconds: .*{PACK_LINK_NAME}\s*$", log, re.MULTILINE), "pack missing from import times"


@pytest.mark.server
@pytest.mark.legacy_host
def test_legacy_host_0_3_64_loads_the_pack(tmp_path) -> None:
    host, reason = find_legacy_host()
    if host is None:
        pytest.skip(f"legacy host test needs ComfyUI 0.3.64: {reason}")
    server = ComfyServer(host.path, tmp_path / "base", PACK_DIR, None, host.python)
    server.start()
    try:
        object_info = server.get_json("/object_info")
        served = pack_nodes_in(object_info)
        assert served, f"ComfyUI {host.version} lists no pack node:\n{server.log_tail()}"
        assert_documented(object_info, served)
        assert_clean_log(server.log_text())
    finally:
        server.stop()
