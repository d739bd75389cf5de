"""Colour drift: CIEDE2000 colour differences (ΔE00) over time and against the conditioning images.

Preprocessing: uint8 sRGB -> CIELAB (D65), our own code following the standard (IEC 61966-2-1, CIE 15):

    c = v / 255;  linear = c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    (X, Y, Z) = M @ linear,  M = [[0.412453, 0.357580, 0.180423],
                                  [0.212671, 0.715160, 0.072169],
                                  [0.019334, 0.119193, 0.950227]]
    white D65 (Xn, Yn, Zn) = (0.95047, 1.0, 1.08883)
    f(t) = t ** (1/3) if t > (6/29)^3 else t / (3 (6/29)^2) + 4/29
    L* = 116 f(Y/Yn) - 16,  a* = 500 (f(X/Xn) - f(Y/Yn)),  b* = 200 (f(Y/Yn) - f(Z/Zn))

ΔE00 between (L1, a1, b1) and (L2, a2, b2) (Sharma, Wu & Dalal 2005, "The CIEDE2000 color-difference formula:
implementation notes, supplementary test data, and mathematical observations", eqs. 1-22; kL = kC = kH = 1):

    C_i = sqrt(a_i^2 + b_i^2),  Cb = (C1 + C2) / 2,  G = 0.5 (1 - sqrt(Cb^7 / (Cb^7 + 25^7)))
    a'_i = (1 + G) a_i,  C'_i = sqrt(a'_i^2 + b_i^2),  h'_i = atan2(b_i, a'_i) in [0, 360) degrees (0 if C'_i = 0)
    dL' = L2 - L1,  dC' = C'2 - C'1
    dh' = h'2 - h'1 wrapped into [-180, 180] (0 if C'1 C'2 = 0),  dH' = 2 sqrt(C'1 C'2) sin(dh' / 2)
    L' = (L1 + L2) / 2,  C' = (C'1 + C'2) / 2
    h' = (h'1 + h'2) / 2, plus 180 if |h'1 - h'2| > 180 (minus 180 when h'1 + h'2 >= 360); h'1 + h'2 if C'1 C'2 = 0
    T = 1 - 0.17 cos(h' - 30) + 0.24 cos(2 h') + 0.32 cos(3 h' + 6) - 0.20 cos(4 h' - 63)
    dtheta = 30 exp(-((h' - 275) / 25)^2),  R_C = 2 sqrt(C'^7 / (C'^7 + 25^7)),  R_T = -sin(2 dtheta) R_C
    S_L = 1 + 0.015 (L' - 50)^2 / sqrt(20 + (L' - 50)^2),  S_C = 1 + 0.045 C',  S_H = 1 + 0.015 C' T
    ΔE00 = sqrt((dL'/S_L)^2 + (dC'/S_C)^2 + (dH'/S_H)^2 + R_T (dC'/S_C)(dH'/S_H))

Units: ΔE00 is unitless; about 1 is a just-noticeable difference, 2-10 is visible at a glance, above 10 the
colours read as different.

Reported (``compute_colour``), on the sampled frames f_0 ... f_{N-1}:

- ``delta_e_colour``: per frame, ΔE00 between the frame's mean CIELAB colour (mean L*, a*, b* over its pixels)
  and the first frame's: the colour cast drifting over time, insensitive to the subject or camera moving.
- ``delta_e_pixels``: per frame, the mean over pixels of the per-pixel ΔE00 against the first frame: colour
  drift PLUS every change of content (motion, occlusion), so it rises with the orbit itself.
- ``mean_delta_e_colour`` / ``mean_delta_e_pixels``: the means of those lists over frames 1 ... N-1 (None for a
  single frame); ``max_delta_e_colour`` and ``max_shift_frame`` (the video frame index of the largest colour shift).
- ``first_vs_conditioning`` / ``last_vs_conditioning``: the generated first (last) frame against the conditioning
  first (last) image, resized to the frame size as the fidelity family does (``fidelity.fit_to``, INTER_AREA):
  ``{"delta_e_colour", "delta_e_pixels"}`` as above; None when that image is not given.
"""

from __future__ import annotations

import numpy as np

from .fidelity import fit_to

SRGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]], dtype=np.float64
)
D65_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)
_DELTA = 6.0 / 29.0
_POW25_7 = 25.0**7
_LEVELS = np.arange(256, dtype=np.float64) / 255.0
_LINEAR = np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)
"""The sRGB linearisation of each uint8 level (a look-up table: the same values, computed once)."""


def srgb_to_lab(image: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of uint8 sRGB pixels (..., 3), float64 (..., 3) (module doc for the formulas).

    Raises:
        ValueError: the input is not uint8 with a last axis of 3.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.shape[-1:] != (3,):
        raise ValueError(f"colour: expected uint8 RGB pixels (..., 3), got shape {image.shape} dtype {image.dtype}")
    xyz = (_LINEAR[image] @ SRGB_TO_XYZ.T) / D65_WHITE
    f = np.where(xyz > _DELTA**3, np.cbrt(xyz), xyz / (3.0 * _DELTA**2) + 4.0 / 29.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """ΔE00 between CIELAB colours ``lab1`` and ``lab2`` ((..., 3), broadcast), float64 (...); module doc formula.

    Always float64: ΔE00 jumps where the hue difference crosses 180 degrees (Sharma et al.'s noted discontinuity),
    and float32 rounding would move pixels across it (up to 1.7 ΔE00 apart on a random image).
    """
    lab1, lab2 = np.asarray(lab1, dtype=np.float64), np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    L2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + _POW25_7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where(c1p == 0, 0.0, np.degrees(np.arctan2(b1, a1p)) % 360.0)
    h2p = np.where(c2p == 0, 0.0, np.degrees(np.arctan2(b2, a2p)) % 360.0)
    chroma_product = c1p * c2p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(chroma_product == 0, 0.0, dh)
    d_l, d_c = L2 - L1, c2p - c1p
    d_h = 2.0 * np.sqrt(chroma_product) * np.sin(np.radians(dh) / 2.0)
    l_bar, c_bar = (L1 + L2) / 2.0, (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180.0, h_sum / 2.0, np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0)
    )
    h_bar = np.where(chroma_product == 0, h_sum, h_bar)
    rad = np.radians
    t = (
        1.0
        - 0.17 * np.cos(rad(h_bar - 30.0))
        + 0.24 * np.cos(rad(2.0 * h_bar))
        + 0.32 * np.cos(rad(3.0 * h_bar + 6.0))
        - 0.20 * np.cos(rad(4.0 * h_bar - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    c_bar7p = c_bar**7
    r_t = -np.sin(rad(2.0 * d_theta)) * 2.0 * np.sqrt(c_bar7p / (c_bar7p + _POW25_7))
    s_l = 1.0 + 0.015 * (l_bar - 50.0) ** 2 / np.sqrt(20.0 + (l_bar - 50.0) ** 2)
    s_c = 1.0 + 0.045 * c_bar
    s_h = 1.0 + 0.015 * c_bar * t
    x_l, x_c, x_h = d_l / s_l, d_c / s_c, d_h / s_h
    return np.sqrt(np.maximum(0.0, x_l**2 + x_c**2 + x_h**2 + r_t * x_c * x_h))


def _pair(lab_a: np.ndarray, lab_b: np.ndarray) -> dict:
    """``{"delta_e_colour": ΔE00 of the mean colours, "delta_e_pixels": mean per-pixel ΔE00}`` of two (H, W, 3) Lab images."""
    return {
        "delta_e_colour": float(ciede2000(lab_a.reshape(-1, 3).mean(axis=0), lab_b.reshape(-1, 3).mean(axis=0))),
        "delta_e_pixels": float(ciede2000(lab_a, lab_b).mean()),
    }


def _against(frame_lab: np.ndarray, image: np.ndarray | None, height: int, width: int) -> dict | None:
    return None if image is None else _pair(frame_lab, srgb_to_lab(fit_to(image, height, width)))


def compute_colour(
    frames: np.ndarray,
    indices: np.ndarray,
    conditioning_first: np.ndarray | None = None,
    conditioning_last: np.ndarray | None = None,
) -> dict:
    """Colour drift of the sampled frames and against the conditioning images (module doc for every key).

    Args:
        frames: (N, H, W, 3) uint8 RGB sampled frames, N >= 1.
        indices: (N,) their frame indices in the video (for ``indices`` and ``max_shift_frame``).
        conditioning_first, conditioning_last: uint8 RGB (h, w, 3) conditioning images of any size, or None.

    Returns:
        ``{"indices", "delta_e_colour", "delta_e_pixels", "mean_delta_e_colour", "mean_delta_e_pixels",
        "max_delta_e_colour", "max_shift_frame", "first_vs_conditioning", "last_vs_conditioning"}``.

    Raises:
        ValueError: frames that are not (N, H, W, 3) uint8 with N >= 1, or indices of another length.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"colour: frames must be uint8 RGB (N, H, W, 3) with N >= 1, got shape {frames.shape} dtype {frames.dtype}")
    indices = np.asarray(indices)
    if indices.shape != (len(frames),):
        raise ValueError(f"colour: {len(indices)} indices for {len(frames)} frames; give one video index per frame")
    height, width = frames.shape[1:3]
    first_lab = last_lab = srgb_to_lab(frames[0])
    pairs = [_pair(first_lab, first_lab)]
    for frame in frames[1:]:
        last_lab = srgb_to_lab(frame)
        pairs.append(_pair(first_lab, last_lab))
    colour = [p["delta_e_colour"] for p in pairs]
    pixels = [p["delta_e_pixels"] for p in pairs]
    later = len(frames) > 1
    worst = int(np.argmax(colour[1:])) + 1 if later else 0
    return {
        "indices": [int(i) for i in indices],
        "delta_e_colour": colour,
        "delta_e_pixels": pixels,
        "mean_delta_e_colour": float(np.mean(colour[1:])) if later else None,
        "mean_delta_e_pixels": float(np.mean(pixels[1:])) if later else None,
        "max_delta_e_colour": colour[worst] if later else None,
        "max_shift_frame": int(indices[worst]) if later else None,
        "first_vs_conditioning": _against(first_lab, conditioning_first, height, width),
        "last_vs_conditioning": _against(last_lab, conditioning_last, height, width),
    }
