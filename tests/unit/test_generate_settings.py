"""Constructor settings of ``CircleRotateInference`` written into the workflow (``generation.settings``)."""

from __future__ import annotations

import json

import pytest

from circle_rotate.generation import settings


@pytest.fixture
def paper() -> dict:
    return json.loads(settings.PAPER_PRESET.read_text(encoding="utf-8"))


def test_documented_defaults_are_the_paper_presets_values(paper) -> None:
    sampler, conditioning, loras = paper["10"]["inputs"], paper["9"]["inputs"], paper["2"]["inputs"]
    found = {
        "model_high": paper["1"]["inputs"]["high_noise_model"], "model_low": paper["1"]["inputs"]["low_noise_model"],
        "lora_high": loras["lora_high"], "lora_low": loras["lora_low"], "vae": paper["3"]["inputs"]["vae_name"],
        "text_encoder": paper["4"]["inputs"]["clip_name"], "seed": sampler["seed"], "steps": sampler["steps"],
        "cfg": sampler["cfg_high"], "shift": sampler["shift"], "handover": sampler["handover_step"],
        "width": conditioning["width"], "height": conditioning["height"], "length": conditioning["length"],
        "fps": paper["12"]["inputs"]["fps"], "lora_strength": loras["strength_high"],
    }
    assert found == settings.PAPER_DEFAULTS
    assert sampler["cfg_low"] == sampler["cfg_high"] and loras["strength_low"] == loras["strength_high"]
    assert sampler["handover"] == "step"
    # FACTS.md: 4 steps split 2/2, cfg 1.6, shift 8, 81 frames at 16 fps
    assert (found["steps"], found["handover"], found["cfg"], found["shift"], found["length"], found["fps"]) == (
        4, 2, 1.6, 8.0, 81, 16.0)


def test_settings_write_every_input_they_name(paper) -> None:
    filled = settings.apply(paper, {"cfg": 2, "width": 832, "lora_strength": 0.5, "model_high": "h.safetensors",
                                    "steps": None}, {"seed": 5})
    assert (filled["10"]["inputs"]["cfg_high"], filled["10"]["inputs"]["cfg_low"]) == (2.0, 2.0)
    assert filled["9"]["inputs"]["width"] == 832
    assert (filled["2"]["inputs"]["strength_high"], filled["2"]["inputs"]["strength_low"]) == (0.5, 0.5)
    assert filled["1"]["inputs"]["high_noise_model"] == "h.safetensors"
    assert filled["10"]["inputs"]["seed"] == 5 and filled["10"]["inputs"]["steps"] == 4
    assert paper["9"]["inputs"]["width"] == 1280


def test_handover_is_a_step_or_a_sigma_boundary(paper) -> None:
    assert settings.handover_fields(3) == {"handover": "step", "handover_step": 3}
    assert settings.handover_fields(0.875) == {"handover": "sigma_boundary", "boundary": 0.875}
    filled = settings.apply(paper, settings.handover_fields(0.9), {})
    assert (filled["10"]["inputs"]["handover"], filled["10"]["inputs"]["boundary"]) == ("sigma_boundary", 0.9)
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError, match="handover"):
            settings.handover_fields(bad)


def test_a_setting_without_an_input_is_named(paper) -> None:
    del paper["4"]
    with pytest.raises(ValueError, match=r"text_encoder='t5\.safetensors': the workflow has no input for it "
                       r"\(looked for CLIPLoader\.clip_name\)"):
        settings.apply(paper, {"text_encoder": "t5.safetensors"}, {})


def test_a_value_of_the_wrong_type_is_named(paper) -> None:
    with pytest.raises(ValueError, match=r"width: 'wide' is not an integer"):
        settings.apply(paper, {"width": "wide"}, {})
    with pytest.raises(ValueError, match=r"colour='red': the workflow has no input for it"):
        settings.apply(paper, {}, {"colour": "red"})
