"""Two-expert sampler: the high-noise expert, then the low-noise expert on its leftover noise.

Each phase calls ``comfy.sample.sample`` with the arguments ``KSamplerAdvanced`` (``nodes.common_ksampler``)
passes: phase 1 with noise from the seed, steps 0 -> k, leftover noise kept; phase 2 without new noise,
steps k -> end, fully denoised. The result is bit-identical to the native chain of two KSamplerAdvanced nodes.
The only difference is the progress callback: one bar spans both phases.
"""

from __future__ import annotations

from dataclasses import dataclass

import comfy.sample
import comfy.samplers
import comfy.utils
import latent_preview
import torch
from comfy_api.latest import io
from comfy_extras.nodes_model_advanced import ModelSamplingSD3

from ..circle_rotate import schedule

CATEGORY = "CircleRotate/sampling"
HANDOVERS = ("step", "sigma_boundary")


@dataclass(frozen=True)
class Phase:
    """One expert's share of the schedule: steps ``start`` .. ``end`` - 1."""

    model: object
    cfg: float
    start: int
    end: int
    add_noise: bool
    leftover_noise: bool


def with_shift(model, shift: float):
    """``model`` with ModelSamplingSD3's flow shift (a patched clone), or ``model`` itself when ``shift`` is 0."""
    return model if shift == 0 else ModelSamplingSD3().patch(model, shift)[0]


def schedule_sigmas(model, steps: int, sampler_name: str, scheduler: str) -> list[float]:
    """The sigmas ``comfy.sample.sample`` will use for this model, steps, sampler and scheduler (denoise 1)."""
    sampler = comfy.samplers.KSampler(model, steps=steps, device=model.load_device, sampler=sampler_name,
                                      scheduler=scheduler, denoise=1.0, model_options=model.model_options)
    return [float(sigma) for sigma in sampler.sigmas]


def _spanning_callback(model, progress: comfy.utils.ProgressBar, offset: int, total: int):
    """A sampler callback that reports step ``offset + i + 1`` of ``total`` with a latent preview."""
    previewer = latent_preview.get_previewer(model.load_device, model.model.latent_format)

    def callback(step: int, x0, x, phase_steps: int) -> None:
        preview = previewer.decode_latent_to_preview_image("JPEG", x0) if previewer else None
        progress.update_absolute(offset + step + 1, total, preview)

    return callback


def run_phase(phase: Phase, latent: dict, seed: int, steps: int, sampler_name: str, scheduler: str, positive: list,
              negative: list, progress: comfy.utils.ProgressBar) -> dict:
    """One KSamplerAdvanced run (as ``nodes.common_ksampler``), with a progress bar shared across phases."""
    latent_image = comfy.sample.fix_empty_latent_channels(phase.model, latent["samples"])
    if phase.add_noise:
        noise = comfy.sample.prepare_noise(latent_image, seed, latent.get("batch_index"))
    else:
        noise = torch.zeros(latent_image.size(), dtype=latent_image.dtype, layout=latent_image.layout, device="cpu")
    samples = comfy.sample.sample(
        phase.model, noise, steps, phase.cfg, sampler_name, scheduler, positive, negative, latent_image,
        denoise=1.0, disable_noise=not phase.add_noise, start_step=phase.start, last_step=phase.end,
        force_full_denoise=not phase.leftover_noise, noise_mask=latent.get("noise_mask"),
        callback=_spanning_callback(phase.model, progress, phase.start, steps),
        disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=seed,
    )
    out = latent.copy()
    out["samples"] = samples
    return out


def plan_phases(model_high, model_low, cfg_high: float, cfg_low: float, steps: int, handover: int,
                add_noise: bool) -> list[Phase]:
    """The phases to run: high for steps 0 .. handover - 1, low for handover .. steps - 1 (empty ones dropped)."""
    phases = []
    if handover > 0:
        phases.append(Phase(model_high, cfg_high, 0, handover, add_noise, leftover_noise=handover < steps))
    if handover < steps:
        phases.append(Phase(model_low, cfg_low, handover, steps, add_noise and handover == 0, leftover_noise=False))
    return phases


class TwoExpertSampler(io.ComfyNode):
    """Samples with the high-noise expert, then hands the latent over to the low-noise expert."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateTwoExpertSampler",
            display_name="Two-Expert Sampler (Circle Rotate)",
            category=CATEGORY,
            description="Wan2.2 A14B sampling in one node: the high-noise expert takes the first steps, the low-noise "
            "expert the rest, on the leftover noise. Handover at a step (the original Circle-Rotate workflow: 2 of 4) "
            "or at a sigma boundary (Wan's rule: switch where timestep/1000 falls below 0.9 for I2V). With a step "
            "handover the latent is bit-identical to two native KSamplerAdvanced nodes. The report shows the sigma "
            "schedule and the chosen handover step.",
            inputs=[
                io.Model.Input("model_high", tooltip="The high-noise expert (with its LoRAs)."),
                io.Model.Input("model_low", tooltip="The low-noise expert (with its LoRAs)."),
                io.Conditioning.Input("positive", tooltip="Positive conditioning (from the first/last frame node)."),
                io.Conditioning.Input("negative", tooltip="Negative conditioning (from the first/last frame node)."),
                io.Latent.Input("latent", tooltip="The video latent to denoise (from the first/last frame node)."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True,
                             tooltip="Seed of the initial noise (as KSamplerAdvanced's noise_seed)."),
                io.Int.Input("steps", default=4, min=1, max=10000,
                             tooltip="Total steps of both experts (the original workflow: 4, with the lightx2v "
                             "LoRAs)."),
                io.Float.Input("cfg_high", default=1.6, min=0.0, max=100.0, step=0.1, round=0.01,
                               tooltip="Classifier-free guidance of the high-noise expert (the original "
                               "workflow: 1.6)."),
                io.Float.Input("cfg_low", default=1.6, min=0.0, max=100.0, step=0.1, round=0.01,
                               tooltip="Classifier-free guidance of the low-noise expert (the original "
                               "workflow: 1.6)."),
                io.Combo.Input("sampler_name", options=list(comfy.samplers.KSampler.SAMPLERS), default="euler",
                               tooltip="Sampling algorithm (the original workflow: euler)."),
                io.Combo.Input("scheduler", options=list(comfy.samplers.KSampler.SCHEDULERS), default="simple",
                               tooltip="Sigma schedule (the original workflow: simple)."),
                io.Float.Input("shift", default=8.0, min=0.0, max=100.0, step=0.01,
                               tooltip="Flow shift applied to both experts as ModelSamplingSD3 does (the original "
                               "workflow: 8). 0 keeps the models' own sampling (use it when the models already come "
                               "through ModelSamplingSD3)."),
                io.Combo.Input("handover", options=list(HANDOVERS), default="step",
                               tooltip="step: switch experts at handover_step. sigma_boundary: switch at the first "
                               "step whose sigma (timestep/1000) is below boundary, Wan's official rule."),
                io.Int.Input("handover_step", default=2, min=0, max=10000,
                             tooltip="With handover 'step': the first step of the low-noise expert (0 = low only; "
                             ">= steps = high only). The original workflow: 2 of 4."),
                io.Float.Input("boundary", default=schedule.WAN_I2V_BOUNDARY, min=0.001, max=1.0, step=0.001,
                               tooltip="With handover 'sigma_boundary': timestep/1000 where the low-noise expert takes "
                               "over; Wan2.2 uses 0.9 for I2V and 0.875 for T2V."),
                io.Boolean.Input("add_noise", default=True,
                                 tooltip="Add the seed's noise to the latent first (KSamplerAdvanced add_noise). Off "
                                 "to continue from a latent that already holds noise."),
            ],
            outputs=[
                io.Latent.Output(display_name="latent",
                    tooltip="The denoised video latent (decode it with VAEDecode)."),
                io.String.Output("report", tooltip="The handover step and the sigma schedule, one line per step."),
            ],
        )

    @classmethod
    def execute(
        cls, model_high: io.Model.Type, model_low: io.Model.Type, positive: list, negative: list, latent: dict,
        seed: int, steps: int, cfg_high: float, cfg_low: float, sampler_name: str, scheduler: str, shift: float,
        handover: str, handover_step: int, boundary: float, add_noise: bool,
    ) -> io.NodeOutput:
        if handover not in HANDOVERS:
            raise ValueError(f"handover {handover!r} is not one of {', '.join(HANDOVERS)}")
        high = with_shift(model_high, shift)
        low = with_shift(model_low, shift)
        sigmas = schedule_sigmas(high, steps, sampler_name, scheduler)
        if handover == "step":
            switch = min(handover_step, steps)
            rule = f"handover at step {switch} (handover_step {handover_step})"
        else:
            switch = schedule.handover_step(sigmas, boundary)
            rule = f"handover at step {switch} (first sigma below boundary {boundary:g})"
        progress = comfy.utils.ProgressBar(steps)
        phases = plan_phases(high, low, cfg_high, cfg_low, steps, switch, add_noise)
        del high, low, model_high, model_low  # the phases hold the only references this node keeps
        current = latent
        while phases:
            phase = phases.pop(0)
            current = run_phase(phase, current, seed, steps, sampler_name, scheduler, positive, negative, progress)
            del phase  # drop the finished expert: model management may unload it while the next one samples
        settings = f"{steps} steps, {sampler_name}/{scheduler}, shift {shift:g}"
        report = f"{rule}; {settings}\n{schedule.format_schedule(sigmas, switch)}"
        return io.NodeOutput(current, report, ui={"text": report.splitlines()})


NODES: list[type[io.ComfyNode]] = [TwoExpertSampler]
