"""``dataset prepare``: from the clips ``dataset score`` kept, write a musubi-tuner video dataset and the training scripts.

DATASET/ receives:

- ``videos/``: each kept clip (a copy, or a symbolic link with ``link``), with one caption ``<stem>.txt`` beside
  it: the clip's own caption when ``<stem>.txt`` sits beside the source clip (kept as it is), else a caption in the
  Circle-Rotate style from ``prompts.orbit_prompt`` with the measured direction (``subject`` is then required).
  Clips of the same file name from different folders get ``_2``, ``_3`` ... suffixes.
- ``dataset.toml``: musubi-tuner's dataset config (``[general]`` resolution, caption extension, batch size,
  buckets; one ``[[datasets]]`` with ``video_directory``, ``cache_directory``, ``target_frames``,
  ``frame_extraction`` and ``num_repeats``). Target frames are 4k + 1 (``frames.py``); by default the largest such
  count every kept clip holds, at most 81.
- ``prompts.txt``: musubi-tuner's sample prompts (the original passes ``--sample_prompts prompts.txt``): one line per
  measured direction, the caption of its first clip with ``--i`` that clip's first frame (``samples/``).
- ``cache.sh``, ``train_high.sh``, ``train_low.sh`` (``musubi.py``) and ``clips.csv`` (dataset file, source clip,
  caption source, direction, frames, samples taken).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..prompts import orbit_prompt
from . import frames as frame_rules
from . import musubi
from .score import CSV_NAME

CAPTION_EXTENSION = ".txt"


@dataclass(frozen=True)
class PrepareSettings:
    """How the dataset is written.

    Attributes:
        output: the dataset folder (created; must be empty or missing unless ``overwrite``).
        subject: what the clips show, for captions written here ("a car" / "汽车"); None when every clip has one.
        scene: the scene, for written captions ("" for none).
        shot_size: "close_up", "medium" or "wide".
        language: "zh" (the Circle-Rotate dataset's caption language) or "en".
        link: symbolic links to the clips instead of copies.
        resolution: (width, height) musubi-tuner resizes to (with buckets on, the area it keeps).
        target_frames: the sample lengths (each 4k + 1), or None to choose one (``frames.auto_target_frames``).
        frame_extraction: "head", "uniform" or "full" (``frames.py``).
        frame_sample: windows per clip with "uniform".
        max_frames: cap of "full" and of the automatic target.
        batch_size: musubi-tuner's batch size.
        num_repeats: how often each clip counts per epoch.
        overwrite: write into a non-empty folder; its ``videos/``, ``cache/`` and ``samples/`` are emptied first
            (an earlier dataset's clips and cached latents would otherwise be trained on).
    """

    output: Path
    subject: str | None = None
    scene: str = ""
    shot_size: str = "medium"
    language: str = "zh"
    link: bool = False
    resolution: tuple[int, int] = (832, 480)
    target_frames: tuple[int, ...] | None = None
    frame_extraction: str = "head"
    frame_sample: int = 1
    max_frames: int = frame_rules.WAN_MAX_FRAMES
    batch_size: int = 1
    num_repeats: int = 1
    overwrite: bool = False


@dataclass
class KeptClip:
    """A clip ``dataset score`` kept: its path, measured direction and frame count (a row of scores.csv)."""

    video: Path
    direction: str
    frames: int


@dataclass
class Prepared:
    """What ``prepare_dataset`` wrote: the dataset folder, its files, the target frames, and per clip
    (dataset file, source, caption source, direction, frames, samples)."""

    output: Path
    files: list[Path] = field(default_factory=list)
    target_frames: tuple[int, ...] = ()
    clips: list[dict] = field(default_factory=list)


def read_kept(scores: Path) -> list[KeptClip]:
    """The kept clips of a ``dataset score`` output (the folder or its scores.csv), in the CSV's order.

    Raises:
        ValueError: no scores.csv there, a kept clip that no longer exists, or no kept clip.
    """
    path = scores / CSV_NAME if scores.is_dir() else scores
    if not path.is_file():
        raise ValueError(f"'{scores}' holds no {CSV_NAME}: give the --output folder of `circle-rotate dataset score`")
    kept = []
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if row.get("decision") != "keep":
                continue
            video = Path(row["video"])
            if not video.exists():
                raise ValueError(f"{path} line {line}: kept clip '{video}' no longer exists: score the clips again")
            kept.append(KeptClip(video, row["direction"], int(float(row["frames"]))))
    if not kept:
        raise ValueError(f"{path} keeps no clip: see scores.html for the reasons, or loosen the thresholds of `dataset score`")
    return kept


def _check(settings: PrepareSettings) -> None:
    if settings.output.exists() and (not settings.output.is_dir() or (any(settings.output.iterdir()) and not settings.overwrite)):
        raise ValueError(f"--output '{settings.output}' is not an empty folder: give a new folder, or --overwrite")
    if settings.frame_extraction not in frame_rules.EXTRACTIONS:
        raise ValueError(f"--frame-extraction {settings.frame_extraction!r} is unknown: use one of {', '.join(frame_rules.EXTRACTIONS)}")
    for name in ("frame_sample", "batch_size", "num_repeats", "max_frames"):
        if getattr(settings, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} {getattr(settings, name)}: give 1 or more")
    width, height = settings.resolution
    if width < 16 or height < 16 or width % 16 or height % 16:
        raise ValueError(f"--resolution {width}x{height}: give a width and height that are multiples of 16 (e.g. 832x480)")


def _targets(clips: Sequence[KeptClip], settings: PrepareSettings) -> tuple[int, ...]:
    if settings.target_frames is None:
        return frame_rules.auto_target_frames([clip.frames for clip in clips], settings.max_frames)
    targets = frame_rules.check_target_frames(settings.target_frames)
    if settings.frame_extraction != "full":
        short = [clip for clip in clips if clip.frames < targets[0]]
        if short:
            raise ValueError(
                f"'{short[0].video.name}' has {short[0].frames} frames, fewer than every --target-frames "
                f"({', '.join(map(str, targets))}), so it would give no sample: use a smaller count or leave "
                "--target-frames out to choose one"
            )
    return targets


def _caption(clip: KeptClip, settings: PrepareSettings) -> tuple[str, str]:
    """(caption text, "kept" or "written")."""
    own = clip.video.with_suffix(CAPTION_EXTENSION)
    if own.is_file():
        return own.read_text(encoding="utf-8").strip(), "kept"
    if not settings.subject:
        raise ValueError(
            f"'{clip.video.name}' has no caption ({own.name} beside it): give --subject (e.g. 'a car' / '汽车', "
            "with --scene) so captions are written in the Circle-Rotate style, or add the .txt files"
        )
    direction = clip.direction if clip.direction in ("left", "right") else "left_right"
    return orbit_prompt(settings.subject, direction, settings.shot_size, settings.scene, settings.language), "written"


def _unique_name(name: str, used: set[str]) -> str:
    stem, suffix, n = Path(name).stem, Path(name).suffix, 1
    candidate = name
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}_{n}{suffix}"
    used.add(candidate.lower())
    return candidate


def _place(source: Path, target: Path, link: bool) -> None:
    if link:
        os.symlink(source, target)
    else:
        shutil.copy2(source, target)


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def dataset_toml(video_dir: Path, cache_dir: Path, targets: Sequence[int], settings: PrepareSettings) -> str:
    """The text of musubi-tuner's dataset config (see the module docstring)."""
    width, height = settings.resolution
    lines = [
        "# musubi-tuner dataset config written by `circle-rotate dataset prepare` (see docs/dataset_config.md there).",
        "[general]",
        f"resolution = [{width}, {height}]",
        f"caption_extension = {_toml_string(CAPTION_EXTENSION)}",
        f"batch_size = {settings.batch_size}",
        "enable_bucket = true",
        "bucket_no_upscale = false",
        "",
        "[[datasets]]",
        f"video_directory = {_toml_string(str(video_dir))}",
        f"cache_directory = {_toml_string(str(cache_dir))}",
        f"target_frames = [{', '.join(map(str, targets))}]",
        f"frame_extraction = {_toml_string(settings.frame_extraction)}",
    ]
    if settings.frame_extraction == "uniform":
        lines.append(f"frame_sample = {settings.frame_sample}")
    if settings.frame_extraction == "full":
        lines.append(f"max_frames = {settings.max_frames}")
    lines.append(f"num_repeats = {settings.num_repeats}")
    return "\n".join(lines) + "\n"


def _first_frame(video: Path, path: Path) -> None:
    from PIL import Image

    from ..video import load_clip

    Image.fromarray(load_clip(video, 1).frames[0]).save(path)


def _prompts(rows: Sequence[dict], videos: Path, samples: Path, settings: PrepareSettings, frames: int) -> str:
    """musubi-tuner sample prompt lines: one per direction, from its first clip (caption, first frame)."""
    width, height = settings.resolution
    lines, seen = [], set()
    for row in rows:
        if row["direction"] in seen:
            continue
        seen.add(row["direction"])
        image = samples / f"{Path(row['file']).stem}_first.png"
        _first_frame(videos / row["file"], image)
        caption = " ".join(row["caption"].split())
        lines.append(f"{caption} --i {image} --w {width} --h {height} --f {frames} --s 20 --d 42")
    return "\n".join(lines) + "\n"


def prepare_dataset(scores: Path, settings: PrepareSettings) -> Prepared:
    """Write the dataset of the module docstring from the kept clips of a ``dataset score`` output.

    Args:
        scores: the ``dataset score`` output folder (or its scores.csv).
        settings: how to write it.

    Returns:
        :class:`Prepared`.

    Raises:
        ValueError: a bad setting, no kept clip, a clip without caption and no subject, or target frames the
            clips cannot give.
    """
    _check(settings)
    clips = read_kept(scores)
    targets = _targets(clips, settings)
    captions = [_caption(clip, settings) for clip in clips]  # all checked before anything is written
    output = settings.output.resolve()
    videos, cache, samples = output / "videos", output / "cache", output / "samples"
    for folder in (videos, cache, samples):
        if folder.is_dir():  # --overwrite: clips, captions and caches of an earlier dataset must not be trained on
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    prepared = Prepared(output, target_frames=targets)
    used: set[str] = set()
    for clip, (caption, source) in zip(clips, captions):
        name = _unique_name(clip.video.name, used)
        _place(clip.video, videos / name, settings.link)
        (videos / name).with_suffix(CAPTION_EXTENSION).write_text(caption + "\n", encoding="utf-8")
        taken = frame_rules.samples_of(clip.frames, targets, settings.frame_extraction, settings.frame_sample, settings.max_frames)
        prepared.clips.append({
            "file": name, "source": str(clip.video), "caption": caption, "caption_source": source,
            "direction": clip.direction, "frames": clip.frames, "samples": " ".join(map(str, taken)),
        })
    texts = {
        "dataset.toml": dataset_toml(videos, cache, targets, settings),
        "prompts.txt": _prompts(prepared.clips, videos, samples, settings, max(targets)),
        "cache.sh": musubi.cache_script(),
        "train_high.sh": musubi.train_script("high"),
        "train_low.sh": musubi.train_script("low"),
    }
    for name, text in texts.items():
        path = output / name
        path.write_text(text, encoding="utf-8")
        if name.endswith(".sh"):
            path.chmod(0o755)
        prepared.files.append(path)
    listing = output / "clips.csv"
    with open(listing, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(prepared.clips[0]))
        writer.writeheader()
        writer.writerows(prepared.clips)
    prepared.files.append(listing)
    return prepared
