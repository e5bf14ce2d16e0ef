"""Whole documents: gather → sections → render.

Each function reads top to bottom: compute every result once (:mod:`.gather`, where the library does
the mathematics), shape the frozen results for the templates (:mod:`.sections`, :mod:`.figures`), lay
them out (:mod:`.render`). Nothing here writes files.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..core.spec import ConvSpec
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from .figures import sparsity_figure
from .gather import gather_layer, gather_stack, note_theorem
from .gather_backward import gather_backward
from .gather_modes import gather_mode_layer
from .gather_nd import gather_nd_layer, gather_transposed
from .render import render
from .sections import (
    audit_section,
    backward_section,
    blocks_section,
    corrected_note,
    counts_section,
    definition_section,
    footer,
    front,
    nd_layer_section,
    proof_section,
    receptive_section,
    spec_section,
    stack_section,
    transposed_section,
)
from .sections.modes import mode_section

if TYPE_CHECKING:
    from ..claims.audit import Audit

__all__ = ["audit_report", "backward_report", "default_title", "layers_report", "note_report", "spec_report", "transposed_report",
           "transposed_title"]


def _axes(values: tuple[int, ...]) -> str:
    """One number when every axis agrees, else one per axis: ``2`` or ``1×2``."""
    return str(values[0]) if len(set(values)) == 1 else "×".join(str(v) for v in values)


def _layer_words(kind: str, spec: ConvSpec | ConvTransposeSpec) -> list[str]:
    """The start of a layer's title: kind (with its ndim unless 2-D), channels, input and kernel sizes."""
    kind = kind if spec.ndim == 2 else f"{spec.ndim}-D {kind}"
    if spec.ndim == 1:
        sizes = [f"input length {spec.input_size[0]}", f"kernel {spec.kernel_size[0]}"]
    else:
        sizes = [f"{'×'.join(map(str, spec.input_size))} input", f"{'×'.join(map(str, spec.kernel_size))} kernel"]
    return [f"The {kind} {spec.in_channels} → {spec.out_channels} channels", *sizes]


def default_title(spec: ConvSpec) -> str:
    """A title carrying the whole layer: channels, sizes, and stride, padding, dilation, groups, bias when not the default.

    >>> default_title(ConvSpec(2, 3, input_size=5, kernel_size=3))
    'The convolution 2 → 3 channels, 5×5 input, 3×3 kernel'
    >>> default_title(ConvSpec(2, 2, input_size=(7, 6), kernel_size=3, stride=2, padding=1, dilation=(1, 2)))
    'The convolution 2 → 2 channels, 7×6 input, 3×3 kernel, stride 2, padding 1, dilation 1×2'
    """
    words = _layer_words("convolution", spec)
    if any(s != 1 for s in spec.stride):
        words.append(f"stride {_axes(spec.stride)}")
    if spec.padding_before != spec.padding_after:
        words.append(f"padding {_axes(spec.padding_before)} before, {_axes(spec.padding_after)} after")
    elif any(spec.padding_before):
        words.append(f"padding {_axes(spec.padding_before)}")
    if any(d != 1 for d in spec.dilation):
        words.append(f"dilation {_axes(spec.dilation)}")
    if spec.groups != 1:
        words.append(f"{spec.groups} groups")
    if spec.bias != "shared":
        words.append({"none": "no bias", "per_location": "bias per location"}[spec.bias])
    if spec.padding_mode != "zeros":
        words.append(f"{spec.padding_mode} padding")
    return ", ".join(words)


def spec_report(
    spec: ConvSpec,
    title: str | None = None,
    command: str | None = None,
    position: tuple[int, ...] | None = None,
    timings: bool = False,
    *,
    body_only: bool = False,
    template_dir: str | os.PathLike[str] | None = None,
    date: str | None = None,
    engine: str = "pdflatex",
) -> str:
    """The LaTeX source of the report on one layer: notation, index sum, blocks, proof, sparsity, footer.

    A layer of ndim ≠ 2 gets the N-D document (the note's blocks are 2-D): the index sum for its ndim, 𝒲 from the
    per-axis assembly, the identity proved at its sizes, its pattern, receptive field and counts. A layer with
    ``padding_mode`` reflect / replicate / circular (any ndim) gets the padding-mode document: the index sum through
    the padding map, P_mode, 𝒲_mode = 𝒲_valid·P_mode proved at its sizes, sums of weights, counts.

    ``position`` is the 0-based output position whose blocks and receptive field are shown (default: the
    blocks at (0, 0) as in the note, the receptive field at the centre); ``timings`` adds the proof's
    seconds (which makes the source differ from run to run). ``body_only`` gives a fragment to ``\\input`` (no
    preamble, namespaced macros listed at its top); ``template_dir`` holds templates that replace the shipped
    ones by name; ``date`` is printed under the title (default: ``SOURCE_DATE_EPOCH`` if set, never the clock);
    ``engine`` ("pdflatex" or "lualatex", which accepts any Unicode in the title) chooses the font setup.

    >>> tex = spec_report(ConvSpec(1, 1, input_size=3, kernel_size=2), command="symconv report …")
    >>> tex.startswith("\\\\documentclass"), "\\\\section{The index sum}" in tex
    (True, True)
    """
    if spec.padding_mode != "zeros":  # the note's construction is for zero padding: 𝒲_mode = 𝒲_valid·P instead
        for name, given in (("position", position is not None), ("timings", timings)):
            if given:
                raise SpecError(f"{name} is not used by the report on a padding_mode={spec.padding_mode!r} layer; drop it")
        return _mode_report(spec, title, command, body_only=body_only, template_dir=template_dir, date=date,
                            engine=engine)
    if spec.ndim != 2:  # the note's construction is 2-D: the N-D document
        if timings:
            raise SpecError(f"timings are printed in the 2-D layer report only; this layer is {spec.ndim}-D")
        return _nd_report(spec, title, command, position, body_only=body_only, template_dir=template_dir, date=date,
                          engine=engine)
    # the mathematics, computed once by the library
    results = gather_layer(spec, position)
    # shaped for the templates
    sections = {
        "spec": spec_section(spec),
        "definition": definition_section(results.definition),
        "blocks": blocks_section(results.blocks),
        "proof": proof_section(results.proof, timings=timings),
        "sparsity": sparsity_figure(results.sparsity, results.position),
        "receptive": receptive_section(results.receptive),
        "counts": counts_section(results.counts),
        "footer": footer(command, engine == "lualatex"),
    }
    # the layout
    return render("spec_report.tex.j2", template_dir, front=front(title or default_title(spec), body_only, date, engine),
                  **sections)


def _mode_report(spec: ConvSpec, title: str | None, command: str | None, *, body_only: bool,
                 template_dir: str | os.PathLike[str] | None, date: str | None, engine: str) -> str:
    """The LaTeX source of the report on a reflect / replicate / circular layer (see :func:`spec_report`)."""
    layer = mode_section(gather_mode_layer(spec))
    return render("mode_report.tex.j2", template_dir, front=front(title or default_title(spec), body_only, date, engine),
                  layer=layer, footer=footer(command, engine == "lualatex"))


def _nd_report(spec: ConvSpec, title: str | None, command: str | None, position: tuple[int, ...] | None, *,
               body_only: bool, template_dir: str | os.PathLike[str] | None, date: str | None, engine: str) -> str:
    """The LaTeX source of the report on one layer of ndim ≠ 2 (see :func:`spec_report`)."""
    layer = nd_layer_section(gather_nd_layer(spec, position))
    return render("nd_report.tex.j2", template_dir, front=front(title or default_title(spec), body_only, date, engine),
                  layer=layer, footer=footer(command, engine == "lualatex"))


def transposed_title(spec: ConvTransposeSpec) -> str:
    """The default title of a transposed layer's report: channels, sizes, and what departs from the defaults.

    >>> transposed_title(ConvTransposeSpec(1, 1, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1))
    'The transposed convolution 1 → 1 channels, 3×3 input, 3×3 kernel, stride 2, padding 1, output padding 1'
    """
    words = _layer_words("transposed convolution", spec)
    for name, values, default in (("stride", spec.stride, 1), ("padding", spec.padding, 0),
                                  ("output padding", spec.output_padding, 0), ("dilation", spec.dilation, 1)):
        if any(v != default for v in values):
            words.append(f"{name} {_axes(values)}")
    if spec.groups != 1:
        words.append(f"{spec.groups} groups")
    if not spec.bias:
        words.append("no bias")
    return ", ".join(words)


def transposed_report(
    spec: ConvTransposeSpec,
    title: str | None = None,
    command: str | None = None,
    position: tuple[int, ...] | None = None,
    *,
    body_only: bool = False,
    template_dir: str | os.PathLike[str] | None = None,
    date: str | None = None,
    engine: str = "pdflatex",
) -> str:
    """The LaTeX source of the report on one transposed layer (PyTorch's ConvTranspose): definition, output size,
    conv_transpose(y) = 𝒲ᵀy + b and the zero-insertion form proved at its sizes, 𝒲ᵀ, counts, receptive field.

    ``position`` (0-based, one index per axis; default the centre) is the output written out and followed back.

    >>> tex = transposed_report(ConvTransposeSpec(1, 1, input_size=(3,), kernel_size=3, stride=2))
    >>> "\\\\section{The definition}" in tex
    True
    """
    # the mathematics (both engines when small), then its shape for the template
    layer = transposed_section(gather_transposed(spec, position))
    return render("transposed_report.tex.j2", template_dir,
                  front=front(title or transposed_title(spec), body_only, date, engine), layer=layer,
                  footer=footer(command, engine == "lualatex"))


def backward_report(
    spec: ConvSpec,
    title: str | None = None,
    command: str | None = None,
    *,
    body_only: bool = False,
    template_dir: str | os.PathLike[str] | None = None,
    date: str | None = None,
    engine: str = "pdflatex",
) -> str:
    """The LaTeX source of the report on the backprop identities of one layer (any ndim, zeros padding): ∂L/∂x = 𝒲ᵀg =
    conv_transpose(g), ∂L/∂ω = xcorr(x, g), ∂L/∂b = Σ g, proved at its sizes (and for all sizes when 2-D), worked entries.

    >>> tex = backward_report(ConvSpec(1, 1, input_size=(4,), kernel_size=2, stride=2))
    >>> "\\\\section{The input gradient is a transposed convolution}" in tex
    True
    """
    # the mathematics (the exact check, the all-size theorem when it applies), then its shape for the template
    layer = backward_section(gather_backward(spec))
    default = f"Backpropagation through {default_title(spec)[0].lower()}{default_title(spec)[1:]}"
    return render("backward_report.tex.j2", template_dir, front=front(title or default, body_only, date, engine),
                  layer=layer, footer=footer(command, engine == "lualatex"))


def layers_report(
    layers: list[Any],
    input_size: tuple[int, int],
    title: str | None = None,
    command: str | None = None,
    index: tuple[int, int] | None = None,
    *,
    body_only: bool = False,
    template_dir: str | os.PathLike[str] | None = None,
    date: str | None = None,
    engine: str = "pdflatex",
) -> str:
    """The LaTeX source of the receptive-field report on a stack of layers (``Layer``/``ConvSpec`` list).

    ``index`` is the 0-based output position followed down the stack (default: the centre).

    >>> from symconv.receptive.layers import parse_layer
    >>> tex = layers_report([parse_layer("conv:k=3"), parse_layer("maxpool:k=2,s=2")], (8, 8))
    >>> "\\\\section{The stack, layer by layer}" in tex
    True
    """
    # the mathematics, then its shape for the template
    stack = stack_section(gather_stack(layers, input_size, index))
    default = f"The receptive field of a stack of {len(stack.rows) - 1} layers on a {stack.input_size} input"
    return render("layers_report.tex.j2", template_dir, front=front(title or default, body_only, date, engine), stack=stack,
                  footer=footer(command, engine == "lualatex"))


def audit_report(
    result: Audit,
    title: str | None = None,
    command: str | None = None,
    *,
    body_only: bool = False,
    template_dir: str | os.PathLike[str] | None = None,
    date: str | None = None,
    engine: str = "pdflatex",
) -> str:
    """The LaTeX source of the audit of the note, from a :class:`symconv.claims.audit.Audit`.

    >>> from symconv.claims.audit import audit
    >>> "\\\\section{The note's claims, checked}" in audit_report(audit(torch=False, max_size=2))
    True
    """
    # the audit arrives computed (it is the caller's to run, with or without PyTorch)
    section = audit_section(result)
    default = "An audit of the lecture note on convolutions"
    return render("audit_report.tex.j2", template_dir, front=front(title or default, body_only, date, engine), audit=section,
                  footer=footer(command, engine == "lualatex"))


def note_report(
    result: Audit,
    title: str | None = None,
    command: str | None = None,
    *,
    body_only: bool = False,
    template_dir: str | os.PathLike[str] | None = None,
    date: str | None = None,
    engine: str = "pdflatex",
) -> str:
    """The lecture note, corrected: its headings, each claim as written, verdict, counterexample, correction; the
    theorem conv(x) = 𝒲x + b for all sizes in the note's setting, proved by the all-size prover; errata.

    >>> from symconv.claims.audit import audit
    >>> "\\\\section{Erratum: the prose}" in note_report(audit(torch=False, max_size=2))
    True
    """
    # the audit arrives computed; the theorem for all sizes is proved here (once per process); both filed under
    # the note's own headings
    note = corrected_note(result, note_theorem())
    default = "Convolutions: the lecture note, corrected"
    return render("note_report.tex.j2", template_dir, front=front(title or default, body_only, date, engine), note=note,
                  footer=footer(command, engine == "lualatex"))
