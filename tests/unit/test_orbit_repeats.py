"""The orbit metric's repeated-frame test: the suite's (circle_rotate/repeats.py), not a global mean.

Ground truth: a flat 40x40 square moving 0.5 px per frame on a static 256x256 frame has no repeated frame; a video
that shows every frame twice has exactly one repeat per pair.
"""

from __future__ import annotations

import numpy as np

from circle_rotate.metrics.orbit import compute_orbit
from fixtures.synthetic_video import sliding_square


def test_a_small_subject_moving_half_a_pixel_is_not_a_repeat() -> None:
    video = sliding_square(17, 0.5, flat_contrast=32)
    report = compute_orbit(video.frames, np.arange(17), 16.0)
    assert report["repeated_sampled_frames"] == 0


def test_every_frame_shown_twice_reads_as_repeats() -> None:
    video = sliding_square(9, 2.0)
    doubled = np.repeat(video.frames, 2, axis=0)
    report = compute_orbit(doubled, np.arange(len(doubled)), 16.0)
    assert report["repeated_sampled_frames"] == 9
