"""A real server serves the pack's translations (/i18n), help pages (/extensions/<pack>/docs) and templates."""

from __future__ import annotations

import urllib.request

import pytest

from fixtures.comfy_in_process import PACK_LINK_NAME

pytestmark = pytest.mark.server


def _text(server, path: str) -> str:
    with urllib.request.urlopen(server.url + path, timeout=30) as response:
        return response.read().decode("utf-8")


def test_i18n_has_the_pack_in_english_and_chinese(comfy_server) -> None:
    i18n = comfy_server.get_json("/i18n")
    assert i18n["en"]["nodeDefs"]["CircleRotateReport"]["display_name"] == "Metrics Report (Circle Rotate)"
    assert i18n["zh"]["nodeDefs"]["CircleRotateReport"]["display_name"] == "指标报告 (Circle Rotate)"
    assert i18n["zh"]["nodeCategories"]["CircleRotate"].startswith("环绕旋转")


def test_help_pages_are_served_where_the_frontend_looks(comfy_server) -> None:
    base = f"/extensions/{PACK_LINK_NAME}/docs"
    assert _text(comfy_server, f"{base}/CircleRotateEvaluate.md").startswith("# Evaluate Orbit Video")
    assert "评估环绕视频" in _text(comfy_server, f"{base}/CircleRotateEvaluate/zh.md")


def test_workflows_are_listed_as_the_pack_templates(comfy_server) -> None:
    templates = comfy_server.get_json("/workflow_templates")[PACK_LINK_NAME]
    assert sorted(templates) == [
        "circle_rotate_ab_lora", "circle_rotate_evaluate_video", "circle_rotate_paper_preset",
        "circle_rotate_wan22_i2v_first_last",
    ]
    assert '"CircleRotateReport"' in _text(comfy_server, f"/api/workflow_templates/{PACK_LINK_NAME}/circle_rotate_evaluate_video.json")
