"""Motion metrics (circle_rotate.metrics.motion) on known shifts and against VBench's definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from circle_rotate.metrics.flow import FlowCache, farneback_magnitude, to_gray
from circle_rotate.metrics.motion import StrideCollector, UpstreamMotion, top_fraction_mean, upstream_motion, vbench_dynamic_degree, vbench_stride
from fixtures.synthetic_video import shifted_texture


def test_motion_magnitude_of_a_known_global_shift():
    frames = shifted_texture(6, dx=3, dy=-1, height=96, width=128)
    result = upstream_motion(frames)
    assert result["pairs"] == 5
    # Farneback is biased at the borders (content enters/leaves): the mean stays within 10% of |shift|
    assert result["motion_magnitude"] == pytest.approx(math.hypot(3, 1), rel=0.1)


def test_static_video_has_no_motion():
    frames = np.repeat(shifted_texture(1, 0, 0), 4, axis=0)
    result = upstream_motion(frames)
    assert result["motion_magnitude"] < 0.01
    assert result["frame_diff_ratio"] == 0.0


def test_frame_difference_ratio_follows_the_original():
    frames = shifted_texture(4, dx=2, dy=0)
    gray = [to_gray(f).astype(float) for f in frames]
    expected = np.mean([(np.abs(gray[i + 1] - gray[i]) > 10).mean() for i in range(3)])
    assert upstream_motion(frames)["frame_diff_ratio"] == pytest.approx(expected)


def test_single_frame_gives_zero_as_the_original():
    assert upstream_motion(shifted_texture(1, 0, 0)) == {"motion_magnitude": 0.0, "frame_diff_ratio": 0.0, "pairs": 0}


def test_visitor_offers_only_kept_pairs_to_the_cache():
    frames = shifted_texture(4, dx=1, dy=1)
    cache = FlowCache(keep={(1, 2)})
    visitor = UpstreamMotion(cache)
    for i, frame in enumerate(frames):
        visitor.visit(i, frame)
    visitor.finish()
    shared = cache.magnitude((1, 2), frames[1], frames[2])
    assert cache.computed == 0  # reused, not recomputed
    np.testing.assert_array_equal(shared, farneback_magnitude(to_gray(frames[1]), to_gray(frames[2])))
    cache.magnitude((0, 3), frames[0], frames[3])
    assert cache.computed == 1


def test_threaded_pairs_give_the_serial_result_in_order():
    frames = np.concatenate([shifted_texture(6, dx=1, dy=0), shifted_texture(6, dx=0, dy=3)])
    results = []
    for workers in (1, 3):
        visitor = UpstreamMotion(FlowCache(keep={(2, 3), (8, 9)}), workers=workers)
        for i, frame in enumerate(frames):
            visitor.visit(i, frame)
        results.append((visitor.result(), visitor.magnitudes, visitor.diff_ratios, visitor.cache))
    (serial, serial_magnitudes, serial_ratios, serial_cache), (threaded, magnitudes, ratios, cache) = results
    assert threaded == serial and threaded["pairs"] == 11
    assert magnitudes == serial_magnitudes and ratios == serial_ratios
    assert magnitudes[7] > 2 * magnitudes[2]  # the second half moves 3 px per frame, the first 1 px: order matters
    for pair in ((2, 3), (8, 9)):
        np.testing.assert_array_equal(cache._store[pair], serial_cache._store[pair])


@pytest.mark.parametrize("fps,stride", [(16, 2), (8, 1), (30, 4), (24, 3), (2, 1)])
def test_vbench_stride(fps, stride):
    assert vbench_stride(fps) == stride


def test_stride_collector_keeps_every_nth_frame():
    collector = StrideCollector(3)
    for i in range(10):
        collector.visit(i, np.full((2, 2, 3), i, np.uint8))
    assert [int(f[0, 0, 0]) for f in collector.frames] == [0, 3, 6, 9]


def test_top_fraction_mean_matches_vbench_sort():
    rad = np.random.default_rng(0).random((37, 53))
    cut = int(rad.size * 0.05)
    reference = np.mean(abs(np.sort(-rad.flatten()))[:cut])
    assert top_fraction_mean(rad) == pytest.approx(reference)


class ConstantFlow:
    """Flow of a fixed magnitude per pair (pair k gets magnitudes[k]); records batch sizes."""

    def __init__(self, magnitudes):
        self.magnitudes = list(magnitudes)
        self.batches = []

    def flow(self, a, b):
        self.batches.append(len(a))
        out = np.zeros((len(a), a.shape[1], a.shape[2], 2), np.float32)
        for k in range(len(a)):
            out[k, ..., 0] = self.magnitudes.pop(0)
        return out


def test_vbench_dynamic_degree_threshold_and_count():
    frames = np.zeros((9, 64, 128, 3), np.uint8)  # 9 frames -> 8 pairs, threshold 6 * 64 / 256 = 1.5 px
    flow = ConstantFlow([2.0, 2.0, 1.0, 1.5, 1.0, 1.0, 1.0, 1.0])
    result = vbench_dynamic_degree(frames, flow, batch_size=3)
    assert flow.batches == [3, 3, 2]
    assert result["threshold_px"] == 1.5
    assert result["required_pairs"] == 2  # round(4 * 9 / 16) = round(2.25), VBench counts frames
    assert result["moving_pairs"] == 2  # 1.5 is not above the threshold
    assert result["dynamic"] is True
    static = vbench_dynamic_degree(frames, ConstantFlow([2.0] + [0.0] * 7))
    assert static["dynamic"] is False


def test_vbench_dynamic_degree_needs_two_frames():
    with pytest.raises(ValueError, match="at least 2"):
        vbench_dynamic_degree(np.zeros((1, 8, 8, 3), np.uint8), ConstantFlow([]))
