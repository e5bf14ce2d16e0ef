"""Benchmark the all-size proof: total seconds, peak MiB and each Z3 lemma's time.

Each proof runs in a fresh Python process so that its peak RSS is its own. Usage:

    python benchmarks/bench_general.py            # the 2-D theorem with every size symbolic, closed forms, the note
    python benchmarks/bench_general.py --quick    # the theorem only, 10 re-checks

Target (issue 10): the 2-D proof with symbolic stride, padding, dilation and groups ≤ 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CASES = [
    # (label, python expression building the proof)
    ("theorem, every size symbolic", "prove_general(rechecks={n})"),
    ("theorem, seed order, bias per location", "prove_general(order='seed', bias='per_location', rechecks={n})"),
    ("note's literal B entry (refuted)",
     "prove_general(entry=NOTE_LITERAL_ENTRY, order='seed', stride=1, padding=0, dilation=1, groups=1, rechecks={n})"),
    ("closed forms (nnz, params, receptive fields)", "prove_closed_forms(rechecks={n})"),
    ("theorem + conv_transpose = 𝒲ᵀ", "prove_general(identities=('transposed',), rechecks={n})"),
    ("theorem + conv_transpose = 𝒲ᵀ + backprop", "prove_general(identities=('backward',), rechecks={n})"),
]


def _child(expr: str) -> None:
    """Run one proof in this process; print its figures as JSON."""
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    from symconv.prove.general import NOTE_LITERAL_ENTRY, prove_closed_forms, prove_general  # noqa: F401

    imported = time.perf_counter()
    proof = eval(expr)  # the benchmark's own fixed expressions (CASES), never user input
    end = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "status": proof.status, "seconds": end - imported, "import_seconds": imported - start,
        "peak_mib": peak / 1024, "baseline_mib": baseline / 1024, "rechecks": proof.rechecks,
        "failed": None if proof.failed_step is None else proof.failed_step.name,
        "lemmas": {name: round(sec * 1000, 1) for name, sec in proof.lemma_seconds.items()},
    }))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the theorem only, 10 re-checks")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return 0
    cases, n = (CASES[:1], 10) if args.quick else (CASES, 50)
    print(f"{'proof':48} {'status':9} {'seconds':>8} {'peak MiB':>9} {'re-checks':>9}")
    for label, template in cases:
        out = subprocess.run([sys.executable, __file__, "--child", template.format(n=n)],
                             capture_output=True, text=True, check=True)
        data = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{label:48} {data['status']:9} {data['seconds']:8.2f} {data['peak_mib']:9.0f} {data['rechecks']:9d}"
              + (f"   (fails at {data['failed']})" if data["failed"] else ""))
        print("    Z3 per lemma (ms): " + ", ".join(f"{k} {v:g}" for k, v in data["lemmas"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
