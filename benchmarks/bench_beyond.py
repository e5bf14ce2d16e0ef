"""Benchmark the identities beyond Conv2d: transposed convolution, backprop, padding modes, check of a backward pass.

Each identity runs in a fresh Python process (so its peak memory is its own), timed with perf_counter; the peak
is the process's peak RSS (``resource``; tracemalloc slows SymPy 5–8×), and the part of it above the imports. Usage:

    python benchmarks/bench_beyond.py            # the issue's sizes: C₁ = C₂ = 4, 16×16, 3×3
    python benchmarks/bench_beyond.py --quick    # small sizes only
    python benchmarks/bench_beyond.py --json     # one JSON object per line
    python benchmarks/bench_beyond.py --nd       # index-engine terms/s: Conv1d and Conv3d against a Conv2d, same run

``--nd`` runs the issue's throughput target: the index engine on Conv1d 64→64 length 65536 k=9 and Conv3d 16→16
32³ 3³ (the per-axis assembly) within 1.5× of the terms/s of a Conv2d (the note's blocks) measured in the same run;
each layer runs in its own process, the 2-D reference first and last (its mean is the reference).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CASES = [
    # (label, python expression run after the imports of _RUN, size)
    ("transposed = 𝒲ᵀy = zero insertion (sympy)",
     "prove_transposed(ConvTransposeSpec(4, 4, input_size=16, kernel_size=3), method='sympy')", "full"),
    ("transposed s2 p1 a1 (sympy)",
     "prove_transposed(ConvTransposeSpec(4, 4, input_size=16, kernel_size=3, stride=2, padding=1, output_padding=1), "
     "method='sympy')", "full"),
    ("transposed (index)", "prove_transposed(ConvTransposeSpec(4, 4, input_size=16, kernel_size=3), method='index')", "full"),
    ("backprop: diff(direct) = closed forms (rule)", "prove_backward(ConvSpec(4, 4, input_size=16, kernel_size=3))", "full"),
    ("backprop s2 p1 d2 g2 (rule)",
     "prove_backward(ConvSpec(4, 4, input_size=16, kernel_size=3, stride=2, padding=1, dilation=2, groups=2))", "full"),
    ("backprop (diff engine) 2→2 8×8", "prove_backward(ConvSpec(2, 2, input_size=8, kernel_size=3), engine='diff')", "quick"),
    ("reflect: 𝒲 = 𝒲_valid·P (sympy)",
     "prove_padding_mode(ConvSpec(4, 4, input_size=16, kernel_size=3, padding=1), 'reflect')", "full"),
    ("circular: 𝒲 = 𝒲_valid·P (index)",
     "prove_padding_mode(ConvSpec(4, 4, input_size=16, kernel_size=3, padding=1), 'circular', method='index')", "full"),
    ("DFT diagonalises circular 2→2 3×4",
     "prove_circular_theorem(ConvSpec(2, 2, input_size=(3, 4), kernel_size=3, padding=1))", "quick"),
    ("verify_implementation ConvTranspose2d s2 (sampled)", "verify_implementation(torch.nn.functional.conv_transpose2d, "
     "ConvTransposeSpec(4, 4, input_size=16, kernel_size=3, stride=2), pass_params=True)", "full"),
    ("verify_backward (probe) torch autograd",
     "verify_backward(torch_backward, ConvSpec(4, 4, input_size=16, kernel_size=3), method='probe')", "full"),
    ("verify_backward (symbolic) 2→2 6×6",
     "verify_backward(numpy_backward, ConvSpec(2, 2, input_size=6, kernel_size=3, stride=2), method='symbolic')", "quick"),
]

_RUN = r'''
import json, resource, sys, time
import numpy as np, torch
from symconv.core.spec import ConvSpec
from symconv.core.transposed import ConvTransposeSpec
from symconv.prove.transposed import prove_transposed
from symconv.prove.backward import prove_backward, backward_closed_forms
from symconv.prove.padding_modes import prove_padding_mode, prove_circular_theorem
from symconv.check.backward import verify_backward
from symconv.check.implementation import verify_implementation

def torch_backward(x, w, g):
    x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
    b = torch.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
    torch.nn.functional.conv2d(x, w, b).backward(g)
    return x.grad, w.grad, b.grad

def numpy_backward(x, w, g, spec=ConvSpec(2, 2, input_size=6, kernel_size=3, stride=2)):
    parts = [backward_closed_forms(spec, x[n], w, g[n]) for n in range(len(x))]
    return np.stack([p[0] for p in parts]), sum(p[1] for p in parts), sum(p[2] for p in parts)

base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
result = EXPR
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "above_imports_mib": peak - base, "holds": bool(result.holds)}))
'''


ND_CASES = [
    ("Conv2d 64→64 128×128 3×3 (reference)", "ConvSpec(64, 64, input_size=(128, 128), kernel_size=3)"),
    ("Conv1d 64→64 65536 k=9", "ConvSpec(64, 64, input_size=(65536,), kernel_size=9)"),
    ("Conv3d 16→16 32³ 3³", "ConvSpec(16, 16, input_size=(32, 32, 32), kernel_size=3)"),
    ("Conv2d 64→64 128×128 3×3 (reference)", "ConvSpec(64, 64, input_size=(128, 128), kernel_size=3)"),
]

_ND_RUN = r'''
import json
from symconv.core.spec import ConvSpec
from symconv.prove.index_engine import prove_index
v = prove_index(SPEC)
print(json.dumps({"terms": v.terms, "seconds": v.seconds, "holds": bool(v.holds), "chunks": v.details["chunks"]}))
'''


def run_nd(as_json: bool) -> bool:
    """The index engine's terms/s on 1-D and 3-D against 2-D (see the module docstring); True iff within 1.5×."""
    rows = []
    for label, spec in ND_CASES:
        proc = subprocess.run([sys.executable, "-c", _ND_RUN.replace("SPEC", spec)], capture_output=True, text=True)
        if proc.returncode:
            print(f"{label:40} FAILED: {proc.stderr.strip().splitlines()[-1]}")
            return False
        rows.append((label, json.loads(proc.stdout.strip().splitlines()[-1])))
    reference = sum(r["terms"] / r["seconds"] for label, r in rows if "reference" in label) / 2
    ok = True
    for label, r in rows:
        rate = r["terms"] / r["seconds"]
        ratio = reference / rate
        ok &= r["holds"] and ratio <= 1.5
        if as_json:
            print(json.dumps({"layer": label, **r, "terms_per_s": rate, "slowdown_vs_2d": ratio}))
        else:
            print(f"{label:40} {r['terms']:>14,} terms {r['seconds']:8.2f} s {rate / 1e6:8.1f} M terms/s "
                  f"{ratio:5.2f}× the 2-D time per term  holds {r['holds']}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--nd", action="store_true", help="index-engine throughput on Conv1d/Conv3d against Conv2d")
    args = parser.parse_args(argv)
    if args.nd:
        return 0 if run_nd(args.json) else 1
    if not args.json:
        print(f"{'identity':48} {'seconds':>8} {'peak MiB':>9} {'above imports':>13}  holds")
    ok = True
    for label, expr, size in CASES:
        if args.quick and size == "full":
            continue
        proc = subprocess.run([sys.executable, "-c", _RUN.replace("EXPR", expr)], capture_output=True, text=True)
        if proc.returncode:
            print(f"{label:48} FAILED: {proc.stderr.strip().splitlines()[-1]}")
            ok = False
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        ok &= row["holds"]
        if args.json:
            print(json.dumps({"identity": label, **row}))
        else:
            print(f"{label:48} {row['seconds']:8.2f} {row['peak_mib']:9.1f} {row['above_imports_mib']:13.1f}  {row['holds']}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
