"""The report on a reflect / replicate / circular layer, against PyTorch and against corrupted proofs.

Independent references: torch.nn.functional.pad (the padding map printed as P_a), the Jacobian of
torch.nn.ConvNd(padding_mode=m) (the printed block of 𝒲_mode and nnz), the definition's triples (mode_terms, for
the entries that are sums of weights); soundness: a 𝒲_valid·P built with the wrong mode (wrong only in the padding
rows) must make the report say the identity fails, with a counterexample, and never state the theorem.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F

from symconv import ConvSpec
from symconv.cli import main
from symconv.forms import padding as forms_padding
from symconv.forms.padding import mode_terms
from symconv.prove import padding_modes as prove_module
from symconv.report import build_pdf, spec_report
from symconv.report.gather_modes import gather_mode_layer
from symconv.report.sections.modes import mode_section

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
#: its snapshot is one of tests/test_report_snapshots.py's cases
SNAPSHOT = "padding-replicate-stride"

SPECS = [
    ConvSpec(1, 1, input_size=3, kernel_size=3, padding=1, padding_mode="reflect"),
    ConvSpec(1, 2, input_size=(3, 4), kernel_size=(2, 3), padding=(1, 2), padding_mode="replicate"),
    ConvSpec(2, 2, input_size=(3, 2), kernel_size=3, padding=1, groups=2, padding_mode="circular"),
    ConvSpec(1, 1, input_size=(5,), kernel_size=3, stride=2, dilation=2, padding=3, padding_mode="replicate"),
    ConvSpec(1, 1, input_size=(2, 3, 2), kernel_size=2, padding=1, padding_mode="circular"),
    ConvSpec(2, 1, input_size=(6,), kernel_size=4, padding=3, padding_mode="reflect", bias="per_location"),
]
IDS = [s.describe() for s in SPECS]
#: the layers whose block of 𝒲_mode is printed (at most 16 output and input positions)
PRINTED = [s for s in SPECS if max(math.prod(s.output_size), math.prod(s.input_size)) <= 16]


def _latex_matrix(tex: str) -> list[list[str]]:
    """The cells of a sympy.latex matrix (\\left[\\begin{matrix} … \\end{matrix}\\right])."""
    body = re.search(r"\\begin\{matrix\}(.*)\\end\{matrix\}", tex, re.S).group(1)
    return [[cell.strip() for cell in row.split("&")] for row in body.split(r"\\")]


def _torch_layer(spec: ConvSpec) -> torch.nn.Module:
    torch.manual_seed(1)
    return getattr(torch.nn, f"Conv{spec.ndim}d")(
        spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride, padding=spec.padding_before,
        dilation=spec.dilation, groups=spec.groups, bias=False, padding_mode=spec.padding_mode).double()


def _jacobian(spec: ConvSpec, layer: torch.nn.Module) -> np.ndarray:
    # the layer is linear (no bias): its Jacobian's column j is the layer applied to the j-th unit input
    basis = torch.eye(spec.d_x, dtype=torch.float64).reshape(spec.d_x, spec.in_channels, *spec.input_size)
    with torch.no_grad():
        out = layer(basis)
    assert tuple(out.shape[2:]) == spec.output_size
    jac = out.reshape(spec.d_x, spec.d_y).T
    return jac.numpy()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_printed_padding_matrices_are_torch_pad(spec):
    section = mode_section(gather_mode_layer(spec))
    for axis, shown in enumerate(section.maps):
        n, before, after = spec.input_size[axis], spec.padding_before[axis], spec.padding_after[axis]
        mode = "replicate" if spec.padding_mode == "replicate" else spec.padding_mode
        padded = F.pad(torch.arange(n, dtype=torch.float64).reshape(1, 1, n), (before, after), mode=mode)
        cells = _latex_matrix(shown.matrix)
        assert all(sorted(row) == ["0"] * (n - 1) + ["1"] for row in cells)  # one 1 per row
        assert [row.index("1") for row in cells] == padded.reshape(-1).long().tolist()


def test_large_blocks_are_not_printed():
    assert 4 <= len(PRINTED) < len(SPECS)
    assert all(mode_section(gather_mode_layer(s)).block is None for s in SPECS if s not in PRINTED)


@pytest.mark.parametrize("spec", PRINTED, ids=lambda s: s.describe())
def test_printed_block_of_w_mode_is_the_torch_jacobian(spec):
    results = gather_mode_layer(spec)
    layer = _torch_layer(spec)
    weights = layer.weight.detach().numpy()
    bands = [_latex_matrix(band) for _, _, band in mode_section(results).block]  # side by side: the block
    cells = [sum((band[r] for band in bands), []) for r in range(len(bands[0]))]
    rows, cols = results.block.shape
    jac = _jacobian(spec, layer)[:rows, :cols]  # output channel 0, input channel 0
    for r in range(rows):
        for c in range(cols):  # each printed cell: a sum of ω_t, t the kernel index
            taps = re.findall(r"\\omega_\{([\d,]+)\}", cells[r][c])
            value = sum(weights[(0, 0, *map(int, t.split(",")))] for t in taps)
            assert value == pytest.approx(jac[r, c], abs=1e-12)
            assert (cells[r][c] == "0") == (not taps)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_counts_and_sums_against_torch_and_the_definition(spec):
    results = gather_mode_layer(spec)
    assert results.counts.nnz == int((_jacobian(spec, _torch_layer(spec)) != 0).sum())
    terms = mode_terms(spec)
    pairs: dict[tuple[int, int], int] = {}
    for out, b in zip(terms.out.tolist(), terms.b.tolist()):
        pairs[(out, b)] = pairs.get((out, b), 0) + 1
    assert results.merged_count == sum(1 for v in pairs.values() if v > 1)
    assert all(isinstance(v, sympy.Add) for *_, v in results.merged)
    tex = spec_report(spec)
    assert r"\section{The theorem at this layer's sizes}" in tex and r"\begin{symconvtheorem}[this layer]" in tex
    assert "all-size prover covers \\texttt{padding\\_mode='zeros'} only" in tex


def test_circular_theorem_shown_when_it_applies_and_why_not_otherwise():
    same = ConvSpec(1, 1, input_size=(2, 3), kernel_size=3, padding=1, padding_mode="circular")
    tex = spec_report(same)
    assert r"\section{The convolution theorem}" in tex and r"\Phi_N" in tex
    assert gather_mode_layer(same).circular.holds
    strided = ConvSpec(1, 1, input_size=5, kernel_size=3, padding=1, stride=2, padding_mode="circular")
    tex = spec_report(strided)
    assert r"\section{The convolution theorem}" not in tex
    assert "is not checked for this layer" in tex and "stride~1" not in tex.split("is not checked")[1][:40]


def test_a_wrong_padding_operator_makes_the_report_say_fails(monkeypatch):
    """𝒲_valid·P built with replicate instead of reflect: the interior agrees, the border rows differ."""
    spec = ConvSpec(1, 1, input_size=4, kernel_size=3, padding=1, padding_mode="reflect")
    monkeypatch.setattr(prove_module, "mode_matrix_terms", lambda s, m: forms_padding.mode_matrix_terms(s, "replicate"))
    monkeypatch.setattr(prove_module, "mode_matrix", lambda s, m: forms_padding.mode_matrix(s, "replicate"))
    results = gather_mode_layer(spec)
    assert [p.holds for p in results.proofs] == [False, False]
    tex = spec_report(spec)
    assert r"\begin{symconvtheorem}" not in tex and "proves, at this layer" not in tex
    assert r"\textbf{does not hold}" in tex and r"\textbf{The check failed}" in tex
    assert "Counterexample (SymPy" in tex or "Counterexample (index" in tex


def test_cli_report_padding_mode(tmp_path, capsys):
    out = tmp_path / "r.tex"
    argv = ["report", "--in-channels", "1", "--out-channels", "1", "--input", "4", "--ndim", "1", "--kernel", "3",
            "--padding", "2", "--padding-mode", "replicate", "-o", str(out)]
    assert main(argv) == 0
    tex = out.read_text(encoding="utf-8")
    assert "-{}-padding-mode replicate" in tex and r"\min(\max(c, 0), 3)" in tex


@pytest.mark.parametrize("extra, message", [
    (["--transposed"], "--padding-mode reflect cannot be combined with --transposed: PyTorch's ConvTranspose pads "
                       "with zeros only"),
    (["--position", "1x1"], "--padding-mode reflect cannot be combined with --position"),
    (["--timings"], "--padding-mode reflect cannot be combined with --timings"),
])
def test_cli_report_bad_combinations(capsys, extra, message):
    argv = ["report", "--in-channels", "1", "--out-channels", "1", "--input", "5x5", "--kernel", "3", "--padding", "1",
            "--padding-mode", "reflect", "-o", "-", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"symconv report: error: {message}" or (err.startswith(f"symconv report: error: {message}")
                                                          and "\n" not in err)


@pytest.mark.parametrize("extra, flag", [(["--audit"], "--audit"), (["--note"], "--note"),
                                         (["--layers", "conv:k=3", "--input", "8x8"], "--layers")])
def test_cli_report_padding_mode_without_a_layer(capsys, extra, flag):
    assert main(["report", "--padding-mode", "circular", "-o", "-", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"symconv report: error: --padding-mode circular cannot be combined with {flag}: ")
    assert "\n" not in err


def test_reports_compile(tmp_path):
    """pdflatex on a 1-D, a 2-D and a 3-D report (all three modes) and the snapshot."""
    for name, tex in (("one", spec_report(SPECS[3])), ("two", spec_report(SPECS[0])), ("three", spec_report(SPECS[4])),
                      ("snap", (SNAPSHOTS / f"{SNAPSHOT}.tex").read_text(encoding="utf-8"))):
        result = build_pdf(tex, tmp_path / f"{name}.pdf")
        assert result.pages >= 2 and result.undefined_references == ()
