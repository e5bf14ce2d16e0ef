"""The all-size proof: the theorem holds, the negative controls fail at the named step, the CLI's exit codes."""

from __future__ import annotations

import json

import pytest
import sympy

import symconv
from symconv.cli import main
from symconv.errors import SpecError
from symconv.forms.blocks import matrix_as_written
from symconv.prove.general import (
    CONSTRUCTIONS,
    NOTE_LITERAL_ENTRY,
    concrete_specs,
    entry_formula,
    parse_entry,
    prove_closed_forms,
    prove_general,
)
from symconv.prove.lemmas import check_valid
from symconv.prove.proof import Proof, Step

NOTE_SETTING = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}
#: the note's entry with the kernel row fixed (r − o_h instead of the output row): true in the note's setting
NOTE_FIXED_ENTRY = ("Piecewise((omega(i, l, r - o_h, c - o_w), (r - o_h >= 0) & (r - o_h < h) & (c - o_w >= 0) "
                    "& (c - o_w < w)), (0, True))")


@pytest.fixture(scope="module")
def proof() -> Proof:
    return prove_general()  # every size symbolic, 50 concrete re-checks


def test_theorem_holds_for_all_sizes(proof: Proof) -> None:
    assert proof.holds and proof.status == "proved" and proof.counterexample is None
    assert proof.fixed == {} and proof.rechecks >= 50
    names = [s.name for s in proof.steps]
    assert names == ["definition", "tap_solve", "sum_taps", "sum_channels", "entry", "window", "maximal", "injective",
                     "radix", "flatten", "row_order", "zero_blocks", "block_entries", "bias", "theorem"]
    assert all(s.rechecks >= 50 for s in proof.steps if s.name != "definition")
    assert set(proof.lemma_seconds) >= {"tap_solve", "window", "maximal", "injective", "radix", "zero_blocks"}
    for step in proof.steps:  # statements stay SymPy objects a report can typeset
        assert isinstance(sympy.latex(step.statement), str)
    assert "∎ PROVED for all sizes" in proof.describe()
    data = json.loads(proof.to_json())
    assert data["holds"] and data["steps"][1]["name"] == "tap_solve" and data["steps"][1]["latex"]


def test_sympy_sum_without_divisibility_is_refuted_not_trusted(proof: Proof) -> None:
    notes = proof.step("sum_taps").objects["notes"]
    assert len(notes) == 2 and all("refuted by Z3 (no divisibility" in note for note in notes)


def test_seed_order_and_bias_modes() -> None:
    assert prove_general(order="seed", bias="per_location", rechecks=5).holds
    assert prove_general(bias="none", rechecks=3, stride=1, padding=0).holds


def test_fixed_sizes_are_respected() -> None:
    p = prove_general(stride=2, kernel_size=(3, 2), rechecks=6)
    assert p.holds and p.fixed == {"s_h": 2, "s_w": 2, "h": 3, "w": 2}
    assert all(s.stride == (2, 2) and s.kernel_size == (3, 2) for s in concrete_specs(p.fixed, count=6))


def test_concrete_specs_cover_the_boundary_cases() -> None:
    specs = concrete_specs(count=50)
    assert len(specs) == 50
    assert any(s.kernel_size[0] == s.input_size[0] for s in specs)  # h = H
    assert any(s.stride[0] > s.kernel_size[0] for s in specs)
    assert any(max(s.dilation) > 1 for s in specs)
    assert any(s.padding_before[0] >= s.kernel_size[0] for s in specs)
    assert any(s.groups > 1 for s in specs)


@pytest.mark.parametrize(("construction", "step"), [
    ("off_by_one_output", "window"),
    ("note_row_index", "block_entries"),
    ("swapped_flatten", "flatten"),
    ("wrong_zero_block", "zero_blocks"),
    ("stride_not_applied", "zero_blocks"),
    ("dilation_wrong_side", "zero_blocks"),
])
def test_negative_controls_fail_at_the_named_step(construction: str, step: str) -> None:
    p = prove_general(construction=construction, rechecks=3)
    assert not p.holds and p.status == "refuted"
    assert p.failed_step is not None and p.failed_step.name == step
    assert p.counterexample is not None and p.counterexample.confirmed
    assert p.step("theorem").status == "refuted"


def test_note_literal_entry_fails_with_a_counterexample_the_index_engine_confirms() -> None:
    p = prove_general(entry=NOTE_LITERAL_ENTRY, order="seed", rechecks=6, **NOTE_SETTING)
    assert not p.holds and p.failed_step is not None and p.failed_step.name == "claimed_entry"
    cx = p.counterexample
    assert cx is not None and cx.confirmed and "index engine rejects" in cx.note
    assert cx.indices["claimed"] != cx.indices["proved"]
    assert p.step("theorem").holds  # symconv's own construction is still proved; only the claim fails
    spec = symconv.ConvSpec(cx.sizes["C_1"], cx.sizes["C_2"], (cx.sizes["H"], cx.sizes["W"]),
                            (cx.sizes["h"], cx.sizes["w"]))
    verdict = symconv.verify(spec, matrix=matrix_as_written(spec), order="seed")
    assert not verdict.holds
    # the row Z3 names is wrong in the note's matrix too
    row = cx.indices["row"]
    assert any(row == r for r in range(spec.d_y)) and verdict.mismatch is not None


def test_note_entry_with_the_kernel_row_fixed_holds() -> None:
    assert prove_general(entry=NOTE_FIXED_ENTRY, rechecks=6, **NOTE_SETTING).holds


def test_the_proved_entry_formula_is_accepted_as_a_claim() -> None:
    p = prove_general(entry=entry_formula(), rechecks=3)
    assert p.holds and p.step("claimed_entry").holds


def test_closed_forms_are_proved() -> None:
    p = prove_closed_forms(rechecks=50)
    assert p.holds and [s.name for s in p.steps] == ["nnz_intervals", "params", "rf_layer", "rf_stack"]


def test_solver_unknown_is_undetermined_never_a_pass() -> None:
    x, y, z = (sympy.Symbol(v, integer=True, positive=True) for v in "xyz")
    hard = check_valid([], sympy.Ne(x**3 + y**3, z**3), timeout_ms=1)  # Fermat n = 3: beyond Z3 in 1 ms
    assert hard.status == "undetermined"
    step = Step("s", sympy.true, "Z3", hard.status)
    p = Proof("t", sympy.true, (step,))
    assert not p.holds and p.status == "undetermined" and p.counterexample is None


def test_parse_entry_allows_only_the_exposed_names() -> None:
    assert parse_entry("omega(i, l, r - o_h, c - o_w)").free_symbols
    with pytest.raises(SpecError, match=r"^entry: unknown name '__import__'; allowed: i, l, o_h, o_w, r, c, omega"):
        parse_entry("__import__('os').system('true')")
    with pytest.raises(SpecError, match=r"^entry: Attribute is not allowed"):
        parse_entry("omega.__class__")
    with pytest.raises(SpecError, match=r"^entry: unknown name 'x'"):
        parse_entry("x + 1")


def test_cli_prove_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--stride", "1", "--padding", "0", "--rechecks", "3"]) == 0
    out = capsys.readouterr().out
    assert "∎ PROVED for all sizes" in out and "tap_solve" in out
    argv = ["prove", "--stride", "1", "--padding", "0", "--dilation", "1", "--groups", "1", "--order", "seed",
            "--rechecks", "3", "--entry", NOTE_LITERAL_ENTRY]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "REFUTED at step 'claimed_entry'" in out and "counterexample" in out
    assert main(["prove", "--entry", "open('x')", "--rechecks", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("symconv prove: error: entry: unknown name 'open'") and "\n" not in err
    assert main(["prove", "--padding", "same"]) == 2
    assert "padding" in capsys.readouterr().err
    assert main(["prove", "--stride", "0"]) == 2
    assert "s_h must be an int ≥ 1, got 0" in capsys.readouterr().err


def test_cli_prove_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--input", "5x6", "--kernel", "3", "--rechecks", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["holds"] and data["fixed"] == {"H": 5, "W": 6, "h": 3, "w": 3}


def test_constructions_are_public_data() -> None:
    assert set(CONSTRUCTIONS) >= {"blocks", "note_row_index", "off_by_one_output", "swapped_flatten",
                                  "wrong_zero_block", "stride_not_applied", "dilation_wrong_side"}


def test_closed_forms_agree_with_the_counts_and_receptive_field_modules() -> None:
    """What prove/ cannot import (closed/, receptive/ sit below it): cross-checked here."""
    from symconv.core.symbols import C2
    from symconv.prove.closed_forms import axis_count
    from symconv.prove.general import AXES, Q1, nnz_formula
    from symconv.prove.recheck import size_values

    t = sympy.Symbol("t", integer=True)
    for spec in concrete_specs(count=12, seed=3):
        vals = size_values(spec)
        got = symconv.counts(spec)
        assert got.params_weights == int((C2 * Q1 * AXES[0].k * AXES[1].k).subs(vals))
        value = vals[C2] * vals[Q1]
        for axis in (0, 1):
            count = axis_count(axis, t)[2].subs(vals)
            value *= sum(int(count.subs(t, tt)) for tt in range(vals[AXES[axis].k]))
        assert value == got.nnz
    assert nnz_formula().has(sympy.Sum)
    layers = [symconv.Layer(3, stride=2, padding=1), symconv.Layer(2, dilation=3), symconv.Layer(3, stride=2)]
    size, jump = 1, 1
    for k0, s0, d0 in ((3, 2, 1), (2, 1, 3), (3, 2, 1)):
        size, jump = size + (k0 - 1) * d0 * jump, jump * s0
    assert symconv.receptive_field(layers).size[0] == size
