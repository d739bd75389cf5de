"""``circle-rotate dataset score`` time per clip on rendered clips, with a decode-only baseline from the same run.

Renders ``--clips`` clips (default 20) cycling through the kinds of ``tests/fixtures/dataset_clips.py`` (orbits
left and right, pan, slide, static, turntable, back-and-forth, accelerating, a sliding subject, repeated frames, a
short clip; 160 x 96, 33 frames at 16 fps, lossless mp4, with subject masks), then times
``circle_rotate.dataset.score.score_clips`` on all of them (local executor, no detector: the masks give the
subject), i.e. the command's whole work: the orbit metric, motion (Farneback over every frame) and subject drift
per clip, the decisions, a thumbnail per clip (a second decode) and the two files. The baseline is one full decode
of every clip (``video.load_clip``, all frames): the floor any per-clip tool pays. Rendering is not timed.

Prints seconds per clip for both, their ratio, and a projection (not a measurement) for the 2,168 clips of the
Circle-Rotate dataset at this speed on one process. Real clips (e.g. 81 frames at 1280 x 720) cost more: pass
``--videos DIR`` to time your own.

Usage: ``python bench/dataset_score.py [--clips 20] [--videos DIR]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from circle_rotate.dataset.score import ScoreSettings, collect_videos, score_clips  # noqa: E402
from circle_rotate.video import load_clip  # noqa: E402

DATASET_CLIPS = 2168


def rendered(folder: Path, count: int) -> list[Path]:
    """``count`` rendered clips with masks in ``folder`` (kinds in turn)."""
    from fixtures import dataset_clips

    return [dataset_clips.write_clip(dataset_clips.KINDS[i % len(dataset_clips.KINDS)], folder, f"clip_{i:03d}") for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=20, help="rendered clips to time (default 20)")
    parser.add_argument("--videos", type=Path, help="time these clips (a folder) instead of rendered ones")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        videos = collect_videos([args.videos]) if args.videos else rendered(Path(tmp), args.clips)
        started = time.perf_counter()
        for video in videos:
            load_clip(video, 0)
        decode = (time.perf_counter() - started) / len(videos)
        started = time.perf_counter()
        scores = score_clips(videos, ScoreSettings(output=Path(tmp) / "scores", progress=False))
        score = (time.perf_counter() - started) / len(videos)
    kept = sum(s.verdict.keep for s in scores)
    print(f"dataset score: {len(videos)} clips, {kept} kept; {score:.3f} s per clip (whole command work)")
    print(f"baseline, one full decode per clip: {decode:.3f} s per clip; score / decode = {score / decode:.1f}x")
    print(f"projection (not measured): {DATASET_CLIPS} clips at this speed on one process: {DATASET_CLIPS * score / 60:.1f} min")


if __name__ == "__main__":
    main()
