"""What a LoRA file is: key format, rank, alpha, target modules, and which Wan2.2 expert it claims. No ComfyUI.

Key formats (the trainer that writes them; whether ComfyUI 0.8.0 applies them to a Wan model):
- ``musubi``: musubi-tuner / kohya ``lora_unet_blocks_0_self_attn_q.lora_down.weight`` + ``.lora_up.weight``
  + ``.alpha`` (applied);
- ``wan_fun``: the Wan-Fun trainer, ``lora_unet__blocks_0_...`` with a double underscore (applied);
- ``peft``: ``diffusion_model.blocks.0.self_attn.q.lora_A.weight`` / ``lora_B`` (applied, scale 1: no alpha);
- ``comfy``: ``diffusion_model.blocks.0.self_attn.q.lora_down.weight`` (ComfyUI / lightx2v releases; applied);
- ``peft_bare``: PEFT keys without the ``diffusion_model.`` prefix (not applied);
- ``diffusers``: ``transformer.blocks.0.attn1.to_q.lora_A.weight`` (not applied to Wan);
- ``lycoris``: ``lycoris_`` keys or LoHa/LoKr tensors (``hada_w1_a``, ``lokr_w1``);
- ``sdxl``: a Stable Diffusion (XL) UNet or text-encoder LoRA (``lora_unet_input_blocks_...``, ``lora_te_...``);
- ``unknown``: anything else.

Module names are normalised to the Wan module path (``blocks.0.self_attn.q``) where the format allows it.
The delta ComfyUI applies is ``strength * (alpha / rank) * up @ down`` (scale 1 without alpha).

Fit to a model, beyond names: ``coverage`` counts the modules a model has a key for, leaving out those its
architecture lacks by design (``wan21_image_branch``: Wan2.1 I2V's image cross-attention, which no Wan2.2 expert
has); ``shape_mismatches`` compares the shape each module would write with the shape of the model's weight (a
LoRA for another Wan width has the right names and the wrong shapes).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

# Key suffixes that end a module's stem, longest first so that ``.lora_A.default.weight`` wins over ``.weight``.
_SUFFIXES = (
    ".lora_linear_layer.down.weight", ".lora_linear_layer.up.weight",
    ".lora_A.default.weight", ".lora_B.default.weight", ".lora_down.weight", ".lora_up.weight",
    ".lora_mid.weight", ".lora.down.weight", ".lora.up.weight", "_lora.down.weight", "_lora.up.weight",
    ".lora_A.weight", ".lora_B.weight", ".lora_A", ".lora_B", ".reshape_weight", ".set_weight", ".hada_w1_a", ".hada_w1_b", ".hada_w2_a", ".hada_w2_b", ".hada_t1",
    ".hada_t2", ".lokr_w1_a", ".lokr_w1_b", ".lokr_w2_a", ".lokr_w2_b", ".lokr_w1", ".lokr_w2", ".lokr_t2",
    ".dora_scale", ".diff_b", ".diff", ".alpha",
)
# Suffixes of the "down" matrix, whose first dimension is the rank.
_DOWN_SUFFIXES = (
    ".lora_down.weight", ".lora_A.weight", ".lora_A.default.weight", ".lora.down.weight", "_lora.down.weight",
    ".hada_w1_b",
)
_WAN_COMPOUNDS = (
    "norm_k_img", "self_attn", "cross_attn", "norm_q", "norm_k", "k_img", "v_img", "text_embedding",
    "time_embedding", "time_projection", "patch_embedding", "img_emb",
)
_DIFFUSERS_TO_WAN = (
    ("attn1.to_out.0", "self_attn.o"), ("attn2.to_out.0", "cross_attn.o"), ("attn1.", "self_attn."),
    ("attn2.", "cross_attn."), (".to_q", ".q"), (".to_k", ".k"), (".to_v", ".v"), (".add_k_proj", ".k_img"),
    (".add_v_proj", ".v_img"), (".norm_added_k", ".norm_k_img"), ("ffn.net.0.proj", "ffn.0"), ("ffn.net.2", "ffn.2"),
)
_SDXL_STEM = re.compile(
    r"^(lora_unet_(input_blocks|output_blocks|middle_block|down_blocks|up_blocks|mid_block)|lora_te\d?_)"
)
_WAN_BLOCK = re.compile(r"^blocks\.\d+\.")

FORMAT_DESCRIPTIONS = {
    "musubi": "musubi-tuner/kohya (lora_unet_blocks_...)",
    "wan_fun": "Wan-Fun (lora_unet__blocks_...)",
    "peft": "PEFT (diffusion_model.*.lora_A/lora_B)",
    "comfy": "ComfyUI/lightx2v (diffusion_model.*.lora_down/lora_up)",
    "peft_bare": "PEFT without the diffusion_model. prefix (blocks.*.lora_A)",
    "diffusers": "diffusers (transformer.*.attn1.to_q)",
    "lycoris": "LyCORIS (lycoris_* or LoHa/LoKr)",
    "sdxl": "SDXL/SD UNet (lora_unet_input_blocks_..., lora_te_...)",
    "unknown": "an unknown key format",
}
"""Format id -> words for reports and error messages."""


@dataclass(frozen=True)
class LoraModule:
    """One module a LoRA patches.

    Attributes:
        stem: the key prefix shared by the module's tensors, as in the file (``lora_unet_blocks_0_self_attn_q``).
        key_format: the format of this module's keys (see the module docstring).
        wan_path: the Wan module path (``blocks.0.self_attn.q``), or None where the format has none.
        rank: first dimension of the down matrix, or None (diff-only or LoKr modules).
        alpha: the ``.alpha`` tensor's value, or None.
    """

    stem: str
    key_format: str
    wan_path: str | None
    rank: int | None
    alpha: float | None


@dataclass(frozen=True)
class LoraInfo:
    """A LoRA file's inspection.

    Attributes:
        key_format: the most common module format.
        modules: stem -> module, for every module in the file.
        metadata: the file's string metadata (safetensors header), possibly empty.
    """

    key_format: str
    modules: dict[str, LoraModule]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def rank(self) -> int | None:
        """The most common rank (None if no module has one)."""
        ranks = Counter(m.rank for m in self.modules.values() if m.rank is not None)
        return ranks.most_common(1)[0][0] if ranks else None

    @property
    def ranks(self) -> list[int]:
        """Every distinct rank, ascending."""
        return sorted({m.rank for m in self.modules.values() if m.rank is not None})

    @property
    def alpha(self) -> float | None:
        """The most common alpha tensor value, else ``ss_network_alpha`` from the metadata, else None (scale 1)."""
        alphas = Counter(m.alpha for m in self.modules.values() if m.alpha is not None)
        if alphas:
            return alphas.most_common(1)[0][0]
        value = self.metadata.get("ss_network_alpha")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def key_example(self) -> str:
        """A short description of the keys, e.g. ``SDXL/SD UNet (...): lora_unet_input_blocks_4_1_...``."""
        stems = sorted(self.modules)
        example = stems[0] if stems else "(no LoRA keys)"
        return f"{FORMAT_DESCRIPTIONS[self.key_format]}: {example}"


def module_stem(key: str) -> tuple[str, str]:
    """Split a LoRA tensor key into (stem, suffix); the suffix is '' for keys of no known LoRA layout."""
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)], suffix
    return key, ""


def module_stems(keys: Iterable[str]) -> set[str]:
    """The distinct module stems of ``keys`` (see ``module_stem``)."""
    return {module_stem(key)[0] for key in keys}


def _undo_underscores(flat: str) -> str:
    """``blocks_0_self_attn_q`` -> ``blocks.0.self_attn.q`` (Wan names that contain underscores are restored)."""
    dotted = flat.replace("_", ".")
    for name in _WAN_COMPOUNDS:
        dotted = re.sub(rf"(?<![^.]){re.escape(name.replace('_', '.'))}(?![^.])", name, dotted)
    return dotted


def stem_format(stem: str, suffixes: set[str]) -> str:
    """The key format of one module (see the module docstring) from its stem and tensor suffixes."""
    if suffixes & {".hada_w1_a", ".lokr_w1", ".lokr_w1_a"} or stem.startswith("lycoris_"):
        return "lycoris"
    if _SDXL_STEM.match(stem):
        return "sdxl"
    if stem.startswith("lora_unet__"):
        return "wan_fun"
    if stem.startswith("lora_unet_"):
        return "musubi"
    if stem.startswith("diffusion_model."):
        return "peft" if suffixes & {".lora_A.weight", ".lora_B.weight"} else "comfy"
    if stem.startswith("transformer."):
        return "diffusers"
    if _WAN_BLOCK.match(stem) or stem.split(".", 1)[0] in _WAN_COMPOUNDS or stem.startswith("head."):
        return "peft_bare"
    return "unknown"


def wan_path(stem: str, key_format: str) -> str | None:
    """The Wan module path of a stem (``blocks.0.self_attn.q``), or None where the format has none."""
    if key_format == "musubi":
        return _undo_underscores(stem.removeprefix("lora_unet_"))
    if key_format == "wan_fun":
        return _undo_underscores(stem.removeprefix("lora_unet__"))
    if key_format == "lycoris" and stem.startswith("lycoris_"):
        return _undo_underscores(stem.removeprefix("lycoris_"))
    if key_format in ("peft", "comfy"):
        return stem.removeprefix("diffusion_model.")
    if key_format == "peft_bare":
        return stem
    if key_format == "diffusers":
        path = stem.removeprefix("transformer.")
        for old, new in _DIFFUSERS_TO_WAN:
            path = path.replace(old, new)
        return path
    return None


def _scalar(value: Any) -> float:
    """A one-element tensor or array (or a number) as a float."""
    return float(value.item()) if hasattr(value, "item") else float(value)


def inspect_lora(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> LoraInfo:
    """Inspect a LoRA state dict.

    Args:
        tensors: key -> tensor (anything with ``.shape``; ``.alpha`` entries also need ``.item()`` or ``float``).
        metadata: the file's string metadata (``safetensors`` header), or None.

    Returns:
        The LoraInfo: format, modules with rank, alpha and Wan path, metadata.

    Raises:
        ValueError: if ``tensors`` is empty.
    """
    if not tensors:
        raise ValueError("the LoRA has no tensors: the file is empty or not a LoRA")
    grouped: dict[str, dict[str, Any]] = {}
    for key, value in tensors.items():
        stem, suffix = module_stem(key)
        grouped.setdefault(stem, {})[suffix] = value
    modules = {}
    for stem, parts in grouped.items():
        key_format = stem_format(stem, set(parts))
        down = next((parts[s] for s in _DOWN_SUFFIXES if s in parts), None)
        rank = int(down.shape[0]) if down is not None and len(down.shape) >= 1 else None
        alpha = _scalar(parts[".alpha"]) if ".alpha" in parts else None
        modules[stem] = LoraModule(stem, key_format, wan_path(stem, key_format), rank, alpha)
    formats = Counter(module.key_format for module in modules.values())
    return LoraInfo(formats.most_common(1)[0][0], modules, dict(metadata or {}))


_WAN21_IMAGE_BRANCH = re.compile(r"^(blocks\.\d+\.cross_attn\.(k_img|v_img|norm_k_img)|img_emb(\..+)?)$")


def wan21_image_branch(stem: str) -> bool:
    """Whether a module stem belongs to Wan2.1 I2V's CLIP-image branch: the image cross-attention of each block
    (``cross_attn.k_img``, ``v_img``, ``norm_k_img``) or the image embedding (``img_emb.*``).

    Wan2.2 experts (I2V A14B, TI2V 5B) and Wan2.1 T2V have no such modules, by design: Wan2.1 I2V LoRAs applied to
    them (users do this on purpose, e.g. lightx2v's) carry these modules, and ComfyUI skips them.
    """
    path = wan_path(stem, stem_format(stem, set()))
    return path is not None and _WAN21_IMAGE_BRANCH.match(path) is not None


@dataclass(frozen=True)
class Coverage:
    """How many of a LoRA's modules a model has a key for.

    Attributes:
        matched: number of module stems the model's LoRA key map contains.
        total: number of module stems in the LoRA.
        unmatched: a few unmatched stems that count (not the ``not_applicable`` ones), sorted, for messages.
        not_applicable: every unmatched stem of a part the model's architecture lacks by design, sorted.
    """

    matched: int
    total: int
    unmatched: tuple[str, ...]
    not_applicable: tuple[str, ...] = ()

    @property
    def applicable(self) -> int:
        """Modules the model could have: ``total`` minus the not-applicable ones."""
        return self.total - len(self.not_applicable)

    @property
    def fraction(self) -> float:
        """``matched / applicable`` (0 when nothing is applicable)."""
        return self.matched / self.applicable if self.applicable else 0.0


def coverage(
    stems: Iterable[str], model_keys: Iterable[str], examples: int = 3,
    lacks_by_design: Callable[[str], bool] | None = None,
) -> Coverage:
    """Match LoRA module stems against a model's LoRA key map (ComfyUI's ``model_lora_keys_unet`` keys).

    Args:
        stems: the LoRA's module stems, after any key conversion the host applies.
        model_keys: the names the host accepts for the model's weights.
        examples: how many unmatched stems to keep.
        lacks_by_design: says which unmatched stems belong to a part the model's architecture does not have (e.g.
            ``wan21_image_branch`` for a Wan2.2 expert); they are counted as not applicable. None: every stem counts.

    Returns:
        The Coverage.
    """
    stem_set = set(stems)
    known = set(model_keys)
    missing = sorted(stem_set - known)
    not_applicable = tuple(stem for stem in missing if lacks_by_design is not None and lacks_by_design(stem))
    unmatched = [stem for stem in missing if stem not in not_applicable]
    return Coverage(len(stem_set) - len(missing), len(stem_set), tuple(unmatched[:examples]), not_applicable)


# The (up, down) tensor names of one low-rank module, as ComfyUI's LoRA adapter reads them (up: (out, rank),
# down: (rank, in, *kernel)).
_UP_DOWN = (
    (".lora_up.weight", ".lora_down.weight"), ("_lora.up.weight", "_lora.down.weight"),
    (".lora_B.weight", ".lora_A.weight"), (".lora.up.weight", ".lora.down.weight"), (".lora_B", ".lora_A"),
    (".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight"),
    (".lora_B.default.weight", ".lora_A.default.weight"), (".hada_w1_a", ".hada_w1_b"),
)
# Tensors that hold a whole weight (or bias) of the model's shape, and whether they patch the bias.
_FULL = ((".diff", False), (".set_weight", False), (".diff_b", True))


@dataclass(frozen=True)
class ShapeMismatch:
    """A LoRA module whose delta does not have the shape of the model weight it patches.

    Attributes:
        stem: the module's stem (as the model's key map names it).
        model_key: the model's weight (or bias) key.
        lora_shape: the shape of the delta the LoRA carries (``(out, in, *kernel)`` for low-rank modules).
        model_shape: the shape of the model's tensor.
    """

    stem: str
    model_key: str
    lora_shape: tuple[int, ...]
    model_shape: tuple[int, ...]


def _low_rank_fits(up_shape: tuple[int, ...], down_shape: tuple[int, ...], weight: tuple[int, ...]) -> bool:
    """ComfyUI's rule: ``up.flatten(1) @ down.flatten(1)`` must reshape to the weight (same rows, same count)."""
    return (len(weight) >= 1 and up_shape[0] == weight[0]
            and math.prod(down_shape[1:]) == math.prod(weight[1:]))


def shape_mismatches(
    tensors: Mapping[str, Any], key_map: Mapping[str, Any], model_shapes: Mapping[str, tuple[int, ...]]
) -> list[ShapeMismatch]:
    """The modules of a LoRA whose deltas do not fit the model's weights, sorted by stem.

    Checked: low-rank modules (up/down pairs in every naming ComfyUI reads, and LoHa's first pair) by ComfyUI's
    rule (up's rows equal the weight's, down's columns times kernel equal the weight's other dimensions), and full
    tensors (``.diff``, ``.set_weight``, ``.diff_b`` for the bias) by exact shape. Modules with a ``lora_mid``,
    ``reshape_weight`` or ``hada_t1`` tensor, LoKr, and stems the key map lacks are not checked.

    Args:
        tensors: the LoRA's tensors after the host's key conversion (anything with ``.shape``).
        key_map: stem -> model weight key, or (key, (dim, start, length)) for a slice of it (ComfyUI's key map).
        model_shapes: model key -> shape.

    Returns:
        One ShapeMismatch per module (and per bias) that does not fit.
    """
    grouped: dict[str, dict[str, Any]] = {}
    for key, value in tensors.items():
        stem, suffix = module_stem(key)
        grouped.setdefault(stem, {})[suffix] = value
    found = []
    for stem in sorted(grouped):
        parts, target = grouped[stem], key_map.get(stem)
        if target is None or parts.keys() & {".lora_mid.weight", ".reshape_weight", ".hada_t1"}:
            continue
        weight_key, offset = (target, None) if isinstance(target, str) else (target[0], target[1])
        if weight_key not in model_shapes:
            continue
        weight_shape = list(model_shapes[weight_key])
        if offset is not None:
            weight_shape[offset[0]] = offset[2]
        weight_shape = tuple(weight_shape)
        pair = next(((parts[up], parts[down]) for up, down in _UP_DOWN if up in parts and down in parts), None)
        if pair is not None:
            up_shape, down_shape = tuple(pair[0].shape), tuple(pair[1].shape)
            if not _low_rank_fits(up_shape, down_shape, weight_shape):
                found.append(ShapeMismatch(stem, weight_key, (up_shape[0], *down_shape[1:]), weight_shape))
        for suffix, is_bias in _FULL:
            if suffix not in parts:
                continue
            key = weight_key.removesuffix(".weight") + ".bias" if is_bias else weight_key
            expected = model_shapes.get(key) if is_bias else weight_shape
            if expected is not None and tuple(parts[suffix].shape) != tuple(expected):
                found.append(ShapeMismatch(stem, key, tuple(parts[suffix].shape), tuple(expected)))
    return found


_HIGH_TOKENS = {"high", "h", "hn", "hi", "highnoise"}
_LOW_TOKENS = {"low", "l", "ln", "lo", "lownoise"}
_NOISE_WORDS = re.compile(r"\b(high|low)[\s_-]*noise\b", re.IGNORECASE)
_HIGH_MIN_TIMESTEP = 875
_LOW_MAX_TIMESTEP = 900


def _name_hints(file_name: str) -> set[str]:
    tokens = set(re.split(r"[^a-z0-9]+", PurePath(file_name).stem.lower()))
    hints = set()
    if tokens & _HIGH_TOKENS:
        hints.add("high")
    if tokens & _LOW_TOKENS:
        hints.add("low")
    return hints


def _metadata_number(metadata: Mapping[str, str], key: str) -> float | None:
    """A numeric metadata entry, or None when absent or not a number."""
    value = metadata.get(key)
    return float(value) if value is not None and re.fullmatch(r"\s*\d+(\.\d*)?\s*", value) else None


def _metadata_hints(metadata: Mapping[str, str]) -> set[str]:
    hints = {match.lower() for value in metadata.values() for match in _NOISE_WORDS.findall(str(value))}
    min_timestep = _metadata_number(metadata, "ss_min_timestep")
    max_timestep = _metadata_number(metadata, "ss_max_timestep")
    if min_timestep is not None and min_timestep >= _HIGH_MIN_TIMESTEP:
        hints.add("high")
    if max_timestep is not None and 0 < max_timestep <= _LOW_MAX_TIMESTEP:
        hints.add("low")
    return hints


def expert_hint(file_name: str, metadata: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """Which Wan2.2 expert a LoRA (or expert file) says it is for, from its file name and metadata.

    Name tokens ``high``/``h``/``hn`` (``circle_rotate_h``, ``..._high_noise``) mean the high-noise expert,
    ``low``/``l``/``ln`` the low-noise one; metadata values that say "high noise"/"low noise", or musubi's
    ``ss_min_timestep >= 875`` / ``ss_max_timestep <= 900``, count too.

    Args:
        file_name: the file name (folders are ignored).
        metadata: the file's string metadata, or None.

    Returns:
        (``"high"``, ``"low"`` or None when there is no hint or the hints disagree, the evidence in words).
    """
    from_name = _name_hints(file_name)
    from_metadata = _metadata_hints(metadata or {})
    hints = from_name | from_metadata
    if len(hints) != 1:
        return None, "no hint" if not hints else "conflicting hints"
    expert = hints.pop()
    where = [label for label, found in (("file name", from_name), ("metadata", from_metadata)) if found]
    return expert, f"its {' and '.join(where)} say{'s' if len(where) == 1 else ''} {expert}-noise"
