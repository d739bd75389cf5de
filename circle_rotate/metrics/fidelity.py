"""Fidelity: PSNR, SSIM and LPIPS between frame pairs.

Pairs: the generated first vs last frame (the original's definition, ``first_last``); and, when conditioning
images are given, conditioning first image vs generated first frame (``first_vs_conditioning``) and conditioning
last image vs generated last frame (``last_vs_conditioning``), which is what users of first/last-frame
generation expect (the original's first version compared these). A conditioning image whose size differs from
the frames is resized to the frame size with ``cv2.resize(..., INTER_AREA)`` (area averaging when shrinking,
bilinear-like when enlarging); its aspect ratio is not preserved.

- PSNR (dB) on RGB uint8: ``10 * log10(255^2 / MSE)`` over all pixels and channels. Identical images give
  ``None`` (the original returned +inf, which JSON cannot hold).
- SSIM, the original's exact definition: grayscale by ``cv2.cvtColor(RGB2GRAY)`` (rounded to uint8, then float),
  local statistics with ``cv2.GaussianBlur`` (11 x 11 window, sigma 1.5, OpenCV's default border: reflect-101,
  so no border is cropped), C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, population (biased) local variances,
  and the mean of the whole SSIM map. scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)`` computes the same map except within 5 px of the border (it
  reflects differently and crops those 5 px before averaging).
- LPIPS through the ``PerceptualDistance`` protocol (the original: AlexNet, inputs scaled to [-1, 1], full
  resolution); lower is more similar.
"""

from __future__ import annotations

import math

import numpy as np

from ..metric_models.protocols import PerceptualDistance

SSIM_WINDOW = (11, 11)
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * 255) ** 2
SSIM_C2 = (0.03 * 255) ** 2


def psnr(a: np.ndarray, b: np.ndarray) -> float | None:
    """PSNR in dB of two uint8 RGB images of the same shape; None when they are identical."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return None if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W) float64 SSIM map of two uint8 RGB images of the same shape (the original's definition)."""
    import cv2

    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)

    def blur(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, SSIM_WINDOW, SSIM_SIGMA)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    return ((2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)) / ((mu_x**2 + mu_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of :func:`ssim_map`."""
    return float(ssim_map(a, b).mean())


def fit_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` (uint8 RGB) resized to (height, width) with INTER_AREA, unchanged when it already fits."""
    import cv2

    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"conditioning image of shape {image.shape}: expected (H, W, 3) RGB")
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def compute_fidelity(
    first: np.ndarray,
    last: np.ndarray,
    lpips: PerceptualDistance | None = None,
    conditioning_first: np.ndarray | None = None,
    conditioning_last: np.ndarray | None = None,
) -> dict:
    """PSNR/SSIM/LPIPS of the original's pair and of the conditioning pairs.

    Args:
        first, last: the video's first and last frames, uint8 RGB (H, W, 3).
        lpips: perceptual distance model, or None to skip LPIPS (values are then None).
        conditioning_first, conditioning_last: conditioning images (uint8 RGB, any size), or None.

    Returns:
        ``{"first_last": {"psnr", "ssim", "lpips"}, "first_vs_conditioning": {...} | None,
        "last_vs_conditioning": {...} | None}``; all LPIPS pairs are computed in one model call.
    """
    height, width = first.shape[:2]
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {"first_last": (first, last)}
    if conditioning_first is not None:
        pairs["first_vs_conditioning"] = (fit_to(conditioning_first, height, width), first)
    if conditioning_last is not None:
        pairs["last_vs_conditioning"] = (fit_to(conditioning_last, height, width), last)
    distances: list[float | None] = [None] * len(pairs)
    if lpips is not None:
        a = np.stack([pair[0] for pair in pairs.values()])
        b = np.stack([pair[1] for pair in pairs.values()])
        distances = [float(d) for d in lpips.distance(a, b)]
    result: dict = {"first_vs_conditioning": None, "last_vs_conditioning": None}
    for (name, (a, b)), distance in zip(pairs.items(), distances):
        result[name] = {"psnr": psnr(a, b), "ssim": ssim(a, b), "lpips": distance}
    return result
