"""``symconv report``: a LaTeX report (and with ``--pdf`` a PDF) on one layer, a layer stack or the note's audit.

The footer of every report records the command that reproduces it, rebuilt from the parsed arguments
(:func:`command_line`), so that the same arguments give byte-identical LaTeX wherever they are run.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..errors import SpecError
from ..report import LatexError, build_pdf, spec_report, write_atomic
from ._spec_args import add_spec_arguments, spec_from_args

NAME = "report"
HELP = "write a LaTeX report (--pdf: also a PDF) on one layer, a layer stack (--layers) or the note's audit (--audit)"

_LAYER_FLAGS = ("in_channels", "out_channels", "input", "kernel")
_SPEC_DEFAULTS = {"stride": "1", "padding": "0", "dilation": "1", "groups": 1, "bias": "shared"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    # the layer is required only for the one-layer report; run() says so when it is missing
    for action in parser._actions:
        if action.dest in _LAYER_FLAGS:
            action.required = False
    g = parser.add_argument_group("report")
    g.add_argument("-o", "--output", required=True, metavar="FILE.tex", help="where to write the LaTeX source")
    g.add_argument("--pdf", action="store_true", help="also compile FILE.pdf with latexmk (pdflatex)")
    g.add_argument("--title", default=None, help="document title (printed literally)")
    g.add_argument("--position", default="0x0", metavar="JxK",
                   help="output position whose blocks are shown (0-based, default 0x0)")
    g.add_argument("--timings", action="store_true", help="print the proof's seconds (the .tex then differs run to run)")


def command_line(args: argparse.Namespace) -> str:
    """The canonical ``symconv report …`` command for ``args``: explicit layer, non-default options only."""
    words = ["symconv", NAME]
    if args.in_channels is not None:
        words += ["--in-channels", str(args.in_channels), "--out-channels", str(args.out_channels),
                  "--input", args.input, "--kernel", args.kernel]
        for name, default in _SPEC_DEFAULTS.items():
            value = getattr(args, name)
            if value != default:
                words += [f"--{name}", str(value)]
    if args.position != "0x0":
        words += ["--position", args.position]
    if args.title is not None:
        words += ["--title", args.title]
    if args.timings:
        words.append("--timings")
    words += ["-o", args.output]
    if args.pdf:
        words.append("--pdf")
    return shlex.join(words)


def _position(text: str) -> tuple[int, int]:
    try:
        j, k = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise SpecError(f"--position must be JxK with 0-based ints (e.g. 0x0), got {text!r}") from None
    return j, k


def document(args: argparse.Namespace) -> str:
    """The LaTeX source that ``args`` ask for (nothing written)."""
    missing = [f"--{name.replace('_', '-')}" for name in _LAYER_FLAGS if getattr(args, name) is None]
    if missing:
        raise SpecError(f"the layer to report on is incomplete: {', '.join(missing)} required")
    spec = spec_from_args(args)
    return spec_report(spec, title=args.title, command=command_line(args), position=_position(args.position),
                       timings=args.timings)


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix != ".tex":
        raise SpecError(f"-o must name a .tex file (the PDF goes next to it), got {args.output!r}")
    if not output.parent.is_dir():
        raise SpecError(f"-o: directory {str(output.parent)!r} does not exist")
    tex = document(args)
    write_atomic(output, tex)
    print(f"wrote {output}")
    if args.pdf:
        try:
            result = build_pdf(tex, output.with_suffix(".pdf"))
        except LatexError as exc:  # several lines from the log: more than the one-line errors main() prints
            print(f"symconv {NAME}: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {result.path} ({result.pages} pages)")
    return 0
