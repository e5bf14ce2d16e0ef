"""Transposed convolution: ConvTransposeSpec against PyTorch, conv_transpose = 𝒲ᵀy + b = zero-insertion form."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F

from symconv.closed.arithmetic import conv_transpose_output_size
from symconv.core.spec import ConvSpec
from symconv.core.transposed import ConvTransposeSpec
from symconv.errors import SpecError
from symconv.forms.transposed import (
    BilinearTerms,
    transposed_matrix_terms,
    transposed_terms,
    zero_insertion,
    zero_insertion_terms,
)
from symconv.prove.transposed import prove_transposed


def random_tspecs(count: int, seed: int, max_size: int = 5) -> list[ConvTransposeSpec]:
    rng, specs = random.Random(seed), []
    while len(specs) < count:
        g = rng.choice([1, 1, 2, 3])
        s, d = (rng.randint(1, 3), rng.randint(1, 3)), (rng.randint(1, 3), rng.randint(1, 2))
        try:
            specs.append(ConvTransposeSpec(
                g * rng.randint(1, 2), g * rng.randint(1, 2), input_size=(rng.randint(1, max_size), rng.randint(1, max_size)),
                kernel_size=(rng.randint(1, 4), rng.randint(1, 3)), stride=s, padding=(rng.randint(0, 3), rng.randint(0, 2)),
                output_padding=tuple(rng.randint(0, max(a, b) - 1) for a, b in zip(s, d)), dilation=d, groups=g,
                bias=rng.random() < 0.5,
            ))
        except SpecError:
            continue
    return specs


def torch_transposed(spec: ConvTransposeSpec, w: np.ndarray, y: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    out = F.conv_transpose2d(torch.tensor(y)[None], torch.tensor(w), None if b is None else torch.tensor(b),
                             spec.stride, spec.padding, spec.output_padding, spec.groups, spec.dilation)
    return out[0].numpy()


@pytest.mark.parametrize("spec", random_tspecs(150, seed=3), ids=lambda s: s.describe())
def test_every_form_agrees_with_pytorch(spec):
    rng = np.random.default_rng(1)
    w = rng.integers(-9, 10, spec.weight_shape).astype(float)
    y = rng.integers(-9, 10, spec.input_shape).astype(float)
    expected = torch_transposed(spec, w, y, None)
    assert spec.output_shape == expected.shape
    for form in (transposed_terms, transposed_matrix_terms, zero_insertion_terms):
        assert np.array_equal(form(spec).evaluate(w, y), expected), form.__name__
    module = torch.nn.ConvTranspose2d(spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                                      spec.output_padding, spec.groups, spec.bias, spec.dilation)
    assert tuple(module.weight.shape) == spec.weight_shape


@pytest.mark.parametrize("spec", random_tspecs(150, seed=4), ids=lambda s: s.describe())
def test_index_engine_proves_every_identity(spec):
    proof = prove_transposed(spec, method="index")
    assert proof.holds, proof.describe()


@pytest.mark.parametrize("spec", random_tspecs(15, seed=5, max_size=3), ids=lambda s: s.describe())
def test_sympy_engine_proves_every_identity(spec):
    proof = prove_transposed(spec, method="sympy")
    assert proof.holds, proof.describe()
    # the symbolic definition, evaluated at integers, is PyTorch's layer (bias included)
    rng = np.random.default_rng(2)
    w = rng.integers(-9, 10, spec.weight_shape)
    y = rng.integers(-9, 10, spec.input_shape)
    b = rng.integers(-9, 10, spec.out_channels) if spec.bias else None
    from symconv.core.symbols import weight_array
    from symconv.forms.transposed import transposed_bias, transposed_direct, transposed_input
    values = dict(zip(weight_array(spec.forward_spec()).reshape(-1).tolist(), w.reshape(-1).tolist()))
    values.update(zip(transposed_input(spec).reshape(-1).tolist(), y.reshape(-1).tolist()))
    if spec.bias:
        values.update(zip(transposed_bias(spec).tolist(), b.tolist()))
    got = np.array(transposed_direct(spec).xreplace(values).tolist(), dtype=float)
    assert np.array_equal(got, torch_transposed(spec, w.astype(float), y.astype(float),
                                                None if b is None else b.astype(float)))


@pytest.mark.parametrize("spec", random_tspecs(60, seed=6), ids=lambda s: s.describe())
def test_output_size_is_the_derived_formula(spec):
    # closed/: the same size derived by SymPy from the counted forward size
    for n, k, s, p, d, a, out in zip(spec.input_size, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                                     spec.output_padding, spec.output_size):
        assert conv_transpose_output_size(n, k, stride=s, padding=p, dilation=d, output_padding=a) == out
    # relationship 14's a = output_padding; p′ = d(k − 1) − p (Dumoulin & Visin's k − p − 1 at d = 1)
    form = zero_insertion(spec)
    assert form.padding == tuple(d * (k - 1) - p for k, p, d in zip(spec.kernel_size, spec.padding, spec.dilation))
    assert form.remainder == spec.output_padding


def test_forward_spec_round_trip():
    spec = ConvSpec(3, 6, input_size=(9, 8), kernel_size=(3, 2), stride=(2, 3), padding=1, dilation=(1, 2), groups=3)
    t = ConvTransposeSpec.of(spec)
    assert t.output_size == spec.input_size and t.forward_spec().output_size == spec.output_size
    assert t.weight_shape == spec.weight_shape


# ------------------------------------------------------------------------------------------ soundness

def test_wrong_transposed_implementation_fails_with_a_counterexample():
    spec = ConvTransposeSpec(2, 2, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1)

    def unflipped(t: ConvTransposeSpec) -> BilinearTerms:
        """Zero insertion without flipping the kernel: the classic bug."""
        right = zero_insertion_terms(t)
        k = t.kernel_size
        w = np.arange(int(np.prod(t.weight_shape))).reshape(t.weight_shape)[..., ::-1, ::-1].reshape(-1)
        assert k == (3, 3)
        return BilinearTerms(right.out, w[right.a], right.b, right.out_shape)

    for method in ("index", "sympy"):
        definition = unflipped if method == "index" else None
        if method == "sympy":
            from symconv.core.symbols import weight_array
            from symconv.forms.transposed import transposed_input

            def definition(t):
                terms = unflipped(t)
                return sympy.ImmutableDenseNDimArray(
                    terms.evaluate(weight_array(t.forward_spec()), transposed_input(t)).reshape(-1).tolist(), t.output_shape)
            spec_ = ConvTransposeSpec(2, 2, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1, bias=False)
        else:
            spec_ = spec
        proof = prove_transposed(spec_, method=method, definition=definition)
        assert not proof.holds
        assert not proof["matrix"].holds and proof["matrix"].counterexample.startswith("at (")
        assert proof["matrix"].mismatched > 0


# ------------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stride": 2, "output_padding": 2},
     r"^output_padding must be < stride or < dilation on every axis \(as in PyTorch\), got output_padding=\(2, 2\), "
     r"stride=\(2, 2\), dilation=\(1, 1\)$"),
    ({"stride": 1, "dilation": 2, "output_padding": (0, 2)},
     r"^output_padding must be < stride or < dilation on every axis \(as in PyTorch\), got output_padding=\(0, 2\), "
     r"stride=\(1, 1\), dilation=\(2, 2\)$"),
    ({"padding": 3}, r"^padding must leave an output of size ≥ 1 on every axis, \(n − 1\)·s − 2p \+ d\(k − 1\) \+ a \+ 1 "
                     r"= \(-1, -1\), got padding=\(3, 3\)$"),
    ({"padding": "same"}, r"^padding must be an int ≥ 0 or a tuple of 2 ints ≥ 0 \(ConvTranspose has no 'same'/'valid'\), "
                          r"got 'same'$"),
    ({"groups": 2, "in_channels": 3}, r"^groups must divide in_channels=3 and out_channels=2, got groups=2$"),
    ({"input_size": ()}, r"^input_size must be an int \(a square input, 2-D unless ndim= is given\) or a tuple of ints "
                         r"≥ 1, one per spatial axis, got \(\)$"),
    ({"input_size": (3, 3, 3), "kernel_size": (3, 3)},
     r"^kernel_size must have 3 entries \(one per spatial axis: depth, height, width\), got \(3, 3\)$"),
    ({"bias": "shared"}, r"^bias must be True or False, got 'shared'$"),
    ({"output_padding": -1}, r"^output_padding must be ≥ 0, got -1$"),
])
def test_bad_combinations_are_one_line_errors(kwargs, message):
    args = {"in_channels": 2, "out_channels": 2, "input_size": 3, "kernel_size": 3, **kwargs}
    with pytest.raises(SpecError, match=message):
        ConvTransposeSpec(**args)


def test_pytorch_refuses_what_we_refuse():
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(torch.zeros(1, 2, 3, 3), torch.zeros(2, 2, 3, 3), stride=2, output_padding=2)


def test_method_name_is_checked():
    with pytest.raises(SpecError, match=r"^method must be 'sympy' or 'index', got 'z3'$"):
        prove_transposed(ConvTransposeSpec(1, 1, input_size=2, kernel_size=2), method="z3")
