"""Test tiers and the host report.

- ``tests/unit``: no ComfyUI; always run.
- ``tests/host``: a real ComfyUI (see fixtures/hosts.py); every test there is marked ``host`` and skipped with
  a reason that says how to enable it when no host is found.

After the run, ``$CIRCLE_ROTATE_HOST_REPORT`` (default ``.pytest-host-report.json`` in the checkout) says how many host tests ran (passed or failed)
and, if none did, why; ``scripts/test.sh`` prints it as ``host tests: ran N`` / ``host tests: skipped (...)``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fixtures.hosts import PACK_DIR

HOST_REPORT = Path(os.environ.get("CIRCLE_ROTATE_HOST_REPORT") or PACK_DIR / ".pytest-host-report.json")
_host_outcomes = {"ran": 0, "skip_reasons": []}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    host_dir = Path(__file__).parent / "host"
    for item in items:
        if host_dir in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.host)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "host" not in report.keywords:
        return
    if report.when == "call" and not report.skipped:
        _host_outcomes["ran"] += 1
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _host_outcomes["skip_reasons"].append(reason.removeprefix("Skipped: "))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reasons = _host_outcomes["skip_reasons"]
    if _host_outcomes["ran"]:
        reason = ""
    elif reasons:
        reason = max(set(reasons), key=reasons.count)
    else:
        reason = "no host test was selected"
    HOST_REPORT.write_text(json.dumps({"ran": _host_outcomes["ran"], "reason": reason}))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (developers' material); tests that use it skip where it is absent."""
    path = PACK_DIR.parent / "shared"
    if not path.is_dir():
        pytest.skip(f"{path} is absent (only developers have it)")
    return path
