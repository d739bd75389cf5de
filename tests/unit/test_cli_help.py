"""``circle-rotate ... --help`` and ``batch --show-map``: the help says what the code does, readably."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from circle_rotate.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_batch_help_shows_real_defaults_only(capsys):
    text = _help(capsys, "batch")
    assert "(default: None)" not in text and "(default: False)" not in text and "(default: [])" not in text
    assert "(default: 3)" in text  # --max-attempts keeps its default


def _parser(argv: list[str]):
    from circle_rotate.cli import build_parser

    parser = build_parser()
    for name in argv:
        parser = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices[name]
    return parser


@pytest.mark.parametrize("argv", [["eval"], ["batch"], ["models", "download"], ["models", "check"]])
def test_help_never_cuts_a_word(monkeypatch, capsys, argv):
    monkeypatch.setenv("COLUMNS", "50")
    text = _help(capsys, *argv)
    rendered = set(re.split(r"\s+", text))
    written = " ".join(action.help or "" for action in _parser(argv)._actions)
    for word in re.split(r"\s+", written):
        if len(word) >= 10 and "%" not in word:
            assert word in rendered, f"{word!r} is cut in the help"


def test_show_map_lists_the_readme_fields_of_the_paper_preset(capsys):
    workflow = ROOT / "workflows" / "api" / "circle_rotate_paper_preset.json"
    code = main(["batch", "jobs.csv", "--workflow", str(workflow), "--server", "http://127.0.0.1:1", "--out", "unused", "--show-map"])
    assert code == 0
    fields = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert fields["subject"] == "7.subject" and fields["direction"] == "7.direction"
    assert fields["prompt"].startswith("no input in this workflow") and "subject, direction" in fields["prompt"]
    assert fields["first_image"] == "5.image" and fields["last_image"] == "6.image" and fields["seed"] == "10.seed"
