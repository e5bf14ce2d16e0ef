"""Backprop identities: SymPy's derivative of the index sum = the closed forms, PyTorch autograd agrees, and
verify_backward names the usual bugs of a hand-written backward pass."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from symconv.check.backward import verify_backward
from symconv.core.spec import ConvSpec
from symconv.errors import SpecError
from symconv.prove.backward import backward_closed_forms, grad_bias, prove_backward


def random_specs(count: int, seed: int, max_size: int = 6) -> list[ConvSpec]:
    """Seeded small specs with stride, padding, dilation, groups and every bias mode."""
    rng, specs = random.Random(seed), []
    while len(specs) < count:
        g = rng.choice([1, 1, 2, 3])
        try:
            specs.append(ConvSpec(
                g * rng.randint(1, 2), g * rng.randint(1, 2), input_size=(rng.randint(1, max_size), rng.randint(1, max_size)),
                kernel_size=(rng.randint(1, 3), rng.randint(1, 3)), stride=(rng.randint(1, 3), rng.randint(1, 2)),
                padding=(rng.randint(0, 2), rng.randint(0, 2)), dilation=(rng.randint(1, 2), rng.randint(1, 3)),
                groups=g, bias=rng.choice(["shared", "none", "per_location"]),
            ))
        except SpecError:
            continue
    return specs


def autograd(spec: ConvSpec, x: np.ndarray, w: np.ndarray, g: np.ndarray):
    """PyTorch's gradients of Σ g·conv(x) (float64, exact on small integers)."""
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.zeros(spec.bias_shape if spec.bias != "none" else (0,), dtype=torch.float64, requires_grad=True)
    y = F.conv2d(xt[None], wt, None, spec.stride, spec.padding, spec.dilation, spec.groups)[0]
    if spec.bias == "shared":
        y = y + bt[:, None, None]
    elif spec.bias == "per_location":
        y = y + bt
    (y * torch.tensor(g)).sum().backward()
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy() if spec.bias != "none" else np.empty(0)


@pytest.mark.parametrize("spec", random_specs(120, seed=11), ids=lambda s: s.describe())
def test_closed_forms_agree_with_autograd(spec):
    rng = np.random.default_rng(0)
    x = rng.integers(-9, 10, spec.input_shape).astype(float)
    w = rng.integers(-9, 10, spec.weight_shape).astype(float)
    g = rng.integers(-9, 10, spec.output_shape).astype(float)
    for ours, theirs in zip(backward_closed_forms(spec, x, w, g), autograd(spec, x, w, g)):
        assert ours.shape == theirs.shape and np.array_equal(ours, theirs)


@pytest.mark.parametrize("spec", random_specs(12, seed=12, max_size=4), ids=lambda s: s.describe())
def test_sympy_derivative_equals_closed_forms(spec):
    proof = prove_backward(spec)
    assert proof.holds, proof.describe()
    assert {i.name for i in proof.identities} == {"grad_x_matrix", "grad_x_transposed", "grad_w", "grad_b"}


def test_diff_engine_agrees_with_rule_engine():
    spec = ConvSpec(2, 2, input_size=(4, 3), kernel_size=(2, 3), stride=(2, 1), padding=1, dilation=(1, 2))
    assert prove_backward(spec, engine="diff").holds and prove_backward(spec, engine="rule").holds


# ------------------------------------------------------------------------------------------ verify_backward

def reference_backward(spec: ConvSpec, *, flip: bool = True, stride_undone: bool = True, w_axes=(0,),
                       bias_axes=(0, 2, 3)):
    """A hand-written backward pass by plain loops over (n, i, l, output, tap); the keyword arguments inject bugs."""
    def fn(x, w, g):
        N = x.shape[0]
        (sh, sw), (ph, pw), (dh, dw) = spec.stride, spec.padding_before, spec.dilation
        kh, kw = spec.kernel_size
        Ho, Wo = spec.output_size
        gx = np.zeros(x.shape, dtype=x.dtype)
        gw = np.zeros((N, *w.shape), dtype=x.dtype)
        if x.dtype == object:
            gx[...] = 0
            gw[...] = 0
        for n in range(N):
            for i in range(spec.out_channels):
                grp = i // spec.out_per_group
                for lp in range(spec.in_per_group):
                    l = grp * spec.in_per_group + lp
                    for j in range(Ho):
                        for k in range(Wo):
                            for m in range(kh):
                                for q in range(kw):
                                    r = (j * sh if stride_undone else j) - ph + m * dh
                                    c = (k * sw if stride_undone else k) - pw + q * dw
                                    if 0 <= r < x.shape[2] and 0 <= c < x.shape[3]:
                                        mm, qq = (m, q) if flip else (kh - 1 - m, kw - 1 - q)
                                        gx[n, l, r, c] = gx[n, l, r, c] + w[i, lp, mm, qq] * g[n, i, j, k]
                                    rr, cc = j * sh - ph + m * dh, k * sw - pw + q * dw
                                    if 0 <= rr < x.shape[2] and 0 <= cc < x.shape[3]:
                                        gw[n, i, lp, m, q] = gw[n, i, lp, m, q] + x[n, l, rr, cc] * g[n, i, j, k]
        gb = g.sum(axis=bias_axes) if bias_axes else g
        return gx, gw.sum(axis=w_axes) if w_axes else gw, gb
    return fn


LAYER = ConvSpec(2, 2, input_size=5, kernel_size=3, stride=2, padding=1)


@pytest.mark.parametrize("method", ["symbolic", "probe"])
def test_correct_backward_holds(method):
    verdict = verify_backward(reference_backward(LAYER), LAYER, method=method)
    assert verdict.holds and verdict.proved == (method == "symbolic"), verdict.describe()


def test_torch_autograd_backward_holds():
    def fn(x, w, g):
        x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
        b = torch.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
        F.conv2d(x, w, b, stride=2, padding=1).backward(g)
        return x.grad, w.grad, b.grad
    verdict = verify_backward(fn, LAYER)
    assert verdict.holds and verdict.backend == "torch" and not verdict.proved


@pytest.mark.parametrize("method", ["symbolic", "probe"])
@pytest.mark.parametrize(("bug", "code", "part"), [
    ({"flip": False}, "missing-flip", "grad_x"),
    ({"stride_undone": False}, "stride-not-undone", "grad_x"),
    ({"w_axes": (1,)}, "grad-w-wrong-axes", "grad_w"),
    ({"w_axes": ()}, "grad-w-wrong-axes", "grad_w"),
    ({"bias_axes": (2, 3)}, "bias-not-summed", "grad_b"),
    ({"bias_axes": (0,)}, "bias-not-summed", "grad_b"),
])
def test_named_bugs_are_diagnosed(bug, code, part, method):
    verdict = verify_backward(reference_backward(LAYER, **bug), LAYER, method=method)
    assert not verdict.holds
    assert code in verdict.codes, verdict.describe()
    assert dict(verdict.parts)[part] is False
    assert verdict.counterexample and verdict.counterexample.startswith(part)


def test_grad_bias_per_location_is_g():
    spec = ConvSpec(1, 2, input_size=3, kernel_size=2, bias="per_location")
    g = np.arange(8).reshape(2, 2, 2)
    assert grad_bias(spec, g) is g or np.array_equal(grad_bias(spec, g), g)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(SpecError, match=r"^method must be 'auto', 'symbolic' or 'probe', got 'exact'$"):
        verify_backward(reference_backward(LAYER), LAYER, method="exact")
    with pytest.raises(SpecError, match=r"^engine must be 'rule' or 'diff', got 'x'$"):
        prove_backward(LAYER, engine="x")



def test_asymmetric_padding_has_backward_closed_forms_too():
    """'same' with an even kernel pads more after than before: no ConvTranspose has x's size, the scatter does."""
    same = ConvSpec(2, 2, input_size=4, kernel_size=2, padding="same", groups=2)
    proof = prove_backward(same)
    assert proof.holds and proof["grad_x_transposed"].statement.startswith("∂L/∂x = scatter of g·ω")
    assert verify_backward(reference_backward(same), same).holds
