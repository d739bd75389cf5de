"""Two-view camera geometry for the orbit metric: the relative rotation, its yaw, and the orbit test of a pose.

Camera model: pinhole, principal point at the image centre, square pixels, focal length ``f`` (pixels); OpenCV
camera axes (x right, y down, z ahead). Points are pixel positions of the same static scene points in two frames.

Pose of a pair: the least-squares rotation of the viewing rays (Kabsch) when a pure rotation explains the tracks
(median residual below ``ROTATION_ONLY_MAX_PX``: pan, static camera); otherwise the essential matrix
(``cv2.findEssentialMat`` with K, ``USAC_ACCURATE`` then ``LMEDS``, then ``cv2.recoverPose``), rejected when it
turns by more than ``YAW_BOUND_FACTOR`` times the angle the tracks move (a degenerate essential matrix).

Yaw of a rotation R (camera 1 -> camera 2 coordinates): its rotation vector's component about the camera's
vertical, taken in the camera's y-z plane (no roll, any pitch): ``yaw = -sign(r_y) * hypot(r_y, r_z)``,
degrees, positive when the heading turns right (the sense of a left orbit).

Orbit test of an essential-matrix pose (R, t) with ``x2 = R x1 + t``. Camera 2's centre in camera 1's axes is
``C = -R^T t`` (unit baseline) and its optical axis ``d = R^T (0, 0, 1)``. The two optical axes, seen from above
(x-z plane), cross at depth ``Z* = C_z - C_x d_z / d_x`` on camera 1's axis: the pivot of the motion. With
``Z_med`` the median depth of the triangulated inlier points (same units), an orbit has its pivot inside the
scene: ``PIVOT_RANGE[0] <= Z* / Z_med <= PIVOT_RANGE[1]``, moves mostly sideways (``|C_x| >= SIDEWAYS_MIN *
|C_z|``) and turns by at least ``ORBIT_MIN_YAW_DEG``; it is ``left`` when the camera moves to its left (C_x < 0)
while turning right (yaw > 0), ``right`` for the mirror. A pan has its pivot at the camera (``Z* ~ 0``), a slide
at infinity (no turn), a dolly moves forward, a camera turning the same way it moves has its pivot behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROTATION_ONLY_MAX_PX = 0.35  # median residual (analysis px) under which a pure rotation explains a pair
ESSENTIAL_MAX_PX = 0.5  # inlier threshold of the essential-matrix fit (analysis px)
YAW_BOUND_FACTOR = 3.0  # an essential-matrix yaw above this times the tracks' motion angle is rejected
MIN_POINTS = 16  # tracks a pair needs for a pose
PIVOT_RANGE = (0.2, 5.0)  # Z* / Z_med of an orbit
SIDEWAYS_MIN = 0.5  # |C_x| / |C_z| of an orbit
ORBIT_MIN_YAW_DEG = 0.5  # a pair turning less than this is no orbit evidence
YAW_BOUND_SLACK_DEG = 0.02  # added to the essential-matrix yaw bound (tracks that barely move)


@dataclass(frozen=True)
class PairPose:
    """Relative pose of two frames.

    Attributes:
        yaw_deg: the camera's yaw (see the module docstring).
        call: ``left``, ``right`` or ``none`` (the orbit test; ``none`` for a rotation-only pair).
        reason: why the call is ``none`` (``""`` for an orbit).
    """

    yaw_deg: float
    call: str
    reason: str


def intrinsics(width: int, height: int, focal: float) -> np.ndarray:
    """Pinhole K with focal length ``focal`` (pixels), principal point at the image centre."""
    return np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])


def focal_from_fov(width: int, horizontal_fov_deg: float) -> float:
    """f = (W / 2) / tan(hfov / 2), pixels."""
    return (width / 2) / np.tan(np.radians(horizontal_fov_deg) / 2)


def rays(points: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Unit viewing rays (M, 3) of pixel ``points`` (M, 2) in OpenCV camera axes."""
    x = (points[:, 0] - k[0, 2]) / k[0, 0]
    y = (points[:, 1] - k[1, 2]) / k[1, 1]
    out = np.column_stack([x, y, np.ones(len(points))])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def rotation_only(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares rotation R with rays_b ~ R rays_a (Kabsch) and the median reprojection residual in pixels."""
    rays_a, rays_b = rays(a, k), rays(b, k)
    u, _, vt = np.linalg.svd(rays_b.T @ rays_a)
    rotation = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt
    moved = rays_a @ rotation.T
    predicted = (moved[:, :2] / moved[:, 2:3]) * k[0, 0] + k[:2, 2]
    return rotation, float(np.median(np.linalg.norm(predicted - b, axis=1)))


def yaw_deg(rotation: np.ndarray) -> float:
    """Yaw of a relative rotation (camera 1 -> camera 2 coordinates), degrees, positive when heading turns right."""
    import cv2

    rvec = cv2.Rodrigues(rotation)[0].ravel()
    return float(-np.degrees(np.sign(rvec[1]) * np.hypot(rvec[1], rvec[2])))


def moved_deg(a: np.ndarray, b: np.ndarray, focal: float) -> float:
    """How far the tracks move, degrees: the 95th percentile of the track lengths over f (0 without tracks)."""
    return float(np.degrees(np.percentile(np.linalg.norm(b - a, axis=1), 95) / focal)) if len(a) else 0.0


def _orbit_call(rotation: np.ndarray, t: np.ndarray, a: np.ndarray, b: np.ndarray, k: np.ndarray, yaw: float) -> PairPose:
    """The orbit test of an essential-matrix pose (module docstring) on the inlier points ``a``, ``b``."""
    import cv2

    centre = -rotation.T @ t.ravel()
    axis = rotation.T @ np.array([0.0, 0.0, 1.0])
    first = k @ np.hstack([np.eye(3), np.zeros((3, 1))])
    second = k @ np.hstack([rotation, t.reshape(3, 1)])
    points = cv2.triangulatePoints(first, second, a.T, b.T)
    depth = points[2] / points[3]
    depth = depth[np.isfinite(depth) & (depth > 0)]
    if len(depth) < MIN_POINTS:
        return PairPose(yaw, "none", "too few points in front of both cameras")
    median_depth = float(np.median(depth))
    pivot = centre[2] - centre[0] * axis[2] / axis[0] if abs(axis[0]) > 1e-9 else np.inf
    ratio = float(pivot / median_depth)
    if abs(yaw) < ORBIT_MIN_YAW_DEG:
        return PairPose(yaw, "none", "the camera does not turn (slide or dolly)")
    if abs(centre[0]) < SIDEWAYS_MIN * abs(centre[2]):
        return PairPose(yaw, "none", "the camera moves forward or back more than sideways (dolly)")
    if ratio < 0:
        return PairPose(yaw, "none", "the camera turns the way it moves (pivot behind the camera)")
    if ratio < PIVOT_RANGE[0]:
        return PairPose(yaw, "none", "the pivot is at the camera (a pan with a little translation)")
    if ratio > PIVOT_RANGE[1]:
        return PairPose(yaw, "none", "the pivot lies far beyond the scene (a slide with a little turn)")
    return PairPose(yaw, "left" if yaw > 0 else "right", "")


def pair_pose(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> PairPose | None:
    """Relative pose of two frames from tracked points (module docstring); None without a trustworthy pose."""
    import cv2

    if len(a) < MIN_POINTS:
        return None
    rotation, residual = rotation_only(a, b, k)
    if residual < ROTATION_ONLY_MAX_PX:
        moved = moved_deg(a, b, k[0, 0])
        reason = "the camera turns in place (pan)" if moved >= ORBIT_MIN_YAW_DEG else "the camera does not move"
        return PairPose(yaw_deg(rotation), "none", reason)
    for method in (cv2.USAC_ACCURATE, cv2.LMEDS):
        essential, inliers = cv2.findEssentialMat(a, b, k, method=method, prob=0.999, threshold=ESSENTIAL_MAX_PX)
        if essential is None or essential.shape[0] < 3:
            continue
        _, pose_rotation, t, pose_mask = cv2.recoverPose(essential[:3], a, b, k, mask=inliers)
        yaw = yaw_deg(pose_rotation)
        if abs(yaw) > YAW_BOUND_FACTOR * moved_deg(a, b, k[0, 0]) + YAW_BOUND_SLACK_DEG:
            continue
        keep = pose_mask.ravel().astype(bool)
        return _orbit_call(pose_rotation, t, a[keep], b[keep], k, yaw)
    return None
