"""``circle-rotate eval`` (circle_rotate.commands.eval) end to end on synthetic and demo videos."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from circle_rotate.commands import eval as eval_command
from fixtures.synthetic_video import moving_disc, write_video


def _main(argv):
    parser = argparse.ArgumentParser()
    eval_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["eval", *argv])
    return args.run(args)


@pytest.fixture(scope="module")
def disc(tmp_path_factory):
    t = np.arange(17)
    video = moving_disc(np.stack([30 + 2 * t, 40 + t], axis=1).astype(float))
    folder = tmp_path_factory.mktemp("disc")
    path = write_video(video.frames, folder / "disc.mp4")
    np.savez(folder / "disc.masks.npz", masks=video.masks)
    return path, folder / "disc.masks.npz", video


def test_one_video_gives_one_object_with_errors_for_missing_weights(tmp_path, disc, capsys):
    path, masks, _ = disc
    out, table = tmp_path / "r.json", tmp_path / "r.csv"
    models = tmp_path / "models"
    models.mkdir()
    code = _main([str(path), "--masks", str(masks), "--num-frames", "8", "--models-dir", str(models), "--device", "cpu", "--output", str(out), "--csv", str(table)])
    assert code == 0
    result = json.loads(out.read_text())
    assert result["video"] == str(path) and result["frames"] == 8
    assert result["subject_drift"]["speed_px_per_frame"] == pytest.approx(np.sqrt(5), rel=0.01)
    assert result["motion"]["motion_magnitude"] > 0 and result["fidelity"]["first_last"]["ssim"] is not None
    assert "open_clip_vit_b32_openai.bin" in result["errors"]["clip_i"] and str(models) in result["errors"]["clip_i"]
    assert "alexnet" in result["errors"]["fidelity.lpips"]
    assert table.read_text().count("\n") == 2
    assert "clip_i" in capsys.readouterr().err


def test_several_videos_give_a_list(tmp_path, disc):
    path, _, _ = disc
    out = tmp_path / "r.json"
    assert _main([str(path), str(path), "--metrics", "motion,fidelity", "--no-lpips", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert isinstance(result, list) and len(result) == 2
    assert list(result[0]["errors"]) == ["motion.vbench_dynamic_degree"]  # no RAFT weights: the rest still ran
    assert result[1]["motion"]["motion_magnitude"] > 0


def test_conditioning_images(tmp_path, disc):
    from PIL import Image

    path, _, video = disc
    Image.fromarray(video.frames[0]).save(tmp_path / "first.png")
    out = tmp_path / "r.json"
    assert _main([str(path), "--metrics", "fidelity", "--no-lpips", "--first", str(tmp_path / "first.png"), "--output", str(out)]) == 0
    assert json.loads(out.read_text())["fidelity"]["first_vs_conditioning"]["psnr"] > 40


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--masks", "MISSING.npz"], "does not exist"),
        (["--metrics", "speed"], "unknown metric"),
        (["--num-frames", "-1"], "negative"),
        (["--first", "nope.png"], "--first 'nope.png' does not exist"),
    ],
)
def test_bad_input_exits_non_zero(disc, capsys, extra, message):
    path, _, _ = disc
    assert _main([str(path), *extra]) == 2
    assert message in capsys.readouterr().err


def test_masks_of_the_wrong_shape(tmp_path, disc, capsys):
    path, _, video = disc
    np.savez(tmp_path / "bad.npz", masks=video.masks[:, :50])
    assert _main([str(path), "--masks", str(tmp_path / "bad.npz")]) == 2
    assert "expected (T, H, W) = (17, 96, 128)" in capsys.readouterr().err
    np.savez(tmp_path / "other.npz", m=video.masks)
    assert _main([str(path), "--masks", str(tmp_path / "other.npz")]) == 2
    assert "not 'masks'" in capsys.readouterr().err


def test_missing_video(tmp_path, capsys):
    assert _main([str(tmp_path / "none.mp4")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.shared
def test_demo_gifs_with_their_masks(shared_dir, tmp_path):
    demos = shared_dir / "upstream" / "demos"
    reports = {}
    for name in ("demo2_base", "demo2_ours"):
        out = tmp_path / f"{name}.json"
        code = _main([str(demos / f"{name}.gif"), "--masks", str(demos / f"{name}.masks.npz"), "--metrics", "subject_drift,fidelity,motion,orbit", "--no-lpips", "--output", str(out)])
        assert code == 0
        reports[name] = json.loads(out.read_text())
    for result in reports.values():
        assert list(result["errors"]) == ["motion.vbench_dynamic_degree"]  # no RAFT weights here
        assert (result["total_frames"], result["repeated_frames"], result["width"], result["height"]) == (32, 15, 180, 320)
        drift = result["subject_drift"]
        assert drift["detection_rate"] > 0.9
        assert drift["speed_px_per_distinct_frame"] > drift["speed_px_per_frame"]
        assert result["orbit"]["direction"] in ("left", "right", "none")


def test_registered_in_the_cli(tmp_path, disc):
    from circle_rotate.cli import main

    path, _, _ = disc
    assert main(["eval", str(path), "--metrics", "motion", "--output", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["motion"]["pairs"] == 16


def test_bundled_sample_runs_without_weights(tmp_path):
    out = tmp_path / "sample.json"
    assert _main(["--sample", "--metrics", "subject_drift,fidelity,orbit", "--no-lpips", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["video"].endswith("demo4_ours.gif") and result["errors"] == {}
    assert result["repeated_frames"] == 15 and result["subject_drift"]["detection_rate"] == 1.0


def test_no_video_at_all(capsys):
    assert _main([]) == 2
    assert "no VIDEO given" in capsys.readouterr().err


@pytest.mark.parametrize(("argument", "fused"), [([], True), (["--sam-attention", "segment-anything"], False)])
def test_sam_attention_option_reaches_the_segmenter(monkeypatch, tmp_path, disc, argument, fused):
    from circle_rotate.commands import eval as eval_command

    bundles = []
    original = eval_command.load_models
    monkeypatch.setattr(eval_command, "load_models", lambda *args, **kwargs: bundles.append(original(*args, **kwargs)) or bundles[-1])
    assert _main([str(disc[0]), "--metrics", "motion", "--output", str(tmp_path / "out.json"), *argument]) == 0
    assert bundles[0].options["segmenter"] == {"fused_attention": fused}


def test_the_segmenter_is_built_with_the_bundle_options():
    from circle_rotate import weights
    from fixtures.tiny_sam import tiny_sam

    assert weights._wrap("segmenter", tiny_sam(), "cpu", {"fused_attention": False}).fused_attention is False
    assert weights._wrap("segmenter", tiny_sam(), "cpu", {}).fused_attention is True


def test_no_raft_leaves_raft_out_and_says_so(tmp_path, disc):
    out = tmp_path / "out.json"
    assert _main([str(disc[0]), "--metrics", "motion", "--no-raft", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["motion"]["vbench_dynamic_degree"] is None and report["motion"]["pairs"] == 16
    assert "not enabled" in report["errors"]["motion.vbench_dynamic_degree"]
