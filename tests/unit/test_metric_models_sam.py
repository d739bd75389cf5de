"""SamSegmenter: batched image encoder + per-frame decoder equals SamPredictor one frame at a time.

A small SAM (same classes as ViT-B, 256-pixel input, 2 blocks) keeps this fast on CPU; the code path is the one
the ViT-B checkpoint takes (the segmenter reads the input size from ``image_encoder.img_size``).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch

from circle_rotate.metric_models.protocols import Detection
from circle_rotate.metric_models.sam_segmenter import SamSegmenter


def tiny_sam(seed: int = 0) -> torch.nn.Module:
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    torch.manual_seed(seed)
    size, patch, dim = 256, 16, 32
    sam = Sam(
        image_encoder=ImageEncoderViT(
            img_size=size, patch_size=patch, embed_dim=64, depth=2, num_heads=2, mlp_ratio=2, out_chans=dim,
            qkv_bias=True, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=True, window_size=4,
            global_attn_indexes=(1,),
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=dim, image_embedding_size=(size // patch, size // patch), input_image_size=(size, size),
            mask_in_chans=4,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3, transformer=TwoWayTransformer(depth=1, embedding_dim=dim, mlp_dim=64, num_heads=2),
            transformer_dim=dim, iou_head_depth=2, iou_head_hidden_dim=32,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()


def box(x0: float, y0: float, x1: float, y1: float) -> Detection:
    return Detection((x0, y0, x1, y1), 0.9, 2, "car")


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (4, 72, 120, 3), dtype=np.uint8)


def test_batched_masks_equal_sam_predictor_one_frame_at_a_time(frames: np.ndarray) -> None:
    from segment_anything import SamPredictor

    sam = tiny_sam()
    boxes = [box(10, 8, 70, 60), box(30, 5, 110, 50), box(0, 0, 119, 71), box(50, 20, 90, 70)]

    masks = SamSegmenter.from_model(sam, device="cpu", batch_size=3).segment(frames, boxes)

    predictor = SamPredictor(sam)
    for frame, detection, mask in zip(frames, boxes, masks):
        predictor.set_image(frame)
        expected, scores, _ = predictor.predict(box=np.array(detection.box_xyxy), multimask_output=True)
        np.testing.assert_array_equal(mask, expected[int(np.argmax(scores))])
    assert masks.shape == (4, 72, 120) and masks.dtype == bool
    assert 0 < masks.mean() < 1


def test_frames_without_box_get_empty_masks_and_skip_the_encoder(frames: np.ndarray) -> None:
    sam = tiny_sam()
    calls = []
    sam.image_encoder.register_forward_hook(lambda module, inputs, output: calls.append(inputs[0].shape[0]))

    masks = SamSegmenter.from_model(sam, device="cpu", batch_size=8).segment(frames, [None, box(10, 8, 70, 60), None, None])

    assert calls == [1]
    assert not masks[[0, 2, 3]].any()


def test_box_count_must_match_frames(frames: np.ndarray) -> None:
    with pytest.raises(ValueError, match="boxes has 1 entries for 4 frames"):
        SamSegmenter.from_model(tiny_sam(), device="cpu").segment(frames, [None])


def test_missing_checkpoint_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="nowhere/sam.pth"):
        SamSegmenter.from_file("/nowhere/sam.pth", device="cpu")
