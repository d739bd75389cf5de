"""``circle-rotate samples [--comfyui PATH | --input-dir DIR] [--force]``: put the workflows' sample inputs (first
and last frame, an orbit video; ``circle_rotate/samples/inputs/``) into ComfyUI's input folder.

Exit codes: 0 when every sample is in place; 1 when a different file already has a sample's name (kept; use
--force to replace it); 2 for a bad argument or an unwritable folder.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register ``samples`` on the CLI's sub-parsers and set its ``run``."""
    parser = subparsers.add_parser(
        "samples", help="copy the workflows' sample inputs into ComfyUI's input folder",
        description="Copy the sample first/last frames and orbit video that the pack's workflows name into ComfyUI's "
        "input folder. Without --comfyui or --input-dir: $COMFYUI_PATH, else the ComfyUI this pack is installed in.",
    )
    parser.add_argument("--comfyui", metavar="PATH", help="a ComfyUI checkout; files go to PATH/input")
    parser.add_argument("--input-dir", metavar="DIR", help="ComfyUI's input folder (overrides --comfyui)")
    parser.add_argument("--force", action="store_true", help="replace a different file that has a sample's name")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Copy the samples; returns the exit code (module doc)."""
    from ..sample_inputs import copy_samples, input_dir_from

    try:
        target = input_dir_from(args.comfyui, args.input_dir)
        results = copy_samples(target, force=args.force)
    except (ValueError, OSError) as error:
        print(f"circle-rotate samples: {error}", file=sys.stderr)
        return 2
    for path, status in results:
        if status == "kept":
            print(f"kept {path}: a different file has this name (--force replaces it)", file=sys.stderr)
        else:
            print(f"{status} {path}")
    return 1 if any(status == "kept" for _, status in results) else 0
