"""Benchmark the proof engines against the streamed floor: seconds, peak MiB above imports, terms/s and × floor.

Each row runs in a fresh Python process, so that its peak RSS is its own. Usage:

    python benchmarks/bench_verify.py                # every row of issue 14's table
    python benchmarks/bench_verify.py --quick        # the small rows only
    python benchmarks/bench_verify.py --reps 3 --workers 2
    python benchmarks/bench_verify.py --installed    # the symconv installed in this Python (e.g. before a change)

The floor is a write-once/read-once pass of the same number of int64 terms through one reused 32 MiB buffer
(``fill`` then ``sum`` per 4 Mi terms), measured in the same process as the engine, interleaved with it, best of
``--reps`` each: on a shared machine both see the same load, and the ratio is what to compare. Peak MiB is the
largest resident set above the one right after the imports (the floor's own buffer is measured after the peak is
read). The load average is printed with the table: the machine has 2 cores shared with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROWS = [
    # (label, spec kwargs, method)
    ("64→64, 56², 3×3", dict(in_channels=64, out_channels=64, input_size=56, kernel_size=3), "index"),
    ("3→64, 224², 3×3", dict(in_channels=3, out_channels=64, input_size=224, kernel_size=3), "index"),
    ("64→64, 56², 3×3, p1", dict(in_channels=64, out_channels=64, input_size=56, kernel_size=3, padding=1), "index"),
    ("64→64, 56², 3×3, s2", dict(in_channels=64, out_channels=64, input_size=56, kernel_size=3, stride=2), "index"),
    ("64→64, 56², s2 p1 d2 g4", dict(in_channels=64, out_channels=64, input_size=56, kernel_size=3, stride=2, padding=1,
                                    dilation=2, groups=4), "index"),
    ("512→512, 28², 3×3, p1", dict(in_channels=512, out_channels=512, input_size=28, kernel_size=3, padding=1), "index"),
    ("8→8, 32², 3×3", dict(in_channels=8, out_channels=8, input_size=32, kernel_size=3), "sympy"),
    ("16→16, 32², 3×3", dict(in_channels=16, out_channels=16, input_size=32, kernel_size=3), "sympy"),
]
QUICK = [ROWS[4], ROWS[6]]
FLOOR_BUFFER = 1 << 22  # int64: 32 MiB


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor(terms: int) -> float:
    """Seconds to write then read ``terms`` int64 through one reused 32 MiB buffer."""
    import numpy as np

    buffer = np.empty(FLOOR_BUFFER, dtype=np.int64)
    start = time.perf_counter()
    done = 0
    while done < terms:
        n = min(FLOOR_BUFFER, terms - done)
        chunk = buffer[:n]
        chunk.fill(done)
        chunk.sum()
        done += n
    return time.perf_counter() - start


def _one(kwargs: dict, method: str, reps: int, workers: int) -> dict:
    from symconv import ConvSpec, verify
    from symconv.prove.index_engine import prove_index

    spec = ConvSpec(**kwargs)
    baseline = _peak_mib()
    terms = spec.n_terms + spec.n_bias_terms

    def run() -> tuple[float, bool, int]:
        start = time.perf_counter()
        if method == "index" and workers != 1:
            verdict = prove_index(spec, workers=workers)
        else:
            verdict = verify(spec, method=method)
        return time.perf_counter() - start, verdict.holds, verdict.terms

    seconds, holds, terms = run()
    peak = _peak_mib() - baseline
    floor = _floor(terms)
    for _ in range(reps - 1):  # interleaved, so that both see the same load
        floor = min(floor, _floor(terms))
        seconds = min(seconds, run()[0])
    return {"holds": holds, "seconds": seconds, "terms": terms, "above": peak, "floor": floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small rows only")
    parser.add_argument("--reps", type=int, default=2, help="best of this many runs (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="threads for the index engine (default 1)")
    parser.add_argument("--installed", action="store_true", help="benchmark the installed symconv, not this checkout")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kwargs, method = json.loads(args.one)
        print(json.dumps(_one(kwargs, method, args.reps, args.workers)))
        return
    env = dict(os.environ)
    if not args.installed:  # a script's sys.path starts at benchmarks/, not at the checkout
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; best of {args.reps}; workers {args.workers}")
    print(f"{'case':26} {'engine':6} {'terms':>14} {'seconds':>8} {'peak MiB':>9} {'terms/s':>13} {'floor s':>8} "
          f"{'× floor':>8}  holds")
    for label, kwargs, method in QUICK if args.quick else ROWS:
        cmd = [sys.executable, __file__, "--one", json.dumps([kwargs, method]), "--reps", str(args.reps),
               "--workers", str(args.workers)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
        if run.returncode:
            print(f"{label:26} {method:6} failed: {(run.stderr.strip().splitlines() or ['?'])[-1]}")
            continue
        r = json.loads(run.stdout)
        ratio = f"{r['seconds'] / r['floor']:8.2f}" if method == "index" else f"{'–':>8}"  # SymPy: no floor to speak of
        print(f"{label:26} {method:6} {r['terms']:14,} {r['seconds']:8.3f} {r['above']:9.0f} "
              f"{r['terms'] / r['seconds']:13,.0f} {r['floor']:8.3f} {ratio}  {r['holds']}", flush=True)


if __name__ == "__main__":
    main()
