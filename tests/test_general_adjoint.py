"""The all-size proof of conv_transpose = 𝒲ᵀ and of the backprop identities: the steps prove with free and fixed
sizes, output_padding ≥ stride is proved only restricted (the unrestricted lemma refuted with a confirmed
counterexample), the negative controls fail at the step naming their mistake, and the proved forms agree with PyTorch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy

from symconv.cli import main
from symconv.core.transposed import ConvTransposeSpec
from symconv.errors import SpecError
from symconv.prove.adjoint import (
    ADJOINTS,
    entry_codes_T,
    layer_from_model,
    pytorch_codes,
    scatter_codes,
    transposed_layers,
)
from symconv.prove.backprop import grad_weight_codes
from symconv.prove.general import concrete_specs, entry_formula, prove_general
from symconv.prove.proof import Proof, ProofDisagreement
from symconv.prove.recheck import CODED, Obligation

FORWARD = ["definition", "tap_solve", "sum_taps", "sum_channels", "entry", "window", "maximal", "injective",
           "radix", "flatten", "row_order", "zero_blocks", "block_entries", "bias", "theorem"]
ADJOINT = ["transposed_coefficient", "transposed_size", "transposed_entry", "transposed_theorem",
           "grad_input", "grad_weight", "grad_bias"]


@pytest.fixture(scope="module")
def proof() -> Proof:
    return prove_general(identities=("backward",))  # every size symbolic, 50 concrete re-checks


def test_adjoint_steps_prove_for_all_sizes(proof: Proof) -> None:
    assert proof.holds and proof.fixed == {} and proof.rechecks >= 50
    assert [s.name for s in proof.steps] == FORWARD + ADJOINT
    assert all(proof.step(name).rechecks >= 50 for name in ADJOINT)
    assert "backprop" in proof.title and isinstance(proof.statement, sympy.Tuple)
    data = json.loads(proof.to_json())
    assert data["holds"] and [s["name"] for s in data["steps"]][-7:] == ADJOINT
    finding = [s["finding"] for s in data["steps"] if "finding" in s]
    assert len(finding) == 1 and finding[0]["confirmed"]
    assert any(finding[0]["sizes"][f"a_{ax}"] >= finding[0]["sizes"][f"s_{ax}"] for ax in "hw")
    # symbolic a in PyTorch's range: the theorem is the restricted one, with the restriction lifted for a < s
    statement = proof.step("transposed_theorem").statement
    assert isinstance(statement, sympy.Tuple) and isinstance(statement[1], sympy.Implies)


def test_unrestricted_size_lemma_is_a_refuted_finding_confirmed_on_a_layer(proof: Proof) -> None:
    finding = proof.step("transposed_size").objects["finding"]
    assert finding is not None and finding.confirmed
    t = layer_from_model(finding.sizes)  # built independently here: PyTorch's sizes of the model's layer
    assert any(a >= s for a, s in zip(t.output_padding, t.stride))
    assert t.forward_spec().output_size != t.input_size
    assert all(fo == n + a // s for fo, n, a, s in zip(t.forward_spec().output_size, t.input_size,
                                                        t.output_padding, t.stride))
    assert "finding" in proof.describe()


def test_default_output_is_the_forward_proof_only() -> None:
    p = prove_general(rechecks=3, stride=1, padding=0)
    assert [s.name for s in p.steps] == FORWARD and p.title == "conv(x) = 𝒲x + b for all sizes"
    assert isinstance(p.statement, sympy.Eq)


def test_fixed_output_padding_below_stride_gives_all_of_w_transposed() -> None:
    p = prove_general(identities=("transposed",), output_padding=0, rechecks=5)
    assert p.holds and p.fixed == {"a_h": 0, "a_w": 0}
    assert isinstance(p.step("transposed_theorem").statement, sympy.Eq)
    assert p.step("transposed_size").objects["finding"] is None
    assert "a < s follows from the fixed sizes" in p.step("transposed_size").objects["notes"][0]


def _torch():
    return pytest.importorskip("torch", reason="torch not installed")


def _proved_matrix(t: ConvTransposeSpec, weight: np.ndarray) -> np.ndarray:
    """The proved entry E(R, Q) at ``t`` with ω := ``weight``: (y index × z index)."""
    codes = entry_codes_T(entry_formula(), t)
    value = {float(CODED["omega"](*idx)): weight[idx] for idx in np.ndindex(*weight.shape)}
    return np.vectorize(lambda code: value.get(float(code), 0.0) if code else 0.0)(codes)


@pytest.mark.parametrize(("stride", "dilation", "output_padding"), [(1, 2, 1), (2, 1, 1), (1, 3, 2), (3, 2, 0)])
def test_proved_entry_is_pytorchs_conv_transpose(stride: int, dilation: int, output_padding: int) -> None:
    torch = _torch()
    p = prove_general(identities=("transposed",), stride=stride, dilation=dilation, output_padding=output_padding,
                      rechecks=4)
    assert p.holds
    full = output_padding < stride
    assert isinstance(p.step("transposed_theorem").statement, sympy.Eq) is full
    rng = np.random.default_rng(stride * 10 + dilation)
    for t in transposed_layers(p.fixed, count=4, seed=1):
        weight, y, bias = rng.normal(size=t.weight_shape), rng.normal(size=t.input_shape), rng.normal(size=t.out_channels)
        z = torch.nn.functional.conv_transpose2d(
            torch.tensor(y)[None], torch.tensor(weight), torch.tensor(bias), stride=t.stride, padding=t.padding,
            output_padding=t.output_padding, groups=t.groups, dilation=t.dilation)[0].numpy()
        M = _proved_matrix(t, weight)
        np.testing.assert_allclose(M.T @ y.reshape(-1) + np.repeat(bias, np.prod(t.output_size)), z.reshape(-1),
                                   atol=1e-10)
        # 𝒲 at input H_T has H' + ⌊a/s⌋ row-blocks: all of them used iff a < s
        assert (t.forward_spec().d_y == t.d_in) is full


@pytest.mark.parametrize(("control", "step"), [
    ("transposed_kernel_flipped", "transposed_entry"),
    ("transposed_tap_sign", "transposed_entry"),
    ("transposed_size_no_padding", "transposed_size"),
    ("grad_weight_stride_dilation_swapped", "grad_weight"),
    ("grad_bias_not_summed", "grad_bias"),
])
def test_negative_controls_fail_at_the_named_step(control: str, step: str) -> None:
    p = prove_general(identities=("backward",), adjoint=control, rechecks=3)
    assert not p.holds and p.status == "refuted" and p.failed_step is not None and p.failed_step.name == step
    assert p.counterexample is not None and p.counterexample.confirmed
    assert not p.step("transposed_theorem").holds or step.startswith("grad_")


def test_tap_sign_control_is_wrong_only_with_padding() -> None:
    assert prove_general(identities=("transposed",), adjoint="transposed_tap_sign", padding=0, rechecks=3).holds
    assert prove_general(identities=("transposed",), adjoint="transposed_kernel_flipped", kernel_size=1,
                         rechecks=3).holds


@pytest.mark.parametrize("control", [name for name in ADJOINTS if name != "pytorch"])
def test_a_z3_that_proves_everything_is_caught_by_the_concrete_rechecks(control: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from symconv.prove.lemmas import Check

    monkeypatch.setattr(Obligation, "check", lambda self: Check("proved", 0.0, {}, ""))
    step = {"transposed_size_no_padding": "transposed_size", "grad_bias_not_summed": "grad_bias",
            "grad_weight_stride_dilation_swapped": "grad_weight"}.get(control, "transposed_entry")
    with pytest.raises(ProofDisagreement, match=step):
        prove_general(identities=("backward",), adjoint=control, rechecks=8)


def test_scatter_form_is_pytorchs_and_the_controls_differ() -> None:
    for t in transposed_layers(count=8):
        assert np.array_equal(scatter_codes(t, ADJOINTS["pytorch"]), pytorch_codes(t))
    t = ConvTransposeSpec(1, 1, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1)
    assert not np.array_equal(scatter_codes(t, ADJOINTS["transposed_kernel_flipped"]), pytorch_codes(t))


def test_backprop_forms_agree_with_torch_autograd() -> None:
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    for spec in concrete_specs(count=6, seed=3):
        x = torch.tensor(rng.normal(size=spec.input_shape)[None], requires_grad=True)
        w = torch.tensor(rng.normal(size=spec.weight_shape), requires_grad=True)
        b = torch.tensor(rng.normal(size=spec.out_channels), requires_grad=True)
        y = F.conv2d(x, w, b, stride=spec.stride, padding=spec.padding_before, dilation=spec.dilation, groups=spec.groups)
        g = torch.tensor(rng.normal(size=y.shape))
        (y * g).sum().backward()
        # ∂L/∂x = conv_transpose(g) with a = (H + 2p − d(h − 1) − 1) mod s, as step grad_input states
        a = tuple(int(sympy.Mod(n + 2 * p - d * (k - 1) - 1, s)) for n, k, s, p, d in
                  zip(spec.input_size, spec.kernel_size, spec.stride, spec.padding_before, spec.dilation))
        gx = F.conv_transpose2d(g, w.detach(), stride=spec.stride, padding=spec.padding_before, output_padding=a,
                                groups=spec.groups, dilation=spec.dilation)
        np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), atol=1e-10)
        # ∂L/∂ω: the claimed closed form's triples (ω, x, g), evaluated on numbers
        triples = grad_weight_codes(spec, ADJOINTS["pytorch"])
        gw = np.zeros(int(np.prod(spec.weight_shape)))
        np.add.at(gw, triples[:, 0], x.detach().numpy().reshape(-1)[triples[:, 1]] * g.numpy().reshape(-1)[triples[:, 2]])
        np.testing.assert_allclose(gw.reshape(spec.weight_shape), w.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(g.numpy().sum(axis=(0, 2, 3)), b.grad.numpy(), atol=1e-10)


def test_grad_input_remainder_lemma_at_concrete_sizes() -> None:
    # the a of step grad_input, at PyTorch's own sizes: ConvTranspose with that output_padding has x's size
    for spec in concrete_specs(count=20):
        n, k, st, pd, dl = spec.input_size[0], spec.kernel_size[0], spec.stride[0], spec.padding_before[0], spec.dilation[0]
        a = (n + 2 * pd - dl * (k - 1) - 1) % st
        assert ConvTransposeSpec(1, 1, spec.output_size[0], k, stride=st, padding=pd, output_padding=a, dilation=dl,
                                 ndim=1).output_size == (n,)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"identities": ("sideways",)}, r"^identities must be a tuple of 'forward', 'transposed', 'backward', got \('sideways',\)$"),
    ({"identities": "transposed"}, r"^identities must be a tuple of .*, got 'transposed'$"),
    ({"identities": ("transposed",), "adjoint": "nope"}, r"^adjoint must be one of pytorch, .*, got 'nope'$"),
    ({"output_padding": 1}, r"^output_padding is a size of the transposed identity; add 'transposed' to identities"),
    ({"identities": ("transposed",), "output_padding": -1}, r"^a_h must be an int ≥ 0, got -1$"),
    ({"identities": ("transposed",), "output_padding": (1, 2, 3)}, r"^output_padding must be an int or a pair"),
    ({"identities": ("transposed",), "output_padding": 2, "stride": 1, "dilation": 2},
     r"^output_padding must be < stride or < dilation on every axis \(as in PyTorch\), got a_h=2, s_h=1, d_h=2$"),
])
def test_bad_input_is_one_line_naming_the_parameter(kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        prove_general(rechecks=2, **kwargs)


def test_cli_transposed_and_backward(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--transposed", "--output-padding", "1", "--stride", "1", "--dilation", "2",
                 "--rechecks", "3"]) == 0
    out = capsys.readouterr().out
    assert "transposed_theorem: PROVED" in out and "𝒲_{o<H'}" in out and "finding" in out
    assert main(["prove", "--backward", "--stride", "2", "--rechecks", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["holds"] and [s["name"] for s in data["steps"]][-7:] == ADJOINT and data["fixed"]["s_h"] == 2
    assert main(["prove", "--output-padding", "1", "--rechecks", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("symconv prove: error: output_padding is a size of the transposed identity") and "\n" not in err
    assert main(["prove", "--transposed", "--output-padding", "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("symconv prove: error: output_padding must be an int") and "\n" not in err


def test_the_transposed_hypotheses_are_stated_and_hold_exactly_at_pytorchs_layers(proof: Proof) -> None:
    """The theorem states its transposed part's hypotheses (describe, JSON); they hold at every layer PyTorch accepts
    (sizes from ConvTransposeSpec, not from the prover's formula) and fail when the output size is off by one."""
    (part, hyps), = proof.conditions
    assert f"{part}: for all sizes satisfying" in proof.describe()
    assert json.loads(proof.to_json())["conditions"][0]["part"] == part
    assert prove_general(rechecks=2).conditions == ()  # the forward theorem alone has no further part
    names = {str(x): x for x in hyps.free_symbols}
    rng = np.random.default_rng(11)
    for _ in range(40):
        s, d, k = (int(v) for v in rng.integers(1, 4, size=3))
        a = int(rng.integers(0, max(s, d)))
        p = int(rng.integers(0, d * (k - 1) + 1))
        n = int(rng.integers(1, 5))
        try:
            t = ConvTransposeSpec(2, 2, input_size=(n, n), kernel_size=k, stride=s, padding=p, output_padding=a,
                                  dilation=d)
        except SpecError:
            continue
        values = {"C_1": 2, "C_2": 2, "g": 1, "q_1": 2, "q_2": 2, "H'": n, "W'": n, "H": t.output_size[0],
                  "W": t.output_size[1], "h": k, "w": k, "s_h": s, "s_w": s, "p_h": p, "p_w": p, "d_h": d, "d_w": d,
                  "a_h": a, "a_w": a}
        at = {names[key]: v for key, v in values.items() if key in names}
        assert hyps.subs(at) is sympy.true, (t, hyps.subs(at))
        assert hyps.subs({**at, names["H"]: t.output_size[0] + 1}) is sympy.false
