"""Parity with the original's CLIP-I preprocessing: transformers' ``CLIPProcessor`` for
``openai/clip-vit-base-patch32`` as of transformers 4.37 (the original's version), written here independently from
its published algorithm (``CLIPImageProcessor``: ``get_resize_output_image_size(default_to_square=False)``, PIL
bicubic resize, ``image_transforms.center_crop`` with floored offsets, ``rescale`` then ``normalize``).
transformers is not a dependency of the pack, so the test does not import it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from circle_rotate.metric_models.clip_encoder import ClipEncoder

OPENAI_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
OPENAI_STD = np.array([0.26862954, 0.26130258, 0.27577711])


def clip_processor_pixels(frame: np.ndarray, size: int = 224) -> torch.Tensor:
    """(3, size, size) pixel_values of CLIPImageProcessor (transformers 4.37) for one uint8 RGB frame."""
    height, width = frame.shape[:2]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    out_height, out_width = (new_long, new_short) if width <= height else (new_short, new_long)
    resized = Image.fromarray(frame).resize((out_width, out_height), resample=Image.BICUBIC, reducing_gap=None)
    top, left = (out_height - size) // 2, (out_width - size) // 2
    cropped = np.array(resized.crop((left, top, left + size, top + size)))
    rescaled = (cropped.astype(np.float64) * (1 / 255)).astype(np.float32)
    normalised = (rescaled - OPENAI_MEAN.astype(np.float32)) / OPENAI_STD.astype(np.float32)
    return torch.from_numpy(normalised.transpose(2, 0, 1).copy())


@pytest.fixture(scope="module")
def clip_model() -> torch.nn.Module:
    import open_clip

    torch.manual_seed(0)
    return open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True).eval()


@pytest.fixture(scope="module")
def frame_200x132() -> np.ndarray:
    """132 rows x 200 columns: resized to 224 x 339, so (339 - 224) / 2 = 57.5 is where floor and round differ."""
    y, x = np.mgrid[0:132, 0:200]
    rng = np.random.default_rng(4)
    image = np.stack([x * 1.2, y * 1.8, (x * y) % 255], axis=-1) + rng.normal(0, 20, (132, 200, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape", [(132, 200), (200, 132), (60, 100), (224, 224), (301, 97)])
def test_preprocessing_is_clip_processors(clip_model, shape):
    frame = np.random.default_rng(sum(shape)).integers(0, 256, (*shape, 3), dtype=np.uint8)
    encoder = ClipEncoder(clip_model, device="cpu")
    torch.testing.assert_close(encoder.preprocess(frame), clip_processor_pixels(frame), rtol=0, atol=1e-6)


def test_embeddings_are_the_originals_at_200x132(clip_model, frame_200x132):
    ours = ClipEncoder(clip_model, device="cpu").embed(frame_200x132[None])[0]
    with torch.inference_mode():
        reference = torch.nn.functional.normalize(clip_model.encode_image(clip_processor_pixels(frame_200x132)[None]), dim=-1)
    np.testing.assert_allclose(ours, reference[0].numpy(), atol=1e-5)


def test_torchvision_centre_crop_would_sit_one_column_right(frame_200x132):
    import open_clip

    torchvision_pixels = open_clip.image_transform(224, is_train=False)(Image.fromarray(frame_200x132))
    processor_pixels = clip_processor_pixels(frame_200x132)
    torch.testing.assert_close(torchvision_pixels[:, :, :-1], processor_pixels[:, :, 1:], rtol=0, atol=1e-5)
    assert (torchvision_pixels - processor_pixels).abs().max() > 0.1
