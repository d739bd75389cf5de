"""First/last-frame conditioning: native nodes underneath, resize policies, size checks and their messages."""

from __future__ import annotations

import logging

import pytest
import torch

from fixtures.generation_graphs import conditioning, smooth_image


@pytest.fixture(scope="module")
def vae(comfy_host, tiny_models):
    return comfy_host.node("VAELoader")().load_vae(tiny_models.vae)[0]


def ours(comfy_host, vae, start, end=None, **overrides):
    values = dict(positive=conditioning(1), negative=conditioning(2), vae=vae, start_image=start, width=64,
                  height=64, length=9, batch_size=1, mode="wan22_first_last", resize="crop", fix_invalid=False,
                  end_image=end)
    values.update(overrides)
    with torch.inference_mode():
        return comfy_host.node("CircleRotateFirstLastFrame").execute(**values)


def concat(result) -> torch.Tensor:
    return result[0][0][1]["concat_latent_image"]


@pytest.mark.parametrize(("mode", "native_id"), [("wan22_first_last", "WanFirstLastFrameToVideo"),
                                                 ("fun_inpaint", "WanFunInpaintToVideo")])
def test_crop_policy_equals_the_native_node(comfy_host, vae, mode, native_id) -> None:
    start, end = smooth_image(1, 48, 80), smooth_image(2, 96, 64)
    result = ours(comfy_host, vae, start, end, mode=mode)
    with torch.inference_mode():
        native = comfy_host.node(native_id).execute(conditioning(1), conditioning(2), vae, 64, 64, 9, 1,
                                                     start_image=start, end_image=end)
    assert torch.equal(result[2]["samples"], native[2]["samples"])
    assert torch.equal(concat(result), concat(native))
    assert torch.equal(result[1][0][1]["concat_mask"], native[1][0][1]["concat_mask"])


def test_first_frame_only_equals_wan_image_to_video_and_ignores_the_end(comfy_host, vae, caplog) -> None:
    start = smooth_image(1, 64, 64)
    with caplog.at_level(logging.WARNING):
        result = ours(comfy_host, vae, start, smooth_image(2, 64, 64), mode="first_frame_only")
    with torch.inference_mode():
        native = comfy_host.node("WanImageToVideo").execute(conditioning(1), conditioning(2), vae, 64, 64, 9, 1,
                                                            start_image=start)
    assert torch.equal(concat(result), concat(native))
    assert "first_frame_only ignores end_image" in caplog.text


@pytest.mark.parametrize("policy", ["crop", "pad", "stretch"])
def test_images_of_other_sizes_and_aspects_give_a_valid_latent(comfy_host, vae, policy) -> None:
    start, end = smooth_image(1, 40, 100), smooth_image(2, 120, 50)
    result = ours(comfy_host, vae, start, end, width=96, height=64, resize=policy)
    assert result[2]["samples"].shape == (1, 16, 3, 8, 12)
    assert concat(result).shape == (1, 16, 3, 8, 12)
    assert torch.isfinite(concat(result)).all()


def test_policies_resize_differently(comfy_host, vae) -> None:
    start = smooth_image(1, 32, 128)
    latents = {policy: concat(ours(comfy_host, vae, start, start, resize=policy))
               for policy in ("crop", "pad", "stretch")}
    assert not torch.equal(latents["crop"], latents["pad"])
    assert not torch.equal(latents["pad"], latents["stretch"])


def test_pad_keeps_the_aspect_on_a_grey_canvas(comfy_host) -> None:
    from importlib import import_module

    fit_image = import_module(comfy_host.node("CircleRotateFirstLastFrame").__module__).fit_image
    image = torch.ones(1, 32, 128, 3)  # 4:1 into 64x64 -> 64x16 band in the middle
    padded = fit_image(image, 64, 64, "pad")
    assert padded.shape == (1, 64, 64, 3)
    assert torch.all(padded[:, 24:40] == 1.0)
    assert torch.all(padded[:, :24] == 0.5) and torch.all(padded[:, 40:] == 0.5)
    assert fit_image(image, 64, 64, "stretch").shape == (1, 64, 64, 3)
    assert fit_image(image, 64, 64, "crop") is image


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("width", 650, "width 650 is not a multiple of 16; the nearest valid values are 640 and 656. Set width to a "
                       "valid value, or turn on fix_invalid to round it."),
        ("height", 8, "height 8 is not a multiple of 16; the nearest valid value is 16."),
        ("length", 80, "length 80 is not 4k+1 frames (1, 5, 9, ..., 81); the nearest valid values are 77 and 81."),
    ],
)
def test_invalid_sizes_are_rejected_with_the_nearest_valid_values(comfy_host, vae, field, value, message) -> None:
    with pytest.raises(ValueError) as error:
        ours(comfy_host, vae, smooth_image(1, 64, 64), **{field: value})
    assert str(error.value).startswith(message)


def test_fix_invalid_rounds_to_the_nearest_valid_value(comfy_host, vae, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        result = ours(comfy_host, vae, smooth_image(1, 64, 64), width=70, height=90, length=11, fix_invalid=True)
    assert result[2]["samples"].shape == (1, 16, 4, 12, 8)  # width 64, height 96, length 13 (11 is a tie: up)
    assert "width 70 is not a multiple of 16; using 64" in caplog.text
    assert "length 11 is not 4k+1 frames (1, 5, 9, ..., 81); using 13" in caplog.text
