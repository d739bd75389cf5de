"""The evaluate node refuses a 1-frame IMAGE with the core's message (``video.require_frames``), as the CLI does."""

from __future__ import annotations

import pytest
import torch


@pytest.mark.parametrize("node_id", ["CircleRotateEvaluate", "CircleRotateMotion"])
def test_one_frame_is_refused_with_the_cores_message(comfy_host, node_id: str) -> None:
    from circle_rotate import video

    with pytest.raises(ValueError) as expected:
        video.require_frames(1, "images")
    node = comfy_host.node(node_id)
    arguments = {"images": torch.rand(1, 16, 16, 3), "fps": 16.0, "num_frames": 16, "label": "one"}
    if node_id == "CircleRotateEvaluate":
        arguments["use_lpips"] = False
    with pytest.raises(ValueError) as refused:
        node.execute(**arguments)
    assert str(refused.value) == str(expected.value)
