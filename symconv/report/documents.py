"""Whole documents: gather a report's sections from the library, then render one template.

Each function reads top to bottom: compute the results (the library does the mathematics), turn them
into section data (:mod:`.sections`), lay them out (:mod:`.render`). Nothing here writes files.
"""

from __future__ import annotations

from typing import Any

from ..core.spec import ConvSpec
from .figures import sparsity_figure
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

__all__ = ["audit_report", "default_title", "layers_report", "spec_report"]


def default_title(spec: ConvSpec) -> str:
    """A title naming the layer's channels and sizes.

    >>> default_title(ConvSpec(2, 3, input_size=5, kernel_size=3))
    'The convolution 2 → 3 channels, 5×5 input, 3×3 kernel'
    """
    def axes(values: object) -> str:
        return "×".join(str(v) for v in values)  # type: ignore[attr-defined]

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
    # the mathematics, computed by the library and shaped for the templates
    sections = {
        "spec": spec_section(spec),
        "definition": definition_section(spec),
        "blocks": blocks_section(spec, position),
        "proof": proof_section(spec, timings=timings),
        "sparsity": sparsity_figure(spec, position),
        "receptive": receptive_section(spec, position),
        "counts": counts_section(spec),
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
    stack = stack_section(layers, input_size, index)
    default = f"The receptive field of a stack of {len(stack.rows) - 1} layers on a {stack.input_size} input"
    return render("layers_report.tex.j2", title=title or default, stack=stack, footer=footer(command))


def audit_report(result: Any, title: str | None = None, command: str | None = None) -> str:
    """The LaTeX source of the audit of the note, from a :class:`symconv.claims.audit.Audit`.

    >>> from symconv.claims.audit import audit
    >>> "\\\\section{The note's claims, checked}" in audit_report(audit(torch=False, max_size=2))
    True
    """
    section = audit_section(result)
    default = "An audit of the lecture note on convolutions"
    return render("audit_report.tex.j2", title=title or default, audit=section, footer=footer(command))
