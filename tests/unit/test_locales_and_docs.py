"""Locales (ComfyUI's /i18n: locales/<lang>/main.json, nodeDefs.json) and node help pages (web/docs) cover every node."""

from __future__ import annotations

import json

import pytest

from fixtures.build_locales import DOCS_DIR, LOCALES_DIR, node_defs
from fixtures.object_info import pack_object_info

PACK = pack_object_info()


def _read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_english_node_defs_mirror_the_schemas() -> None:
    assert _read(LOCALES_DIR / "en" / "nodeDefs.json") == node_defs(PACK), "run tests/fixtures/build_locales.py"


@pytest.mark.parametrize("node_id", sorted(PACK))
def test_chinese_node_defs_name_and_describe_every_node(node_id: str) -> None:
    entry = _read(LOCALES_DIR / "zh" / "nodeDefs.json")[node_id]
    assert entry["display_name"] and entry["description"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in entry["display_name"] + entry["description"])
    inputs = {name for section in PACK[node_id]["input"].values() for name in section}
    assert set(entry.get("inputs", {})) <= inputs, "zh names an input the node does not have"
    assert {int(index) for index in entry.get("outputs", {})} <= set(range(len(PACK[node_id]["output"])))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_main_json_translates_the_pack_category(language: str) -> None:
    assert _read(LOCALES_DIR / language / "main.json")["nodeCategories"]["CircleRotate"]


@pytest.mark.parametrize("node_id", sorted(PACK))
def test_every_node_has_help_pages(node_id: str) -> None:
    english = (DOCS_DIR / f"{node_id}.md").read_text(encoding="utf-8")
    chinese = (DOCS_DIR / node_id / "zh.md").read_text(encoding="utf-8")
    assert english.splitlines()[0].startswith(("#", "<!--")) and PACK[node_id]["display_name"].split(" (")[0] in english
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese)
