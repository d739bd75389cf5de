"""Edits of an API-format workflow for one generation: where the frames come from, what runs, which files it loads.

All functions are pure: they take a workflow dict (``{node_id: {"class_type", "inputs", "_meta"}}``) and return
a new one or facts about it; none modifies its input. Nothing here imports ComfyUI.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..client.workflow_fill import LAST_IMAGE_INPUTS, is_link

CAPTURE_NODE = "circle_rotate_frames"
"""Id of the PreviewImage node added on the decoded frames: its PNGs (8-bit, lossless) are the result's frames."""

MODEL_INPUTS: dict[tuple[str, str], str] = {
    ("CircleRotateLoadExperts", "high_noise_model"): "diffusion_models",
    ("CircleRotateLoadExperts", "low_noise_model"): "diffusion_models",
    ("UNETLoader", "unet_name"): "diffusion_models",
    ("CircleRotateDualLora", "lora_high"): "loras",
    ("CircleRotateDualLora", "lora_low"): "loras",
    ("CircleRotateDualLora", "extra_lora_high"): "loras",
    ("CircleRotateDualLora", "extra_lora_low"): "loras",
    ("LoraLoaderModelOnly", "lora_name"): "loras",
    ("LoraLoader", "lora_name"): "loras",
    ("VAELoader", "vae_name"): "vae",
    ("CLIPLoader", "clip_name"): "text_encoders",
}
"""(class, input) -> ComfyUI model folder, for every loader input of our workflows that names a model file."""


@dataclass(frozen=True)
class ModelRef:
    """A model file a workflow loads: the node, its input, the ComfyUI folder and the file name."""

    node_id: str
    class_type: str
    input: str
    folder: str
    name: str


def frame_source(workflow: dict[str, Any]) -> list:
    """The link ``[node_id, output]`` of the decoded video frames (IMAGE).

    The ``images`` input of the workflow's CreateVideo node, else the output of its only VAEDecode node.

    Raises:
        ValueError: no such node, or several different ones (e.g. the A/B workflow, which makes two videos).
    """
    sources = {tuple(node["inputs"]["images"]) for node in workflow.values()
               if node["class_type"] == "CreateVideo" and is_link(node["inputs"].get("images"))}
    if not sources:
        sources = {(node_id, 0) for node_id, node in workflow.items() if node["class_type"] == "VAEDecode"}
    if len(sources) == 1:
        node_id, output = sources.pop()
        return [node_id, output]
    if not sources:
        raise ValueError("the workflow makes no video (no CreateVideo or VAEDecode node): give a generation "
                         "workflow, e.g. workflows/api/circle_rotate_paper_preset.json")
    raise ValueError(f"the workflow makes {len(sources)} videos (frames from nodes "
                     f"{', '.join(sorted(s[0] for s in sources))}): generate takes a workflow with one video")


def ancestors(workflow: dict[str, Any], roots: list[str]) -> set[str]:
    """Ids of ``roots`` and every node they depend on through links."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        stack.extend(value[0] for value in workflow[node_id]["inputs"].values() if is_link(value))
    return seen


def capture_graph(workflow: dict[str, Any]) -> dict[str, Any]:
    """The nodes needed for the frames plus a PreviewImage (``CAPTURE_NODE``) on them; nothing else runs.

    SaveVideo, metric and report nodes are left out: ``generate`` writes the video and evaluates the frames itself.
    """
    source = frame_source(workflow)
    needed = ancestors(workflow, [source[0]])
    graph = {node_id: copy.deepcopy(node) for node_id, node in workflow.items() if node_id in needed}
    graph[CAPTURE_NODE] = {"class_type": "PreviewImage", "inputs": {"images": source},
                           "_meta": {"title": "Frames (circle_rotate.generate)"}}
    return graph


def drop_last_image(workflow: dict[str, Any]) -> dict[str, Any]:
    """A copy without the last-frame image: every link into an end/last image input is removed, then unused
    LoadImage nodes. The conditioning nodes take the last frame as an optional input."""
    graph = copy.deepcopy(workflow)
    for node in graph.values():
        for name in LAST_IMAGE_INPUTS:
            if is_link(node["inputs"].get(name)):
                del node["inputs"][name]
    used = {value[0] for node in graph.values() for value in node["inputs"].values() if is_link(value)}
    return {node_id: node for node_id, node in graph.items()
            if node["class_type"] != "LoadImage" or node_id in used or node_id == CAPTURE_NODE}


def replace_prompt_encoder(workflow: dict[str, Any], text: str) -> dict[str, Any]:
    """A copy where each CircleRotateOrbitPromptEncode feeding ``positive`` becomes CLIPTextEncode of ``text``
    on the same text encoder (the orbit node encodes exactly as CLIPTextEncode does).

    Raises:
        ValueError: there is no such node, or something uses its text output (output 1).
    """
    graph = copy.deepcopy(workflow)
    encoders = {value[0] for node in graph.values() for name, value in node["inputs"].items()
                if name == "positive" and is_link(value)
                and graph.get(value[0], {}).get("class_type") == "CircleRotateOrbitPromptEncode"}
    if not encoders:
        raise ValueError("prompt: the workflow has no text prompt input (no CLIPTextEncode or Orbit Prompt Encode "
                         "linked into 'positive'); give subject= and direction= if it takes those, or another workflow")
    for node in graph.values():
        for name, value in node["inputs"].items():
            if is_link(value) and value[0] in encoders and value[1] != 0:
                raise ValueError(f"prompt: input {name!r} of a {node['class_type']} node uses the orbit prompt's "
                                 "text output; give subject= and direction= instead of prompt=")
    for node_id in encoders:
        clip = graph[node_id]["inputs"]["clip"]
        graph[node_id] = {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": clip},
                          "_meta": {"title": "Positive prompt (circle_rotate.generate)"}}
    return graph


def model_refs(workflow: dict[str, Any]) -> list[ModelRef]:
    """Every model file the workflow's loaders name (``MODEL_INPUTS``), "None" choices left out."""
    refs = []
    for node_id, node in workflow.items():
        for name, value in node["inputs"].items():
            folder = MODEL_INPUTS.get((node["class_type"], name))
            if folder and isinstance(value, str) and value != "None":
                refs.append(ModelRef(node_id, node["class_type"], name, folder, value))
    return refs
