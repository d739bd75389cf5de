"""``circle-rotate models download|check|list``: fetch, verify and list the model files of models/README.md.

    circle-rotate models download [--what generation|metrics|all] [--comfyui PATH | --models-dir DIR]
    circle-rotate models check    [--what ...] [--comfyui PATH | --models-dir DIR] [--no-hash]
    circle-rotate models list     [--what ...]

Folder: --models-dir, else --comfyui PATH/models, else the folders eval uses ($CIRCLE_ROTATE_MODELS_DIR, else
$COMFYUI_PATH/models). ``check`` with none of them reports every file missing; ``download`` needs one.

Exit codes: 0 when every selected file is present (download: present or downloaded and verified); 1 when any
download failed (check: any file missing, partial or corrupt); 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

WHAT_CHOICES = ("generation", "metrics", "all")


def add_parser(subparsers: Any) -> None:
    """Register ``models`` and its sub-commands; sets ``run``."""
    parser = subparsers.add_parser(
        "models", help="download, check or list the model files",
        description="Download the Hub-hosted model files (Wan2.2 experts, LoRAs, VAE, text encoder, metric weights) "
        "into the right ComfyUI folders, check what is present, or list them.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("download", "download the missing files (resumes .part files, verifies size/sha256)"),
        ("check", "list present / missing / partial / corrupt files"),
        ("list", "list every file with its folder, size, licence and URL"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("--what", choices=WHAT_CHOICES, default="all", help="which group of files (default all)")
        if name != "list":
            action.add_argument("--comfyui", metavar="PATH", help="a ComfyUI checkout; files go to PATH/models/<folder>")
            action.add_argument(
                "--models-dir", metavar="DIR",
                help="a ComfyUI models folder (overrides --comfyui); default $CIRCLE_ROTATE_MODELS_DIR, else "
                "$COMFYUI_PATH/models, as eval",
            )
        if name == "download":
            action.add_argument("--token", help="Hugging Face token (default: HF_TOKEN / the saved login)")
        if name == "check":
            action.add_argument("--no-hash", action="store_true", help="skip sha256 checks (sizes are still checked)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; returns the exit code (module doc)."""
    from .. import download, weights

    files = weights.entries(args.what)
    if args.action == "list":
        for entry in files:
            sha = entry.sha256 or (f"{entry.sha256_prefix}... (prefix only)" if entry.sha256_prefix else "unverified")
            print(f"{entry.folder}/{entry.name}\t{entry.approx_size}\t{entry.licence}\t{entry.url}\tsha256 {sha}")
        return 0
    nowhere = args.action == "check" and args.comfyui is None and args.models_dir is None and weights.default_models_dir() is None
    try:
        models_dir = None if nowhere else download.models_dir_from(args.comfyui, args.models_dir)
    except ValueError as error:
        print(f"circle-rotate models {args.action}: {error}", file=sys.stderr)
        return 2
    if args.action == "check":
        results = download.check(files, models_dir, hashes=not args.no_hash)
        if models_dir is None:
            print(f"circle-rotate models check: {download.NO_FOLDER}; every file counts as missing", file=sys.stderr)
        for result in results if models_dir is not None else []:
            _print(result)
        bad = [result for result in results if result.status != "present"]
        print(f"{len(results) - len(bad)} of {len(results)} files present in {models_dir or 'no folder'}")
        return 1 if bad else 0
    print(f"downloading {len(files)} files ({args.what}) into {models_dir}")
    results = download.download(files, models_dir, token=args.token, report=_print)
    failed = [result for result in results if result.status == "failed"]
    print(f"{len(results) - len(failed)} of {len(results)} files ready, {len(failed)} failed")
    return 1 if failed else 0


def _print(result: Any) -> None:
    line = f"{result.status:10s} {result.path}"
    if result.message:
        line += f"  ({result.message})"
    print(line, file=sys.stderr if result.status in ("failed", "missing", "partial", "corrupt") else sys.stdout)
