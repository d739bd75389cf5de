"""The batch client: run many jobs through an API-format workflow on one or more ComfyUI servers.

Python API (the ``circle-rotate batch`` command uses the same)::

    from circle_rotate.client import BatchRunner, FieldMap, load_workflow, parse_jobs

    workflow = load_workflow(Path("workflows/api/orbit.json"))
    field_map = FieldMap(workflow)
    jobs, bad_rows = parse_jobs(Path("jobs.csv"), field_map)
    runner = BatchRunner(workflow, field_map, ["http://127.0.0.1:8188"], Path("out"))
    runner.submit(jobs)
    summary = runner.wait()          # blocks; resumable: run it again after a crash
    records = runner.results()       # one dict per job: status, outputs, metrics
    runner.write_results([])         # results.jsonl, summary.csv, pairs.csv
    runner.close()
"""

from .http import ComfyClient, ComfyError, ExecutionFailed, PromptRejected, ServerUnavailable
from .jobs import Job, RowError, parse_jobs
from .runner import BatchOptions, BatchRunner, BatchSummary
from .workflow_fill import FieldMap, Target, fill, load_workflow, parse_map_option

__all__ = [
    "BatchOptions", "BatchRunner", "BatchSummary", "ComfyClient", "ComfyError", "ExecutionFailed", "FieldMap",
    "Job", "PromptRejected", "RowError", "ServerUnavailable", "Target", "fill", "load_workflow", "parse_jobs",
    "parse_map_option",
]
