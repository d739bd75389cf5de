"""Run the chosen metric families over one video, sharing the decoded frames, the flows and the models.

One decode (``video.py``) feeds everything: metrics over all frames (the original's motion statistics, VBench's
all-frame DINO embeddings, VBench's strided RAFT frames) are computed by frame visitors while the video streams;
the metrics over the sampled frames then run on the :class:`~circle_rotate.video.Clip`. Each Farneback pair is
computed once (``metrics/flow.py``). Model calls are batched (``batch_size`` frames per call). Detection and
segmentation run once per distinct frame: a sampled frame that repeats its predecessor (``video.py``) takes
its mask.

Models come as one object with the attributes ``detector``, ``segmenter``, ``clip``, ``dino_vbench``,
``dino_upstream``, ``lpips`` and ``raft`` (e.g. ``circle_rotate.weights``' bundle), each a loaded protocol object
(``metric_models/protocols.py``); reading an attribute may raise (e.g. a missing weight file). A missing model or a
failing metric never stops the others: its message lands in the report's ``errors`` under the metric's name.
A model the caller turned off (``weights.ModelDisabledError``, e.g. ``--no-raft``), LPIPS turned off with
``use_lpips``, and a family not asked for are listed under ``skipped`` (metric name -> reason), never as errors.
A detector that finds no subject in any sampled frame is an ``errors`` entry of ``subject_drift``.

Detector rule: when the masks come from a detector whose ``rule`` is not the original's (``"upstream"``, see
``metric_models/yolo_detector.py``) and that offers ``with_rule``, the frames are detected again under the
original's rule (frames whose box differs are segmented again), so the report's ``upstream.subject_drift`` is the
original's number; ``subject_drift`` keeps the chosen rule's and holds the original rule's values under
``original_rule`` (``report.ORIGINAL_RULE``).

Original's sampling: for a video shorter than ``num_frames`` the original's linspace repeats frames
(``video.upstream_sample_indices``) while ours keeps each frame once; subject_drift (with the original rule's masks
when they differ), clip_i and subject_consistency then also compute their ``upstream`` values on the original's
frames, repeats included, under ``upstream_sampling`` (``report.UPSTREAM_SAMPLING``), reusing the embeddings and
masks of our frames (a repeated frame has the same ones).
Bad input (a missing video, masks of the wrong shape, an unknown metric name) raises ``ValueError``.

Progress: ``evaluate_file`` and ``evaluate_frames`` take ``progress``, a callable given the name of each stage as
it starts (``"decode"``, then each metric family in ``METRIC_FAMILIES`` order that was asked for), and given the
same name again within a long stage: after each decoded frame and before each model batch (detection,
segmentation, embeddings, RAFT pairs). A caller that counts stages counts changes of the name; one that checks for
an interrupt (ComfyUI's) can do so at every call. An exception it raises stops the evaluation and propagates
unchanged: the metric guards that turn a failing metric into an ``errors`` entry do not catch it.

Conditioning images are resized to the frame size (``fidelity.fit_to``, INTER_AREA) before they are embedded for
CLIP-I, so they go through the encoder in the same batch as the frames; the colour family (``metrics/colour.py``)
compares the generated first/last frames with them the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import video
from .metrics.clip_i import compute_clip_i
from .metrics.colour import compute_colour
from .metrics.consistency import compute_consistency
from .metrics.drift import compute_drift
from .metrics.fidelity import compute_fidelity, fit_to
from .metrics.flow import FlowCache
from .metrics.motion import StrideCollector, UpstreamMotion, vbench_dynamic_degree, vbench_stride
from .report import ORIGINAL_RULE, UPSTREAM_SAMPLING, build_report
from .weights import ModelDisabledError

log = logging.getLogger(__name__)

METRIC_FAMILIES = ("subject_drift", "clip_i", "fidelity", "subject_consistency", "motion", "orbit", "colour")


@dataclass(frozen=True)
class SuiteOptions:
    """What to compute.

    Attributes:
        metrics: metric families to run (subset of ``METRIC_FAMILIES``).
        num_frames: frames sampled by the original's linspace (0 = all).
        use_lpips: compute LPIPS in the fidelity family.
        batch_size: frames per model call.
        horizontal_fov: the camera's horizontal field of view for the orbit metric, degrees in [1, 170], or None
            to estimate it from the video (``metrics/orbit_fov.py``).
    """

    metrics: tuple[str, ...] = METRIC_FAMILIES
    num_frames: int = video.DEFAULT_NUM_FRAMES
    use_lpips: bool = True
    batch_size: int = 8
    horizontal_fov: float | None = None

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in METRIC_FAMILIES]
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)}: choose from {', '.join(METRIC_FAMILIES)}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size}: must be >= 1")
        if self.horizontal_fov is not None and not 1.0 <= self.horizontal_fov <= 170.0:
            raise ValueError(f"horizontal_fov={self.horizontal_fov}: give degrees in [1, 170], or None to estimate it")


@dataclass
class Conditioning:
    """Conditioning images (uint8 RGB (H, W, 3), any size) the video was generated from, if known."""

    first: np.ndarray | None = None
    last: np.ndarray | None = None


def embed_batched(encoder: Any, frames: np.ndarray, batch_size: int, before_batch: Callable[[], None] = lambda: None) -> np.ndarray:
    """(N, D) embeddings of (N, H, W, 3) frames, ``batch_size`` frames per ``encoder.embed`` call, each call
    preceded by ``before_batch()``."""
    parts = []
    for i in range(0, len(frames), batch_size):
        before_batch()
        parts.append(encoder.embed(frames[i : i + batch_size]))
    return np.concatenate(parts)


class EmbeddingCollector:
    """Frame visitor embedding every frame in batches while the video streams (keeps only embeddings).

    A failing encoder does not stop the decode: the first error is kept, later frames are ignored, and
    :meth:`result` raises it.
    """

    def __init__(self, encoder: Any, batch_size: int) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.error: Exception | None = None
        self._pending: list[np.ndarray] = []
        self._embeddings: list[np.ndarray] = []

    def visit(self, index: int, frame: np.ndarray) -> None:
        if self.error is not None:
            return
        self._pending.append(frame.copy())
        if len(self._pending) == self.batch_size:
            self._flush()

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch or self.error is not None:
            return
        try:
            self._embeddings.append(self.encoder.embed(np.stack(batch)))
        except Exception as error:  # reported by result(); the decode and the other metrics go on
            self.error = error

    def result(self) -> np.ndarray:
        """(T, D) embeddings of all visited frames. Raises the encoder's error if it failed."""
        self._flush()
        if self.error is not None:
            raise self.error
        return np.concatenate(self._embeddings)


class _Stopped(BaseException):
    """The progress callback raised ``error``: carried past the metric guards (which catch ``Exception``)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class _Run:
    """State of one evaluation: the models resolved so far, the errors met and the stage under way."""

    def __init__(self, models: Any, options: SuiteOptions, progress: Callable[[str], None]) -> None:
        self.models = models
        self.options = options
        self.progress = progress
        self.stage = ""
        self.errors: dict[str, str] = {}
        self.skipped: dict[str, str] = {name: "not asked for (metrics option)" for name in METRIC_FAMILIES if name not in options.metrics}
        self.results: dict[str, dict | None] = {name: None for name in METRIC_FAMILIES}
        self.masks: np.ndarray | None = None  # subject masks of the sampled frames: given, or segmented by subject_drift

    def begin(self, stage: str) -> None:
        """A stage starts: tell the progress callback."""
        self.stage = stage
        self.heartbeat()

    def heartbeat(self) -> None:
        """Within the current stage: tell the progress callback again (its exception stops the whole run)."""
        try:
            self.progress(self.stage)
        except Exception as error:  # e.g. ComfyUI's interrupt: must pass the metric guards unchanged
            raise _Stopped(error) from error

    def model(self, name: str, metric: str) -> Any | None:
        """``models.<name>``, or None with the reason recorded under ``metric`` (in ``skipped`` when turned off)."""
        if self.models is None:
            self.errors[metric] = f"no metric models were given (needs '{name}'): load them with circle_rotate.weights or pass --models-dir"
            return None
        try:
            return getattr(self.models, name)
        except ModelDisabledError as error:  # the caller turned it off: skipped, not failed
            self.skipped[metric] = str(error)
            return None
        except Exception as error:  # a missing or broken weight file must not stop the other metrics
            message = str(error)
            self.errors[metric] = message if message.startswith(f"{name}:") else f"{name}: {message}"
            return None

    def attempt(self, metric: str, compute: Callable[[], Any]) -> Any | None:
        """``compute()``, or None with its error recorded under ``metric``."""
        try:
            return compute()
        except Exception as error:  # one failing metric must not stop the others
            log.debug("metric %s failed", metric, exc_info=True)
            self.errors[metric] = f"{type(error).__name__}: {error}"
            return None

    def wants(self, metric: str) -> bool:
        return metric in self.options.metrics


@dataclass
class _Visitors:
    cache: FlowCache
    motion: UpstreamMotion | None = None
    stride: StrideCollector | None = None
    vbench: EmbeddingCollector | None = None
    all: list = field(default_factory=list)


def _plan(run: _Run, fps: float | None, estimated_total: int) -> _Visitors:
    # fps None: an image folder, which VBench's dynamic degree reads whole (motion.vbench_stride)
    indices = video.sample_indices(estimated_total, run.options.num_frames)
    adjacent = {(int(a), int(b)) for a, b in zip(indices[:-1], indices[1:]) if b == a + 1}
    plan = _Visitors(cache=FlowCache(keep=adjacent if run.wants("subject_drift") else set()))
    if run.wants("motion"):
        plan.motion = UpstreamMotion(plan.cache)
        plan.all.append(plan.motion)
        raft = run.model("raft", "motion.vbench_dynamic_degree")
        if raft is not None:
            plan.stride = StrideCollector(vbench_stride(fps))
            plan.all.append(plan.stride)
    if run.wants("subject_consistency"):
        dino = run.model("dino_vbench", "subject_consistency.vbench")
        if dino is not None:
            plan.vbench = EmbeddingCollector(dino, run.options.batch_size)
            plan.all.append(plan.vbench)
    return plan


def _select_masks(masks: np.ndarray, clip: video.Clip) -> np.ndarray:
    masks = np.asarray(masks)
    expected = (clip.total_frames, clip.height, clip.width)
    if masks.shape != expected:
        raise ValueError(f"masks of shape {masks.shape} for '{clip.source}': expected (T, H, W) = {expected}, one mask per frame of the video")
    return masks[clip.indices].astype(bool)


def _segment(run: _Run, segmenter: Any, frames: np.ndarray, boxes: list, step: int) -> np.ndarray:
    parts = []
    for i in range(0, len(frames), step):
        run.heartbeat()
        parts.append(segmenter.segment(frames[i : i + step], boxes[i : i + step]))
    return np.concatenate(parts)


def _detect(run: _Run, detector: Any, frames: np.ndarray, step: int) -> list:
    boxes = []
    for i in range(0, len(frames), step):
        run.heartbeat()
        boxes.extend(detector.detect(frames[i : i + step]))
    return boxes


def _detected_masks(run: _Run, clip: video.Clip, detector: Any, segmenter: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Masks of the sampled frames under the detector's rule, and under the original's rule when that differs
    (else None). One detection + segmentation per distinct frame; repeats take the mask of the frame they repeat."""
    _, first, inverse = np.unique(clip.sampled_distinct_index, return_index=True, return_inverse=True)
    frames, step = clip.frames[first], run.options.batch_size
    boxes = _detect(run, detector, frames, step)
    masks = _segment(run, segmenter, frames, boxes, step)
    if getattr(detector, "rule", "upstream") == "upstream" or not hasattr(detector, "with_rule"):
        return masks[inverse.ravel()], None
    original = detector.with_rule("upstream")
    original_boxes = _detect(run, original, frames, step)
    differ = [i for i, (a, b) in enumerate(zip(boxes, original_boxes)) if a != b]
    original_masks = masks.copy()
    if differ:
        original_masks[differ] = _segment(run, segmenter, frames[differ], [original_boxes[i] for i in differ], step)
    return masks[inverse.ravel()], original_masks[inverse.ravel()]


def _drift(run: _Run, clip: video.Clip, plan: _Visitors, masks: np.ndarray | None) -> dict | None:
    original_masks = None
    if masks is None:
        detector = run.model("detector", "subject_drift")
        segmenter = run.model("segmenter", "subject_drift") if detector is not None else None
        if segmenter is None:
            return None
        found = run.attempt("subject_drift", lambda: _detected_masks(run, clip, detector, segmenter))
        if found is None:
            return None
        masks, original_masks = found
        if not masks.any():
            rule = getattr(detector, "rule", None)
            run.errors["subject_drift"] = (
                f"no subject found: the detector{f' (rule {rule!r})' if rule else ''} found no subject in any of the "
                f"{len(masks)} sampled frames, so the subject values are null; give subject masks (--masks / the "
                "masks input) or other detector settings (classes, min confidence)"
            )
    elif not masks.any():
        run.errors["subject_drift"] = f"no subject found: the given masks are empty in all {len(masks)} sampled frames"
    run.masks = masks
    pairs = list(zip(clip.indices[:-1].tolist(), clip.indices[1:].tolist()))
    flows = plan.cache.magnitudes(pairs, [(clip.frames[i], clip.frames[i + 1]) for i in range(len(pairs))])
    result = run.attempt("subject_drift", lambda: compute_drift(masks, clip.indices, clip.sampled_distinct_index, flows))
    if result is not None and original_masks is not None:
        original = run.attempt(
            "subject_drift.original_rule", lambda: compute_drift(original_masks, clip.indices, clip.sampled_distinct_index, flows)
        )
        keys = ("subject_flow", "global_flow", "upstream_drift", "detection_rate", "detected")
        result[ORIGINAL_RULE] = None if original is None else {key: original[key] for key in keys}
    if result is not None and clip.upstream_repeats:
        upstream_masks = masks if original_masks is None else original_masks
        result[UPSTREAM_SAMPLING] = run.attempt("subject_drift.upstream", lambda: _drift_on_original_frames(plan, clip, upstream_masks))
    return result


def _drift_on_original_frames(plan: _Visitors, clip: video.Clip, masks: np.ndarray) -> dict:
    """The drift values of ``upstream`` on the original's sampled frames, repeats included (``report.UPSTREAM_SAMPLING``):
    ``masks`` are those of our sampled frames; a repeated frame keeps its mask, a pair of one frame twice its flow."""
    positions, indices = clip.upstream_positions, clip.upstream_indices
    pairs = list(zip(indices[:-1].tolist(), indices[1:].tolist()))
    flows = plan.cache.magnitudes(pairs, [(clip.frames[a], clip.frames[b]) for a, b in zip(positions[:-1], positions[1:])])
    values = compute_drift(masks[positions], indices, None, flows)
    return {key: values[key] for key in ("subject_flow", "global_flow", "upstream_drift", "detection_rate", "detected")}


def _clip_i(run: _Run, clip: video.Clip, conditioning: Conditioning) -> dict | None:
    encoder = run.model("clip", "clip_i")
    if encoder is None:
        return None
    extra = [fit_to(image, clip.height, clip.width) for image in (conditioning.first, conditioning.last) if image is not None]

    def compute() -> dict:
        embeddings = embed_batched(
            encoder, np.concatenate([clip.frames, np.stack(extra)]) if extra else clip.frames, run.options.batch_size, run.heartbeat
        )
        frames, rest = embeddings[: len(clip.frames)], list(embeddings[len(clip.frames) :])
        first = rest.pop(0) if conditioning.first is not None else None
        last = rest.pop(0) if conditioning.last is not None else None
        result = compute_clip_i(frames, first, last)
        if clip.upstream_repeats:  # the original's frames, repeats included (report.UPSTREAM_SAMPLING)
            original = compute_clip_i(frames[clip.upstream_positions])
            result[UPSTREAM_SAMPLING] = {key: original[key] for key in ("first_last", "global_avg", "frame_acc", "frames")}
        return result

    return run.attempt("clip_i", compute)


def _fidelity(run: _Run, clip: video.Clip, conditioning: Conditioning) -> dict | None:
    lpips = run.model("lpips", "fidelity.lpips") if run.options.use_lpips else None
    if not run.options.use_lpips:
        run.skipped["fidelity.lpips"] = "LPIPS turned off (use_lpips off)"

    def compute(model: Any) -> dict:
        return compute_fidelity(clip.frames[0], clip.frames[-1], model, conditioning.first, conditioning.last)

    if lpips is not None:
        try:
            return compute(lpips)
        except Exception as error:  # LPIPS failing must not cost PSNR/SSIM
            run.errors["fidelity.lpips"] = f"{type(error).__name__}: {error} (PSNR/SSIM computed without LPIPS)"
    return run.attempt("fidelity", lambda: compute(None))


def _consistency(run: _Run, clip: video.Clip, plan: _Visitors) -> dict | None:
    vbench = run.attempt("subject_consistency.vbench", plan.vbench.result) if plan.vbench is not None else None
    upstream = None
    dino = run.model("dino_upstream", "subject_consistency.upstream")
    if dino is not None:
        upstream = run.attempt("subject_consistency.upstream", lambda: embed_batched(dino, clip.frames, run.options.batch_size, run.heartbeat))
    if vbench is None and upstream is None:
        return None

    def compute() -> dict:
        result = compute_consistency(vbench, upstream)
        if upstream is not None and clip.upstream_repeats:  # the original's frames, repeats included
            original = compute_consistency(None, upstream[clip.upstream_positions])
            result[UPSTREAM_SAMPLING] = {key: original[key] for key in ("upstream", "upstream_frames")}
        return result

    return run.attempt("subject_consistency", compute)


def _motion(run: _Run, plan: _Visitors) -> dict | None:
    if plan.motion is None:
        return None
    result = dict(plan.motion.result())
    result["vbench_dynamic_degree"] = result["dynamic_degree_cropped"] = None
    if plan.stride is not None:
        raft = run.model("raft", "motion.vbench_dynamic_degree")
        dynamic = run.attempt(
            "motion.vbench_dynamic_degree",
            lambda: vbench_dynamic_degree(np.stack(plan.stride.frames), raft, run.options.batch_size, run.heartbeat),
        )
        # VBench's number (padded frame) under its name; ours (padding cropped off) beside it under its own
        result["vbench_dynamic_degree"] = dynamic
        result["dynamic_degree_cropped"] = None if dynamic is None else dynamic.pop("cropped")
    return result


def _orbit(run: _Run, clip: video.Clip) -> dict | None:
    def compute() -> dict:
        from .metrics.orbit import compute_orbit

        # subject_drift runs first (METRIC_FAMILIES order): its masks give the look-at stability
        return compute_orbit(clip.frames, clip.indices, clip.fps, run.options.horizontal_fov, run.masks)

    return run.attempt("orbit", compute)


def _colour(run: _Run, clip: video.Clip, conditioning: Conditioning) -> dict | None:
    """CIEDE2000 colour drift of the sampled frames and against the conditioning images (needs no model)."""
    return run.attempt("colour", lambda: compute_colour(clip.frames, clip.indices, conditioning.first, conditioning.last))


def _evaluate(
    load: Callable[[Sequence[video.FrameVisitor]], video.Clip],
    fps: float | None,
    estimated_total: int,
    models: Any,
    options: SuiteOptions,
    masks: np.ndarray | None,
    conditioning: Conditioning | None,
    progress: Callable[[str], None] | None,
) -> dict:
    run = _Run(models, options, progress or (lambda stage: None))
    try:
        return _run_stages(run, load, fps, estimated_total, masks, conditioning or Conditioning())
    except _Stopped as stopped:
        raise stopped.error from None


class _Heartbeat:
    """Frame visitor that calls ``run.heartbeat`` after each decoded frame."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    def visit(self, index: int, frame: np.ndarray) -> None:
        self.run.heartbeat()


def _run_stages(
    run: _Run,
    load: Callable[[Sequence[video.FrameVisitor]], video.Clip],
    fps: float | None,
    estimated_total: int,
    masks: np.ndarray | None,
    conditioning: Conditioning,
) -> dict:
    plan = _plan(run, fps, estimated_total)
    run.begin("decode")
    clip = load([*plan.all, _Heartbeat(run)])
    if plan.motion is not None:
        plan.motion.finish()  # its flows must be in the cache before drift asks for them
    selected = _select_masks(masks, clip) if masks is not None and (run.wants("subject_drift") or run.wants("orbit")) else None
    run.masks = selected  # the orbit's look-at stability; subject_drift replaces it with the masks it segments
    steps: dict[str, Callable[[], dict | None]] = {
        "subject_drift": lambda: _drift(run, clip, plan, selected),
        "clip_i": lambda: _clip_i(run, clip, conditioning),
        "fidelity": lambda: _fidelity(run, clip, conditioning),
        "subject_consistency": lambda: _consistency(run, clip, plan),
        "motion": lambda: _motion(run, plan),
        "orbit": lambda: _orbit(run, clip),
        "colour": lambda: _colour(run, clip, conditioning),
    }
    for name in METRIC_FAMILIES:
        if run.wants(name):
            run.begin(name)
            run.results[name] = steps[name]()
    masks_source = None if not run.wants("subject_drift") else "given" if masks is not None else "segmented"
    return build_report(clip, run.results, run.errors, run.skipped, masks_source)


def evaluate_file(
    path: str | Path,
    models: Any,
    options: SuiteOptions = SuiteOptions(),
    masks: np.ndarray | None = None,
    conditioning: Conditioning | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Evaluate one video file or image folder.

    Args:
        path: the video (see ``video.load_clip``).
        models: the model bundle (see the module docstring), or None (model-based metrics then report errors).
        options: what to compute.
        masks: (T, H, W) bool subject masks for ALL T frames (then no detector/segmenter is needed; they also give
            the orbit's look-at stability), or None.
        conditioning: the conditioning images, or None.
        progress: called with each stage's name as it starts (see the module docstring), or None.

    Returns:
        The report dict (``report.build_report``).

    Raises:
        ValueError: the video cannot be read, or the masks do not match it.
    """
    fps, total = video.probe(path)
    vbench_fps = None if Path(path).is_dir() else fps  # VBench reads an image folder whole, whatever its rate
    return _evaluate(
        lambda visitors: video.load_clip(path, options.num_frames, visitors), vbench_fps, total, models, options, masks, conditioning, progress
    )


def evaluate_frames(
    frames: np.ndarray,
    fps: float,
    models: Any,
    options: SuiteOptions = SuiteOptions(),
    masks: np.ndarray | None = None,
    conditioning: Conditioning | None = None,
    source: str = "<frames>",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Evaluate frames held in memory ((T, H, W, 3) uint8, or float in [0, 1]); arguments as :func:`evaluate_file`."""
    return _evaluate(
        lambda visitors: video.clip_from_array(frames, fps, options.num_frames, source, visitors),
        fps,
        len(frames),
        models,
        options,
        masks,
        conditioning,
        progress,
    )
