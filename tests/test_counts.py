"""Derived closed forms against the objects the core builds and against PyTorch, on > 200 layers.

Independent references: the distinct symbols and nonzeros of the built 𝒲 and b (symconv.matrix,
bias_vector), the NumPy block generator for large layers, ConvSpec's own tap count, torch.nn.Conv2d /
Linear parameter counts, torch output shapes (conv2d, conv_transpose1d/2d), torch's FLOP counter, and
Dumoulin & Visin's published table of relationships (typed from the paper below).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import sympy
import torch
from torch.utils.flop_counter import FlopCounterMode

from symconv import ConvSpec, SpecError, bias_vector, matrix
from symconv.cli import main
from symconv.closed.arithmetic import conv_output_size, conv_transpose_output_size, relationships
from symconv.closed.counts import C1, C2, Formula, H, W, counts, formula, formulas, g, h, note_setting, p_h, p_w, ratios, w
from symconv.forms.blocks import block_terms

from .cases import CASES


def _grid() -> list[ConvSpec]:
    """A deterministic sample of valid layers: channels/groups, non-square, stride, padding, dilation, bias."""
    channels = [(1, 1, 1), (2, 3, 1), (4, 4, 2), (3, 6, 3), (2, 2, 2)]
    inputs = [(1, 1), (3, 3), (5, 5), (4, 7), (7, 4), (2, 6)]
    kernels = [(1, 1), (2, 2), (3, 3), (2, 3), (3, 1)]
    strides = [1, 2, (1, 2), (3, 1)]
    paddings = [0, 1, (2, 0), (0, 1), "same", "valid", 3]
    dilations = [1, 2, (1, 2)]
    biases = ["shared", "per_location", "none"]
    valid = []
    for n, ((c1, c2, groups), size, kernel, stride, padding, dilation) in enumerate(
        itertools.product(channels, inputs, kernels, strides, paddings, dilations)
    ):
        try:
            valid.append(ConvSpec(c1, c2, size, kernel, stride, padding, dilation, groups, biases[n % 3]))
        except SpecError:
            continue
    picked = np.random.default_rng(20261125).choice(len(valid), size=200, replace=False)
    return [valid[i] for i in sorted(picked.tolist())] + list(CASES.values())


GRID = _grid()
LARGE = [
    ConvSpec(3, 64, input_size=224, kernel_size=7, stride=2, padding=3),
    ConvSpec(64, 64, input_size=56, kernel_size=3, padding=1),
    ConvSpec(256, 256, input_size=28, kernel_size=3, padding=1, groups=4),
    ConvSpec(32, 32, input_size=(64, 48), kernel_size=(3, 5), padding="same", dilation=(2, 1), groups=32),
    ConvSpec(16, 8, input_size=(40, 30), kernel_size=(5, 3), stride=(3, 2), padding=(4, 1), dilation=2),
]


def _torch_kwargs(spec: ConvSpec) -> dict:
    padding = spec.padding if isinstance(spec.padding, str) else tuple(spec.padding)
    return {"stride": tuple(spec.stride), "padding": padding, "dilation": tuple(spec.dilation), "groups": spec.groups}


def test_the_grid_is_large_and_varied():
    assert len(GRID) >= 200
    assert {s.bias for s in GRID} == {"shared", "per_location", "none"}
    assert any(s.groups > 1 for s in GRID) and any(s.stride != (1, 1) for s in GRID)
    assert any(s.dilation != (1, 1) for s in GRID) and any(s.padding == "same" for s in GRID)
    assert any(s.input_size[0] != s.input_size[1] for s in GRID) and any(s.kernel_size[0] != s.kernel_size[1] for s in GRID)
    assert {counts(s).nnz_formula for s in GRID} == {"nnz_valid", "nnz_clipped", "nnz"}


@pytest.mark.parametrize("spec", GRID, ids=lambda s: s.describe())
def test_counts_against_built_w_and_b(spec):
    c = counts(spec)
    W_ = matrix(spec)
    b = bias_vector(spec)
    assert W_.shape == (c.d_y, c.d_x)
    assert W_.nnz() == c.nnz == c.macs
    assert c.output_size == spec.output_size
    weights_seen = len(W_.free_symbols)
    # every weight sits somewhere in 𝒲 unless some kernel tap never meets the input (padding/dilation)
    assert weights_seen <= c.params_weights
    if spec.padding_before == spec.padding_after == (0, 0):
        assert weights_seen == c.params_weights
    assert len(b.free_symbols) == c.params_bias
    assert c.density == sympy.Rational(W_.nnz(), W_.shape[0] * W_.shape[1])
    # locally connected: one weight per (output, tap), whether in the padding or not, and a bias per output
    assert c.params_local == c.macs_dense + c.d_y
    if spec.padding_before == spec.padding_after == (0, 0):
        assert c.params_local == W_.nnz() + c.d_y


@pytest.mark.parametrize("spec", GRID, ids=lambda s: s.describe())
def test_counts_against_torch(spec):
    c = counts(spec)
    x = torch.zeros((1, *spec.input_shape))
    weight = torch.zeros(spec.weight_shape)
    with FlopCounterMode(display=False) as flops:
        y = torch.nn.functional.conv2d(x, weight, **_torch_kwargs(spec))
    assert tuple(y.shape[1:]) == (spec.out_channels, *c.output_size)
    assert flops.get_total_flops() == 2 * c.macs_dense  # torch counts a multiply-add as 2 FLOPs, every tap
    for bias in (True, False):
        layer = torch.nn.Conv2d(spec.in_channels, spec.out_channels, tuple(spec.kernel_size), bias=bias, device="meta",
                                **_torch_kwargs(spec))
        mode = "shared" if bias else "none"
        assert sum(p.numel() for p in layer.parameters()) == dict(c.params_by_bias)[mode]
    assert dict(c.params_by_bias)["per_location"] == dict(c.params_by_bias)["none"] + spec.out_channels * math.prod(y.shape[2:])
    linear = torch.nn.Linear(c.d_x, c.d_y, device="meta")
    assert sum(p.numel() for p in linear.parameters()) == c.params_fc


@pytest.mark.parametrize("spec", LARGE, ids=lambda s: s.describe())
def test_nnz_of_large_layers_against_the_numpy_block_generator(spec):
    # channels do not change which taps are valid: build one output channel, scale by C₂
    terms = block_terms(spec, channels=range(1))
    placed = int(np.broadcast_to(terms.valid, terms.keys.shape).sum()) * spec.out_channels
    c = counts(spec)
    assert c.nnz == placed == spec.n_terms
    assert formula("nnz").at(spec) == placed  # the general per-axis sum agrees with whichever closed form applied


def test_all_nnz_formulas_agree_where_they_apply():
    applied = {"nnz_valid": 0, "nnz_clipped": 0}
    for spec in GRID + LARGE:
        general = formula("nnz").at(spec)
        assert general == spec.n_terms
        for name in applied:
            if formula(name).applies(spec):
                applied[name] += 1
                assert formula(name).at(spec) == general, (name, spec.describe())
    assert min(applied.values()) >= 20


def test_closed_forms_are_the_value_of_their_first_sum():
    for name, f in formulas().items():
        assert isinstance(f, Formula) and f.steps and f.steps[-1].expr == f.expr, name
    # the index sums really evaluate to the closed forms (re-done here with SymPy's summation)
    weights = formula("params_weights").steps[0].expr
    assert isinstance(weights, sympy.Sum)
    assert sympy.simplify(sympy.summation(weights.function, *weights.limits) - formula("params_weights").expr) == 0
    assert formula("nnz_valid").expr == C2 * C1 / g * h * w * formula("d_y").expr / C2


def test_note_setting_values_match_the_obvious_counts_by_brute_force():
    # enumerate index tuples directly for small sizes: an independent count of what the formulas count
    for c1, c2, hh, ww, kh, kw in [(1, 1, 3, 3, 2, 2), (2, 3, 4, 5, 3, 2), (3, 2, 5, 4, 1, 4)]:
        values = {C1: c1, C2: c2, H: hh, W: ww, h: kh, w: kw}
        out = [(j, k) for j in range(hh) for k in range(ww) if j + kh <= hh and k + kw <= ww]
        taps = [(i, l, m, n, j, k) for i in range(c2) for l in range(c1) for m in range(kh) for n in range(kw) for j, k in out]
        assert note_setting(formula("nnz_valid").expr).subs(values) == len(taps)
        assert note_setting(formula("d_y").expr).subs(values) == c2 * len(out)
        assert note_setting(formula("params_conv_per_location").expr).subs(values) == c2 * c1 * kh * kw + c2 * len(out)


def test_clipped_closed_form_matches_the_core_tap_count_where_it_applies():
    checked = 0
    for hh, kh, p in itertools.product(range(1, 9), range(1, 6), range(0, 5)):
        try:
            spec = ConvSpec(1, 1, input_size=(hh, 3), kernel_size=(kh, 1), padding=(p, 0))
        except SpecError:
            continue
        taps = formula("taps_clipped_h")
        if taps.applies(spec):
            checked += 1
            assert taps.at(spec) == spec.taps_in_range[0]
    assert checked >= 40


def test_ratios_and_their_limits():
    r = ratios()
    assert all(x.limit == 0 and x.diagonal == 0 for x in r.values())
    # the ratio expressions agree with concrete counts in their setting (stride 1, symmetric padding)
    for spec in GRID:
        if spec.stride != (1, 1) or spec.dilation != (1, 1) or spec.padding_before != spec.padding_after:
            continue
        c = counts(spec)
        values = {C1: spec.in_channels, C2: spec.out_channels, g: spec.groups, H: spec.input_size[0], W: spec.input_size[1],
                  h: spec.kernel_size[0], w: spec.kernel_size[1], p_h: spec.padding_before[0], p_w: spec.padding_before[1]}
        shared = dict(c.params_by_bias)["shared"]
        assert r["params_conv_shared/params_fc"].expr.subs(values) == sympy.Rational(shared, c.params_fc)
        assert r["params_conv_shared/params_local"].expr.subs(values) == sympy.Rational(shared, c.params_local)


# ------------------------------------------------------------------ Dumoulin & Visin
# The guide's relationships as published (arXiv:1603.07285, v2), typed from the paper: the reference the
# derived ones are checked against. i' is the transposed convolution's input, a = (i + 2p − k) mod s.
_i, _k, _s, _p, _d, _it, _a, _n = sympy.symbols("i k s p d i' a n", integer=True, positive=True)
PUBLISHED = {
    1: _i - _k + 1,
    2: _i - _k + 2 * _p + 1,
    3: _i,
    4: _i + _k - 1,
    5: sympy.floor((_i - _k) / _s) + 1,
    6: sympy.floor((_i + 2 * _p - _k) / _s) + 1,
    7: sympy.floor((_i - _k) / _s) + 1,
    8: _it + (_k - 1),
    9: _it + (_k - 1) - 2 * _p,
    10: _it,
    11: _it - (_k - 1),
    12: _s * (_it - 1) + _k,
    13: _s * (_it - 1) + _k - 2 * _p,
    14: _s * (_it - 1) + _a + _k - 2 * _p,
    15: sympy.floor((_i + 2 * _p - _k - (_k - 1) * (_d - 1)) / _s) + 1,
}


def test_relationships_match_the_published_table():
    derived = {r.number: r for r in relationships() if r.number is not None}
    assert sorted(derived) == list(range(1, 16))
    rename = {str(v): v for v in (_i, _k, _s, _p, _d, _it, _a, _n)}
    for number, published in PUBLISHED.items():
        r = derived[number]
        ours = r.output.subs({sym: rename[sym.name] for sym in r.output.free_symbols if sym.name in rename})
        assert sympy.simplify(ours - published) == 0, (number, ours, published)
        assert len(r.steps) == 3 and r.transposed == (8 <= number <= 14)


def test_conv_output_size_against_torch_conv1d():
    for size, kernel, stride, padding, dilation in itertools.product(range(1, 8), range(1, 5), range(1, 4), range(0, 3), (1, 2)):
        if dilation * (kernel - 1) + 1 > size + 2 * padding:
            continue
        y = torch.nn.functional.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), stride=stride, padding=padding,
                                       dilation=dilation)
        assert conv_output_size(size, kernel, stride, padding, dilation) == y.shape[-1]


def test_transposed_output_size_against_torch_conv_transpose():
    checked = 0
    for size, kernel, stride, padding, dilation in itertools.product(range(1, 6), range(1, 5), range(1, 4), range(0, 3), (1, 2)):
        for output_padding in range(max(stride, dilation)):
            args = dict(stride=stride, padding=padding, dilation=dilation, output_padding=output_padding)
            try:
                y = torch.nn.functional.conv_transpose1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), **args)
                theirs = y.shape[-1]
            except RuntimeError:  # torch refuses a negative output size (and returns an empty one for 0)
                theirs = 0
            if theirs < 1:
                with pytest.raises(SpecError, match=r"^padding too large for a transposed convolution"):
                    conv_transpose_output_size(size, kernel, stride, padding, dilation, output_padding)
                continue
            ours = conv_transpose_output_size(size, kernel, stride, padding, dilation, output_padding)
            assert ours == theirs, (size, kernel, stride, padding, dilation, output_padding)
            checked += 1
            # the transpose undoes the size change: the forward conv of the output has the transposed input's size
            if output_padding < stride:
                assert conv_output_size(ours, kernel, stride, padding, dilation) == size
            if size < 5:  # 2-D, non-square: each axis on its own
                x2, w2 = torch.zeros(1, 1, size, size + 1), torch.zeros(1, 1, kernel, kernel)
                y2 = torch.nn.functional.conv_transpose2d(x2, w2, **args)
                assert tuple(y2.shape[-2:]) == (ours, conv_transpose_output_size(size + 1, kernel, stride, padding, dilation,
                                                                                 output_padding))
    assert checked > 300


# ------------------------------------------------------------------ errors and CLI
def test_errors_name_the_parameter():
    with pytest.raises(SpecError, match=r"^formula must be one of .*, got 'nope'$"):
        formula("nope")
    with pytest.raises(SpecError, match=r"^formula 'nnz_valid' holds for padding 0 only, got Conv2d .*$"):
        formula("nnz_valid").at(ConvSpec(1, 1, input_size=4, kernel_size=3, padding=1))
    with pytest.raises(SpecError, match=r"^spec must be a symconv.ConvSpec, got dict$"):
        counts({})
    with pytest.raises(SpecError, match=r"^output_padding must be < max\(stride, dilation\) = 2, got 2$"):
        conv_transpose_output_size(3, 3, stride=2, output_padding=2)
    with pytest.raises(SpecError, match=r"^kernel must be an int ≥ 1, got 0$"):
        conv_output_size(3, 0)


def test_counts_command(capsys):
    args = ["counts", "--in-channels", "4", "--out-channels", "6", "--input", "7x6", "--kernel", "3x2", "--stride", "2x1",
            "--padding", "1x2", "--dilation", "1x2", "--groups", "2"]
    assert main(args) == 0
    assert "nnz(W) = multiply-adds" in capsys.readouterr().out
    assert main([*args, "--json", "--derivations"]) == 0
    data = json.loads(capsys.readouterr().out)
    spec = ConvSpec(4, 6, input_size=(7, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    assert data["nnz"] == matrix(spec).nnz() and data["output_size"] == list(spec.output_size)
    assert data["derivations"]["params_conv_shared"][-1][1] == data["formulas"]["params_conv_shared"]
    assert main(["counts", "--in-channels", "2", "--out-channels", "3", "--input", "2", "--kernel", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symconv counts: error: kernel_size must fit the padded input") and err.count("\n") == 1
