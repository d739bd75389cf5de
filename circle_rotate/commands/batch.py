"""``circle-rotate batch JOBS --workflow W.json --server URL [--server URL ...] --out DIR``.

Runs every row of JOBS (CSV or JSONL) through the API-format workflow on the servers, resumably; see
``circle_rotate.client`` for the job fields, the mapping rules and the result files. Exit status: 0 when every
job is done, 1 when some failed or rows were skipped, 2 when the batch could not start, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..cli import DefaultsHelpFormatter


JOB_FIELDS = ("first_image", "last_image", "prompt", "subject", "direction", "seed", "lora_high", "lora_low")
"""The job fields the README names; ``--show-map`` also lists those the workflow has no input for."""


def add_parser(subparsers: Any) -> None:
    """Register ``batch`` on the CLI's sub-parsers and set its ``run``."""
    parser = subparsers.add_parser(
        "batch",
        help="queue many jobs on ComfyUI servers and collect their outputs and metrics",
        description="Run each row of JOBS (CSV or JSONL) through an API-format workflow on one or more ComfyUI "
        "servers. Re-running the same command resumes: finished jobs are never run again.",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("jobs", type=Path, help="jobs file (.csv or .jsonl), one job per row")
    parser.add_argument("--workflow", type=Path, required=True, help="API-format workflow (workflows/api/*.json)")
    parser.add_argument("--server", action="append", required=True, metavar="URL",
                        help="ComfyUI server URL; repeat for several servers")
    parser.add_argument("--out", type=Path, required=True, help="output folder (state file, outputs, results)")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=NODE.INPUT",
                        help="write FIELD into input INPUT of node NODE; repeat for several targets")
    parser.add_argument("--max-attempts", type=int, default=3, help="tries per job when a server fails")
    parser.add_argument("--job-timeout", type=float, default=3600.0, help="seconds one job may run")
    parser.add_argument("--server-wait", type=float, default=300.0,
                        help="seconds to wait for an unreachable server before giving up on it")
    parser.add_argument("--per-server", type=int, default=1, help="jobs run at once on each server")
    parser.add_argument("--show-map", action="store_true",
                        help="print which workflow inputs each job field writes (and the README's job fields this "
                        "workflow has no input for), and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the batch described by ``args``; returns the exit status."""
    from ..client import BatchOptions, BatchRunner, FieldMap, load_workflow, parse_jobs, parse_map_option

    try:
        workflow = load_workflow(args.workflow)
        overrides: dict[str, list] = {}
        for text in args.map:
            name, target = parse_map_option(text)
            overrides.setdefault(name, []).append(target)
        field_map = FieldMap(workflow, overrides)
        if args.show_map:
            described = field_map.describe()
            for name, targets in described.items():
                print(f"{name}: {', '.join(targets)}")
            for name in JOB_FIELDS:
                if name not in described and not field_map.resolve(name):
                    instead = " (it builds the prompt: give subject, direction, ...)" if name == "prompt" and field_map.resolve("subject") else ""
                    print(f"{name}: no input in this workflow{instead}")
            return 0
        jobs, errors = parse_jobs(args.jobs, field_map)
        if args.max_attempts < 1 or args.per_server < 1:
            raise ValueError("--max-attempts and --per-server must be at least 1")
        options = BatchOptions(args.max_attempts, args.job_timeout, args.server_wait, args.per_server)
        runner = BatchRunner(workflow, field_map, args.server, args.out, options, progress=not args.no_progress)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"circle-rotate batch: {error}", file=sys.stderr)
        return 2
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)
    try:
        runner.submit(jobs)
        summary = runner.wait()
        files = runner.write_results([{"line": e.line, "field": e.field, "error": e.message} for e in errors])
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume (finished jobs are kept)", file=sys.stderr)
        return 130
    finally:
        runner.close()
    print(f"done {len(summary.done) + len(summary.already_done)} ({len(summary.done)} this run, "
          f"{len(summary.already_done)} before), failed {len(summary.failed)}, skipped {len(errors)}")
    for job_id, reason in summary.failed.items():
        print(f"failed {job_id}: {reason}")
    for error in errors:
        print(f"skipped {error}")
    print("results: " + ", ".join(str(path) for path in files.values()))
    return 0 if not summary.failed and not errors else 1
