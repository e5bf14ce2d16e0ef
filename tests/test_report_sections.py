"""What the reports print, checked against computations nobody here wrote (PyTorch) and hand derivations.

The sections typeset in the note's numbering (i, j, k, l, r, c from 1; m, n from 0): every check below
reads the printed SymPy objects back through that numbering and compares with PyTorch, so a slip in
the renaming fails as surely as a slip in the mathematics.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy
import torch

from symconv import ConvSpec, bias_vector, blocks
from symconv.claims.audit import audit
from symconv.receptive.layers import parse_layer
from symconv.report.figures import sparsity_figure
from symconv.report.gather import (
    gather_blocks,
    gather_counts,
    gather_definition,
    gather_proof,
    gather_receptive,
    gather_sparsity,
    gather_stack,
)
from symconv.report.sections import (
    audit_section,
    blocks_section,
    counts_section,
    definition_section,
    proof_section,
    receptive_section,
    spec_section,
    stack_section,
    to_note,
)
from tests.cases import CASES, IDS, SPECS

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _values(spec: ConvSpec, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.integers(-9, 10, shape).astype(np.float64) for name, shape in
            (("weight", spec.weight_shape), ("bias", spec.output_shape), ("x", spec.input_shape))}


def _torch_y(spec: ConvSpec, v: dict[str, np.ndarray]) -> np.ndarray:
    """PyTorch's output; the bias added per location, or per channel when shared."""
    y = torch.nn.functional.conv2d(torch.from_numpy(v["x"])[None], torch.from_numpy(v["weight"]), stride=spec.stride,
                                   padding=spec.padding, dilation=spec.dilation, groups=spec.groups)[0].numpy()
    if spec.bias == "shared":
        return y + v["bias"][:, :1, :1]
    return y + v["bias"] if spec.bias == "per_location" else y


def _note_values(spec: ConvSpec, v: dict[str, np.ndarray]) -> dict[sympy.Symbol, float]:
    """The note's 1-based symbols (ω_{i,l,m,n}: i, l from 1) → the values PyTorch used (0-based arrays)."""
    out = {}
    for idx in np.ndindex(*spec.weight_shape):
        i, l, m, n = idx
        out[sympy.Symbol(f"omega_{i + 1},{l + 1},{m},{n}")] = v["weight"][idx]
    for idx in np.ndindex(*spec.input_shape):
        out[sympy.Symbol("x_" + ",".join(str(t + 1) for t in idx))] = v["x"][idx]
    for idx in np.ndindex(*spec.output_shape):
        value = v["bias"][idx[0], 0, 0] if spec.bias == "shared" else v["bias"][idx]
        out[sympy.Symbol(f"b_{idx[0] + 1}" if spec.bias == "shared" else "b_" + ",".join(str(t + 1) for t in idx))] = value
    return out


def _torch_jacobian_pattern_seed(spec: ConvSpec) -> np.ndarray:
    """Nonzero pattern of dy/dx from PyTorch (random weights), rows re-ordered by hand into the note's order."""
    w = torch.randn(spec.weight_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def f(x):
        return torch.nn.functional.conv2d(x[None], w, stride=spec.stride, padding=spec.padding,
                                          dilation=spec.dilation, groups=spec.groups)[0]

    J = torch.autograd.functional.jacobian(f, torch.zeros(spec.input_shape, dtype=torch.float64)).numpy()
    J = J.reshape(spec.out_channels, -1, spec.d_x)  # (i, position, column)
    return (J.transpose(1, 0, 2).reshape(spec.d_y, spec.d_x) != 0)  # row (position, i): location-major


SMALL = [s for s in SPECS if s.n_terms <= 3000]
SMALL_IDS = [i for i, s in zip(IDS, SPECS) if s.n_terms <= 3000]


# ----------------------------------------------------------------------------- spec & definition
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_output_size_derivation_ends_at_pytorchs_output_size(spec):
    steps = spec_section(spec).output_size_steps
    shown = tuple(int(re.search(r"= (\d+)$", s).group(1)) for s in steps)
    y = _torch_y(spec, _values(spec))
    assert shown == y.shape[1:]


@pytest.mark.parametrize("spec", SMALL, ids=SMALL_IDS)
def test_written_out_outputs_evaluate_to_pytorchs_outputs(spec):
    v = _values(spec)
    y = _torch_y(spec, v)
    subs = _note_values(spec, v)
    for ex in definition_section(gather_definition(spec)).examples:
        i, j, k = (int(t) - 1 for t in re.findall(r"\d+", ex.output))  # the note's y_{i,j,k}
        assert float(ex.expr.xreplace(subs)) == y[i, j, k]
        assert ex.products == len([t for t in ex.expr.args if t.is_Mul]) <= ex.taps


def test_the_corner_with_padding_is_written_out_with_the_centre():
    d = definition_section(gather_definition(CASES["padding-1"]))
    assert [e.output for e in d.examples] == ["y_{1,1,1}", "y_{1,3,3}"]  # 4×4 output: centre (2, 2), 0-based
    assert [e.products for e in d.examples] == [2 * 4, 2 * 9]  # corner: 2×2 taps inside, per input channel


def test_index_expressions_of_the_formula_follow_stride_padding_dilation():
    # hand derivation, 1-based: row (j−1)·2 − 1 + m·1 + 1 = 2j + m − 2, column (k−1)·1 − 2 + n·2 + 1 = k + 2n − 2
    spec = ConvSpec(1, 1, input_size=(7, 7), kernel_size=3, stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    assert r"x_{l,\, 2 j + m - 2,\, k + 2 n - 2}" in definition_section(gather_definition(spec)).formula


# ----------------------------------------------------------------------------- blocks
@pytest.mark.parametrize("spec", SMALL, ids=SMALL_IDS)
def test_block_rows_put_each_kernel_row_in_the_input_row_it_reads(spec):
    j, k = spec.output_size[0] - 1, 0
    section = blocks_section(gather_blocks(spec, (j, k)))
    height, width = spec.input_size
    for row in section.W_jkl:
        l = int(re.search(r"_\{\d+,\d+,(\d+)\}", row.name).group(1)) - 1
        slots = []
        for piece in row.pieces:
            zero = re.fullmatch(r"O_\{\d+\\times (\d+)\}", piece)
            slots += [None] * (int(zero.group(1)) // width) if zero else [piece]
        assert len(slots) == height
        for r in range(height):  # hand derivation: input row r holds kernel row m with r = j·s − p + m·d
            m = [m for m in range(spec.kernel_size[0]) if j * spec.stride[0] - spec.padding_before[0] + m * spec.dilation[0] == r]
            assert slots[r] == (f"B_{{{l + 1},{m[0]},{k + 1}}}" if m else None)


TINY = [  # 𝒲 small enough to print entry by entry
    CASES["seed-2x2-toy"],
    ConvSpec(1, 2, input_size=(3, 4), kernel_size=2),
    ConvSpec(2, 2, input_size=3, kernel_size=2, groups=2, padding=1, stride=2),
    ConvSpec(1, 1, input_size=4, kernel_size=2, dilation=2, padding=1),
]


@pytest.mark.parametrize("spec", SMALL, ids=SMALL_IDS)
def test_block_pieces_reassemble_the_cores_blocks_and_bias(spec):
    j, k = spec.output_size[0] // 2, spec.output_size[1] // 2
    section = blocks_section(gather_blocks(spec, (j, k)))
    core = blocks(spec)
    named = {m.name: m for m in section.B}
    for l, row in enumerate(section.W_jkl if section.W_jkl_total == len(section.W_jkl) else ()):
        parts = []
        for piece in row.pieces:
            zero = re.fullmatch(r"O_\{(\d+)\\times (\d+)\}", piece)
            if zero:
                parts.append(sympy.zeros(int(zero.group(1)), int(zero.group(2))))
            else:
                l1, m, k1 = (int(v) for v in re.findall(r"\d+", piece))
                parts.append(core.B(l1 - 1, m, k1 - 1))
                if piece in named and not named[piece].elided:
                    assert named[piece].matrix == to_note(core.B(l1 - 1, m, k1 - 1))
        assert sympy.Matrix.hstack(*parts) == core.W(j, k, l)
    if spec.bias != "none":
        seed_b = bias_vector(spec, order="seed")
        flat = j * spec.output_size[1] + k
        expected = to_note(seed_b[flat * spec.out_channels : (flat + 1) * spec.out_channels, :])
        assert section.b_jk == expected or section.b_jk.shape[0] < expected.shape[0]


@pytest.mark.parametrize("spec", TINY, ids=lambda s: s.describe())
def test_printed_W_is_pytorchs_jacobian_in_the_notes_order(spec):
    W = blocks_section(gather_blocks(spec)).W
    assert W is not None, "small enough to print"
    v = _values(spec)
    numeric = np.array(W.matrix.xreplace(_note_values(spec, v)).tolist(), dtype=np.float64)
    x = torch.from_numpy(v["x"])
    J = torch.autograd.functional.jacobian(
        lambda t: torch.nn.functional.conv2d(t[None], torch.from_numpy(v["weight"]), stride=spec.stride,
                                             padding=spec.padding, dilation=spec.dilation, groups=spec.groups)[0], x
    ).numpy().reshape(spec.out_channels, -1, spec.d_x).transpose(1, 0, 2).reshape(spec.d_y, spec.d_x)
    assert np.array_equal(numeric, J)


def test_large_blocks_are_elided_and_say_how_many_are_left():
    spec = ConvSpec(3, 16, input_size=20, kernel_size=3)
    s = blocks_section(gather_blocks(spec))
    assert all(m.elided and m.matrix.shape == (6, 12) for m in s.B)
    assert s.B_total == 9 and len(s.B) < s.B_total and s.W is None and s.W_jk.explicit is None
    assert sympy.Symbol(r"\vdots") in s.B[0].matrix and sympy.Symbol(r"\cdots") in s.B[0].matrix


# ----------------------------------------------------------------------------- proof
@pytest.mark.parametrize("spec", SMALL, ids=SMALL_IDS)
def test_proof_holds_with_both_engines_on_the_case_table(spec):
    p = proof_section(gather_proof(spec))
    assert p.holds and [r.method for r in p.runs] == ["sympy", "index"]
    assert all(r.terms == spec.n_terms + spec.n_bias_terms and r.seconds is None for r in p.runs)


def test_timings_only_when_asked_for():
    runs = proof_section(gather_proof(CASES["seed-example"]), timings=True).runs
    assert all(re.fullmatch(r"\d+\.\d{3}", r.seconds) for r in runs)


def test_the_notes_literal_blocks_fail_with_the_kernel_row_shifted():
    # hand derivation for the toy (1×1 channels, 3×3 input, 2×2 kernel): the note's first block of 𝒲_{1,1,1}
    # holds kernel row j = 1 where row 0 belongs, so y_{1,1,1} loses ω_{1,1,0,·} and gains ω_{1,1,1,·}
    p = proof_section(gather_proof(CASES["seed-2x2-toy"]))
    assert p.as_written is not None and not p.as_written.holds and p.as_written.mismatched_rows == 4
    mm = p.as_written_mismatch
    assert mm.output == "y_{1,1,1}"
    assert sympy.Symbol("omega_1,1,0,0") * sympy.Symbol("x_1,1,1") in mm.missing
    assert sympy.Symbol("omega_1,1,1,0") * sympy.Symbol("x_1,1,1") in mm.extra
    assert proof_section(gather_proof(CASES["stride-2"])).as_written is None  # outside the note's setting: not applicable


# ----------------------------------------------------------------------------- sparsity
@pytest.mark.parametrize("name", ["seed-example", "stride-2", "padding-same-even", "dilation-2", "groups-2", "everything"])
def test_sparsity_picture_is_pytorchs_jacobian_pattern(name):
    spec = CASES[name]
    fig = sparsity_figure(gather_sparsity(spec))
    assert fig.coloring == "channel" and (fig.bin_rows, fig.bin_cols) == (1, 1)
    drawn = np.zeros((spec.d_y, spec.d_x), dtype=bool)
    for r, c0, c1, shade in fig.runs:
        drawn[r, c0:c1] = True
        assert {(c // (spec.input_size[0] * spec.input_size[1])) % 4 + 1 for c in range(c0, c1)} == {shade}
    assert np.array_equal(drawn, _torch_jacobian_pattern_seed(spec))
    assert fig.nnz == spec.n_terms


def test_large_sparsity_pictures_are_the_notes_blocks_and_bounded():
    spec = ConvSpec(16, 16, input_size=32, kernel_size=3)
    fig = sparsity_figure(gather_sparsity(spec))
    assert fig.coloring == "blocks" and len(fig.runs) <= 2500
    assert fig.nnz == spec.n_terms and fig.rows * fig.bin_rows >= spec.d_y and fig.cols * fig.bin_cols >= spec.d_x
    # whole blocks: C₂W' rows per output row j, W columns per input row r; the band of blocks B is drawn
    assert fig.bin_rows % (16 * 30) == 0 and fig.bin_cols % 32 == 0
    drawn = np.zeros((fig.rows, fig.cols), dtype=bool)
    for r, c0, c1, _ in fig.runs:
        drawn[r, c0:c1] = True
    j_per, r_per = fig.rows_per_cell, fig.cols_per_cell
    expected = np.zeros_like(drawn)
    for j in range(30):  # output row j reads input rows j … j + 2 of every channel
        for l in range(16):
            for r in range(j, j + 3):
                expected[j // j_per, (l * 32 + r) // r_per] = True
    assert np.array_equal(drawn, expected)
    # the framed 𝒲_{j,k} is a visible band, not a hairline
    assert (float(fig.highlight[1]) - float(fig.highlight[0])) * float(fig.unit[:-2]) >= 0.15


# ----------------------------------------------------------------------------- receptive fields
@pytest.mark.parametrize("spec", SMALL, ids=SMALL_IDS)
def test_receptive_region_is_pytorchs_gradient_pattern(spec):
    j, k = spec.output_size[0] // 2, spec.output_size[1] - 1
    section = receptive_section(gather_receptive(spec, (j, k)))
    assert section.agree and section.rows_checked == spec.out_channels
    x = torch.zeros(spec.input_shape, dtype=torch.float64, requires_grad=True)
    w = torch.rand(spec.weight_shape, dtype=torch.float64) + 0.5
    y = torch.nn.functional.conv2d(x[None], w, stride=spec.stride, padding=spec.padding, dilation=spec.dilation,
                                   groups=spec.groups)[0]
    y[0, j, k].backward()
    spatial = (x.grad != 0).any(dim=0).numpy()
    assert section.cells == int(spatial.sum())
    drawn = np.zeros(spec.input_size, dtype=bool)
    for r, c0, c1 in section.figure.maps[0].runs:
        drawn[r, c0:c1] = True
    assert np.array_equal(drawn, spatial)


STACK = ["conv:k=3,p=1", "conv:k=3,s=2,p=1", "conv:k=3,d=2,p=2", "avgpool:k=2,s=2"]


def _torch_stack() -> torch.nn.Sequential:
    layers = [torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.Conv2d(1, 1, 3, stride=2, padding=1),
              torch.nn.Conv2d(1, 1, 3, dilation=2, padding=2), torch.nn.AvgPool2d(2, stride=2)]
    for layer in layers:
        if isinstance(layer, torch.nn.Conv2d):
            torch.nn.init.constant_(layer.weight, 1.0)
    return torch.nn.Sequential(*layers).double()


@pytest.mark.parametrize("index", [(3, 3), (0, 0), (5, 2)])
def test_stack_region_is_pytorchs_gradient_pattern_in_every_map(index):
    s = stack_section(gather_stack([parse_layer(t) for t in STACK], (24, 24), index))
    x = torch.zeros((1, 1, 24, 24), dtype=torch.float64, requires_grad=True)
    _torch_stack()(x)[0, 0][index].backward()
    expected = (x.grad[0, 0] != 0).numpy()
    assert s.cells == int(expected.sum()) and s.check_holds
    drawn = np.zeros((24, 24), dtype=bool)
    for r, c0, c1 in s.figure.maps[0].runs:
        drawn[r, c0:c1] = True
    assert np.array_equal(drawn, expected)
    assert [m.name for m in s.figure.maps] == ["input", "conv1", "conv2", "conv3", "avgpool4"]


def test_stack_effective_field_and_its_refusal_for_max_pooling():
    s = stack_section(gather_stack([parse_layer("conv:k=3"), parse_layer("conv:k=3")], (9, 9)))
    # hand derivation: two 3-taps convolve to counts 1 2 3 2 1 → mean 2, variance 4/3, over r = 5
    assert s.effective[0][:4] == ("rows", "2", r"\frac{4}{3}", 5) and s.effective_centred
    m = stack_section(gather_stack([parse_layer("conv:k=3"), parse_layer("maxpool:k=2,s=2")], (8, 8)))
    assert m.effective == () and "maxpool" in m.effective_note


# ----------------------------------------------------------------------------- counts
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_counts_match_pytorch_parameters_and_the_jacobian(spec):
    values = {r.name: int(r.value) if r.value.is_Integer else r.value for r in counts_section(gather_counts(spec)).rows}
    conv = torch.nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, groups=spec.groups,
                           bias=spec.bias == "shared")
    if spec.bias != "per_location":
        assert values[f"params_conv_{spec.bias}"] == sum(p.numel() for p in conv.parameters())
    nnz = int(_torch_jacobian_pattern_seed(spec).sum()) if spec.n_terms <= 3000 else spec.n_terms
    assert values[next(n for n in values if n.startswith("nnz"))] == nnz
    assert (values["d_x"], values["d_y"]) == (spec.d_x, spec.d_y)


def test_counts_show_derivations_from_a_sum_to_a_closed_form():
    c = counts_section(gather_counts(CASES["seed-example"]))
    weights = next(d for d in c.derivations if d.name == "params_weights")
    first, last = "".join(weights.steps[0][1]), "".join(weights.steps[-1][1])
    assert r"\sum" in first and r"\sum" not in last and weights.symbol == r"N_{\omega}"
    assert int(weights.value) == 2 * 3 * 3 * 3 and all(r.limit == 0 for r in c.ratios)


# ----------------------------------------------------------------------------- audit
def test_audit_section_carries_every_verdict_and_formats_counterexamples():
    result = audit(torch=False, max_size=2)
    a = audit_section(result)
    assert [(c.id, c.holds) for c in a.claims] == [(c.id, c.holds) for c in result.claims]
    assert a.failing == len(result.failing) > 0
    failing = next(c for c in a.claims if c.counterexample is not None)
    assert re.fullmatch(r"C_1 = \d+,\\ C_2 = \d+,\\ H = \d+,\\ W = \d+,\\ h = \d+,\\ w = \d+", failing.counterexample)


def test_to_note_renames_every_kind_of_symbol():
    expr = sympy.Symbol("omega_1,0,2,1") * sympy.Symbol("x_0,3,4") + sympy.Symbol("b_2") + sympy.Symbol("b_0,1,2")
    assert to_note(expr) == (sympy.Symbol("omega_2,1,2,1") * sympy.Symbol("x_1,4,5") + sympy.Symbol("b_3")
                             + sympy.Symbol("b_1,2,3"))
