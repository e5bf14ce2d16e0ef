"""Timings of receptive fields: a 200-layer stack, regions, the 𝒲-product check, the SymPy derivations.

Targets (issue 3): receptive_field of a 200-layer stack with strides and dilation ≤ 50 ms; the 𝒲-product
check of a 10-layer stack on a 64×64 input ≤ 10 s. Run: ``python benchmarks/bench_receptive.py``.
Prints one line per measurement: best and median seconds over repeats, peak MiB (tracemalloc), and
the target when there is one. The machine is shared, so the best of several runs is the figure to quote.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from symconv.receptive.check import check_receptive_field
from symconv.receptive.field import effective_receptive_field, receptive_field
from symconv.receptive.forms import effective_forms, receptive_forms
from symconv.receptive.layers import Layer


def stack_200() -> list[Layer]:
    """200 layers: 3×3 convs with dilation 1–4 ('same'-like padding), a strided conv every 20th, pools."""
    layers = []
    for position in range(200):
        if position % 20 == 19:
            layers.append(Layer(3, stride=2, padding=1))
        elif position % 20 == 9:
            layers.append(Layer(3, stride=1, padding=1, kind="maxpool"))
        else:
            dilation = 1 + position % 4
            layers.append(Layer((3, 5), padding=(dilation, 2 * dilation), dilation=dilation))
    return layers


def stack_10_mixed() -> list[Layer]:
    return [Layer(3, padding=1), Layer(3, padding=1), Layer(2, stride=1, kind="maxpool"), Layer(3, stride=2, padding=1),
            Layer(3, padding=2, dilation=2), Layer(3, padding=1, kind="avgpool"), Layer(3, padding=1),
            Layer(5, padding=2), Layer(3, padding=3, dilation=3), Layer(3, padding=1)]


def measure(name: str, fn: Callable[[], Any], repeats: int, target: float | None = None) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    best = min(times)
    verdict = "" if target is None else f"  target ≤ {target:g} s: {'OK' if best <= target else 'MISSED'}"
    print(f"{name:<58} best {best:9.4f} s  median {statistics.median(times):9.4f} s  peak {peak:8.1f} MiB{verdict}")
    return best, result


def main() -> int:
    missed = False
    layers = stack_200()
    best, rf = measure("receptive_field, 200 layers (strides, dilation 1–4)", lambda: receptive_field(layers), 30, 0.050)
    missed |= best > 0.050
    print(f"    size {rf.size}, stride {rf.stride}, padding {rf.padding}")
    best, rf = measure("receptive_field, 200 layers, input 2048×2048", lambda: receptive_field(layers, 2048), 30, 0.050)
    missed |= best > 0.050
    print(f"    output {rf.output_size}")
    measure("  .region(centre), boxes only (masks=False)", lambda: rf.region((1, 1), masks=False), 10)
    small = receptive_field(layers, 1024)
    cells = sum(n * m for n, m in (lf.map_size for lf in small.layers))
    _, region = measure(f"  .region(centre), exact masks on all 201 maps, input 1024² ({cells / 1e6:.1f} M cells)",
                        lambda: small.region(tuple(n // 2 for n in small.output_size), masks=True), 3)
    print(f"    the output reads {region.maps[0].cells:,} of {1024 * 1024:,} input positions")
    for label, stack in (("10 mixed layers", stack_10_mixed()), ("10 × conv 3×3 'same' (densest)", [Layer(3, padding=1)] * 10)):
        best, check = measure(f"𝒲-product check, {label}, 64×64", lambda s=stack: check_receptive_field(s, (64, 64)), 3, 10.0)
        missed |= best > 10.0 or not check.holds
        print(f"    holds {check.holds}: {check.outputs:,} outputs ({check.interior_outputs:,} interior), "
              f"{check.nnz:,} nonzeros, field {check.size}")
    receptive_forms.cache_clear()
    effective_forms.cache_clear()
    measure("receptive_forms() derivation + proofs (uncached)", lambda: (receptive_forms.cache_clear(), receptive_forms())[1], 2)
    measure("effective_forms() derivation + proofs (uncached)",
            lambda: (effective_forms.cache_clear(), effective_forms())[1], 2)
    best, erf = measure("effective_receptive_field, 200 × conv 3 (1-D), exact ints", lambda: effective_receptive_field(
        [Layer((3,))] * 200), 3)
    axis = erf.axes[0]
    print(f"    r = {axis.size}, σ/r = {axis.std_over_size:.4f}, total paths = 3^200 ({len(str(axis.total))} digits)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
