"""The audit of the note: its verdicts re-checked by independent means, its counterexamples confirmed
smallest with PyTorch, and its verdicts shown to follow the computation (mutating the note flips them)."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import torch

from symconv import ConvSpec, SpecError, matrix, matrix_as_written, verify
from symconv.claims import audit as audit_module
from symconv.claims import note as claims_module
from symconv.claims import proofs as proofs_module
from symconv.claims.audit import Audit, audit
from symconv.claims.note import bias_as_written, matrix_from_blocks
from symconv.claims.proofs import PROOF_STEPS, NoteProofs, note_proofs, with_proofs
from symconv.claims.types import Claim, Evidence, note_sizes, note_specs, plain_text
from symconv.cli import main
from symconv.report.render import prose

from .numeric import evaluate_matrix, random_values, substitution


@pytest.fixture(scope="module")
def result() -> Audit:
    return audit(torch=False)


def _spec(claim: Claim, bias: str = "shared") -> ConvSpec:
    sizes = dict(claim.evidence.counterexample.sizes)
    return ConvSpec(sizes["C1"], sizes["C2"], (sizes["H"], sizes["W"]), (sizes["h"], sizes["w"]), bias=bias)


def _earlier(spec: ConvSpec, **grid) -> list[ConvSpec]:
    order = note_specs(**grid)
    return list(order[: [note_sizes(s) for s in order].index(note_sizes(spec))])


def _torch_conv(spec: ConvSpec, bias: bool) -> torch.nn.Conv2d:
    return torch.nn.Conv2d(spec.in_channels, spec.out_channels, tuple(spec.kernel_size), bias=bias, dtype=torch.float64)


def _torch_y(spec: ConvSpec, values: dict[str, np.ndarray]) -> np.ndarray:
    y = torch.nn.functional.conv2d(torch.from_numpy(values["x"])[None], torch.from_numpy(values["weight"]))[0].numpy()
    return y + (values["bias"] if spec.bias == "per_location" else values["bias"][:, None, None])


def _seed_order(y: np.ndarray) -> np.ndarray:
    return y.transpose(1, 2, 0).reshape(-1)  # (C₂, H', W') → positions, channels inside (the note's order)


# ------------------------------------------------------------------ shape of the result
def test_every_claim_is_a_complete_frozen_record(result):
    ids = [c.id for c in result.claims]
    assert len(ids) == len(set(ids)) >= 20
    for c in result.claims:
        assert dataclasses.is_dataclass(c) and c.as_written and c.topic and isinstance(c.holds, bool)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(c, "holds", not c.holds)  # noqa: B010 — assigning a field of a frozen record must fail
        assert c.evidence.checked >= 1 and c.evidence.summary
        if not c.holds:  # a failing claim carries its counterexample and a correction that was itself checked
            assert c.evidence.counterexample is not None and c.evidence.counterexample.detail
            assert c.correction is not None and c.correction.holds and c.correction.evidence.checked >= 1
    assert json.loads(json.dumps(result.to_dict()))["claims"][0]["id"] == ids[0]
    assert result.failing and len(result.failing) < len(result.claims)


def test_the_audit_is_deterministic(result):
    again = audit(torch=False).to_dict()
    first = result.to_dict()
    for timing in ("seconds", "proof_seconds"):
        again.pop(timing), first.pop(timing)
    assert again == first


# ------------------------------------------------------------------ texts: $…$ LaTeX math for the report, Unicode for a terminal
def _texts(result: Audit) -> list[tuple[str, str]]:
    """Every prose text of the audit (words with $…$ math), with where it comes from."""
    texts = []
    for c in result.claims:
        evidences = [("evidence", c.evidence)] + ([("correction", c.correction.evidence)] if c.correction else [])
        texts += [(f"{c.id} precise", c.precise)] if c.precise else []
        texts += [(f"{c.id} remark", r) for r in c.remarks]
        for where, e in evidences:
            texts += [(f"{c.id} {where} summary", e.summary), (f"{c.id} {where} grid", e.grid)]
            texts += [(f"{c.id} {where} cross-check", x) for x in e.cross_checks]
            if e.counterexample is not None:
                texts.append((f"{c.id} {where} counterexample", e.counterexample.detail))
    return texts


# math written as source outside $…$ (b_{i,j,k}, ℝ^{…}, \mathbb, C1) or as Unicode (ω, ≤, C₁) instead of LaTeX
RAW_MATH = re.compile(r"[\\^{}]|_\{|\b[A-Za-z]_[A-Za-z0-9]\b|\bC[12]\b|[ωλαβΣ𝒲ℝℤ≤≥≠≪→∞×−∈₀-₉]")


def test_texts_write_math_as_latex_between_dollars(result):
    texts = _texts(result)
    assert len(texts) > 60
    for where, text in texts:
        pieces = text.split("$")
        assert len(pieces) % 2 == 1, f"{where}: unbalanced $ in {text!r}"
        words, math = pieces[::2], pieces[1::2]
        for piece in words:
            assert not RAW_MATH.search(piece), f"{where}: math outside $…$: {piece!r}"
        for piece in math:
            assert piece.strip() and piece.isascii(), f"{where}: math must be ASCII LaTeX: {piece!r}"
            depth = 0
            for ch in piece.replace(r"\{", "").replace(r"\}", ""):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0, f"{where}: unbalanced braces in {piece!r}"
            assert depth == 0, f"{where}: unbalanced braces in {piece!r}"
        # the report's prose filter keeps the math and escapes the words: no math source is printed literally
        assert not re.search(r"\\textbackslash|\\_\\\{|\\textasciicircum", prose(text)), where


def test_terminal_output_is_plain_unicode(result):
    out = result.describe()
    assert "$" not in out and "\\" not in out
    detail = plain_text(result.claim("weight-shape").evidence.counterexample.detail)
    assert re.fullmatch(r"the sum reads ω_\{2,1,0,0\} \(the note's numbering\): i = 2 but axis 1 of ℝ\^\{1 × 2 × 1 × 1\} "
                        r"has 1 entry", detail)
    assert f"  counterexample C1=1 C2=2 H=1 W=1 h=1 w=1: {detail}" in out
    # symconv's ω_{0,0,1,0} x_{0,0,0} + b_{0,0,0}, in the note's numbering (i, l, j, k, and x's indices from 1; m, n from 0)
    assert "ω_{1,1,1,0} x_{1,1,1} + b_{1,1,1}" in plain_text(result.claim("block-construction").evidence.counterexample.detail)


def test_evidence_prose_uses_the_notes_numbering_only(result):
    for where, text in _texts(result):
        assert "0-based" not in text, f"{where}: {text!r}"
    b_jk = plain_text(result.claim("b_jk-entries").evidence.counterexample.detail)
    assert b_jk.startswith("with the built 𝒲, output y_{3,1,1} misses b_{3,1,1} and has x_{3,1,1} instead"), b_jk


def test_plain_text_by_hand():
    text = r"$b \in \mathcal{R}^{C_2}$ and $\text{conv}(0) = (b_{0}, \dots) \ne 0$"
    assert plain_text(text) == "b ∈ 𝓡^{C₂} and conv(0) = (b₀, …) ≠ 0"
    assert plain_text(r"$\begin{pmatrix}a & b\end{pmatrix}^T$, $\left(H - h + 1\right)$") == "(a b)^T, (H − h + 1)"
    assert plain_text("costs $5") == "costs $5"  # unbalanced: not math (the report escapes it all, too)


# ------------------------------------------------------------------ failing claims, confirmed with PyTorch
def test_weight_shape_counterexample_is_the_smallest_by_torch(result):
    claim = result.claim("weight-shape")
    if claim.holds:
        pytest.fail("PyTorch stores ω as (C₂, C₁, h, w); the note declares (C₁, C₂, h, w) — the audit must see a difference")
    spec = _spec(claim)

    def torch_agrees(s: ConvSpec) -> bool:  # the note's declared shape is the shape PyTorch's indexing needs
        c1, c2, _, _, kh, kw = note_sizes(s)
        return tuple(_torch_conv(s, False).weight.shape) == (c1, c2, kh, kw)

    assert not torch_agrees(spec)
    assert all(torch_agrees(s) for s in _earlier(spec))


def test_parameter_count_counterexamples_by_torch(result):
    # the note's formulas, typed from the note: the claims under test
    def shared(c1, c2, hh, ww, kh, kw):
        return c2 * c1 * (kh - 1) * (kw - 1) + c2

    def per_location(c1, c2, hh, ww, kh, kw):
        return c2 * c1 * (kh - 1) * (kw - 1) + c2 * (hh - kh + 1) * (ww - kw + 1)

    def torch_count(s: ConvSpec, mode: str) -> int:
        weights = sum(p.numel() for p in _torch_conv(s, False).parameters())
        if mode == "shared":
            return sum(p.numel() for p in _torch_conv(s, True).parameters())
        y = torch.nn.functional.conv2d(torch.zeros(1, *s.input_shape), torch.zeros(s.weight_shape))
        return weights + y[0].numel()  # one bias per output entry

    for claim_id, formula, mode in (("params-shared", shared, "shared"), ("params-per-location", per_location, "per_location")):
        claim = result.claim(claim_id)
        assert not claim.holds, claim_id
        spec = _spec(claim)
        assert formula(*note_sizes(spec)) != torch_count(spec, mode)
        assert all(formula(*note_sizes(s)) == torch_count(s, mode) for s in _earlier(spec))


def test_block_construction_counterexample_and_correction_numerically(result, rng):
    claim = result.claim("block-construction")
    assert not claim.holds
    spec = _spec(claim, bias="per_location")
    written = matrix_as_written(spec)
    weights = {f"omega_{i},{l},{m},{n}" for i, l, m, n in np.ndindex(*_torch_conv(spec, False).weight.shape)}
    # as written, 𝒲 either names weights PyTorch's kernel does not have, or computes another function
    names = {str(s) for s in written.free_symbols}
    if names <= weights:
        values = random_values(spec, rng)
        found = evaluate_matrix(written, substitution(spec, values)) @ values["x"].reshape(-1) + _seed_order(values["bias"])
        assert not np.array_equal(found, _seed_order(_torch_y(spec, values)))
    # the corrected layout computes PyTorch's convolution on layers well beyond the counterexample
    for s in [ConvSpec(2, 3, (4, 5), (3, 2), bias="per_location"), ConvSpec(1, 2, (3, 3), (1, 3), bias="per_location")]:
        values = random_values(s, rng)
        corrected = matrix_from_blocks(s, lambda j, t: t)
        found = evaluate_matrix(corrected, substitution(s, values)) @ values["x"].reshape(-1) + _seed_order(values["bias"])
        assert np.array_equal(found, _seed_order(_torch_y(s, values)))


def test_block_construction_counterexample_is_the_smallest_where_the_kernel_does_not_cover_the_input(result):
    claim = result.claim("block-construction")
    spec = _spec(claim, bias="per_location")
    (height, width), (kh, kw) = spec.input_size, spec.kernel_size
    assert height > kh or width > kw, "a degenerate counterexample (the kernel is the whole input) shows no block placement"
    assert not verify(spec, matrix=matrix_as_written(spec), order="seed").holds  # a real counterexample
    # every smaller layer of the grid is degenerate (and fails too, as the summary's count says)
    earlier = _earlier(spec)
    assert earlier and all(tuple(s.input_size) == tuple(s.kernel_size) for s in earlier)
    assert "the kernel does not cover the input" in claim.evidence.summary
    assert "fails on 144 of 144 layers" in claim.evidence.summary


def test_b_jk_counterexample_numerically(result, rng):
    claim = result.claim("b_jk-entries")
    assert not claim.holds
    spec = _spec(claim, bias="per_location")
    values = random_values(spec, rng)
    subs = substitution(spec, values)
    literal = bias_as_written(spec, last="x")
    if not literal.free_symbols <= set(subs):  # it names an input channel x_{C₂} that the layer does not have
        assert spec.out_channels > spec.in_channels
        return
    written = np.array([float(v.xreplace(subs)) for v in literal])
    found = evaluate_matrix(matrix(spec, "seed"), subs) @ values["x"].reshape(-1) + written
    assert not np.array_equal(found, _seed_order(_torch_y(spec, values)))


def test_conv_linear_and_bias_shape_by_torch(result):
    spec = _spec(result.claim("conv-linear"))
    layer = _torch_conv(spec, True)
    torch.nn.init.constant_(layer.bias, 1.0)
    assert torch.count_nonzero(layer(torch.zeros(1, *spec.input_shape, dtype=torch.float64))) > 0  # conv(0) ≠ 0
    spec = _spec(result.claim("bias-shape"))
    y = torch.nn.functional.conv2d(torch.zeros(1, *spec.input_shape), torch.zeros(spec.weight_shape))
    assert y[0].numel() > spec.out_channels  # b_{i,j,k} has more entries than b ∈ ℝ^{C₂}
    assert all(torch.nn.functional.conv2d(torch.zeros(1, *s.input_shape), torch.zeros(s.weight_shape))[0].numel()
               <= s.out_channels for s in _earlier(spec))


def test_much_less_claims_made_precise_and_remarked(result):
    for claim_id in ("conv-much-less-than-fc", "kernel-much-less"):
        claim = result.claim(claim_id)
        assert claim.precise and r"\to" in claim.evidence.summary and claim.remarks
    # independently: with PyTorch's counts, conv = FC exactly when the kernel covers the input
    spec = ConvSpec(2, 3, (3, 2), (3, 2))
    fc = sum(p.numel() for p in torch.nn.Linear(spec.d_x, spec.d_y).parameters())
    conv = sum(p.numel() for p in _torch_conv(spec, False).parameters()) + spec.d_y
    assert conv == fc


# ------------------------------------------------------------------ holding claims, confirmed independently
def test_receptive_field_is_the_jacobian_pattern(result):
    assert result.claim("receptive-field").holds
    for spec in [ConvSpec(2, 2, (4, 5), (2, 3)), ConvSpec(2, 4, (5, 5), 3, stride=2, padding=1, dilation=(1, 2), groups=2)]:
        weight = torch.rand(spec.weight_shape, dtype=torch.float64) + 0.5

        def conv(x, weight=weight, spec=spec):
            return torch.nn.functional.conv2d(x[None], weight, stride=spec.stride, padding=spec.padding, groups=spec.groups,
                                              dilation=spec.dilation)[0]

        jac = torch.autograd.functional.jacobian(conv, torch.zeros(spec.input_shape, dtype=torch.float64))
        pattern = (jac.reshape(spec.d_y, spec.d_x) != 0).numpy()
        built = np.zeros((spec.d_y, spec.d_x), dtype=bool)
        for (r, c), v in matrix(spec).todok().items():
            built[r, c] = v != 0
        assert np.array_equal(pattern, built)


def test_torch_cross_checks_run_and_agree():
    small = audit(torch=True, max_size=2)
    assert small.torch
    lines = [line for c in small.claims
             for line in c.evidence.cross_checks + (c.correction.evidence.cross_checks if c.correction else ())]
    assert any(line.startswith("PyTorch (autograd") for line in lines)
    assert all("agrees" in line for line in lines)
    assert [c.holds for c in small.claims] == [c.holds for c in audit(torch=False, max_size=2).claims]


# ------------------------------------------------------------------ the verdicts follow the computation
def test_fixing_the_note_flips_its_verdicts(monkeypatch):
    c1, c2, h, w = claims_module.C1, claims_module.C2, claims_module.h, claims_module.w
    monkeypatch.setattr(claims_module, "NOTE_PARAMS_SHARED", c2 * c1 * h * w + c2)
    monkeypatch.setattr(claims_module, "matrix_as_written", lambda spec: matrix_from_blocks(spec, lambda j, t: t))
    fixed = audit(torch=False, max_size=2)
    assert fixed.claim("params-shared").holds and fixed.claim("block-construction").holds
    assert not fixed.claim("params-factorisation").holds  # the note's factorised form no longer matches the fixed sum


def test_breaking_a_true_claim_is_caught(monkeypatch):
    monkeypatch.setattr(claims_module, "NOTE_FC", claims_module.NOTE_FC - claims_module.C2)
    broken = audit(torch=False, max_size=2).claim("fc-count")
    assert not broken.holds and r"\neq" in broken.evidence.symbolic


# ------------------------------------------------------------------ proved for all sizes, or checked on N layers
def test_claims_mapped_to_a_proof_step_are_proved_for_all_sizes(result):
    proofs = note_proofs()
    assert proofs.proves(tuple(proofs.statuses)) and "theorem" in proofs.statuses and "rf_stack" in proofs.statuses
    for c in result.claims:
        steps = PROOF_STEPS.get(c.id, ())
        if not c.holds:
            assert c.evidence_kind == "fails as written" and not c.proof_steps, c.id
            if c.correction is not None and steps:  # the parameter counts: the note's formula refuted, the derived one proved
                assert c.correction.evidence_kind == "proved for all sizes" and c.correction.proof_steps == steps, c.id
            continue
        if steps:
            assert c.evidence_kind == "proved for all sizes" and c.proof_steps == steps, c.id
            assert all(proofs.statuses[name] == "proved" for name in steps)
        else:  # only the grid carries it, and it says how many layers that was
            assert c.evidence_kind == f"checked on {c.evidence.checked} layers" and not c.proof_steps, c.id
    assert result.claim("index-sum").proof_steps == ("theorem",)
    assert result.claim("receptive-field").proof_steps == ("rf_layer", "rf_stack")
    assert result.claim("fc-count").evidence_kind == "checked on 144 layers"
    assert result.claim("params-shared").correction.proof_steps == ("params",)
    assert {c.id for c in result.proved} == {c.id for c in result.claims if c.holds and c.id in PROOF_STEPS}


def test_a_corrupted_proof_proves_no_claim_that_rests_on_it(monkeypatch):
    # a negative control as the construction: the flattening of x is swapped, so step flatten (and the theorem) fail
    broken = note_proofs(construction="swapped_flatten")
    assert broken.statuses["flatten"] == broken.statuses["theorem"] == "refuted" and broken.proves(("zero_blocks",))
    monkeypatch.setattr(audit_module, "note_proofs", lambda: broken)
    result = audit(torch=False, max_size=2)
    for claim_id in ("index-sum", "x-order", "Wjk-shape", "d_x-d_y"):
        c = result.claim(claim_id)
        assert c.holds and c.evidence_kind == f"checked on {c.evidence.checked} layers" == "checked on 36 layers", claim_id
        assert not c.proof_steps, claim_id
    assert result.claim("block-construction").correction.evidence_kind == "checked on 36 layers"
    assert result.claim("zero-blocks").evidence_kind == "proved for all sizes"  # its own step still holds


def test_an_undetermined_step_proves_nothing():
    unsure = NoteProofs({**note_proofs().statuses, "rf_stack": "undetermined"})
    assert not unsure.proves(("rf_layer", "rf_stack")) and unsure.proves(("rf_layer",)) and not unsure.proves(())
    claim = with_proofs(Claim("receptive-field", "t", "x", True, Evidence("s", 149)), unsure)
    assert claim.evidence_kind == "checked on 149 layers" and claim.proof_steps == ()


def test_the_proofs_run_once_per_process(monkeypatch):
    monkeypatch.setattr(proofs_module, "_PROVED", {})  # as in a fresh process
    first = proofs_module.note_proofs()
    assert proofs_module._PROVED == {"blocks": first} and proofs_module.note_proofs() is first


def test_terminal_and_json_show_what_carries_each_verdict(capsys):
    assert main(["audit", "--no-torch", "--max-size", "2"]) == 1
    out = capsys.readouterr().out
    table = out.split("\n\n")[0]
    assert re.search(r"^index-sum +yes +proved for all sizes +— +—$", table, re.M)
    assert re.search(r"^fc-count +yes +checked on 36 layers +— +—$", table, re.M)
    assert re.search(r"^params-shared +NO +— +C1=1 .* +holds, proved for all sizes$", table, re.M)
    assert "  proved for all sizes: steps theorem (also checked on 36 layers)" in out
    assert "proved for all sizes (Z3 + SymPy, the note's setting)" in out.splitlines()[-1]
    assert main(["audit", "--json", "--no-torch", "--max-size", "2"]) == 1
    data = {c["id"]: c for c in json.loads(capsys.readouterr().out)}
    assert data["index-sum"]["evidence_kind"] == "proved for all sizes" and data["index-sum"]["proof_steps"] == ["theorem"]
    assert data["fc-count"]["evidence_kind"] == "checked on 36 layers" and data["fc-count"]["proof_steps"] == []
    assert data["params-shared"]["evidence_kind"] == "fails as written"
    assert data["params-shared"]["correction"]["proof_steps"] == ["params"]


# ------------------------------------------------------------------ errors and the command line
def test_errors():
    with pytest.raises(SpecError, match=r"^max_size must be an int in 1\.\.6, got 0$"):
        audit(max_size=0)
    with pytest.raises(SpecError, match=r"^claim must be one of conv-codomain, .*, got 'nope'$"):
        audit(torch=False, max_size=1).claim("nope")


def test_audit_command(capsys):
    # as for verify, 1 means a checked statement fails: here claims of the note as written
    assert main(["audit", "--no-torch", "--max-size", "2"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("id ") and "block-construction" in out and "NO" in out
    assert main(["audit", "--json", "--no-torch", "--max-size", "2"]) == 1
    data = json.loads(capsys.readouterr().out)
    keys = {"id", "as_written", "holds", "evidence", "correction", "precise"}
    assert isinstance(data, list) and all(keys <= set(c) for c in data)
    failing = [c for c in data if not c["holds"]]
    assert failing and all(c["evidence"]["counterexample"]["sizes"] and c["correction"]["holds"] for c in failing)
    assert main(["audit", "--max-size", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "symconv audit: error: max_size must be an int in 1..6, got 0\n"


def test_audit_command_exits_0_when_every_claim_holds(monkeypatch, capsys):
    import symconv.claims.audit as command  # where the command looks audit up at run time

    real = command.audit

    def only_holding(**kwargs):
        result = real(**kwargs)
        return dataclasses.replace(result, claims=tuple(c for c in result.claims if c.holds))

    monkeypatch.setattr(command, "audit", only_holding)
    assert main(["audit", "--no-torch", "--max-size", "1"]) == 0
    assert "NO" not in capsys.readouterr().out.split("\n\n")[0]
