"""How long the pack adds to ComfyUI's start-up.

Each run is a fresh Python process that imports ComfyUI and initialises its built-in nodes (the baseline:
ComfyUI's start-up without the pack), then loads the pack as ComfyUI loads a custom node folder. Both phases
are timed with ``time.perf_counter`` in the same process; runs are repeated and the medians printed, along
with the heavy libraries that loading the pack pulled in (there should be none: they load when a node runs).

Usage: python bench/import_time.py [--runs 7]   (host: COMFYUI_PATH or ~/.cache/circle-rotate/ComfyUI)
Target: the pack adds well under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fixtures.hosts import find_main_host  # noqa: E402
from fixtures.import_probe import probe_pack_import  # noqa: E402

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts to time (median reported)")
    args = parser.parse_args()
    host, reason = find_main_host()
    if host is None:
        print(f"no ComfyUI host: {reason}")
        return 2
    runs = [probe_pack_import(host.path) for _ in range(args.runs)]
    host_median = statistics.median(run["host_s"] for run in runs)
    pack_median = statistics.median(run["pack_s"] for run in runs)
    heavy = sorted({module for run in runs for module in run["heavy"]})
    print(f"ComfyUI {host.version} at {host.path}, {args.runs} cold starts")
    print(f"baseline  ComfyUI start-up without the pack (import + built-in nodes): median {host_median:.3f} s")
    print(f"pack      loading the pack on top:                                     median {pack_median * 1000:.1f} ms "
          f"({100 * pack_median / host_median:.1f}% of the baseline)")
    print(f"heavy libraries imported by the pack: {', '.join(heavy) if heavy else 'none'}")
    print(f"target    < 500 ms: {'met' if pack_median < 0.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
