"""Keep or reject one clip for an orbit training set, from its metric-suite report (pure; no I/O).

Reasons, in the order they are listed (the first is the clip's main ``reason``):

1. ``unreadable``: the video could not be decoded, or the orbit metric failed on it.
2. ``too short``: fewer than ``min_frames`` frames.
3. ``backtracks``: the orbit metric's ``backtracks`` (sign changes of the angular speed) above
   ``max_backtracks``: the camera swings back and forth instead of circling one way.
4. ``not an orbit (KIND)``: the orbit metric's ``direction`` is neither left nor right, or its
   ``direction_confidence`` is below ``min_confidence``. KIND (:func:`motion_kind`) says what the camera does
   instead: ``static``, ``turntable``, ``pan``, ``slide``, ``dolly``, ``tilt``, or ``uncertain``.
5. ``uneven angular speed``: ``angular_speed_cv`` (std / mean of the angular speed) above ``max_speed_cv``.
6. ``repeated frames``: more than ``max_repeated_fraction`` of the frames repeat their predecessor
   (``report.repeated_frames / (total_frames - 1)``): a clip that shows each frame twice teaches a stuttering,
   half-speed camera. A clip in which nothing moves repeats every frame; it is ``not an orbit (static)`` instead.
   It comes after the motion reasons because very slow motion also reads as repeats (a camera starting from rest).
7. ``subject sliding``: the subject's mask centre moves more than ``max_subject_shift`` of the image diagonal
   away from where it starts (``subject_drift.max_deviation_px_norm``), i.e. the camera does not keep looking
   at it. Measured only where subject masks exist (given, or from the detector and segmenter weights).

Motion kinds (``KIND``), from the orbit metric's fields, read at run time:

- ``static``: its notes say every frame repeats the first, or the near band, the far band and the centre all move
  less than ``STILL_FRACTION`` of the image width per frame;
- ``turntable``: the bands stay still while the centre moves (a subject turning before a still camera), or the
  metric's "only the centre moves" note;
- ``dolly`` / ``tilt``: the metric's zoom/dolly or vertical-motion note;
- ``pan``: the far band moves at least ``PAN_FAR_RATIO`` times as much as the near band, the same way (a turn in
  place moves every depth alike);
- ``slide``: the far band moves less (translation: nearer points move more, and without a pivot between them);
- ``uncertain``: the bands oppose (``|parallax_index| >= 0.4``) but the metric did not call an orbit, or its
  confidence was too low.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

STILL_FRACTION = 0.0005  # band motion below this fraction of the width per frame counts as still
PAN_FAR_RATIO = 0.5  # |far| / |near| at or above this, same sign: a pan; below it: a slide
OPPOSED_PARALLAX = 0.4  # |parallax_index| at which the bands oppose as in an orbit (the orbit metric's threshold)

REASONS = ("unreadable", "too short", "backtracks", "not an orbit", "uneven angular speed", "repeated frames", "subject sliding")


@dataclass(frozen=True)
class Thresholds:
    """The limits a kept clip must meet (defaults and their reasons in the README, "Train your own").

    Attributes:
        min_frames: fewest frames (33: two seconds at Wan2.2's 16 fps, and a 4k+1 count).
        max_repeated_fraction: largest share of frames repeating their predecessor (0.1: a few duplicates from a
            frame-rate conversion pass; a clip that shows every frame twice, 0.5, does not).
        max_backtracks: most reversals of the turning direction (0: the dataset teaches one-way orbits).
        max_speed_cv: largest coefficient of variation of the angular speed (0.35: a constant-speed orbit reads
            about 0.05; a steady acceleration from rest reads 0.58).
        max_subject_shift: largest move of the subject's mask centre, as a fraction of the image diagonal (0.05).
        min_confidence: lowest ``direction_confidence`` of an orbit (0.4).
    """

    min_frames: int = 33
    max_repeated_fraction: float = 0.1
    max_backtracks: int = 0
    max_speed_cv: float = 0.35
    max_subject_shift: float = 0.05
    min_confidence: float = 0.4

    def __post_init__(self) -> None:
        checks = {
            "min_frames": self.min_frames >= 2,
            "max_repeated_fraction": 0 <= self.max_repeated_fraction <= 1,
            "max_backtracks": self.max_backtracks >= 0,
            "max_speed_cv": self.max_speed_cv >= 0,
            "max_subject_shift": self.max_subject_shift >= 0,
            "min_confidence": 0 <= self.min_confidence <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(
                    f"{name}={getattr(self, name)} is out of range: min_frames >= 2, fractions and min_confidence in "
                    "[0, 1], the others >= 0"
                )


@dataclass
class Verdict:
    """The decision on one clip.

    Attributes:
        keep: True when no reason applies.
        reasons: the reasons that apply, in :data:`REASONS` order (``not an orbit (KIND)`` with its kind).
        details: one sentence per reason with the reading and its limit.
        readings: the values the decision used (None where not measured).
    """

    keep: bool
    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    readings: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """The main reason ("" for a kept clip)."""
        return self.reasons[0] if self.reasons else ""


def _notes_say(orbit: Mapping[str, Any], *phrases: str) -> bool:
    return any(phrase in note for note in orbit.get("notes") or [] for phrase in phrases)


def motion_kind(orbit: Mapping[str, Any], width: int) -> str:
    """What the camera does when it does not orbit (module docstring): static, turntable, dolly, tilt, pan, slide
    or uncertain.

    Args:
        orbit: the orbit metric's result (``metrics/orbit.py``).
        width: the video's width in pixels (the motions are in pixels per frame).
    """
    near = abs(orbit.get("near_motion_px_per_frame") or 0.0)
    far = abs(orbit.get("far_motion_px_per_frame") or 0.0)
    centre = abs(orbit.get("subject_motion_px_per_frame") or 0.0)
    still = STILL_FRACTION * width
    if _notes_say(orbit, "repeat the first"):
        return "static"
    if _notes_say(orbit, "only the centre moves") or (max(near, far) < still <= centre):
        return "turntable"
    if max(near, far, centre) < still:
        return "static"
    if _notes_say(orbit, "zoom or dolly"):
        return "dolly"
    if _notes_say(orbit, "vertical camera motion"):
        return "tilt"
    if abs(orbit.get("parallax_index") or 0.0) >= OPPOSED_PARALLAX:
        return "uncertain"
    signed_near, signed_far = orbit.get("near_motion_px_per_frame") or 0.0, orbit.get("far_motion_px_per_frame") or 0.0
    if far >= PAN_FAR_RATIO * near and signed_near * signed_far >= 0:
        return "pan"
    return "slide"


def _readings(report: Mapping[str, Any]) -> dict[str, Any]:
    orbit = report.get("orbit") or {}
    drift = report.get("subject_drift") or {}
    motion = report.get("motion") or {}
    total = report.get("total_frames")
    repeated = report.get("repeated_frames")
    return {
        "frames": total,
        "fps": report.get("fps"),
        "width": report.get("width"),
        "height": report.get("height"),
        "repeated_fraction": round(repeated / (total - 1), 4) if total and total > 1 and repeated is not None else None,
        "direction": orbit.get("direction"),
        "direction_confidence": orbit.get("direction_confidence"),
        "parallax_index": orbit.get("parallax_index"),
        "yaw_deg": orbit.get("yaw_deg"),
        "angular_speed_deg_per_s": orbit.get("angular_speed_deg_per_s"),
        "angular_speed_cv": orbit.get("angular_speed_cv"),
        "backtracks": orbit.get("backtracks"),
        "subject_shift": drift.get("max_deviation_px_norm"),
        "motion_px_per_frame": motion.get("motion_magnitude"),
    }


def judge(report: Mapping[str, Any] | None, error: str | None = None, thresholds: Thresholds = Thresholds()) -> Verdict:
    """Keep or reject one clip (module docstring).

    Args:
        report: the metric suite's report (``suite.evaluate_file``) with at least the ``orbit`` family; None when
            the clip could not be evaluated.
        error: why it could not be evaluated (with ``report`` None).
        thresholds: the limits.

    Returns:
        The :class:`Verdict`.
    """
    if report is None:
        return Verdict(False, ["unreadable"], [f"unreadable: {error or 'no report'}"], {})
    readings = _readings(report)
    orbit = report.get("orbit")
    found: dict[str, str] = {}
    if orbit is None:
        message = (report.get("errors") or {}).get("orbit", "the orbit metric gave no result")
        found["unreadable"] = f"unreadable: the orbit metric failed ({message})"
    frames = readings["frames"] or 0
    if frames < thresholds.min_frames:
        found["too short"] = f"too short: {frames} frames < {thresholds.min_frames}"
    repeated = readings["repeated_fraction"]
    moves = orbit is None or not _notes_say(orbit, "repeat the first")  # a still clip repeats every frame: static
    if moves and repeated is not None and repeated > thresholds.max_repeated_fraction:
        found["repeated frames"] = f"repeated frames: {repeated:.0%} of the frames repeat their predecessor > {thresholds.max_repeated_fraction:.0%}"
    if orbit is not None:
        backtracks = orbit.get("backtracks") or 0
        if backtracks > thresholds.max_backtracks:
            found["backtracks"] = f"backtracks: the turning direction reverses {backtracks} time(s) > {thresholds.max_backtracks}"
        confidence = orbit.get("direction_confidence") or 0.0
        if orbit.get("direction") not in ("left", "right") or confidence < thresholds.min_confidence:
            kind = motion_kind(orbit, int(readings["width"] or 0))
            found["not an orbit"] = (
                f"not an orbit ({kind}): direction {orbit.get('direction')} (confidence {confidence:.2f}), "
                f"parallax index {orbit.get('parallax_index')}, yaw {orbit.get('yaw_deg')} deg"
            )
        cv = orbit.get("angular_speed_cv")
        if cv is not None and cv > thresholds.max_speed_cv:
            found["uneven angular speed"] = f"uneven angular speed: coefficient of variation {cv:.2f} > {thresholds.max_speed_cv}"
    shift = readings["subject_shift"]
    if shift is not None and shift > thresholds.max_subject_shift:
        found["subject sliding"] = f"subject sliding: its centre moves {shift:.1%} of the diagonal > {thresholds.max_subject_shift:.1%}"
    reasons, details = [], []
    for name in REASONS:
        if name in found:
            detail = found[name]
            reasons.append(detail.split(":", 1)[0])
            details.append(detail)
    return Verdict(not reasons, reasons, details, readings)


def thresholds_dict(thresholds: Thresholds) -> dict[str, Any]:
    """The thresholds as a plain dict (for the HTML page and the CSV header note)."""
    return asdict(thresholds)
