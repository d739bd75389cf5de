"""The orbit node's field-of-view input (0 = auto, else degrees) and masks (look-at stability), in-process."""

from __future__ import annotations

import pytest
import torch

from fixtures import orbit_scenes as scenes


@pytest.fixture(scope="module")
def shot() -> scenes.Shot:
    return scenes.render_shot("orbit_left", 30.0, 6, 60.0, subject_slide=0.4)


def _run(comfy_host, shot: scenes.Shot, **inputs) -> dict:
    images = torch.from_numpy(shot.frames.astype("float32") / 255.0)
    node = comfy_host.node("CircleRotateOrbit")
    return node.execute(images=images, fps=16.0, num_frames=0, label="shot", **inputs)[0]["orbit"]


def test_orbit_node_takes_a_given_fov_and_masks(comfy_host, shot: scenes.Shot) -> None:
    orbit = _run(comfy_host, shot, horizontal_fov=60.0, masks=torch.from_numpy(shot.masks.astype("float32")))
    assert orbit["fov_source"] == "given" and orbit["horizontal_fov_deg"] == 60.0
    assert orbit["direction"] == "left"
    assert orbit["look_at_stability_deg"] == pytest.approx(float(shot.look_at_deg.max()), abs=1.0)


def test_orbit_node_fov_zero_is_auto(comfy_host, shot: scenes.Shot) -> None:
    orbit = _run(comfy_host, shot, horizontal_fov=0.0)
    assert orbit["fov_source"] in ("estimated", "assumed") and orbit["look_at_stability_deg"] is None


def test_orbit_node_names_a_fov_outside_the_range(comfy_host, shot: scenes.Shot) -> None:
    with pytest.raises(ValueError, match="horizontal_fov=0.5: give 0"):
        _run(comfy_host, shot, horizontal_fov=0.5)
