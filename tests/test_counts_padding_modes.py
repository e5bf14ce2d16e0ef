"""nnz(𝒲_mode) of reflect / replicate / circular layers against the built 𝒲_mode and PyTorch's Jacobian.

Independent references: the nonzero entries of 𝒲_valid·P (forms.padding: the block construction times P, as
triples and as a SymPy matrix), the definition's index sum (mode_terms), and the Jacobian of
torch.nn.ConvNd(padding_mode=m) with random float64 weights (a sum of two random weights is nonzero almost surely).
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from symconv import ConvSpec, SpecError
from symconv.cli import main
from symconv.closed.counts import counts
from symconv.closed.mode_counts import circular_axis_cells, mode_axis_counts, mode_nnz
from symconv.forms.padding import mode_matrix, mode_matrix_terms, mode_terms

from .cases import random_mode_specs

MODES = ("reflect", "replicate", "circular")




SPECS = random_mode_specs(120, 20261206)


def _torch_jacobian_nnz(spec: ConvSpec) -> int:
    """Nonzeros of the Jacobian d conv(x)/dx of torch.nn.ConvNd(padding_mode=…) with random weights."""
    torch.manual_seed(0)
    layer = getattr(torch.nn, f"Conv{spec.ndim}d")(
        spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride, padding=spec.padding_before,
        dilation=spec.dilation, groups=spec.groups, bias=False, padding_mode=spec.padding_mode).double()
    # the layer is linear (no bias): its Jacobian's column j is the layer applied to the j-th unit input
    basis = torch.eye(spec.d_x, dtype=torch.float64).reshape(spec.d_x, spec.in_channels, *spec.input_size)
    with torch.no_grad():
        out = layer(basis)
    assert tuple(out.shape[2:]) == spec.output_size
    jac = out.reshape(spec.d_x, spec.d_y).T
    return int((jac != 0).sum())


def _pairs(terms) -> int:
    """Distinct (row, column) pairs of a set of (y, ω, x) triples: the nonzeros of the matrix they sum into."""
    return len(set(zip(terms.out.tolist(), terms.b.tolist())))


def test_the_sample_covers_every_mode_ndim_stride_dilation_and_groups():
    seen = {(s.padding_mode, s.ndim) for s in SPECS}
    assert seen == {(m, d) for m in MODES for d in (1, 2, 3)}
    assert {max(s.stride) for s in SPECS} == {1, 2} and {max(s.dilation) for s in SPECS} == {1, 2}
    assert {s.groups for s in SPECS} == {1, 2}
    assert any(c.merged > 0 for s in SPECS for c in mode_axis_counts(s))  # taps that merge are exercised


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.describe())
def test_nnz_equals_built_matrix_definition_and_torch_jacobian(spec):
    found = counts(spec)
    assert found.nnz == _pairs(mode_matrix_terms(spec)) == _pairs(mode_terms(spec))
    assert found.nnz == _torch_jacobian_nnz(spec)
    assert found.density * spec.d_x * spec.d_y == found.nnz


@pytest.mark.parametrize("spec", SPECS[:30], ids=lambda s: s.describe())
def test_nnz_equals_the_sympy_matrix(spec):
    """The SymPy 𝒲_mode = 𝒲_valid·P: nonzero entries, and the sums ω_a + ω_b are where taps merge."""
    w = mode_matrix(spec)
    assert counts(spec).nnz == w.nnz()
    merged = sum(len(e.args) - 1 for e in w.values() if e.is_Add)  # entries that are sums of several weights
    per_axis = mode_axis_counts(spec)
    taps = spec.out_channels * spec.in_per_group * math.prod(c.taps for c in per_axis)
    assert counts(spec).nnz + merged == taps


def test_circular_closed_form_equals_the_count_from_the_padding_map():
    from symconv.closed.mode_counts import _counted_pairs

    for n in range(1, 9):
        for k in range(1, 7):
            for d in range(1, 5):
                for p in range(0, n + 1):
                    try:
                        spec = ConvSpec(1, 1, input_size=n, kernel_size=k, padding=p, dilation=d, ndim=1,
                                        padding_mode="circular")
                    except SpecError:
                        continue
                    assert _counted_pairs(spec, 0) == spec.output_size[0] * circular_axis_cells(n, k, d)


def test_hand_derivations():
    # reflect, n = 3, k = 3, p = 1: padded x1 x0 x1 x2 x1, windows read {0,1}, {0,1,2}, {1,2}: 7 pairs
    spec = ConvSpec(1, 1, input_size=3, kernel_size=3, padding=1, ndim=1, padding_mode="reflect")
    assert mode_nnz(spec) == ("nnz_reflect_counted", 7)
    # replicate, n = 2, k = 3, p = 2: padded x0 x0 x0 x1 x1 x1, windows {0}, {0,1}, {0,1}, {1}: 6 pairs
    spec = ConvSpec(1, 1, input_size=2, kernel_size=3, padding=2, ndim=1, padding_mode="replicate")
    assert mode_nnz(spec) == ("nnz_replicate_counted", 6)
    # circular, n = 4, k = 3, d = 2: taps t·2 mod 4 ∈ {0, 2}: every window reads 2 cells
    assert circular_axis_cells(4, 3, 2) == 2


def test_mode_independent_counts_equal_the_zeros_layer():
    spec = ConvSpec(4, 6, input_size=(7, 5), kernel_size=3, stride=2, padding=(2, 1), dilation=(1, 2), groups=2,
                    padding_mode="reflect")
    zeros = counts(ConvSpec(4, 6, input_size=(7, 5), kernel_size=3, stride=2, padding=(2, 1), dilation=(1, 2), groups=2))
    padded = counts(spec)
    for field in ("output_size", "d_x", "d_y", "params", "params_by_bias", "params_fc", "macs_dense"):
        assert getattr(padded, field) == getattr(zeros, field)
    assert padded.macs == padded.macs_dense  # every tap reads an input value
    assert padded.nnz > zeros.nnz  # the zeros layer loses the taps in the padding


def test_cli_counts_padding_mode_json_and_text(capsys):
    argv = ["counts", "--in-channels", "2", "--out-channels", "2", "--input", "5x4", "--kernel", "3", "--padding", "1"]
    assert main([*argv, "--padding-mode", "reflect", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    spec = ConvSpec(2, 2, input_size=(5, 4), kernel_size=3, padding=1, padding_mode="reflect")
    assert data["nnz"] == _torch_jacobian_nnz(spec)
    assert [a["pairs"] for a in data["nnz_axes"]] == [13, 10]
    assert main([*argv, "--padding-mode", "circular"]) == 0
    out = capsys.readouterr().out
    assert "do not depend on padding_mode" in out and "closed form n'·min(k, n/gcd(n, d))" in out


@pytest.mark.parametrize("extra, message", [
    (["--padding-mode", "reflect", "--transposed"], "--padding-mode reflect cannot be combined with --transposed"),
    (["--padding-mode", "circular", "--derivations"], "--derivations shows SymPy derivations"),
    (["--padding-mode", "reflect", "--padding", "5"], "padding must be < input_size on every axis"),
])
def test_cli_bad_combinations_exit_2_with_one_line(capsys, extra, message):
    argv = ["counts", "--in-channels", "1", "--out-channels", "1", "--input", "5x5", "--kernel", "3", "--padding", "1"]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_large_reflect_layer_is_fast():
    import time

    spec = ConvSpec(64, 64, input_size=224, kernel_size=3, padding=1, padding_mode="reflect")
    start = time.perf_counter()
    found = counts(spec)
    assert time.perf_counter() - start < 5
    # per axis: 224 windows of 3 taps, the two border windows read a cell twice (x1 x0 x1 …)
    assert found.nnz == 64 * 64 * (3 * 224 - 2) ** 2


def test_the_sample_tells_apart_counts_that_are_wrong_only_at_the_borders():
    """Two lazy counts differ from the true nnz on many sampled layers: every tap distinct (no merging), and reflect
    counted with replicate's map (the two agree away from the borders) — so the torch comparison above catches both."""
    from symconv.closed import mode_counts

    no_merge = [s for s in SPECS if counts(s).nnz != s.out_channels * s.in_per_group * math.prod(
        c.taps for c in mode_axis_counts(s))]
    assert len(no_merge) >= 20
    reflect = [s for s in SPECS if s.padding_mode == "reflect"]
    wrong_map = 0
    for spec in reflect:
        wrong = ConvSpec(spec.in_channels, spec.out_channels, input_size=spec.input_size, kernel_size=spec.kernel_size,
                         stride=spec.stride, padding=spec.padding, dilation=spec.dilation, groups=spec.groups,
                         padding_mode="replicate")
        wrong_map += mode_counts.mode_nnz(wrong)[1] != counts(spec).nnz
    assert wrong_map >= 5
