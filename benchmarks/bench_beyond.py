"""Benchmark the identities beyond Conv2d: transposed convolution, backprop, padding modes, check of a backward pass.

Each identity runs in a fresh Python process (so its peak memory is its own), timed with perf_counter; the peak
is the process's peak RSS (``resource``; tracemalloc slows SymPy 5–8×), and the part of it above the imports. Usage:

    python benchmarks/bench_beyond.py            # the issue's sizes: C₁ = C₂ = 4, 16×16, 3×3
    python benchmarks/bench_beyond.py --quick    # small sizes only
    python benchmarks/bench_beyond.py --json     # one JSON object per line
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
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
