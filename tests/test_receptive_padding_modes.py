"""Receptive fields of stacks with padding modes (reflect, replicate, circular), checked against PyTorch autograd.

The dependence set of an output is read off the Jacobian of a torch stack with random positive weights (no path
can cancel, so a nonzero entry is exactly a dependence): ``torch.autograd.functional.jacobian`` of the stack built
from the same parameters, a code path nobody here wrote. Every output of every random stack is compared.
"""

from __future__ import annotations

import dataclasses
import random
import re

import numpy as np
import pytest

from symconv.core.spec import ConvSpec
from symconv.errors import SpecError
from symconv.forms import padding as padding_module
from symconv.receptive import field as field_module
from symconv.receptive.check import check_receptive_field, layer_operator, predicted_pattern
from symconv.receptive.field import receptive_field
from symconv.receptive.layers import Branches, Layer, parse_layer

torch = pytest.importorskip("torch")
nn = torch.nn

MODES = ("reflect", "replicate", "circular")
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
AVG = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}


def _positive(module: nn.Module, seed: int) -> nn.Module:
    """``module`` in float64 with random weights in [0.5, 1.5]: sums of positive products never cancel."""
    generator = torch.Generator().manual_seed(seed)
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.5 + torch.rand(p.shape, generator=generator, dtype=torch.float64))
    return module


def _torch_layer(layer: Layer, ndim: int) -> nn.Module:
    ops = layer.axes(ndim)
    k, s, d = (tuple(getattr(op, name) for op in ops) for name in ("kernel", "stride", "dilation"))
    p = tuple(op.before for op in ops)
    if layer.kind == "avgpool":
        return AVG[ndim](k, s, p)
    return CONV[ndim](1, 1, k, s, p, d, bias=False, padding_mode=layer.padding_mode)


def _dependence(module: nn.Module, input_size: tuple[int, ...]) -> np.ndarray:
    """Boolean (output…, input…) array: which inputs each output depends on, from autograd's Jacobian."""
    x = torch.zeros((1, 1, *input_size), dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(module, x, vectorize=True)
    return (jac.reshape(*jac.shape[2:2 + len(input_size)], *input_size) != 0).numpy()


def _random_stack(seed: int) -> tuple[list[Layer], tuple[int, ...], int]:
    """A random valid stack of 1–3 layers (convs with a random mode, sometimes avgpool), any ndim 1–3."""
    rng = random.Random(seed)
    ndim = 1 + seed % 3
    mode = MODES[(seed // 3) % 3]
    low, high = {1: (6, 18), 2: (4, 9), 3: (3, 6)}[ndim]
    input_size = tuple(rng.randint(low, high) for _ in range(ndim))
    size, layers = input_size, []
    while len(layers) < rng.randint(1, 3) or not layers:
        k, s, d = rng.randint(1, 3), rng.choice((1, 1, 2)), rng.choice((1, 1, 2))
        p = rng.randint(0, 2)
        layer = Layer(k, s, p, d, "conv", padding_mode=mode if rng.random() < 0.85 else "zeros")
        if rng.random() < 0.15 and min(size) >= 2:  # PyTorch's pooling wants the unpadded map ≥ the window
            layer = Layer(2, 2, min(p, 1), kind="avgpool")
        try:
            size = receptive_field(layers + [layer], input_size).output_size
        except SpecError:  # PyTorch's limits or a kernel that does not fit: draw again
            continue
        layers.append(layer)
    return layers, input_size, ndim


@pytest.mark.parametrize("seed", range(120))
def test_regions_of_random_stacks_equal_autograd(seed):
    layers, input_size, ndim = _random_stack(seed)
    module = _positive(nn.Sequential(*(_torch_layer(layer, ndim) for layer in layers)), seed)
    expected = _dependence(module, input_size)
    from_layers = receptive_field(layers, input_size)
    from_module = receptive_field(module, input_size)  # read by torch.fx from the Sequential
    assert from_module.graph.nodes[-1].layer.axes(ndim) == layers[-1].axes(ndim)  # the mode is read too
    assert from_layers.output_size == expected.shape[:ndim]
    zeros = receptive_field([dataclasses.replace(x, padding_mode="zeros") for x in layers], input_size)
    for index in np.ndindex(*from_layers.output_size):
        assert np.array_equal(from_layers.region(index).mask, expected[index]), (index, [x.describe() for x in layers])
        assert np.array_equal(from_module.region(index).mask, expected[index]), index
        if zeros.region(index).interior:  # the docstring's promise: no padding reached, so the mode does not matter
            assert np.array_equal(zeros.region(index).mask, expected[index]), index
    if ndim <= 2:  # the 𝒲-product check covers 1-D and 2-D
        flat = expected.reshape(int(np.prod(from_layers.output_size)), -1)
        assert np.array_equal(predicted_pattern(from_layers).to_dense() > 0, flat)
        assert check_receptive_field(from_layers).holds or 1 in from_layers.output_size


@pytest.mark.parametrize("mode", MODES)
def test_a_convspec_layer_uses_its_padding_mode(mode):
    spec = ConvSpec(1, 1, input_size=8, kernel_size=3, padding=1, padding_mode=mode)
    rf = receptive_field([spec])
    module = _positive(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False, padding_mode=mode)), 0)
    expected = _dependence(module, (8, 8))
    for index in [(0, 0), (0, 7), (3, 4), (7, 7)]:
        assert np.array_equal(rf.region(index).mask, expected[index])
    assert rf.size is None and f"padding_mode={mode!r}" in rf.inexact


def test_circular_border_reads_the_far_edge_and_interior_reads_as_zero_padding():
    layers = [Layer(3, padding=1, padding_mode="circular"), Layer(3, stride=2, padding=1, padding_mode="circular")]
    zeros = [Layer(3, padding=1), Layer(3, stride=2, padding=1)]
    rf, rf0 = receptive_field(layers, (10, 10)), receptive_field(zeros, (10, 10))
    corner = rf.region((0, 0)).mask
    assert corner[9, 9] and corner[0, 0] and not rf0.region((0, 0)).mask[9, 9]
    interior = [i for i in np.ndindex(*rf.output_size) if rf0.region(i).interior]
    assert interior  # outputs that reach no padding read exactly what zero padding gives
    for index in interior:
        assert np.array_equal(rf.region(index).mask, rf0.region(index).mask)


def test_summaries_are_none_with_the_reason_and_kept_without_padding():
    rf = receptive_field([Layer(3), Layer(3, padding=1, padding_mode="reflect"), Layer(3)], 12)
    assert (rf.size, rf.stride, rf.padding) == (None, None, None)
    assert [lf.size for lf in rf.layers] == [(1, 1), (3, 3), None, None]
    assert rf.inexact.startswith("layer 'conv2' (conv:k=3,s=1,p=1,d=1,mode=reflect) pads with padding_mode='reflect'")
    with pytest.raises(SpecError, match=r"^no box from a summary: layer 'conv2'"):
        rf.box((0, 0))
    unpadded = receptive_field([Layer(3, padding_mode="circular"), Layer(3, stride=2, padding_mode="reflect")], 12)
    assert (unpadded.size, unpadded.stride, unpadded.padding, unpadded.inexact) == ((5, 5), (2, 2), (0, 0), None)


def test_replicate_can_read_outside_the_zero_padded_box():
    """An output whose taps all land on padding reads the edge cell: not inside its zero-padding box."""
    rf = receptive_field([Layer((1,), padding=1, padding_mode="replicate")], 5)
    module = _positive(nn.Sequential(nn.Conv1d(1, 1, 1, padding=1, bias=False, padding_mode="replicate")), 0)
    expected = _dependence(module, (5,))
    assert rf.region(0).mask.tolist() == expected[0].tolist() == [True, False, False, False, False]
    assert receptive_field([Layer((1,), padding=1)], 5).box(0)[0].start == -1


def test_residual_block_with_modes_equals_autograd():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(1, 1, 3, padding=2, dilation=2, bias=False, padding_mode="circular")
            self.b = nn.Conv2d(1, 1, 3, padding=1, bias=False, padding_mode="reflect")

        def forward(self, x):
            return x + self.b(self.a(x))

    module = _positive(Block(), 3)
    layers = [Branches(([Layer(3, padding=2, dilation=2, padding_mode="circular"),
                         Layer(3, padding=1, padding_mode="reflect")], []))]
    expected = _dependence(module, (7, 9))
    for rf in (receptive_field(module, (7, 9)), receptive_field(layers, (7, 9))):
        assert rf.size is None
        for index in np.ndindex(7, 9):
            assert np.array_equal(rf.region(index).mask, expected[index])
    assert check_receptive_field(layers, (7, 9)).holds


@pytest.mark.parametrize("mode", MODES)
def test_layer_operator_is_the_mode_matrix_pattern_with_multiplicities(mode):
    """Path counts of one layer: the uniform-weight Jacobian of torch (weights all 1) counts repeated reads."""
    layer = Layer((3, 2), stride=(1, 2), padding=(2, 1), padding_mode=mode)
    op = layer_operator(layer, (4, 5), counts=True).to_dense()
    conv = nn.Conv2d(1, 1, (3, 2), (1, 2), (2, 1), bias=False, padding_mode=mode).double()
    with torch.no_grad():
        conv.weight.fill_(1.0)
    jac = torch.autograd.functional.jacobian(conv, torch.zeros(1, 1, 4, 5, dtype=torch.float64))
    assert np.array_equal(op, jac.reshape(op.shape).numpy().astype(np.int64))
    assert op.max() >= 2 or mode != "replicate"  # the border reads some cells twice: a set would not see it


# ------------------------------------------------------------------------------------------- soundness
_ORIGINAL_MAP = padding_module.axis_padding_map


def _wrong_after(n, before, after, mode):
    """The padding map with the far border replicated: right where only output 0 is looked at."""
    pi = _ORIGINAL_MAP(n, before, after, mode)
    if mode != "zeros":
        pi[before + n:] = n - 1
    return pi


_CACHES = (field_module._axis_matrix, field_module._padding_map)


@pytest.fixture
def fresh_patterns():
    """Per-axis patterns and maps built under a corruption must not outlive it (both are lru_cached)."""
    for cached in _CACHES:
        cached.cache_clear()
    yield
    for cached in _CACHES:
        cached.cache_clear()


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_check_fails_when_the_far_border_is_wrong(monkeypatch, fresh_patterns, mode):
    monkeypatch.setattr(field_module, "_padding_map", _wrong_after)  # the field's copy of π only, not the product's
    layers = [Layer(3, padding=2, padding_mode=mode), Layer(3, stride=2, padding=1, padding_mode=mode)]
    check = check_receptive_field(layers, (6, 7))
    assert not check.holds and check.status == "DISAGREES"
    found = re.match(r"^output \((\d+), (\d+)\): the 𝒲 product reads \d+ inputs, the receptive field predicts", check.mismatch)
    assert found and int(found[2]) >= 3  # a counterexample at the far end (output columns 0…4), not at output 0


def test_check_fails_when_modes_are_ignored(monkeypatch, fresh_patterns):
    monkeypatch.setattr(field_module, "_mode_padded", lambda op: False)
    check = check_receptive_field([Layer(3, padding=1, padding_mode="circular")], (5, 5))
    assert not check.holds and "only in the product: (0, 4)" in check.mismatch


def _buffered_pull_back(mask, ops, size_in):
    """_pull_back with a buffered ``|=`` everywhere: wrong only where several outputs send to one input."""
    out = mask
    for a, (op, n) in enumerate(zip(ops, size_in)):
        shape = list(out.shape)
        shape[a] = n
        pulled = np.zeros(shape, dtype=bool)
        o = np.arange(out.shape[a])
        for t in range(op.kernel):
            target, keep = field_module._read(op, n, o * op.stride - op.before + t * op.dilation)
            index_in, index_out = [slice(None)] * out.ndim, [slice(None)] * out.ndim
            index_in[a], index_out[a] = target[keep], o[keep]
            pulled[tuple(index_in)] |= out[tuple(index_out)]
        out = pulled
    return out


def test_check_fails_when_region_masks_lose_repeated_reads(monkeypatch):
    monkeypatch.setattr(field_module, "_pull_back", _buffered_pull_back)
    assert check_receptive_field([Layer(3, padding=1, padding_mode="circular")], (6, 6)).holds  # no repeats: fine
    check = check_receptive_field([Layer(3, padding=2, padding_mode="replicate")], (6, 6))
    assert not check.holds and re.match(r"^output \(\d+, \d+\): region\(\) reads \d+ inputs, the 𝒲 product", check.mismatch)


@pytest.mark.parametrize("mode", MODES)
def test_a_claimed_summary_for_a_mode_stack_fails(mode):
    layers = [Layer(3, padding=1, padding_mode=mode), Layer(3, stride=2, padding=1, padding_mode=mode)]
    zeros_claim = receptive_field([Layer(3, padding=1), Layer(3, stride=2, padding=1)], (9, 9))
    check = check_receptive_field(layers, (9, 9), claimed=zeros_claim)
    assert not check.holds and check.status == "DISAGREES"
    if mode == "circular":  # a wrapped read is a counterexample to the box
        assert check.mismatch.startswith("output (0, 0) reads input (7, 0), outside its box -2..2 on axis 0")
    else:
        assert "is claimed, but no summary is exact" in check.mismatch or "outside its box" in check.mismatch


# --------------------------------------------------------------------------------------------- input
@pytest.mark.parametrize(
    ("layers", "size", "message"),
    [
        ([Layer(3, padding=4, padding_mode="reflect")], 4,
         r"^layer 'conv1' on axis 0: padding must be < input_size on every axis for padding_mode='reflect'"),
        ([Layer(3), Layer(3, padding=3, padding_mode="circular")], 4,
         r"^layer 'conv2' on axis 0: padding must be ≤ input_size on every axis for padding_mode='circular'"),
    ],
)
def test_pytorch_limits_are_one_line_errors(layers, size, message):
    with pytest.raises(SpecError, match=message):
        receptive_field(layers, size)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv:k=3,mode=wrap", r"^padding_mode \(mode=\) must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                               r"got 'wrap' in 'conv:k=3,mode=wrap'$"),
        ("avgpool:k=2,mode=reflect", r"^padding_mode='reflect' is for kind='conv' only \(as in PyTorch\), got kind='avgpool'$"),
        ("tconv:k=2,mode=circular", r"^padding_mode='circular' is for kind='conv' only"),
    ],
)
def test_bad_mode_tokens(text, message):
    with pytest.raises(SpecError, match=message):
        parse_layer(text)


def test_mode_tokens_round_trip():
    layer = parse_layer("conv:k=3x1,s=2,p=1x0,padding_mode=replicate")
    assert layer.padding_mode == "replicate" and parse_layer(layer.describe()) == layer
    assert "mode" not in parse_layer("conv:k=3").describe()


def test_cli_prints_the_reason_and_the_wrapped_region(capsys):
    from symconv.cli import main

    code = main(["rf", "conv:k=3,p=1,mode=circular", "--input", "6", "--index", "0x0", "--check"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "receptive field: size ?, stride ?, padding ?; input 6×6 → output 6×6"
    assert "pads with padding_mode='circular' on axis 0" in out and "AGREES" in out
    assert "  ##...#" in out.splitlines()  # row 0 of the mask: columns 0, 1 and the wrapped 5
    code = main(["rf", "conv:k=3,p=1,mode=mirror", "--input", "6"])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "padding_mode (mode=)" in err


def test_ten_layer_circular_stack_on_64x64_matches_autograd_at_a_corner():
    layers = [Layer(3, padding=1, padding_mode="circular")] * 10
    rf = receptive_field(layers, (64, 64))
    mask = rf.region((0, 0)).mask
    module = _positive(nn.Sequential(*(_torch_layer(layer, 2) for layer in layers)), 1)
    x = torch.zeros(1, 1, 64, 64, dtype=torch.float64, requires_grad=True)
    module(x)[0, 0, 0, 0].backward()
    assert np.array_equal(mask, (x.grad[0, 0] != 0).numpy())
    rows = np.flatnonzero(mask.any(axis=1)).tolist()
    assert rows == list(range(11)) + list(range(54, 64))  # 10 cells each way, wrapped
