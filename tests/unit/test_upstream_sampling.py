"""The report's ``upstream`` values of a video shorter than ``num_frames`` come from the original's frames:
``np.linspace(0, T - 1, num_frames).astype(int)`` with its repeats (eval_all.py), computed here independently."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from circle_rotate import suite, video
from circle_rotate.weights import MetricModels
from fixtures.synthetic_video import moving_disc, write_video


class MeanColourEncoder:
    """Deterministic embedding: mean colour and a constant, L2-normalised."""

    def embed(self, frames: np.ndarray) -> np.ndarray:
        f = np.concatenate([frames.reshape(len(frames), -1, 3).mean(axis=1), np.ones((len(frames), 1))], axis=1)
        return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def _original(frames: np.ndarray, masks: np.ndarray, num_frames: int) -> dict:
    """eval_all.py's values, written from its published code path: linspace sampling with repeats, Farneback
    (0.5, 3, 15, 3, 5, 1.2, 0) between consecutive samples, mask centres, cosines of embeddings."""
    picked = np.linspace(0, len(frames) - 1, num_frames).astype(int)
    f, m = frames[picked], masks[picked]
    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in f]
    magnitudes = []
    for a, b in zip(gray[:-1], gray[1:]):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        magnitudes.append(np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2))
    centres = np.array([[np.nonzero(mask)[1].mean(), np.nonzero(mask)[0].mean()] for mask in m])
    e = MeanColourEncoder().embed(f)
    to_first = [_cos(e[0], x) for x in e]
    consecutive = [_cos(a, b) for a, b in zip(e[:-1], e[1:])]
    sc = np.mean([(max(0.0, consecutive[i - 1]) + max(0.0, to_first[i])) / 2 for i in range(1, len(e))])
    return {
        "picked": picked,
        "subject_flow": float(np.mean([mag[mask].mean() for mag, mask in zip(magnitudes, m[:-1])])),
        "global_flow": float(np.mean([mag.mean() for mag in magnitudes])),
        "drift": float(np.hypot(np.std(centres[:, 0]), np.std(centres[:, 1]))),
        "first_last": to_first[-1],
        "global_avg": float(np.mean(to_first)),
        "frame_acc": float(np.mean(consecutive)),
        "vbench_sc": float(sc),
    }


def _evaluate(path, masks, num_frames: int) -> dict:
    models = MetricModels.from_objects(clip=MeanColourEncoder(), dino_upstream=MeanColourEncoder())
    options = suite.SuiteOptions(metrics=("subject_drift", "clip_i", "subject_consistency"), num_frames=num_frames)
    return suite.evaluate_file(path, models, options, masks=masks)


def test_a_12_frame_video_gives_the_originals_values_on_its_repeated_frames(tmp_path):
    t = np.arange(12)
    scene = moving_disc(np.stack([30 + 3 * t, 40 + t], axis=1).astype(float))
    path = write_video(scene.frames, tmp_path / "frames")  # PNG: lossless
    report = _evaluate(path, scene.masks, 16)
    truth = _original(scene.frames, scene.masks, 16)
    assert len(truth["picked"]) - len(set(truth["picked"].tolist())) == 4  # the original repeats 4 frames
    upstream = report["upstream"]
    assert upstream["subject_drift"]["subject_flow"] == pytest.approx(truth["subject_flow"], rel=1e-6)
    assert upstream["subject_drift"]["global_flow"] == pytest.approx(truth["global_flow"], rel=1e-6)
    assert upstream["subject_drift"]["drift"] == pytest.approx(truth["drift"], rel=1e-9)
    for key in ("first_last", "global_avg", "frame_acc"):
        assert upstream["clip_i"][key] == pytest.approx(truth[key], rel=1e-6), key
    assert upstream["vbench_sc"] == pytest.approx(truth["vbench_sc"], rel=1e-6)
    # our own values keep each frame once, under our own names
    assert report["frames"] == 12 and report["clip_i"]["frames"] == 12
    assert report["subject_drift"]["indices"] == list(range(12))
    assert report["clip_i"]["global_avg"] != pytest.approx(truth["global_avg"], rel=1e-9)
    assert report["clip_i"]["upstream_sampling"]["frames"] == 16
    assert report["subject_consistency"]["upstream_sampling"]["upstream_frames"] == 16
    assert any("repeats 4 of them" in note and str(truth["picked"].tolist()) in note for note in report["notes"])


def test_a_video_longer_than_num_frames_has_one_sampling(tmp_path):
    t = np.arange(20)
    scene = moving_disc(np.stack([30 + 2 * t, 40 + t], axis=1).astype(float))
    report = _evaluate(write_video(scene.frames, tmp_path / "frames"), scene.masks, 16)
    truth = _original(scene.frames, scene.masks, 16)
    assert report["subject_drift"]["indices"] == truth["picked"].tolist()
    assert "upstream_sampling" not in report["clip_i"] and "upstream_sampling" not in report["subject_drift"]
    assert not any("np.linspace" in note for note in report["notes"])
    assert report["upstream"]["clip_i"]["global_avg"] == pytest.approx(truth["global_avg"], rel=1e-6)
    assert report["upstream"]["subject_drift"]["drift"] == pytest.approx(truth["drift"], rel=1e-9)


def test_the_originals_sampling_repeats_frames_only_for_short_videos():
    np.testing.assert_array_equal(video.upstream_sample_indices(12, 16), np.linspace(0, 11, 16).astype(int))
    np.testing.assert_array_equal(video.upstream_sample_indices(81, 16), video.sample_indices(81, 16))
    np.testing.assert_array_equal(video.upstream_sample_indices(12, 0), np.arange(12))
