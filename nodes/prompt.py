"""Orbit prompt nodes: the dataset's caption style in English or Chinese, as text or encoded with a CLIP."""

from __future__ import annotations

from comfy_api.latest import io

from ..circle_rotate.prompts import DIRECTIONS, LANGUAGES, SHOT_SIZES, orbit_prompt

CATEGORY = "CircleRotate/conditioning"


def _prompt_inputs() -> list[io.Input]:
    return [
        io.String.Input(
            "subject",
            default="a car",
            tooltip="What the camera circles, e.g. 'a car' (English) or '汽车' (Chinese). Must not be empty.",
        ),
        io.Combo.Input(
            "direction",
            options=list(DIRECTIONS),
            default="left",
            tooltip="Orbit direction. left: the camera travels to its own left around the subject. "
            "left_right: the dataset's '环绕左右' caption, leaving the direction to the model.",
        ),
        io.Combo.Input(
            "shot_size",
            options=list(SHOT_SIZES),
            default="medium",
            tooltip="Shot size: close_up (特写), medium (中景) or wide (远景).",
        ),
        io.String.Input(
            "scene",
            default="",
            tooltip="Optional scene description, e.g. 'a building exterior' / '建筑外景'. Leave empty to omit.",
        ),
        io.Combo.Input(
            "language",
            options=list(LANGUAGES),
            default="en",
            tooltip="en: 'A car, static side view, camera smoothly orbits left, medium shot'. "
            "zh: the Circle-Rotate dataset caption style '汽车侧面静态展示，镜头向左环绕, 中景'.",
        ),
    ]


def _build(subject: str, direction: str, shot_size: str, scene: str, language: str) -> str:
    try:
        return orbit_prompt(subject, direction, shot_size, scene, language)
    except ValueError as error:
        raise ValueError(f"Orbit Prompt: {error}") from None


class OrbitPrompt(io.ComfyNode):
    """Builds an orbit-camera prompt in the Circle-Rotate caption style."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateOrbitPrompt",
            display_name="Orbit Prompt (Circle Rotate)",
            category=CATEGORY,
            description="Builds an orbit-camera prompt from subject, direction, shot size and scene, in English or "
            "in the Chinese caption style of the Circle-Rotate training data. Feed it to a text encoder, or use "
            "'Orbit Prompt Encode' to encode it directly.",
            inputs=_prompt_inputs(),
            outputs=[io.String.Output("prompt", tooltip="The prompt text.")],
        )

    @classmethod
    def execute(cls, subject: str, direction: str, shot_size: str, scene: str, language: str) -> io.NodeOutput:
        return io.NodeOutput(_build(subject, direction, shot_size, scene, language))


class OrbitPromptEncode(io.ComfyNode):
    """Builds an orbit-camera prompt and encodes it with a text encoder (CLIPLoader type wan: UMT5-XXL)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CircleRotateOrbitPromptEncode",
            display_name="Orbit Prompt Encode (Circle Rotate)",
            category=CATEGORY,
            description="Builds an orbit-camera prompt (as 'Orbit Prompt') and encodes it with the connected text "
            "encoder, exactly as CLIPTextEncode would. Outputs the positive conditioning and the prompt text.",
            inputs=[
                io.Clip.Input("clip", tooltip="Text encoder from CLIPLoader (type wan, umt5_xxl) used to encode the prompt."),
                *_prompt_inputs(),
            ],
            outputs=[
                io.Conditioning.Output("positive", tooltip="The encoded prompt, as CLIPTextEncode gives it."),
                io.String.Output("prompt", tooltip="The prompt text that was encoded."),
            ],
        )

    @classmethod
    def execute(
        cls, clip: io.Clip.Type, subject: str, direction: str, shot_size: str, scene: str, language: str
    ) -> io.NodeOutput:
        if clip is None:
            raise ValueError("Orbit Prompt Encode: the clip input is empty. Connect a CLIPLoader (type wan).")
        text = _build(subject, direction, shot_size, scene, language)
        conditioning = clip.encode_from_tokens_scheduled(clip.tokenize(text))
        return io.NodeOutput(conditioning, text)


NODES: list[type[io.ComfyNode]] = [OrbitPrompt, OrbitPromptEncode]
