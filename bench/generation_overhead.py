"""Overhead of the pack's generation nodes over the native graph of the original Circle-Rotate workflow.

Both graphs run the paper configuration on the tiny test models (tests/fixtures): load both experts, lightx2v
stand-in + Circle-Rotate LoRA per expert, shift 8, Fun-Inpaint conditioning (64x64, 9 frames), 4 euler/simple
steps split 2/2 at cfg 1.6, VAE decode. Native: UNETLoader, LoraLoaderModelOnly x2, ModelSamplingSD3,
WanFunInpaintToVideo, KSamplerAdvanced x2, VAEDecode. Ours: CircleRotateLoadExperts, CircleRotateDualLora,
CircleRotateFirstLastFrame, CircleRotateTwoExpertSampler, VAEDecode. Models are loaded from disk in every run
(nothing cached between runs), so the figure covers loading, LoRA inspection and patching, and sampling.

- Wall time: one warm process, one warm-up run each, then ``--time-runs`` interleaved pairs (the order alternates
  each pair so drift in machine load hits both equally); ratio of the medians, and the median of the ratios
  within each pair (steadier on a shared machine, as both runs of a pair see about the same load).
- Peak memory: each run in a fresh process (so neither graph inherits the other's allocator cache). torch
  tensors live outside Python's allocator, so tracemalloc would miss them; RSS counts everything. The figure
  is the graph's anonymous memory: a thread polls ``/proc/self/statm`` every millisecond during the graph and
  keeps max(resident - shared) minus its value before the graph (file-backed pages such as shared libraries
  paged in on first use are left out). The children run with ``FIXED_MALLOC``: with glibc's default dynamic
  mmap threshold, identical runs spread by +-80 MiB around ~200 MiB (freed tensors stayed cached or not,
  depending on history); with it they agree within ~1 MiB. ``--memory-runs`` interleaved pairs, median;
  ratio ours / native. The kernel's whole-process peak (VmHWM, reset with ``/proc/self/clear_refs`` after ComfyUI
  is imported; includes ComfyUI's ~1 GB) is printed too.

Usage: python bench/generation_overhead.py [--time-runs 41] [--memory-runs 9] [--threads 1]
(host: COMFYUI_PATH or ~/.cache/circle-rotate/ComfyUI)
Target: both ratios at most 1.02.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


FIXED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}
"""glibc settings for the memory runs: blocks over 128 KiB (every tensor that matters) are mmap-ed and given back
when freed, so resident memory follows the live tensors instead of the allocator's caching history."""


class AnonPeak(threading.Thread):
    """Polls this process's anonymous resident memory (statm resident - shared, KiB) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.page_kib = os.sysconf("SC_PAGE_SIZE") // 1024
        self.start_kib = self.read()
        self.peak_kib = self.start_kib
        self._stop_event = threading.Event()

    def read(self) -> int:
        resident, shared = Path("/proc/self/statm").read_text().split()[1:3]
        return (int(resident) - int(shared)) * self.page_kib

    def run(self) -> None:
        while not self._stop_event.wait(0.001):
            self.peak_kib = max(self.peak_kib, self.read())

    def stop(self) -> int:
        """Stop polling; returns the peak above the starting value, in KiB."""
        self._stop_event.set()
        self.join()
        self.peak_kib = max(self.peak_kib, self.read())
        return self.peak_kib - self.start_kib


def _load(base_dir: Path):
    from fixtures.comfy_in_process import load_comfy
    from fixtures.hosts import PACK_DIR, main_host_or_skip

    return load_comfy(main_host_or_skip().path, base_dir, PACK_DIR)


def _write_models(base_dir: Path) -> None:
    from safetensors.torch import save_file

    from fixtures.lora_files import write_lora_set
    from fixtures.tiny_models import tiny_expert_state_dict, write_tiny_vae

    models = base_dir / "models"
    (models / "diffusion_models").mkdir(parents=True, exist_ok=True)
    high, low = tiny_expert_state_dict(seed=1), tiny_expert_state_dict(seed=2)
    save_file(high, str(models / "diffusion_models" / "high.safetensors"))
    save_file(low, str(models / "diffusion_models" / "low.safetensors"))
    write_tiny_vae(models / "vae" / "vae.safetensors")
    write_lora_set(models / "loras", high, low)


def _graphs(nodes_module):
    """(run_native, run_ours): each runs the whole paper graph and returns the decoded frames."""
    import torch

    from fixtures.generation_graphs import GraphInputs, conditioning, native_graph, pack_graph, smooth_image
    from fixtures.lora_files import LORA_SET_NAMES

    class Host:
        nodes = nodes_module

        @staticmethod
        def node(node_id: str):
            return nodes_module.NODE_CLASS_MAPPINGS[node_id]

    inputs = GraphInputs(
        high_expert="high.safetensors", low_expert="low.safetensors", vae="vae.safetensors",
        lightx2v_high=LORA_SET_NAMES["lightx2v_high"], lightx2v_low=LORA_SET_NAMES["lightx2v_low"],
        lora_high=LORA_SET_NAMES["high_musubi"], lora_low=LORA_SET_NAMES["low_musubi"],
        positive=conditioning(1), negative=conditioning(2), start_image=smooth_image(3, 64, 64),
        end_image=smooth_image(4, 64, 64),
    )

    def run_native():
        with torch.inference_mode():
            return native_graph(Host, inputs)[1]

    def run_ours():
        with torch.inference_mode():
            return pack_graph(Host, inputs)[1]

    return run_native, run_ours


def child(kind: str, base_dir: Path, threads: int) -> None:
    """One run of one graph in this fresh process; prints JSON with its memory figures."""
    import torch

    torch.set_num_threads(threads)
    run_native, run_ours = _graphs(_load(base_dir))
    Path("/proc/self/clear_refs").write_text("5")
    poller = AnonPeak()
    poller.start()
    (run_native if kind == "native" else run_ours)()
    graph_kib = poller.stop()
    print(json.dumps({"graph_kib": graph_kib, "peak_kib": _status_kib("VmHWM")}))


def measure_memory(base_dir: Path, runs: int, threads: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {"native": [], "ours": []}
    for index in range(runs):
        order = ("native", "ours") if index % 2 == 0 else ("ours", "native")
        for kind in order:
            output = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--base", str(base_dir), "--threads", str(threads)],
                check=True, capture_output=True, text=True, env={**os.environ, **FIXED_MALLOC},
            ).stdout
            results[kind].append(json.loads(output.strip().splitlines()[-1]))
    return results


def measure_time(run_native, run_ours, runs: int) -> dict[str, list[float]]:
    frames_native, frames_ours = run_native(), run_ours()  # warm-up, and a check that both give the same frames
    if not frames_native.equal(frames_ours):
        raise RuntimeError("the two graphs gave different frames: the comparison would be meaningless")
    times: dict[str, list[float]] = {"native": [], "ours": []}
    runners = {"native": run_native, "ours": run_ours}
    for index in range(runs):
        order = ("native", "ours") if index % 2 == 0 else ("ours", "native")
        for kind in order:
            start = time.perf_counter()
            runners[kind]()
            times[kind].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-runs", type=int, default=41, help="timed interleaved runs per graph (>= 5)")
    parser.add_argument("--memory-runs", type=int, default=9, help="fresh-process runs per graph (>= 5)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 keeps timings steadier on a shared machine)")
    parser.add_argument("--child", choices=("native", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.base, args.threads)
        return
    if min(args.time_runs, args.memory_runs) < 5:
        parser.error(f"--time-runs {args.time_runs} / --memory-runs {args.memory_runs}: at least 5 runs per graph")
    import torch

    torch.set_num_threads(args.threads)
    base_dir = Path(tempfile.mkdtemp(prefix="generation_overhead_"))
    nodes_module = _load(base_dir)
    _write_models(base_dir)
    times = measure_time(*_graphs(nodes_module), args.time_runs)
    memory = measure_memory(base_dir, args.memory_runs, args.threads)

    t_native, t_ours = statistics.median(times["native"]), statistics.median(times["ours"])
    m_native = statistics.median(r["graph_kib"] for r in memory["native"])
    m_ours = statistics.median(r["graph_kib"] for r in memory["ours"])
    p_native = statistics.median(r["peak_kib"] for r in memory["native"])
    p_ours = statistics.median(r["peak_kib"] for r in memory["ours"])
    print(f"paper graph on tiny models, median of {args.time_runs} timed and {args.memory_runs} memory runs per "
          f"graph (interleaved), {args.threads} torch thread(s)")
    pair_ratio = statistics.median(o / n for o, n in zip(times["ours"], times["native"]))
    print(f"wall time   native {t_native * 1000:8.1f} ms   ours {t_ours * 1000:8.1f} ms   "
          f"ratio {t_ours / t_native:.3f}   (median of per-pair ratios {pair_ratio:.3f})")
    print(f"graph peak  native {m_native / 1024:8.1f} MiB  ours {m_ours / 1024:8.1f} MiB  "
          f"ratio {m_ours / m_native:.3f}   (anonymous resident memory above its value before the graph)")
    print(f"process peak native {p_native / 1024:7.1f} MiB  ours {p_ours / 1024:8.1f} MiB  "
          f"ratio {p_ours / p_native:.3f}   (VmHWM, incl. ComfyUI)")
    print(f"all wall times (s): native {[round(t, 3) for t in times['native']]} "
          f"ours {[round(t, 3) for t in times['ours']]}")
    print(f"all graph peaks (MiB): native {[round(r['graph_kib'] / 1024, 1) for r in memory['native']]} "
          f"ours {[round(r['graph_kib'] / 1024, 1) for r in memory['ours']]}")
    print("target: both ratios <= 1.02")


if __name__ == "__main__":
    main()
