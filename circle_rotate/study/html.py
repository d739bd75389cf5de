"""study.html: the whole study in one self-contained file.

No network resource of any kind: the CSS is inline, there is no script, and every figure is embedded as a
``data:image/png;base64`` URI, so the file can be mailed, archived or opened offline. It shows the summary (which
conclusions survive), the table with the method note under it, the per-video noise and errors, the failures and
skipped manifest rows, and the figures: each image shows its caption under the plot, and the same caption (read
from the PNG's ``Description`` text chunk, see ``figures.py``) is its alt text.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from .summary import SIDES, is_significant
from .tables import method_note, number, summary_text, table_rows

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1400px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
div.scroll { overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td.text { text-align: left; } td:first-child, th:first-child { text-align: left; white-space: normal; min-width: 16em; }
tr.significant td { background: #eaf6ea; } tr.noise td { background: #fff4e0; }
pre { background: #f7f7f7; padding: 0.8em; white-space: pre-wrap; }
p.method { font-size: 0.85em; color: #444; max-width: 70em; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #444; max-width: 70em; }
"""

SECTIONS = (("metric_", "Metrics: paired plots and changes"), ("pair_", "Pairs: centroid and yaw tracks"), ("flow_", "Videos: first-vs-last optical flow"))


def _metrics_table(study: Mapping[str, Any]) -> str:
    rows = table_rows(study)
    head = "".join(f"<th>{escape(cell)}</th>" for cell in rows[0])
    body = []
    for entry, row in zip(study.get("metrics", {}).values(), rows[1:]):
        significant = is_significant(entry)
        css = "noise" if significant and entry.get("within_noise") else "significant" if significant else ""
        body.append(f'<tr class="{css}">' + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _noise_table(study: Mapping[str, Any]) -> str:
    rows = []
    for entry in study.get("per_pair", []):
        noise = entry.get("noise_px") or {}
        errors = entry.get("errors") or {}
        cells = [str(entry["pair"]), *(number(noise.get(side), 3) for side in SIDES)]
        missing = "; ".join(f"{side}: {name}" for side in SIDES for name in (errors.get(side) or {}))
        rows.append("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + f'<td class="text">{escape(missing)}</td></tr>')
    head = "<tr><th>Pair</th><th>Base noise (px)</th><th>LoRA noise (px)</th><th>Metrics not computed</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _problems(study: Mapping[str, Any]) -> str:
    items = [
        f"<li>pair {escape(str(f.get('pair')))} {escape(str(f.get('side')))}: {escape(str(f.get('video')))}: {escape(str(f.get('error')))}</li>"
        for f in study.get("failed", [])
    ]
    items += [
        f"<li>manifest line {escape(str(r.get('line')))}, field {escape(str(r.get('field')))}: {escape(str(r.get('error')))}</li>"
        for r in study.get("skipped_rows", [])
    ]
    return f"<ul>{''.join(items)}</ul>" if items else "<p>None.</p>"


def _figure(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as image:
        caption = image.text.get("Description", path.stem)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}"><figcaption>{escape(path.name)}</figcaption></figure>'


def _figures(figures: Sequence[Path]) -> str:
    parts = []
    for prefix, title in SECTIONS:
        chosen = [Path(p) for p in figures if Path(p).name.startswith(prefix)]
        if chosen:
            parts.append(f"<h2>{escape(title)}</h2>" + "".join(_figure(p) for p in chosen))
    return "".join(parts)


def render_html(study: Mapping[str, Any], figures: Sequence[Path]) -> str:
    """The page as a string (see the module docstring)."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Base vs LoRA study</title>'
        f"<style>{CSS}</style></head><body><h1>Base vs LoRA study</h1>"
        f"<h2>Summary</h2><pre>{escape(summary_text(study))}</pre>"
        f"<h2>Paired statistics</h2>{_metrics_table(study)}<p class=\"method\">{escape(method_note(study))}</p>"
        f"<h2>Mask noise and missing metrics per pair</h2>{_noise_table(study)}"
        f"<h2>Failures and skipped rows</h2>{_problems(study)}"
        f"{_figures(figures)}</body></html>\n"
    )


def write_html(study: Mapping[str, Any], figures: Sequence[Path], path: str | Path) -> None:
    """Write study.html (:func:`render_html`) to ``path``.

    Args:
        study: the study dict (study.json's schema).
        figures: PNG files from ``figures.write_figures``, embedded in this order within their section.
        path: the HTML file to write.
    """
    Path(path).write_text(render_html(study, figures), encoding="utf-8")
