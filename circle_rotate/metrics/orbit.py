"""Orbit camera: direction, parallax index, swept yaw, angular-speed regularity and backtracks, from frames alone.

No learned model: Shi-Tomasi corners detected in ``DETECTION_STRIPS`` horizontal strips (so every height of the
image gets features, not only the most textured one), tracked with pyramidal Lucas-Kanade (OpenCV) between
consecutive analysed frames, kept when the backward track returns within ``FB_MAX_PX`` of the start.

Preprocessing: grayscale (``cv2.COLOR_RGB2GRAY``), resized (area) to at most ``ANALYSIS_WIDTH`` pixels wide;
a frame whose mean absolute difference to the previous kept frame is below ``REPEAT_MAX_DIFF`` grey levels is a
repeat (GIFs that show every frame twice) and is skipped: the step spans from the previous distinct frame.
Camera model: pinhole, principal point at the image centre, square pixels, focal length
``f = (W / 2) / tan(horizontal_fov_deg / 2)`` (the assumption behind every angle), no roll.

Image regions: far band = the top third of the rows, near band = the bottom third, subject box = the middle
third in both directions. This assumes the usual orbit shot: a subject at the image centre standing on the
ground, the ground nearer than the subject at the bottom, the background farther than it at the top.

Sign convention. ``left``: the camera travels to its own left around the subject while keeping it in view, so
its heading turns to its right; points beyond the subject drift LEFT in the image and points nearer than the
subject (the ground at the bottom) drift RIGHT; the subject stays. ``right`` is the mirror. Yaw angles are
positive in the sense of a left orbit (heading turning to the camera's right, clockwise seen from above).

Why the parallax tells an orbit from a pan or a slide. The horizontal image motion of a point at depth Z is
about ``f * (-omega + T / Z)`` (omega: yaw rate to the right, T: translation rate to the left). It is zero at
the pivot depth ``Z* = T / omega``. An orbit has its pivot at the subject, inside the scene, so near and far
points move in OPPOSITE directions. A pan (T = 0, rotation about the camera centre) moves every point the same
way by the same angle, a slide (omega = 0, translation looking ahead) moves every point the same way by
amounts that shrink with depth, and a scene that slides as a whole moves every point the same way: no sign
change. So with ``A`` and ``B`` the total horizontal displacements (pixels, summed over steps of the per-step
medians) of the near and far bands:

    parallax_index = sign(A - B) * 2 sqrt(max(0, -A B)) / (|A| + |B|)

the ratio of the geometric to the arithmetic mean of the two opposing motions: +1 when near and far move by
equal amounts in opposite directions, about 0.7 when one moves 5 times more than the other (a usual framing:
the bottom third of a shot often holds ground only a little nearer than the subject), and exactly 0 when they
move the same way (pan, slide) or one band moves less than the noise floor ``MOTION_FLOOR_DEG`` per original
frame (converted to pixels with f). Positive reads as a left orbit. ``direction`` is ``left`` if
parallax_index >= ``PARALLAX_THRESHOLD``, ``right`` if <= -PARALLAX_THRESHOLD, else ``none`` (static camera,
pan, slide, or only the subject moving). Totals, not per-step values, make the call: an orbit that goes back
and forth reads as its net direction (``parallax_track`` keeps the per-step values).

Yaw. Keyframes first: from a keyframe, the next one is the first analysed frame whose tracks from it move by
at least ``KEYFRAME_MIN_DEG`` (95th percentile of the track lengths over f; or the last frame, or the last one
still tracked), because an essential matrix over a smaller motion is unreliable. Between two keyframes the
relative camera rotation R is the least-squares rotation of the viewing rays (Kabsch) when a pure rotation
explains the tracks (median residual below ``ROTATION_ONLY_MAX_PX``: pan, static camera); otherwise the rotation
of the essential matrix (``cv2.findEssentialMat`` with K from the assumed FOV, ``USAC_ACCURATE`` then ``LMEDS``
as a second try, then ``cv2.recoverPose``), rejected when it turns by more than ``YAW_BOUND_FACTOR`` times the
angle the tracks move (a degenerate essential matrix). The keyframe yaw is shared over the steps between the
two keyframes in proportion to their spans in original frames, so speeds are resolved per keyframe interval
(every step when the analysed frames are far enough apart, as with 16 sampled frames of an orbit). An interval
with no accepted estimate counts as 0 and is named in ``notes``. The yaw of R is its rotation vector's
component about the camera's vertical, taking the vertical in the camera's y-z plane (no roll, any pitch):
``yaw = -sign(r_y) * hypot(r_y, r_z)`` in degrees (OpenCV camera axes: x right, y down, z ahead), positive in
the left-orbit sense. For an orbit around a fixed subject kept in view, the camera's yaw equals the swept
orbit angle; on the synthetic scenes of the tests it reads 5-10 % low at 160 x 96 pixels and within 1 % at
640 x 360. ``yaw_track_deg`` is the cumulative yaw at each analysed frame, ``yaw_deg`` its last value (net,
signed), ``yaw_path_deg`` the sum of the absolute per-step yaws. The yaw is the camera's whatever the call, so
a pan has a yaw and direction ``none``; the yaw scales with the assumed FOV (about tan(fov / 2)), the
direction does not depend on it.

Angular speed per step: ``w_k = dyaw_k / (i_{k+1} - i_k) * fps`` (degrees per second; i = original frame index).
``angular_speed_cv = std(w) / mean(|w|)`` (population std; 0 for a constant speed, 1 for a constant speed that
alternates direction; None when mean |w| is below the floor). ``backtracks`` = number of sign changes between
consecutive steps whose |w_k| exceeds ``max(floor, BACKTRACK_FRACTION * median |w|)``.

Failure modes (reported in ``notes``; ``valid_step_fraction`` is the share of steps with enough tracks in both
bands): too few features or textureless frames (sky, studio backdrop, blur); the subject filling the frame (no
ground or background to read: bands track the subject); only the centre moving (a subject turning on a
turntable in front of a still camera is NOT a camera orbit here); zoom or dolly (radial flow; bands measured
over the full width cancel it, but the yaw is not reliable); fast motion (tracks lost: sample more frames);
vertical camera motion (tilt, crane: this metric reads horizontal orbits only); scenes where the top of the
image is not farther than the subject (an overhead view) break the band assumption; an orbit that also pans
enough to let the subject drift moves the pivot off the subject, and once the pivot leaves the depths between
the bands both move the same way and the call is ``none`` (the yaw still reads the camera's turning); a very
slow orbit (bands under the motion floor) reads ``none``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANALYSIS_WIDTH = 480  # px: frames wider than this are resized (area) before tracking
FAR_BAND = 1 / 3  # top fraction of the rows read as "far"
NEAR_BAND = 1 / 3  # bottom fraction of the rows read as "near"
DETECTION_STRIPS = 6  # horizontal strips, each with its own corner budget
CORNERS_PER_STRIP = 75
REPEAT_MAX_DIFF = 0.5  # grey levels: mean |difference| below this makes a frame a repeat
FB_MAX_PX = 1.0  # forward-backward tracking error above this drops a track (analysis px)
MIN_TRACKS = 8  # tracks a region needs for its median
MOTION_FLOOR_DEG = 0.02  # degrees per original frame: slower band motion or camera turning counts as none
PARALLAX_THRESHOLD = 0.4  # |parallax_index| for a left/right call (near/far opposing at a ratio of 1:22 or more)
ROTATION_ONLY_MAX_PX = 0.35  # median residual (analysis px) under which a pure rotation explains a step
ESSENTIAL_MAX_PX = 0.5  # inlier threshold of the essential-matrix fit (analysis px)
KEYFRAME_MIN_DEG = 1.5  # tracks must move this far (degrees) between the frames of an essential matrix
YAW_BOUND_FACTOR = 3.0  # an essential-matrix yaw above this times the tracks' motion angle is rejected
BACKTRACK_FRACTION = 0.25  # steps slower than this fraction of the median |speed| do not count for backtracks
FAST_MOTION_FRACTION = 0.15  # band motion above this fraction of the width per step is "fast"


@dataclass
class _Step:
    """Measurements of one step between two consecutive kept frames (pixels at analysis scale)."""

    span: int
    near: float | None
    far: float | None
    subject: float | None
    tracks: tuple[np.ndarray, np.ndarray]
    lost_fraction: float
    radial_px: float
    vertical_px: float


def _check_inputs(frames: np.ndarray, indices: np.ndarray, fps: float, horizontal_fov_deg: float) -> np.ndarray:
    """Validate the arguments of :func:`compute_orbit`; return ``indices`` as int64."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        shape = getattr(frames, "shape", None)
        dtype = getattr(frames, "dtype", type(frames).__name__)
        raise ValueError(
            f"frames must be a uint8 RGB array (N, H, W, 3); got shape {shape} dtype {dtype}: "
            "convert with (x * 255).round().astype(np.uint8)"
        )
    if frames.shape[0] < 2:
        raise ValueError(f"frames holds {frames.shape[0]} frame; the orbit metric needs at least 2 (sample more)")
    indices = np.asarray(indices)
    if indices.shape != (frames.shape[0],):
        raise ValueError(
            f"indices has shape {indices.shape}, expected ({frames.shape[0]},): one original frame index per frame"
        )
    if np.any(np.diff(indices) <= 0):
        raise ValueError(f"indices must be strictly increasing original frame indices; got {indices.tolist()}")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps is {fps}; pass the video's frame rate (> 0), e.g. 16 for Wan2.2 output")
    if not 1.0 <= horizontal_fov_deg <= 170.0:
        raise ValueError(
            f"horizontal_fov_deg is {horizontal_fov_deg}; pass an angle in [1, 170] degrees (60 is a typical lens)"
        )
    return indices.astype(np.int64)


def _gray_frames(frames: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Grayscale frames resized to at most ANALYSIS_WIDTH wide, and the scale (analysis px per input px)."""
    import cv2

    width = frames.shape[2]
    scale = min(1.0, ANALYSIS_WIDTH / width)
    size = (round(width * scale), round(frames.shape[1] * scale))
    grays = []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        grays.append(cv2.resize(gray, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else gray)
    return grays, size[0] / width


def _distinct(grays: list[np.ndarray]) -> list[int]:
    """Positions of the frames that are not repeats of the previous kept frame."""
    kept = [0]
    for position in range(1, len(grays)):
        diff = np.abs(grays[position].astype(np.int16) - grays[kept[-1]].astype(np.int16)).mean()
        if diff >= REPEAT_MAX_DIFF:
            kept.append(position)
    return kept


def _track(gray_a: np.ndarray, gray_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Corners of ``gray_a`` detected per horizontal band, tracked to ``gray_b`` with a forward-backward check.

    Returns: (points in a (M, 2), points in b (M, 2), fraction of detected corners lost).
    """
    import cv2

    height, width = gray_a.shape
    corners = []
    edges = np.linspace(0, height, DETECTION_STRIPS + 1).round().astype(int)
    for top, bottom in zip(edges, edges[1:]):
        mask = np.zeros_like(gray_a)
        mask[top:bottom] = 255
        found = cv2.goodFeaturesToTrack(
            gray_a, CORNERS_PER_STRIP, 0.005, max(3, width // 80), mask=mask, blockSize=5
        )
        if found is not None:
            corners.append(found.reshape(-1, 2))
    if not corners:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), 0.0
    start = np.concatenate(corners).astype(np.float32)
    lk = {"winSize": (21, 21), "maxLevel": 3, "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    forward, ok_f, _ = cv2.calcOpticalFlowPyrLK(gray_a, gray_b, start, None, **lk)
    back, ok_b, _ = cv2.calcOpticalFlowPyrLK(gray_b, gray_a, forward, None, **lk)
    inside = (forward[:, 0] >= 0) & (forward[:, 0] < width) & (forward[:, 1] >= 0) & (forward[:, 1] < height)
    returned = np.linalg.norm(back - start, axis=1) < FB_MAX_PX
    good = ok_f.ravel().astype(bool) & ok_b.ravel().astype(bool) & inside & returned
    return start[good], forward[good], 1.0 - good.mean()


def _intrinsics(width: int, height: int, horizontal_fov_deg: float) -> np.ndarray:
    """Pinhole K for the assumed horizontal field of view, principal point at the image centre."""
    focal = (width / 2) / np.tan(np.radians(horizontal_fov_deg) / 2)
    return np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])


def _rays(points: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Unit viewing rays (M, 3) of pixel ``points`` (M, 2) in OpenCV camera axes (x right, y down, z ahead)."""
    x = (points[:, 0] - k[0, 2]) / k[0, 0]
    y = (points[:, 1] - k[1, 2]) / k[1, 1]
    rays = np.column_stack([x, y, np.ones(len(points))])
    return rays / np.linalg.norm(rays, axis=1, keepdims=True)


def _rotation_only(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares rotation R with rays_b ~ R rays_a (Kabsch) and the median reprojection residual in pixels."""
    rays_a, rays_b = _rays(a, k), _rays(b, k)
    u, _, vt = np.linalg.svd(rays_b.T @ rays_a)
    rotation = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt
    moved = rays_a @ rotation.T
    predicted = (moved[:, :2] / moved[:, 2:3]) * k[0, 0] + k[:2, 2]
    return rotation, float(np.median(np.linalg.norm(predicted - b, axis=1)))


def _yaw_deg(rotation: np.ndarray) -> float:
    """Yaw of a relative rotation (camera 1 -> camera 2 coordinates), degrees, positive in the left-orbit sense."""
    import cv2

    rvec = cv2.Rodrigues(rotation)[0].ravel()
    return float(-np.degrees(np.sign(rvec[1]) * np.hypot(rvec[1], rvec[2])))


def _pair_yaw(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> float | None:
    """Camera yaw between two frames from tracked points, degrees; None when no estimate is trustworthy.

    The rotation-only fit when it explains the tracks; else the rotation of the essential matrix (USAC, then
    least-median as a second try), rejected when it turns by more than YAW_BOUND_FACTOR times the angle the
    tracks move (a degenerate essential matrix). None with fewer than 2 * MIN_TRACKS tracks or no accepted pose.
    """
    import cv2

    if len(a) < 2 * MIN_TRACKS:
        return None
    rotation, residual = _rotation_only(a, b, k)
    if residual < ROTATION_ONLY_MAX_PX:
        return _yaw_deg(rotation)
    for method in (cv2.USAC_ACCURATE, cv2.LMEDS):
        essential, inliers = cv2.findEssentialMat(a, b, k, method=method, prob=0.999, threshold=ESSENTIAL_MAX_PX)
        if essential is None or essential.shape[0] < 3:
            continue
        _, pose_rotation, _, _ = cv2.recoverPose(essential[:3], a, b, k, mask=inliers)
        yaw = _yaw_deg(pose_rotation)
        if abs(yaw) <= YAW_BOUND_FACTOR * _moved_deg(a, b, k) + MOTION_FLOOR_DEG:
            return yaw
    return None


def _moved_deg(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> float:
    """How far the tracks move, degrees: the 95th percentile of the track lengths over f (0 without tracks)."""
    return float(np.degrees(np.percentile(np.linalg.norm(b - a, axis=1), 95) / k[0, 0])) if len(a) else 0.0


def _step_yaws(grays: list[np.ndarray], kept: list[int], steps: list[_Step], k: np.ndarray) -> list[float | None]:
    """Per-step yaw (degrees), one per step between consecutive kept frames.

    Keyframes: from keyframe p the next keyframe is the first kept frame q whose tracks from p move by at least
    KEYFRAME_MIN_DEG (or the last frame, or the last one still tracked), so that each essential matrix has
    enough parallax. The keyframe yaw is shared over the steps between p and q in proportion to their spans
    (original frames), so the angular speed is resolved per keyframe interval.
    """
    spans = [s.span for s in steps]
    yaws: list[float | None] = [None] * len(steps)
    p = 0
    while p < len(steps):
        q = p + 1
        a, b = steps[p].tracks
        while q < len(steps) and _moved_deg(a, b, k) < KEYFRAME_MIN_DEG:
            a_next, b_next, _ = _track(grays[kept[p]], grays[kept[q + 1]])
            if len(a_next) < 2 * MIN_TRACKS:
                break
            q, a, b = q + 1, a_next, b_next
        total = _pair_yaw(a, b, k)
        if total is not None:
            share = np.array(spans[p:q], float) / sum(spans[p:q])
            yaws[p:q] = list(total * share)
        p = q
    return yaws


def _measure_step(gray_a: np.ndarray, gray_b: np.ndarray, span: int, k: np.ndarray) -> _Step:
    """Band motions, tracks and diagnostics of one step."""
    height, width = gray_a.shape
    a, b, lost = _track(gray_a, gray_b)
    du, dv = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    rows, cols = a[:, 1], a[:, 0]

    def band_median(select: np.ndarray) -> float | None:
        return float(np.median(du[select])) if select.sum() >= MIN_TRACKS else None

    far = band_median(rows < FAR_BAND * height)
    near = band_median(rows >= (1 - NEAR_BAND) * height)
    centre = (np.abs(cols - width / 2) < width / 6) & (np.abs(rows - height / 2) < height / 6)
    subject = band_median(centre)
    radial = 0.0
    if len(a) >= MIN_TRACKS:
        x = cols - width / 2
        slope = np.polyfit(x, du, 1)[0] if np.ptp(x) > 0 else 0.0
        radial = float(abs(slope) * width / 2)
    vertical = float(np.median(dv)) if len(dv) else 0.0
    return _Step(span, near, far, subject, (a, b), float(lost), radial, vertical)


def _parallax(near: float, far: float, floor: float) -> float:
    """sign(A - B) * 2 sqrt(max(0, -A B)) / (|A| + |B|); 0 when either band moves less than ``floor`` pixels."""
    if abs(near) < floor or abs(far) < floor:
        return 0.0
    return float(np.sign(near - far) * 2 * np.sqrt(max(0.0, -near * far)) / (abs(near) + abs(far)))


def _speed_stats(yaws: np.ndarray, spans: np.ndarray, fps: float) -> tuple[float | None, int, float]:
    """(coefficient of variation of the signed angular speed, backtracks, mean |speed|) from per-step yaws.

    The CV is None and backtracks 0 when the mean |speed| is below the motion floor (the camera does not turn).
    """
    speeds = yaws / spans * fps
    floor = MOTION_FLOOR_DEG * fps
    mean_abs = float(np.mean(np.abs(speeds))) if len(speeds) else 0.0
    if mean_abs < floor:
        return None, 0, mean_abs
    threshold = max(floor, BACKTRACK_FRACTION * float(np.median(np.abs(speeds))))
    signs = np.sign(speeds[np.abs(speeds) > threshold])
    return float(np.std(speeds) / mean_abs), int(np.count_nonzero(signs[1:] != signs[:-1])), mean_abs


def _round(value: float | None, digits: int = 4) -> float | None:
    """A JSON-ready float (None for None or non-finite; -0.0 becomes 0.0)."""
    return None if value is None or not np.isfinite(value) else round(float(value), digits) + 0.0


def compute_orbit(frames: np.ndarray, indices: np.ndarray, fps: float, horizontal_fov_deg: float = 60.0) -> dict:
    """Orbit-camera metrics of one clip (see the module docstring for formulas, conventions and failure modes).

    Args:
        frames: uint8 RGB (N, H, W, 3), N >= 2, the analysed frames in time order.
        indices: (N,) strictly increasing original frame indices of ``frames`` (speeds are per original frame).
        fps: frame rate of the original video (angular speeds are in degrees per second).
        horizontal_fov_deg: assumed horizontal field of view of the camera, degrees (sets the focal length).

    Returns:
        A JSON-ready dict: ``direction`` ("left", "right" or "none"), ``parallax_index`` in [-1, 1],
        ``yaw_deg`` (net, signed, left-orbit sense positive), ``yaw_path_deg`` (sum of |per-step yaw|),
        ``angular_speed_deg_per_s`` (mean |w|), ``angular_speed_cv`` (None when the camera does not turn),
        ``backtracks``, ``yaw_track_deg`` (cumulative, one per analysed frame), ``parallax_track`` (one per step,
        None where a band lacked features), ``near_motion_px_per_frame``, ``far_motion_px_per_frame``,
        ``subject_motion_px_per_frame`` (median horizontal motion, input pixels per original frame, positive to
        the right), ``focal_px`` (assumed, input pixels), ``horizontal_fov_deg``, ``repeated_sampled_frames``
        (analysed frames identical to the previous one; the report's ``repeated_frames`` counts all frames),
        ``steps``,
        ``valid_step_fraction`` (None when every frame repeats the first), ``thresholds``, ``notes``.

    Raises:
        ValueError: frames not uint8 RGB (N >= 2), indices not matching or not increasing, fps <= 0, or a FOV
            outside [1, 170] degrees.
    """
    indices = _check_inputs(frames, indices, fps, horizontal_fov_deg)
    grays, scale = _gray_frames(frames)
    height, width = grays[0].shape
    k = _intrinsics(width, height, horizontal_fov_deg)
    kept = _distinct(grays)
    pairs = list(zip(kept, kept[1:]))
    steps = [_measure_step(grays[p], grays[q], int(indices[q] - indices[p]), k) for p, q in pairs]
    floor_px = k[0, 0] * np.tan(np.radians(MOTION_FLOOR_DEG))

    valid = [s for s in steps if s.near is not None and s.far is not None]
    span = max(1, sum(s.span for s in valid))
    near, far = sum(s.near for s in valid), sum(s.far for s in valid)
    with_subject = [s for s in valid if s.subject is not None]
    subject_rate = sum(s.subject for s in with_subject) / max(1, sum(s.span for s in with_subject))
    parallax = _parallax(near, far, floor_px * span) if valid else 0.0
    direction = "left" if parallax >= PARALLAX_THRESHOLD else "right" if parallax <= -PARALLAX_THRESHOLD else "none"

    step_yaws = _step_yaws(grays, kept, steps, k)
    track = np.zeros(len(grays))
    for (p, q), yaw in zip(pairs, step_yaws):
        track[q:] = track[p] + (yaw or 0.0)
    yawed = [(yaw, step.span) for yaw, step in zip(step_yaws, steps) if yaw is not None]
    yaws = np.array([yaw for yaw, _ in yawed])
    cv, backtracks, mean_speed = _speed_stats(yaws, np.array([span for _, span in yawed], float), fps)

    missing_yaw = step_yaws.count(None)
    notes = _notes(len(grays), len(kept), steps, valid, missing_yaw, (near, far, subject_rate * span), floor_px, width)
    return {
        "direction": direction,
        "parallax_index": _round(parallax),
        "yaw_deg": _round(track[-1], 3),
        "yaw_path_deg": _round(float(np.abs(yaws).sum()), 3),
        "angular_speed_deg_per_s": _round(mean_speed, 3),
        "angular_speed_cv": _round(cv),
        "backtracks": backtracks,
        "yaw_track_deg": [_round(y, 3) for y in track],
        "parallax_track": [_round(_parallax(s.near, s.far, floor_px * s.span)) if s in valid else None for s in steps],
        "near_motion_px_per_frame": _round(near / span / scale),
        "far_motion_px_per_frame": _round(far / span / scale),
        "subject_motion_px_per_frame": _round(subject_rate / scale),
        "focal_px": _round(k[0, 0] / scale, 2),
        "horizontal_fov_deg": float(horizontal_fov_deg),
        "repeated_sampled_frames": len(grays) - len(kept),
        "steps": len(steps),
        "valid_step_fraction": _round(len(valid) / len(steps)) if steps else None,
        "thresholds": {
            "parallax_index": PARALLAX_THRESHOLD,
            "far_band_fraction": round(FAR_BAND, 4),
            "near_band_fraction": round(NEAR_BAND, 4),
            "motion_floor_deg_per_frame": MOTION_FLOOR_DEG,
            "rotation_only_max_px": ROTATION_ONLY_MAX_PX,
            "essential_ransac_px": ESSENTIAL_MAX_PX,
            "backtrack_fraction_of_median_speed": BACKTRACK_FRACTION,
            "min_tracks_per_band": MIN_TRACKS,
            "forward_backward_max_px": FB_MAX_PX,
            "repeat_max_mean_abs_diff": REPEAT_MAX_DIFF,
            "analysis_width_px": width,
        },
        "notes": notes,
    }


def _notes(
    n_frames: int,
    n_kept: int,
    steps: list[_Step],
    valid: list[_Step],
    missing_yaw: int,
    totals: tuple[float, float, float],
    floor_px: float,
    width: int,
) -> list[str]:
    """Failure-mode notes (see the module docstring). ``totals``: near, far and subject displacement (pixels)."""
    if n_kept == 1:
        return [f"all {n_frames} frames repeat the first (mean |difference| < {REPEAT_MAX_DIFF} grey levels): nothing moves"]
    notes = []
    if n_kept < n_frames:
        notes.append(
            f"{n_frames - n_kept} repeated frame(s) skipped: speeds are per original frame index, "
            "so a clip that shows each frame twice reads at half speed"
        )
    if len(valid) < len(steps):
        notes.append(
            f"{len(steps) - len(valid)} of {len(steps)} step(s) had fewer than {MIN_TRACKS} tracked features in "
            "the near or far band (textureless, blurred or subject filling the frame); left out of the parallax"
        )
    if missing_yaw:
        notes.append(
            f"{missing_yaw} of {len(steps)} step(s) gave no reliable yaw (too few tracks or a degenerate "
            "essential matrix); they count as 0 in yaw_track_deg"
        )
    if not valid:
        return notes
    near, far, subject = totals
    span = sum(s.span for s in valid)
    if abs(subject) > floor_px * span and abs(subject) > 3 * max(abs(near), abs(far)):
        notes.append(
            "only the centre moves: the subject moves or turns in front of a still camera (not a camera orbit), "
            "or it fills the frame"
        )
    lost = float(np.mean([s.lost_fraction for s in steps]))
    fastest = max(max(abs(s.near), abs(s.far)) for s in valid)
    if lost > 0.5 or fastest > FAST_MOTION_FRACTION * width:
        notes.append(
            f"fast motion: {lost:.0%} of the features lost per step, bands moving up to {fastest / width:.0%} "
            "of the width per step; sample more frames"
        )
    horizontal = float(np.mean([max(abs(s.near), abs(s.far)) for s in valid]))
    per_step_floor = floor_px * span / len(valid)
    radial = float(np.mean([s.radial_px for s in valid]))
    if radial > max(per_step_floor, horizontal):
        notes.append(
            f"zoom or dolly: radial flow of {radial:.2f} px per step at the image edge exceeds the horizontal "
            "motion; the yaw is unreliable"
        )
    vertical = float(np.mean([abs(s.vertical_px) for s in valid]))
    if vertical > max(per_step_floor, horizontal):
        notes.append("vertical camera motion (tilt or crane) dominates; this metric reads horizontal orbits only")
    return notes
