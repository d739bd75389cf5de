"""``circle-rotate eval`` (circle_rotate.commands.eval) end to end on synthetic and demo videos."""

from __future__ import annotations

import argparse
import json
import re

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
    assert code == 1  # requested metrics failed (no weights): exit 1, the report is still written
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
    assert _main([str(path), str(path), "--metrics", "motion,fidelity", "--no-lpips", "--output", str(out)]) == 1
    result = json.loads(out.read_text())
    assert isinstance(result, list) and len(result) == 2
    assert list(result[0]["errors"]) == ["motion.vbench_dynamic_degree"]  # no RAFT weights: the rest still ran
    assert result[1]["motion"]["motion_magnitude"] > 0


def test_conditioning_images(tmp_path, disc):
    from PIL import Image

    path, _, video = disc
    Image.fromarray(video.frames[0]).save(tmp_path / "first.png")
    out = tmp_path / "r.json"
    assert _main([str(path), "--metrics", "fidelity", "--no-lpips", "--no-masks", "--first", str(tmp_path / "first.png"), "--output", str(out)]) == 0
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
    assert _main([str(path), "--masks", str(tmp_path / "bad.npz"), "--metrics", "subject_drift", "--output", str(tmp_path / "r.json")]) == 1
    result = json.loads((tmp_path / "r.json").read_text())
    assert "expected (T, H, W) = (17, 96, 128)" in result["errors"]["video"]  # found only by decoding: that video's error
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
        assert code == 1  # no RAFT weights here
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
    assert main(["eval", str(path), "--metrics", "motion", "--no-raft", "--output", str(tmp_path / "r.json")]) == 0
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
    assert _main([str(disc[0]), "--metrics", "motion", "--no-raft", "--output", str(tmp_path / "out.json"), *argument]) == 0
    assert bundles[0].options["segmenter"] == {"fused_attention": fused}


def test_the_segmenter_is_built_with_the_bundle_options():
    from circle_rotate import weights
    from fixtures.tiny_sam import tiny_sam

    assert weights._wrap("segmenter", tiny_sam(), "cpu", {"fused_attention": False}).fused_attention is False
    assert weights._wrap("segmenter", tiny_sam(), "cpu", {}).fused_attention is True


def test_turned_off_metrics_are_skipped_not_errors(tmp_path, disc):
    out = tmp_path / "out.json"
    assert _main([str(disc[0]), "--metrics", "motion,fidelity", "--no-raft", "--no-lpips", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["motion"]["vbench_dynamic_degree"] is None and report["motion"]["pairs"] == 16
    assert report["fidelity"]["first_last"]["lpips"] is None and report["fidelity"]["first_last"]["ssim"] is not None
    assert report["errors"] == {}
    assert report["skipped"]["motion.vbench_dynamic_degree"] == "turned off with --no-raft"
    assert report["skipped"]["fidelity.lpips"] == "turned off with --no-lpips"
    assert report["skipped"]["clip_i"].startswith("not asked for")  # a null family is never silent


def _forbid_evaluation(monkeypatch):
    from circle_rotate import suite

    def fail(*args, **kwargs):
        raise AssertionError("evaluated before the arguments were checked")

    monkeypatch.setattr(suite, "evaluate_file", fail)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--output", "{tmp}/no/such/dir/r.json"], "--output '{tmp}/no/such/dir/r.json': the folder '{tmp}/no/such/dir' does not exist"),
        (["--csv", "{tmp}/missing/r.csv"], "--csv '{tmp}/missing/r.csv': the folder '{tmp}/missing' does not exist"),
        (["--output", "{tmp}"], "--output '{tmp}' is a folder"),
        (["--masks-dir", "{tmp}/nowhere"], "--masks-dir '{tmp}/nowhere' is not a folder"),
        (["--models-dir", "{tmp}/nowhere"], "--models-dir '{tmp}/nowhere' is not a folder"),
        (["--last", "{tmp}/nope.png"], "--last '{tmp}/nope.png' does not exist"),
        (["{tmp}/absent.mp4"], "VIDEO '{tmp}/absent.mp4' does not exist"),
        (["--masks", "{tmp}/a.npz", "--masks", "{tmp}/b.npz"], "--masks was given 2 time(s) for 1 video(s)"),
        (["--batch-size", "0"], "--batch-size 0"),
    ],
    ids=["output folder", "csv folder", "output is a folder", "masks dir", "models dir", "last", "video", "masks count", "batch size"],
)
def test_bad_paths_exit_2_before_anything_is_evaluated(monkeypatch, tmp_path, disc, capsys, extra, message):
    _forbid_evaluation(monkeypatch)
    assert _main([str(disc[0]), *(item.format(tmp=tmp_path) for item in extra)]) == 2
    err = capsys.readouterr().err
    assert message.format(tmp=tmp_path) in err and err.count("\n") == 1  # one clear line


def test_a_failing_video_does_not_lose_the_others(tmp_path, disc, capsys):
    broken = tmp_path / "text.mp4"
    broken.write_text("not a video")
    out, table = tmp_path / "r.json", tmp_path / "r.csv"
    code = _main([str(disc[0]), str(broken), str(disc[0]), "--metrics", "motion,orbit", "--no-raft", "--output", str(out), "--csv", str(table)])
    assert code == 1
    first, failed, last = json.loads(out.read_text())
    assert first["errors"] == {} and last["errors"] == {} and first["motion"]["pairs"] == 16
    assert failed["video"] == str(broken) and "cannot be opened" in failed["errors"]["video"]
    assert failed["motion"] is None and failed["upstream"] is None
    assert table.read_text().count("\n") == 4
    err = capsys.readouterr().err
    assert f"wrote {out}" in err and f"wrote {table}" in err
    assert "2 complete, 0 with metric errors, 1 failed" in err


def test_each_distinct_error_is_printed_once(tmp_path, disc, capsys):
    models = tmp_path / "models"
    models.mkdir()
    code = _main([str(disc[0]), str(disc[0]), str(disc[0]), "--metrics", "clip_i", "--models-dir", str(models), "--output", str(tmp_path / "r.json")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("MissingWeightError") == 1 and "error (3 videos): clip_i: clip: MissingWeightError" in err


def test_progress_names_each_video_and_stage(tmp_path, disc, capsys):
    assert _main([str(disc[0]), "--metrics", "motion,orbit", "--no-raft", "--output", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert "disc.mp4: decode" in err and "disc.mp4: motion" in err and "disc.mp4: orbit" in err
    assert "evaluated 1 video(s): 1 complete" in err


@pytest.fixture
def two_discs(tmp_path, disc):
    """Two copies of the disc video in one folder, masks beside the first only."""
    import shutil

    path, masks, _ = disc
    folder = tmp_path / "videos"
    folder.mkdir()
    a, b = shutil.copy(path, folder / "a.mp4"), shutil.copy(path, folder / "b.mp4")
    shutil.copy(masks, folder / "a.masks.npz")
    return folder, masks


def test_masks_once_per_video_and_found_beside_or_in_a_masks_dir(tmp_path, two_discs):
    folder, masks = two_discs
    out = tmp_path / "r.json"
    common = ["--metrics", "subject_drift", "--output", str(out)]
    assert _main([str(folder / "a.mp4"), str(folder / "b.mp4"), "--masks", str(masks), "--masks", str(masks), *common]) == 0
    a, b = json.loads(out.read_text())
    assert (a["masks_source"], b["masks_source"]) == ("--masks", "--masks") and b["masks_file"] == str(masks)
    assert b["subject_drift"]["speed_px_per_frame"] == pytest.approx(np.sqrt(5), rel=0.01)

    assert _main([str(folder / "a.mp4"), str(folder / "b.mp4"), *common]) == 1  # b has no masks and no weights
    a, b = json.loads(out.read_text())
    assert (a["masks_source"], a["masks_file"]) == ("beside the video", str(folder / "a.masks.npz"))
    assert b["masks_source"] == "segmented" and b["masks_file"] is None and "subject_drift" in b["errors"]

    elsewhere = tmp_path / "masks"
    elsewhere.mkdir()
    np.savez(elsewhere / "b.masks.npz", masks=np.load(masks)["masks"])
    assert _main([str(folder / "a.mp4"), str(folder / "b.mp4"), "--masks-dir", str(elsewhere), *common]) == 1
    a, b = json.loads(out.read_text())
    assert (a["masks_source"], b["masks_source"]) == ("segmented", "masks dir")  # --masks-dir looks only there

    assert _main([str(folder / "a.mp4"), "--no-masks", *common]) == 1
    assert json.loads(out.read_text())["masks_source"] == "segmented"


def test_no_subject_found_is_an_error_and_the_minus_one_is_explained(tmp_path, disc):
    path, _, video = disc
    np.savez(tmp_path / "empty.npz", masks=np.zeros_like(video.masks))
    out = tmp_path / "r.json"
    assert _main([str(path), "--masks", str(tmp_path / "empty.npz"), "--metrics", "subject_drift", "--output", str(out)]) == 1
    result = json.loads(out.read_text())
    assert result["errors"]["subject_drift"].startswith("no subject found")
    assert result["upstream"]["subject_drift"]["drift"] == -1.0
    assert any("drift is -1.0" in note and "0 of 16 sampled frames" in note for note in result["notes"])


@pytest.mark.parametrize("rule", ["centre", "upstream"])
def test_detector_rule_reaches_the_detector(monkeypatch, tmp_path, disc, rule):
    bundles = []
    original = eval_command.load_models
    monkeypatch.setattr(eval_command, "load_models", lambda *args, **kwargs: bundles.append(original(*args, **kwargs)) or bundles[-1])
    assert _main([str(disc[0]), "--metrics", "motion", "--no-raft", "--detector-rule", rule, "--output", str(tmp_path / "o.json")]) == 0
    assert bundles[0].options["detector"] == {"rule": rule}


def test_help_does_not_break_the_metric_names(monkeypatch, capsys):
    from circle_rotate.cli import main

    monkeypatch.setenv("COLUMNS", "60")
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    words = re.split(r"[\s,()]+", capsys.readouterr().out)
    for family in ("subject_drift", "clip_i", "fidelity", "subject_consistency", "motion", "orbit"):
        assert family in words
