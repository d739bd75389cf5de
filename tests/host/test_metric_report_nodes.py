"""Metric, report and A/B nodes in-process: IMAGE/MASK adapters, merging, saved files and the UI payloads.

A textured square slides 2 px per frame over a textured background; its exact masks go in through the MASK
input, so subject drift needs no model and its speed is known. No metric weights exist here: the model-based
families must come back as errors while the others are computed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

FRAMES, SIZE, STEP = 12, 64, 2


@pytest.fixture(scope="module")
def clip() -> tuple[torch.Tensor, torch.Tensor]:
    """(IMAGE (T, H, W, 3) in [0, 1], MASK (T, H, W)) of the sliding square."""
    rng = np.random.default_rng(0)
    background = rng.random((SIZE, SIZE, 3)) * 0.4
    square = 0.6 + rng.random((16, 16, 3)) * 0.4
    images = np.repeat(background[None], FRAMES, axis=0)
    masks = np.zeros((FRAMES, SIZE, SIZE), dtype=np.float32)
    for t in range(FRAMES):
        x = 8 + STEP * t
        images[t, 24:40, x : x + 16] = square
        masks[t, 24:40, x : x + 16] = 1.0
    return torch.from_numpy(images.astype(np.float32)), torch.from_numpy(masks)


def _ui(output, key: str) -> dict:
    return output.ui[key][0] if isinstance(output.ui, dict) else output.ui.as_dict()[key][0]


def test_evaluate_node_runs_what_it_can_without_models(comfy_host, clip) -> None:
    images, masks = clip
    node = comfy_host.node("CircleRotateEvaluate")
    report = node.execute(images=images, fps=16.0, num_frames=0, use_lpips=True, label="square", masks=masks)[0]
    drift = report["subject_drift"]
    assert drift["speed_px_per_frame"] == pytest.approx(STEP, rel=1e-6)
    assert drift["max_deviation_px"] == pytest.approx(STEP * (FRAMES - 1), rel=1e-6)
    assert report["video"] == "square" and report["frames"] == FRAMES and report["fps"] == 16.0
    assert report["motion"] is not None and report["fidelity"]["first_last"]["psnr"] is not None
    assert {"clip_i", "fidelity.lpips"} <= set(report["errors"])


def test_image_conversion_rounds_like_the_core(comfy_host) -> None:
    from importlib import import_module

    metrics = import_module(comfy_host.node("CircleRotateEvaluate").__module__)
    image = torch.tensor([[[[0.0, 0.5, 1.0]]]])
    assert metrics.frames_to_uint8(image).tolist() == [[[[0, 128, 255]]]]
    with pytest.raises(ValueError, match="images: IMAGE of shape"):
        metrics.frames_to_uint8(torch.zeros(2, 8, 8, 4))


def test_masks_of_the_wrong_shape_name_the_input(comfy_host, clip) -> None:
    images, masks = clip
    with pytest.raises(ValueError, match=r"masks: MASK of shape \(11, 64, 64\)"):
        comfy_host.node("CircleRotateSubjectDrift").execute(images=images, fps=16.0, num_frames=0, label="", masks=masks[:11])


def test_bad_fps_names_the_input(comfy_host, clip) -> None:
    with pytest.raises(ValueError, match="fps=0"):
        comfy_host.node("CircleRotateOrbit").execute(images=clip[0], fps=0.0, num_frames=0, label="")


def test_report_merges_family_nodes_saves_files_and_sends_plots(comfy_host, clip, output_dir) -> None:
    images, masks = clip
    drift = comfy_host.node("CircleRotateSubjectDrift").execute(images=images, fps=16.0, num_frames=0, label="", masks=masks)[0]
    fidelity = comfy_host.node("CircleRotateFidelity").execute(
        images=images, fps=16.0, num_frames=0, label="", use_lpips=True, first_image=images[:1], last_image=images[-1:],
    )[0]
    assert drift["fidelity"] is None and fidelity["subject_drift"] is None
    output = comfy_host.node("CircleRotateReport").execute(
        metrics=drift, metrics_2=fidelity, filename_prefix="circle_rotate/test", title="merged",
    )
    merged = output[0]
    assert merged["subject_drift"] == drift["subject_drift"] and merged["fidelity"] == fidelity["fidelity"]
    assert merged["upstream"]["subject_drift"]["drift"] == drift["subject_drift"]["drift_std_px"]
    assert merged["upstream"]["fidelity"] is not None
    assert "fidelity.lpips" in merged["errors"] and "subject_drift" not in merged["errors"]
    # what each family node left out is skipped only where no other report computed it; the masks' origin survives
    assert "fidelity" in drift["skipped"] and "fidelity" not in merged["skipped"]
    assert "subject_drift" not in merged["skipped"] and "clip_i" in merged["skipped"]
    assert merged["masks_source"] == drift["masks_source"] is not None
    assert set(drift["notes"]) <= set(merged["notes"])
    payload = _ui(output, "circle_rotate_report")
    assert payload["title"] == "merged"
    assert {row["family"] for row in payload["table"]} == {"subject_drift", "fidelity"}
    series = payload["series"]
    assert series["drift_px"] == pytest.approx([STEP * t for t in range(FRAMES)])
    assert series["centroids"][0] == pytest.approx([15.5, 31.5])
    assert (series["width"], series["height"]) == (SIZE, SIZE)
    saved = {file["filename"]: output_dir / file["subfolder"] / file["filename"] for file in payload["files"]}
    assert sorted(name.rsplit(".", 1)[1] for name in saved) == ["csv", "json"]
    json_path = next(path for name, path in saved.items() if name.endswith(".json"))
    assert json.loads(json_path.read_text())["subject_drift"]["speed_px_per_frame"] == pytest.approx(STEP)
    assert json.dumps(payload, allow_nan=False)


def test_report_refuses_results_of_different_videos(comfy_host, clip) -> None:
    images, masks = clip
    node = comfy_host.node("CircleRotateSubjectDrift")
    whole = node.execute(images=images, fps=16.0, num_frames=0, label="", masks=masks)[0]
    part = node.execute(images=images[:6], fps=16.0, num_frames=0, label="", masks=masks[:6])[0]
    with pytest.raises(ValueError, match="metrics_2 comes from another video"):
        comfy_host.node("CircleRotateReport").execute(metrics=whole, metrics_2=part, filename_prefix="x/y", title="")


def test_ab_node_reports_relative_changes(comfy_host, clip, output_dir) -> None:
    images, masks = clip
    node = comfy_host.node("CircleRotateSubjectDrift")
    moving = node.execute(images=images, fps=16.0, num_frames=0, label="a", masks=masks)[0]
    slower_masks = masks.clone()
    for t in range(FRAMES):  # the same square moving 1 px per frame
        slower_masks[t] = 0
        slower_masks[t, 24:40, 8 + t : 24 + t] = 1
    slower = node.execute(images=images, fps=16.0, num_frames=0, label="b", masks=slower_masks)[0]
    output = comfy_host.node("CircleRotateABCompare").execute(
        metrics_a=moving, metrics_b=slower, label_a="base", label_b="lora", filename_prefix="circle_rotate/ab_test",
    )
    payload = _ui(output, "circle_rotate_ab")
    rows = {row["metric"]: row for row in payload["rows"]}
    speed = rows["subject_drift.speed_px_per_frame"]
    assert (speed["a"], speed["b"]) == pytest.approx((2.0, 1.0))
    assert speed["relative_percent"] == pytest.approx(-50.0)
    assert {"metric": "subject_drift.speed_px_per_frame", "label": "subject drift speed", "relative_percent": pytest.approx(-50.0)} in payload["highlights"]
    assert not any(name.startswith(("upstream.", "width", "frames")) for name in rows)
    for file in payload["files"]:
        assert (output_dir / file["subfolder"] / file["filename"]).is_file()


METRIC_NODES = ("CircleRotateEvaluate", "CircleRotateSubjectDrift", "CircleRotateClipI", "CircleRotateFidelity",
                "CircleRotateSubjectConsistency", "CircleRotateMotion", "CircleRotateOrbit", "CircleRotateColourDrift")


@pytest.mark.parametrize("node_id", METRIC_NODES)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_images_are_refused_naming_the_input(comfy_host, clip, node_id: str, value: float) -> None:
    images = clip[0].clone()
    images[3, :10, :10, 0] = value  # 100 values in frame 3
    images[7:] = value  # 5 whole frames
    count = 100 + 5 * SIZE * SIZE * 3
    kwargs = dict(images=images, fps=16.0, num_frames=0, label="")
    if node_id in ("CircleRotateEvaluate", "CircleRotateFidelity"):
        kwargs["use_lpips"] = False
    with pytest.raises(ValueError, match=rf"^images contains {count} non-finite values \(NaN/inf\) in 6 of {FRAMES} "
                       r"frames \(first: frame 3\)"):
        comfy_host.node(node_id).execute(**kwargs)


def test_non_finite_conditioning_images_and_masks_are_refused(comfy_host, clip) -> None:
    images, masks = clip
    node = comfy_host.node("CircleRotateEvaluate")
    broken = images[:1].clone()
    broken[0, 0, 0, 1] = float("nan")
    with pytest.raises(ValueError, match=r"^last_image contains 1 non-finite values \(NaN/inf\) in 1 of 1 frames"):
        node.execute(images=images, fps=16.0, num_frames=0, use_lpips=False, label="", last_image=broken)
    bad_masks = masks.clone()
    bad_masks[5, 0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"^masks contains 1 non-finite values \(NaN/inf\) in 1 of 12 frames "
                       r"\(first: frame 5\)"):
        node.execute(images=images, fps=16.0, num_frames=0, use_lpips=False, label="", masks=bad_masks)


@pytest.fixture
def progress_hook(comfy_host):
    """Record every (value, total) the progress bars report through ComfyUI's global hook; ``on_update`` runs on
    each. Restores the hook and clears the interrupt flag afterwards."""
    import comfy.model_management
    import comfy.utils

    calls: list[tuple[int, int]] = []
    actions = []

    def hook(value, total, preview, node_id=None):
        calls.append((value, total))
        for action in actions:
            action(value, total)

    saved = comfy.utils.PROGRESS_BAR_HOOK
    comfy.utils.set_progress_bar_global_hook(hook)
    yield calls, actions
    comfy.utils.set_progress_bar_global_hook(saved)
    comfy.model_management.interrupt_current_processing(False)


def test_the_progress_bar_advances_once_per_stage(comfy_host, clip, progress_hook) -> None:
    calls, _ = progress_hook
    images, masks = clip
    comfy_host.node("CircleRotateEvaluate").execute(images=images, fps=16.0, num_frames=0, use_lpips=False, label="",
                                                    masks=masks)
    stages = 1 + 7  # the decode, then seven families
    assert calls == [(value, stages) for value in range(stages + 1)]
    calls.clear()
    comfy_host.node("CircleRotateOrbit").execute(images=images, fps=16.0, num_frames=0, label="")
    assert calls == [(0, 2), (1, 2), (2, 2)]


def test_an_interrupt_during_evaluation_stops_it(comfy_host, clip, progress_hook) -> None:
    import comfy.model_management

    calls, actions = progress_hook
    images, masks = clip
    actions.append(lambda value, total: comfy.model_management.interrupt_current_processing(True) if value == 2 else None)
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        comfy_host.node("CircleRotateEvaluate").execute(images=images, fps=16.0, num_frames=0, use_lpips=False,
                                                        label="", masks=masks)
    assert calls == [(0, 8), (1, 8), (2, 8)], "the evaluation went on after the interrupt"
    assert not comfy.model_management.processing_interrupted(), "the interrupt flag was not consumed"


def test_an_interrupt_within_a_stage_stops_at_the_next_batch(comfy_host, progress_hook) -> None:
    """Repeated calls for the same stage (the core's per-batch heartbeat) check the interrupt but keep the bar."""
    import comfy.model_management
    from importlib import import_module

    calls, _ = progress_hook
    progress = import_module(comfy_host.node("CircleRotateEvaluate").__module__.rsplit(".", 1)[0] + ".progress").StageProgress(3)
    progress("decode")
    progress("decode")
    progress("subject_drift")
    progress("subject_drift")
    assert calls == [(0, 3), (1, 3)]
    comfy.model_management.interrupt_current_processing(True)
    with pytest.raises(comfy.model_management.InterruptProcessingException):
        progress("subject_drift")
    assert calls == [(0, 3), (1, 3)]


def test_colour_node_and_report_table_and_plot(comfy_host, clip, output_dir) -> None:
    """The colour family's node against the core function, and its rows and per-frame series in the report node."""
    from circle_rotate.metrics.colour import compute_colour

    images, _ = clip
    darker = (images * 0.8).clamp(0, 1)  # a known colour shift of the last frame
    report = comfy_host.node("CircleRotateColourDrift").execute(
        images=torch.cat([images[:-1], darker[-1:]]), fps=16.0, num_frames=0, label="", first_image=images[:1], last_image=images[-1:]
    )[0]
    frames = (torch.cat([images[:-1], darker[-1:]]) * 255).round().to(torch.uint8).numpy()
    expected = compute_colour(frames, np.arange(FRAMES), frames[0], (images[-1] * 255).round().to(torch.uint8).numpy())
    assert report["colour"] == expected and report["errors"] == {}
    assert report["colour"]["max_shift_frame"] == FRAMES - 1 and report["colour"]["last_vs_conditioning"]["delta_e_colour"] > 1.0
    output = comfy_host.node("CircleRotateReport").execute(metrics=report, filename_prefix="cr/colour", title="")
    payload = _ui(output, "circle_rotate_report")
    rows = {(row["family"], row["metric"]) for row in payload["table"]}
    assert {("colour", "mean_delta_e_colour"), ("colour", "max_shift_frame"), ("colour", "last_vs_conditioning.delta_e_pixels")} <= rows
    assert payload["series"]["colour_delta_e"]["colour"] == pytest.approx(expected["delta_e_colour"])
    assert payload["series"]["colour_delta_e"]["pixels"] == pytest.approx(expected["delta_e_pixels"])
