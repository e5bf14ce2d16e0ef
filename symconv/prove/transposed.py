"""Transposed convolution, proved at concrete sizes: definition = 𝒲ᵀy + b = Dumoulin & Visin's direct form.

Two engines, as for the forward layer:

* ``method="sympy"`` builds every form as SymPy expressions (ω, y, b symbols) and compares them output by
  output. Both sides are expanded sums of products, which SymPy keeps in a canonical form, so ``==`` on two
  such sums is equality of polynomials; an output that differs structurally is re-checked with
  ``expand(e₁ − e₂) == 0`` before it is reported, so a difference is never an artefact of the representation.
* ``method="index"`` compares the forms as sorted integer triples (output, weight, input): the same
  polynomials with every coefficient 1, exact at any size.

The result is an :class:`IdentityProof`: frozen, one :class:`Identity` per claim, each with its own counterexample.
:mod:`symconv.prove.backward` and :mod:`symconv.prove.padding_modes` report through the same classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import numpy as np
import sympy

from ..core.budget import MAX_ARRAY_TERMS, MAX_SYMBOLIC_TERMS, check_terms
from ..core.spec import ConvSpec
from ..core.symbols import weight_array
from ..core.transposed import ConvTransposeSpec
from ..errors import SpecError
from ..forms.transposed import (
    BilinearTerms,
    symbol_product,
    transposed_bias,
    transposed_direct,
    transposed_input,
    transposed_matrix,
    transposed_matrix_terms,
    transposed_terms,
    zero_insertion,
    zero_insertion_direct,
    zero_insertion_terms,
)

__all__ = ["METHODS", "Identity", "IdentityProof", "check_size", "compare_arrays", "compare_terms", "prove_transposed"]

METHODS: tuple[str, ...] = ("sympy", "index")


@dataclass(frozen=True)
class Identity:
    """One claim ``lhs = rhs`` checked at a concrete size: whether it holds, what was compared, the first counterexample.

    ``compared`` counts the entries (outputs, or matrix entries) compared; ``mismatched`` those that differ;
    ``counterexample`` is a readable line for the first of them (index, both sides).
    """

    name: str
    statement: str
    holds: bool
    compared: int
    seconds: float
    mismatched: int = 0
    counterexample: str | None = None

    def __bool__(self) -> bool:
        return self.holds

    def describe(self) -> str:
        """One line, two when it fails."""
        head = f"{'HOLDS' if self.holds else 'FAILS'}  {self.statement}  ({self.compared:,} entries, {self.seconds:.3f} s)"
        if self.counterexample is None:
            return head
        return f"{head}\n        {self.mismatched:,} differ; first: {self.counterexample}"


@dataclass(frozen=True)
class IdentityProof:
    """A set of identities proved about one layer by one engine; truthy iff every identity holds."""

    subject: str  # the layer, described
    method: str
    identities: tuple[Identity, ...]
    details: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.holds

    @property
    def holds(self) -> bool:
        """True iff every identity holds."""
        return all(i.holds for i in self.identities)

    @property
    def seconds(self) -> float:
        """Total time of the checks."""
        return sum(i.seconds for i in self.identities)

    def __getitem__(self, name: str) -> Identity:
        for identity in self.identities:
            if identity.name == name:
                return identity
        raise KeyError(name)

    def describe(self) -> str:
        """The subject, the method, then one line per identity."""
        status = "HOLDS" if self.holds else "FAILS"
        lines = [f"{status}: {self.subject} (method {self.method})"]
        lines += [f"  {i.describe()}" for i in self.identities]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly."""
        return {
            "subject": self.subject,
            "method": self.method,
            "holds": self.holds,
            "identities": [
                {"name": i.name, "statement": i.statement, "holds": i.holds, "compared": i.compared,
                 "mismatched": i.mismatched, "seconds": round(i.seconds, 6), "counterexample": i.counterexample}
                for i in self.identities
            ],
            **({"details": self.details} if self.details else {}),
        }


def _same(u: Any, v: Any) -> bool:
    """u = v as polynomials: canonical forms first (fast), then expand(u − v) == 0 before calling them different."""
    if u == v:
        return True
    return sympy.expand(sympy.sympify(u) - sympy.sympify(v)) == 0


def compare_arrays(name: str, statement: str, expected: Any, found: Any, started: float) -> Identity:
    """Entry-by-entry comparison of two arrays of SymPy expressions (exact), as an :class:`Identity`."""
    expected, found = np.asarray(expected, dtype=object), np.asarray(found, dtype=object)
    if expected.shape != found.shape:
        return Identity(name, statement, False, 0, perf_counter() - started, 1,
                        f"shapes differ: {expected.shape} (expected) vs {found.shape}")
    bad = [idx for idx in np.ndindex(*expected.shape) if not _same(expected[idx], found[idx])]
    example = None
    if bad:
        idx = bad[0]
        example = f"at {tuple(int(i) for i in idx)}: expected {_short(expected[idx])}, found {_short(found[idx])}"
    return Identity(name, statement, not bad, int(expected.size), perf_counter() - started, len(bad), example)


def compare_terms(name: str, statement: str, expected: BilinearTerms, found: BilinearTerms, started: float) -> Identity:
    """Two bilinear maps compared as sorted integer triples (every coefficient 1), as an :class:`Identity`."""
    a, b = expected.canonical(), found.canonical()
    if a.shape == b.shape and np.array_equal(a, b):
        return Identity(name, statement, True, len(a), perf_counter() - started)
    # count the outputs whose triples differ, and show the first
    def by_out(t: np.ndarray) -> dict[int, set]:
        rows: dict[int, set] = {}
        for o, u, v in t.tolist():
            rows.setdefault(o, set()).add((u, v))
        return rows
    ra, rb = by_out(a), by_out(b)
    outs = sorted(o for o in set(ra) | set(rb) if ra.get(o) != rb.get(o))
    o = outs[0]
    index = tuple(int(i) for i in np.unravel_index(o, expected.out_shape))
    missing = sorted(ra.get(o, set()) - rb.get(o, set()))[:4]
    extra = sorted(rb.get(o, set()) - ra.get(o, set()))[:4]
    example = f"at {index}: (A, B) index pairs missing {missing}, extra {extra}"
    return Identity(name, statement, False, len(a), perf_counter() - started, len(outs), example)


def _short(expr: Any, limit: int = 160) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wt_y(spec: ConvTransposeSpec) -> np.ndarray:
    """𝒲ᵀy + b from the SymPy matrix 𝒲ᵀ (its nonzeros times y, summed per row)."""
    WT = transposed_matrix(spec)
    y = transposed_input(spec).reshape(-1)
    rows: list[list[sympy.Expr]] = [[] for _ in range(WT.rows)]
    for r, c, value in WT.row_list():
        rows[r].append(symbol_product(value, y[c]))
    out = np.empty(WT.rows, dtype=object)
    out[:] = [sympy.Add(*terms) for terms in rows]
    out = out.reshape(spec.output_shape)
    if spec.bias:
        b = transposed_bias(spec).reshape(-1, *([1] * spec.ndim))
        out = np.vectorize(sympy.Add, otypes=[object])(out, np.broadcast_to(b, out.shape))
    return out


def prove_transposed(
    spec: ConvTransposeSpec, method: str = "sympy", definition: Callable[[ConvTransposeSpec], Any] | None = None,
) -> IdentityProof:
    """Prove, at ``spec``'s sizes, conv_transpose(y) = 𝒲ᵀy + b = the zero-insertion direct convolution, and the sizes.

    ``definition`` replaces the definition side (PyTorch's scatter form) — for soundness tests: a function of
    the spec returning the SymPy array (method sympy) or :class:`BilinearTerms` (method index).

    >>> t = ConvTransposeSpec(2, 2, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1)
    >>> prove_transposed(t).holds, prove_transposed(t, method="index").holds
    (True, True)
    """
    if method not in METHODS:
        raise SpecError(f"method must be 'sympy' or 'index', got {method!r}")
    check_size(spec.forward_spec(), "prove_transposed", method)
    form = zero_insertion(spec)
    identities = []
    start = perf_counter()
    sizes_ok = form.direct.output_size == spec.output_size
    identities.append(Identity(
        "sizes", "output size (n − 1)s − 2p + d(k − 1) + a + 1 = stride-1 conv of the stretched input, p′ = d(k − 1) − p",
        sizes_ok, spec.ndim, perf_counter() - start, 0 if sizes_ok else 1,
        None if sizes_ok else f"{spec.output_size} vs {form.direct.output_size}",
    ))
    if method == "index":
        start = perf_counter()
        lhs = (definition or transposed_terms)(spec)
        identities.append(compare_terms("matrix", "conv_transpose(y) = 𝒲ᵀy (+ b)", lhs, transposed_matrix_terms(spec), start))
        start = perf_counter()
        identities.append(compare_terms(
            "zero_insertion", "conv_transpose(y) = conv(stretch(y), flip(ω)ᵀ) with p′ = d(k − 1) − p, a zeros after",
            lhs, zero_insertion_terms(spec), start))
    else:
        start = perf_counter()
        lhs = np.asarray((definition or transposed_direct)(spec).tolist(), dtype=object)
        definition_seconds = perf_counter() - start
        start = perf_counter() - definition_seconds
        identities.append(compare_arrays("matrix", "conv_transpose(y) = 𝒲ᵀy (+ b)", lhs, _wt_y(spec), start))
        start = perf_counter()
        rhs = np.asarray(zero_insertion_direct(spec).tolist(), dtype=object)
        identities.append(compare_arrays(
            "zero_insertion", "conv_transpose(y) = conv(stretch(y), flip(ω)ᵀ) with p′ = d(k − 1) − p, a zeros after",
            lhs, rhs, start))
    details = {"p_prime": list(form.padding), "remainder": list(form.remainder), "stretched": list(form.stretched),
               "weights": int(weight_array(spec.forward_spec()).size)}
    return IdentityProof(spec.describe(), method, tuple(identities), details)


def check_size(spec: ConvSpec, what: str, method: str) -> None:
    """TooLargeError before building when ``spec``'s terms exceed the budget of ``method`` (SymPy objects, or whole
    NumPy term arrays — these engines do not stream as the forward index engine does)."""
    if method == "sympy":
        check_terms(what, spec.n_terms + spec.n_bias_terms, MAX_SYMBOLIC_TERMS // 4,
                    "use method='index' (exact integer terms) at this size")
    else:
        check_terms(what, spec.n_terms + spec.n_bias_terms, MAX_ARRAY_TERMS,
                    "the term arrays are held whole in memory; check a smaller layer")
