"""Regenerate the example reports in this directory, .tex and .pdf, from the command line they record.

    python reports/regenerate.py            # rewrite reports/*.tex and reports/*.pdf
    python reports/regenerate.py --check    # regenerate the .tex into a temporary directory, compare, exit 1 if stale
    python reports/regenerate.py --tex-only # rewrite the .tex only (no TeX needed)

Each example is the argument list of ``symconv report`` (the footer of each report shows the full command,
with ``-o reports/NAME.tex --pdf``). The audit consults PyTorch when it is installed (``pip install -e
".[test]"``), as CI does; the committed audit report was made with it.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from pathlib import Path

# the symconv of this checkout, not whichever is installed: the examples must match the code beside them
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symconv.cli import build_parser  # noqa: E402
from symconv.cli.commands import report  # noqa: E402
from symconv.report import build_pdf, write_atomic  # noqa: E402

HERE = Path(__file__).resolve().parent

#: name → arguments of ``symconv report`` (without -o/--pdf).
EXAMPLES: dict[str, list[str]] = {
    # the note's smallest picture: one channel, a 2×2 kernel on a 3×3 input; 𝒲 small enough to print
    "seed-toy": ["--in-channels", "1", "--out-channels", "1", "--input", "3x3", "--kernel", "2x2"],
    # the example sizes used throughout symconv (README, tests): C₁ = 2, C₂ = 3, 5×5 input, 3×3 kernel
    "seed-example": ["--in-channels", "2", "--out-channels", "3", "--input", "5x5", "--kernel", "3x3"],
    # beyond the note: stride, padding and dilation (different per axis)
    "stride-padding-dilation": ["--in-channels", "2", "--out-channels", "2", "--input", "7x6", "--kernel", "3x3",
                                "--stride", "2", "--padding", "1", "--dilation", "1x2"],
    # a receptive-field stack: padding, stride, dilation and pooling
    "receptive-stack": ["--layers", "conv:k=3,p=1", "conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2", "avgpool:k=2,s=2",
                        "--input", "24x24"],
    # beyond 2-D: a 1-D layer (an audio-like signal), strided and padded; 𝒲 small enough to print whole
    "conv1d-audio": ["--in-channels", "1", "--out-channels", "2", "--input", "16", "--ndim", "1", "--kernel", "5",
                     "--stride", "2", "--padding", "2"],
    # a small 3-D layer (a volume), padded: 𝒲 drawn entry by entry
    "conv3d-volume": ["--in-channels", "1", "--out-channels", "2", "--input", "4x4x4", "--kernel", "3",
                      "--padding", "1"],
    # a transposed convolution that doubles a 3×3 map to 6×6 (stride 2, padding 1, output padding 1): 𝒲ᵀ printed
    "transposed-upsampling": ["--transposed", "--in-channels", "2", "--out-channels", "1", "--input", "3x3",
                              "--kernel", "3", "--stride", "2", "--padding", "1", "--output-padding", "1"],
    # a stack with a transposed layer: down by a strided conv, up by a tconv; exact regions, no single stride
    "transposed-stack": ["--layers", "conv:k=3,s=2,p=1", "tconv:k=3,s=2,p=1,op=1", "--input", "8x8"],
    # backprop through a strided, padded layer: ∂L/∂x as a ConvTranspose, ∂L/∂ω, ∂L/∂b, proved here and for all sizes
    "backward-example": ["--backward", "--in-channels", "2", "--out-channels", "2", "--input", "5x5", "--kernel", "3",
                         "--stride", "2", "--padding", "1"],
    # reflect padding (PyTorch's padding_mode): the padding map per axis, P, W_reflect = W_valid·P with its sums of
    # two weights printed, proved by both engines; counts
    "padding-reflect": ["--in-channels", "1", "--out-channels", "1", "--input", "3x4", "--kernel", "3", "--padding", "1",
                        "--padding-mode", "reflect"],
    # the audit of the note's claims
    "audit": ["--audit"],
    # the lecture note, corrected: the document to hand out instead of the note
    "corrected-note": ["--note"],
}


#: The date printed on the examples (``SOURCE_DATE_EPOCH``: 6 December 2026, UTC): fixed, so that regenerating
#: gives the same bytes; move it forward when the examples are revised.
SOURCE_DATE_EPOCH = "1796515200"


def tex_for(name: str) -> str:
    """The LaTeX source of example ``name``, exactly as ``SOURCE_DATE_EPOCH=… symconv report … -o reports/NAME.tex
    --pdf`` writes it."""
    args = build_parser().parse_args(["report", *EXAMPLES[name], "-o", f"reports/{name}.tex", "--pdf"])
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    try:
        return report.document(args)
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare freshly generated .tex with the committed files")
    mode.add_argument("--tex-only", action="store_true", help="rewrite the .tex files only")
    parser.add_argument("names", nargs="*", metavar="NAME", help="examples to regenerate (default: all)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in EXAMPLES]
    if unknown:
        parser.error(f"unknown example {unknown[0]!r}; choose from {', '.join(EXAMPLES)}")
    names = args.names or list(EXAMPLES)
    if args.check:
        stale = []
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                fresh = Path(tmp) / f"{name}.tex"
                fresh.write_text(tex_for(name), encoding="utf-8")
                committed = HERE / f"{name}.tex"
                old = committed.read_text(encoding="utf-8") if committed.exists() else ""
                if old != fresh.read_text(encoding="utf-8"):
                    stale.append(name)
                    diff = difflib.unified_diff(old.splitlines(), fresh.read_text(encoding="utf-8").splitlines(),
                                                f"reports/{name}.tex (committed)", f"reports/{name}.tex (fresh)", lineterm="")
                    print("\n".join(list(diff)[:40]))
        if stale:
            print(f"stale: {', '.join(stale)}; regenerate with: python reports/regenerate.py", file=sys.stderr)
            return 1
        print(f"up to date: {', '.join(names)}")
        return 0
    for name in names:
        tex = tex_for(name)
        write_atomic(HERE / f"{name}.tex", tex)
        print(f"wrote reports/{name}.tex")
        if not args.tex_only:
            result = build_pdf(tex, HERE / f"{name}.pdf")
            print(f"wrote reports/{name}.pdf ({result.pages} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
