"""Benchmark ``symconv report``: seconds from the command line to the PDF, split into LaTeX source and pdflatex.

Each case runs ``python -m symconv report … --pdf`` in a fresh process (imports included, as a user sees
it), then times the source alone in-process. Usage:

    python benchmarks/bench_report.py           # every case
    python benchmarks/bench_report.py --quick   # the two sizes of the issue only

Columns: case, end-to-end seconds (budget), seconds for the .tex only, pdflatex's share (the difference), PDF
pages, .tex KiB, peak MiB of the Python process. Budgets from issue 4: C₁ = C₂ = 2, 4×4, 2×2 to PDF
≤ 15 s; a 16×16 input with a 3×3 kernel ≤ 30 s; from issue 12: the 2→3, 5×5, 3×3 layer ≤ 6 s and the corrected
note ≤ 20 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [
    # (label, arguments of symconv report, budget in seconds or None)
    ("2→3, 5×5, 3×3", ["--in-channels", "2", "--out-channels", "3", "--input", "5x5", "--kernel", "3x3"], 6.0),
    ("2→2, 4×4, 2×2", ["--in-channels", "2", "--out-channels", "2", "--input", "4x4", "--kernel", "2x2"], 15.0),
    ("2→2, 16×16, 3×3", ["--in-channels", "2", "--out-channels", "2", "--input", "16x16", "--kernel", "3x3"], 30.0),
    ("3→8, 16×16, 3×3", ["--in-channels", "3", "--out-channels", "8", "--input", "16x16", "--kernel", "3x3"], 30.0),
    ("16→16, 16×16, 3×3 p1", ["--in-channels", "16", "--out-channels", "16", "--input", "16x16", "--kernel", "3x3",
                              "--padding", "1"], 30.0),
    ("3→64, 224×224, 3×3", ["--in-channels", "3", "--out-channels", "64", "--input", "224x224", "--kernel", "3x3"], None),
    ("stack of 4 on 24×24", ["--layers", "conv:k=3,p=1", "conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2", "avgpool:k=2,s=2",
                             "--input", "24x24"], None),
    ("1-D 1→2, 16, k5 s2 p2", ["--in-channels", "1", "--out-channels", "2", "--input", "16", "--ndim", "1", "--kernel", "5",
                              "--stride", "2", "--padding", "2"], None),
    ("3-D 1→2, 4×4×4, 3×3×3 p1", ["--in-channels", "1", "--out-channels", "2", "--input", "4x4x4", "--kernel", "3",
                                  "--padding", "1"], None),
    ("3-D 2→2, 8×8×8, 3×3×3", ["--in-channels", "2", "--out-channels", "2", "--input", "8x8x8", "--kernel", "3"], None),
    ("tconv 2→1, 3×3 → 6×6", ["--transposed", "--in-channels", "2", "--out-channels", "1", "--input", "3x3", "--kernel",
                              "3", "--stride", "2", "--padding", "1", "--output-padding", "1"], None),
    ("tconv 4→4, 16×16 → 32×32", ["--transposed", "--in-channels", "4", "--out-channels", "4", "--input", "16x16",
                                  "--kernel", "4", "--stride", "2", "--padding", "1"], None),
    ("stack conv s2 + tconv on 8×8", ["--layers", "conv:k=3,s=2,p=1", "tconv:k=3,s=2,p=1,op=1", "--input", "8x8"], None),
    ("audit of the note", ["--audit"], None),
    ("the note, corrected", ["--note"], 20.0),
]
QUICK = CASES[:4]


def _end_to_end(args: list[str], out: Path) -> tuple[float, float]:
    """Seconds and peak MiB of the report process (pdflatex runs in a child and is not included)."""
    code = (
        "import resource, sys\n"
        "from symconv.cli import main\n"
        f"rc = main({[*args, '-o', str(out), '--pdf']!r})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        "sys.exit(rc)\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "report"], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, float(done.stdout.split()[-1])


def _source_only(args: list[str], out: Path) -> float:
    code = (
        "import time\n"
        "from symconv.cli import build_parser\n"
        "from symconv.cli.commands import report\n"
        f"args = build_parser().parse_args(['report', *{args!r}, '-o', {str(out)!r}])\n"
        "start = time.perf_counter(); report.document(args); print(time.perf_counter() - start)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the sizes with a budget in the issue")
    opts = parser.parse_args()
    header = f"{'case':<24} {'total s':>8} {'budget':>7} {'.tex s':>7} {'TeX s':>6} {'pages':>5} {'KiB':>6} {'MiB':>6}"
    print(header)
    print("-" * len(header))
    over = 0
    with tempfile.TemporaryDirectory() as tmp:
        for number, (label, args, budget) in enumerate(QUICK if opts.quick else CASES):
            out = Path(tmp) / f"case{number}.tex"
            total, peak = _end_to_end(["report", *args], out)
            source = _source_only(args, out)
            pages = subprocess.run(["pdfinfo", str(out.with_suffix(".pdf"))], capture_output=True, text=True).stdout
            pages = next((line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")), "?")
            shown = "—" if budget is None else f"{budget:g}"
            flag = "" if budget is None or total <= budget else "  OVER BUDGET"
            over += bool(flag)
            print(f"{label:<24} {total:>8.2f} {shown:>7} {source:>7.2f} {max(total - source, 0):>6.2f} {pages:>5} "
                  f"{out.stat().st_size / 1024:>6.0f} {peak:>6.0f}{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
