"""``CircleRotateInference``: the original project's Python API, on our API workflows run by ComfyUI itself.

    from circle_rotate import CircleRotateInference

    model = CircleRotateInference(base_model="Wan2.2-I2V-14B", lora_high="circle_rotate_h.safetensors",
                                  lora_low="circle_rotate_l.safetensors")
    video = model.generate(first_frame="examples/first.png", last_frame="examples/last.png",
                           prompt="A silver sedan, the camera smoothly orbits left", output="orbit.mp4")
    video.frames      # (81, 720, 1280, 3) uint8

Each ``generate`` fills the workflow (paper preset by default) with the call's images, prompt and seed, keeps only
the nodes the frames need, checks the model files, and runs it: in this process through ComfyUI's executor
(``in_process``), or on a server (``remote``). Both give the same frames, bit for bit.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..client.workflow_fill import FieldMap, load_workflow
from ..images import read_image
from ..prompts import orbit_prompt
from . import graph, settings
from .progress import StepCallback, StepProgress
from .video_file import write_video

ImageInput = str | Path | np.ndarray
PROMPT_PARTS = ("shot_size", "scene", "language")


@dataclass
class GenerationResult:
    """One generated video.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB, as ComfyUI's SaveImage would write them.
        fps: frames per second (the workflow's CreateVideo fps).
        seed: the sampler seed used.
        prompt: the API prompt that ran (after filling and pruning).
        video_path: the lossless mp4 written when ``output=`` was given, else None.
        report: the metric report (``circle_rotate.suite``) when ``evaluate=True``, else None.
    """

    frames: np.ndarray
    fps: float
    seed: int | None
    prompt: dict[str, Any] = field(repr=False)
    video_path: Path | None = None
    report: dict | None = None


class CircleRotateInference:
    """Orbit videos from a first (and last) frame with the two Wan2.2 experts and the Circle-Rotate LoRAs.

    Every setting left at None keeps the workflow's value; for the paper preset (the default workflow) those are
    ``settings.PAPER_DEFAULTS``: Fun-Inpaint A14B fp8 experts, ``circle_rotate_h/l.safetensors`` at strength 1.0
    over the lightx2v 4-step LoRAs, 4 euler/simple steps handed over at step 2, cfg 1.6, shift 8, 1280x720,
    81 frames at 16 fps.

    Args:
        base_model: "Wan2.2-I2V-14B" or "Wan2.2-Fun-Inpaint-14B" (``settings.BASE_MODELS``): the expert files;
            ``model_high``/``model_low`` override it.
        lora_high, lora_low: Circle-Rotate LoRA file names in ComfyUI's ``loras`` folder.
        model_high, model_low: expert file names in ``diffusion_models``.
        vae: file name in ``vae``. text_encoder: file name in ``text_encoders`` (UMT5-XXL).
        seed: default sampler seed (``generate(seed=)`` overrides it).
        steps, cfg, shift: sampler settings (cfg for both experts).
        handover: int = the step where the low-noise expert takes over; float in (0, 1) = sigma boundary.
        width, height: multiples of 16. length: 4k+1 frames. fps: of the video.
        lora_strength: strength of both Circle-Rotate LoRAs.
        workflow: an API workflow of ours (path or dict); default ``workflows/api/circle_rotate_paper_preset.json``.
        server: a ComfyUI server URL to queue on; None to run ComfyUI in this process.
        comfyui: the ComfyUI checkout to import in-process; default ``COMFYUI_PATH`` or the ComfyUI this pack is
            installed in (an already imported ComfyUI is reused).

    Raises:
        ValueError: an unknown base_model, a LoRA given as a path, a setting the workflow has no input for.
        ComfyUINotFoundError: in-process and no ComfyUI found (the message says how to point at one).
        ServerUnavailable: ``server`` does not answer.
    """

    def __init__(
        self, base_model: str | None = None, lora_high: str | None = None, lora_low: str | None = None, *,
        model_high: str | None = None, model_low: str | None = None, vae: str | None = None,
        text_encoder: str | None = None, seed: int | None = None, steps: int | None = None, cfg: float | None = None,
        shift: float | None = None, handover: int | float | None = None, width: int | None = None,
        height: int | None = None, length: int | None = None, fps: float | None = None,
        lora_strength: float | None = None, workflow: str | Path | dict[str, Any] | None = None,
        server: str | None = None, comfyui: str | Path | None = None,
    ) -> None:
        if base_model is not None:
            if base_model not in settings.BASE_MODELS:
                raise ValueError(f"base_model {base_model!r} is unknown: use one of {', '.join(settings.BASE_MODELS)}, "
                                 "or name the files with model_high= and model_low=")
            model_high = model_high or settings.BASE_MODELS[base_model][0]
            model_low = model_low or settings.BASE_MODELS[base_model][1]
        for name, value in (("lora_high", lora_high), ("lora_low", lora_low), ("model_high", model_high),
                            ("model_low", model_low), ("vae", vae), ("text_encoder", text_encoder)):
            if value is not None and ("/" in value or "\\" in value) and Path(value).is_file():
                raise ValueError(f"{name} {value!r} is a path: put the file into ComfyUI's model folder for it and "
                                 f"pass its name ({name}={Path(value).name!r})")
        values = {"model_high": model_high, "model_low": model_low, "lora_high": lora_high, "lora_low": lora_low,
                  "vae": vae, "text_encoder": text_encoder, "steps": steps, "cfg": cfg, "shift": shift,
                  "width": width, "height": height, "length": length, "fps": fps, "lora_strength": lora_strength}
        if handover is not None:
            values.update(settings.handover_fields(handover))
        source = settings.PAPER_PRESET if workflow is None else workflow
        base = load_workflow(Path(source)) if isinstance(source, (str, Path)) else source
        graph.frame_source(base)  # raises for a workflow without one video
        self.workflow = settings.apply(base, values, {"seed": seed})
        self.fps = float(fps if fps is not None else _workflow_fps(self.workflow))
        if server is not None:
            from .remote import RemoteComfy

            self.runner: Any = RemoteComfy(server)
        else:
            from .in_process import InProcessComfy

            self.runner = InProcessComfy.shared(comfyui)

    def generate(
        self, first_frame: ImageInput | None, last_frame: ImageInput | None = None, prompt: str | None = None,
        subject: str | None = None, direction: str | None = None, seed: int | None = None,
        output: str | Path | None = None, evaluate: bool = False, negative_prompt: str | None = None,
        progress: StepCallback | None = None, metric_models: Any = None, suite_options: Any = None, **fields: Any,
    ) -> GenerationResult:
        """Generate one orbit video.

        Args:
            first_frame: image file or (H, W, 3) uint8 array; brought to the size by the conditioning node.
            last_frame: image file or array; None to condition on the first frame only.
            prompt: the positive prompt text. Or ``subject`` (with ``direction``, and ``shot_size``, ``scene``,
                ``language`` in ``fields``): the orbit prompt (``circle_rotate.prompts``), written into the
                workflow's orbit prompt node when it has one. Neither: the workflow's own prompt.
            seed: the sampler seed (default: the constructor's, else the workflow's).
            output: write the frames here as a lossless mp4 (``video_file``); it appears only when complete.
            evaluate: attach the metric report (``circle_rotate.suite`` with ``suite_options``, models from
                ``metric_models`` or the default models folder; the same report ``circle-rotate eval`` gives for
                the written video with ``--first``/``--last``).
            negative_prompt: the negative prompt text (workflows with a CLIPTextEncode negative).
            progress: called with (steps done, steps in all) across both experts.
            fields: any other workflow input, as ``circle-rotate batch`` maps it (e.g. ``cfg``, ``12.steps``).

        Returns:
            A GenerationResult (frames, fps, seed, video_path, report).

        Raises:
            ValueError: a missing or unreadable first/last frame, a prompt the workflow cannot take, a field with
                no input; PromptRejected: ComfyUI's validation messages; MissingModelError: a model file not
                there (which, where, and the download command); ExecutionFailed: a node's own error (e.g. the
                conditioning node on a width that is not a multiple of 16), with a hint on out-of-memory.
        """
        if first_frame is None:
            raise ValueError("first_frame is missing: give the first frame's image file (png, jpg, webp) or array")
        first = _read_image(first_frame, "first_frame")
        last = _read_image(last_frame, "last_frame") if last_frame is not None else None
        work = graph.capture_graph(self.workflow)
        if last is None:
            work = graph.drop_last_image(work)
        work, values = _prompt_fields(work, prompt, subject, direction, fields)
        field_map = FieldMap(work)
        for name, given in (("first_image", first_frame), ("last_image", last_frame)):
            if given is None:
                continue
            if not field_map.resolve(name):
                raise ValueError(f"{name.replace('image', 'frame')}: the workflow has no input for it (no LoadImage "
                                 "linked into start_image/end_image)")
            values[name] = self._put_image(given)
        values.update(seed=seed, negative_prompt=negative_prompt)
        work = settings.apply(work, {}, values)
        self.runner.check_models(graph.model_refs(work))
        counter = StepProgress(progress, {node_id: node["class_type"] for node_id, node in work.items()})
        frames = self.runner.run(work, graph.frame_source(self.workflow), counter)
        filled = FieldMap(work)
        used_seed = filled.current("seed") if filled.resolve("seed") else None
        result = GenerationResult(frames=frames, fps=self.fps, seed=used_seed, prompt=work)
        if output is not None:
            result.video_path = write_video(frames, self.fps, output)
        if evaluate:
            result.report = _evaluate(result, first, last, metric_models, suite_options)
        return result

    def _put_image(self, image: ImageInput) -> str:
        """The LoadImage name of an image file (the file itself, as the UI would upload it) or array (as PNG)."""
        from PIL import Image

        if not isinstance(image, np.ndarray):
            return self.runner.put_image(Path(image))
        with tempfile.TemporaryDirectory(prefix="circle_rotate_") as folder:
            path = Path(folder) / "frame.png"
            Image.fromarray(image).save(path)
            return self.runner.put_image(path)


def _workflow_fps(workflow: dict[str, Any]) -> float:
    rates = [node["inputs"]["fps"] for node in workflow.values()
             if node["class_type"] == "CreateVideo" and isinstance(node["inputs"].get("fps"), (int, float))]
    return float(rates[0]) if rates else settings.PAPER_DEFAULTS["fps"]


def _read_image(image: ImageInput, name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB of an image file or array; ValueError naming ``name`` when it is not one."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError(f"{name}: an array must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        return image
    return read_image(image, name)


def _prompt_fields(work: dict[str, Any], prompt: str | None, subject: str | None, direction: str | None,
                   fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workflow (its orbit prompt node replaced when a text prompt must go in) and the field values."""
    values = dict(fields)
    if prompt is not None and (subject is not None or direction is not None):
        raise ValueError("give either prompt= or subject= with direction=, not both (a prompt text says its direction)")
    if subject is not None or direction is not None:
        if FieldMap(work).resolve("subject"):  # the workflow builds the orbit prompt itself
            values.update({name: value for name, value in (("subject", subject), ("direction", direction)) if value})
        elif subject is None:
            raise ValueError("direction= needs subject=: the orbit prompt is built around a subject, e.g. 'a car'")
        else:
            parts = {name: values.pop(name) for name in PROMPT_PARTS if name in values}
            prompt = orbit_prompt(subject, direction or "left", **parts)
    if prompt is not None:
        if FieldMap(work).resolve("prompt"):
            values["prompt"] = prompt
        else:
            work = graph.replace_prompt_encoder(work, prompt)
    return work, values


def _evaluate(result: GenerationResult, first: np.ndarray, last: np.ndarray | None, models: Any, options: Any) -> dict:
    """The suite's report on the frames, with the CLI's default models and options unless given."""
    from .. import suite
    from ..commands.eval import load_models

    source = str(result.video_path) if result.video_path is not None else "<frames>"
    return suite.evaluate_frames(
        result.frames, result.fps, models if models is not None else load_models(None, "auto"),
        options if options is not None else suite.SuiteOptions(), conditioning=suite.Conditioning(first, last),
        source=source,
    )
