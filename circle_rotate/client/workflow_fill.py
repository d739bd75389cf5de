"""Map job fields onto an API-format ComfyUI workflow.

A workflow in API format (ComfyUI's "Export (API)") is ``{node_id: {"class_type", "inputs", "_meta": {"title"}}}``.
A job field is written into one or more *targets* (node id, input name), always replacing a literal value
(never a link). Where a field's targets come from, first rule that gives any wins:

1. ``--map field=node_id.input`` on the command line (repeatable; several for one field set them all).
2. A node title that names fields in brackets: ``"Load first frame [batch: first_image]"`` or
   ``"High sampler [batch: seed, steps_high=steps]"``. ``field=input`` names the input; a bare ``field`` means
   the node's input of that name, else the class's main input (LoadImage ``image``, CLIPTextEncode ``text``,
   KSampler ``seed``, KSamplerAdvanced ``noise_seed``, LoRA loaders ``strength_model``, primitives ``value``),
   else its only literal input.
3. Defaults for our fields, read from the graph:
   - ``first_image`` / ``last_image``: the ``image`` of each LoadImage linked into an input named
     ``start_image``/``first_image``/``first_frame`` (``end_image``/``last_image``/``last_frame``).
   - ``video``: the ``file`` of every LoadVideo.
   - ``prompt`` / ``negative_prompt``: the ``text`` of each node linked into an input named ``positive``
     (``negative``) that has a literal string ``text``.
   - ``subject``, ``direction``, ``shot_size``, ``scene``, ``language``: those literal inputs of each node linked
     into ``positive`` that builds the prompt itself (CircleRotateOrbitPromptEncode).
   - ``seed``: every ``noise_seed``, and every ``seed`` of a node whose class name contains "Sampler".
   - ``lora_high`` / ``lora_low``: ``strength_high`` / ``strength_low`` of a dual-LoRA node (class name with
     "Lora", e.g. CircleRotateDualLora), and ``strength_model`` of each LoRA loader whose ``lora_name`` contains
     "circle" and names the high (``high``, ``_h.``) or low (``low``, ``_l.``) expert; ``lora_strength`` sets all.
4. Any other field: ``node_id.input`` (e.g. ``12.steps``), or the name of a literal input, which sets that
   input on every node that has it (``cfg`` sets both samplers' cfg).

A field whose value is None is *left out*: ``fill`` removes the nodes it writes and every link from them. That is
how a job runs without a last frame; ``FieldMap.omit_blocker`` says whether the workflow allows it.

A field that maps to nothing is an unknown field. A field's type is the type of the literal it replaces. A
field whose targets are all file inputs of loaders (LoadImage ``image``, LoadVideo ``file``, ...) takes a local
path: the file is uploaded (``/upload/image``) and its server name written instead.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
TITLE_MARK = re.compile(r"\[batch:\s*([^\]]*)\]")
MAIN_INPUT = {
    "LoadImage": "image",
    "CLIPTextEncode": "text",
    "KSampler": "seed",
    "KSamplerAdvanced": "noise_seed",
    "LoraLoaderModelOnly": "strength_model",
    "LoraLoader": "strength_model",
    "PrimitiveInt": "value",
    "PrimitiveFloat": "value",
    "PrimitiveString": "value",
    "PrimitiveStringMultiline": "value",
    "PrimitiveBoolean": "value",
}
FIRST_IMAGE_INPUTS = ("start_image", "first_image", "first_frame", "start_frame")
LAST_IMAGE_INPUTS = ("end_image", "last_image", "last_frame", "end_frame")
IMAGE_FIELDS = ("first_image", "last_image")
UPLOAD_INPUTS = {("LoadImage", "image"), ("LoadImageMask", "image"), ("LoadVideo", "file"), ("LoadAudio", "audio")}
"""(class, input) pairs that name a file in the server's input folder: a job gives a local path, uploaded first."""
LORA_FIELDS = ("lora_high", "lora_low", "lora_strength")
ORBIT_PROMPT_INPUTS = ("subject", "direction", "shot_size", "scene", "language")
"""Inputs of a node that builds the orbit prompt itself (CircleRotateOrbitPromptEncode)."""


@dataclass(frozen=True)
class Target:
    """One workflow input a field writes: ``node_id`` and ``input`` name."""

    node_id: str
    input: str

    def __str__(self) -> str:
        return f"{self.node_id}.{self.input}"


def is_link(value: Any) -> bool:
    """True for an API-format link ``[node_id, output_index]``."""
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def load_workflow(path: Path) -> dict[str, Any]:
    """Read an API-format workflow.

    Raises:
        ValueError: not JSON, a UI-format workflow (``nodes``/``links`` lists), or a node without
            ``class_type``/``inputs``; the message says how to export the API format.
    """
    try:
        workflow = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"workflow {str(path)!r} is not JSON: {error}") from error
    if isinstance(workflow, dict) and isinstance(workflow.get("nodes"), list):
        raise ValueError(
            f"workflow {str(path)!r} is in UI format (it has a 'nodes' list): export it with "
            "'Export (API)' in ComfyUI, or use the files in workflows/api/."
        )
    if not isinstance(workflow, dict) or not workflow:
        raise ValueError(f"workflow {str(path)!r} is not an API-format object of nodes")
    for node_id, node in workflow.items():
        if not isinstance(node, dict) or "class_type" not in node or not isinstance(node.get("inputs"), dict):
            raise ValueError(
                f"workflow {str(path)!r}: node {node_id!r} has no 'class_type' and 'inputs': not an API-format workflow"
            )
    return workflow


def parse_map_option(text: str) -> tuple[str, Target]:
    """Parse ``field=node_id.input`` (the ``--map`` option).

    Raises:
        ValueError: the text does not have that form.
    """
    field, _, target = text.partition("=")
    node_id, _, input_name = target.strip().partition(".")
    if not field.strip() or not node_id or not input_name:
        raise ValueError(f"--map {text!r} is not field=node_id.input, e.g. --map seed=12.noise_seed")
    return field.strip(), Target(node_id, input_name)


def _literal(workflow: dict[str, Any], target: Target) -> Any:
    node = workflow.get(target.node_id)
    if node is None:
        raise ValueError(f"target {target}: the workflow has no node {target.node_id!r}")
    if target.input not in node["inputs"]:
        known = ", ".join(sorted(node["inputs"]))
        raise ValueError(f"target {target}: node {target.node_id} ({node['class_type']}) has no input "
                         f"{target.input!r}; its inputs: {known}")
    value = node["inputs"][target.input]
    if is_link(value):
        raise ValueError(f"target {target}: input {target.input!r} of node {target.node_id} is a link, not a value; "
                         "map the field onto the node that produces it")
    return value


def _title_targets(workflow: dict[str, Any]) -> dict[str, list[Target]]:
    targets: dict[str, list[Target]] = {}
    for node_id, node in workflow.items():
        title = (node.get("_meta") or {}).get("title", "")
        for match in TITLE_MARK.finditer(title):
            for item in filter(None, (part.strip() for part in match.group(1).split(","))):
                field, _, input_name = (part.strip() for part in item.partition("="))
                if not input_name:
                    input_name = _main_input(node_id, node, field)
                targets.setdefault(field, []).append(Target(node_id, input_name))
    return targets


def _main_input(node_id: str, node: dict[str, Any], field: str) -> str:
    inputs = node["inputs"]
    if field in inputs:
        return field
    if node["class_type"] in MAIN_INPUT:
        return MAIN_INPUT[node["class_type"]]
    literals = [name for name, value in inputs.items() if not is_link(value)]
    if len(literals) == 1:
        return literals[0]
    raise ValueError(f"node {node_id} ({node['class_type']}) title maps {field!r} but does not say which input: "
                     f"write [batch: {field}=<input>] with one of {', '.join(sorted(literals))}")


def _consumers(workflow: dict[str, Any], input_names: tuple[str, ...]) -> list[str]:
    """Ids of nodes linked into an input named in ``input_names`` of any node."""
    sources = []
    for node in workflow.values():
        for name, value in node["inputs"].items():
            if name in input_names and is_link(value) and value[0] not in sources:
                sources.append(value[0])
    return [source for source in sources if source in workflow]


def _default_targets(workflow: dict[str, Any]) -> dict[str, list[Target]]:
    targets: dict[str, list[Target]] = {}
    for field, names in (("first_image", FIRST_IMAGE_INPUTS), ("last_image", LAST_IMAGE_INPUTS)):
        found = [Target(n, "image") for n in _consumers(workflow, names) if workflow[n]["class_type"] == "LoadImage"]
        if found:
            targets[field] = found
    videos = [Target(n, "file") for n, node in workflow.items()
              if node["class_type"] == "LoadVideo" and isinstance(node["inputs"].get("file"), str)]
    if videos:
        targets["video"] = videos
    for field, names in (("prompt", ("positive",)), ("negative_prompt", ("negative",))):
        found = [Target(n, "text") for n in _consumers(workflow, names)
                 if isinstance(workflow[n]["inputs"].get("text"), str)]
        if found:
            targets[field] = found
    for node_id in _consumers(workflow, ("positive",)):
        inputs = workflow[node_id]["inputs"]
        if isinstance(inputs.get("subject"), str):
            for name in ORBIT_PROMPT_INPUTS:
                if name in inputs and not is_link(inputs[name]):
                    targets.setdefault(name, []).append(Target(node_id, name))
    seeds = []
    for node_id, node in workflow.items():
        inputs = node["inputs"]
        if isinstance(inputs.get("noise_seed"), int):
            seeds.append(Target(node_id, "noise_seed"))
        elif "Sampler" in node["class_type"] and isinstance(inputs.get("seed"), int):
            seeds.append(Target(node_id, "seed"))
    if seeds:
        targets["seed"] = seeds
    for node_id, node in workflow.items():
        for field, input_name in (("lora_high", "strength_high"), ("lora_low", "strength_low")):
            value = node["inputs"].get(input_name)
            if "Lora" in node["class_type"] and isinstance(value, (int, float)) and not isinstance(value, bool):
                targets.setdefault(field, []).append(Target(node_id, input_name))
                targets.setdefault("lora_strength", []).append(Target(node_id, input_name))
        name = str(node["inputs"].get("lora_name", "")).lower()
        strength = node["inputs"].get("strength_model")
        if "circle" not in name or not isinstance(strength, (int, float)) or isinstance(strength, bool):
            continue
        stem = Path(name).stem
        expert = "lora_high" if ("high" in stem or stem.endswith("_h")) else "lora_low" if (
            "low" in stem or stem.endswith("_l")) else None
        if expert:
            targets.setdefault(expert, []).append(Target(node_id, "strength_model"))
        targets.setdefault("lora_strength", []).append(Target(node_id, "strength_model"))
    return targets


class FieldMap:
    """Which workflow inputs each job field writes, and the type each field takes.

    Args:
        workflow: the API-format workflow (not modified).
        overrides: ``--map`` targets per field; they replace every other rule for that field.

    Raises:
        ValueError: a target that names a missing node or input, or a link; a field whose targets hold values
            of different types.
    """

    def __init__(self, workflow: dict[str, Any], overrides: dict[str, list[Target]] | None = None) -> None:
        self.workflow = workflow
        self.targets: dict[str, list[Target]] = {**_default_targets(workflow), **_title_targets(workflow)}
        self.targets.update(overrides or {})
        self.sources = {field: "map" for field in overrides or {}}
        for field, targets in self.targets.items():
            self._check(field, targets)

    def _check(self, field: str, targets: list[Target]) -> type:
        kinds = {_kind(_literal(self.workflow, target)) for target in targets}
        if kinds == {int, float}:
            return float
        if len(kinds) != 1:
            raise ValueError(f"field {field!r} maps onto inputs of different types "
                             f"({', '.join(str(t) for t in targets)}): map it onto inputs of one type")
        return kinds.pop()

    def resolve(self, field: str) -> list[Target]:
        """The targets of ``field`` (rules 1-4 above); an empty list when it maps to nothing."""
        if field in self.targets:
            return self.targets[field]
        node_id, dot, input_name = field.partition(".")
        if dot and node_id in self.workflow:
            target = Target(node_id, input_name)
            _literal(self.workflow, target)  # raises with the reason
            return [target]
        return [Target(n, field) for n, node in self.workflow.items()
                if field in node["inputs"] and not is_link(node["inputs"][field])]

    def kind(self, field: str) -> type:
        """The Python type a value of ``field`` must have (int, float, bool or str)."""
        return self._check(field, self.resolve(field))

    def is_upload(self, field: str) -> bool:
        """True when every target of ``field`` is a loader's file input (the job gives a local path to upload)."""
        targets = self.resolve(field)
        return bool(targets) and all(
            (self.workflow[t.node_id]["class_type"], t.input) in UPLOAD_INPUTS for t in targets)

    def current(self, field: str) -> Any:
        """The workflow's own value of ``field`` (its first target's literal)."""
        return _literal(self.workflow, self.resolve(field)[0])

    def omit_blocker(self, field: str) -> str | None:
        """Why ``field`` cannot be left out of the workflow (a job value of None), or None when it can.

        It can when every target is a loader's file input (LoadImage ``image``, ...) and every link out of those
        loaders lands in a last-frame input (``end_image``, ``last_image``, ``last_frame``, ``end_frame``), which
        ComfyUI's Wan nodes and the pack's nodes declare optional; any other consumer needs the image.
        """
        targets = self.resolve(field)
        if not targets:
            return "the workflow has no input for it"
        for target in targets:
            class_type = self.workflow[target.node_id]["class_type"]
            if (class_type, target.input) not in UPLOAD_INPUTS:
                return f"it writes {target} ({class_type}), which is not an image loader that can be removed"
        loaders = {target.node_id for target in targets}
        for node_id, node in self.workflow.items():
            for name, value in node["inputs"].items():
                if is_link(value) and value[0] in loaders and name not in LAST_IMAGE_INPUTS:
                    return (f"node {node_id} ({node['class_type']}) takes it in input {name!r}, which is not an "
                            f"optional last-frame input ({', '.join(LAST_IMAGE_INPUTS)})")
        return None

    def describe(self) -> dict[str, list[str]]:
        """Field -> ["node_id.input", ...] for the fields rules 1-3 give (for ``--show-map`` and errors)."""
        return {field: [str(t) for t in targets] for field, targets in sorted(self.targets.items())}


def _kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, (int, float, str)):
        return type(value)
    raise ValueError(f"value {value!r} is neither a number, a string nor a boolean")


def fill(workflow: dict[str, Any], field_map: FieldMap, values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``workflow`` with each field's value written into its targets (the input is not modified).

    A value of None leaves the field out: the nodes it writes are removed, with every input linked to them
    (check ``field_map.omit_blocker(field)`` first; the jobs reader does).
    """
    filled = copy.deepcopy(workflow)
    omitted = set()
    for field, value in values.items():
        for target in field_map.resolve(field):
            if value is None:
                omitted.add(target.node_id)
            else:
                filled[target.node_id]["inputs"][target.input] = value
    for node_id in omitted:
        del filled[node_id]
    for node in filled.values():
        for name in [name for name, value in node["inputs"].items() if is_link(value) and value[0] in omitted]:
            del node["inputs"][name]
    return filled
