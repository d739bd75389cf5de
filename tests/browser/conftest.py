"""Fixtures for browser tests: a real ComfyUI server with the pack, and headless Debian Chromium via Playwright.

Skipped with a reason when Chromium (``/usr/bin/chromium``, Debian package ``chromium``), Playwright's Python
package or a ComfyUI host is missing. Playwright drives the system Chromium; ``playwright install`` is never
needed (nor run).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.comfy_server import ComfyServer
from fixtures.hosts import PACK_DIR, main_host_or_skip

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SETTINGS = {
    "Comfy.TutorialCompleted": True,
    "Comfy.Workflow.ShowMissingModelsWarning": False,
    "Comfy.Workflow.ShowMissingNodesWarning": True,
    "Comfy.Minimap.Visible": False,
}
"""Settings of the test user: no first-run template dialog, no missing-model dialog (no weights exist here)."""


def _require_browser() -> None:
    if not CHROMIUM.is_file():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need Playwright's Python package: pip install playwright (never `playwright install`)")


def _post_settings(server: ComfyServer, settings: dict[str, Any]) -> None:
    """POST /settings (it answers with an empty body, so ComfyServer.post_json does not fit)."""
    request = urllib.request.Request(
        server.url + "/settings", data=json.dumps(settings).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


@pytest.fixture(scope="session")
def browser_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComfyServer]:
    """A ComfyUI server with the pack (no test nodes, no models) and a test user with quiet settings."""
    _require_browser()
    host = main_host_or_skip()
    server = ComfyServer(host.path, tmp_path_factory.mktemp("browser_server"), PACK_DIR, None, host.python)
    server.start()
    try:
        _post_settings(server, SETTINGS)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the system's) driven by Playwright."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def _keep_extension_error(errors: list[str], message: Any) -> None:
    """Record console errors about loading or running extensions (a broken import shows only there)."""
    if message.type == "error" and ("extension" in message.text.lower() or "CircleRotate" in message.text):
        errors.append(message.text)


@pytest.fixture
def page(browser: Any, browser_server: ComfyServer) -> Iterator[Any]:
    """A page with the ComfyUI frontend loaded and its app ready; ``page.errors`` collects uncaught errors and
    console errors about extensions."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: _keep_extension_error(page.errors, message))
    page.goto(browser_server.url, wait_until="domcontentloaded")
    page.wait_for_function("() => window.app && window.app.graph && window.LiteGraph", timeout=120_000)
    page.wait_for_function(
        "() => window.LiteGraph.registered_node_types['CircleRotateReport'] !== undefined", timeout=60_000
    )
    yield page
    context.close()

