"""``dataset score``: run the orbit metric, motion and (where masks or detector weights exist) subject drift over many
clips, keep or reject each (``scoring.py``), and write ``scores.csv`` and ``scores.html``.

The clips go through the study executors (``circle_rotate.study.executors``: ``local`` in this process, or
``ray``), one :class:`~circle_rotate.study.executors.EvalJob` per clip with its ``<stem>.masks.npz`` when one is
found (beside the clip, or in ``masks_dir``). Without masks, subject drift uses the detector and segmenter weights
when they are found (slow on a CPU; ``--no-segment`` turns it off) and is otherwise "not measured". VBench's RAFT
dynamic degree is not computed (the decision does not use it).

``scores.csv`` has one row per clip, in the order given, with :data:`CSV_COLUMNS`; ``video`` is the clip's
absolute path, which ``dataset prepare`` reads back.
"""

from __future__ import annotations

import base64
import csv
import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..masks import find_masks
from ..study.executors import EvalJob, ModelSpec, RayOptions, run_jobs
from ..study.manifest import VIDEO_SUFFIXES
from ..suite import SuiteOptions
from .scoring import Thresholds, Verdict, judge

METRICS = ("subject_drift", "motion", "orbit")
CSV_NAME, HTML_NAME = "scores.csv", "scores.html"
CSV_COLUMNS = (
    "video", "decision", "reason", "reasons", "direction", "direction_confidence", "yaw_deg", "parallax_index",
    "angular_speed_deg_per_s", "angular_speed_cv", "backtracks", "subject_shift", "subject_source", "frames", "fps",
    "width", "height", "repeated_fraction", "motion_px_per_frame", "masks", "seconds", "details",
)
THUMBNAIL_WIDTH = 192


@dataclass(frozen=True)
class ScoreSettings:
    """How ``dataset score`` runs.

    Attributes:
        output: the folder for scores.csv and scores.html (created if missing).
        thresholds: the limits a kept clip meets.
        num_frames: frames the orbit metric samples (0 = all).
        horizontal_fov: the camera's horizontal field of view in degrees, or None to estimate it per clip.
        masks_dir: where ``<stem>.masks.npz`` files are looked for; None: beside each clip.
        spec: how the metric models load (only the detector and segmenter are used, for clips without masks).
        executor: "local" or "ray".
        ray: the Ray settings.
        progress: show a progress bar on stderr.
    """

    output: Path
    thresholds: Thresholds = Thresholds()
    num_frames: int = 16
    horizontal_fov: float | None = None
    masks_dir: Path | None = None
    spec: ModelSpec = ModelSpec(disabled=(("raft", "not used by dataset score"),))
    executor: str = "local"
    ray: RayOptions | None = None
    progress: bool = True


@dataclass
class ClipScore:
    """One clip's outcome: its verdict, its masks file, the seconds its evaluation took, where the subject came from
    ("masks", "segmented" or "not measured: <why>"; "" when unreadable) and a thumbnail (JPEG bytes, or None when
    the clip cannot be decoded)."""

    video: Path
    verdict: Verdict
    masks: Path | None
    seconds: float
    subject_source: str
    thumbnail: bytes | None = None


def collect_videos(paths: Iterable[str | Path]) -> list[Path]:
    """The clips named by ``paths``: a file is a clip; a folder holding video files gives those files (sorted by
    name); another folder is an image-folder clip.

    Raises:
        ValueError: a path does not exist, or no clip is named.
    """
    videos: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ValueError(f"video '{path}' does not exist: check the path")
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            videos.extend(inside or [path])
        else:
            videos.append(path)
    if not videos:
        raise ValueError("no videos given: name clip files or folders holding them")
    return [video.resolve() for video in videos]


def thumbnail(video: Path, width: int = THUMBNAIL_WIDTH) -> bytes | None:
    """JPEG bytes of the clip's middle frame, ``width`` pixels wide; None when the clip cannot be decoded."""
    from PIL import Image

    from ..video import load_clip

    try:
        clip = load_clip(video, 3)
    except ValueError:
        return None
    frame = clip.frames[len(clip.frames) // 2]
    image = Image.fromarray(frame)
    image = image.resize((width, max(1, round(frame.shape[0] * width / frame.shape[1]))), Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def thumbnail_uri(data: bytes | None) -> str:
    """A data URI of JPEG bytes ("" for None)."""
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii") if data else ""


def _subject_source(report: dict[str, Any] | None, masks: Path | None) -> str:
    if report is None:
        return ""
    if masks is not None:
        return "masks"
    if (report.get("subject_drift") or {}).get("max_deviation_px_norm") is not None:
        return "segmented"
    why = (report.get("errors") or {}).get("subject_drift") or (report.get("skipped") or {}).get("subject_drift") or "no subject found"
    return f"not measured: {why}"


def score_clips(videos: Sequence[Path], settings: ScoreSettings) -> list[ClipScore]:
    """Evaluate and judge ``videos`` (in order), then write ``scores.csv`` and ``scores.html``.

    Returns:
        One :class:`ClipScore` per video, in the order given.

    Raises:
        ValueError: an output that is a file, a bad option, or the executor's errors (Ray missing).
    """
    from .html import write_html

    if settings.output.exists() and not settings.output.is_dir():
        raise ValueError(f"--output '{settings.output}' is a file: give a folder")
    options = SuiteOptions(metrics=METRICS, num_frames=settings.num_frames, use_lpips=False, horizontal_fov=settings.horizontal_fov)
    jobs = [EvalJob(f"{i:06d}", Path(video), find_masks(video, settings.masks_dir)) for i, video in enumerate(videos)]
    results: dict[str, ClipScore] = {}
    bar = _progress(len(jobs), settings.progress)
    try:
        for result in run_jobs(jobs, options, settings.spec, settings.executor, settings.ray):
            job = result.job
            verdict = judge(result.report, result.error, settings.thresholds)
            results[job.name] = ClipScore(
                job.video, verdict, job.masks, result.seconds, _subject_source(result.report, job.masks),
                thumbnail(job.video) if result.report is not None else None,
            )
            bar.update(1)
    finally:
        bar.close()
    scores = [results[job.name] for job in jobs]
    settings.output.mkdir(parents=True, exist_ok=True)
    write_csv(scores, settings.output / CSV_NAME)
    write_html(scores, settings.thresholds, settings.output / HTML_NAME)
    return scores


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="dataset score", unit="clip", file=sys.stderr, disable=not enabled)


def csv_row(score: ClipScore) -> dict[str, Any]:
    """The ``scores.csv`` row of one clip (:data:`CSV_COLUMNS`)."""
    readings = score.verdict.readings
    row: dict[str, Any] = {name: readings.get(name) for name in CSV_COLUMNS if name in readings}
    row.update(
        video=str(score.video),
        decision="keep" if score.verdict.keep else "reject",
        reason=score.verdict.reason,
        reasons=" | ".join(score.verdict.reasons),
        subject_source=score.subject_source,
        masks=str(score.masks) if score.masks else "",
        seconds=round(score.seconds, 3),
        details=" | ".join(score.verdict.details),
    )
    return {name: "" if row.get(name) is None else row[name] for name in CSV_COLUMNS}


def write_csv(scores: Sequence[ClipScore], path: Path) -> None:
    """Write ``scores.csv`` (one row per clip, :data:`CSV_COLUMNS`)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for score in scores:
            writer.writerow(csv_row(score))
