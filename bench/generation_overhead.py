"""Overhead of the pack's generation nodes over the native graph of the original Circle-Rotate workflow.

Both graphs run the paper configuration on the tiny test models (tests/fixtures): load both experts, lightx2v
stand-in + Circle-Rotate LoRA per expert, shift 8, Fun-Inpaint conditioning (64x64, 9 frames), 4 euler/simple
steps split 2/2 at cfg 1.6, VAE decode. Native: UNETLoader, LoraLoaderModelOnly x2, ModelSamplingSD3,
WanFunInpaintToVideo, KSamplerAdvanced x2, VAEDecode. Ours: CircleRotateLoadExperts, CircleRotateDualLora,
CircleRotateFirstLastFrame, CircleRotateTwoExpertSampler, VAEDecode. API: ``CircleRotateInference.generate`` on
the paper preset made tiny (tests/fixtures/workflow_tiny.py: the test conditioning node for the text encoder, the
same seeded conditioning as the native graph's), in-process through ComfyUI's executor: workflow filling,
image copy and LoadImage, validation, execution, uint8 frames. Models are loaded from disk in every run (the API's
executor cache is reset before each call; nothing cached between runs), so the figure covers loading, LoRA
inspection and patching, and sampling. All three runs use the same first/last PNGs and give the same frames
(checked). The API's warm figure (executor cache kept and a new seed each call: models stay loaded, only the
sampler and decode rerun) is printed for information.

- Wall time: one warm process, one warm-up run each, then ``--time-runs`` interleaved rounds (the order rotates
  each round so drift in machine load hits all kinds equally); ratio of the medians, and the median of the ratios
  within each round (steadier on a shared machine, as the runs of a round see about the same load). The process's
  CPU time (``time.process_time``, all its threads) is printed beside it: on a shared machine it moves less with
  other processes' load than wall time does.
- Peak memory: each run in a fresh process (so neither graph inherits the other's allocator cache). torch
  tensors live outside Python's allocator, so tracemalloc would miss them; RSS counts everything. The figure
  is the graph's anonymous memory: a thread polls ``/proc/self/statm`` every millisecond during the graph and
  keeps max(resident - shared) minus its value before the graph (file-backed pages such as shared libraries
  paged in on first use are left out). The children run with ``FIXED_MALLOC``: with glibc's default dynamic
  mmap threshold, identical runs spread by +-80 MiB around ~200 MiB (freed tensors stayed cached or not,
  depending on history); with it they agree within ~1 MiB. ``--memory-runs`` interleaved pairs, median;
  ratio ours / native and api / native (``--memory-runs 0`` skips them). The kernel's whole-process peak (VmHWM, reset with ``/proc/self/clear_refs`` after ComfyUI
  is imported; includes ComfyUI's ~1 GB) is printed too.

Usage: python bench/generation_overhead.py [--time-runs 41] [--memory-runs 9 | 0] [--threads 1]
(host: COMFYUI_PATH or ~/.cache/circle-rotate/ComfyUI)
Target: ours/native and api/native, time and memory, at most 1.02.
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
from types import SimpleNamespace

import numpy as np

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


def _write_images(base_dir: Path) -> tuple[Path, Path]:
    from fixtures.generate_setup import write_frame

    return write_frame(base_dir / "first.png", 3), write_frame(base_dir / "last.png", 4)


def _image_tensor(path: Path):
    """An IMAGE (1, H, W, 3) of a PNG, as ComfyUI's LoadImage makes it."""
    import numpy as np
    import torch
    from PIL import Image

    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).astype(np.float32) / 255.0)[None]


def _runners(nodes_module, base_dir: Path) -> dict:
    """Kind -> a function that runs the whole paper graph (models loaded from disk) and returns uint8 frames."""
    import torch

    from circle_rotate.generation import CircleRotateInference
    from circle_rotate.generation.in_process import InProcessComfy, to_uint8
    from fixtures.generate_setup import PAPER_PRESET, load_test_nodes
    from fixtures.generation_graphs import GraphInputs, conditioning, native_graph, pack_graph
    from fixtures.lora_files import LORA_SET_NAMES
    from fixtures.workflow_tiny import NEGATIVE_SEED, POSITIVE_SEED, tiny_prompt

    class Host:
        nodes = nodes_module

        @staticmethod
        def node(node_id: str):
            return nodes_module.NODE_CLASS_MAPPINGS[node_id]

    first, last = _write_images(base_dir)
    inputs = GraphInputs(
        high_expert="high.safetensors", low_expert="low.safetensors", vae="vae.safetensors",
        lightx2v_high=LORA_SET_NAMES["lightx2v_high"], lightx2v_low=LORA_SET_NAMES["lightx2v_low"],
        lora_high=LORA_SET_NAMES["high_musubi"], lora_low=LORA_SET_NAMES["low_musubi"],
        positive=conditioning(POSITIVE_SEED), negative=conditioning(NEGATIVE_SEED), start_image=_image_tensor(first),
        end_image=_image_tensor(last),
    )
    load_test_nodes(nodes_module)
    models = SimpleNamespace(high_expert=inputs.high_expert, low_expert=inputs.low_expert, vae=inputs.vae,
                             loras=LORA_SET_NAMES)
    model = CircleRotateInference(workflow=tiny_prompt(json.loads(PAPER_PRESET.read_text(encoding="utf-8")), models))
    executor = InProcessComfy.shared().executor

    def run_native():
        with torch.inference_mode():
            return to_uint8(native_graph(Host, inputs)[1])

    def run_ours():
        with torch.inference_mode():
            return to_uint8(pack_graph(Host, inputs)[1])

    def run_api():
        executor.reset()  # forget every cached node output: models load from disk, as in the other two
        return model.generate(first, last, seed=inputs.seed).frames

    seeds = iter(range(inputs.seed + 1, inputs.seed + 1_000_000))

    def run_api_warm():
        return model.generate(first, last, seed=next(seeds)).frames  # a new seed: sampler and decode run again

    return {"native": run_native, "ours": run_ours, "api": run_api, "api_warm": run_api_warm}


KINDS = ("native", "ours", "api")


def child(kind: str, base_dir: Path, threads: int) -> None:
    """One run of one graph in this fresh process; prints JSON with its memory figures."""
    import torch

    torch.set_num_threads(threads)
    run = _runners(_load(base_dir), base_dir)[kind]
    Path("/proc/self/clear_refs").write_text("5")
    poller = AnonPeak()
    poller.start()
    run()
    graph_kib = poller.stop()
    print(json.dumps({"graph_kib": graph_kib, "peak_kib": _status_kib("VmHWM")}))


def _orders(index: int) -> tuple[str, ...]:
    """Run order of round ``index``: the kinds rotate, so drift in machine load hits each equally."""
    shift = index % len(KINDS)
    return KINDS[shift:] + KINDS[:shift]


def measure_memory(base_dir: Path, runs: int, threads: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for index in range(runs):
        for kind in _orders(index):
            output = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--base", str(base_dir), "--threads", str(threads)],
                check=True, capture_output=True, text=True, env={**os.environ, **FIXED_MALLOC},
            ).stdout
            results[kind].append(json.loads(output.strip().splitlines()[-1]))
    return results


def measure_time(runners: dict, runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds (this process, all threads) of each run, per kind."""
    reference = runners["native"]()  # warm-up, and a check that all give the same frames
    for kind in KINDS[1:]:
        if not np.array_equal(runners[kind](), reference):
            raise RuntimeError(f"{kind} gave other frames than the native graph: the comparison would be meaningless")
    runners["api_warm"]()
    times: dict[str, list[float]] = {kind: [] for kind in (*KINDS, "api_warm")}
    cpu: dict[str, list[float]] = {kind: [] for kind in (*KINDS, "api_warm")}
    for index in range(runs):
        for kind in (*_orders(index), "api_warm"):
            start, start_cpu = time.perf_counter(), time.process_time()
            runners[kind]()
            times[kind].append(time.perf_counter() - start)
            cpu[kind].append(time.process_time() - start_cpu)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-runs", type=int, default=41, help="timed interleaved runs per graph (>= 5)")
    parser.add_argument("--memory-runs", type=int, default=9, help="fresh-process runs per graph (>= 5; 0 skips memory)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 keeps timings steadier on a shared machine)")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.base, args.threads)
        return
    if args.time_runs < 5 or 0 < args.memory_runs < 5:
        parser.error(f"--time-runs {args.time_runs} / --memory-runs {args.memory_runs}: at least 5 runs per graph")
    import torch

    torch.set_num_threads(args.threads)
    base_dir = Path(tempfile.mkdtemp(prefix="generation_overhead_"))
    nodes_module = _load(base_dir)
    _write_models(base_dir)
    times, cpu = measure_time(_runners(nodes_module, base_dir), args.time_runs)
    memory = measure_memory(base_dir, args.memory_runs, args.threads) if args.memory_runs else None

    t = {kind: statistics.median(values) for kind, values in times.items()}
    c = {kind: statistics.median(values) for kind, values in cpu.items()}
    print(f"paper graph on tiny models, median of {args.time_runs} timed and {args.memory_runs} memory runs per "
          f"graph (interleaved), {args.threads} torch thread(s)")
    for kind, label in (("ours", "ours (pack nodes, called directly)"), ("api", "api (CircleRotateInference, in-process executor)")):
        pair_ratio = statistics.median(o / n for o, n in zip(times[kind], times["native"]))
        print(f"{label}")
        print(f"  wall time    native {t['native'] * 1000:8.1f} ms   {kind} {t[kind] * 1000:8.1f} ms   "
              f"ratio {t[kind] / t['native']:.3f}   (median of per-round ratios {pair_ratio:.3f})")
        print(f"  CPU time     native {c['native'] * 1000:8.1f} ms   {kind} {c[kind] * 1000:8.1f} ms   "
              f"ratio {c[kind] / c['native']:.3f}   (this process's CPU time: steadier than wall time on a shared machine)")
        if memory is None:
            continue
        graph = {name: statistics.median(r["graph_kib"] for r in memory[name]) for name in ("native", kind)}
        peak = {name: statistics.median(r["peak_kib"] for r in memory[name]) for name in ("native", kind)}
        print(f"  graph peak   native {graph['native'] / 1024:8.1f} MiB  {kind} {graph[kind] / 1024:8.1f} MiB  "
              f"ratio {graph[kind] / graph['native']:.3f}   (anonymous resident memory above its value before the graph)")
        print(f"  process peak native {peak['native'] / 1024:8.1f} MiB  {kind} {peak[kind] / 1024:8.1f} MiB  "
              f"ratio {peak[kind] / peak['native']:.3f}   (VmHWM, incl. ComfyUI)")
    print(f"api, warm (models kept loaded by the executor cache; a new seed each call): {t['api_warm'] * 1000:.1f} ms "
          f"({t['api_warm'] / t['native']:.3f} x the native graph, which loads every run)")
    print("all wall times (s): " + "  ".join(f"{kind} {[round(v, 3) for v in values]}" for kind, values in times.items()))
    print("all CPU times (s): " + "  ".join(f"{kind} {[round(v, 3) for v in values]}" for kind, values in cpu.items()))
    if memory is not None:
        print("all graph peaks (MiB): " + "  ".join(
            f"{kind} {[round(r['graph_kib'] / 1024, 1) for r in memory[kind]]}" for kind in KINDS))
    print("target: every ratio <= 1.02")


if __name__ == "__main__":
    main()
