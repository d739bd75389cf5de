"""``circle-rotate dataset score`` on rendered clips with exact truth (tests/fixtures/dataset_clips.py): it keeps
exactly the two orbits and rejects every other clip with its reason, and writes scores.csv and scores.html."""

from __future__ import annotations

import base64
import csv
import re
from pathlib import Path

import pytest

from circle_rotate.cli import main
from fixtures import dataset_clips

EXPECTED = {
    "orbit_left": "",
    "orbit_right": "",
    "pan": "not an orbit (pan)",
    "slide": "not an orbit (slide)",
    "static": "not an orbit (static)",
    "turntable": "not an orbit (turntable)",
    "back_and_forth": "backtracks",
    "accelerating": "uneven angular speed",
    "subject_sliding": "subject sliding",
    "repeated": "repeated frames",
    "short": "too short",
    "broken": "unreadable",
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, dict]]:
    clips = tmp_path_factory.mktemp("clips")
    for kind in dataset_clips.KINDS:
        dataset_clips.write_clip(kind, clips)
    (clips / "broken.mp4").write_text("not a video", encoding="utf-8")
    out = tmp_path_factory.mktemp("scores")
    status = main(["dataset", "score", str(clips), "--output", str(out), "--no-progress", "--no-segment"])
    with open(out / "scores.csv", newline="", encoding="utf-8") as handle:
        rows = {Path(row["video"]).stem: row for row in csv.DictReader(handle)}
    return out, status, rows


def test_score_keeps_exactly_the_orbits(scored: tuple) -> None:
    _, status, rows = scored
    assert set(rows) == set(EXPECTED)
    assert {name for name, row in rows.items() if row["decision"] == "keep"} == {"orbit_left", "orbit_right"}
    assert rows["orbit_left"]["direction"] == "left" and rows["orbit_right"]["direction"] == "right"
    assert status == 0


@pytest.mark.parametrize("name", [name for name, reason in EXPECTED.items() if reason])
def test_each_other_clip_is_rejected_with_its_reason(scored: tuple, name: str) -> None:
    row = scored[2][name]
    assert row["decision"] == "reject"
    assert row["reason"] == EXPECTED[name], row["details"]
    assert row["reasons"].split(" | ")[0] == row["reason"]
    assert row["details"].startswith(row["reason"])


def test_masks_beside_the_clips_measure_the_subject(scored: tuple) -> None:
    rows = scored[2]
    assert rows["orbit_left"]["subject_source"] == "masks"
    assert float(rows["orbit_left"]["subject_shift"]) < 0.01
    assert float(rows["subject_sliding"]["subject_shift"]) > 0.05


def test_html_has_a_thumbnail_and_a_decision_per_clip(scored: tuple) -> None:
    out, _, rows = scored
    page = (out / "scores.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(rows) - 1  # the unreadable clip has no frame
    assert all(base64.b64decode(image)[:2] == b"\xff\xd8" for image in images)
    assert page.count('<tr class="keep">') == 2 and page.count('<tr class="reject">') == len(rows) - 2
    assert "not an orbit (turntable)" in page and "2 of 12 clip(s) kept" in page


def test_without_masks_or_weights_the_subject_is_not_measured(tmp_path: Path) -> None:
    video = dataset_clips.write_clip("subject_sliding", tmp_path, masks=False)
    out = tmp_path / "scores"
    assert main(["dataset", "score", str(video), "--output", str(out), "--no-progress", "--no-segment"]) == 0
    with open(out / "scores.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["decision"] == "keep" and row["subject_shift"] == ""
    assert row["subject_source"] == "not measured: turned off with --no-segment"


def test_thresholds_are_options(scored: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the clip that shows every frame twice is a good orbit otherwise: a looser limit keeps it
    video = scored[2]["repeated"]["video"]
    args = ["dataset", "score", video, "--output", str(tmp_path / "scores"), "--no-progress", "--no-segment"]
    assert main([*args, "--max-repeated-fraction", "0.6"]) == 0
    assert "keep    repeated.mp4" in capsys.readouterr().out


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "score", str(tmp_path / "missing.mp4"), "--output", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "does not exist" in capsys.readouterr().err
    video = dataset_clips.write_clip("short", tmp_path)
    assert main(["dataset", "score", str(video), "--output", str(tmp_path / "o"), "--max-speed-cv", "-1"]) == 2
    assert "max_speed_cv=-1" in capsys.readouterr().err


def test_prepare_takes_the_kept_orbits_with_their_measured_directions(scored: tuple, tmp_path: Path) -> None:
    from circle_rotate.prompts import orbit_prompt

    dataset = tmp_path / "dataset"
    assert main(["dataset", "prepare", str(scored[0]), "--output", str(dataset), "--subject", "a tower", "--language", "en"]) == 0
    videos = dataset / "videos"
    assert sorted(p.name for p in videos.glob("*.mp4")) == ["orbit_left.mp4", "orbit_right.mp4"]
    for direction in ("left", "right"):
        assert (videos / f"orbit_{direction}.txt").read_text(encoding="utf-8").strip() == orbit_prompt("a tower", direction, language="en")
    assert "target_frames = [33]" in (dataset / "dataset.toml").read_text(encoding="utf-8")
