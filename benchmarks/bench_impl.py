"""Timings of verify_implementation: calls made to fn, inputs given, seconds, peak memory.

    python benchmarks/bench_impl.py            # the issue's layer (8→8, 16×16, 3×3) with each parameter, sparse
    python benchmarks/bench_impl.py --onehot   # also read every coefficient one-hot (float32; ~10 s per layer)
    python benchmarks/bench_impl.py --runs     # cost of the numeric runs: each layer without and with them
    python benchmarks/bench_impl.py --nd       # Conv1d and Conv3d (F.conv1d/F.conv3d, sparse; a NumPy loop on
                                               # symbols) next to 2-D layers with about as many terms

``--runs`` times every layer twice in the same process, interleaved: once with the numeric runs that
accompany every reading (:mod:`symconv.check.runs`) switched off — the check as it was before they existed —
and once as shipped; ``added`` is the difference of the medians, and ``runs s`` the median time spent inside the
numeric runs themselves (timed around :func:`symconv.check.runs.numeric_runs`, so not blurred by a busy
machine's noise between whole checks) with ``runs/rest``, their cost relative to the rest of the check.

The result column is the verdict's status: ``HOLDS (exact)`` only for a symbolic run; probing says
``AGREES (sampled, …)``. Seconds are the median of ``--repeat`` warm runs (the first, cold run — PyTorch's thread pool and kernels
warming up — is shown apart). Peak MiB is tracemalloc's peak of Python/NumPy allocations during one run
(PyTorch's own buffers are not traced), from a separate run; max RSS is the whole process's.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symconv import ConvSpec  # noqa: E402
from symconv.check.implementation import verify_implementation  # noqa: E402


def _layers() -> dict[str, ConvSpec]:
    base = {"in_channels": 8, "out_channels": 8, "input_size": 16, "kernel_size": 3}
    return {
        "padding 1": ConvSpec(**base, padding=1),
        "stride 2, padding 1": ConvSpec(**base, stride=2, padding=1),
        "dilation 2, padding 2": ConvSpec(**base, dilation=2, padding=2),
        "groups 2, padding 1": ConvSpec(**base, groups=2, padding=1),
        "depthwise (groups 8)": ConvSpec(**base, groups=8, padding=1),
        "stride 2, padding 1, dilation 2, groups 2": ConvSpec(**base, stride=2, padding=1, dilation=2, groups=2),
    }


def _measure(fn, spec, repeat: int, **options) -> dict:
    start = time.perf_counter()
    cold = verify_implementation(fn, spec, **options)
    cold_seconds = time.perf_counter() - start
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = verify_implementation(fn, spec, **options)
        seconds.append(time.perf_counter() - start)
    assert result.holds == cold.holds
    tracemalloc.start()  # a separate run: tracing slows every allocation
    verify_implementation(fn, spec, **options)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"result": result, "cold": cold_seconds, "seconds": statistics.median(seconds), "peak": peak / 2**20}


def _row(name: str, m: dict) -> str:
    r = m["result"]
    status = r.status if r.holds else "FAILS " + ",".join(r.codes)
    return (f"{name:44s} {r.method:7s} {r.calls:6d} {r.samples:8d} {m['seconds']:8.3f} {m['cold']:8.3f} "
            f"{m['peak']:8.1f}  {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--onehot", action="store_true", help="also time method='onehot' with float32 probes")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    parser.add_argument("--runs", action="store_true", help="time each layer without and with the numeric runs")
    parser.add_argument("--nd", action="store_true", help="Conv1d and Conv3d next to 2-D layers of as many terms")
    parser.add_argument("--symbolic", action="store_true", help="with --nd: also the symbolic run of a NumPy loop")
    args = parser.parse_args()
    if args.runs:
        _compare_runs(args.repeat)
        return
    if args.nd:
        _compare_ndim(args.repeat, args.symbolic)
        return

    import torch
    import torch.nn.functional as F

    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    header = f"{'layer (torch.nn.functional.conv2d, C1=C2=8, 16x16, 3x3)':44s} {'method':7s} {'calls':>6s} " \
             f"{'inputs':>8s} {'seconds':>8s} {'cold s':>8s} {'peak MiB':>8s}  result"
    print(header)
    print("-" * len(header))
    for name, spec in _layers().items():
        print(_row(name, _measure(F.conv2d, spec, args.repeat, pass_params=True)), flush=True)
    spec = _layers()["stride 2, padding 1, dilation 2, groups 2"]
    params = {"stride": spec.stride, "padding": spec.padding, "dilation": spec.dilation, "groups": spec.groups}

    def flipped(x, w, b):
        return F.conv2d(x, torch.flip(w, dims=(-2, -1)), b, **params)
    print(_row("flipped kernel (a bug), diagnosis included", _measure(flipped, spec, args.repeat)), flush=True)
    if args.onehot:
        for name in ("stride 2, padding 1, dilation 2, groups 2",):
            m = _measure(F.conv2d, _layers()[name], 1, pass_params=True, method="onehot", dtype="float32")
            print(_row(f"{name} [onehot, float32]", m), flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS of the process: {rss:.0f} MiB")


def _nd_layers() -> list[tuple[str, ConvSpec]]:
    """The issue's 1-D and 3-D layers, each followed by a 2-D layer with about as many terms."""
    return [
        ("Conv1d 16→16, length 1024, k 9", ConvSpec(16, 16, input_size=(1024,), kernel_size=9)),
        ("Conv2d 16→16, 32×32, k 3", ConvSpec(16, 16, input_size=32, kernel_size=3)),
        ("Conv3d 4→4, 8×8×8, k 3", ConvSpec(4, 4, input_size=(8, 8, 8), kernel_size=3)),
        ("Conv2d 4→4, 26×26, k 3", ConvSpec(4, 4, input_size=26, kernel_size=3)),
    ]


def _numpy_loop(spec: ConvSpec):
    """y = Σ over kernel taps of a strided window times ω (stride 1, no padding): runs on SymPy symbols too."""
    import itertools

    def fn(x, w, b):
        out = spec.output_size
        y = np.zeros((x.shape[0], spec.out_channels, *out), dtype=np.result_type(x, w))
        for t in itertools.product(*map(range, spec.kernel_size)):
            window = x[(slice(None), slice(None), *(slice(a, a + o) for a, o in zip(t, out)))]
            y += np.einsum("nl...,il->ni...", window, w[(slice(None), slice(None), *t)])
        return y + b.reshape(1, -1, *[1] * spec.ndim)
    return fn


def _compare_ndim(repeat: int, symbolic: bool) -> None:
    """Seconds of verify_implementation for F.conv1d/F.conv3d (sparse) and 2-D layers with about as many terms."""
    import torch.nn.functional as F

    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
    print(f"{'layer':34s} {'terms':>10s} {'fn':9s} {'method':8s} {'calls':>6s} {'inputs':>7s} {'seconds':>8s} "
          f"{'cold s':>8s}  result")
    for name, spec in _nd_layers():
        runs = [("F.conv", conv[spec.ndim], {"pass_params": True, "method": "sparse"})]
        if symbolic and spec.n_terms <= 200_000:
            runs.append(("NumPy", _numpy_loop(spec), {"method": "symbolic"}))
        for label, fn, options in runs:
            if label == "F.conv":
                m = _measure(fn, spec, repeat, **options)
            else:  # one run: the symbolic check of a large layer takes long, and its time hardly varies
                start = time.perf_counter()
                result = verify_implementation(fn, spec, **options)
                m = {"result": result, "seconds": time.perf_counter() - start}
                m["cold"] = m["seconds"]
            r = m["result"]
            print(f"{name:34s} {spec.n_terms + spec.n_bias_terms:10,d} {label:9s} {r.method:8s} {r.calls:6d} "
                  f"{r.samples:7d} {m['seconds']:8.3f} {m['cold']:8.3f}  {r.status}", flush=True)


def _compare_runs(repeat: int) -> None:
    """Each layer without and with the numeric runs, interleaved in one process (medians of ``repeat``)."""
    import os

    import torch.nn.functional as F

    from symconv.check import implementation
    from symconv.check.runs import RunsOutcome

    shipped = implementation._run_numerically
    numeric_runs = implementation.numeric_runs
    inside: list[float] = []

    def without(*args, **kwargs):
        return RunsOutcome(())

    def timed_runs(*args, **kwargs):
        start = time.perf_counter()
        try:
            return numeric_runs(*args, **kwargs)
        finally:
            inside.append(time.perf_counter() - start)
    implementation.numeric_runs = timed_runs
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"{os.cpu_count()} cores")
    print(f"{'layer (F.conv2d, 8→8, 16×16, 3×3)':44s} {'without s':>10s} {'with s':>10s} {'added':>7s} "
          f"{'runs s':>8s} {'runs/rest':>9s}")
    for name, spec in _layers().items():
        times: dict[str, list[float]] = {"without": [], "with": []}
        inside.clear()
        for _ in range(repeat + 1):  # the first round warms up, and is dropped
            for label, stage in (("without", without), ("with", shipped)):
                implementation._run_numerically = stage
                start = time.perf_counter()
                result = verify_implementation(F.conv2d, spec, pass_params=True)
                times[label].append(time.perf_counter() - start)
                assert result.holds, result.describe()
        implementation._run_numerically = shipped
        a, b = statistics.median(times["without"][1:]), statistics.median(times["with"][1:])
        r = statistics.median(inside[1:])
        print(f"{name:44s} {a:10.3f} {b:10.3f} {100 * (b - a) / a:6.1f}% {r:8.4f} {100 * r / (b - r):8.1f}%",
              flush=True)
    implementation.numeric_runs = numeric_runs


if __name__ == "__main__":
    main()
