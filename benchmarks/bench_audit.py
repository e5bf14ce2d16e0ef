"""Benchmark ``symconv audit`` end to end, and the derivations behind ``symconv counts``.

Each row runs the command in a fresh process (interpreter start, imports and all) and reads that
process's own peak RSS and CPU seconds from ``os.wait4`` (CPU: user + system, including the child the audit forks
for its all-size proofs). The machine may be shared: the load average is printed first. Usage:

    python benchmarks/bench_audit.py            # audit with and without PyTorch, counts
    python benchmarks/bench_audit.py --repeat 3 # best of 3 (the machine may be shared)
    python benchmarks/bench_audit.py --audit-only --repeat 3   # the three audit rows only

The issue's budget: ``symconv audit`` end to end ≤ 20 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

BUDGET_SECONDS = 20.0

RUNS = [
    ("symconv audit (PyTorch cross-checks on)", ["-m", "symconv", "audit"]),
    ("symconv audit --no-torch", ["-m", "symconv", "audit", "--no-torch"]),
    ("symconv audit --json", ["-m", "symconv", "audit", "--json"]),
    ("symconv audit --max-size 4 (400 layers)", ["-m", "symconv", "audit", "--max-size", "4"]),
    ("symconv counts 3→64, 224×224, 7×7 s2 p3", ["-m", "symconv", "counts", "--in-channels", "3", "--out-channels", "64",
                                                "--input", "224", "--kernel", "7", "--stride", "2", "--padding", "3"]),
    ("symconv counts, dilated grouped 'same'", ["-m", "symconv", "counts", "--in-channels", "32", "--out-channels", "32",
                                               "--input", "64x48", "--kernel", "3x5", "--padding", "same", "--dilation", "2x1",
                                               "--groups", "32", "--derivations"]),
]


def _run(args: list[str]) -> tuple[float, float, float, int]:
    """(seconds, CPU seconds, peak MiB, exit code) of ``python args`` in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by wait4 already
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the fastest is shown (default 1)")
    parser.add_argument("--audit-only", action="store_true", help="the audit rows without --max-size only")
    options = parser.parse_args()
    runs = [r for r in RUNS if r[0].startswith("symconv audit") and "max-size" not in r[0]] if options.audit_only else RUNS
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'command':<46} {'seconds':>8} {'CPU s':>7} {'peak MiB':>9}  exit")
    over_budget = False
    for label, args in runs:
        best = min((_run(args) for _ in range(options.repeat)), key=lambda r: r[0])
        seconds, cpu, mib, code = best
        flag = ""
        if label.startswith("symconv audit") and "max-size" not in label and seconds > BUDGET_SECONDS:
            flag, over_budget = "  OVER the 20 s budget", True
        print(f"{label:<46} {seconds:>8.2f} {cpu:>7.2f} {mib:>9.0f}  {code}{flag}")
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
