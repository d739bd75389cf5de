"""The options shared by eval and study: one meaning of --no-lpips / --no-raft whatever the command or executor."""

from __future__ import annotations

from circle_rotate.cli import build_parser
from circle_rotate.commands.suite_options import model_spec, suite_options


def _parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_turned_off_models_are_named_by_their_flag_in_eval_and_study(tmp_path) -> None:
    for args in (_parse("eval", "v.mp4", "--no-lpips", "--no-raft"), _parse("study", "--demo", "--output", str(tmp_path), "--no-lpips", "--no-raft")):
        assert suite_options(args).use_lpips  # LPIPS is turned off as a model, so the report names the flag
        assert dict(model_spec(args).disabled) == {"lpips": "turned off with --no-lpips", "raft": "turned off with --no-raft"}


def test_eval_and_study_build_the_same_suite_options(tmp_path) -> None:
    common = ("--metrics", "motion,orbit", "--num-frames", "8", "--batch-size", "2", "--horizontal-fov", "50")
    eval_args = _parse("eval", "v.mp4", *common)
    study_args = _parse("study", "--demo", "--output", str(tmp_path), *common)
    assert suite_options(eval_args) == suite_options(study_args)
