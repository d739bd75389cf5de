"""Client overhead per job of the batch runner: wall time not spent waiting on the server.

Runs 50 tiny jobs (LoadImage -> ImageInvert -> SaveImage, a new filename prefix each so nothing is cached) on
one ComfyUI server, twice in the same run:
- baseline: a bare loop of the minimum raw calls per job (upload, websocket, /prompt, wait for the end,
  /history, /view, write the file);
- runner: ``circle_rotate.client.BatchRunner`` (state file with fsync per change, workflow fill, progress,
  atomic output folder, results files).
Server time is the time spent inside HTTP requests, websocket connects and websocket receives; overhead is
wall time minus that, per job. Target: runner overhead below 50 ms per job.

Usage: ``python bench/batch_overhead.py [--server URL] [--jobs 50]``; without ``--server`` a ComfyUI server
(the test host, no custom nodes) is started on a free port and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
WORKFLOW = ROOT / "tests" / "fixtures" / "workflows" / "load_save.json"


class NetworkClock:
    """Accumulates time spent in the wrapped network calls (all threads)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def wrap(self, owner: type, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - start

        setattr(owner, name, timed)


def baseline(url: str, image: Path, count: int, out: Path, tag: str) -> None:
    """The minimum per job with raw requests + websocket-client."""
    import requests
    import websocket

    workflow = json.loads(WORKFLOW.read_text())
    session = requests.Session()
    client_id = uuid.uuid4().hex
    ws_url = url.replace("http", "ws", 1) + f"/ws?clientId={client_id}"
    for index in range(count):
        with open(image, "rb") as handle:
            name = session.post(f"{url}/upload/image", files={"image": ("bench.png", handle)},
                                data={"overwrite": "true"}).json()["name"]
        workflow["1"]["inputs"]["image"] = name
        workflow["3"]["inputs"]["filename_prefix"] = f"{tag}_{index}"
        ws = websocket.create_connection(ws_url)
        prompt_id = session.post(f"{url}/prompt", json={"prompt": workflow, "client_id": client_id}).json()["prompt_id"]
        while True:
            message = ws.recv()
            if isinstance(message, str):
                event = json.loads(message)
                if event["type"] == "executing" and event["data"].get("node") is None \
                        and event["data"].get("prompt_id") == prompt_id:
                    break
        ws.close()
        entry = session.get(f"{url}/history/{prompt_id}").json()[prompt_id]
        for item in entry["outputs"]["3"]["images"]:
            data = session.get(f"{url}/view", params=item).content
            (out / item["filename"]).write_bytes(data)


def runner(url: str, image: Path, count: int, out: Path, tag: str) -> None:
    """The batch runner on ``count`` jobs written as a CSV."""
    from circle_rotate.client import BatchRunner, FieldMap, load_workflow, parse_jobs

    jobs_path = out / "jobs.csv"
    jobs_path.write_text("id,first_image,prefix\n" + "".join(f"j{i},{image},{tag}_{i}\n" for i in range(count)))
    workflow = load_workflow(WORKFLOW)
    field_map = FieldMap(workflow)
    jobs, errors = parse_jobs(jobs_path, field_map)
    assert not errors, errors
    batch = BatchRunner(workflow, field_map, [url], out / "batch", progress=False)
    batch.submit(jobs)
    summary = batch.wait()
    batch.write_results([])
    batch.close()
    assert len(summary.done) == count, summary.failed


def measure(function: Callable[..., None], clock: NetworkClock, *args: Any) -> tuple[float, float]:
    """(wall ms per job, overhead ms per job) of one run."""
    count = args[2]
    clock.seconds = 0.0
    start = time.perf_counter()
    function(*args)
    wall = time.perf_counter() - start
    return 1000 * wall / count, 1000 * (wall - clock.seconds) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="a running ComfyUI server (default: start one)")
    parser.add_argument("--jobs", type=int, default=50)
    args = parser.parse_args()

    import requests
    import websocket
    from PIL import Image

    clock = NetworkClock()
    clock.wrap(requests.Session, "request")
    clock.wrap(websocket.WebSocket, "recv")
    clock.wrap(websocket, "create_connection")

    server = None
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.server:
            url = args.server.rstrip("/")
        else:
            from fixtures.comfy_server import ComfyServer
            from fixtures.hosts import find_main_host

            host, reason = find_main_host()
            if host is None:
                sys.exit(f"no ComfyUI host: {reason}")
            server = ComfyServer(host.path, work / "server", None, None, host.python).start()
            url = server.url
        try:
            image = work / "frame.png"
            Image.new("RGB", (64, 64), (120, 30, 30)).save(image)
            tag = uuid.uuid4().hex[:8]
            (work / "warm").mkdir()
            baseline(url, image, 3, work / "warm", f"warm{tag}")
            for label, function in (("baseline", baseline), ("runner", runner)):
                out = work / label
                out.mkdir()
                wall, overhead = measure(function, clock, url, image, args.jobs, out, f"{label}{tag}")
                print(f"{label:9s} {args.jobs} jobs: wall {wall:7.1f} ms/job, client overhead {overhead:6.1f} ms/job")
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
