"""Orbit prompt templates."""

import pytest

from circle_rotate.prompts import orbit_prompt


def test_chinese_prompt_reproduces_the_dataset_caption_style() -> None:
    assert orbit_prompt("汽车", "left_right", "medium", "建筑外景", "zh") == "汽车侧面静态展示，镜头环绕左右, 中景,场景是建筑外景"


def test_english_prompt_names_direction_and_shot() -> None:
    assert orbit_prompt("a car", "right", "wide", "", "en") == "A car, static side view, camera smoothly orbits right, wide shot"
    assert orbit_prompt("a car", "left", "close_up", "a street", "en").endswith("orbits left, close-up shot, the scene is a street")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subject": "  "}, "subject is empty"),
        ({"subject": "a car", "direction": "up"}, "direction 'up'"),
        ({"subject": "a car", "language": "fr"}, "language 'fr'"),
    ],
)
def test_bad_values_are_rejected_naming_the_argument(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        orbit_prompt(**kwargs)
