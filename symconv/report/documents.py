"""Whole documents: gather → sections → render.

Each function reads top to bottom: compute every result once (:mod:`.gather`, where the library does
the mathematics), shape the frozen results for the templates (:mod:`.sections`, :mod:`.figures`), lay
them out (:mod:`.render`). Nothing here writes files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.spec import ConvSpec
from .figures import sparsity_figure
from .gather import gather_layer, gather_stack
from .render import render
from .sections import (
    audit_section,
    blocks_section,
    counts_section,
    definition_section,
    footer,
    proof_section,
    receptive_section,
    spec_section,
    stack_section,
)

if TYPE_CHECKING:
    from ..claims.audit import Audit

__all__ = ["audit_report", "default_title", "layers_report", "spec_report"]


def default_title(spec: ConvSpec) -> str:
    """A title naming the layer's channels and sizes.

    >>> default_title(ConvSpec(2, 3, input_size=5, kernel_size=3))
    'The convolution 2 → 3 channels, 5×5 input, 3×3 kernel'
    """
    def axes(values: tuple[int, ...]) -> str:
        return "×".join(str(v) for v in values)

    return (
        f"The convolution {spec.in_channels} → {spec.out_channels} channels, "
        f"{axes(spec.input_size)} input, {axes(spec.kernel_size)} kernel"
    )


def spec_report(
    spec: ConvSpec,
    title: str | None = None,
    command: str | None = None,
    position: tuple[int, int] = (0, 0),
    timings: bool = False,
) -> str:
    """The LaTeX source of the report on one layer: notation, index sum, blocks, proof, sparsity, footer.

    ``position`` is the 0-based output position whose blocks are shown; ``timings`` adds the proof's
    seconds (which makes the source differ from run to run).

    >>> tex = spec_report(ConvSpec(1, 1, input_size=3, kernel_size=2), command="symconv report …")
    >>> tex.startswith("\\\\documentclass"), "\\\\section{The index sum}" in tex
    (True, True)
    """
    # the mathematics, computed once by the library
    results = gather_layer(spec, position)
    # shaped for the templates
    sections = {
        "spec": spec_section(spec),
        "definition": definition_section(results.definition),
        "blocks": blocks_section(results.blocks),
        "proof": proof_section(results.proof, timings=timings),
        "sparsity": sparsity_figure(results.sparsity, position),
        "receptive": receptive_section(results.receptive),
        "counts": counts_section(results.counts),
        "footer": footer(command),
    }
    # the layout
    return render("spec_report.tex.j2", title=title or default_title(spec), **sections)


def layers_report(
    layers: list[Any],
    input_size: tuple[int, int],
    title: str | None = None,
    command: str | None = None,
    index: tuple[int, int] | None = None,
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
    return render("layers_report.tex.j2", title=title or default, stack=stack, footer=footer(command))


def audit_report(result: Audit, title: str | None = None, command: str | None = None) -> str:
    """The LaTeX source of the audit of the note, from a :class:`symconv.claims.audit.Audit`.

    >>> from symconv.claims.audit import audit
    >>> "\\\\section{The note's claims, checked}" in audit_report(audit(torch=False, max_size=2))
    True
    """
    # the audit arrives computed (it is the caller's to run, with or without PyTorch)
    section = audit_section(result)
    default = "An audit of the lecture note on convolutions"
    return render("audit_report.tex.j2", title=title or default, audit=section, footer=footer(command))
