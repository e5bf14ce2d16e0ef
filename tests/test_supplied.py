"""verify(matrix=…): a caller's entries normalised soundly — exact identities hold, undecidable entries are
UNDETERMINED (never HOLDS, never a false FAILS), big coefficients are exact, floats stay rejected."""

from __future__ import annotations

import json

import pytest
import sympy

from symconv import ConvSpec, bias_vector, matrix, verify
from symconv.cli import main

SPEC = ConvSpec(2, 2, input_size=4, kernel_size=2, padding=1, groups=2)
METHODS = ["sympy", "index"]


def _with(entry_of, where=0):
    """𝒲 with its ``where``-th nonzero entry ω replaced by ``entry_of(ω)``; the position and ω."""
    W = matrix(SPEC).as_mutable()
    (r, c), w = sorted(W.todok().items())[where]
    W[r, c] = entry_of(w)
    return W, (r, c), w


TRUE_BUT_UNWRITTEN = {
    "trig": lambda w: (sympy.cos(1) ** 2 + sympy.sin(1) ** 2) * w,
    "sum": lambda w: sympy.Sum(w, (sympy.Symbol("t"), 1, 1)),
    "unevaluated": lambda w: sympy.UnevaluatedExpr(w),
    "ratio": lambda w: sympy.zeta(3) / sympy.zeta(3) * w,
    "halves": lambda w: sympy.Rational(1, 2) * w + w / 2,
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(TRUE_BUT_UNWRITTEN))
def test_an_exact_identity_written_otherwise_holds(method, name):
    W, _, _ = _with(TRUE_BUT_UNWRITTEN[name])
    verdict = verify(SPEC, method=method, matrix=W)
    assert verdict.holds and verdict.status == "HOLDS"


FALSE_BUT_CLOSE = {
    "sum-two": lambda w: sympy.Sum(w, (sympy.Symbol("t"), 1, 2)),
    "big": lambda w: (2**64 + 1) * w,
    "float": lambda w: 1.0 * w,  # exact checks accept no floats, even 1.0
    "square": lambda w: sympy.UnevaluatedExpr(w) * w,
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(FALSE_BUT_CLOSE))
def test_a_wrong_entry_fails_at_its_row(method, name):
    W, (r, c), _ = _with(FALSE_BUT_CLOSE[name])
    verdict = verify(SPEC, method=method, matrix=W)
    assert verdict.status == "FAILS" and verdict.mismatch is not None
    assert verdict.mismatch.row == r


@pytest.mark.parametrize("method", METHODS)
def test_an_undecidable_entry_is_undetermined_not_holds(method):
    W, (r, c), _ = _with(lambda w: sympy.sqrt(2) * w)  # SymPy cannot write it as a rational polynomial
    verdict = verify(SPEC, method=method, matrix=W)
    assert not verdict.holds and verdict.status == "UNDETERMINED" and verdict.mismatch is None
    assert verdict.details["undetermined"] == [{"where": f"𝒲[{r}, {c}]", "entry": str(W[r, c])}]
    assert "UNDETERMINED" in verdict.describe() and "sqrt(2)" in verdict.describe()


@pytest.mark.parametrize("method", METHODS)
def test_off_by_a_hair_is_never_holds(method):
    """1 + 10⁻³⁰ looks like 1 to 25 digits: the guess is refuted by the exact difference, so not HOLDS."""
    W, _, _ = _with(lambda w: (sympy.cos(1) ** 2 + sympy.sin(1) ** 2 + sympy.Rational(1, 10**30)) * w)
    verdict = verify(SPEC, method=method, matrix=W)
    assert not verdict.holds and verdict.status in ("UNDETERMINED", "FAILS")


@pytest.mark.parametrize("method", METHODS)
def test_undetermined_does_not_hide_a_real_difference_elsewhere(method):
    W, _, _ = _with(lambda w: sympy.sqrt(2) * w)
    (r2, c2), w2 = sorted(W.todok().items())[-1]
    W[r2, c2] = 2 * w2  # a definite error in another row
    verdict = verify(SPEC, method=method, matrix=W)
    assert verdict.status == "FAILS" and verdict.mismatch.row == r2


@pytest.mark.parametrize("method", METHODS)
def test_bias_entries_are_normalised_too(method):
    b = bias_vector(SPEC).as_mutable()
    b[0] = sympy.Sum(b[0], (sympy.Symbol("t"), 0, 0))
    assert verify(SPEC, method=method, bias=b).holds
    b[0] = sympy.sqrt(3) * b[1]
    assert verify(SPEC, method=method, bias=b).status in ("UNDETERMINED", "FAILS")
    assert not verify(SPEC, method=method, bias=b).holds


def test_cli_says_undetermined_and_exits_1(tmp_path, capsys):
    W, _, _ = _with(lambda w: sympy.sqrt(2) * w)
    path = tmp_path / "W.json"
    path.write_text(json.dumps([[str(W[r, c]) for c in range(W.cols)] for r in range(W.rows)]))
    args = ["verify", "--in-channels", "2", "--out-channels", "2", "--input", "4", "--kernel", "2", "--padding", "1",
            "--groups", "2", "--matrix", str(path)]
    # the matrix file grammar takes sums of c·symbol only: an irrational factor is bad input there (exit 2)
    assert main(args) == 2
    assert "error" in capsys.readouterr().err
