"""The theorem of the layer report and of the corrected note comes from the all-size prover: numbered equations, a
lemma list, SymPy's wrong sum named as such, and never a theorem printed as proved when the prover did not prove it."""

from __future__ import annotations

import dataclasses

import pytest

from symconv import ConvSpec
from symconv.report import gather, note_report, spec_report
from symconv.report.gather import GENERAL_CLAIM, GENERAL_RECHECKS, general_proof, note_theorem, step_proof
from symconv.report.sections.theorem import theorem_view

from .test_report_math import code_in_math

SPEC = ConvSpec(1, 2, input_size=4, kernel_size=2, stride=2, padding=1)


@pytest.fixture(scope="module")
def proof():
    return general_proof("seed", "shared")


def test_the_prover_is_asked_once_per_order_and_bias(proof):
    assert general_proof("seed", "shared") is proof
    assert proof.holds and proof.order == "seed" and proof.rechecks == GENERAL_RECHECKS and not proof.fixed


def test_lemma_steps_become_the_lemma_list_and_sympys_own_sum_is_kept(proof):
    p = step_proof(proof, GENERAL_CLAIM)
    assert [s.name for s in p.steps] == [s.name for s in proof.steps if not s.lemma]
    assert [lem.name for lem in p.lemmas] == [s.name for s in proof.steps if s.lemma]
    wrong = next(lem for lem in p.lemmas if lem.name == "sum_taps")
    assert wrong.refuted_form is not None and dict(wrong.refuted_at)["d_w"] == 2


def test_the_statements_read_as_mathematics(proof):
    view = theorem_view(step_proof(proof, GENERAL_CLAIM), "shared")
    entry = view.lines[1].rhs
    assert r"{\omega}_{i," in entry and r"\mid u_{w}" in entry and r"\begin{cases}" in entry
    assert "omega" not in entry.replace(r"\omega", "") and "Mod" not in entry and "floor(" not in entry
    assert all(lemma.holds for lemma in view.lemmas) and view.status == "proved"


def test_the_report_typesets_the_proof(proof):
    tex = spec_report(SPEC)
    assert r"\begin{symconvtheorem}[the convolution is a matrix product]" in tex
    assert r"\label{symconv-lem:block-entries}" in tex and "SymPy's own evaluation of this sum" in tex
    assert f"on {GENERAL_RECHECKS} concrete layers" in tex
    assert r"\begin{symconvcorollary}[this layer]" in tex
    assert not code_in_math(tex)


@pytest.mark.parametrize("status", ["refuted", "undetermined"])
def test_a_proof_that_did_not_go_through_is_never_printed_as_a_theorem(proof, monkeypatch, status):
    failed = dataclasses.replace(proof.steps[-2], status=status)
    broken = dataclasses.replace(proof, steps=(*proof.steps[:-2], failed, proof.steps[-1]))
    assert broken.status == status
    monkeypatch.setitem(gather._GENERAL, ("seed", SPEC.bias), broken)
    tex = spec_report(SPEC)
    assert r"\begin{symconvtheorem}[the convolution is a matrix product]" not in tex
    assert "not proved} for all sizes" in tex and "did not prove this claim" in tex
    assert r"\begin{proof}" + "\nEvery size" not in tex
    # this layer is still checked exactly, and says so as a theorem of its own
    assert r"\begin{symconvtheorem}[this layer]" in tex


# ----------------------------------------------------------------------------- the corrected note


@pytest.fixture(scope="module")
def note_audit():
    from symconv.claims.audit import audit

    return audit(torch=False, max_size=2)


def test_the_note_states_the_theorem_in_its_setting_with_its_order_and_bias():
    p = general_proof("seed", "per_location", **gather.NOTE_SETTING)
    assert general_proof("seed", "per_location", **gather.NOTE_SETTING) is p  # cached per process
    assert p.holds and p.order == "seed" and p.fixed == {"s_h": 1, "s_w": 1, "p_h": 0, "p_w": 0, "d_h": 1, "d_w": 1, "g": 1}
    assert note_theorem().status == "proved"


def test_the_note_report_typesets_the_theorem_and_its_lemmas_under_matrix_form(note_audit):
    tex = note_report(note_audit)
    matrix_form = tex[tex.index(r"\section{Matrix form}"):tex.index(r"\section{Parameter counts}")]
    assert r"\begin{symconvtheorem}[the convolution is a matrix product]" in matrix_form
    assert matrix_form.index(r"\end{symconvtheorem}") < matrix_form.index(r"\begin{symconvclaim}")
    assert "the bias $b$, one entry per output" in matrix_form and r"p_{h} = 0" in matrix_form
    lemmas = matrix_form[matrix_form.index(r"\begin{enumerate}[label=(L\arabic*)"):matrix_form.index(r"\end{enumerate}")]
    assert lemmas.count(r"\item\label{symconv-lem:") == len(note_theorem().lemmas) > 5
    assert r"\label{symconv-lem:block-entries}" in lemmas and r"\label{symconv-lem:bias}" in lemmas
    # it points at the note's own index sum and blocks, never at the layer report's labels
    assert "symconv-eq:definition" not in tex and "symconv-sec:blocks" not in tex and "symconv-cor:instance" not in tex
    assert r"the index sum~(Claim~\ref{symconv-note-claim:1-2})" in tex
    assert not code_in_math(tex)


def test_the_note_prints_a_claim_when_the_prover_did_not_prove_it(note_audit, monkeypatch):
    proof = general_proof("seed", "per_location", **gather.NOTE_SETTING)
    failed = dataclasses.replace(proof.steps[-2], status="undetermined")
    broken = dataclasses.replace(proof, steps=(*proof.steps[:-2], failed, proof.steps[-1]))
    monkeypatch.setitem(gather._GENERAL, ("seed", "per_location", *sorted(gather.NOTE_SETTING.items())), broken)
    tex = note_report(note_audit)
    assert r"\begin{symconvtheorem}" not in tex and "not proved} for all sizes" in tex
    assert "the claims below are checked on small layers, independently of the prover" in tex
