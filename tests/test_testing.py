"""symconv.testing: each assertion passes on true statements and fails readably on false ones.

Cross-checks are against what the assertion did not compute: PyTorch for implementations, a brute-force
count of window positions for the output-size formula, SymPy's own expansion for identities.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sympy
import torch.nn.functional as F

from symconv import ConvSpec, matrix
from symconv.errors import NotEquivalentError, SpecError
from symconv.testing import (
    SPECS,
    FailureReport,
    assert_closed_form,
    assert_conv_equivalent,
    assert_diagnosed,
    assert_expr_equal,
    assert_implements_conv,
    assert_same_implementation,
)
from tests.buggy_convs import flipped_kernel, reference


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")
def test_default_table_runs_through_the_plugin_fixture(symconv_spec, symconv_specs):
    """No marker here: the plugin's own table; each of its layers verifies against PyTorch."""
    assert symconv_specs == SPECS
    assert symconv_spec in SPECS.values()
    params = {"stride": symconv_spec.stride, "padding": symconv_spec.padding, "dilation": symconv_spec.dilation,
              "groups": symconv_spec.groups}
    if symconv_spec.bias == "per_location":
        assert_implements_conv(lambda x, w, b: F.conv2d(x, w, None, **params) + b, symconv_spec)
    else:
        assert_implements_conv(F.conv2d, symconv_spec, pass_params=True)


@pytest.mark.symconv_specs({"tiny": ConvSpec(1, 1, input_size=2, kernel_size=1), "pair": ConvSpec(2, 2, 3, 2)})
def test_marker_gives_the_table(symconv_spec, symconv_specs):
    assert list(symconv_specs) == ["tiny", "pair"]
    assert symconv_spec in symconv_specs.values()


def test_implements_conv_failure_is_an_assertion_with_table_and_diagnosis():
    spec = ConvSpec(2, 3, input_size=5, kernel_size=3)
    with pytest.raises(AssertionError) as info:
        assert_implements_conv(flipped_kernel(spec), spec)
    error = info.value
    assert isinstance(error, NotEquivalentError)
    text = str(error)
    assert "FAILS" in text and "diagnosis:" in text and "flipped-kernel" in text
    assert "expected: b_0 + omega_0,0,0,0*x_0,0,0" in text and "found:" in text and "missing:" in text
    assert isinstance(error.report, FailureReport)
    assert r"\omega_{0,0,2,2}" in error.report.latex  # the mismatch table in LaTeX


def test_conv_equivalent_catches_a_corrupted_matrix():
    spec = ConvSpec(1, 2, input_size=3, kernel_size=2)
    good = matrix(spec)
    assert assert_conv_equivalent(spec, good).holds
    bad = good.copy()
    bad[0, 0], bad[0, 1] = good[0, 1], good[0, 0]  # two weights exchanged in the first row
    with pytest.raises(NotEquivalentError, match=r"FAILS") as info:
        assert_conv_equivalent(spec, bad)
    assert "first mismatch at output y[0, 0, 0]" in str(info.value)


def _output_positions(n: int, k: int, s: int, p: int, d: int) -> int:
    """Count output positions by sliding the dilated window over the padded input, one step at a time."""
    if n < 1 or k < 1 or s < 1 or d < 1 or p < 0 or d * (k - 1) + 1 > n + 2 * p:
        raise SpecError("window does not fit")
    return sum(1 for start in range(0, n + 2 * p) if start % s == 0 and start + d * (k - 1) <= n + 2 * p - 1)


GRID = {"n": range(1, 9), "k": range(1, 5), "s": range(1, 4), "p": range(0, 3), "d": range(1, 3)}


def test_closed_form_of_the_output_size_against_brute_force():
    n, k, s, p, d = sympy.symbols("n k s p d", integer=True)
    formula = sympy.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1
    checked = assert_closed_form(formula, _output_positions, GRID)
    fits = [v for v in itertools.product(*GRID.values()) if v[4] * (v[1] - 1) + 1 <= v[0] + 2 * v[3]]
    assert checked == len(fits) > 400  # every point where the window fits was compared


def test_closed_form_failure_lists_the_points():
    n, k, s, p, d = sympy.symbols("n k s p d", integer=True)
    wrong = (n + 2 * p - d * (k - 1) - 1) / s + 1  # no floor: wrong whenever s does not divide
    with pytest.raises(NotEquivalentError) as info:
        assert_closed_form(wrong, _output_positions, GRID, max_rows=3)
    text = str(info.value)
    assert text.splitlines()[0].startswith("closed form ")
    assert "differs from the count at" in text and "… " in text
    first = text.splitlines()[1]
    assert first.startswith("  n=") and "formula " in first and "count " in first
    assert r"\begin{tabular}" in info.value.report.latex


def test_closed_form_grid_errors():
    n, k = sympy.symbols("n k")
    with pytest.raises(SpecError, match=r"^grid must give a value for every symbol of expr; missing k$"):
        assert_closed_form(n - k, lambda n: n, {"n": [1]})
    with pytest.raises(SpecError, match=r"^grid gave no point where count_fn could be evaluated$"):
        assert_closed_form(n, lambda n: _output_positions(n, 5, 1, 0, 1), {"n": [1, 2]})


def test_closed_form_accepts_a_list_of_points():
    n = sympy.Symbol("n")
    assert assert_closed_form(2**n, lambda n: len(list(itertools.product([0, 1], repeat=n))),
                              [{"n": 0}, {"n": 3}, {"n": 5}]) == 3


def test_expr_equal():
    a, b = sympy.symbols("a b")
    assert_expr_equal((a + b) ** 3, sympy.expand((a + b) ** 3))
    assert_expr_equal(a / (a * b), 1 / b)
    with pytest.raises(NotEquivalentError, match=r"^the expressions differ:\n  left: .*\n  right: .*\n  left−right: 2\*a\*b$"):
        assert_expr_equal((a + b) ** 2, a**2 + b**2)


def test_diagnosed_fails_when_the_code_is_correct_or_the_diagnosis_differs():
    spec = ConvSpec(2, 2, input_size=5, kernel_size=3)
    correct = r"^expected the diagnosis 'flipped-kernel', but it implements the layer exactly"
    with pytest.raises(NotEquivalentError, match=correct):
        assert_diagnosed(reference(spec), spec, "flipped-kernel")
    other = r"^expected the diagnosis 'bias-missing', but the diagnosis is flipped-kernel"
    with pytest.raises(NotEquivalentError, match=other):
        assert_diagnosed(flipped_kernel(spec), spec, "bias-missing")


def test_diagnosed_on_a_sampled_agreement_does_not_claim_exactness():
    spec = ConvSpec(2, 2, input_size=5, kernel_size=3)
    with pytest.raises(NotEquivalentError, match=r"^expected the diagnosis 'flipped-kernel', but no difference was found "
                                                 r"\(AGREES \(sampled, exact values\)\)"):
        assert_diagnosed(F.conv2d, spec, "flipped-kernel", pass_params=True)


def test_require_exact_passes_a_proof_and_fails_a_sampled_agreement():
    spec = ConvSpec(2, 2, input_size=4, kernel_size=3)
    assert assert_implements_conv(reference(spec), spec, require_exact=True).proved
    with pytest.raises(NotEquivalentError, match=r"^require_exact: AGREES \(sampled, exact values\) is not a proof "
                                                 r"\(method onehot; only 'symbolic' proves\)\n") as info:
        assert_implements_conv(F.conv2d, spec, pass_params=True, require_exact=True)
    assert info.value.report.latex.startswith(r"\textbf{require\_exact: AGREES (sampled, exact values) is not a proof")


def test_failure_latex_keeps_non_ascii_text():
    """ω, ≠, subscripts and the like print as LaTeX (they once became "?"); what pdflatex cannot print is named."""
    spec = ConvSpec(1, 2, input_size=4, kernel_size=2)
    shifted = lambda x, w, b: reference(spec)(x, w, b) + 1  # noqa: E731
    with pytest.raises(NotEquivalentError) as info:
        assert_implements_conv(shifted, spec, method="onehot")
    latex = info.value.report.latex
    assert "?" not in latex
    assert r"fn(0, 0, 0) \ensuremath{\ne} 0" in latex  # from the diagnosis "constant term (fn(0, 0, 0) ≠ 0)"
    assert r"y[0] \ensuremath{\ni} 1" in latex
    # what escape_tex cannot print comes out as its Unicode name, so a report never fails to build
    assert "[snowman]" in info.value.report.document("t.py::test[☃]")
    assert r"\ensuremath{\omega}" in info.value.report.document("t.py::test[ω₃]")
    assert r"\ensuremath{\omega}\textsubscript{3}" in info.value.report.document("t.py::test[ω₃]")


def test_importing_testing_and_failing_do_not_load_jinja_until_the_latex_is_built():
    code = r"""
import sys
import symconv.testing as t
from symconv import ConvSpec
assert "jinja2" not in sys.modules, "import"
spec = ConvSpec(1, 1, input_size=3, kernel_size=2)
try:
    t.assert_implements_conv(lambda x, w, b: x[:, :1, :2, :2] * 0, spec)
except AssertionError as error:
    report = error.report
assert "jinja2" not in sys.modules, "failure"
assert report.latex.startswith("\\textbf{"), report.latex[:50]
assert "jinja2" in sys.modules, "latex"
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr[-2000:]


def test_failure_latex_is_written_by_the_report_package_and_loaded_only_on_demand():
    code = r"""
import sys
import sympy
import symconv.testing as t
loaded = sorted(m for m in sys.modules if m == "jinja2" or m.startswith(("jinja2.", "symconv.report")))
assert not loaded, loaded
a = sympy.Symbol("a")
try:
    t.assert_expr_equal(a + 1, a)
except AssertionError as error:
    report = error.report
assert "symconv.report.failure" not in sys.modules and "jinja2" not in sys.modules, "failure"
assert report.document("t.py::test").startswith("\documentclass"), report.document("t.py::test")[:50]
assert "symconv.report.failure" in sys.modules and "jinja2" in sys.modules, "document"
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr[-2000:]


def test_same_implementation():
    spec = ConvSpec(2, 2, input_size=5, kernel_size=3, padding=1)
    torch_fn = lambda x, w, b: F.conv2d(x, w, b, padding=1)  # noqa: E731
    assert_same_implementation(reference(spec), torch_fn, spec)
    # two wrong implementations with the same bug are "the same"
    flipped = lambda x, w, b: F.conv2d(x, w.flip(-1, -2), b, padding=1)  # noqa: E731
    assert_same_implementation(flipped_kernel(spec), flipped, spec)
    with pytest.raises(NotEquivalentError, match=r"^the implementations differ at 50 of 50 outputs"):
        assert_same_implementation(reference(spec), flipped, spec)


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed (CI installs TeX Live)")
def test_failure_reports_compile_with_latex(tmp_path):
    spec = ConvSpec(2, 3, input_size=5, kernel_size=3, bias="per_location")
    reports = []
    shifted = lambda x, w, b: reference(spec)(x, w, b) + 1  # noqa: E731  (its diagnosis has "≠" and "∋")
    for fn in (flipped_kernel(spec), lambda x, w, b: np.zeros((x.shape[0], 3, 3, 3), dtype=x.dtype), shifted):
        with pytest.raises(NotEquivalentError) as info:
            assert_implements_conv(fn, spec)
        reports.append(info.value.report)
    n = sympy.Symbol("n")
    with pytest.raises(NotEquivalentError) as info:
        assert_closed_form(n / 2, lambda n: n // 2, {"n": range(4)})
    reports.append(info.value.report)
    for number, report in enumerate(reports):
        path = tmp_path / f"r{number}.tex"
        path.write_text(report.document(f"tests/test_x.py::test_{number}[a_b]"), encoding="utf-8")
        done = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", path.name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
        assert (tmp_path / f"r{number}.pdf").stat().st_size > 1000


# The example the README shows (kept here verbatim so that it is run).
README_EXAMPLE = '''\
import numpy as np
from symconv import ConvSpec
from symconv.testing import assert_implements_conv

def my_conv(x, w, b):       # x (N, C1, H, W), w (C2, C1, h, w), b (C2,): a valid cross-correlation
    H, W = x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1
    return b[:, None, None] + sum(np.einsum("nlrc,il->nirc", x[:, :, m:m + H, n:n + W], w[:, :, m, n])
                                  for m, n in np.ndindex(*w.shape[2:]))

def test_my_conv():         # on failure: the outputs that differ, and the bug by name (e.g. flipped-kernel)
    assert_implements_conv(my_conv, ConvSpec(3, 8, input_size=6, kernel_size=3))
'''


def test_readme_example_runs_and_catches_a_flip():
    namespace: dict = {}
    exec(compile(README_EXAMPLE, "README-example", "exec"), namespace)
    namespace["test_my_conv"]()
    original = namespace["my_conv"]
    namespace["my_conv"] = lambda x, w, b: original(x, w[:, :, ::-1, ::-1], b)
    with pytest.raises(NotEquivalentError, match="flipped-kernel: kernel flipped on both axes"):
        namespace["test_my_conv"]()
