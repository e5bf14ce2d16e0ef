"""The one table of layer specs that every engine and every cross-check runs over.

Each case names what it exercises. Sizes stay small enough for SymPy (≤ a few thousand terms).
"""

from __future__ import annotations

import numpy as np

from symconv import ConvSpec, SpecError

CASES: dict[str, ConvSpec] = {
    "seed-2x2-toy": ConvSpec(1, 1, input_size=(3, 3), kernel_size=(2, 2)),
    "seed-example": ConvSpec(2, 3, input_size=(5, 5), kernel_size=(3, 3)),
    "kernel-1x1": ConvSpec(3, 2, input_size=(4, 4), kernel_size=(1, 1)),
    "non-square-kernel": ConvSpec(2, 2, input_size=(5, 6), kernel_size=(2, 3)),
    "non-square-input": ConvSpec(1, 2, input_size=(3, 7), kernel_size=(2, 2)),
    "kernel-equals-input": ConvSpec(2, 3, input_size=(3, 4), kernel_size=(3, 4)),
    "stride-2": ConvSpec(2, 2, input_size=(7, 7), kernel_size=(3, 3), stride=2),
    "stride-pair": ConvSpec(1, 2, input_size=(6, 7), kernel_size=(2, 3), stride=(1, 2)),
    "padding-1": ConvSpec(2, 2, input_size=(4, 4), kernel_size=(3, 3), padding=1),
    "padding-pair": ConvSpec(1, 2, input_size=(4, 5), kernel_size=(3, 3), padding=(2, 0)),
    "padding-same-odd": ConvSpec(2, 2, input_size=(4, 5), kernel_size=(3, 3), padding="same"),
    "padding-same-even": ConvSpec(1, 2, input_size=(5, 4), kernel_size=(2, 4), padding="same"),
    "padding-valid": ConvSpec(1, 1, input_size=(4, 4), kernel_size=(2, 2), padding="valid"),
    "padding-exceeds-kernel": ConvSpec(1, 1, input_size=(2, 2), kernel_size=(2, 2), padding=2),
    "dilation-2": ConvSpec(2, 2, input_size=(7, 7), kernel_size=(3, 3), dilation=2),
    "dilation-pair-same": ConvSpec(1, 1, input_size=(6, 6), kernel_size=(3, 2), dilation=(2, 3), padding="same"),
    "groups-2": ConvSpec(4, 4, input_size=(4, 4), kernel_size=(2, 2), groups=2),
    "depthwise": ConvSpec(3, 6, input_size=(4, 4), kernel_size=(3, 3), groups=3, padding=1),
    "everything": ConvSpec(4, 6, input_size=(7, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 2),
                           dilation=(1, 2), groups=2, bias="per_location"),
    "bias-per-location": ConvSpec(2, 2, input_size=(4, 4), kernel_size=(2, 2), bias="per_location"),
    "bias-none": ConvSpec(2, 3, input_size=(4, 3), kernel_size=(2, 2), bias="none"),
    "stride-larger-than-kernel": ConvSpec(1, 2, input_size=(8, 8), kernel_size=(2, 2), stride=3),
}

IDS = list(CASES)
SPECS = list(CASES.values())


#: PyTorch's padding modes other than zeros
MODES = ("reflect", "replicate", "circular")


def random_mode_specs(count: int, seed: int) -> list[ConvSpec]:
    """Valid padded layers: mode, ndim 1–3, stride, dilation, groups, per-axis padding within PyTorch's limits."""
    rng = np.random.default_rng(seed)
    specs: list[ConvSpec] = []
    while len(specs) < count:
        ndim = int(rng.integers(1, 4))
        mode = MODES[len(specs) % 3]
        top = (7, 6, 4)[ndim - 1]
        n = tuple(int(v) for v in rng.integers(1, top + 1, ndim))
        limit = {"reflect": 0, "replicate": 2, "circular": 1}[mode]  # padding < n, any, ≤ n
        pad = tuple(int(rng.integers(0, max(v + limit, 1))) for v in n)
        groups = int(rng.choice([1, 2]))
        try:
            spec = ConvSpec(groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3)), input_size=n,
                            kernel_size=tuple(int(v) for v in rng.integers(1, 4, ndim)),
                            stride=tuple(int(v) for v in rng.integers(1, 3, ndim)), padding=pad,
                            dilation=tuple(int(v) for v in rng.integers(1, 3, ndim)), groups=groups, padding_mode=mode)
        except SpecError:
            continue
        specs.append(spec)
    return specs
