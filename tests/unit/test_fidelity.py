"""PSNR/SSIM/LPIPS (circle_rotate.metrics.fidelity) against scikit-image and direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from circle_rotate.metrics.fidelity import compute_fidelity, psnr, ssim, ssim_map
from fixtures.synthetic_video import shifted_texture


@pytest.fixture(scope="module")
def pair():
    frames = shifted_texture(4, dx=2, dy=1, height=64, width=80)
    return frames[0], frames[3]


def test_psnr_agrees_with_scikit_image(pair):
    a, b = pair
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), rel=1e-12)


def test_ssim_map_agrees_with_scikit_image_away_from_the_border(pair):
    import cv2

    a, b = pair
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    _, reference = structural_similarity(ga, gb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, full=True)
    ours = ssim_map(a, b)
    np.testing.assert_allclose(ours[5:-5, 5:-5], reference[5:-5, 5:-5], atol=1e-9)
    assert ssim(a, b) == pytest.approx(ours.mean())
    assert ssim(a, b) == pytest.approx(structural_similarity(ga, gb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255), abs=0.02)


def test_identical_frames(pair):
    a, _ = pair
    assert psnr(a, a) is None
    assert ssim(a, a) == pytest.approx(1.0)


class FakeLpips:
    """Mean absolute difference as a 'distance'; records its calls."""

    def __init__(self):
        self.calls = []

    def distance(self, a, b):
        self.calls.append(a.shape)
        return np.abs(a.astype(float) - b.astype(float)).mean(axis=(1, 2, 3)) / 255


def test_fidelity_pairs_and_conditioning_resize(pair):
    import cv2

    first, last = pair
    big_first = cv2.resize(first, (160, 128), interpolation=cv2.INTER_NEAREST)
    lpips = FakeLpips()
    result = compute_fidelity(first, last, lpips, conditioning_first=big_first, conditioning_last=first)
    assert lpips.calls == [(3, 64, 80, 3)]  # one batched call for the three pairs
    assert result["first_last"]["psnr"] == pytest.approx(psnr(first, last))
    assert result["first_last"]["ssim"] == pytest.approx(ssim(first, last))
    assert result["first_last"]["lpips"] == pytest.approx(np.abs(first.astype(float) - last).mean() / 255)
    # nearest-upscaled by 2 then area-downscaled by 2 gives the original back
    assert result["first_vs_conditioning"]["psnr"] is None
    assert result["last_vs_conditioning"]["ssim"] == pytest.approx(ssim(first, last))


def test_fidelity_without_lpips_or_conditioning(pair):
    result = compute_fidelity(*pair)
    assert result["first_last"]["lpips"] is None
    assert result["first_vs_conditioning"] is None and result["last_vs_conditioning"] is None


def test_conditioning_image_must_be_rgb(pair):
    with pytest.raises(ValueError, match="conditioning image of shape \\(4, 4\\)"):
        compute_fidelity(*pair, conditioning_first=np.zeros((4, 4), np.uint8))
