"""Study outputs (circle_rotate/study/tables.py, figures.py, html.py) written from a small hand-made study."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from circle_rotate.study.figures import write_figures
from circle_rotate.study.html import write_html
from circle_rotate.study.summary import summarise
from circle_rotate.study.tables import markdown_table, summary_text, write_csv, write_markdown

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_gif(path: Path, frames: int = 6, shift: int = 3) -> Path:
    """A small GIF: a bright square on a dark textured background, moving right by ``shift`` px per frame."""
    rng = np.random.default_rng(0)
    background = rng.integers(0, 90, (48, 64, 3), dtype=np.uint8)
    images = []
    for t in range(frames):
        frame = background.copy()
        frame[16:32, 10 + shift * t : 26 + shift * t] = 230
        images.append(Image.fromarray(frame))
    images[0].save(path, save_all=True, append_images=images[1:], duration=62, loop=0)
    return path


def report(video: Path, offset: float, yaw_step: float) -> dict:
    centroids = [[20.0 + offset * t, 24.0] for t in range(6)]
    centroids[2] = None  # a frame without a detection
    return {
        "video": str(video), "frames": 6, "total_frames": 6, "width": 64, "height": 48,
        "subject_drift": {"indices": list(range(6)), "centroids": centroids},
        "orbit": {"yaw_track_deg": [yaw_step * t for t in range(6)]},
    }


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """(study dict, reports by video path) for 4 pairs; the LoRA video of pair p/1 does not exist."""
    tmp_path = tmp_path_factory.mktemp("videos")
    per_pair, reports = [], {}
    drift = [(3.0, 1.0), (2.5, 1.5), (4.0, 1.0), (3.5, 1.2)]
    flow = [(2.0, 1.9), (2.0, 2.1), (2.0, 2.0), (1.0, 1.2)]
    for i in range(4):
        base = write_gif(tmp_path / f"p{i}_base.gif", shift=3)
        lora = write_gif(tmp_path / f"p{i}_lora.gif", shift=1) if i != 1 else tmp_path / "missing.gif"
        reports[str(base)], reports[str(lora)] = report(base, 3.0, 2.0), report(lora, 1.0, 2.5)
        per_pair.append({
            "pair": f"p/{i}", "base": str(base), "lora": str(lora),
            "values": {
                "subject_drift.drift_std_px": {"base": drift[i][0], "lora": drift[i][1]},
                "subject_drift.subject_flow": {"base": flow[i][0], "lora": flow[i][1]},
                "orbit.parallax_index": {"base": -0.2 * i, "lora": None if i == 0 else 0.8},
            },
            "noise_px": {"base": 0.3, "lora": None},
            "errors": {"base": {}, "lora": {"clip_i": "clip: missing weights"}},
        })
    study = {
        "pairs": 4, "evaluated_videos": 7, "noise_floor_px": 0.3, "per_pair": per_pair,
        "failed": [{"pair": "p/1", "side": "lora", "video": str(tmp_path / "missing.gif"), "error": "video does not exist"}],
        "metrics": summarise(per_pair, 0.3, n_resamples=200),
    }
    return study, reports


def test_csv_has_one_row_per_metric(study: tuple[dict, dict], tmp_path: Path) -> None:
    data, _ = study
    write_csv(data, tmp_path / "study.csv")
    with (tmp_path / "study.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["metric"] for row in rows] == list(data["metrics"])
    drift = rows[0]
    assert drift["metric"] == "subject_drift.drift_std_px" and drift["n"] == "4" and drift["lora_better"] == "4"
    assert float(drift["ci95_low"]) <= float(drift["median_change"]) <= float(drift["ci95_high"])
    assert drift["within_noise"] == "False" and rows[1]["within_noise"] == ""


def test_markdown_table_states_the_method_once(study: tuple[dict, dict], tmp_path: Path) -> None:
    data, _ = study
    text = markdown_table(data)
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table_lines) == 2 + len(data["metrics"])
    assert text.count("Method:") == 1 and "Wilcoxon" in text and "200 resamples" in text and "Holm" in text
    assert "\\|orbit.parallax_index\\|" in text  # the absolute value is compared, and the pipes are escaped
    write_markdown(data, tmp_path / "study.md")
    assert (tmp_path / "study.md").read_text(encoding="utf-8") == text


def test_summary_says_which_conclusions_survive(study: tuple[dict, dict]) -> None:
    data, _ = study
    text = summary_text(data)
    assert "No conclusion survives" in text and "more pairs are needed" in text  # 4 pairs: smallest p 2/16
    assert "Failed: pair p/1 lora" in text
    data["metrics"]["subject_drift.drift_std_px"]["p_holm"] = 0.01
    text = summary_text(data)
    assert "Conclusions that survive" in text and "subject_drift.drift_std_px (px): LoRA better" in text
    data["metrics"]["subject_drift.drift_std_px"]["within_noise"] = True
    assert "every significant difference is within the mask noise floor" in summary_text(data)


@pytest.fixture(scope="module")
def figures(study: tuple[dict, dict], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The figures of the first 2 pairs (the second has a missing video)."""
    data, reports = study
    return write_figures(data, reports, tmp_path_factory.mktemp("figures"), max_pairs=2)


def test_figures_are_valid_pngs_with_captions(figures: list[Path]) -> None:
    names = [path.name for path in figures]
    assert names == [
        "metric_subject_drift.drift_std_px.png", "metric_subject_drift.subject_flow.png", "metric_orbit.parallax_index.png",
        "pair_p_0_tracks.png", "flow_p_0_base.png", "flow_p_0_lora.png", "pair_p_1_tracks.png", "flow_p_1_base.png",
    ]
    for path in figures:
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.size[0] > 500 and len(image.text["Description"]) > 40
    with Image.open(figures[4]) as image:
        assert re.search(r"mean \d+\.\d\d px", image.text["Description"])


def test_html_is_self_contained_and_embeds_the_figures(study: tuple[dict, dict], figures: list[Path], tmp_path: Path) -> None:
    data, _ = study
    write_html(data, figures, tmp_path / "study.html")
    page = (tmp_path / "study.html").read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"https?://", page) and "<script" not in page and "@import" not in page
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert "Method:" in page and "No conclusion survives" in page and "video does not exist" in page
    assert "clip_i" in page  # the per-pair table names the metric that was not computed
