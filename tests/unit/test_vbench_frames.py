"""Which frames VBench's dynamic degree sees (suite + metrics.motion), against an independent reading of
VBench 0.1.5's code path (``dynamic_degree.py``): a video file gives every ``round(fps / 8)``-th frame, an image
folder every image with a listed extension, sorted by path, read with OpenCV and converted BGR -> RGB."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import av
import cv2
import numpy as np

from circle_rotate import suite
from circle_rotate.metrics.motion import vbench_stride
from circle_rotate.weights import MetricModels
from fixtures.synthetic_video import sliding_square, write_video

VBENCH_FOLDER_EXTENSIONS = ("jpg", "png", "jpeg", "bmp", "tif", "tiff", "JPG", "PNG", "JPEG", "BMP", "TIF", "TIFF")


class RecordingFlow:
    """An optical-flow model that records the first frame of every pair it is given (zero flow)."""

    def __init__(self) -> None:
        self.firsts: list[np.ndarray] = []
        self.last: np.ndarray | None = None

    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.firsts.extend(a)
        self.last = b[-1]
        return np.zeros((len(a), a.shape[1], a.shape[2], 2), np.float32)

    def frames(self) -> np.ndarray:
        return np.stack([*self.firsts, self.last])


def _vbench_folder_frames(folder: Path) -> np.ndarray:
    """The frames VBench's get_frames_from_img_folder returns, computed here independently."""
    images = sorted(p for p in glob.glob(os.path.join(folder, "*")) if os.path.splitext(p)[1][1:] in VBENCH_FOLDER_EXTENSIONS)
    return np.stack([cv2.cvtColor(cv2.imread(p, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for p in images])


def _run(path: Path) -> tuple[RecordingFlow, dict]:
    flow = RecordingFlow()
    report = suite.evaluate_file(path, MetricModels.from_objects(raft=flow), suite.SuiteOptions(metrics=("motion",)))
    return flow, report


def test_an_image_folder_gives_vbench_every_frame(tmp_path):
    folder = write_video(sliding_square(9, 1.0, size=64, side=8).frames, tmp_path / "frames")
    flow, report = _run(folder)
    expected = _vbench_folder_frames(folder)
    assert len(expected) == 9
    np.testing.assert_array_equal(flow.frames(), expected)
    assert report["motion"]["vbench_dynamic_degree"]["frames"] == 9
    assert vbench_stride(None) == 1


def test_a_16_fps_video_file_gives_vbench_every_second_frame(tmp_path):
    path = write_video(sliding_square(9, 1.0, size=64, side=8).frames, tmp_path / "clip.webm", fps=16)
    flow, report = _run(path)
    with av.open(str(path)) as container:
        fps = float(container.streams.video[0].average_rate)
        decoded = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])
    assert fps == 16.0
    np.testing.assert_array_equal(flow.frames(), decoded[:: max(1, round(fps / 8))])
    assert report["motion"]["vbench_dynamic_degree"]["frames"] == 5
