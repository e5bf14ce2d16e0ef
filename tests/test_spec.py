"""ConvSpec: PyTorch's output-size rules, and one-line errors that name the parameter and range."""

import re

import pytest
import torch

from symconv import ConvSpec, SpecError
from tests.cases import CASES, IDS, SPECS


def _torch_output_shape(spec: ConvSpec) -> tuple[int, ...]:
    padding = spec.padding if isinstance(spec.padding, str) else spec.padding
    y = torch.nn.functional.conv2d(
        torch.zeros(1, *spec.input_shape),
        torch.zeros(spec.weight_shape),
        stride=spec.stride,
        padding=padding,
        dilation=spec.dilation,
        groups=spec.groups,
    )
    return tuple(y.shape[1:])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_output_shape_matches_pytorch(spec):
    assert spec.output_shape == _torch_output_shape(spec)


@pytest.mark.parametrize("h", range(1, 8))
@pytest.mark.parametrize("k", range(1, 5))
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("p", [0, 1, 2])
@pytest.mark.parametrize("d", [1, 2])
def test_output_size_grid_matches_pytorch(h, k, s, p, d):
    if d * (k - 1) + 1 > h + 2 * p:
        with pytest.raises(SpecError, match=r"^kernel_size must fit the padded input"):
            ConvSpec(1, 1, input_size=(h, h + 1), kernel_size=(k, 1), stride=s, padding=p, dilation=d)
        with pytest.raises(RuntimeError):  # PyTorch refuses too
            torch.nn.functional.conv2d(torch.zeros(1, 1, h, h + 1), torch.zeros(1, 1, k, 1), stride=s, padding=p, dilation=d)
        return
    spec = ConvSpec(1, 1, input_size=(h, h + 1), kernel_size=(k, 1), stride=s, padding=p, dilation=d)
    assert spec.output_shape == _torch_output_shape(spec)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_n_terms_counts_the_index_sum_by_brute_force(spec):
    """spec.n_terms (per-axis counting) against a plain loop over every (output, tap)."""
    (H, W), (kh, kw) = spec.input_size, spec.kernel_size
    count = 0
    for j in range(spec.output_size[0]):
        for k in range(spec.output_size[1]):
            for m in range(kh):
                for n in range(kw):
                    r = j * spec.stride[0] - spec.padding_before[0] + m * spec.dilation[0]
                    c = k * spec.stride[1] - spec.padding_before[1] + n * spec.dilation[1]
                    count += 0 <= r < H and 0 <= c < W
    assert spec.n_terms == count * spec.out_channels * spec.in_per_group


def test_same_padding_puts_the_odd_pixel_after():
    spec = CASES["padding-same-even"]  # kernel 2×4: total padding 1 and 3
    assert spec.padding_before == (0, 1) and spec.padding_after == (1, 2)
    assert spec.output_size == spec.input_size


def test_ints_expand_to_pairs_and_spec_is_hashable():
    spec = ConvSpec(2, 4, input_size=6, kernel_size=3, stride=2, padding=1, dilation=1, groups=2)
    assert (spec.input_size, spec.kernel_size, spec.stride, spec.padding) == ((6, 6), (3, 3), (2, 2), (1, 1))
    assert spec == ConvSpec(2, 4, input_size=(6, 6), kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2)
    assert len({spec, ConvSpec(2, 4, input_size=(6, 6), kernel_size=3, stride=2, padding=1, groups=2)}) == 1


def test_bias_bools_are_pytorch_aliases():
    assert ConvSpec(1, 1, input_size=3, kernel_size=1, bias=True).bias == "shared"
    assert ConvSpec(1, 1, input_size=3, kernel_size=1, bias=False).bias == "none"


BAD = [
    (dict(in_channels=0), r"^in_channels must be ≥ 1, got 0$"),
    (dict(out_channels=-3), r"^out_channels must be ≥ 1, got -3$"),
    (dict(in_channels=2.5), r"^in_channels must be an int ≥ 1, got 2\.5$"),
    (dict(input_size=(0, 5)), r"^input_size must be ≥ 1, got \(0, 5\)$"),
    (dict(input_size=()), r"^input_size must be an int \(a square input, 2-D unless ndim= is given\) or a tuple of ints "
                           r"≥ 1, one per spatial axis, got \(\)$"),
    (dict(input_size="5x5"), r"^input_size must be an int \(a square input, 2-D unless ndim= is given\) or a tuple of "
                             r"ints ≥ 1, one per spatial axis, got '5x5'$"),
    (dict(input_size=(5, 5), ndim=3), r"^input_size must have ndim=3 entries \(one per spatial axis\), got \(5, 5\)$"),
    (dict(ndim=0, input_size=5), r"^ndim must be an int ≥ 1 \(the number of spatial axes\) or None, got 0$"),
    (dict(kernel_size=(3.0, 3)), r"^kernel_size must be an int or a tuple of 2 ints ≥ 1, got \(3\.0, 3\)$"),
    (dict(kernel_size=(3, 3, 3)), r"^kernel_size must have 2 entries \(one per spatial axis: height, width\), "
                                  r"got \(3, 3, 3\)$"),
    (dict(kernel_size=(3, 3), input_size=(5, 5, 5)),
     r"^kernel_size must have 3 entries \(one per spatial axis: depth, height, width\), got \(3, 3\)$"),
    (dict(kernel_size=True), r"^kernel_size must be an int or a tuple of 2 ints ≥ 1, got True$"),
    (dict(stride=0), r"^stride must be ≥ 1, got 0$"),
    (dict(stride=10**23), r"^stride must be ≤ 2147483647 \(2³¹ − 1\), got 100000000000000000000000$"),
    (dict(out_channels=2**31), r"^out_channels must be ≤ 2147483647 \(2³¹ − 1\), got 2147483648$"),
    (dict(dilation=(1, 0)), r"^dilation must be ≥ 1, got \(1, 0\)$"),
    (dict(padding=-1), r"^padding must be ≥ 0, got -1$"),
    (dict(padding="full"), r"^padding must be an int ≥ 0, a tuple of 2 ints ≥ 0, 'valid' or 'same', got 'full'$"),
    (dict(padding="same", stride=2), r"^padding='same' needs stride 1 on every axis \(as in PyTorch\), got stride=\(2, 2\)$"),
    (dict(groups=0), r"^groups must be an int ≥ 1, got 0$"),
    (dict(groups=2, in_channels=3), r"^groups must divide in_channels=3 and out_channels=4, got groups=2$"),
    (dict(bias="yes"), r"^bias must be one of 'shared', 'per_location', 'none', got 'yes'$"),
    (dict(padding_mode="mirror"), r"^padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                                  r"got 'mirror'$"),
    (dict(padding_mode="reflect", padding=5),
     r"^padding must be < input_size on every axis for padding_mode='reflect' \(as in PyTorch\), got padding=\(5, 5\) for "
     r"input_size=\(5, 5\)$"),
    (dict(padding_mode="circular", padding=(0, 6), kernel_size=1),  # a kernel that fits the padded input
     r"^padding must be ≤ input_size on every axis for padding_mode='circular' \(as in PyTorch\), got "
     r"padding=\(0, 6\) for input_size=\(5, 5\)$"),
    (
        dict(kernel_size=(3, 7)),
        r"^kernel_size must fit the padded input: on the width axis the dilated kernel spans 7 but the padded input is 5 "
        r"\(input 5 \+ padding 0\), got kernel_size=\(3, 7\)$",
    ),
    (
        dict(kernel_size=3, dilation=3),
        r"^kernel_size must fit the padded input: on the height axis the dilated kernel spans 7 but the padded input is 5 "
        r"\(input 5 \+ padding 0\), got kernel_size=\(3, 3\)$",
    ),
]


@pytest.mark.parametrize("change,message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_is_one_line_naming_the_parameter(change, message):
    kwargs = dict(in_channels=4, out_channels=4, input_size=(5, 5), kernel_size=(3, 3)) | change
    with pytest.raises(SpecError, match=message) as info:
        ConvSpec(**kwargs)
    text = str(info.value)
    assert "\n" not in text
    parameter = next(iter(change))
    named = {"in_channels": "in_channels", "groups": "groups"}.get(parameter, parameter)
    assert re.search(rf"\b{named}\b", text)


def test_spec_error_is_a_value_error():
    with pytest.raises(ValueError):
        ConvSpec(1, 1, input_size=3, kernel_size=0)


def test_spec_is_frozen():
    spec = ConvSpec(1, 1, input_size=3, kernel_size=1)
    with pytest.raises(AttributeError):
        spec.stride = (2, 2)
