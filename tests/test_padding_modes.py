"""Padding modes: 𝒲_mode = 𝒲_valid·P against nn.Conv2d(padding_mode=…), proofs, the circular convolution theorem."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from symconv.core.spec import ConvSpec
from symconv.errors import SpecError
from symconv.forms import padding as padding_forms
from symconv.forms.padding import axis_padding_map, mode_matrix_terms, mode_terms, padding_operator
from symconv.prove.padding_modes import prove_circular_theorem, prove_padding_mode

MODES = ("reflect", "replicate", "circular", "zeros")


def random_specs(count: int, seed: int, mode: str, max_size: int = 6) -> list[ConvSpec]:
    rng, specs = random.Random(seed), []
    while len(specs) < count:
        g = rng.choice([1, 1, 2])
        try:
            spec = ConvSpec(
                g * rng.randint(1, 2), g * rng.randint(1, 2), input_size=(rng.randint(1, max_size), rng.randint(1, max_size)),
                kernel_size=(rng.randint(1, 3), rng.randint(1, 3)), stride=(rng.randint(1, 2), rng.randint(1, 3)),
                padding=(rng.randint(0, 3), rng.randint(0, 3)), dilation=(rng.randint(1, 2), rng.randint(1, 2)), groups=g,
                bias=rng.choice(["shared", "none"]),
            )
            padding_operator(spec, mode)
        except SpecError:
            continue
        specs.append(spec)
    return specs


def torch_layer(spec: ConvSpec, mode: str, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    conv = torch.nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                           spec.dilation, spec.groups, bias=False, padding_mode=mode).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(w))
        return conv(torch.tensor(x)[None])[0].numpy()


CASES = [(mode, spec) for mode in MODES for spec in random_specs(110, seed=MODES.index(mode), mode=mode)]


@pytest.mark.parametrize(("mode", "spec"), CASES, ids=lambda v: v if isinstance(v, str) else v.describe())
def test_definition_and_matrix_form_agree_with_pytorch(mode, spec):
    rng = np.random.default_rng(3)
    w = rng.integers(-9, 10, spec.weight_shape).astype(float)
    x = rng.integers(-9, 10, spec.input_shape).astype(float)
    expected = torch_layer(spec, mode, w, x)
    assert np.array_equal(mode_terms(spec, mode).evaluate(w, x), expected)
    assert np.array_equal(mode_matrix_terms(spec, mode).evaluate(w, x), expected)
    # P x is F.pad(x, mode): the padding operator itself, against PyTorch
    pads = tuple(v for b, a in reversed(list(zip(spec.padding_before, spec.padding_after))) for v in (b, a))
    padded = torch.nn.functional.pad(torch.tensor(x)[None], pads, mode="constant" if mode == "zeros" else mode)[0]
    assert np.array_equal(padding_operator(spec, mode).apply(x), padded.numpy())
    assert prove_padding_mode(spec, mode, method="index").holds


@pytest.mark.parametrize(("mode", "spec"), [(m, s) for m in MODES for s in random_specs(4, seed=7, mode=m, max_size=4)],
                         ids=lambda v: v if isinstance(v, str) else v.describe())
def test_sympy_engine_proves_w_mode_equals_w_valid_p(mode, spec):
    proof = prove_padding_mode(spec, mode, method="sympy")
    assert proof.holds, proof.describe()


@pytest.mark.parametrize("spec", [
    ConvSpec(1, 1, input_size=(2, 3), kernel_size=(2, 3), padding="same"),
    ConvSpec(2, 2, input_size=(3, 2), kernel_size=(3, 1), padding=(1, 0)),
    ConvSpec(1, 2, input_size=(4, 1), kernel_size=(2, 1), padding=(1, 0), dilation=(2, 1)),
    ConvSpec(2, 2, input_size=(2, 2), kernel_size=1, groups=2),
], ids=lambda s: s.describe())
def test_dft_diagonalises_circular_convolution(spec):
    proof = prove_circular_theorem(spec)
    assert proof.holds, proof.describe()
    # numeric cross-check with NumPy's FFT: fft2(y) = λ ⊙ fft2(x) per channel pair (float, tolerance: not a proof)
    rng = np.random.default_rng(4)
    w = rng.integers(-5, 6, spec.weight_shape).astype(float)
    x = rng.integers(-5, 6, spec.input_shape).astype(float)
    y = torch_layer(spec, "circular", w, x)
    H, W = spec.input_size
    u, v = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    for i in range(spec.out_channels):
        total = np.zeros((H, W), dtype=complex)
        group = i // spec.out_per_group
        for lp in range(spec.in_per_group):
            lam = np.zeros((H, W), dtype=complex)
            for m in range(spec.kernel_size[0]):
                for n in range(spec.kernel_size[1]):
                    shift_h = m * spec.dilation[0] - spec.padding_before[0]
                    shift_w = n * spec.dilation[1] - spec.padding_before[1]
                    lam += w[i, lp, m, n] * np.exp(2j * np.pi * (u * shift_h / H + v * shift_w / W))
            total += lam * np.fft.fft2(x[group * spec.in_per_group + lp])
        assert np.allclose(np.fft.fft2(y[i]), total)


# ------------------------------------------------------------------------------------------ soundness

@pytest.mark.parametrize("method", ["index", "sympy"])
def test_a_wrong_padding_map_fails_with_a_counterexample(monkeypatch, method):
    spec = ConvSpec(1, 1, input_size=4, kernel_size=3, padding=1, bias="none")
    right = axis_padding_map

    def reflect_with_edge(n, before, after, mode):
        """'symmetric' padding (edge repeated) instead of PyTorch's reflect."""
        if mode != "reflect":
            return right(n, before, after, mode)
        c = np.arange(-before, n + after)
        return np.where(c < 0, -c - 1, np.where(c >= n, 2 * n - 1 - c, c))

    # only P (its index map, which the matrix side reads) is wrong; the definition reads the per-axis maps π
    original = padding_forms.PaddingOperator.index_map

    def wrong_index_map(self):
        wrong = padding_forms.PaddingOperator(self.spec, self.mode, tuple(
            reflect_with_edge(n, b, a, self.mode)
            for n, b, a in zip(self.spec.input_size, self.spec.padding_before, self.spec.padding_after)))
        return original(wrong)

    monkeypatch.setattr(padding_forms.PaddingOperator, "index_map", wrong_index_map)
    proof = prove_padding_mode(spec, "reflect", method=method)
    assert not proof.holds and proof.identities[0].counterexample


def test_a_wrong_circulant_is_not_diagonalised(monkeypatch):
    from symconv.prove import padding_modes
    spec = ConvSpec(1, 1, input_size=(1, 3), kernel_size=(1, 3), padding="same")
    monkeypatch.setattr(padding_modes, "_definition_matrix", lambda s, m: padding_modes.mode_matrix(s, "zeros"))
    proof = prove_circular_theorem(spec)
    assert not proof.holds and proof["diagonal"].counterexample.startswith("block (i=0, l=0)")


# ------------------------------------------------------------------------------------------ errors

def test_pytorch_limits_are_one_line_errors():
    with pytest.raises(SpecError, match=r"^padding must be < input_size on every axis for padding_mode='reflect' "
                                        r"\(as in PyTorch\), got padding=\(3, 1\) for input_size=\(3, 5\)$"):
        padding_operator(ConvSpec(1, 1, input_size=(3, 5), kernel_size=3, padding=(3, 1)), "reflect")
    with pytest.raises(SpecError, match=r"^padding must be ≤ input_size on every axis for padding_mode='circular' "
                                        r"\(as in PyTorch\), got padding=\(1, 3\) for input_size=\(4, 2\)$"):
        padding_operator(ConvSpec(1, 1, input_size=(4, 2), kernel_size=1, padding=(1, 3)), "circular")
    with pytest.raises(SpecError, match=r"^padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                                        r"got 'symmetric'$"):
        padding_operator(ConvSpec(1, 1, input_size=4, kernel_size=1), "symmetric")
    with pytest.raises(SpecError, match=r"^the convolution theorem needs stride 1 and output size = input size on every "
                                        r"axis \(padding='same' or 2p = d\(k − 1\)\), got stride=\(2, 2\), "
                                        r"output_size=\(2, 2\) for input_size=\(4, 4\)$"):
        prove_circular_theorem(ConvSpec(1, 1, input_size=4, kernel_size=1, stride=2))


@pytest.mark.parametrize(("mode", "size", "pad"), [("reflect", 3, 3), ("circular", 2, 3)])
def test_pytorch_refuses_the_same_paddings(mode, size, pad):
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.zeros(1, 1, size, size), (pad,) * 4, mode=mode)
