"""Orbit prompts in the style of the Circle-Rotate dataset captions, in English and Chinese.

The dataset captions (see the original project's README and workflow) read like
"汽车侧面静态展示，镜头环绕左右, 中景,场景是建筑外景" ("car, static side view, the camera circles left and
right, medium shot, the scene is a building exterior"); its English examples read like
"A car, camera smoothly orbits left". ``orbit_prompt`` builds either style from the same four fields so a
batch can switch language without rewriting prompts.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["left", "right", "left_right"]
ShotSize = Literal["close_up", "medium", "wide"]
Language = Literal["en", "zh"]

DIRECTIONS: tuple[str, ...] = ("left", "right", "left_right")
SHOT_SIZES: tuple[str, ...] = ("close_up", "medium", "wide")
LANGUAGES: tuple[str, ...] = ("en", "zh")

_EN_DIRECTION = {
    "left": "camera smoothly orbits left",
    "right": "camera smoothly orbits right",
    "left_right": "camera smoothly orbits left and right",
}
_ZH_DIRECTION = {"left": "镜头向左环绕", "right": "镜头向右环绕", "left_right": "镜头环绕左右"}
_EN_SHOT = {"close_up": "close-up shot", "medium": "medium shot", "wide": "wide shot"}
_ZH_SHOT = {"close_up": "特写", "medium": "中景", "wide": "远景"}


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(choices)}: pick one of those.")


def orbit_prompt(
    subject: str,
    direction: Direction = "left",
    shot_size: ShotSize = "medium",
    scene: str = "",
    language: Language = "en",
) -> str:
    """Build an orbit-camera prompt.

    Args:
        subject: what the camera circles, e.g. "a car" / "汽车". Must not be empty.
        direction: "left" (the camera travels to its own left around the subject), "right", or
            "left_right" (the dataset's "环绕左右" caption, direction left to the model).
        shot_size: "close_up", "medium" or "wide".
        scene: optional scene description, e.g. "a building exterior" / "建筑外景".
        language: "en" or "zh" (the dataset's caption style).

    Returns:
        The prompt text. English: "A car, static side view, camera smoothly orbits left, medium shot,
        the scene is a building exterior". Chinese: "汽车侧面静态展示，镜头向左环绕, 中景,场景是建筑外景"
        (the dataset's punctuation, including its mixed full-width and ASCII commas).

    Raises:
        ValueError: empty subject or a value outside the listed choices, naming the argument.
    """
    subject = subject.strip()
    if not subject:
        raise ValueError("subject is empty: name what the camera orbits, e.g. 'a car' or '汽车'.")
    _check_choice("direction", direction, DIRECTIONS)
    _check_choice("shot_size", shot_size, SHOT_SIZES)
    _check_choice("language", language, LANGUAGES)
    scene = scene.strip()
    if language == "zh":
        text = f"{subject}侧面静态展示，{_ZH_DIRECTION[direction]}, {_ZH_SHOT[shot_size]}"
        return f"{text},场景是{scene}" if scene else text
    text = f"{subject[0].upper()}{subject[1:]}, static side view, {_EN_DIRECTION[direction]}, {_EN_SHOT[shot_size]}"
    return f"{text}, the scene is {scene}" if scene else text
