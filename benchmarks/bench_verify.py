"""Benchmark the proof engines: seconds, peak memory and terms checked per second.

Each measurement runs in a fresh Python process so that its peak RSS is its own. Usage:

    python benchmarks/bench_verify.py            # the table of the issue's sizes
    python benchmarks/bench_verify.py --quick    # small sizes only

Columns: layer, method, seconds, peak MiB (whole process, imports included, and above the import
baseline), terms, terms/s. "naive" is the textbook SymPy route (dense Matrix, 𝒲·x, expand(direct − 𝒲x − b))
measured where it finishes within the time limit; "floor" is writing then reading the same number of
int64 once (np.arange + sum), the touch-once lower bound an index check cannot beat.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CASES = [
    # (label, spec kwargs, methods)
    ("2→3, 5×5, 3×3", dict(in_channels=2, out_channels=3, input_size=5, kernel_size=3), ["sympy", "index", "naive"]),
    ("4→4, 16×16, 3×3", dict(in_channels=4, out_channels=4, input_size=16, kernel_size=3), ["sympy", "index", "naive"]),
    ("8→8, 32×32, 3×3", dict(in_channels=8, out_channels=8, input_size=32, kernel_size=3), ["sympy", "index", "naive"]),
    ("16→16, 32×32, 3×3", dict(in_channels=16, out_channels=16, input_size=32, kernel_size=3), ["sympy", "index"]),
    ("3→64, 224×224, 3×3", dict(in_channels=3, out_channels=64, input_size=224, kernel_size=3), ["index", "floor"]),
    ("64→64, 56×56, 3×3 s1 p1", dict(in_channels=64, out_channels=64, input_size=56, kernel_size=3, padding=1),
     ["index", "floor"]),
    ("256→256, 28×28, 3×3 p1 g4", dict(in_channels=256, out_channels=256, input_size=28, kernel_size=3, padding=1, groups=4),
     ["index", "floor"]),
]
QUICK = CASES[:3]
NAIVE_TIMEOUT = 120


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one(kwargs: dict, method: str) -> dict:
    import numpy as np
    import sympy

    from symconv import ConvSpec, bias_vector, direct, input_symbols, matrix, verify

    spec = ConvSpec(**kwargs)
    baseline = _peak_mib()
    terms = spec.n_terms + spec.n_bias_terms
    start = time.perf_counter()
    if method == "naive":
        W = sympy.Matrix(matrix(spec, max_terms=10**9))  # dense
        x = sympy.Matrix(np.array(input_symbols(spec).tolist(), dtype=object).reshape(-1).tolist())
        y = sympy.Matrix(np.array(direct(spec, max_terms=10**9).tolist(), dtype=object).reshape(-1).tolist())
        holds = (y - (W * x + bias_vector(spec))).expand() == sympy.zeros(spec.d_y, 1)
    elif method == "floor":  # best of 3: the first touch of fresh pages varies a lot between runs
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            a = np.arange(terms, dtype=np.int64)
            holds = int(a.sum()) == terms * (terms - 1) // 2
            del a
            best = min(best, time.perf_counter() - t0)
        start = time.perf_counter() - best
    else:
        verdict = verify(spec, method=method)
        holds, terms = verdict.holds, verdict.terms
    seconds = time.perf_counter() - start
    return {"holds": bool(holds), "seconds": seconds, "terms": terms, "peak": _peak_mib(), "above": _peak_mib() - baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kwargs, method = json.loads(args.one)
        print(json.dumps(_one(kwargs, method)))
        return
    print(f"{'layer':28} {'method':7} {'seconds':>8} {'peak MiB':>9} {'+MiB':>7} {'terms':>12} {'terms/s':>12}  holds  ×floor")
    for label, kwargs, methods in QUICK if args.quick else CASES:
        seconds: dict[str, float] = {}
        # the floor first, so that the index row can print its ratio to it
        for method in sorted(methods, key=lambda m: m != "floor"):
            cmd = [sys.executable, __file__, "--one", json.dumps([kwargs, method])]
            try:
                run = subprocess.run(cmd, capture_output=True, text=True, timeout=NAIVE_TIMEOUT if method == "naive" else 600)
            except subprocess.TimeoutExpired:
                print(f"{label:28} {method:7} {'>' + str(NAIVE_TIMEOUT):>8} {'':>9} {'':>7} {'':>12} {'':>12}  (timed out)")
                continue
            if run.returncode:
                print(f"{label:28} {method:7} failed: {run.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(run.stdout)
            rate = r["terms"] / r["seconds"] if r["seconds"] else float("inf")
            seconds[method] = r["seconds"]
            ratio = f"{r['seconds'] / seconds['floor']:6.2f}" if method == "index" and "floor" in seconds else ""
            print(f"{label:28} {method:7} {r['seconds']:8.3f} {r['peak']:9.0f} {r['above']:7.0f} "
                  f"{r['terms']:12,} {rate:12,.0f}  {str(r['holds']):5}  {ratio}", flush=True)


if __name__ == "__main__":
    main()
