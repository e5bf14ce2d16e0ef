"""1-D and 3-D layers (and beyond) end to end: ConvSpec, both engines, the forms, counts and the CLI, against PyTorch.

Every family is checked on ≥ 100 random layers with stride, padding (ints, 'same', 'valid'), dilation, groups and
each bias mode: the index sum and 𝒲 (the per-axis assembly) evaluated on random integers against
``torch.nn.functional.conv1d/conv3d``; the transposed layer against ``conv_transpose1d/3d``; padding modes against
``nn.Conv1d/Conv3d(padding_mode=…)``; the backward closed forms against autograd; counts against the modules'
parameters and output shapes. Integer values in float64 keep every comparison exact.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from symconv import ConvSpec, SpecError, verify
from symconv.check.backward import verify_backward
from symconv.cli import main
from symconv.closed.arithmetic import conv_transpose_output_size
from symconv.closed.counts import counts, transposed_counts
from symconv.core.transposed import ConvTransposeSpec
from symconv.forms.built import built_matrix_terms
from symconv.forms.padding import mode_matrix_terms, mode_terms
from symconv.forms.transposed import (
    BilinearTerms,
    forward_terms,
    transposed_matrix_terms,
    transposed_terms,
    zero_insertion_terms,
)
from symconv.prove.backward import backward_closed_forms, prove_backward
from symconv.prove.padding_modes import prove_circular_theorem, prove_padding_mode
from symconv.prove.transposed import prove_transposed

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MODULE = {1: nn.Conv1d, 3: nn.Conv3d}
MODULE_T = {1: nn.ConvTranspose1d, 3: nn.ConvTranspose3d}
PER_FAMILY = 110


def _axes(rng: random.Random, ndim: int, low: int, high: int) -> tuple[int, ...]:
    return tuple(rng.randint(low, high) for _ in range(ndim))


def random_specs(ndim: int, count: int, seed: int) -> list[ConvSpec]:
    """``count`` valid random layers with ``ndim`` spatial axes (invalid draws are skipped, as PyTorch would refuse)."""
    rng, out = random.Random(seed), []
    big = 12 if ndim == 1 else 5
    while len(out) < count:
        groups = rng.choice([1, 1, 2, 3])
        padding = rng.choice([_axes(rng, ndim, 0, 2), _axes(rng, ndim, 0, 2), "same", "valid"])
        stride = (1,) * ndim if padding == "same" else _axes(rng, ndim, 1, 3)
        try:
            out.append(ConvSpec(groups * rng.randint(1, 2), groups * rng.randint(1, 2), _axes(rng, ndim, 1, big),
                                _axes(rng, ndim, 1, 3), stride, padding, _axes(rng, ndim, 1, 2), groups,
                                rng.choice(["shared", "per_location", "none"])))
        except SpecError:
            continue
    return out


def random_transposed(ndim: int, count: int, seed: int) -> list[ConvTransposeSpec]:
    rng, out = random.Random(seed), []
    while len(out) < count:
        groups = rng.choice([1, 1, 2])
        stride, dilation = _axes(rng, ndim, 1, 3), _axes(rng, ndim, 1, 2)
        output_padding = tuple(rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation))
        try:
            out.append(ConvTransposeSpec(groups * rng.randint(1, 2), groups * rng.randint(1, 2),
                                         _axes(rng, ndim, 1, 7 if ndim == 1 else 3), _axes(rng, ndim, 1, 3), stride,
                                         _axes(rng, ndim, 0, 2), output_padding, dilation, groups, rng.random() < 0.5))
        except SpecError:
            continue
    return out


SPECS = {ndim: random_specs(ndim, PER_FAMILY, seed=100 + ndim) for ndim in (1, 3)}
TRANSPOSED = {ndim: random_transposed(ndim, PER_FAMILY, seed=200 + ndim) for ndim in (1, 3)}
CASES = [(ndim, i) for ndim in (1, 3) for i in range(PER_FAMILY)]


def _ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-9, 10, shape).astype(np.float64)


def _torch_forward(spec: ConvSpec, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = CONV[spec.ndim](torch.tensor(x)[None], torch.tensor(w), None, spec.stride, spec.padding, spec.dilation,
                        spec.groups)[0].numpy()
    if spec.bias == "shared":
        return y + b.reshape(-1, *([1] * spec.ndim))
    return y + b if spec.bias == "per_location" else y


def _matrix_apply(spec: ConvSpec, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """𝒲x from the construction's integer keys (the assembly outside 2-D), rows channel-major."""
    t = built_matrix_terms(spec)
    n_weights = w.size
    valid = np.broadcast_to(t.valid, t.keys.shape)
    p, i = np.indices(t.keys.shape[:2])
    rows = np.broadcast_to((i * t.keys.shape[0] + p).reshape(*t.keys.shape[:2], *([1] * (t.keys.ndim - 2))),
                           t.keys.shape)[valid]
    keys = t.keys[valid]
    return BilinearTerms(rows, keys % n_weights, keys // n_weights, spec.output_shape).evaluate(w, x)


# ------------------------------------------------------------------------------------------ ConvSpec N-D
def test_a_bare_int_is_2d_unless_ndim_says_otherwise():
    assert ConvSpec(1, 1, 16, 3).input_size == (16, 16)
    assert ConvSpec(1, 1, 16, 3, ndim=1).input_size == (16,)
    assert ConvSpec(1, 1, 8, 3, ndim=3, stride=(1, 2, 1)).output_size == (6, 3, 6)
    assert ConvSpec(1, 1, (16,), 3).describe().startswith("Conv1d 1→1, input 16, kernel 3")
    assert ConvSpec(2, 2, (3, 3, 3, 3), 2).describe().startswith("Conv4d")


def test_axes_are_named_in_errors():
    with pytest.raises(SpecError, match=r"^kernel_size must fit the padded input: on the depth axis the dilated kernel "
                                        r"spans 5 but the padded input is 4"):
        ConvSpec(1, 1, (4, 8, 8), 5)
    with pytest.raises(SpecError, match=r"^kernel_size must fit the padded input: on the axis 3 axis"):
        ConvSpec(1, 1, (4, 4, 4, 2), 3)
    with pytest.raises(SpecError, match=r"^stride must have 1 entries \(one per spatial axis: width\), got \(1, 1\)$"):
        ConvSpec(1, 1, 8, 3, stride=(1, 1), ndim=1)


@pytest.mark.parametrize(("ndim", "i"), CASES)
def test_index_sum_and_assembly_are_torch(ndim, i):
    spec = SPECS[ndim][i]
    rng = np.random.default_rng(i)
    x, w, b = _ints(rng, spec.input_shape), _ints(rng, spec.weight_shape), _ints(rng, spec.bias_shape)
    expected = _torch_forward(spec, x, w, b)
    assert expected.shape == spec.output_shape
    bias = _torch_forward(spec, np.zeros_like(x), w, b)  # b alone, broadcast as the layer adds it
    assert np.array_equal(forward_terms(spec).evaluate(w, x) + bias, expected)
    assert np.array_equal(_matrix_apply(spec, w, x) + bias, expected)
    assert verify(spec, method="index").holds


@pytest.mark.parametrize("ndim", [1, 3])
def test_sympy_engine_proves_small_layers(ndim):
    small = [s for s in SPECS[ndim] if s.n_terms <= 400][:15]
    assert len(small) >= 10
    for spec in small:
        verdict = verify(spec, method="sympy")
        assert verdict.holds, verdict.describe()


def test_block_construction_stays_2d_with_a_clear_error():
    from symconv.forms.blocks import blocks

    with pytest.raises(SpecError, match=r"^the note's block construction needs 2 spatial axes, got 3"):
        blocks(ConvSpec(1, 1, (3, 3, 3), 2))


# ------------------------------------------------------------------------------------------ transposed
@pytest.mark.parametrize(("ndim", "i"), CASES)
def test_transposed_forms_are_torch(ndim, i):
    spec = TRANSPOSED[ndim][i]
    rng = np.random.default_rng(i)
    y, w = _ints(rng, spec.input_shape), _ints(rng, spec.weight_shape)
    expected = CONV_T[ndim](torch.tensor(y)[None], torch.tensor(w), None, spec.stride, spec.padding,
                            spec.output_padding, spec.groups, spec.dilation)[0].numpy()
    assert expected.shape == spec.output_shape
    for terms in (transposed_terms(spec), transposed_matrix_terms(spec), zero_insertion_terms(spec)):
        assert np.array_equal(terms.evaluate(w, y), expected)
    assert prove_transposed(spec, method="index").holds


@pytest.mark.parametrize("ndim", [1, 3])
def test_transposed_identities_proved_with_sympy(ndim):
    for spec in [t for t in TRANSPOSED[ndim] if t.d_out * t.in_channels <= 400][:8]:
        assert prove_transposed(spec, method="sympy").holds


# ------------------------------------------------------------------------------------------ padding modes
MODE_CASES = [(ndim, mode, i) for ndim in (1, 3) for mode in ("reflect", "replicate", "circular") for i in range(35)]


def _mode_spec(ndim: int, mode: str, i: int) -> ConvSpec:
    rng = random.Random(1000 * ndim + 10 * i + len(mode))
    while True:
        base = random_specs(ndim, 1, seed=rng.randrange(10**9))[0]
        try:
            return ConvSpec(base.in_channels, base.out_channels, base.input_size, base.kernel_size, base.stride,
                            base.padding, base.dilation, base.groups, base.bias, padding_mode=mode)
        except SpecError:
            continue


@pytest.mark.parametrize(("ndim", "mode", "i"), MODE_CASES)
def test_padding_modes_are_torch(ndim, mode, i):
    spec = _mode_spec(ndim, mode, i)
    rng = np.random.default_rng(i)
    x, w = _ints(rng, spec.input_shape), _ints(rng, spec.weight_shape)
    conv = MODULE[ndim](spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                        spec.dilation, spec.groups, bias=False, padding_mode=mode).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(w))
        expected = conv(torch.tensor(x)[None])[0].numpy()
    assert np.array_equal(mode_terms(spec).evaluate(w, x), expected)
    assert np.array_equal(mode_matrix_terms(spec).evaluate(w, x), expected)
    assert prove_padding_mode(spec, method="index").holds


def test_padding_mode_proofs_and_the_circular_theorem_in_1d_and_3d():
    assert prove_padding_mode(ConvSpec(2, 2, (5,), 3, padding=2, padding_mode="reflect")).holds
    assert prove_padding_mode(ConvSpec(2, 2, (3, 2, 3), 2, padding=1, groups=2, padding_mode="circular")).holds
    assert prove_circular_theorem(ConvSpec(1, 2, (5,), 3, padding="same", padding_mode="circular")).holds
    assert prove_circular_theorem(ConvSpec(1, 1, (2, 2, 3), (1, 2, 3), padding="same")).holds


# ------------------------------------------------------------------------------------------ backward
@pytest.mark.parametrize(("ndim", "i"), CASES)
def test_backward_closed_forms_are_autograd(ndim, i):
    spec = SPECS[ndim][i]
    rng = np.random.default_rng(i)
    x = torch.tensor(_ints(rng, spec.input_shape))[None].requires_grad_()
    w = torch.tensor(_ints(rng, spec.weight_shape)).requires_grad_()
    g = _ints(rng, spec.output_shape)
    CONV[ndim](x, w, None, spec.stride, spec.padding, spec.dilation, spec.groups).backward(torch.tensor(g)[None])
    gx, gw, gb = backward_closed_forms(spec, x.detach().numpy()[0], w.detach().numpy(), g)
    assert np.array_equal(gx, x.grad.numpy()[0]) and np.array_equal(gw, w.grad.numpy())
    if spec.bias == "shared":
        assert np.array_equal(gb, g.reshape(spec.out_channels, -1).sum(axis=1))


@pytest.mark.parametrize("spec", [ConvSpec(2, 4, (7,), 3, stride=2, padding=1, groups=2),
                                  ConvSpec(2, 2, (3, 4, 3), 2, stride=(2, 1, 1), padding=1, bias="per_location")])
def test_backward_identities_proved_and_a_torch_backward_verified(spec):
    assert prove_backward(spec).holds

    def fn(x, w, g, flip=False):
        x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
        y = CONV[spec.ndim](x, w, None, spec.stride, spec.padding, spec.dilation, spec.groups)
        y.backward(g)
        gx = x.grad
        if flip:  # a classic bug: ∂L/∂x with the kernel not flipped
            wf = w.detach().flip(dims=tuple(range(2, 2 + spec.ndim)))
            x2 = x.detach().clone().requires_grad_()
            CONV[spec.ndim](x2, wf, None, spec.stride, spec.padding, spec.dilation, spec.groups).backward(g)
            gx = x2.grad
        gb = g.sum(dim=(0, *range(2, 2 + spec.ndim))) if spec.bias == "shared" else g.sum(dim=0)
        return gx, w.grad, gb

    assert verify_backward(fn, spec, backend="torch").holds
    verdict = verify_backward(lambda x, w, g: fn(x, w, g, flip=True), spec, backend="torch")
    assert not verdict.holds and "missing-flip" in verdict.codes


# ------------------------------------------------------------------------------------------ counts
@pytest.mark.parametrize("ndim", [1, 3])
def test_counts_are_torch_parameters_and_shapes(ndim):
    for spec in SPECS[ndim][:: 4]:
        c = counts(spec)
        module = MODULE[ndim](spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                              spec.dilation, spec.groups, bias=spec.bias == "shared")
        n_params = sum(p.numel() for p in module.parameters())
        assert (c.params if spec.bias != "per_location" else c.params_weights) == (
            n_params if spec.bias != "per_location" else module.weight.numel())
        assert c.output_size == tuple(module(torch.zeros(1, *spec.input_shape)).shape[2:])
        assert c.nnz == spec.n_terms and c.d_x == spec.d_x and c.d_y == spec.d_y


@pytest.mark.parametrize("ndim", [1, 3])
def test_transposed_counts_are_torch_parameters_and_shapes(ndim):
    for spec in TRANSPOSED[ndim][:: 3]:
        c = transposed_counts(spec)
        module = MODULE_T[ndim](spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                                spec.output_padding, spec.groups, spec.bias, spec.dilation)
        assert c.params == sum(p.numel() for p in module.parameters())
        assert c.output_size == tuple(module(torch.zeros(1, *spec.input_shape)).shape[2:]) == spec.output_size
        assert c.output_size == tuple(conv_transpose_output_size(*axis) for axis in zip(
            spec.input_size, spec.kernel_size, spec.stride, spec.padding, spec.dilation, spec.output_padding))
        assert c.nnz == len(transposed_terms(spec))
        assert c.macs_dense == spec.in_channels * spec.out_per_group * math.prod(spec.input_size) * math.prod(
            spec.kernel_size)


@pytest.mark.parametrize("mode, nnz", [("reflect", 13), ("replicate", 13), ("circular", 15), ("zeros", 13)])
def test_counts_of_padding_modes_merge_taps_that_read_one_cell(mode, nnz):
    """By hand, n = 5, k = 3, p = 1: reflect pads x₁ | x₀ … x₄ | x₃, so outputs 0 and 4 read two distinct cells
    (2 + 3 + 3 + 3 + 2 = 13); replicate (x₀ | … | x₄) likewise; circular (x₄ | … | x₀) reads three everywhere (15);
    zeros drops the padding taps (13)."""
    assert counts(ConvSpec(1, 1, (5,), 3, padding=1, padding_mode=mode)).nnz == nnz


# ------------------------------------------------------------------------------------------ the command line
LAYER_1D = ["--in-channels", "2", "--out-channels", "4", "--input", "16", "--ndim", "1", "--kernel", "3"]
LAYER_3D = ["--in-channels", "2", "--out-channels", "2", "--input", "4x3x4", "--kernel", "3", "--padding", "1"]


@pytest.mark.parametrize("argv", [
    ["verify", *LAYER_1D, "--stride", "2", "--padding", "1", "--groups", "2"],
    ["verify", *LAYER_3D, "--method", "index"],
    ["verify", *LAYER_3D, "--transposed", "--stride", "2", "--output-padding", "1x0x1"],
    ["verify", *LAYER_1D, "--backward", "--dilation", "2"],
    ["verify", *LAYER_3D, "--padding-mode", "replicate", "--method", "index"],
    ["verify", "--in-channels", "1", "--out-channels", "1", "--input", "5", "--ndim", "1", "--kernel", "3",
     "--padding", "same", "--circular-theorem"],
])
def test_cli_verifies_every_identity_with_exit_0_and_json(capsys, argv):
    assert main(argv) == 0
    assert "HOLDS" in capsys.readouterr().out
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["holds"] is True


@pytest.mark.parametrize(("extra", "message"), [
    (["--transposed", "--backward"], "--transposed and --backward are separate checks: give one"),
    (["--output-padding", "1"], "--output-padding needs --transposed (it is a ConvTranspose parameter)"),
    (["--transposed", "--output-padding", "1"],
     "output_padding must be < stride or < dilation on every axis (as in PyTorch), got output_padding=(1,)"),
    (["--backward", "--method", "index"], "--backward is proved with SymPy: --method must be 'auto' or 'sympy', got 'index'"),
    (["--circular-theorem", "--padding-mode", "reflect"],
     "--padding-mode reflect cannot be combined with --circular-theorem: only circular padding is diagonalised by the DFT"),
    (["--transposed", "--order", "seed"],
     "--order is for the forward identity conv(x) = Wx + b; it cannot be combined with --transposed"),
    (["--padding-mode", "reflect", "--padding", "16"],
     "padding must be < input_size on every axis for padding_mode='reflect' (as in PyTorch), got padding=(16,)"),
    (["--transposed", "--padding", "same"], "--padding must be ints for --transposed (ConvTranspose has no 'same'/'valid')"),
    (["--kernel", "3x3"], "--kernel must have 1 size (one per spatial axis, as --ndim 1 gives), got '3x3'"),
])
def test_cli_bad_combinations_are_one_line_exit_2(capsys, extra, message):
    layer = list(LAYER_1D)
    for flag, value in zip(extra[::2], extra[1::2]):
        if flag in layer:
            layer[layer.index(flag) + 1] = value
    flags = [e for e in extra if e.startswith("--") and e not in layer]
    argv = ["verify", *layer]
    for flag in flags:
        position = extra.index(flag)
        takes_value = position + 1 < len(extra) and not extra[position + 1].startswith("--")
        argv += [flag, extra[position + 1]] if takes_value else [flag]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_cli_counts_1d_3d_and_transposed(capsys):
    assert main(["counts", *LAYER_1D, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_size"] == [14] and data["params"] == 28 and "output_width" in data["formulas"]
    assert main(["counts", *LAYER_3D]) == 0
    assert "output_depth, output_height, output_width" in capsys.readouterr().out
    assert main(["counts", "--in-channels", "16", "--out-channels", "8", "--input", "4x4x4", "--kernel", "2",
                 "--stride", "2", "--transposed", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["output_size"] == [8, 8, 8] and data["params"] == 1032


# ------------------------------------------------------------------------------------------ receptive fields
@pytest.mark.parametrize("spec", [ConvSpec(4, 2, (9,), 3, stride=2, padding=1, dilation=2, groups=2),
                                  ConvSpec(2, 2, (4, 5, 3), (2, 3, 1), stride=(1, 2, 1), padding=(1, 0, 0))])
def test_conv_inputs_and_regions_are_the_gradient_support(spec):
    from symconv.receptive.field import conv_inputs, receptive_field

    conv = MODULE[spec.ndim](spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                             spec.dilation, spec.groups).double()
    rf = receptive_field([spec, spec.__class__(spec.out_channels, 1, spec.output_size, 1, ndim=spec.ndim)])
    assert rf.output_size == spec.output_size
    torch.manual_seed(0)
    for index in np.ndindex(*spec.output_shape):
        x = torch.randn((1, *spec.input_shape), dtype=torch.float64, requires_grad=True)
        conv(x)[(0, *index)].backward()
        support = (x.grad[0] != 0).numpy()
        assert np.array_equal(support, conv_inputs(spec, index)), index
        assert np.array_equal(support.any(axis=0), rf.region(index[1:]).mask), index


# ------------------------------------------------------------------------------ what builds the zero-padded layer only
@pytest.mark.parametrize("call, instead", [
    (lambda s: __import__("symconv").verify(s), "prove_padding_mode"),
    (lambda s: __import__("symconv").direct(s), "mode_direct"),
    (lambda s: __import__("symconv").matrix(s), "mode_matrix"),
    (lambda s: __import__("symconv").blocks(s), "mode_matrix"),
])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_zero_padded_constructions_refuse_other_padding_modes(call, instead, mode):
    spec = ConvSpec(1, 2, input_size=5, kernel_size=3, padding=1, padding_mode=mode)
    with pytest.raises(SpecError, match=rf"^.* builds the zero-padded layer; spec has padding_mode='{mode}': use .*{instead}"):
        call(spec)
