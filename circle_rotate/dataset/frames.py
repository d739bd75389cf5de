"""Frame counts of a Wan2.2 training set: the 4k+1 rule and what musubi-tuner's frame extraction takes from a clip.

Wan's VAE compresses time by 4 after the first frame, so a clip of F frames encodes to (F - 1) / 4 + 1 latent
frames and F must be 4k + 1 (1, 5, 9, ..., 81). musubi-tuner rounds other ``target_frames`` down to that form.

Extraction (our reading of musubi-tuner's ``VideoDataset``; checked against it in tests/unit/test_dataset_prepare.py):
``head`` takes the first T frames for every target T the clip is long enough for; ``uniform`` takes
``frame_sample`` windows of T frames evenly spaced over the clip; ``full`` takes the whole clip, capped at
``max_frames`` and rounded down to 4k + 1.
"""

from __future__ import annotations

from collections.abc import Sequence

EXTRACTIONS = ("head", "uniform", "full")
WAN_MAX_FRAMES = 81  # Wan2.2 I2V generates 81 frames (5 s at 16 fps); the default cap of the target frames


def is_wan_length(frames: int) -> bool:
    """True when ``frames`` is 4k + 1 with k >= 0."""
    return frames >= 1 and (frames - 1) % 4 == 0


def floor_wan_length(frames: int) -> int:
    """The largest 4k + 1 not above ``frames`` (>= 1). Raises ValueError for frames < 1."""
    if frames < 1:
        raise ValueError(f"frames={frames}: a clip needs at least 1 frame")
    return (frames - 1) // 4 * 4 + 1


def check_target_frames(targets: Sequence[int]) -> tuple[int, ...]:
    """``targets`` sorted without duplicates. Raises ValueError naming a value that is not 4k + 1 and its neighbours."""
    if not targets:
        raise ValueError("--target-frames is empty: give counts of the form 4k+1, e.g. 33,81")
    for value in targets:
        if not is_wan_length(value):
            low = floor_wan_length(max(1, value))
            raise ValueError(f"--target-frames {value} is not of the form 4k+1 that Wan needs: use {low} or {low + 4}")
    return tuple(sorted(set(targets)))


def auto_target_frames(frame_counts: Sequence[int], cap: int = WAN_MAX_FRAMES) -> tuple[int, ...]:
    """One target: the largest 4k + 1 that every clip holds, at most ``cap`` (so each clip yields one sample).

    Raises ValueError without clips or with a clip shorter than 5 frames.
    """
    if not frame_counts:
        raise ValueError("no clips: nothing to choose target frames for")
    shortest = min(frame_counts)
    if shortest < 5:
        raise ValueError(f"a clip has {shortest} frame(s): a video sample needs at least 5 (4k+1 with k >= 1)")
    return (floor_wan_length(min(shortest, cap)),)


def samples_of(frame_count: int, targets: Sequence[int], extraction: str, frame_sample: int = 1, max_frames: int = WAN_MAX_FRAMES) -> list[int]:
    """The frame counts of the samples musubi-tuner takes from a clip of ``frame_count`` frames (module docstring).

    Raises ValueError for an unknown extraction.
    """
    if extraction == "head":
        return [t for t in targets if frame_count >= t]
    if extraction == "uniform":
        return [t for t in targets if frame_count >= t for _ in range(frame_sample)]
    if extraction == "full":
        return [floor_wan_length(min(frame_count, max_frames))]
    raise ValueError(f"--frame-extraction {extraction!r} is unknown: use one of {', '.join(EXTRACTIONS)}")
