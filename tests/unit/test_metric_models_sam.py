"""SamSegmenter: batched image encoder + per-frame decoder equals SamPredictor one frame at a time.

With segment-anything's own attention (``fused_attention=False``) the masks are bit-identical; with the default
fused attention they agree up to pixels whose logit sits within float32 rounding of the threshold.

A small SAM (same classes as ViT-B, 256-pixel input, 2 blocks) keeps this fast on CPU; the code path is the one
the ViT-B checkpoint takes (the segmenter reads the input size from ``image_encoder.img_size``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from circle_rotate.metric_models.protocols import Detection
from circle_rotate.metric_models.sam_segmenter import SamSegmenter
from fixtures.tiny_sam import tiny_sam


def box(x0: float, y0: float, x1: float, y1: float) -> Detection:
    return Detection((x0, y0, x1, y1), 0.9, 2, "car")


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (4, 72, 120, 3), dtype=np.uint8)


BOXES = [box(10, 8, 70, 60), box(30, 5, 110, 50), box(0, 0, 119, 71), box(50, 20, 90, 70)]


def predictor_masks(sam: torch.nn.Module, frames: np.ndarray) -> np.ndarray:
    """The original's call per frame: SamPredictor.set_image, predict(box, multimask), the best-scoring mask."""
    from segment_anything import SamPredictor

    predictor = SamPredictor(sam)
    best = []
    for frame, detection in zip(frames, BOXES):
        predictor.set_image(frame)
        masks, scores, _ = predictor.predict(box=np.array(detection.box_xyxy), multimask_output=True)
        best.append(masks[int(np.argmax(scores))])
    return np.stack(best)


def test_batched_masks_with_sams_own_attention_equal_sam_predictor_bit_for_bit(frames: np.ndarray) -> None:
    sam = tiny_sam(rel_pos_std=0.5)

    masks = SamSegmenter(sam, device="cpu", batch_size=3, fused_attention=False).segment(frames, BOXES)

    np.testing.assert_array_equal(masks, predictor_masks(sam, frames))
    assert masks.shape == (4, 72, 120) and masks.dtype == bool
    assert 0 < masks.mean() < 1


def test_batched_masks_with_fused_attention_agree_with_sam_predictor(frames: np.ndarray) -> None:
    sam = tiny_sam(rel_pos_std=0.5)

    masks = SamSegmenter(sam, device="cpu", batch_size=3).segment(frames, BOXES)

    expected = predictor_masks(sam, frames)
    assert 0 < expected.mean() < 1
    assert (masks != expected).mean() < 1e-3


def test_frames_without_box_get_empty_masks_and_skip_the_encoder(frames: np.ndarray) -> None:
    sam = tiny_sam()
    calls = []
    sam.image_encoder.register_forward_hook(lambda module, inputs, output: calls.append(inputs[0].shape[0]))

    masks = SamSegmenter(sam, device="cpu", batch_size=8).segment(frames, [None, box(10, 8, 70, 60), None, None])

    assert calls == [1]
    assert not masks[[0, 2, 3]].any()


def test_box_count_must_match_frames(frames: np.ndarray) -> None:
    with pytest.raises(ValueError, match="boxes has 1 entries for 4 frames"):
        SamSegmenter(tiny_sam(), device="cpu").segment(frames, [None])


def test_missing_checkpoint_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="nowhere/sam.pth"):
        SamSegmenter.from_file("/nowhere/sam.pth", device="cpu")
