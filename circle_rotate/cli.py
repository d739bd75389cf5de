"""``circle-rotate``: the command-line entry point.

Sub-commands live in ``circle_rotate/commands/<name>.py``; each module defines ``add_parser(subparsers)``,
which registers its parser and sets ``run`` (a function ``(args) -> int`` exit code) as a default. Command
modules keep their heavy imports inside ``run`` so ``circle-rotate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from collections.abc import Sequence

from . import __version__

COMMANDS = ("eval", "models", "batch", "samples", "study", "generate", "dataset")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, wrapping help only between words: a long name (a file name, a comma-separated list)
    moves to the next line whole instead of being cut mid-word."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(self._whitespace_matcher.sub(" ", text).strip(), width, break_long_words=False, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            self._whitespace_matcher.sub(" ", text).strip(), width, initial_indent=indent, subsequent_indent=indent,
            break_long_words=False, break_on_hyphens=False,
        )


class DefaultsHelpFormatter(HelpFormatter):
    """:class:`HelpFormatter` that appends "(default: X)" to an option's help, but only where there is a default
    to show: not for required options, flags, None or empty defaults, or help that already names its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.required
            or default in (None, False, [], argparse.SUPPRESS)
            or action.nargs == 0
            or "default" in text
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def _use_formatter(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and its sub-parsers (at any depth) :class:`HelpFormatter` where they use argparse's plain one."""
    if parser.formatter_class is argparse.HelpFormatter:
        parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _use_formatter(child)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circle-rotate",
        formatter_class=HelpFormatter,
        description="Evaluate orbit-camera videos, manage the model files, and queue batches on ComfyUI servers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__package__}.commands.{name}")
        module.add_parser(subparsers)
    _use_formatter(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
