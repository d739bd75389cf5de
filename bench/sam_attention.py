"""Benchmark: SAM ViT-B's image encoder with segment-anything's own attention vs ``sam_attention.fused_attention``.

Each variant runs in its own fresh process (so its peak memory is its own) on the same random-initialised SAM
ViT-B (relative-position tables drawn at random: SAM zero-initialises them) and the same 1024x1024 input, with
every core. Printed per variant: the median seconds per frame over ``--repeats`` encoder calls after one warm-up
call, and the process's peak resident memory; then the speed-up, the memory ratio and the largest absolute
difference between the two image embeddings (float32 rounding is all that should separate them).

    .venv/bin/python bench/sam_attention.py              # 3 timed calls per variant
    .venv/bin/python bench/sam_attention.py --repeats 1

Measured on the 2-core development machine (AMD EPYC, Zen 4; 2026-11-24, idle): segment-anything's attention
14.24 s per frame, peak 3543 MiB; fused 7.09 s, peak 2197 MiB; speed-up 2.01x, memory ratio 0.62, largest
embedding difference 3.0e-06 (embedding values are of order 1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_variant(variant: str, repeats: int, embedding_path: Path) -> dict:
    """Time the encoder in this process; save the embedding to ``embedding_path``."""
    import torch
    from segment_anything import sam_model_registry

    from circle_rotate.metric_models.sam_attention import fused_attention

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    encoder = sam_model_registry["vit_b"](checkpoint=None).image_encoder.eval()
    for block in encoder.blocks:
        torch.nn.init.normal_(block.attn.rel_pos_h, std=0.02)
        torch.nn.init.normal_(block.attn.rel_pos_w, std=0.02)
    image = torch.randn(1, 3, 1024, 1024, generator=torch.Generator().manual_seed(1))
    times = []
    with torch.inference_mode():
        for call in range(repeats + 1):
            start = time.perf_counter()
            if variant == "fused":
                with fused_attention(encoder):
                    embedding = encoder(image)
            else:
                embedding = encoder(image)
            if call:
                times.append(time.perf_counter() - start)
    torch.save(embedding, embedding_path)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": statistics.median(times), "peak_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed encoder calls per variant")
    parser.add_argument("--variant", choices=("reference", "fused"), help=argparse.SUPPRESS)
    parser.add_argument("--embedding", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.repeats, args.embedding)))
        return

    import torch

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for variant in ("reference", "fused"):
            embedding = Path(folder) / f"{variant}.pt"
            command = [sys.executable, __file__, "--variant", variant, "--repeats", str(args.repeats), "--embedding", str(embedding)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[variant] = json.loads(output.strip().splitlines()[-1])
            print(f"{variant:9s}: {results[variant]['seconds']:6.2f} s per frame   peak memory {results[variant]['peak_mib']:7.0f} MiB")
        difference = (torch.load(Path(folder) / "fused.pt") - torch.load(Path(folder) / "reference.pt")).abs().max().item()
    reference, fused = results["reference"], results["fused"]
    print(f"speed-up {reference['seconds'] / fused['seconds']:.2f}x   memory ratio {fused['peak_mib'] / reference['peak_mib']:.2f}   "
          f"largest embedding difference {difference:.2e}   ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
