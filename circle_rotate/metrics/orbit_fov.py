"""The camera's horizontal field of view estimated from the video (self-calibration over keyframe triples).

Unknown: one focal length f (pixels), constant over the clip; principal point at the image centre, square
pixels, no skew (the model of ``orbit_geometry``). Two views alone cannot fix f for an orbit: the optical axes of
two cameras circling a subject they keep in view cross at the same distance from both, the degenerate case of
two-view focal calibration (Sturm 2001), so the essential-matrix cost (s1 - s2) / (s1 + s2) of K^T F K is flat
there. Three views are not degenerate: a structure triangulated from two of them under a wrong f is distorted
and cannot be re-projected exactly into the third.

Method. Triples (i, j, k) of kept frames are chosen greedily: from frame i, k is the farthest frame (at least
i + 2) still sharing ``MIN_POINTS`` tracks and ``KEEP_FRACTION`` of the tracks alive at i with i, j the frame half
way (then i = j); the tracks must move by ``MIN_MOTION_DEG`` or more between i and k (95th percentile of their
lengths over the 60-degree focal length); at most ``MAX_TRIPLES`` triples, spread over the clip. A triple's cost
reads at most ``MAX_POINTS`` of its points. For each candidate FOV phi on a grid (``FOV_GRID``: 20 to 120
degrees, 10-degree steps, then a fine grid, below) and f = (W / 2) / tan(phi / 2):

- camera motion with translation (the fundamental matrices F_ij and F_ik fitted once, MAGSAC, and their
  inliers kept): E = K^T F_ik K, its pose (the decomposition with the points in front of both cameras), the
  points triangulated from the outer frames i and k (the wider baseline), the pose of the middle frame j from
  them (``cv2.solvePnP``, SQPnP then Levenberg-Marquardt); cost c(phi) = median re-projection error in j;
- a pure rotation (a homography maps i to k within ``ROTATION_ONLY_MAX_PX`` median): c(phi) = median residual
  of the best rotation of the viewing rays from i to k (Kabsch); a rotation fixes f (Hartley 1994).

Each triple t gives phi_t, the vertex of the parabola c ~ c0 + a (phi - phi_t)^2 fitted (least squares) on a
fine grid (``FINE_STEP_DEG`` steps, ``FINE_HALF_WIDTH_DEG`` either side) around its coarse-grid minimum, and
sigma_t, the FOV change that raises c by its own standard error: sigma_t = sqrt(1.25 c_min / sqrt(n_t) / a)
(1.25 c / sqrt(n) is the standard error of a median of n residuals); a triple whose coarse minimum lies on the
grid's edge or with a <= 0 gives nothing, and so does one farther than ``OUTLIER_SIGMAS`` sigma_t from the
median of the phi_t; at least ``MIN_AGREEING_TRIPLES`` must remain. The estimate is the inverse-variance mean
phi0 = sum(w_t phi_t) / sum(w_t), w_t = 1 / sigma_t^2, with sigma = 1 / sqrt(sum w_t), times sqrt(chi2 / (n -
1)) when the triples disagree more than their sigmas say (chi2 = sum w_t (phi_t - phi0)^2). It is used
(``fov_source: "estimated"``) when sigma <= ``MAX_RELATIVE_UNCERTAINTY`` * phi0; else the metric assumes
``ASSUMED_FOV_DEG`` and says why. Motions that fix no focal length (a static camera, a pure slide or dolly, a
subject turning before a still camera) fall back: a flat cost gives a large sigma. A planar scene would pass the
rotation test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .orbit_geometry import ROTATION_ONLY_MAX_PX, focal_from_fov, intrinsics, moved_deg, rotation_only
from .orbit_tracks import common

ASSUMED_FOV_DEG = 60.0
FOV_GRID = np.arange(20.0, 120.1, 10.0)
FINE_HALF_WIDTH_DEG, FINE_STEP_DEG = 4.5, 1.5  # the fine grid around the coarse minimum
MAX_POINTS = 200  # points of a triple the cost reads (an evenly spread subset of its inliers)
CHEIRALITY_SAMPLE = 25  # points that choose among the four poses of an essential matrix
_HOMOGRAPHY_ITERATIONS = 200  # a pure rotation has nearly all points as inliers: found in a few iterations
MIN_POINTS = 30  # tracks a triple needs in all three frames
KEEP_FRACTION = 0.5  # the outer frames of a triple share at least this fraction of the tracks alive at the first
MIN_MOTION_DEG = 4.0  # tracks must move this far between the outer frames of a triple
MAX_TRIPLES = 4
MAX_RELATIVE_UNCERTAINTY = 0.075
MIN_AGREEING_TRIPLES = 2  # triples left after the outlier test that an estimate needs
OUTLIER_SIGMAS = 3.0  # a triple this many of its sigmas from the median estimate is left out
_F_THRESHOLD_PX = 0.75


@dataclass(frozen=True)
class FovEstimate:
    """Result of :func:`estimate_fov`.

    Attributes:
        horizontal_fov_deg: the estimate (or ASSUMED_FOV_DEG when unreliable).
        uncertainty_deg: one standard deviation (None when the FOV is assumed).
        source: ``estimated`` or ``assumed``.
        triples: the triples the estimate rests on (those tried when the FOV is assumed).
        note: why the FOV is assumed (``""`` when estimated).
    """

    horizontal_fov_deg: float
    uncertainty_deg: float | None
    source: str
    triples: int
    note: str


def _triples(table: np.ndarray, width: int) -> list[tuple[int, int, int]]:
    """Keyframe triples (i, j, k) of the track table (module docstring)."""
    n = table.shape[1]
    focal = focal_from_fov(width, ASSUMED_FOV_DEG)
    found, i = [], 0
    while i < n - 2:
        k = i + 2
        need = max(MIN_POINTS, KEEP_FRACTION * np.count_nonzero(~np.isnan(table[:, i, 0])))
        while k + 1 < n and len(common(table, i, k + 1)[0]) >= need:
            k += 1
        j = (i + k) // 2
        a, _, c = common(table, i, j, k)
        if len(a) >= MIN_POINTS and moved_deg(a, c, focal) >= MIN_MOTION_DEG:
            found.append((i, j, k))
        i = max(i + 1, j)
    if len(found) > MAX_TRIPLES:
        found = [found[p] for p in np.linspace(0, len(found) - 1, MAX_TRIPLES).round().astype(int)]
    return found


class _TripleCost:
    """c(phi) of one triple (module docstring)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, width: int, height: int) -> None:
        import cv2

        self.width, self.height = width, height
        homography, _ = cv2.findHomography(a, c, cv2.RANSAC, 1.0, maxIters=_HOMOGRAPHY_ITERATIONS)
        mapped = cv2.perspectiveTransform(a.reshape(-1, 1, 2), homography).reshape(-1, 2) if homography is not None else None
        self.rotation = mapped is not None and float(np.median(np.linalg.norm(mapped - c, axis=1))) < ROTATION_ONLY_MAX_PX
        self.a, self.b, self.c = a, b, c
        if not self.rotation:
            try:
                f_ab, in_ab = cv2.findFundamentalMat(a, b, cv2.USAC_MAGSAC, _F_THRESHOLD_PX, 0.999)
                f_ac, in_ac = cv2.findFundamentalMat(a, c, cv2.USAC_MAGSAC, _F_THRESHOLD_PX, 0.999)
            except cv2.error:  # MAGSAC asserts on degenerate samples (e.g. nearly identical frames): no fit
                f_ab = f_ac = None
            if f_ab is None or f_ac is None or f_ab.shape != (3, 3) or f_ac.shape != (3, 3):
                self.points = 0
                return
            keep = in_ab.ravel().astype(bool) & in_ac.ravel().astype(bool)
            self.a, self.b, self.c, self.fundamental = a[keep], b[keep], c[keep], f_ac
        if len(self.a) > MAX_POINTS:  # evenly spread subset: the cost is linear in the points
            chosen = np.linspace(0, len(self.a) - 1, MAX_POINTS).round().astype(int)
            self.a, self.b, self.c = self.a[chosen], self.b[chosen], self.c[chosen]
        self.points = len(self.a)

    def __call__(self, fov_deg: float) -> float:
        import cv2

        k = intrinsics(self.width, self.height, focal_from_fov(self.width, fov_deg))
        if self.rotation:
            return rotation_only(self.a, self.c, k)[1]
        points, keep = _triangulated(k.T @ self.fundamental @ k, self.a, self.c, k)
        if keep.sum() < MIN_POINTS // 2:
            return np.inf
        points, target = points[keep], self.b[keep]
        ok, rvec, tvec = cv2.solvePnP(points, target, k, None, flags=cv2.SOLVEPNP_SQPNP)
        if not ok:
            return np.inf
        rvec, tvec = cv2.solvePnPRefineLM(points, target, k, None, rvec, tvec)
        projected, _ = cv2.projectPoints(points, rvec, tvec, k, None)
        return float(np.median(np.linalg.norm(projected.reshape(-1, 2) - target, axis=1)))


def _triangulated(essential: np.ndarray, a: np.ndarray, c: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (M, 3) triangulated from ``a`` (camera 1) and ``c`` under the pose of ``essential``, and the mask of
    those in front of both cameras.

    The pose is the one of the four decompositions (``cv2.decomposeEssentialMat``) that puts the most of
    ``CHEIRALITY_SAMPLE`` evenly spread points in front of both cameras (what ``cv2.recoverPose`` does with all).
    """
    import cv2

    first = k @ np.hstack([np.eye(3), np.zeros((3, 1))])

    def front(rotation: np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        homogeneous = cv2.triangulatePoints(first, k @ np.hstack([rotation, t]), x.T, y.T)
        points = (homogeneous[:3] / homogeneous[3]).T
        return points, (points[:, 2] > 0) & ((points @ rotation.T + t.ravel())[:, 2] > 0)

    r1, r2, t = cv2.decomposeEssentialMat(essential)
    sample = np.linspace(0, len(a) - 1, min(len(a), CHEIRALITY_SAMPLE)).round().astype(int)
    poses = [(rotation, sign * t) for rotation in (r1, r2) for sign in (1.0, -1.0)]
    rotation, t = max(poses, key=lambda pose: int(front(*pose, a[sample], c[sample])[1].sum()))
    return front(rotation, t, a, c)


def _assumed(note: str, triples: int) -> FovEstimate:
    return FovEstimate(ASSUMED_FOV_DEG, None, "assumed", triples, note)


def estimate_fov(table: np.ndarray, width: int, height: int) -> FovEstimate:
    """Horizontal FOV of the camera from a track table (``orbit_tracks.track_sequence``) of analysis frames.

    Args:
        table: (M, T, 2) track positions, NaN where absent.
        width, height: analysis frame size in pixels.

    Returns:
        A :class:`FovEstimate` (see the module docstring for the method, the uncertainty and the fallback).
    """
    triples = _triples(table, width)
    costs = [_TripleCost(*common(table, *triple), width, height) for triple in triples]
    costs = [cost for cost in costs if cost.points >= MIN_POINTS]
    if not costs:
        return _assumed(
            f"field of view assumed {ASSUMED_FOV_DEG:g} deg: no frames share {MIN_POINTS} tracks across a motion of "
            f"{MIN_MOTION_DEG:g} deg or more (too little camera motion or texture)",
            0,
        )
    estimates = [estimate for estimate in (_triple_estimate(cost) for cost in costs) if estimate]
    flat = f"field of view assumed {ASSUMED_FOV_DEG:g} deg: the camera motion does not fix the focal length"
    if not estimates:
        return _assumed(f"{flat} (no self-calibration cost has a minimum inside {FOV_GRID[0]:g}-{FOV_GRID[-1]:g} deg)", len(costs))
    values, sigmas = np.array(estimates).T
    agree = np.abs(values - np.median(values)) <= OUTLIER_SIGMAS * sigmas
    if agree.sum() < MIN_AGREEING_TRIPLES:
        return _assumed(
            f"{flat} ({agree.sum()} of {len(values)} triple estimate(s) agree; {MIN_AGREEING_TRIPLES} needed)", len(costs)
        )
    values, sigmas = values[agree], sigmas[agree]
    weights = 1.0 / sigmas**2
    fov = float(np.sum(weights * values) / np.sum(weights))
    sigma = float(1.0 / np.sqrt(np.sum(weights)))
    if len(values) > 1:
        sigma *= float(np.sqrt(max(1.0, np.sum(weights * (values - fov) ** 2) / (len(values) - 1))))
    if sigma > MAX_RELATIVE_UNCERTAINTY * fov:
        return _assumed(f"{flat} (estimate {fov:.1f} +/- {sigma:.1f} deg is too uncertain)", len(costs))
    return FovEstimate(fov, sigma, "estimated", len(values), "")


def _triple_estimate(cost: _TripleCost) -> tuple[float, float] | None:
    """(phi_t, sigma_t) of one triple (module docstring); None without an interior minimum."""
    coarse = np.array([cost(fov) for fov in FOV_GRID])
    best = int(np.argmin(coarse))
    if best in (0, len(coarse) - 1) or not np.all(np.isfinite(coarse[best - 1 : best + 2])):
        return None
    fine = FOV_GRID[best] + np.arange(-FINE_HALF_WIDTH_DEG, FINE_HALF_WIDTH_DEG + 0.01, FINE_STEP_DEG)
    curve = np.array([cost(fov) for fov in fine])
    if not np.all(np.isfinite(curve)):
        return None
    curvature, slope, _ = np.polyfit(fine - FOV_GRID[best], curve, 2)
    if curvature <= 0:
        return None
    offset = float(np.clip(-slope / (2 * curvature), -FINE_HALF_WIDTH_DEG, FINE_HALF_WIDTH_DEG))
    return float(FOV_GRID[best]) + offset, float(np.sqrt(1.25 * curve.min() / np.sqrt(cost.points) / curvature))
