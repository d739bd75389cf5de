"""The orbit metric's options through the suite and the CLI: the field of view (auto or given) and the subject
masks that give the look-at stability."""

from __future__ import annotations

import argparse
import re

import numpy as np
import pytest

from circle_rotate import suite
from circle_rotate.commands import eval as eval_command
from fixtures import orbit_scenes as scenes


@pytest.fixture(scope="module")
def shot() -> scenes.Shot:
    return scenes.render_shot("orbit_left", 30.0, 6, 60.0, subject_slide=0.4)


def _parse(*arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    eval_command.add_parser(parser.add_subparsers())
    return parser.parse_args(["eval", "video.mp4", *arguments])


def test_cli_horizontal_fov_is_auto_by_default_or_degrees() -> None:
    assert _parse().horizontal_fov is None
    assert _parse("--horizontal-fov", "auto").horizontal_fov is None
    assert _parse("--horizontal-fov", "52.5").horizontal_fov == 52.5


@pytest.mark.parametrize(("value", "message"), [("wide", "neither auto nor a number"), ("200", "outside \\[1, 170\\]")])
def test_cli_bad_horizontal_fov_is_named(value: str, message: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        _parse("--horizontal-fov", value)
    error = capsys.readouterr().err
    assert "--horizontal-fov" in error and re.search(message, error)


def test_suite_options_reject_a_fov_outside_the_range() -> None:
    with pytest.raises(ValueError, match="horizontal_fov=0.5"):
        suite.SuiteOptions(horizontal_fov=0.5)


def test_suite_passes_the_given_fov_and_the_drift_masks_to_the_orbit(shot: scenes.Shot) -> None:
    options = suite.SuiteOptions(metrics=("subject_drift", "orbit"), num_frames=0, horizontal_fov=60.0)
    report = suite.evaluate_frames(shot.frames, 16.0, None, options, masks=shot.masks)
    orbit = report["orbit"]
    assert orbit["fov_source"] == "given" and orbit["horizontal_fov_deg"] == 60.0
    assert orbit["look_at_stability_deg"] == pytest.approx(float(shot.look_at_deg.max()), abs=1.0)
    assert len(orbit["look_at_track_deg"]) == len(shot.frames)


def test_suite_without_masks_reports_no_look_at(shot: scenes.Shot) -> None:
    report = suite.evaluate_frames(shot.frames, 16.0, None, suite.SuiteOptions(metrics=("orbit",), num_frames=0))
    assert report["orbit"]["look_at_stability_deg"] is None and report["orbit"]["fov_source"] in ("estimated", "assumed")
    assert np.isfinite(report["orbit"]["yaw_deg"])


def test_suite_gives_masks_to_the_orbit_alone(shot: scenes.Shot) -> None:
    options = suite.SuiteOptions(metrics=("orbit",), num_frames=0, horizontal_fov=60.0)
    report = suite.evaluate_frames(shot.frames, 16.0, None, options, masks=shot.masks)
    assert report["orbit"]["look_at_stability_deg"] == pytest.approx(float(shot.look_at_deg.max()), abs=1.0)
