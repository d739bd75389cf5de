"""Colour drift (metrics/colour.py): our CIEDE2000 and sRGB -> CIELAB against Sharma, Wu & Dalal's published test
data and against scikit-image (``skimage.color.deltaE_ciede2000``, ``rgb2lab``) as the independent computation, on
frames with known colour shifts."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

from circle_rotate.metrics.colour import ciede2000, compute_colour, srgb_to_lab
from circle_rotate.metrics.fidelity import fit_to

# Sharma, Wu & Dalal (2005), Table 1: pair number, (L1, a1, b1), (L2, a2, b2), published ΔE00 (4 decimals).
SHARMA_TABLE_1 = [
    (1, (50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    (2, (50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    (3, (50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    (4, (50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    (5, (50.0, -1.1848, -84.8006), (50.0, 0.0, -82.7485), 1.0000),
    (6, (50.0, -0.9009, -85.5211), (50.0, 0.0, -82.7485), 1.0000),
    (7, (50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    (8, (50.0, -1.0, 2.0), (50.0, 0.0, 0.0), 2.3669),
    (9, (50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    (10, (50.0, 2.49, -0.001), (50.0, -2.49, 0.0010), 7.1792),
    (11, (50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    (12, (50.0, 2.49, -0.001), (50.0, -2.49, 0.0012), 7.2195),
    (13, (50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    (14, (50.0, -0.001, 2.49), (50.0, 0.0010, -2.49), 4.8045),
    (15, (50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    (16, (50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    (17, (50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    (18, (50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    (19, (50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    (20, (50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    (21, (50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    (22, (50.0, 2.5, 0.0), (50.0, 3.2972, 0.0), 1.0000),
    (23, (50.0, 2.5, 0.0), (50.0, 1.8634, 0.5757), 1.0000),
    (24, (50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0000),
    (25, (60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    (26, (63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    (27, (61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    (28, (35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    (29, (22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    (30, (36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    (31, (90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    (32, (90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    (33, (6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    (34, (2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.fixture
def texture() -> np.ndarray:
    """A 48x64 colourful textured frame (uint8 RGB), away from the sRGB gamut's edges so shifts stay in gamut."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:48, 0:64]
    base = np.stack([90 + 60 * np.sin(x / 7.0), 110 + 50 * np.cos(y / 5.0), 100 + 40 * np.sin((x + y) / 9.0)], axis=-1)
    return np.clip(base + rng.normal(0, 8, base.shape), 40, 215).round().astype(np.uint8)


def shifted(frame: np.ndarray, lightness: float = 0.0, hue_deg: float = 0.0) -> np.ndarray:
    """``frame`` with a constant CIELAB lightness shift and a rotation of its (a*, b*) hue, through skimage."""
    lab = rgb2lab(frame)
    angle = np.radians(hue_deg)
    a, b = lab[..., 1], lab[..., 2]
    lab = np.stack([lab[..., 0] + lightness, a * np.cos(angle) - b * np.sin(angle), a * np.sin(angle) + b * np.cos(angle)], axis=-1)
    return (np.clip(lab2rgb(lab), 0, 1) * 255).round().astype(np.uint8)


@pytest.mark.parametrize("number, lab1, lab2, published", SHARMA_TABLE_1)
def test_ciede2000_reproduces_sharmas_published_table(number, lab1, lab2, published):
    assert round(float(ciede2000(np.array(lab1), np.array(lab2))), 4) == published
    assert round(float(ciede2000(np.array(lab2), np.array(lab1))), 4) == published  # symmetric


def test_ciede2000_equals_scikit_image_on_random_and_edge_colours():
    rng = np.random.default_rng(0)
    low, high = [0, -128, -128], [100, 128, 128]
    lab1, lab2 = rng.uniform(low, high, (20000, 3)), rng.uniform(low, high, (20000, 3))
    grey = np.array([[50.0, 0.0, 0.0], [50.0, 0.0, 0.0], [20.0, 0.0, 0.0]])  # zero chroma: hue undefined
    opposite = np.array([[50.0, 10.0, 0.0], [60.0, -10.0, 0.001], [40.0, 0.0, 30.0]])  # hue 180 deg apart or vs grey
    lab1, lab2 = np.concatenate([lab1, grey]), np.concatenate([lab2, opposite])
    np.testing.assert_allclose(ciede2000(lab1, lab2), deltaE_ciede2000(lab1, lab2), rtol=0, atol=1e-9)
    assert ciede2000(lab1, lab1).max() == 0.0


def test_srgb_to_lab_equals_scikit_image_over_the_rgb_cube():
    levels = np.arange(0, 256, 3, dtype=np.uint8)
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    # skimage rounds the CIE constants (0.008856, 7.787); ours are exact (6/29)^3 and 1/(3 (6/29)^2): < 2e-4 apart
    np.testing.assert_allclose(srgb_to_lab(cube), rgb2lab(cube), rtol=0, atol=2e-4)


def test_known_lightness_and_hue_shifts_match_scikit_image(texture):
    shifts = [(0.0, 0.0), (3.0, 0.0), (0.0, 20.0), (8.0, 35.0), (-4.0, 0.0), (0.0, -10.0)]
    frames = np.stack([texture] + [shifted(texture, l, h) for l, h in shifts[1:]])
    indices = np.array([0, 5, 10, 15, 20, 25])
    result = compute_colour(frames, indices)
    lab = rgb2lab(frames)
    pixels = [float(deltaE_ciede2000(lab[0], lab[k]).mean()) for k in range(len(frames))]
    colour = [float(deltaE_ciede2000(lab[0].reshape(-1, 3).mean(0), lab[k].reshape(-1, 3).mean(0))) for k in range(len(frames))]
    np.testing.assert_allclose(result["delta_e_pixels"], pixels, atol=1e-3)
    np.testing.assert_allclose(result["delta_e_colour"], colour, atol=1e-3)
    assert result["delta_e_colour"][0] == 0.0 and result["delta_e_pixels"][0] == 0.0
    assert result["mean_delta_e_pixels"] == pytest.approx(np.mean(pixels[1:]), abs=1e-3)
    assert result["mean_delta_e_colour"] == pytest.approx(np.mean(colour[1:]), abs=1e-3)
    assert result["max_shift_frame"] == 15  # the (8 L*, 35 deg) frame shifts most
    assert result["max_delta_e_colour"] == pytest.approx(max(colour), abs=1e-3)
    assert 2.0 < result["delta_e_colour"][1] < 4.0  # a 3-unit lightness shift reads about 3 ΔE00 near L* 50
    assert result["indices"] == indices.tolist()


def test_motion_without_colour_change_is_no_colour_drift(texture):
    moved = np.roll(texture, 9, axis=1)  # the same pixels elsewhere: same mean colour, different content
    result = compute_colour(np.stack([texture, moved]), np.array([0, 1]))
    assert result["delta_e_colour"][1] == pytest.approx(0.0, abs=1e-9)
    assert result["delta_e_pixels"][1] > 5.0


def test_conditioning_images_are_resized_to_the_frame_and_compared(texture):
    last = shifted(texture, 5.0, 0.0)
    big_first = np.repeat(np.repeat(texture, 2, axis=0), 2, axis=1)  # 96x128: fit_to brings it back to 48x64
    conditioning_last = shifted(texture, 0.0, 25.0)
    result = compute_colour(np.stack([texture, last]), np.array([0, 80]), big_first, conditioning_last)
    resized = fit_to(big_first, 48, 64)
    expected_first = deltaE_ciede2000(rgb2lab(texture), rgb2lab(resized)).mean()
    assert result["first_vs_conditioning"]["delta_e_pixels"] == pytest.approx(expected_first, abs=1e-3)
    expected_last = deltaE_ciede2000(rgb2lab(conditioning_last), rgb2lab(last))
    assert result["last_vs_conditioning"]["delta_e_pixels"] == pytest.approx(expected_last.mean(), abs=1e-3)
    means = [rgb2lab(image).reshape(-1, 3).mean(0) for image in (conditioning_last, last)]
    assert result["last_vs_conditioning"]["delta_e_colour"] == pytest.approx(deltaE_ciede2000(*means), abs=1e-3)
    without = compute_colour(np.stack([texture, last]), np.array([0, 80]))
    assert without["first_vs_conditioning"] is None and without["last_vs_conditioning"] is None


def test_single_frame_has_no_drift_values(texture):
    result = compute_colour(texture[None], np.array([0]), conditioning_first=texture)
    assert result["mean_delta_e_colour"] is None and result["max_shift_frame"] is None
    assert result["first_vs_conditioning"] == {"delta_e_colour": 0.0, "delta_e_pixels": 0.0}


def test_bad_input_is_refused_with_the_fix(texture):
    with pytest.raises(ValueError, match="uint8 RGB"):
        compute_colour(texture[None].astype(np.float32), np.array([0]))
    with pytest.raises(ValueError, match="one video index per frame"):
        compute_colour(np.stack([texture, texture]), np.array([0]))
    with pytest.raises(ValueError, match="uint8 RGB"):
        srgb_to_lab(np.zeros((2, 2, 4), np.uint8))


def test_suite_reports_the_colour_family_in_json_and_csv(texture, tmp_path):
    from circle_rotate import report as core_report
    from circle_rotate import suite

    frames = np.stack([shifted(texture, 2.0 * k, 0.0) for k in range(6)])
    conditioning = suite.Conditioning(first=texture, last=shifted(texture, 0.0, 30.0))
    options = suite.SuiteOptions(metrics=("colour",), num_frames=0)
    result = suite.evaluate_frames(frames, 16.0, None, options, conditioning=conditioning)
    expected = compute_colour(frames, np.arange(6), conditioning.first, conditioning.last)
    assert result["colour"] == expected and result["errors"] == {}
    assert result["skipped"]["orbit"].startswith("not asked for")
    core_report.write_csv([result], tmp_path / "r.csv")
    header, row = (tmp_path / "r.csv").read_text().splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(",")))
    assert float(cells["colour.mean_delta_e_colour"]) == pytest.approx(expected["mean_delta_e_colour"])
    assert float(cells["colour.last_vs_conditioning.delta_e_pixels"]) == pytest.approx(expected["last_vs_conditioning"]["delta_e_pixels"])
    assert cells["colour.max_shift_frame"] == "5"
    assert "colour.delta_e_colour" not in cells  # per-frame lists stay in the JSON
