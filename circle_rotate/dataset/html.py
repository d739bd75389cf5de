"""``scores.html``: one self-contained page (inline JPEG thumbnails, no scripts) of a ``dataset score`` run: per clip
its thumbnail, keep or reject with the reasons, and the readings the decision used; the thresholds above."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .scoring import Thresholds, thresholds_dict

if TYPE_CHECKING:
    from .score import ClipScore

READINGS = (
    ("direction", "direction"),
    ("direction_confidence", "confidence"),
    ("yaw_deg", "yaw (deg)"),
    ("parallax_index", "parallax index"),
    ("angular_speed_deg_per_s", "speed (deg/s)"),
    ("angular_speed_cv", "speed CV"),
    ("backtracks", "backtracks"),
    ("subject_shift", "subject shift (of diagonal)"),
    ("frames", "frames"),
    ("repeated_fraction", "repeated"),
)

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; font-size: 0.9em; }
tr.keep td.decision { background: #d8f5d0; }
tr.reject td.decision { background: #f8d7d3; }
img { display: block; }
"""


def _value(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _row(score: ClipScore) -> str:
    from .score import thumbnail_uri

    verdict = score.verdict
    decision = "keep" if verdict.keep else "reject"
    image = f'<img src="{thumbnail_uri(score.thumbnail)}" alt="">' if score.thumbnail else "(no frame)"
    readings = "<br>".join(f"{label}: {html.escape(_value(verdict.readings.get(key)))}" for key, label in READINGS)
    why = "<br>".join(html.escape(detail) for detail in verdict.details) or "all checks passed"
    subject = html.escape(score.subject_source or "-")
    return (
        f'<tr class="{decision}"><td>{image}</td><td>{html.escape(score.video.name)}<br><small>{html.escape(str(score.video))}</small></td>'
        f'<td class="decision"><b>{decision}</b><br>{why}</td><td>{readings}<br>subject: {subject}</td></tr>'
    )


def render_html(scores: Sequence[ClipScore], thresholds: Thresholds) -> str:
    """The page's HTML text."""
    kept = sum(score.verdict.keep for score in scores)
    limits = ", ".join(f"{name} {value}" for name, value in thresholds_dict(thresholds).items())
    rows = "\n".join(_row(score) for score in scores)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>circle-rotate dataset score</title>"
        f"<style>{STYLE}</style></head><body>\n<h1>Orbit clip scores</h1>\n"
        f"<p>{kept} of {len(scores)} clip(s) kept. Thresholds: {html.escape(limits)}.</p>\n"
        "<table><tr><th>frame</th><th>clip</th><th>decision</th><th>readings</th></tr>\n"
        f"{rows}\n</table>\n</body></html>\n"
    )


def write_html(scores: Sequence[ClipScore], thresholds: Thresholds, path: str | Path) -> None:
    """Write :func:`render_html` to ``path``."""
    Path(path).write_text(render_html(scores, thresholds), encoding="utf-8")
