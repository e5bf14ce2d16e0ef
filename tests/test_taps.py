"""core.taps against a brute force that pads a Python list and walks the kernel over it, and against PyTorch.

The brute force never writes o·s − p + t·d: it builds the padded axis ``[None]*before + [0 … n−1] + [None]*after``
and reads the entry under each kernel tap, so a wrong sign, a swapped stride/dilation or an off-by-one in the
range test shows up as a different position or a different mask.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv.core.taps import (
    axis_output_size,
    axis_tap_count,
    axis_taps,
    in_range,
    same_padding,
    spatial_taps,
    spec_axis_taps,
    tap,
)
from tests.cases import IDS, SPECS


def brute_axis(n: int, k: int, s: int, before: int, after: int, d: int) -> list[list[int | None]]:
    """Per output position, per kernel tap: the input position read (None = a padding zero)."""
    padded: list[int | None] = [None] * before + list(range(n)) + [None] * after
    rows = []
    start = 0
    while start + (k - 1) * d < len(padded):  # the dilated kernel still fits at this offset
        rows.append([padded[start + t * d] for t in range(k)])
        start += s
    return rows


axes = st.tuples(
    st.integers(1, 12), st.integers(1, 5), st.integers(1, 4), st.integers(0, 4), st.integers(0, 4), st.integers(1, 3)
)


@settings(max_examples=300, deadline=None)
@given(axes)
def test_output_size_counts_the_positions_the_kernel_fits(axis):
    n, k, s, before, after, d = axis
    expected = len(brute_axis(n, k, s, before, after, d))
    got = axis_output_size(n, k, s, d, before, after)
    assert got == expected if expected else got <= 0


@settings(max_examples=300, deadline=None)
@given(axes)
def test_axis_taps_read_what_the_padded_list_holds(axis):
    n, k, s, before, after, d = axis
    brute = brute_axis(n, k, s, before, after, d)
    coords, inside = axis_taps(n, k, s, before, d, out=len(brute))
    assert coords.shape == inside.shape == (len(brute), k)
    assert inside.tolist() == [[v is not None for v in row] for row in brute]
    assert [[int(c) if ok else None for c, ok in zip(r, m)] for r, m in zip(coords, inside)] == brute
    for o, row in enumerate(brute):  # the scalar tap map and range test agree with the table
        for t, v in enumerate(row):
            position = tap(o, t, s, before, d)
            assert bool(in_range(position, n)) == (v is not None)
            if v is not None:
                assert position == v


@settings(max_examples=300, deadline=None)
@given(axes, st.integers(0, 3))
def test_axis_tap_count_is_the_number_of_taps_inside(axis, dropped):
    n, k, s, before, after, d = axis
    brute = brute_axis(n, k, s, before, after, d)
    out = max(0, len(brute) - dropped)  # also with fewer outputs than fit: only the first `out` rows count
    expected = sum(v is not None for row in brute[:out] for v in row)
    assert axis_tap_count(n, k, s, before, d, out) == expected


@pytest.mark.parametrize("k", range(1, 7))
@pytest.mark.parametrize("d", [1, 2, 3])
def test_same_padding_is_pytorchs(k, d):
    """conv with padding='same' equals conv on the input padded by same_padding(k, d) explicitly."""
    rng = np.random.default_rng(k * 10 + d)
    n = d * (k - 1) + 3
    x = torch.from_numpy(rng.integers(-9, 10, (1, 1, n)).astype(np.float64))
    w = torch.from_numpy(rng.integers(-9, 10, (1, 1, k)).astype(np.float64))
    before, after = same_padding(k, d)
    assert before + after == d * (k - 1) and after - before in (0, 1)
    same = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
    explicit = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (before, after)), w, dilation=d)
    assert torch.equal(same, explicit)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spatial_taps_is_the_product_of_the_brute_axes(spec):
    per_axis = [
        brute_axis(n, k, s, before, after, d)
        for n, k, s, before, after, d in zip(
            spec.input_size, spec.kernel_size, spec.stride, spec.padding_before, spec.padding_after, spec.dilation
        )
    ]
    assert [len(rows) for rows in per_axis] == list(spec.output_size)
    outputs = list(itertools.product(*(range(len(rows)) for rows in per_axis)))  # C-order over the output grid
    taps = list(itertools.product(*(range(k) for k in spec.kernel_size)))  # C-order over the kernel
    flat, inside = spatial_taps(spec, np.arange(len(outputs)))
    for p, o in enumerate(outputs):
        for q, t in enumerate(taps):
            read = [per_axis[a][o[a]][t[a]] for a in range(spec.ndim)]
            assert inside[p, q] == all(v is not None for v in read)
            if inside[p, q]:
                position = 0
                for v, n in zip(read, spec.input_size):
                    position = position * n + v
                assert flat[p, q] == position
    # one axis of the spec alone is that axis's brute table
    for axis, rows in enumerate(per_axis):
        coords, axis_inside = spec_axis_taps(spec, axis)
        assert axis_inside.tolist() == [[v is not None for v in row] for row in rows]
