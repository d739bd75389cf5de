"""``circle-rotate dataset prepare``: the clips, captions, dataset.toml (accepted by musubi-tuner's own loader, frame
counts of the form 4k+1), prompts.txt and scripts it writes from a ``dataset score`` output.

The loader test runs musubi-tuner's ``dataset/config_utils.py`` (and its ``VideoDataset`` frame extraction) in a
subprocess from the checkout at ``MUSUBI_TUNER_PATH`` (else ``${XDG_CACHE_HOME:-~/.cache}/circle-rotate/musubi-tuner``); it is skipped
when there is no checkout or the Python lacks its loader's dependencies (``pip install toml voluptuous``).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from circle_rotate.cli import main
from circle_rotate.dataset import frames as frame_rules
from circle_rotate.prompts import orbit_prompt
from fixtures.hosts import user_cache_dir
from fixtures.synthetic_video import shifted_texture, write_video

# (name, direction, frames, decision); "captioned" has its own caption beside it
CLIPS = [("left_a", "left", 45, "keep"), ("captioned", "right", 37, "keep"), ("pan", "none", 50, "reject"), ("right_b", "right", 41, "keep")]
OWN_CAPTION = "汽车侧面静态展示，镜头环绕左右, 中景,场景是建筑外景"
LOADER = r"""
import argparse, json, os, sys
from musubi_tuner.dataset import config_utils
config = config_utils.load_user_config(sys.argv[1])
generator = config_utils.BlueprintGenerator(config_utils.ConfigSanitizer())
blueprint = generator.generate(config, argparse.Namespace(debug_dataset=False), architecture="wan")
group = config_utils.generate_dataset_group_by_blueprint(blueprint.dataset_group)
samples = {}
for dataset in group.datasets:
    for _, batch in dataset.retrieve_latent_cache_batches(1):
        for item in batch:
            name = os.path.basename(item.item_key).rsplit("_", 1)[0]
            samples.setdefault(name, {"frames": [], "caption": item.caption})["frames"].append(item.frame_count)
print("SAMPLES=" + json.dumps(samples, ensure_ascii=False))
"""


def load_toml(path: Path) -> dict[str, Any]:
    """The TOML file's data (tomllib on Python 3.11+, else tomli if installed)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli", reason="reading TOML on Python 3.10 needs tomli")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def musubi_checkout() -> Path | None:
    """The musubi-tuner checkout: ``MUSUBI_TUNER_PATH``, else ``${XDG_CACHE_HOME:-~/.cache}/circle-rotate/musubi-tuner``
    (where scripts/setup.sh clones it); None if absent."""
    path = Path(os.environ.get("MUSUBI_TUNER_PATH") or user_cache_dir() / "musubi-tuner")
    return path if (path / "src" / "musubi_tuner" / "dataset" / "config_utils.py").is_file() else None


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    """A ``dataset score`` output: scores.csv naming four short clips (three kept), one with its own caption."""
    clips, out = tmp_path / "clips", tmp_path / "scores"
    clips.mkdir()
    out.mkdir()
    rows = []
    for i, (name, direction, n, decision) in enumerate(CLIPS):
        video = write_video(shifted_texture(n, 2, 0, height=48, width=64, seed=i), clips / f"{name}.mp4")
        rows.append({"video": str(video), "decision": decision, "direction": direction, "frames": n})
    (clips / "captioned.txt").write_text(OWN_CAPTION + "\n", encoding="utf-8")
    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def _prepare(scores: Path, dataset: Path, *extra: str) -> int:
    return main(["dataset", "prepare", str(scores), "--output", str(dataset), "--subject", "汽车", "--scene", "建筑外景", *extra])


def test_prepare_writes_kept_clips_with_captions(scores: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    assert _prepare(scores, dataset) == 0
    videos = dataset / "videos"
    assert sorted(p.name for p in videos.glob("*.mp4")) == ["captioned.mp4", "left_a.mp4", "right_b.mp4"]
    assert not any(p.is_symlink() for p in videos.iterdir())
    assert (videos / "captioned.txt").read_text(encoding="utf-8").strip() == OWN_CAPTION
    assert (videos / "left_a.txt").read_text(encoding="utf-8").strip() == orbit_prompt("汽车", "left", "medium", "建筑外景", "zh")
    assert (videos / "right_b.txt").read_text(encoding="utf-8").strip() == orbit_prompt("汽车", "right", "medium", "建筑外景", "zh")
    for name in ("cache.sh", "train_high.sh", "train_low.sh"):
        assert os.access(dataset / name, os.X_OK)
    with open(dataset / "clips.csv", newline="", encoding="utf-8") as handle:
        listing = {row["file"]: row for row in csv.DictReader(handle)}
    assert listing["captioned.mp4"]["caption_source"] == "kept" and listing["left_a.mp4"]["caption_source"] == "written"


def test_toml_frames_fit_4k_plus_1_and_every_clip(scores: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    assert _prepare(scores, dataset) == 0
    config = load_toml(dataset / "dataset.toml")
    (entry,) = config["datasets"]
    assert entry["target_frames"] == [37]  # the largest 4k+1 the shortest kept clip (37 frames) holds
    assert all((t - 1) % 4 == 0 for t in entry["target_frames"])
    assert Path(entry["video_directory"]) == dataset.resolve() / "videos"
    assert Path(entry["cache_directory"]) == dataset.resolve() / "cache"
    assert entry["frame_extraction"] == "head" and entry["num_repeats"] == 1
    assert config["general"] == {"resolution": [832, 480], "caption_extension": ".txt", "batch_size": 1, "enable_bucket": True, "bucket_no_upscale": False}


def test_prompts_use_each_direction_first_clip_and_frame(scores: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    assert _prepare(scores, dataset, "--language", "en", "--subject", "a car") == 0
    lines = (dataset / "prompts.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(orbit_prompt("a car", "left", "medium", "建筑外景", "en") + " --i ")
    assert lines[1].startswith(OWN_CAPTION + " --i ")  # the first right clip keeps its own caption
    image = Path(lines[0].split(" --i ")[1].split(" --")[0])
    assert image.is_file() and "--f 37" in lines[0]


def test_links_and_explicit_frames(scores: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    assert _prepare(scores, dataset, "--link", "--target-frames", "21,33", "--frame-extraction", "uniform", "--frame-sample", "2") == 0
    assert all(p.is_symlink() for p in (dataset / "videos").glob("*.mp4"))
    entry = load_toml(dataset / "dataset.toml")["datasets"][0]
    assert entry["target_frames"] == [21, 33] and entry["frame_sample"] == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-frames", "40"], "40 is not of the form 4k+1 that Wan needs: use 37 or 41"),
        (["--target-frames", "41"], "'captioned.mp4' has 37 frames, fewer than every --target-frames (41)"),
        (["--resolution", "830x480"], "multiples of 16"),
    ],
)
def test_bad_settings_are_named(scores: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    assert _prepare(scores, tmp_path / "dataset", *extra) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "dataset").exists()


def test_missing_subject_names_the_clip_without_caption(scores: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "prepare", str(scores), "--output", str(tmp_path / "dataset")]) == 2
    assert "'left_a.mp4' has no caption (left_a.txt beside it): give --subject" in capsys.readouterr().err


def test_non_empty_output_and_no_kept_clip_are_refused(scores: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = tmp_path / "dataset"
    assert _prepare(scores, dataset) == 0
    assert _prepare(scores, dataset) == 2
    assert "not an empty folder" in capsys.readouterr().err
    for stale in (dataset / "videos" / "old.mp4", dataset / "cache" / "old_00000-037_wan.safetensors"):
        stale.write_bytes(b"from an earlier dataset")
    assert _prepare(scores, dataset, "--overwrite") == 0
    assert not (dataset / "videos" / "old.mp4").exists() and not any((dataset / "cache").iterdir())
    assert len(list((dataset / "videos").glob("*.mp4"))) == 3
    text = (scores / "scores.csv").read_text(encoding="utf-8").replace(",keep,", ",reject,")
    (scores / "scores.csv").write_text(text, encoding="utf-8")
    assert _prepare(scores, tmp_path / "other") == 2
    assert "keeps no clip" in capsys.readouterr().err


def test_frame_rules() -> None:
    assert [frame_rules.floor_wan_length(n) for n in (1, 4, 5, 80, 81, 82)] == [1, 1, 5, 77, 81, 81]
    assert frame_rules.auto_target_frames([90, 120]) == (81,)
    assert frame_rules.samples_of(50, (17, 33, 81), "head") == [17, 33]
    assert frame_rules.samples_of(50, (33,), "uniform", frame_sample=3) == [33, 33, 33]
    assert frame_rules.samples_of(100, (33,), "full", max_frames=81) == [81]
    with pytest.raises(ValueError, match="at least 5"):
        frame_rules.auto_target_frames([4, 40])


def test_musubi_tuner_loader_accepts_the_toml_and_takes_4k_plus_1_frames(scores: Path, tmp_path: Path) -> None:
    checkout = musubi_checkout()
    if checkout is None:
        pytest.skip("no musubi-tuner checkout: set MUSUBI_TUNER_PATH to a clone of kohya-ss/musubi-tuner")
    dataset = tmp_path / "dataset"
    assert _prepare(scores, dataset, "--target-frames", "21,33", "--resolution", "64x48") == 0
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    probe = subprocess.run([sys.executable, "-c", "import toml, voluptuous"], capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        pytest.skip(f"musubi-tuner's dataset loader needs toml and voluptuous in this Python ({probe.stderr.strip().splitlines()[-1]}): pip install toml voluptuous")
    done = subprocess.run([sys.executable, "-c", LOADER, str(dataset / "dataset.toml")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    samples = json.loads(done.stdout.split("SAMPLES=", 1)[1])
    assert set(samples) == {"left_a", "captioned", "right_b"}
    for name, direction, n, _ in CLIPS:
        if name in samples:
            assert sorted(samples[name]["frames"]) == frame_rules.samples_of(n, (21, 33), "head")
            assert all((f - 1) % 4 == 0 for f in samples[name]["frames"])
    assert samples["captioned"]["caption"] == OWN_CAPTION
    assert samples["left_a"]["caption"] == orbit_prompt("汽车", "left", "medium", "建筑外景", "zh")
