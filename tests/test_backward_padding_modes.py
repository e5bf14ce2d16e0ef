"""Backprop through a layer with padding_mode reflect / replicate / circular: prove_backward (SymPy derivatives of the
mode's index sum against 𝒲_modeᵀg and Pᵀ·conv_transpose(g), xcorr(P x, g)), and the closed forms against PyTorch
autograd of nn.ConvNd(padding_mode=…) on random layers."""

from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np
import pytest
import torch

from symconv import ConvSpec, prove_backward
from symconv.prove import backward
from symconv.prove.backward import mode_backward_closed_forms

from .cases import MODES, random_mode_specs

SPECS = [replace(s, bias="none") if n % 2 else s for n, s in enumerate(random_mode_specs(105, 2026))]


def _torch_grads(spec: ConvSpec, x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    layer = getattr(torch.nn, f"Conv{spec.ndim}d")(
        spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride, padding=spec.padding_before,
        dilation=spec.dilation, groups=spec.groups, bias=spec.bias == "shared", padding_mode=spec.padding_mode).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
    xt = torch.from_numpy(x[None]).requires_grad_(True)
    layer(xt).backward(torch.from_numpy(g[None]))
    db = layer.bias.grad.numpy() if layer.bias is not None else np.empty(0)
    return xt.grad[0].numpy(), layer.weight.grad.numpy(), db


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.padding_mode}-{s.describe()}")
def test_closed_forms_equal_torch_autograd(spec):
    rng = np.random.default_rng(zlib.crc32(spec.describe().encode()))  # the same inputs in every run
    x = rng.integers(-8, 9, size=spec.input_shape).astype(np.float64)
    w = rng.integers(-8, 9, size=spec.weight_shape).astype(np.float64)
    g = rng.integers(-8, 9, size=spec.output_shape).astype(np.float64)
    ours, theirs = mode_backward_closed_forms(spec, x, w, g), _torch_grads(spec, x, w, g)
    for name, a, b in zip(("grad_x", "grad_w", "grad_b"), ours, theirs):
        assert np.array_equal(np.asarray(a, dtype=np.float64), b), (name, spec.describe())  # integers: exact


@pytest.mark.parametrize("spec", SPECS[:12], ids=lambda s: f"{s.padding_mode}-{s.describe()}")
def test_prove_backward_holds_for_padding_modes(spec):
    proof = prove_backward(spec)
    assert proof.holds and [i.name for i in proof.identities] == ["grad_x_matrix", "grad_x_transposed", "grad_w",
                                                                   "grad_b"], proof


def _assigning_fold(op, padded):
    """Pᵀ done wrong: a copied cell's gradient overwrites instead of adding (what `x[idx] = v` does in NumPy)."""
    idx, flat = op.index_map(), np.asarray(padded).reshape(-1)
    out = np.zeros(op.spec.d_x, dtype=flat.dtype)
    out[idx[idx >= 0]] = flat[idx >= 0]
    return out.reshape(op.spec.input_shape)


@pytest.mark.parametrize("mode", MODES)
def test_a_fold_that_assigns_instead_of_adding_is_refuted(monkeypatch, mode):
    spec = ConvSpec(1, 1, input_size=(5,), kernel_size=3, padding=2, padding_mode=mode, ndim=1)
    monkeypatch.setattr(backward, "fold_padding", _assigning_fold)
    proof = prove_backward(spec)
    failed = [i.name for i in proof.identities if not i.holds]
    assert failed == ["grad_x_transposed"] and proof.identities[1].counterexample, proof


@pytest.mark.parametrize("mode", MODES)
def test_differentiating_the_zero_padded_sum_instead_is_refuted(monkeypatch, mode):
    """The derivative side read from the zero-padded layer (padding mode ignored): every identity that involves x
    at the border fails."""
    spec = ConvSpec(1, 1, input_size=(4,), kernel_size=3, padding=1, padding_mode=mode, ndim=1)
    monkeypatch.setattr(backward, "mode_direct", lambda s: backward.direct(ConvSpec(
        s.in_channels, s.out_channels, input_size=s.input_size, kernel_size=s.kernel_size, stride=s.stride,
        padding=s.padding, dilation=s.dilation, groups=s.groups, bias=s.bias)))
    proof = prove_backward(spec)
    assert not proof.holds and {"grad_x_matrix", "grad_x_transposed", "grad_w"} <= {
        i.name for i in proof.identities if not i.holds}, proof


def _autograd(spec: ConvSpec, mode: str):
    """fn(x, weight, g) -> (grad_x, grad_w, grad_b) by PyTorch autograd, padding x with ``mode`` itself."""
    F = torch.nn.functional
    pad = tuple(p for before, after in zip(spec.padding_before[::-1], spec.padding_after[::-1]) for p in (before, after))

    def fn(x, w, g):
        x, w = x.clone().requires_grad_(), w.clone().requires_grad_()
        b = torch.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
        padded = F.pad(x, pad, mode=mode) if mode != "zeros" else F.pad(x, pad)
        getattr(F, f"conv{spec.ndim}d")(padded, w, b, stride=spec.stride, dilation=spec.dilation,
                                         groups=spec.groups).backward(g)
        return x.grad, w.grad, b.grad
    return fn


@pytest.mark.parametrize("spec", [s for s in SPECS if s.bias == "shared"][:15], ids=lambda s: s.describe())
def test_verify_backward_checks_padding_modes_and_names_the_mode_ignored(spec):
    from symconv import verify_backward
    right = verify_backward(_autograd(spec, spec.padding_mode), spec)
    assert right.holds, right.describe()
    # the zero-padded layer's gradients: wrong wherever PyTorch itself gives other values for the two paddings
    x, w, g = (torch.from_numpy(a[None] if a.ndim != len(spec.weight_shape) else a) for a in _probe(spec))
    differ = any(not torch.equal(a, b) for a, b in zip(_autograd(spec, "zeros")(x, w, g),
                                                        _autograd(spec, spec.padding_mode)(x, w, g)))
    wrong = verify_backward(_autograd(spec, "zeros"), spec)
    assert wrong.holds is not differ, wrong.describe()
    if differ:
        assert "padding-mode-ignored" in wrong.codes and all(f.exact for f in wrong.diagnosis), wrong.describe()


def _probe(spec: ConvSpec) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(5)
    return tuple(rng.integers(-8, 9, size=shape).astype(np.float64)
                 for shape in (spec.input_shape, spec.weight_shape, spec.output_shape))
