"""Orbit camera: direction, swept yaw, field of view, look-at stability, angular-speed regularity, from frames alone.

No learned model. Frames are tracked once (``orbit_tracks``: grayscale, at most ``ANALYSIS_WIDTH`` (480) px wide,
repeats skipped, chained Lucas-Kanade tracks with a forward-backward check); the rest reads those tracks.

Camera model: pinhole, principal point at the image centre, square pixels, no roll, focal length
``f = (W / 2) / tan(horizontal_fov_deg / 2)``. The field of view is ``given`` (an argument), ``estimated`` from
the video (``orbit_fov``: three-view self-calibration with an uncertainty) or, when the video does not fix it,
``assumed`` to be ``ASSUMED_FOV_DEG`` (60) with a note. Every angle below scales with it (about tan(fov / 2));
the direction does not depend on it.

Sign convention. ``left``: the camera travels to its own left around the subject while keeping it in view, so
its heading turns to its right; points beyond the subject drift LEFT in the image and points nearer than the
subject (the ground at the bottom) drift RIGHT. ``right`` is the mirror. Yaw angles are positive in the sense of
a left orbit (heading turning to the camera's right, clockwise seen from above).

Yaw. Keyframes: from a keyframe, the next one is the first kept frame whose shared tracks move by at least
``KEYFRAME_MIN_DEG`` (95th percentile of the track lengths over f), or the last one still sharing
``2 * MIN_TRACKS`` tracks. Between two keyframes the pose comes from ``orbit_geometry.pair_pose`` (a pure
rotation when it explains the tracks, else the essential matrix); its yaw (the rotation about the camera's
vertical, ``orbit_geometry.yaw_deg``) is shared over the steps between them in proportion to their spans in
original frames. An interval without a pose counts as 0 and is named in ``notes``. ``yaw_track_deg`` is the
cumulative yaw at each analysed frame, ``yaw_deg`` its last value (net, signed, the camera's own rotation
whatever the call: a pan has a yaw and direction ``none``), ``yaw_path_deg`` the sum of |per-step yaw|.

Direction, from the geometry. Wide pairs: from kept frame p, q is the farthest kept frame still sharing
``WIDE_MIN_POINTS`` tracks and ``WIDE_KEEP_FRACTION`` of the tracks alive at p (then p = q). Each wide pair's
essential-matrix pose gets the orbit test of ``orbit_geometry`` (the pivot where the two optical axes cross lies
inside the scene, the camera moves sideways and turns towards the side it keeps in view): ``left``, ``right`` or
``none`` with a reason (pan, slide, dolly, static). The tracks of the whole frame vote, the ground and the
background outnumbering a subject that slides on its own, and the robust fit leaves the subject's tracks out.
The geometric shares g(c) are the |yaw|-weighted shares of the wide pairs calling c (summing to 1; all 0 without
any pose), the geometric call their largest.

Combining the evidence. score(c) = g(c) + b(c), where b is the band parallax's vote (below): b(call) =
|parallax_index| when it calls left or right, b(none) = ``NONE_VOTE`` * (1 - |parallax_index|) when it calls
none, 0 for the other calls. The vote is asymmetric because the two outcomes are not equally telling: near and
far moving in opposite directions needs a pivot between them (an orbit, in a rigid scene), while a zero index
also comes from orbits whose pivot left the bands (a drifting look-at point). ``direction`` = argmax score;
``direction_confidence`` = score(direction) / sum of the scores (1 when every piece agrees; 0.67 when a clear
geometric orbit meets a band parallax of 0). The geometry decides when its shares are clear; a weak pose (small
motions, where a turn and a sideways move are hard to tell apart, or a generated video that is not a rigid
scene) leaves the call to a clear band parallax.

Parallax index, one piece of evidence. The horizontal image motion of a point at depth Z is about
``f * (-omega + T / Z)``; it changes sign across the pivot depth ``Z* = T / omega``. With ``A`` and ``B`` the
total horizontal displacements (pixels, summed over steps of the per-step medians) of the near band (bottom
third of the rows) and the far band (top third):

    parallax_index = sign(A - B) * 2 sqrt(max(0, -A B)) / (|A| + |B|)

+1 when near and far move by equal amounts in opposite directions, 0 when they move the same way (pan, slide,
or an orbit whose pivot left the depths between the bands because its look-at point drifts) or when a band moves
less than ``MOTION_FLOOR_DEG`` per original frame. Its call is ``left`` at >= ``PARALLAX_THRESHOLD``, ``right``
at <= -PARALLAX_THRESHOLD, else ``none``. A note says when it disagrees with the geometry, and when the direction
is ``none`` although the camera turned by more than ``NOTE_YAW_DEG`` (with the reason of the geometry).

Look-at stability (``orbit_lookat``; only with subject masks): the angle between the ray to the subject mask's
centroid and that ray in the first frame, per analysed frame (``look_at_track_deg``), and its maximum
(``look_at_stability_deg``), under the focal length above.

Field of view note: a given FOV is used as given; an assumed one comes with a note saying why the video did not
fix it (the metric then reads angles as a 60-degree lens would; a real 50-degree lens makes a 60-degree orbit
read about 49 degrees).

Angular speed per step: ``w_k = dyaw_k / (i_{k+1} - i_k) * fps`` (degrees per second; i = original frame index).
``angular_speed_cv = std(w) / mean(|w|)`` (population std; 0 for a constant speed, 1 for a constant speed that
alternates direction; None when mean |w| is below the floor). ``backtracks`` = number of sign changes between
consecutive steps whose |w_k| exceeds ``max(floor, BACKTRACK_FRACTION * median |w|)``.

Failure modes (reported in ``notes``; ``valid_step_fraction`` is the share of steps with enough tracks in both
bands): too few features or textureless frames; the subject filling the frame; only the centre moving (a
subject turning on a turntable before a still camera is NOT a camera orbit); zoom or dolly (radial flow); fast
motion (tracks lost: sample more frames); vertical camera motion (tilt, crane: horizontal orbits only); a subject
covering most of the tracked points while it moves on its own (the robust fit then follows the subject).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .orbit_fov import ASSUMED_FOV_DEG, FovEstimate, estimate_fov
from .orbit_geometry import PairPose, focal_from_fov, intrinsics, moved_deg, pair_pose
from .orbit_lookat import look_at_track
from .orbit_tracks import FB_MAX_PX, REPEAT_TOLERANCE, common, distinct, gray_frames, track_sequence

FAR_BAND = 1 / 3  # top fraction of the rows read as "far"
NEAR_BAND = 1 / 3  # bottom fraction of the rows read as "near"
MIN_TRACKS = 8  # tracks a region needs for its median
MOTION_FLOOR_DEG = 0.02  # degrees per original frame: slower band motion or camera turning counts as none
PARALLAX_THRESHOLD = 0.4  # |parallax_index| for a left/right call (near/far opposing at a ratio of 1:22 or more)
KEYFRAME_MIN_DEG = 1.5  # tracks must move this far (degrees) between the frames of a yaw keyframe pair
WIDE_MIN_POINTS = 40  # tracks a wide pair (direction) shares
WIDE_KEEP_FRACTION = 0.5  # ... and at least this fraction of the tracks alive at its first frame
NONE_VOTE = 0.5  # weight of a band parallax calling none, beside the geometry's shares (which sum to 1)
NOTE_YAW_DEG = 5.0  # |yaw| above which direction none comes with its reason
BACKTRACK_FRACTION = 0.25  # steps slower than this fraction of the median |speed| do not count for backtracks
FAST_MOTION_FRACTION = 0.15  # band motion above this fraction of the width per step is "fast"


@dataclass
class _Step:
    """Measurements of one step between two consecutive kept frames (pixels at analysis scale)."""

    span: int
    near: float | None
    far: float | None
    subject: float | None
    lost_fraction: float
    radial_px: float
    vertical_px: float


def _check_inputs(
    frames: np.ndarray, indices: np.ndarray, fps: float, horizontal_fov_deg: float | None, masks: np.ndarray | None
) -> np.ndarray:
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
    if horizontal_fov_deg is not None and not 1.0 <= horizontal_fov_deg <= 170.0:
        raise ValueError(
            f"horizontal_fov_deg is {horizontal_fov_deg}; pass an angle in [1, 170] degrees (60 is a typical lens), "
            "or None to estimate it from the video"
        )
    if masks is not None and np.shape(masks) != frames.shape[:3]:
        raise ValueError(
            f"masks has shape {np.shape(masks)}, expected {frames.shape[:3]}: one (H, W) subject mask per frame"
        )
    return indices.astype(np.int64)


def _measure_step(a: np.ndarray, b: np.ndarray, lost: float, size: tuple[int, int], span: int) -> _Step:
    """Band motions and diagnostics of one step from the tracks ``a`` -> ``b`` it shares."""
    height, width = size
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
    return _Step(span, near, far, subject, lost, radial, vertical)


def _parallax(near: float, far: float, floor: float) -> float:
    """sign(A - B) * 2 sqrt(max(0, -A B)) / (|A| + |B|); 0 when either band moves less than ``floor`` pixels."""
    if abs(near) < floor or abs(far) < floor:
        return 0.0
    return float(np.sign(near - far) * 2 * np.sqrt(max(0.0, -near * far)) / (abs(near) + abs(far)))


def _step_yaws(table: np.ndarray, steps: list[_Step], k: np.ndarray) -> list[float | None]:
    """Per-step yaw (degrees) from keyframe pairs (module docstring), one per step between kept frames."""
    spans = [s.span for s in steps]
    yaws: list[float | None] = [None] * len(steps)
    p = 0
    while p < len(steps):
        q = p + 1
        a, b = common(table, p, q)
        while q < len(steps) and moved_deg(a, b, k[0, 0]) < KEYFRAME_MIN_DEG:
            a_next, b_next = common(table, p, q + 1)
            if len(a_next) < 2 * MIN_TRACKS:
                break
            q, a, b = q + 1, a_next, b_next
        pose = pair_pose(a, b, k)
        if pose is not None:
            share = np.array(spans[p:q], float) / sum(spans[p:q])
            yaws[p:q] = list(pose.yaw_deg * share)
        p = q
    return yaws


def _wide_poses(table: np.ndarray, k: np.ndarray) -> list[tuple[int, int, PairPose]]:
    """(p, q, pose) of the wide pairs (module docstring), p and q positions among the kept frames."""
    poses, p, n = [], 0, table.shape[1]
    while p < n - 1:
        q = p + 1
        need = max(WIDE_MIN_POINTS, WIDE_KEEP_FRACTION * np.count_nonzero(~np.isnan(table[:, p, 0])))
        while q + 1 < n and len(common(table, p, q + 1)[0]) >= need:
            q += 1
        pose = pair_pose(*common(table, p, q), k)
        if pose is not None:
            poses.append((p, q, pose))
        p = q
    return poses


def _geometric_shares(poses: list[PairPose]) -> tuple[dict[str, float], str]:
    """(shares g(c) of the wide pairs' |yaw|-weighted calls, the main reason of their ``none`` calls)."""
    weights = {"left": 0.0, "right": 0.0, "none": 0.0}
    reasons: dict[str, float] = {}
    for pose in poses:
        weight = abs(pose.yaw_deg) + 1e-6
        weights[pose.call] += weight
        if pose.call == "none":
            reasons[pose.reason] = reasons.get(pose.reason, 0.0) + weight
    total = sum(weights.values())
    shares = {call: weight / total if total else 0.0 for call, weight in weights.items()}
    return shares, max(reasons, key=reasons.get) if reasons else ""


def _combined(shares: dict[str, float], band_call: str, parallax: float) -> tuple[str, float]:
    """(direction, confidence) from the geometric shares and the band parallax (module docstring)."""
    vote = abs(parallax) if band_call != "none" else NONE_VOTE * (1.0 - abs(parallax))
    scores = {call: share + (vote if call == band_call else 0.0) for call, share in shares.items()}
    direction = max(scores, key=scores.get)
    total = sum(scores.values())
    return direction, scores[direction] / total if total else 0.0


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


def _fov(table: np.ndarray | None, size: tuple[int, int], horizontal_fov_deg: float | None) -> FovEstimate:
    """The given FOV, or the estimate from the tracks (an assumed one without tracks)."""
    if horizontal_fov_deg is not None:
        return FovEstimate(float(horizontal_fov_deg), None, "given", 0, "")
    if table is None:
        return FovEstimate(ASSUMED_FOV_DEG, None, "assumed", 0, f"field of view assumed {ASSUMED_FOV_DEG:g} deg: nothing moves")
    return estimate_fov(table, size[1], size[0])


def compute_orbit(
    frames: np.ndarray,
    indices: np.ndarray,
    fps: float,
    horizontal_fov_deg: float | None = None,
    masks: np.ndarray | None = None,
) -> dict:
    """Orbit-camera metrics of one clip (see the module docstring for formulas, conventions and failure modes).

    Args:
        frames: uint8 RGB (N, H, W, 3), N >= 2, the analysed frames in time order.
        indices: (N,) strictly increasing original frame indices of ``frames`` (speeds are per original frame).
        fps: frame rate of the original video (angular speeds are in degrees per second).
        horizontal_fov_deg: the camera's horizontal field of view in degrees, or None to estimate it from the
            video (falling back to 60 degrees, ``fov_source: "assumed"``, when the video does not fix it).
        masks: (N, H, W) bool subject masks of ``frames`` for the look-at stability, or None.

    Returns:
        A JSON-ready dict: ``direction`` ("left", "right" or "none"), ``direction_confidence`` in [0, 1],
        ``direction_evidence`` (``geometry`` and ``parallax`` calls), ``parallax_index`` in [-1, 1], ``yaw_deg``
        (net, signed, left-orbit sense positive), ``yaw_path_deg``, ``angular_speed_deg_per_s`` (mean |w|),
        ``angular_speed_cv`` (None when the camera does not turn), ``backtracks``, ``yaw_track_deg`` (cumulative,
        one per analysed frame), ``parallax_track`` (one per step, None where a band lacked features),
        ``near_motion_px_per_frame``, ``far_motion_px_per_frame``, ``subject_motion_px_per_frame`` (median
        horizontal motion, input pixels per original frame, positive to the right), ``horizontal_fov_deg``,
        ``fov_source`` ("given", "estimated" or "assumed"), ``fov_uncertainty_deg`` (one standard deviation,
        None unless estimated), ``fov_triples`` (keyframe triples the estimate rests on; those tried when
        assumed), ``focal_px`` (input pixels), ``look_at_stability_deg`` and ``look_at_track_deg`` (None without
        masks), ``repeated_sampled_frames``, ``steps``, ``valid_step_fraction`` (None when every frame repeats
        the first), ``thresholds``, ``notes``.

    Raises:
        ValueError: frames not uint8 RGB (N >= 2), indices not matching or not increasing, fps <= 0, a FOV
            outside [1, 170] degrees, or masks not one (H, W) mask per frame.
    """
    indices = _check_inputs(frames, indices, fps, horizontal_fov_deg, masks)
    grays, scale = gray_frames(frames)
    height, width = grays[0].shape
    kept = distinct(frames)
    table, lost = track_sequence([grays[p] for p in kept]) if len(kept) > 1 else (None, np.zeros(0))
    fov = _fov(table, (height, width), horizontal_fov_deg)
    k = intrinsics(width, height, focal_from_fov(width, fov.horizontal_fov_deg))
    spans = np.diff(indices[kept])
    steps = [_measure_step(*common(table, s, s + 1), lost[s], (height, width), int(spans[s])) for s in range(len(kept) - 1)]
    floor_px = k[0, 0] * np.tan(np.radians(MOTION_FLOOR_DEG))

    valid = [s for s in steps if s.near is not None and s.far is not None]
    span = max(1, sum(s.span for s in valid))
    near, far = sum(s.near for s in valid), sum(s.far for s in valid)
    with_subject = [s for s in valid if s.subject is not None]
    subject_rate = sum(s.subject for s in with_subject) / max(1, sum(s.span for s in with_subject))
    parallax = _parallax(near, far, floor_px * span) if valid else 0.0
    band_call = "left" if parallax >= PARALLAX_THRESHOLD else "right" if parallax <= -PARALLAX_THRESHOLD else "none"

    wide = _wide_poses(table, k) if table is not None else []
    step_yaws = _step_yaws(table, steps, k) if table is not None else []
    track = np.zeros(len(grays))
    for (p, q), yaw in zip(zip(kept, kept[1:]), step_yaws):
        track[q:] = track[p] + (yaw or 0.0)
    yawed = [(yaw, step.span) for yaw, step in zip(step_yaws, steps) if yaw is not None]
    yaws = np.array([yaw for yaw, _ in yawed])
    cv, backtracks, mean_speed = _speed_stats(yaws, np.array([s for _, s in yawed], float), fps)

    shares, reason = _geometric_shares([pose for _, _, pose in wide])
    geometry = max(shares, key=shares.get) if wide else None
    direction, confidence = _combined(shares, band_call, parallax)
    look = look_at_track(np.asarray(masks, bool), k[0, 0] / scale) if masks is not None else None
    look_values = [v for v in look or [] if v is not None]

    notes = [fov.note] if fov.note else []
    notes += _notes(len(grays), len(kept), steps, valid, step_yaws.count(None), (near, far, subject_rate * span), floor_px, width)
    notes += _direction_notes(direction, geometry, band_call, reason, float(track[-1]), parallax)
    if masks is not None and not look_values:
        notes.append("look-at stability needs the subject: every mask is empty")
    return {
        "direction": direction,
        "direction_confidence": _round(confidence, 3),
        "direction_evidence": {"geometry": geometry, "parallax": band_call},
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
        "horizontal_fov_deg": _round(fov.horizontal_fov_deg, 2),
        "fov_source": fov.source,
        "fov_uncertainty_deg": _round(fov.uncertainty_deg, 2),
        "fov_triples": fov.triples,
        "focal_px": _round(k[0, 0] / scale, 2),
        "look_at_stability_deg": _round(max(look_values), 3) if look_values else None,
        "look_at_track_deg": [_round(v, 3) for v in look] if look_values else None,
        "repeated_sampled_frames": len(grays) - len(kept),
        "steps": len(steps),
        "valid_step_fraction": _round(len(valid) / len(steps)) if steps else None,
        "thresholds": {
            "parallax_index": PARALLAX_THRESHOLD,
            "far_band_fraction": round(FAR_BAND, 4),
            "near_band_fraction": round(NEAR_BAND, 4),
            "motion_floor_deg_per_frame": MOTION_FLOOR_DEG,
            "keyframe_min_deg": KEYFRAME_MIN_DEG,
            "backtrack_fraction_of_median_speed": BACKTRACK_FRACTION,
            "min_tracks_per_band": MIN_TRACKS,
            "forward_backward_max_px": FB_MAX_PX,
            "repeat_max_run_diff": REPEAT_TOLERANCE,
            "analysis_width_px": width,
        },
        "notes": notes,
    }


def _direction_notes(
    direction: str, geometry: str | None, band_call: str, reason: str, yaw: float, parallax: float
) -> list[str]:
    """Notes on the direction's evidence (module docstring)."""
    notes = []
    if geometry is None and abs(parallax) > 0:
        notes.append("no camera pose could be recovered: the direction rests on the image-band parallax alone")
    elif geometry is not None and band_call != geometry:
        follows = "geometry" if direction == geometry else "image-band parallax"
        notes.append(
            f"evidence disagrees: the camera geometry reads {geometry}, the image-band parallax ({parallax:+.2f}) "
            f"reads {band_call}; the direction follows the {follows}"
            + (" (a drifting look-at point or a sliding subject moves the pivot off the bands)" if band_call == "none" else "")
            + (f" (the geometry's main doubt: {reason})" if geometry == "none" and reason else "")
        )
    if direction == "none" and abs(yaw) > NOTE_YAW_DEG:
        notes.append(f"direction none although the camera turned {yaw:+.1f} deg: {reason or 'no orbit pivot inside the scene'}")
    return notes


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
        return [f"all {n_frames} frames repeat the first (no 16-pixel run changes by more than {REPEAT_TOLERANCE} grey levels): nothing moves"]
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
