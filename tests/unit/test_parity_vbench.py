"""Parity with VBench 0.1.5 where we report its numbers, each against an independent computation written from
VBench's published code path (Vchitect/VBench ``vbench/utils.py``, ``subject_consistency.py``,
``dynamic_degree.py``, ``third_party/RAFT/core/utils_core/utils.py``):

- subject consistency: ``load_video`` makes a float32 tensor (``torch.Tensor(frames)``) BEFORE
  ``dino_transform(224)`` resizes it (bilinear, antialias off, short side 224, no crop), /255, ImageNet mean/std;
- dynamic degree: each frame pair is padded by ``InputPadder`` (replicate, "sintel" split) and the top 5% of the
  flow magnitudes is taken over the PADDED frame.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision import transforms

from circle_rotate import suite
from circle_rotate.metric_models import dino_encoder
from circle_rotate.metric_models.dino_encoder import DinoEncoder
from circle_rotate.metrics.consistency import subject_consistency
from circle_rotate.metrics.motion import vbench_dynamic_degree


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    """Five 180x320 textured frames (180 is not a multiple of 8: VBench's RAFT pads it)."""
    rng = np.random.default_rng(11)
    return rng.integers(0, 256, (5, 180, 320, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def tiny_dino() -> torch.nn.Module:
    import timm

    torch.manual_seed(0)
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0).eval()


def vbench_dino_input(frames: np.ndarray) -> torch.Tensor:
    """VBench's tensor: ``load_video`` (float32 (T, C, H, W)) then ``dino_transform(224)``."""
    video = torch.Tensor(frames).permute(0, 3, 1, 2)
    transform = transforms.Compose(
        [
            transforms.Resize(size=224, antialias=False),
            transforms.Lambda(lambda x: x.float().div(255.0)),
            transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    return transform(video)


def test_dino_vbench_preprocessing_is_vbenchs_float_path(frames, tiny_dino):
    ours = DinoEncoder(tiny_dino, device="cpu", preprocessing="vbench").preprocess(frames)
    expected = vbench_dino_input(frames)
    assert tuple(ours.shape) == (5, 3, 224, 398)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)
    # resizing the uint8 tensor (rounding to grey levels) is what this test tells apart: up to 0.5 level off
    uint8_path = transforms.Resize(size=224, antialias=False)(torch.from_numpy(frames).permute(0, 3, 1, 2)).float()
    assert (uint8_path - transforms.Resize(size=224, antialias=False)(torch.Tensor(frames).permute(0, 3, 1, 2))).abs().max() > 0.3


def test_vbench_subject_consistency_score_equals_vbenchs_loop(frames, tiny_dino):
    encoder = DinoEncoder(tiny_dino, device="cpu", preprocessing="vbench", batch_size=2)
    ours = subject_consistency(encoder.embed(frames))
    images, total = vbench_dino_input(frames), 0.0  # VBench's per-frame loop (subject_consistency.py)
    with torch.no_grad():
        for i in range(len(images)):
            features = F.normalize(encoder.features(images[i].unsqueeze(0)), dim=-1, p=2)
            if i == 0:
                first = features
            else:
                to_previous = max(0.0, F.cosine_similarity(former, features).item())
                to_first = max(0.0, F.cosine_similarity(first, features).item())
                total += (to_previous + to_first) / 2
            former = features
    assert ours == pytest.approx(total / (len(images) - 1), abs=1e-6)
    assert dino_encoder.PREPROCESSINGS == ("vbench", "upstream")


class ContentFlow:
    """Deterministic stub flow model: x-flow = red channel of ``a`` / 40, y-flow = 0 (px), at the input's size."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.shapes.append(a.shape)
        out = np.zeros((*a.shape[:3], 2), np.float32)
        out[..., 0] = a[..., 0].astype(np.float32) / 40.0
        return out


@pytest.fixture(scope="module")
def bordered() -> np.ndarray:
    """Dim texture with a bright first and last row: the replicated padding repeats them."""
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 101, (5, 180, 320, 3), dtype=np.uint8)
    frames[:, 0], frames[:, -1] = 255, 255
    return frames


def vbench_dynamic(frames: np.ndarray, model: ContentFlow) -> tuple[bool, list[float]]:
    """VBench's ``DynamicDegree.infer`` on already selected frames, with ``model`` in place of RAFT."""
    tensors = [torch.from_numpy(f.astype(np.uint8)).permute(2, 0, 1).float()[None] for f in frames]
    height, width = tensors[0].shape[-2:]
    pad_ht = (((height // 8) + 1) * 8 - height) % 8
    pad_wd = (((width // 8) + 1) * 8 - width) % 8
    pad = [pad_wd // 2, pad_wd - pad_wd // 2, pad_ht // 2, pad_ht - pad_ht // 2]
    thres, count_num = 6.0 * (min(height, width) / 256.0), round(4 * (len(frames) / 16.0))
    scores = []
    for image1, image2 in zip(tensors[:-1], tensors[1:]):
        image1, image2 = (F.pad(x, pad, mode="replicate") for x in (image1, image2))
        as_uint8 = [x[0].permute(1, 2, 0).numpy().astype(np.uint8)[None] for x in (image1, image2)]
        flo = model.flow(*as_uint8)[0]
        rad = np.sqrt(np.square(flo[..., 0]) + np.square(flo[..., 1]))
        cut_index = int(rad.shape[0] * rad.shape[1] * 0.05)
        scores.append(float(np.mean(abs(np.sort(-rad.flatten()))[:cut_index])))
    count = 0
    for score in scores:
        count += score > thres
        if count >= count_num:
            return True, scores
    return False, scores


def test_vbench_dynamic_degree_scores_the_padded_flow_as_vbench(bordered):
    model = ContentFlow()
    ours = vbench_dynamic_degree(bordered, model, batch_size=3)
    expected_dynamic, expected_scores = vbench_dynamic(bordered, ContentFlow())
    assert model.shapes == [(3, 184, 320, 3), (1, 184, 320, 3)]  # the model sees VBench's padded frames
    assert ours["padding"] == [0, 0, 2, 2]
    np.testing.assert_allclose(ours["pair_scores"], expected_scores, rtol=1e-6)
    assert ours["dynamic"] is expected_dynamic is True
    # our reading without the replicated rows: fewer bright pixels in the top 5%, below the 4.22 px threshold
    assert ours["threshold_px"] == pytest.approx(6.0 * 180 / 256)
    assert all(c < v for c, v in zip(ours["cropped"]["pair_scores"], ours["pair_scores"]))
    assert ours["cropped"]["dynamic"] is False and ours["cropped"]["moving_pairs"] == 0
    magnitude = bordered[0, ..., 0].astype(np.float32) / 40.0
    top = np.sort(magnitude.ravel())[::-1][: int(180 * 320 * 0.05)]
    assert ours["cropped"]["pair_scores"][0] == pytest.approx(float(top.mean()), rel=1e-6)


def test_sides_already_multiples_of_8_are_not_padded():
    frames = np.random.default_rng(1).integers(0, 256, (3, 64, 128, 3), dtype=np.uint8)
    result = vbench_dynamic_degree(frames, ContentFlow())
    assert result["padding"] == [0, 0, 0, 0]
    assert result["pair_scores"] == result["cropped"]["pair_scores"]


def test_a_flow_model_padding_small_frames_further_is_named_in_the_notes():
    from circle_rotate.metric_models.raft_flow import RaftFlow

    frames = np.random.default_rng(2).integers(0, 256, (3, 100, 180, 3), dtype=np.uint8)
    assert vbench_dynamic_degree(frames, ContentFlow())["notes"] == []  # no min_side: nothing said
    padding_model = ContentFlow()
    padding_model.min_side = RaftFlow.min_side
    assert RaftFlow.min_side == 128
    (note,) = vbench_dynamic_degree(frames, padding_model)["notes"]
    assert "180x100" in note and "not exactly VBench's number" in note
    assert vbench_dynamic_degree(np.zeros((2, 184, 320, 3), np.uint8), padding_model)["notes"] == []


def test_suite_reports_vbenchs_number_and_the_cropped_one_beside_it(bordered):
    models = SimpleNamespace(raft=ContentFlow())
    options = suite.SuiteOptions(metrics=("motion",), num_frames=0)
    report = suite.evaluate_frames(bordered, 8.0, models, options)  # 8 fps: VBench's stride round(8 / 8) = 1
    motion = report["motion"]
    assert motion["vbench_dynamic_degree"]["dynamic"] is True and "cropped" not in motion["vbench_dynamic_degree"]
    assert motion["dynamic_degree_cropped"]["dynamic"] is False
    _, expected_scores = vbench_dynamic(bordered, ContentFlow())
    np.testing.assert_allclose(motion["vbench_dynamic_degree"]["pair_scores"], expected_scores, rtol=1e-6)
