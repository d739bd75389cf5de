"""The suite runner (circle_rotate.suite): shared decode and flows, batching, errors that never stop the others."""

from __future__ import annotations

import numpy as np
import pytest

from circle_rotate import suite
from circle_rotate.metric_models.protocols import Detection
from circle_rotate.metrics import flow as flow_module
from circle_rotate.metrics import motion as motion_module
from circle_rotate.metrics.drift import compute_drift
from circle_rotate.weights import MetricModels
from fixtures.synthetic_video import moving_disc, write_video

BACKGROUND_SEED = 0


def _video(frames: int = 17):
    t = np.arange(frames)
    return moving_disc(np.stack([30 + 2 * t, 40 + t], axis=1).astype(float), height=96, width=128, radius=10, seed=BACKGROUND_SEED)


class FakeEncoder:
    """Mean colour + a constant as embedding; records its batch sizes."""

    def __init__(self):
        self.batches = []

    def embed(self, frames):
        self.batches.append(len(frames))
        f = np.concatenate([frames.reshape(len(frames), -1, 3).mean(axis=1), np.ones((len(frames), 1))], axis=1)
        return (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32)


class FakeLpips:
    def __init__(self, fail: bool = False):
        self.fail = fail

    def distance(self, a, b):
        if self.fail:
            raise RuntimeError("lpips exploded")
        return np.abs(a.astype(float) - b).mean(axis=(1, 2, 3)) / 255


class FakeDetector:
    def detect(self, frames):
        return [Detection((0, 0, 10, 10), 0.9, 2, "car") for _ in frames]


class FakeSegmenter:
    """Exact masks: pixels that differ from the known background."""

    def __init__(self, background):
        self.background = background
        self.calls = 0

    def segment(self, frames, boxes):
        self.calls += 1
        return np.any(frames != self.background, axis=-1)


class FakeFlow:
    def flow(self, a, b):
        return np.full((len(a), a.shape[1], a.shape[2], 2), 3.0, np.float32)


def _models(**overrides):
    objects = dict(
        detector=FakeDetector(),
        segmenter=FakeSegmenter(moving_disc(np.array([[-100.0, -100.0]]), seed=BACKGROUND_SEED).frames[0]),
        clip=FakeEncoder(),
        dino_vbench=FakeEncoder(),
        dino_upstream=FakeEncoder(),
        lpips=FakeLpips(),
        raft=FakeFlow(),
    )
    objects.update(overrides)
    return MetricModels.from_objects(**objects)


def test_all_families_with_models():
    video = _video()
    models = _models()
    options = suite.SuiteOptions(num_frames=8, batch_size=3)
    report = suite.evaluate_frames(video.frames, 16.0, models, options, conditioning=suite.Conditioning(first=video.frames[0], last=video.frames[-1]))
    assert report["errors"] == {}
    assert (report["frames"], report["total_frames"], report["width"], report["height"], report["fps"]) == (8, 17, 128, 96, 16.0)
    indices = np.linspace(0, 16, 8, dtype=int)
    expected = compute_drift(video.masks[indices], indices)
    for key in ("speed_px_per_frame", "drift_std_px", "max_deviation_px", "detection_rate"):
        assert report["subject_drift"][key] == pytest.approx(expected[key])
    assert report["subject_drift"]["global_flow"] is not None
    assert report["fidelity"]["first_vs_conditioning"]["psnr"] is None  # identical to the conditioning image
    assert report["clip_i"]["first_vs_conditioning"] == pytest.approx(1.0)
    assert report["subject_consistency"]["vbench_frames"] == 17 and report["subject_consistency"]["upstream_frames"] == 8
    assert max(models.clip.batches) <= 3 and sum(models.clip.batches) == 10  # 8 frames + 2 conditioning images
    assert sum(models.dino_vbench.batches) == 17 and max(models.dino_vbench.batches) <= 3
    dynamic = report["motion"]["vbench_dynamic_degree"]
    assert dynamic["frames"] == 9 and dynamic["dynamic"] is True  # every 2nd frame at 16 fps
    assert report["orbit"] is not None
    assert set(report["upstream"]) == {"subject_drift", "clip_i", "fidelity", "vbench_sc", "motion"}


def test_models_left_out_of_the_bundle_are_skipped_and_the_rest_still_runs():
    video = _video()
    report = suite.evaluate_frames(video.frames, 16.0, MetricModels.from_objects(lpips=FakeLpips()), suite.SuiteOptions(num_frames=6))
    for metric in ("subject_drift", "clip_i", "subject_consistency.vbench", "subject_consistency.upstream", "motion.vbench_dynamic_degree"):
        assert "not enabled" in report["skipped"][metric]  # turned off by the caller: skipped, not failed
    assert report["errors"] == {}
    assert report["subject_drift"] is None and report["clip_i"] is None and report["subject_consistency"] is None
    assert report["fidelity"]["first_last"]["lpips"] is not None
    assert report["motion"]["motion_magnitude"] > 0 and report["motion"]["vbench_dynamic_degree"] is None


def test_missing_weight_file_message_names_file_and_folder(tmp_path):
    video = _video(5)
    models = MetricModels(search_dirs=[tmp_path], device="cpu", enabled=["clip"])
    report = suite.evaluate_frames(video.frames, 16.0, models, suite.SuiteOptions(metrics=("clip_i", "fidelity")))
    message = report["errors"]["clip_i"]
    assert "open_clip_vit_b32_openai.bin" in message and str(tmp_path) in message and "download" in message
    assert report["fidelity"] is not None


def test_no_models_at_all():
    report = suite.evaluate_frames(_video(5).frames, 16.0, None, suite.SuiteOptions(metrics=("clip_i", "motion")))
    assert "no metric models" in report["errors"]["clip_i"]
    assert report["motion"] is not None


def test_failing_metric_and_failing_lpips_do_not_stop_others():
    class Broken:
        def embed(self, frames):
            raise RuntimeError("encoder broke")

    video = _video(9)
    models = _models(clip=Broken(), lpips=FakeLpips(fail=True))
    report = suite.evaluate_frames(video.frames, 16.0, models, suite.SuiteOptions(metrics=("clip_i", "fidelity", "subject_drift")))
    assert report["errors"]["clip_i"] == "RuntimeError: encoder broke"
    assert "lpips exploded" in report["errors"]["fidelity.lpips"]
    assert report["fidelity"]["first_last"]["ssim"] is not None and report["fidelity"]["first_last"]["lpips"] is None
    assert report["subject_drift"]["detection_rate"] == 1.0


def test_failing_streaming_encoder_does_not_stop_the_decode():
    class Broken:
        def embed(self, frames):
            raise RuntimeError("dino broke")

    video = _video(9)
    models = _models(dino_vbench=Broken())
    report = suite.evaluate_frames(video.frames, 16.0, models, suite.SuiteOptions(metrics=("subject_consistency", "motion"), num_frames=4, batch_size=2))
    assert report["errors"] == {"subject_consistency.vbench": "RuntimeError: dino broke"}
    assert report["subject_consistency"]["vbench"] is None and report["subject_consistency"]["upstream"] is not None
    assert report["motion"]["pairs"] == 8


def test_repeated_frames_are_segmented_once():
    video = _video(6)
    frames = np.repeat(video.frames, 2, axis=0)
    models = _models()
    segmenter = models.segmenter
    calls = []
    original = segmenter.segment
    segmenter.segment = lambda f, b: calls.append(len(f)) or original(f, b)
    report = suite.evaluate_frames(frames, 16.0, models, suite.SuiteOptions(metrics=("subject_drift",), num_frames=0))
    assert sum(calls) == 6
    assert report["repeated_frames"] == 6
    assert report["subject_drift"]["speed_px_per_distinct_frame"] == pytest.approx(np.sqrt(5))
    assert report["subject_drift"]["speed_px_per_frame"] == pytest.approx(np.sqrt(5) * 5 / 11)


def test_supplied_masks_from_a_file_need_no_detector(tmp_path):
    video = _video()
    path = write_video(video.frames, tmp_path / "disc.mp4", fps=16)
    report = suite.evaluate_file(path, None, suite.SuiteOptions(metrics=("subject_drift",), num_frames=8), masks=video.masks)
    assert report["errors"] == {}
    indices = np.linspace(0, 16, 8, dtype=int)
    assert report["subject_drift"]["speed_px_per_frame"] == pytest.approx(compute_drift(video.masks[indices], indices)["speed_px_per_frame"])
    with pytest.raises(ValueError, match=r"masks of shape \(16, 96, 128\).*expected \(T, H, W\) = \(17, 96, 128\)"):
        suite.evaluate_file(path, None, suite.SuiteOptions(metrics=("subject_drift",)), masks=video.masks[:16])


def test_each_flow_pair_is_computed_once_when_all_frames_are_analysed(monkeypatch):
    calls = []
    original = flow_module.farneback_magnitude

    def counting(a, b):
        calls.append(1)
        return original(a, b)

    monkeypatch.setattr(flow_module, "farneback_magnitude", counting)
    monkeypatch.setattr(motion_module, "farneback_magnitude", counting)
    video = _video(9)
    report = suite.evaluate_frames(video.frames, 16.0, None, suite.SuiteOptions(metrics=("subject_drift", "motion"), num_frames=0), masks=video.masks)
    assert len(calls) == 8
    assert report["subject_drift"]["global_flow"] == pytest.approx(report["motion"]["motion_magnitude"])


def test_unknown_metric_is_rejected():
    with pytest.raises(ValueError, match="unknown metric\\(s\\) drift"):
        suite.SuiteOptions(metrics=("drift",))


def test_random_initialised_real_models_run_through_the_suite():
    from circle_rotate.metric_models.random_init import random_metric_models

    video = _video(6)
    models = random_metric_models(device="cpu", names=["clip", "lpips"])
    report = suite.evaluate_frames(video.frames, 16.0, models, suite.SuiteOptions(metrics=("clip_i", "fidelity"), num_frames=4, batch_size=2), conditioning=suite.Conditioning(last=video.frames[0]))
    assert report["errors"] == {}
    assert -1.0 <= report["clip_i"]["first_last"] <= 1.0
    assert report["clip_i"]["last_vs_conditioning"] == pytest.approx(report["clip_i"]["first_last"], abs=1e-5)
    assert report["fidelity"]["first_last"]["lpips"] == pytest.approx(report["fidelity"]["last_vs_conditioning"]["lpips"], abs=1e-5)


class Interrupted(Exception):
    """Stands for ComfyUI's InterruptProcessingException (an Exception subclass too)."""


def test_progress_is_called_within_stages_and_its_exception_passes_the_metric_guards():
    video = _video()
    segmenter = FakeSegmenter(moving_disc(np.array([[-100.0, -100.0]]), seed=BACKGROUND_SEED).frames[0])
    models = _models(segmenter=segmenter)
    stages: list[str] = []

    def progress(stage: str) -> None:
        stages.append(stage)
        if stages.count("subject_drift") == 3:  # the stage's start, then before the first and the second detection batch
            raise Interrupted()

    with pytest.raises(Interrupted):
        suite.evaluate_frames(video.frames, 16.0, models, suite.SuiteOptions(num_frames=8, batch_size=3), progress=progress)
    assert stages.count("decode") == 1 + len(video.frames)  # the stage's start, then once per decoded frame
    assert segmenter.calls == 0, "segmentation went on after the interrupt"
    assert stages[-1] == "subject_drift"


def test_within_stage_calls_repeat_the_stage_name_only():
    video = _video()
    stages: list[str] = []
    suite.evaluate_frames(video.frames, 16.0, _models(), suite.SuiteOptions(num_frames=8, batch_size=3), progress=stages.append)
    changes = [name for i, name in enumerate(stages) if i == 0 or stages[i - 1] != name]
    assert changes == ["decode", *suite.METRIC_FAMILIES]
    assert stages.count("clip_i") == 1 + 3  # 8 frames, 3 per batch
