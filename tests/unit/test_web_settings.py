"""The web extension reads ComfyUI settings through the frontend's documented API,
``app.extensionManager.setting.get(id)``, not the legacy ``app.ui.settings`` object."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "web" / "js").glob("*.js"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_settings_are_read_through_the_extension_manager(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"\bui\??\.settings\b|getSettingValue", source), "use app.extensionManager.setting.get(id)"


def test_the_report_follows_the_locale_setting() -> None:
    source = (SCRIPTS[0].parent / "circle_rotate_report.js").read_text(encoding="utf-8")
    assert re.search(r"app\.extensionManager\??\.setting\??\.get\(\"Comfy\.Locale\"\)", source)
