"""The real ComfyUI 0.8.0 frontend (comfyui-frontend-package 1.35.9) in headless Chromium, with the pack.

Every shipped workflow loads with every node type known and every widget value taken as written (a save round
trip gives the same ``widgets_values``); the evaluate-a-video workflow runs, and the report node shows its table
and plots. A screenshot of the result is saved and its path printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.hosts import PACK_DIR
from fixtures.object_info import WORKFLOWS_DIR
from fixtures.workflow_tiny import VIDEO, write_orbit_video

SAMPLE = PACK_DIR / "circle_rotate" / "samples" / "demo4_ours.gif"
"""A real Circle-Rotate orbit clip bundled with the pack (see its README); LoadVideo takes videos, not GIFs."""

pytestmark = pytest.mark.server
UI_FILES = sorted(WORKFLOWS_DIR.glob("*.json"))

LOAD_AND_CHECK = """async (workflow) => {
  await window.app.loadGraphData(workflow, true, true, null);
  const graph = window.app.graph;
  const problems = [];
  for (const saved of workflow.nodes) {
    const node = graph.getNodeById(saved.id);
    if (!node) { problems.push(`node ${saved.id} (${saved.type}) was not created`); continue; }
    if (!window.LiteGraph.registered_node_types[saved.type]) problems.push(`node type ${saved.type} is missing`);
    if (node.has_errors) problems.push(`node ${saved.id} (${saved.type}) has errors`);
  }
  const serialised = graph.serialize();
  for (const saved of workflow.nodes) {
    const node = serialised.nodes.find((n) => n.id === saved.id);
    if (node && JSON.stringify(node.widgets_values ?? []) !== JSON.stringify(saved.widgets_values ?? [])) {
      problems.push(`node ${saved.id} (${saved.type}) widgets ${JSON.stringify(saved.widgets_values)} became ${JSON.stringify(node.widgets_values)}`);
    }
  }
  const dialogs = [...document.querySelectorAll('.p-dialog')].map((d) => d.innerText.slice(0, 300));
  return { problems, dialogs, links: serialised.links.length };
}"""


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.stem)
def test_workflow_loads_without_missing_nodes_or_widget_errors(page, path: Path) -> None:
    workflow = _read(path)
    result = page.evaluate(LOAD_AND_CHECK, workflow)
    assert result["problems"] == []
    assert not [d for d in result["dialogs"] if "missing" in d.lower() or "error" in d.lower()], result["dialogs"]
    assert result["links"] == len(workflow["links"])
    assert page.errors == []


def transcode_to_mp4(source: Path, target: Path) -> Path:
    """Re-encode every frame of ``source`` (e.g. a GIF) as H.264 mp4 at its own frame rate."""
    import av

    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        video = reader.streams.video[0]
        stream = writer.add_stream("libx264", rate=video.average_rate)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, "yuv420p"
        for frame in reader.decode(video):
            image = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            writer.mux(stream.encode(image))
        writer.mux(stream.encode())
    return target


def test_evaluate_video_runs_and_the_report_shows_table_and_plots(page, browser_server, tmp_path_factory) -> None:
    target = browser_server.base_dir / "input" / VIDEO
    if SAMPLE.is_file():
        transcode_to_mp4(SAMPLE, target)
    else:
        write_orbit_video(target, frames=24, size=96)
    workflow = _read(WORKFLOWS_DIR / "circle_rotate_evaluate_video.json")
    assert page.evaluate(LOAD_AND_CHECK, workflow)["problems"] == []
    page.evaluate("""() => {
      const canvas = window.app.canvas;
      canvas.ds.scale = 0.8;
      canvas.ds.offset = [-780, 80];
      canvas.setDirty(true, true);
    }""")
    page.evaluate("() => window.app.queuePrompt(0, 1)")
    panel = '[data-circle-rotate="circle_rotate_report"]'
    page.wait_for_selector(f"{panel} table.cr-table", timeout=300_000)
    rows = page.locator(f"{panel} table.cr-table tr").count()
    plots = page.evaluate(f"""() => [...document.querySelectorAll('{panel} svg[data-plot]')].map((svg) => ({{
      name: svg.dataset.plot,
      drawn: [...svg.querySelectorAll('path, polyline')].some((p) => (p.getAttribute('d') || p.getAttribute('points') || '').length > 0),
      visible: svg.getBoundingClientRect().width > 0,
    }}))""")
    text = page.locator(panel).inner_text()
    page.wait_for_timeout(500)
    shot = tmp_path_factory.mktemp("screenshots") / "evaluate_video_report.png"
    page.screenshot(path=str(shot))
    print(f"\nscreenshot of the report node: {shot}")
    assert rows > 10
    assert {plot["name"] for plot in plots} == {"centroids", "drift", "similarity", "yaw", "colour"}
    assert all(plot["visible"] for plot in plots)
    assert next(plot for plot in plots if plot["name"] == "yaw")["drawn"], plots
    assert "orbit" in text and "motion_magnitude" in text
    assert "clip_i" in text  # listed among the errors: no CLIP weights here
    assert page.errors == []


INJECT = """async ([workflow, nodeType, message]) => {
  await window.app.loadGraphData(workflow, true, true, null);
  const node = window.app.graph.nodes.find((n) => n.type === nodeType);
  node.onExecuted(message);
  const panel = node.circleRotatePanel;
  return {
    text: panel.innerText,
    rows: panel.querySelectorAll('table tr').length,
    polyline: panel.querySelector('svg[data-plot="centroids"] polyline')?.getAttribute('points') ?? null,
    paths: [...panel.querySelectorAll('svg[data-plot] path')].map((p) => p.getAttribute('d')).filter((d) => d),
    changeClasses: [...panel.querySelectorAll('td.cr-better, td.cr-worse')].map((td) => td.className),
  };
}"""


def test_report_panel_draws_centroids_drift_and_similarity(page) -> None:
    payload = {
        "title": "injected", "header": {"frames": 3, "total_frames": 3, "width": 64, "height": 32, "fps": 16.0},
        "table": [{"family": "subject_drift", "metric": "speed_px_per_frame", "value": 2.0}],
        "errors": {}, "files": [], "route": "/circle_rotate/report",
        "series": {"width": 64, "height": 32, "indices": [0, 1, 2], "centroids": [[10, 16], None, [14, 16]],
                   "drift_px": [0, None, 4], "similarity": {"clip_i.to_first": [1, 0.9, 0.8]}, "yaw_deg": [0, 1, 2], "parallax": [],
                   "colour_delta_e": {"colour": [0, 1.5, 2.5], "pixels": [0, 6, 9]}},
    }
    workflow = _read(WORKFLOWS_DIR / "circle_rotate_paper_preset.json")
    result = page.evaluate(INJECT, [workflow, "CircleRotateReport", {"circle_rotate_report": [payload]}])
    assert result["polyline"] == "10,16 14,16"
    assert len(result["paths"]) == 5  # drift, one similarity curve, yaw, colour drift (mean colour and per pixel)
    assert "speed_px_per_frame" in result["text"] and "injected" in result["text"]
    assert page.errors == []


def test_ab_panel_shows_side_by_side_relative_changes(page) -> None:
    payload = {
        "label_a": "without LoRA", "label_b": "with LoRA", "files": [], "route": "/circle_rotate/report",
        "rows": [
            {"metric": "subject_drift.speed_px_per_frame", "a": 28.02, "b": 23.78, "change": -4.24, "relative_percent": -15.13},
            {"metric": "clip_i.frame_acc", "a": 0.9, "b": 0.95, "change": 0.05, "relative_percent": 5.56},
        ],
        "highlights": [{"metric": "subject_drift.speed_px_per_frame", "label": "subject drift speed", "relative_percent": -15.13}],
    }
    workflow = _read(WORKFLOWS_DIR / "circle_rotate_ab_lora.json")
    result = page.evaluate(INJECT, [workflow, "CircleRotateABCompare", {"circle_rotate_ab": [payload]}])
    assert result["rows"] == 3
    assert "subject drift speed: -15.1%" in result["text"]
    assert "without LoRA" in result["text"] and "+5.6%" in result["text"]
    assert sorted(result["changeClasses"]) == ["cr-num cr-better", "cr-num cr-worse"]
    assert page.errors == []


def test_report_panel_follows_the_chinese_locale(page) -> None:
    page.evaluate("async () => { await window.app.ui.settings.setSettingValueAsync('Comfy.Locale', 'zh'); }")
    try:
        payload = {"title": "", "header": {"frames": 2}, "table": [], "errors": {}, "files": [], "route": "", "series": {}}
        workflow = _read(WORKFLOWS_DIR / "circle_rotate_evaluate_video.json")
        result = page.evaluate(INJECT, [workflow, "CircleRotateReport", {"circle_rotate_report": [payload]}])
        assert "Circle Rotate 报告" in result["text"] and "逐帧相似度" in result["text"]
    finally:
        page.evaluate("async () => { await window.app.ui.settings.setSettingValueAsync('Comfy.Locale', 'en'); }")
