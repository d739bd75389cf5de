"""Every model file the pack uses (generation and metrics): where it lives, where it comes from, how to check it.

``REGISTRY`` maps a short key to a ``WeightFile``. ``folder`` is the file's folder relative to a ComfyUI
``models/`` directory; the metric files that no ComfyUI loader reads go under ``models/circle_rotate/`` so they
do not show up in (and break) ComfyUI's own loader lists (``models/clip`` holds text encoders for CLIPLoader,
``models/clip_vision`` CLIP-vision checkpoints for CLIPVisionLoader: an open_clip file there would be offered to
those loaders and fail). ``models/README.md`` is the human-readable version of this table.

Lookup (``find_weight``): each search dir may be a ``models/`` root (the file is looked for under its
``folder``) or a folder that holds the file directly (ComfyUI's registered folder paths). A missing file raises
``MissingWeightError`` naming the file, every path tried and the download command.

``MetricModels`` is the bundle the suite uses: one attribute per metric model (detector, segmenter, clip,
dino_vbench, dino_upstream, lpips, raft), each loaded on first use from the registry's file and kept in a
per-process cache keyed by (registry key, file path, device); a model that cannot be loaded is recorded in
``errors`` and its attribute raises ``ModelUnavailableError`` with that message, so one missing file never stops
the other metrics. ``MetricModels.from_objects`` wraps already built models (tests, benchmarks).
"""

from __future__ import annotations

import os

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .metric_models.device import resolve_device

GROUPS = ("generation", "metrics")
_COMFY_WAN22 = "Comfy-Org/Wan_2.2_ComfyUI_Repackaged"
_COMFY_WAN21 = "Comfy-Org/Wan_2.1_ComfyUI_repackaged"
_HF = "https://huggingface.co"


@dataclass(frozen=True)
class WeightFile:
    """One model file.

    Attributes:
        key: short registry id, e.g. "yolov8n".
        name: file name on disk.
        folder: folder relative to ComfyUI's ``models/``, e.g. "ultralytics/bbox".
        group: "generation" or "metrics".
        description: what it is and which node/metric uses it.
        licence: the licence of the weights.
        approx_size: human-readable size (for the docs; not checked).
        hf_repo, hf_path, hf_revision: where it is on the Hugging Face Hub (None if it is not hosted there).
        url: the canonical download URL (the Hub URL when hosted there).
        size_bytes: exact size, or None where no reliable record was found.
        sha256: hex digest, or None ("unverified"). For Hub-hosted LFS files the Hub's ETag is the sha256 and is
            checked at download time even where this is None. The values given are those recorded alike by
            several independent public projects (checksummed download scripts, manifests; gathered 2026-11-24
            while the hubs were unreachable from here), none computed here.
        sha256_prefix: where no full sha256 is known, the leading hex digits the digest must start with (torch.hub
            names its files ``<name>-<first digits of the sha256>.pth`` and checks that prefix itself).
    """

    key: str
    name: str
    folder: str
    group: str
    description: str
    licence: str
    approx_size: str
    url: str
    hf_repo: str | None = None
    hf_path: str | None = None
    hf_revision: str = "main"
    size_bytes: int | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None


def _hub(key: str, name: str, folder: str, group: str, repo: str, path: str, **fields: object) -> WeightFile:
    return WeightFile(
        key=key, name=name, folder=folder, group=group, hf_repo=repo, hf_path=path,
        url=f"{_HF}/{repo}/resolve/main/{path}", **fields,  # type: ignore[arg-type]
    )


_WAN_LICENCE = "Apache-2.0 (Wan2.2 / Wan2.1, Comfy-Org repackaged)"
_ENTRIES = (
    _hub("wan22_fun_inpaint_high", "wan2.2_fun_inpaint_high_noise_14B_fp8_scaled.safetensors", "diffusion_models",
         "generation", _COMFY_WAN22, "split_files/diffusion_models/wan2.2_fun_inpaint_high_noise_14B_fp8_scaled.safetensors",
         description="Wan2.2 Fun-Inpaint A14B high-noise expert (the original workflow's UNETLoader)",
         licence=_WAN_LICENCE, approx_size="14.3 GB"),
    _hub("wan22_fun_inpaint_low", "wan2.2_fun_inpaint_low_noise_14B_fp8_scaled.safetensors", "diffusion_models",
         "generation", _COMFY_WAN22, "split_files/diffusion_models/wan2.2_fun_inpaint_low_noise_14B_fp8_scaled.safetensors",
         description="Wan2.2 Fun-Inpaint A14B low-noise expert (the original workflow's UNETLoader)",
         licence=_WAN_LICENCE, approx_size="14.3 GB"),
    _hub("wan22_i2v_high", "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors", "diffusion_models",
         "generation", _COMFY_WAN22, "split_files/diffusion_models/wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
         description="Wan2.2 I2V A14B high-noise expert (the README's base model; same architecture)",
         licence=_WAN_LICENCE, approx_size="14.3 GB", size_bytes=14294742832,
         sha256="6122e79d55e0f235698d11d657f3b196c5273c830da00b2b013c5a048d5e6a42"),
    _hub("wan22_i2v_low", "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors", "diffusion_models",
         "generation", _COMFY_WAN22, "split_files/diffusion_models/wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors",
         description="Wan2.2 I2V A14B low-noise expert",
         licence=_WAN_LICENCE, approx_size="14.3 GB", size_bytes=14294742832,
         sha256="5471a457b6ac404202a5fbe6c11595a3d5641fc766b00f38763f72303fffc21e"),
    _hub("lightx2v_high", "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors", "loras",
         "generation", _COMFY_WAN22, "split_files/loras/wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors",
         description="lightx2v 4-step distillation LoRA, high-noise expert (LoraLoaderModelOnly, strength 1.0)",
         licence="Apache-2.0 (lightx2v)", approx_size="1.2 GB", size_bytes=1226977424,
         sha256="d176c808d6fc461999b68e321efcb7501b20b8c3797523ed0df14f7d1deff11e"),
    _hub("lightx2v_low", "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors", "loras",
         "generation", _COMFY_WAN22, "split_files/loras/wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors",
         description="lightx2v 4-step distillation LoRA, low-noise expert",
         licence="Apache-2.0 (lightx2v)", approx_size="1.2 GB", size_bytes=1226977424,
         sha256="024f21de095bc8fad9809ded3e9e49a2e170dcf27075da8145ba7d60d8aab7f9"),
    _hub("circle_rotate_high", "circle_rotate_h.safetensors", "loras", "generation",
         "jk1741391802/circle-rotate-lora", "circle_rotate_h.safetensors",
         description="Circle-Rotate LoRA for the high-noise expert (dual LoRA node)",
         licence="Apache-2.0 (Circle-Rotate)", approx_size="about 300 MB (rank 32; unverified)"),
    _hub("circle_rotate_low", "circle_rotate_l.safetensors", "loras", "generation",
         "jk1741391802/circle-rotate-lora", "circle_rotate_l.safetensors",
         description="Circle-Rotate LoRA for the low-noise expert (dual LoRA node)",
         licence="Apache-2.0 (Circle-Rotate)", approx_size="about 300 MB (rank 32; unverified)"),
    _hub("wan21_vae", "wan_2.1_vae.safetensors", "vae", "generation", _COMFY_WAN22, "split_files/vae/wan_2.1_vae.safetensors",
         description="Wan2.1 VAE, used by Wan2.2 A14B (VAELoader)", licence=_WAN_LICENCE, approx_size="254 MB", size_bytes=253815318,
         sha256="2fc39d31359a4b0a64f55876d8ff7fa8d780956ae2cb13463b0223e15148976b"),
    _hub("umt5_xxl", "umt5_xxl_fp8_e4m3fn_scaled.safetensors", "text_encoders", "generation",
         _COMFY_WAN21, "split_files/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
         description="UMT5-XXL text encoder, fp8 (CLIPLoader type wan)", licence="Apache-2.0 (UMT5)",
         approx_size="6.7 GB", size_bytes=6735906897,
         sha256="c3355d30191f1f066b26d93fba017ae9809dce6c627dda5f6a66eaa651204f68"),
    _hub("yolov8n", "yolov8n.pt", "ultralytics/bbox", "metrics", "Ultralytics/YOLOv8", "yolov8n.pt",
         description="YOLOv8n COCO detector: subject detection for subject drift (Ultralytics published two files "
         "under this name, both usable; see models/README.md)",
         licence="AGPL-3.0 (Ultralytics)", approx_size="6.2 MB"),
    WeightFile(
        key="sam_vit_b", name="sam_vit_b_01ec64.pth", folder="sams", group="metrics",
        description="Segment Anything ViT-B: box-prompted subject masks for subject drift (Meta's own download; "
        "a Hub copy is at https://huggingface.co/ybelkada/segment-anything/resolve/main/checkpoints/sam_vit_b_01ec64.pth)",
        licence="Apache-2.0 (Meta SAM)", approx_size="375 MB",
        url="https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth", size_bytes=375042383,
        sha256="ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
    ),
    WeightFile(
        key="clip_vit_b32_openai", name="open_clip_vit_b32_openai.bin", folder="circle_rotate", group="metrics",
        description="CLIP ViT-B/32 OpenAI weights in open_clip format: CLIP-I", licence="MIT (OpenAI CLIP)",
        approx_size="605 MB", hf_repo="timm/vit_base_patch32_clip_224.openai", hf_path="open_clip_pytorch_model.bin",
        url=f"{_HF}/timm/vit_base_patch32_clip_224.openai/resolve/main/open_clip_pytorch_model.bin",
    ),
    WeightFile(
        key="dino_vitb16", name="dino_vitb16.safetensors", folder="circle_rotate", group="metrics",
        description="DINO ViT-B/16 backbone (timm layout; the original dino_vitbase16_pretrain.pth also loads): "
        "subject consistency (VBench and upstream variants)", licence="Apache-2.0 (Meta DINO)", approx_size="343 MB",
        hf_repo="timm/vit_base_patch16_224.dino", hf_path="model.safetensors",
        url=f"{_HF}/timm/vit_base_patch16_224.dino/resolve/main/model.safetensors",
    ),
    WeightFile(
        key="alexnet_lpips", name="alexnet-owt-7be5be79.pth", folder="circle_rotate", group="metrics",
        description="torchvision ImageNet AlexNet: the LPIPS backbone (fidelity); LPIPS' linear layers ship with "
        "the lpips package", licence="BSD-3-Clause (torchvision; trained on ImageNet)", approx_size="233 MB",
        url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", size_bytes=244408911,
        sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
    ),
    WeightFile(
        key="raft_large", name="raft_large_C_T_V2-1bb1363a.pth", folder="circle_rotate", group="metrics",
        description="torchvision RAFT large, Chairs+Things: VBench dynamic degree (motion)",
        licence="BSD-3-Clause (torchvision)", approx_size="21 MB",
        url="https://download.pytorch.org/models/raft_large_C_T_V2-1bb1363a.pth", sha256_prefix="1bb1363a",
    ),
)
REGISTRY: dict[str, WeightFile] = {entry.key: entry for entry in _ENTRIES}

METRIC_KEYS = {
    "detector": "yolov8n",
    "segmenter": "sam_vit_b",
    "clip": "clip_vit_b32_openai",
    "dino_vbench": "dino_vitb16",
    "dino_upstream": "dino_vitb16",
    "lpips": "alexnet_lpips",
    "raft": "raft_large",
}
"""Registry key of the weight file behind each ``MetricModels`` attribute."""


class MissingWeightError(FileNotFoundError):
    """A model file is in none of the searched places; the message says where it was looked for and how to get it."""


def entries(what: str = "all") -> list[WeightFile]:
    """Registry entries of a group ("generation", "metrics") or "all".

    Raises:
        ValueError: for another value of ``what``.
    """
    if what == "all":
        return list(_ENTRIES)
    if what not in GROUPS:
        raise ValueError(f"--what {what!r} is unknown: use generation, metrics or all.")
    return [entry for entry in _ENTRIES if entry.group == what]


def get_entry(key: str) -> WeightFile:
    """The registry entry for ``key``. Raises KeyError naming the known keys."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"no model file {key!r} in the registry; known: {', '.join(REGISTRY)}") from None


MODELS_DIR_ENV = "CIRCLE_ROTATE_MODELS_DIR"
"""Environment variable naming the default models folder of the headless tools."""


def default_models_dir() -> Path | None:
    """The models folder used when none is given: ``$CIRCLE_ROTATE_MODELS_DIR``, else ``$COMFYUI_PATH/models``."""
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV]).expanduser()
    if os.environ.get("COMFYUI_PATH"):
        return Path(os.environ["COMFYUI_PATH"]).expanduser() / "models"
    return None


def candidate_paths(entry: WeightFile, search_dirs: Iterable[str | Path]) -> list[Path]:
    """Where ``entry`` is looked for, in order: ``dir/folder/name`` then ``dir/name`` for each search dir."""
    paths: list[Path] = []
    for directory in search_dirs:
        directory = Path(directory).expanduser()
        for path in (directory / entry.folder / entry.name, directory / entry.name):
            if path not in paths:
                paths.append(path)
    return paths


def missing_message(entry: WeightFile, tried: Sequence[Path], name: str | None = None) -> str:
    """The message of a missing file: which file (``name``, default the registry's), where it was looked for, how to get it."""
    where = "; ".join(str(path) for path in tried) or (
        f"nowhere (no models folder was given: pass --models-dir, or set {MODELS_DIR_ENV} or COMFYUI_PATH)"
    )
    return (
        f"model file {name or entry.name!r} ({entry.description}) was not found; looked for: {where}. "
        f"Get it with `circle-rotate models download --what {entry.group} --models-dir <ComfyUI>/models` "
        f"(or download {entry.url} into <models>/{entry.folder}/)."
    )


def find_weight(entry: WeightFile | str, search_dirs: Iterable[str | Path]) -> Path:
    """The first existing file of ``entry`` (or its key) in ``search_dirs`` (see ``candidate_paths``).

    Raises:
        MissingWeightError: if it is in none of them.
    """
    entry = get_entry(entry) if isinstance(entry, str) else entry
    tried = candidate_paths(entry, search_dirs)
    for path in tried:
        if path.is_file():
            return path
    raise MissingWeightError(missing_message(entry, tried))


def sha256_of(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


class ModelUnavailableError(RuntimeError):
    """A metric model of a ``MetricModels`` bundle could not be loaded (or was not enabled); the message says why."""


class ModelDisabledError(ModelUnavailableError):
    """A metric model the caller turned off (not enabled in the bundle): a skipped metric, not a failure."""


def _load_detector(path: Path) -> Any:
    from .metric_models.yolo_detector import YoloDetector

    return YoloDetector.load_model(path)


def _load_segmenter(path: Path) -> Any:
    from .metric_models.sam_segmenter import SamSegmenter

    return SamSegmenter.load_model(path, "vit_b")


def _load_clip(path: Path) -> Any:
    from .metric_models.clip_encoder import ClipEncoder

    return ClipEncoder.load_model(path)


def _load_dino(path: Path) -> Any:
    from .metric_models.dino_encoder import DinoEncoder

    return DinoEncoder.load_model(path)


def _load_lpips(path: Path) -> Any:
    from .metric_models.lpips_distance import LpipsDistance

    return LpipsDistance.load_model(path)


def _load_raft(path: Path) -> Any:
    from .metric_models.raft_flow import RaftFlow

    return RaftFlow.load_model(path, "large")


def _wrap(name: str, model: Any, device: str, options: Mapping[str, Any]) -> Any:
    """The protocol object for attribute ``name`` around a loaded raw model."""
    from .metric_models import clip_encoder, dino_encoder, lpips_distance, raft_flow, sam_segmenter, yolo_detector

    if name == "detector":
        return yolo_detector.YoloDetector(model, device=device, **options)
    if name == "segmenter":
        return sam_segmenter.SamSegmenter(model, device=device, **options)
    if name == "clip":
        return clip_encoder.ClipEncoder(model, device=device, **options)
    if name in ("dino_vbench", "dino_upstream"):
        return dino_encoder.DinoEncoder(model, device=device, preprocessing=name.split("_")[1], **options)
    if name == "lpips":
        return lpips_distance.LpipsDistance(model, device=device, **options)
    return raft_flow.RaftFlow(model, device=device, **options)


_LOADERS: dict[str, Callable[[Path], Any]] = {
    "detector": _load_detector,
    "segmenter": _load_segmenter,
    "clip": _load_clip,
    "dino_vbench": _load_dino,
    "dino_upstream": _load_dino,
    "lpips": _load_lpips,
    "raft": _load_raft,
}
_CACHE: dict[tuple[str, str, str], Any] = {}
_CACHE_LOCK = threading.Lock()


def cached_model(key: str, path: Path, device: str, loader: Callable[[Path], Any]) -> Any:
    """The raw model of registry ``key`` from ``path`` on ``device``, loaded once per process."""
    import torch

    cache_key = (key, str(Path(path).resolve()), device)
    with _CACHE_LOCK:
        if cache_key not in _CACHE:
            model = loader(path)
            _CACHE[cache_key] = model.to(device) if isinstance(model, torch.nn.Module) else model
        return _CACHE[cache_key]


def clear_cache() -> None:
    """Forget every cached metric model of this process (frees their memory once nothing else holds them)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _candidates(value: str | Path | Sequence[str | Path]) -> list[Path]:
    paths = [value] if isinstance(value, (str, Path)) else list(value)
    if not paths:
        raise ValueError("an explicit metric model file needs at least one path; got an empty list.")
    return [Path(path).expanduser() for path in paths]


class MetricModels:
    """The metric models the suite uses, loaded lazily, one attribute each (see module doc).

    Attributes ``detector``, ``segmenter``, ``clip``, ``dino_vbench``, ``dino_upstream``, ``lpips`` and ``raft``
    return the protocol object (SubjectDetector, SubjectSegmenter, ImageEncoder x3, PerceptualDistance,
    OpticalFlow) or raise ``ModelUnavailableError``; ``get(name)`` returns None instead, and ``errors`` holds the
    message of every model that failed.
    """

    NAMES = tuple(METRIC_KEYS)

    def __init__(
        self,
        search_dirs: Iterable[str | Path] = (),
        device: str = "auto",
        files: Mapping[str, str | Path | Sequence[str | Path]] | None = None,
        enabled: Iterable[str] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        objects: Mapping[str, Any] | None = None,
        disabled: Mapping[str, str] | None = None,
    ) -> None:
        """Args:
            search_dirs: ``models/`` roots or folders holding the files (see ``find_weight``).
            device: "auto", "cpu", "cuda" or "cuda:N" for every model.
            files: explicit file per attribute name (e.g. {"detector": "/x/yolov8s.pt"}), overriding the search;
                a sequence of paths means "the first of these that exists" (ComfyUI's folders for a chosen name).
            enabled: attribute names to offer (default all); the others raise ``ModelUnavailableError``.
            options: constructor options per attribute name, e.g. {"detector": {"classes": ["car"]}}.
            objects: ready protocol objects per attribute name, used instead of loading a file (e.g. the ComfyUI
                node's CLIP_VISION adapter); they count as enabled.
            disabled: attribute names turned off on purpose, with the reason reports show (e.g.
                {"raft": "turned off with --no-raft"}); they are not enabled, and their attribute raises
                ``ModelDisabledError`` with that reason.

        Raises:
            ValueError: for an unknown attribute name or device.
        """
        self.device = resolve_device(device)
        self.search_dirs = [Path(directory).expanduser() for directory in search_dirs]
        self.files = {name: _candidates(value) for name, value in (files or {}).items()}
        self.enabled = set(self.NAMES if enabled is None else enabled)
        self.options = {name: dict(value) for name, value in (options or {}).items()}
        self._objects: dict[str, Any] = dict(objects or {})
        self.enabled |= set(self._objects)
        self.disabled = dict(disabled or {})
        self.enabled -= set(self.disabled)
        for name in [*self.files, *self.enabled, *self.options, *self.disabled]:
            self._check_name(name)
        self.errors: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_objects(cls, device: str = "cpu", **objects: Any) -> MetricModels:
        """A bundle of already built protocol objects (e.g. wrappers built around random-initialised models); the others are disabled."""
        return cls(device=device, enabled=(), objects=objects)

    def _check_name(self, name: str) -> None:
        if name not in self.NAMES:
            raise ValueError(f"metric model {name!r} is unknown: use one of {', '.join(self.NAMES)}.")

    def path_of(self, name: str) -> Path:
        """The weight file attribute ``name`` loads. Raises MissingWeightError / ValueError."""
        self._check_name(name)
        if name not in self.files:
            return find_weight(METRIC_KEYS[name], self.search_dirs)
        candidates = self.files[name]
        for path in candidates:
            if path.is_file():
                return path
        raise MissingWeightError(missing_message(get_entry(METRIC_KEYS[name]), candidates, candidates[0].name))

    def get(self, name: str) -> Any | None:
        """The protocol object for ``name``, loading it on first use; None (and ``errors[name]``) if it cannot be."""
        self._check_name(name)
        with self._lock:
            if name in self._objects:
                return self._objects[name]
            if name in self.errors:
                return None
            if name not in self.enabled:
                self.errors[name] = self.disabled.get(name) or f"metric model {name!r} is not enabled in this bundle (turned off; enabled: {sorted(self.enabled)})"
                return None
            try:
                path = self.path_of(name)
                model = cached_model(METRIC_KEYS[name], path, self.device, _LOADERS[name])
                self._objects[name] = _wrap(name, model, self.device, self.options.get(name, {}))
            except Exception as error:  # any failure (missing file, bad checkpoint, import) is recorded, not raised
                self.errors[name] = f"{name}: {type(error).__name__}: {error}"
                return None
            return self._objects[name]

    def require(self, name: str) -> Any:
        """The protocol object for ``name``.

        Raises:
            ModelDisabledError: ``name`` is turned off (not enabled); the message is the reason.
            ModelUnavailableError: it could not be loaded; the message says why.
        """
        model = self.get(name)
        if model is None:
            raise (ModelUnavailableError if name in self.enabled else ModelDisabledError)(self.errors[name])
        return model

    def status(self) -> dict[str, str]:
        """Per attribute: "loaded", "not loaded yet", or the error message."""
        return {
            name: "loaded" if name in self._objects else self.errors.get(name, "not loaded yet") for name in self.NAMES
        }

    @property
    def detector(self) -> Any:
        """SubjectDetector (YOLO)."""
        return self.require("detector")

    @property
    def segmenter(self) -> Any:
        """SubjectSegmenter (SAM ViT-B)."""
        return self.require("segmenter")

    @property
    def clip(self) -> Any:
        """ImageEncoder (CLIP ViT-B/32, OpenAI)."""
        return self.require("clip")

    @property
    def dino_vbench(self) -> Any:
        """ImageEncoder (DINO ViT-B/16, VBench preprocessing)."""
        return self.require("dino_vbench")

    @property
    def dino_upstream(self) -> Any:
        """ImageEncoder (DINO ViT-B/16, the original's preprocessing)."""
        return self.require("dino_upstream")

    @property
    def lpips(self) -> Any:
        """PerceptualDistance (LPIPS AlexNet)."""
        return self.require("lpips")

    @property
    def raft(self) -> Any:
        """OpticalFlow (RAFT large)."""
        return self.require("raft")
