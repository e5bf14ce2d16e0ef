"""Assertions for test suites: exact convolution checks that fail with a readable counterexample.

Every ``assert_*`` returns what it checked when the statement holds and otherwise raises
:class:`~symconv.errors.NotEquivalentError` (an ``AssertionError``, so pytest reports it as a failed
assertion). The message is the mismatch table and the
diagnosis; the exception's ``report`` attribute is a :class:`FailureReport` whose LaTeX
(:mod:`symconv.report.failure`, loaded only when asked for) the pytest plugin writes with ``--symconv-report DIR``.

>>> from symconv import ConvSpec
>>> assert_conv_equivalent(ConvSpec(1, 2, input_size=4, kernel_size=2)).holds
True
>>> import sympy
>>> n, k = sympy.symbols("n k")
>>> assert_closed_form(n - k + 1, lambda n, k: len(range(0, n - k + 1)), {"n": range(3, 6), "k": range(1, 3)})
6
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from .check.implementation import ImplementationVerdict, verify_implementation
from .core.spec import ConvSpec
from .errors import NotEquivalentError, SpecError
from .prove.verdict import Mismatch, Verdict
from .prove.verify import verify

__all__ = [
    "SPECS",
    "FailureReport",
    "assert_closed_form",
    "assert_conv_equivalent",
    "assert_diagnosed",
    "assert_expr_equal",
    "assert_implements_conv",
    "assert_same_implementation",
]

#: A small table of layers covering each parameter; the pytest plugin's default for the ``symconv_spec`` fixture.
SPECS: dict[str, ConvSpec] = {
    "basic-2to3-5x5-k3": ConvSpec(2, 3, input_size=5, kernel_size=3),
    "kernel-1x1": ConvSpec(3, 2, input_size=4, kernel_size=1),
    "non-square": ConvSpec(2, 2, input_size=(5, 6), kernel_size=(2, 3)),
    "stride-2-padding-1": ConvSpec(2, 2, input_size=7, kernel_size=3, stride=2, padding=1),
    "padding-same-even-kernel": ConvSpec(1, 2, input_size=(5, 4), kernel_size=(2, 4), padding="same"),
    "dilation-2": ConvSpec(2, 2, input_size=7, kernel_size=3, dilation=2),
    "groups-2": ConvSpec(4, 4, input_size=4, kernel_size=2, groups=2),
    "depthwise": ConvSpec(3, 6, input_size=4, kernel_size=3, groups=3, padding=1),
    "bias-per-location": ConvSpec(2, 2, input_size=4, kernel_size=2, bias="per_location"),
    "bias-none": ConvSpec(2, 3, input_size=(4, 3), kernel_size=2, bias="none"),
}


@dataclass(frozen=True)
class FailureReport:
    """A failed assertion: a title, the plain-text message and a LaTeX fragment saying the same.

    ``source`` is the LaTeX, or a function that builds it: :attr:`latex` builds it on first use, since
    LaTeX of text is written by :mod:`symconv.report.failure` (which loads Jinja2), and only writing a
    report needs it.
    """

    title: str
    text: str
    source: str | Callable[[], str] = field(repr=False, compare=False)

    @property
    def latex(self) -> str:
        """The LaTeX fragment: layer, how it was checked, diagnosis, mismatching outputs."""
        return self.source() if callable(self.source) else self.source

    def document(self, test: str = "") -> str:
        """A complete LaTeX document for this failure (``test`` names the test that failed)."""
        from .report.failure import document  # loads Jinja2: only when a report is written

        return document(test or self.title, self.latex)


def _fail(report: FailureReport) -> None:
    raise NotEquivalentError(report.text, report)


# ------------------------------------------------------------------------------------------ LaTeX, built lazily
# Each returns the function that builds a report's LaTeX with symconv.report.failure, imported only when called.

def _verdict_source(title: str, spec: ConvSpec, lines: list[str], mismatches: tuple[Mismatch, ...],
                    findings: list[str]) -> Callable[[], str]:
    def build() -> str:
        from .report.failure import verdict_latex

        return verdict_latex(title, spec, lines, mismatches, findings)
    return build


def _titled_source(title: str, report: FailureReport) -> Callable[[], str]:
    def build() -> str:
        from .report.failure import titled

        return titled(title, report.latex)
    return build


def _text_source(text: str) -> Callable[[], str]:
    def build() -> str:
        from .report.failure import tex

        return tex(text)
    return build


# ------------------------------------------------------------------------------------------ assertions

def assert_conv_equivalent(
    spec: ConvSpec, matrix: Any = None, bias: Any = None, *, order: str = "channel_major", method: str = "auto",
) -> Verdict:
    """Assert conv(x) = 𝒲x + b for ``spec`` (symconv's 𝒲, or the ``matrix``/``bias`` you give); the Verdict.

    >>> assert_conv_equivalent(ConvSpec(2, 2, input_size=4, kernel_size=3, padding=1)).method
    'sympy'
    """
    __tracebackhide__ = True
    verdict = verify(spec, method=method, matrix=matrix, bias=bias, order=order)
    if not verdict.holds:
        title = "conv(x) = Wx + b does not hold"
        mismatches = () if verdict.mismatch is None else (verdict.mismatch,)
        lines = [f"method {verdict.method}, W {verdict.source}, rows in {order} order; {verdict.mismatched_rows} outputs differ"]
        _fail(FailureReport(title, verdict.describe(), _verdict_source(title, spec, lines, mismatches, [])))
    return verdict


def assert_implements_conv(fn: Callable[..., Any], spec: ConvSpec, *, require_exact: bool = False,
                           **options: Any) -> ImplementationVerdict:
    """Assert that ``fn(x, weight, bias)`` computes the layer ``spec``; the ImplementationVerdict.

    ``options`` go to :func:`symconv.verify_implementation` (``layout``, ``backend``, ``method``, ``dtype``,
    ``pass_params``, ``signature``, ``atol``, …). Passing means no difference was found: ``result.proved``
    (status ``HOLDS (exact)``) when fn, run on a batch of two samples of SymPy symbols, computed exactly the
    layer per sample and numeric runs (non-integer, permuted and fresh batches) agreed within the rounding
    bound — proved for a deterministic per-sample map, on every call made; else agreement on sampled inputs
    (``AGREES (sampled, …)``). ``require_exact=True`` fails unless it is proved. A fn that raises fails too
    (diagnosis ``raised``, with its exception). The failure message is the verdict's report: status,
    diagnosis and mismatch table.

    >>> import numpy as np
    >>> def dense_1x1(x, w, b):              # a 1×1 convolution is a matrix product over channels
    ...     return np.einsum("nlrc,il->nirc", x, w[:, :, 0, 0]) + b[None, :, None, None]
    >>> assert_implements_conv(dense_1x1, ConvSpec(3, 2, input_size=4, kernel_size=1)).status
    'HOLDS (exact)'
    """
    __tracebackhide__ = True
    result = verify_implementation(fn, spec, **options)
    if not result.holds:
        _fail(_implementation_report(result))
    if require_exact and not result.proved:
        report = _implementation_report(result)
        title = f"require_exact: {result.status} is not a proof (method {result.method}; only 'symbolic' proves)"
        _fail(FailureReport(title, f"{title}\n{report.text}", _titled_source(title, report)))
    return result


def _implementation_report(result: ImplementationVerdict) -> FailureReport:
    title = f"{result.details.get('fn', 'fn')}: {result.status}" if result.holds else \
        f"{result.details.get('fn', 'fn')} does not implement the layer"
    lines = [f"method {result.method} ({result.backend}, layout {result.layout}): {result.calls} calls to fn, "
             f"{result.samples} inputs", result.guarantee]
    if result.output_shape != result.spec.output_shape:
        lines.append(f"output shape {result.output_shape}, expected {result.spec.output_shape}")
    findings = [f.describe() for f in result.diagnosis]
    return FailureReport(title, result.describe(),
                         _verdict_source(title, result.spec, lines, result.mismatches, findings))


def assert_diagnosed(fn: Callable[..., Any], spec: ConvSpec, code: str, **options: Any) -> ImplementationVerdict:
    """Assert that ``fn`` fails to implement ``spec`` and that the diagnosis names ``code`` (e.g. ``"flipped-kernel"``).

    For tests of deliberately wrong code, and of symconv's diagnosis itself.

    >>> import numpy as np
    >>> def no_bias(x, w, b):
    ...     return np.einsum("nlrc,il->nirc", x, w[:, :, 0, 0])
    >>> assert_diagnosed(no_bias, ConvSpec(3, 2, input_size=4, kernel_size=1), "bias-missing").codes
    ('bias-missing',)
    """
    __tracebackhide__ = True
    result = verify_implementation(fn, spec, **options)
    if result.holds or code not in result.codes:
        got = (f"the diagnosis is {', '.join(result.codes)}" if not result.holds
               else "it implements the layer exactly" if result.proved
               else f"no difference was found ({result.status})")
        report = _implementation_report(result)
        title = f"expected the diagnosis {code!r}, but {got}"
        _fail(FailureReport(title, f"{title}\n{report.text}", _titled_source(title, report)))
    return result


def assert_same_implementation(fn_a: Callable[..., Any], fn_b: Callable[..., Any], spec: ConvSpec,
                               **options: Any) -> ImplementationVerdict:
    """Assert that two implementations compute the same form on ``spec``'s shapes (right or wrong alike).

    Returns ``fn_a``'s verdict. Useful to pin a refactoring to the code it replaces.

    >>> import numpy as np
    >>> a = lambda x, w, b: np.einsum("nlrc,il->nirc", x, w[:, :, 0, 0])
    >>> b = lambda x, w, b: np.einsum("il,nlrc->nirc", w[:, :, 0, 0], x)
    >>> assert_same_implementation(a, b, ConvSpec(2, 2, input_size=3, kernel_size=1, bias="none")).holds
    True
    """
    __tracebackhide__ = True
    first = verify_implementation(fn_a, spec, **options)
    second = verify_implementation(fn_b, spec, **options)
    if first.form is None or second.form is None:
        which = "fn_a" if first.form is None else "fn_b"
        broken = first if first.form is None else second
        title = f"{which} has no exact bi-affine form to compare"
        _fail(FailureReport(title, f"{title}\n{broken.describe()}", _implementation_report(broken).source))
    assert first.form is not None and second.form is not None
    if first.form.output_shape != second.form.output_shape:
        title = f"output shapes differ: {first.form.output_shape} and {second.form.output_shape}"
        _fail(FailureReport(title, title, _text_source(title)))
    rows = first.form.differing_rows(second.form)
    if rows.size:
        shape = first.form.output_shape
        mismatches = tuple(
            Mismatch(int(r), tuple(int(v) for v in np.unravel_index(int(r), shape)),
                     first.form.terms_of(int(r)), second.form.terms_of(int(r)))
            for r in rows[:3]
        )
        title = f"the implementations differ at {rows.size} of {math.prod(shape)} outputs"
        text = "\n".join([title, "  (expected = fn_a, found = fn_b)"] + [m.describe() for m in mismatches])
        _fail(FailureReport(title, text, _verdict_source(title, spec, ["expected = fn_a, found = fn_b"], mismatches, [])))
    return first


def assert_expr_equal(left: sympy.Expr, right: sympy.Expr) -> None:
    """Assert two SymPy expressions are identical as rational functions: expand(cancel(left − right)) == 0.

    >>> x = sympy.Symbol("x")
    >>> assert_expr_equal((x + 1) ** 2, x**2 + 2 * x + 1)
    """
    __tracebackhide__ = True
    difference = sympy.expand(sympy.cancel(sympy.sympify(left) - sympy.sympify(right)))
    if difference != 0:
        title = "the expressions differ"
        text = f"{title}:\n  left:       {left}\n  right:      {right}\n  left−right: {difference}"

        def latex() -> str:
            from .report.failure import expr_latex

            return expr_latex(left, right, difference)
        _fail(FailureReport(title, text, latex))


def _grid_points(grid: Mapping[Any, Iterable[Any]] | Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    if isinstance(grid, Mapping):
        names = [str(k) for k in grid]
        return [dict(zip(names, values)) for values in itertools.product(*(list(v) for v in grid.values()))]
    return [{str(k): v for k, v in point.items()} for point in grid]


def assert_closed_form(
    expr: sympy.Expr, count_fn: Callable[..., Any], grid: Mapping[Any, Iterable[Any]] | Iterable[Mapping[Any, Any]],
    *, max_rows: int = 10,
) -> int:
    """Assert ``expr`` equals ``count_fn(**point)`` exactly at every point of ``grid``; the number of points.

    ``grid`` maps symbol names (or Symbols) to values, and the cartesian product is checked — or it is an
    iterable of points (dicts). ``expr`` is evaluated by exact substitution; points where ``count_fn``
    raises :class:`~symconv.errors.SpecError` (e.g. a kernel larger than the input) are skipped.

    >>> n = sympy.Symbol("n")
    >>> assert_closed_form(n * (n + 1) / 2, lambda n: sum(range(n + 1)), {"n": range(10)})
    10
    """
    __tracebackhide__ = True
    expr = sympy.sympify(expr)
    symbols = {str(s): s for s in expr.free_symbols}
    points = _grid_points(grid)
    failures: list[tuple[dict[str, Any], Any, Any]] = []
    checked = 0
    for point in points:
        missing = set(symbols) - set(point)
        if missing:
            raise SpecError(f"grid must give a value for every symbol of expr; missing {', '.join(sorted(missing))}")
        try:
            counted = count_fn(**point)
        except SpecError:
            continue
        value = expr.subs({symbols[name]: v for name, v in point.items() if name in symbols})
        checked += 1
        if sympy.simplify(value - counted) != 0:
            failures.append((point, value, counted))
    if not checked:
        raise SpecError("grid gave no point where count_fn could be evaluated")
    if failures:
        title = f"closed form {expr} differs from the count at {len(failures)} of {checked} points"
        rows = [f"  {', '.join(f'{k}={v}' for k, v in p.items())}: formula {f}, count {c}" for p, f, c in failures[:max_rows]]
        more = [f"  … {len(failures) - max_rows} more"] if len(failures) > max_rows else []
        shown = failures[:max_rows]

        def latex() -> str:
            from .report.failure import closed_form_latex

            return closed_form_latex(expr, shown, len(failures), checked)
        _fail(FailureReport(title, "\n".join([title, *rows, *more]), latex))
    return checked
