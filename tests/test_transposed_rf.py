"""Transposed convolutions in receptive fields: exact regions against PyTorch autograd, and no wrong summary.

The reference nobody here wrote: the gradient of one output with respect to the input. With positive weights,
no bias and a positive input (so ReLU passes gradients), a gradient entry is a sum of positive products, nonzero
exactly where some path joins the input position to the output — the dependence pattern.
"""

from __future__ import annotations

import numpy as np
import pytest

from symconv import ConvSpec, SpecError
from symconv.cli import main
from symconv.core.transposed import ConvTransposeSpec
from symconv.receptive.field import axis_pattern, receptive_field
from symconv.receptive.layers import Layer, layers_from_json, parse_layer

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

CONV = {1: (nn.Conv1d, nn.ConvTranspose1d), 2: (nn.Conv2d, nn.ConvTranspose2d)}


def _random_layer(rng: np.random.Generator, ndim: int) -> Layer:
    """A conv or transposed conv with per-axis kernel, stride, padding, dilation (and output padding)."""
    k = tuple(int(v) for v in rng.integers(1, 5, ndim))
    s = tuple(int(v) for v in rng.integers(1, 4, ndim))
    d = tuple(int(v) for v in rng.integers(1, 3, ndim))
    p = tuple(int(rng.integers(0, dd * (kk - 1) + 1)) for kk, dd in zip(k, d))
    if rng.random() < 0.5:
        return Layer(k, s, p, d, "conv")
    op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d))
    return Layer(k, s, p, d, "tconv", op)


def _module(layers: list[Layer], rng: np.random.Generator, ndim: int) -> nn.Module:
    """The torch stack of ``layers`` (one channel, positive float64 weights, no bias)."""
    conv, tconv = CONV[ndim]
    mods = []
    for layer in layers:
        args = dict(kernel_size=layer.kernel_size, stride=layer.stride, padding=layer.padding,
                    dilation=layer.dilation, bias=False)
        mods.append(tconv(1, 1, output_padding=layer.output_padding, **args) if layer.kind == "tconv"
                    else conv(1, 1, **args))
    model = nn.Sequential(*mods).double()
    with torch.no_grad():
        for m in mods:
            m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.weight.shape)))
    return model


def _grad_pattern(model: nn.Module, input_size: tuple[int, ...], index: tuple[int, ...]) -> np.ndarray:
    x = torch.rand((1, 1, *input_size), dtype=torch.float64) + 0.5
    x.requires_grad_(True)
    model(x)[(0, 0, *index)].backward()
    return (x.grad[0, 0] != 0).numpy()


def _random_stack(rng: np.random.Generator, ndim: int):
    while True:
        layers = [_random_layer(rng, ndim) for _ in range(int(rng.integers(2, 5)))]
        size = tuple(int(v) for v in rng.integers(3, 9, ndim))
        try:
            return layers, size, receptive_field(layers, size)
        except SpecError:  # a layer does not fit: draw again
            continue


@pytest.mark.parametrize("seed", range(36))
def test_random_stacks_match_autograd(seed):
    rng = np.random.default_rng(seed)
    ndim = 1 + seed % 2
    layers, size, rf = _random_stack(rng, ndim)
    model = _module(layers, rng, ndim)
    assert tuple(model(torch.zeros((1, 1, *size), dtype=torch.float64)).shape[2:]) == rf.output_size
    assert rf.size is None or not any(L.kind == "tconv" and max(np.atleast_1d(L.stride)) > 1 for L in layers)
    outputs = np.array(list(np.ndindex(*rf.output_size)))
    for row in rng.choice(len(outputs), size=min(6, len(outputs)), replace=False):
        index = tuple(int(v) for v in outputs[row])
        region = rf.region(index)
        np.testing.assert_array_equal(region.mask, _grad_pattern(model, size, index), err_msg=f"{layers} {index}")
        if rf.size is not None and region.interior:  # an exact summary: the box is the mask's extent
            hit = np.nonzero(region.mask)
            assert [(ax.start, ax.end) for ax in region.axes] == [(int(h.min()), int(h.max())) for h in hit]


@pytest.mark.parametrize("seed", range(6))
def test_module_graph_and_layer_list_agree(seed):
    rng = np.random.default_rng(100 + seed)
    ndim = 1 + seed % 2
    layers, size, rf = _random_stack(rng, ndim)
    from_module = receptive_field(_module(layers, rng, ndim), size)
    assert from_module.output_size == rf.output_size and from_module.size == rf.size
    index = tuple(n // 2 for n in rf.output_size)
    np.testing.assert_array_equal(from_module.region(index).mask, rf.region(index).mask)


class EncoderDecoder(nn.Module):
    """A small U-Net step: encode, downsample, transpose-upsample, concatenate the skip, add a shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Conv2d(1, 2, 3, padding=1, bias=False)
        self.down = nn.Conv2d(2, 2, 3, stride=2, padding=1, bias=False)
        self.mid = nn.Conv2d(2, 2, 3, padding=2, dilation=2, bias=False)
        self.up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1, bias=False)
        self.head = nn.Conv2d(4, 1, (1, 3), padding=(0, 1), bias=False)

    def forward(self, x):
        e = torch.relu(self.enc(x))
        d = torch.relu(self.down(e))
        u = self.up(d + self.mid(d))
        return self.head(torch.cat([e, u], dim=1))


def test_encoder_decoder_matches_autograd():
    rng = np.random.default_rng(7)
    model = EncoderDecoder().double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, p.shape)))
    rf = receptive_field(model, (10, 12))
    assert rf.output_size == (10, 12) and rf.size is None and "'up'" in rf.inexact
    for index in [(0, 0), (3, 4), (4, 4), (9, 11), (5, 0)]:
        np.testing.assert_array_equal(rf.region(index).mask, _grad_pattern(model, (10, 12), index))


def test_strided_transposed_layer_has_no_summary_and_says_why():
    rf = receptive_field([Layer(3, stride=2, padding=1, output_padding=1, kind="tconv"), Layer(3)], input_size=6)
    assert (rf.size, rf.stride, rf.padding) == (None, None, None)
    assert rf.inexact == ("layer 'tconv1' (tconv:k=3,s=2,p=1,d=1,op=1) is a transposed convolution with stride 2 on "
                          "axis 0: its outputs read the input at stride 1/2, so where an output's region starts and how "
                          "long it is depend on the output index modulo 2")
    assert rf.layers[0].size == (1, 1) and rf.layers[1].size is None and rf.layers[2].paths == ()
    # why: along one axis the region's length alternates, so no (size, stride, padding) fits every output
    lengths = {rf.region((j, 0)).axes[0].size for j in range(2, 8)}
    assert len(lengths) > 1
    with pytest.raises(SpecError, match=r"^no box from a summary: layer 'tconv1' .*; region\(index\) gives the exact mask$"):
        rf.box((0, 0))
    with pytest.raises(SpecError, match=r"^this field's regions need exact masks and so the input size: layer 'tconv1'"):
        receptive_field(rf.graph).region((0, 0))
    with pytest.raises(SpecError, match=r"^effective_receptive_field needs a field with one size per axis; here layer"):
        from symconv.receptive.field import effective_receptive_field

        effective_receptive_field(rf.graph)
    assert "no exact size/stride/padding (?)" in rf.describe() and rf.to_dict()["size"] is None


def test_an_output_that_reads_nothing_gets_the_empty_box():
    rf = receptive_field([Layer(1, stride=2, kind="tconv")], input_size=(3,))  # odd outputs fall between inputs
    region = rf.region((1,))
    assert region.maps[0].cells == 0 and (region.axes[0].start, region.axes[0].end, region.axes[0].clipped_start) == (0, -1, None)


@pytest.mark.parametrize(("k", "p", "op", "d"), [(3, 1, 0, 1), (3, 0, 0, 2), (2, 3, 1, 2), (4, 1, 0, 1)])
def test_stride_one_transposed_layer_keeps_an_exact_summary(k, p, op, d):
    tconv = Layer(k, 1, p, d, "tconv", op)
    rf = receptive_field([Layer(3, padding=1), tconv], input_size=(9,))
    assert rf.inexact is None and rf.size == (3 + (k - 1) * d,)
    pattern = axis_pattern(tconv.axes(1)[0], 9)  # [o, i]: o = i − p + t·d
    expected = np.zeros_like(pattern)
    for i in range(9):
        for t in range(k):
            if 0 <= i - p + t * d < pattern.shape[0]:
                expected[i - p + t * d, i] = True
    np.testing.assert_array_equal(pattern, expected)


def test_transposed_spec_in_a_stack():
    spec = ConvTransposeSpec(1, 2, input_size=(4, 5), kernel_size=3, stride=2, padding=1, output_padding=1)
    rf = receptive_field([ConvSpec(1, 1, input_size=(4, 5), kernel_size=1), spec])
    assert rf.graph.nodes[2].name == "tconv2" and rf.output_size == spec.output_size
    with pytest.raises(SpecError, match=r"^layer 'tconv2' is a ConvTransposeSpec for input 4×5 but receives a 3×4"):
        receptive_field([ConvSpec(1, 1, input_size=(4, 5), kernel_size=2), spec])


def test_text_and_json_syntax():
    layer = parse_layer("tconv:k=3x2,s=2,p=1x0,op=1x0")
    assert layer == Layer((3, 2), 2, (1, 0), 1, "tconv", (1, 0)) and parse_layer(layer.describe()) == layer
    assert layers_from_json([{"kind": "tconv", "kernel_size": 2, "stride": 2, "output_padding": 1}])[0][0].describe() \
        == "tconv:k=2,s=2,p=0,d=1,op=1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(kernel_size=3, output_padding=1), r"^output_padding is for kind='tconv' only, got output_padding=1 with "
                                                r"kind='conv'$"),
        (dict(kernel_size=3, stride=2, output_padding=2, kind="tconv"),
         r"^output_padding must be smaller than the stride or the dilation \(as in PyTorch\), got output_padding=2, "
         r"stride=2, dilation=1 on axis 0$"),
        (dict(kernel_size=3, padding="valid", kind="tconv"),
         r"^padding must be an int ≥ 0 or a tuple of ints ≥ 0 for kind='tconv' \(as in PyTorch\), got 'valid'$"),
    ],
)
def test_bad_transposed_layers_raise_one_line(kwargs, message):
    with pytest.raises(SpecError, match=message):
        Layer(**kwargs)


def test_cli_reads_a_transposed_layer(capsys):
    code = main(["rf", "conv:k=3,s=2,p=1", "tconv:k=3,s=2,p=1,op=1", "--input", "8x8", "--index", "3x4"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "receptive field: size ?, stride ?, padding ?; input 8×8 → output 8×8"
    assert "tconv2  tconv:k=3,s=2,p=1,d=1,op=1" in out and "no exact size/stride/padding (?)" in out
    rf = receptive_field([Layer(3, 2, 1), Layer(3, 2, 1, kind="tconv", output_padding=1)], (8, 8))
    assert f"reads {rf.region((3, 4)).maps[0].cells} input positions" in out
    code = main(["rf", "tconv:k=3,s=2,p=1,op=1", "--input", "8", "--check"])
    assert code == 2 and "is a transposed convolution" in capsys.readouterr().err
