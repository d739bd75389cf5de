"""``circle-rotate``: the command-line entry point.

Sub-commands live in ``circle_rotate/commands/<name>.py``; each module defines ``add_parser(subparsers)``,
which registers its parser and sets ``run`` (a function ``(args) -> int`` exit code) as a default. Command
modules keep their heavy imports inside ``run`` so ``circle-rotate --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from . import __version__

COMMANDS = ("eval", "models", "batch")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circle-rotate",
        description="Evaluate orbit-camera videos, manage the model files, and queue batches on ComfyUI servers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__package__}.commands.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
