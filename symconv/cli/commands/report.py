"""``symconv report``: a LaTeX report (and with ``--pdf`` a PDF) on one layer, a layer stack or the note's audit.

The footer of every report records the command that reproduces it, rebuilt from the parsed arguments
(:func:`command_line`), so that the same arguments give byte-identical LaTeX wherever they are run.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ...errors import SpecError
from ..progress import progress_bar
from ._spec_args import add_spec_arguments, parse_position, parse_sizes, spec_from_args, transposed_from_args

NAME = "report"
HELP = ("write a LaTeX report (--pdf: also a PDF) on one layer (any ndim; --transposed: a ConvTranspose), a layer "
        "stack (--layers), the note's audit (--audit) or the corrected note (--note)")

_LAYER_FLAGS = ("in_channels", "out_channels", "input", "kernel")
_SPEC_DEFAULTS = {"stride": "1", "padding": "0", "dilation": "1", "groups": 1, "bias": "shared"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # the layer is required only for the one-layer report; run() says so when it is missing
    add_spec_arguments(parser, required=False)
    kind = parser.add_argument_group("what to report on (default: the layer given by the layer arguments)")
    modes = kind.add_mutually_exclusive_group()
    modes.add_argument("--layers", nargs="+", metavar="LAYER",
                       help="a stack of layers, e.g. conv:k=3,p=1 maxpool:k=2,s=2 (needs --input for the input size)")
    modes.add_argument("--audit", action="store_true", help="the audit of the lecture note's claims")
    modes.add_argument("--note", action="store_true",
                       help="the lecture note, corrected: each claim as written, verdict, correction; prose errata")
    kind.add_argument("--no-torch", action="store_true", help="--audit, --note: skip the PyTorch cross-checks")
    kind.add_argument("--transposed", action="store_true",
                      help="the layer arguments describe a ConvTranspose layer (PyTorch's semantics)")
    kind.add_argument("--backward", action="store_true",
                      help="the backprop identities of the layer: ∂L/∂x as a ConvTranspose, ∂L/∂ω, ∂L/∂b, proved")
    kind.add_argument("--output-padding", default=None, metavar="A", help="ConvTranspose output_padding (with --transposed)")
    kind.add_argument("--padding-mode", default="zeros", choices=("zeros", "reflect", "replicate", "circular"),
                      help="PyTorch's padding_mode of the layer; not zeros: W_mode = W_valid P_mode (default zeros)")
    g = parser.add_argument_group("report")
    g.add_argument("-o", "--output", required=True, metavar="FILE.tex", help="where to write the LaTeX source (- : stdout)")
    g.add_argument("--pdf", action="store_true", help="also compile FILE.pdf with latexmk (--engine)")
    g.add_argument("--quiet", action="store_true", help="no progress bar (it shows on a terminal only, after 2 s)")
    g.add_argument("--engine", choices=("pdflatex", "lualatex"), default="pdflatex",
                   help="TeX engine for --pdf and the font setup (lualatex: any Unicode in the title)")
    g.add_argument("--title", default=None,
                   help="document title: text printed literally, with inline $…$ math (letters, operators, common commands)")
    g.add_argument("--body-only", action="store_true",
                   help="a fragment to \\input into your own document: no preamble, namespaced macros (\\symconvW, …)")
    g.add_argument("--template-dir", default=None, metavar="DIR",
                   help="templates here replace the shipped ones by name (e.g. section_counts.tex.j2)")
    g.add_argument("--position", default=None, metavar="JxK",
                   help="output position shown, one index per axis (0-based, e.g. 5 in 1-D, 1x1x1 in 3-D; default: "
                        "blocks at 0x0 and the receptive field at the centre)")
    g.add_argument("--timings", action="store_true", help="print the proof's seconds (the .tex then differs run to run)")


def command_line(args: argparse.Namespace) -> str:
    """The canonical ``symconv report …`` command for ``args``: explicit layer, non-default options only."""
    words = ["symconv", NAME]
    if args.audit or args.note:
        words.append("--audit" if args.audit else "--note")
        if args.no_torch:
            words.append("--no-torch")
    elif args.layers:
        words += ["--layers", *args.layers, "--input", args.input]
        if args.ndim is not None:
            words += ["--ndim", str(args.ndim)]
    else:
        if args.transposed:
            words.append("--transposed")
        if args.backward:
            words.append("--backward")
        words += ["--in-channels", str(args.in_channels), "--out-channels", str(args.out_channels),
                  "--input", args.input, "--kernel", args.kernel]
        for name, default in _SPEC_DEFAULTS.items():
            value = getattr(args, name)
            if value != default:
                words += [f"--{name}", str(value)]
        for name in ("output_padding", "ndim"):
            if getattr(args, name) is not None:
                words += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        if args.padding_mode != "zeros":
            words += ["--padding-mode", args.padding_mode]
    if args.position is not None:
        words += ["--position", args.position]
    if args.title is not None:
        words += ["--title", args.title]
    if args.timings:
        words.append("--timings")
    if args.body_only:
        words.append("--body-only")
    if args.template_dir is not None:
        words += ["--template-dir", args.template_dir]
    if args.engine != "pdflatex":
        words += ["--engine", args.engine]
    words += ["-o", args.output]
    if args.pdf:
        words.append("--pdf")
    return shlex.join(words)


def _check_mode(args: argparse.Namespace) -> None:
    """One-line SpecErrors for arguments that do not fit the kind of report asked for."""
    from ...report.render import title_tex

    if args.title is not None:
        try:
            title_tex(args.title, unicode=args.engine == "lualatex")
        except SpecError as exc:
            hint = "" if args.engine == "lualatex" or "printable" not in str(exc) else " (--engine lualatex accepts it)"
            raise SpecError(f"--title: {exc}{hint}") from None
    if args.body_only and args.pdf:
        raise SpecError("--body-only writes a fragment for \\input, which does not compile alone; drop --pdf")
    if args.output == "-" and args.pdf:
        raise SpecError("-o - writes the LaTeX to stdout; --pdf needs a file name")
    if args.audit or args.note or args.layers:
        mode = "--audit" if args.audit else "--note" if args.note else "--layers"
        used = [name for name in _LAYER_FLAGS if getattr(args, name) is not None and not (args.layers and name == "input")]
        used += [name for name, default in _SPEC_DEFAULTS.items() if getattr(args, name) != default]
        if used:
            raise SpecError(f"{mode} takes no layer arguments, got --{used[0].replace('_', '-')}")
        if args.layers and args.input is None:
            raise SpecError("--layers needs --input HxW, the size of the stack's input")
        if (args.audit or args.note) and args.position is not None:
            raise SpecError(f"{mode} takes no --position")
    else:
        missing = [f"--{name.replace('_', '-')}" for name in _LAYER_FLAGS if getattr(args, name) is None]
        if missing:
            raise SpecError(
                f"the layer to report on is incomplete: {', '.join(missing)} required (or --layers, --audit, --note)")
    if args.no_torch and not (args.audit or args.note):
        raise SpecError("--no-torch applies to --audit and --note only")
    _check_transposed(args)
    _check_backward(args)
    _check_padding_mode(args)


def _check_backward(args: argparse.Namespace) -> None:
    """One-line SpecErrors for --backward with arguments it does not combine with."""
    if not args.backward:
        return
    for flag, given in (("--transposed", args.transposed), ("--layers", args.layers), ("--audit", args.audit),
                        ("--note", args.note), ("--timings", args.timings), ("--position", args.position is not None)):
        if given:
            raise SpecError(f"--backward reports on one convolution layer; it cannot be combined with {flag}")
    mode = getattr(args, "padding_mode", None) or "zeros"
    if mode != "zeros":
        raise SpecError(f"--padding-mode must be 'zeros' for --backward (its identities are for zero padding), got {mode!r}")


def _check_padding_mode(args: argparse.Namespace) -> None:
    """One-line SpecErrors for --padding-mode with arguments it does not combine with."""
    if args.padding_mode == "zeros":
        return
    why = {"--transposed": "PyTorch's ConvTranspose pads with zeros only",
           "--layers": "a stack's conv layers pad with zeros", "--audit": "the note's claims are about zero padding",
           "--note": "the note's claims are about zero padding",
           "--position": "the padding-mode report shows whole matrices, not one position",
           "--timings": "the padding-mode report prints no timings"}
    for flag, given in (("--transposed", args.transposed), ("--layers", args.layers), ("--audit", args.audit),
                        ("--note", args.note), ("--position", args.position is not None), ("--timings", args.timings)):
        if given:
            raise SpecError(f"--padding-mode {args.padding_mode} cannot be combined with {flag}: {why[flag]}")


def _check_transposed(args: argparse.Namespace) -> None:
    """One-line SpecErrors for --transposed / --output-padding with arguments they do not combine with."""
    if args.output_padding is not None and not args.transposed:
        raise SpecError("--output-padding needs --transposed (it is a ConvTranspose parameter)")
    if not args.transposed:
        return
    for flag, given in (("--layers", args.layers), ("--audit", args.audit), ("--note", args.note)):
        if given:
            raise SpecError(f"--transposed describes one ConvTranspose layer; it cannot be combined with {flag} "
                            "(a stack takes tconv:k=…,s=… layers)")
    if args.bias == "per_location":
        raise SpecError("--bias must be 'shared' or 'none' for --transposed (ConvTranspose has one bias per channel), "
                        "got 'per_location'")
    if args.timings:
        raise SpecError("--timings is for the forward layer's proof; it cannot be combined with --transposed")


def document(args: argparse.Namespace) -> str:
    """The LaTeX source that ``args`` ask for (nothing written)."""
    # the library (SymPy, Jinja) loads here, not when the CLI is built: --help stays instant
    from ...report import audit_report, backward_report, layers_report, note_report, spec_report, transposed_report

    _check_mode(args)
    command = command_line(args)
    options = {"body_only": args.body_only, "template_dir": args.template_dir, "engine": args.engine}
    if args.audit:
        from ...claims.audit import audit

        return audit_report(audit(torch=False if args.no_torch else None), title=args.title, command=command, **options)
    if args.note:
        from ...claims.audit import audit

        return note_report(audit(torch=False if args.no_torch else None), title=args.title, command=command, **options)
    if args.layers:
        from ...receptive.layers import parse_layer

        size = parse_sizes("input", args.input)
        if isinstance(size, int):
            size = (size,) * (args.ndim or 2)
        elif args.ndim is not None and len(size) != args.ndim:
            count = "1 size" if args.ndim == 1 else f"1 or {args.ndim} sizes"
            raise SpecError(f"--input must have {count} (one per spatial axis, as --ndim {args.ndim} gives), "
                            f"got {args.input!r}")
        index = None if args.position is None else parse_position(args.position, len(size))
        return layers_report([parse_layer(text) for text in args.layers], size, title=args.title, command=command,
                             index=index, **options)
    if args.transposed:
        layer = transposed_from_args(args)
        position = None if args.position is None else parse_position(args.position, layer.ndim)
        return transposed_report(layer, title=args.title, command=command, position=position, **options)
    spec = spec_from_args(args)
    if args.backward:
        return backward_report(spec, title=args.title, command=command, **options)
    position = None if args.position is None else parse_position(args.position, spec.ndim)
    return spec_report(spec, title=args.title, command=command, position=position, timings=args.timings, **options)


def run(args: argparse.Namespace) -> int:
    from ...report import LatexError, build_pdf, write_atomic

    if args.output == "-":
        sys.stdout.write(document(args))
        return 0
    output = Path(args.output)
    if output.suffix != ".tex":
        raise SpecError(f"-o must name a .tex file (the PDF goes next to it), got {args.output!r}")
    if not output.parent.is_dir():
        raise SpecError(f"-o: directory {str(output.parent)!r} does not exist")
    stages = 2 if args.pdf else 1  # the LaTeX source, then the PDF
    with progress_bar(args, unit="stages") as progress:
        tex = document(args)
        write_atomic(output, tex)
        if progress is not None:
            progress(1, stages)
        print(f"wrote {output}")
        if not args.pdf:
            return 0
        try:
            result = build_pdf(tex, output.with_suffix(".pdf"), engine=args.engine)
        except LatexError as exc:  # several lines from the log: more than the one-line errors main() prints
            print(f"symconv {NAME}: error: {exc}", file=sys.stderr)
            return 2
        if progress is not None:
            progress(stages, stages)
    print(f"wrote {result.path} ({result.pages} pages)")
    for warning in result.warnings:  # what LaTeX complained about, e.g. a glyph missing from the font
        print(f"symconv {NAME}: {args.engine} {warning}", file=sys.stderr)
    if result.overfull_boxes:
        print(f"symconv {NAME}: {args.engine}: {result.overfull_boxes} overfull boxes (text wider than the line)",
              file=sys.stderr)
    return 0
