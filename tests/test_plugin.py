"""The symconv pytest plugin, run in throwaway test sessions (pytester): fixtures, marker, --symconv-report."""

from __future__ import annotations

import hashlib
import re

import pytest

from symconv.pytest_plugin import report_path
from symconv.testing import SPECS

pytest_plugins = ["pytester"]

BUGGY = """
import numpy as np
from symconv import ConvSpec
from symconv.testing import assert_implements_conv

SPEC = ConvSpec(1, 2, input_size=4, kernel_size=2)

def flipped(x, w, b):   # a true convolution where a cross-correlation is meant
    w = w[:, :, ::-1, ::-1]
    y = np.zeros((x.shape[0], 2, 3, 3), dtype=x.dtype)
    for m in range(2):
        for n in range(2):
            y += np.einsum("nlrc,il->nirc", x[:, :, m:m + 3, n:n + 3], w[:, :, m, n])
    return y + b[None, :, None, None]

def test_flipped():
    assert_implements_conv(flipped, SPEC)

def test_plain_failure():
    assert 1 == 2
"""


def test_plugin_is_registered_by_entry_point(pytester):
    pytester.makepyfile("def test_x(pytestconfig):\n    assert pytestconfig.pluginmanager.has_plugin('symconv')\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_symconv_spec_runs_over_the_default_table(pytester):
    pytester.makepyfile("""
        from symconv import ConvSpec
        def test_each(symconv_spec, symconv_specs):
            assert isinstance(symconv_spec, ConvSpec) and symconv_spec in symconv_specs.values()
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=len(SPECS))
    result.stdout.fnmatch_lines([f"*test_each?{name}? PASSED*" for name in SPECS])


def test_marker_supplies_a_user_table_to_module_class_or_function(pytester):
    pytester.makepyfile("""
        import pytest
        from symconv import ConvSpec
        MINE = {"a": ConvSpec(1, 1, input_size=3, kernel_size=2), "b": ConvSpec(2, 2, input_size=4, kernel_size=3)}
        pytestmark = pytest.mark.symconv_specs(MINE)

        def test_module(symconv_spec):
            assert symconv_spec in MINE.values()

        @pytest.mark.symconv_specs({"only": ConvSpec(3, 3, input_size=5, kernel_size=1)})
        def test_function(symconv_spec):
            assert symconv_spec.in_channels == 3
    """)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_module?a? PASSED*", "*test_module?b? PASSED*", "*test_function?only? PASSED*"])


def test_marker_misuse_is_a_usage_error(pytester):
    pytester.makepyfile("""
        import pytest
        @pytest.mark.symconv_specs([1, 2])
        def test_x(symconv_spec):
            pass
    """)
    result = pytester.runpytest()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*UsageError: @pytest.mark.symconv_specs takes one dict {id: ConvSpec}, got ([[]1, 2[]],)*"])


def test_report_option_writes_latex_for_symconv_failures_only(pytester):
    pytester.makepyfile(test_buggy=BUGGY)
    out = pytester.path / "reports"
    result = pytester.runpytest(f"--symconv-report={out}")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*NotEquivalentError*", "*flipped-kernel: kernel flipped on both axes*"])
    files = sorted(p.name for p in out.iterdir())
    assert files == [report_path(out, "test_buggy.py::test_flipped").name]  # the plain `assert 1 == 2` writes nothing
    assert re.fullmatch(r"test_buggy\.py_test_flipped-[0-9a-f]{8}\.tex", files[0])
    text = (out / files[0]).read_text()
    assert text.startswith("\\documentclass") and text.rstrip().endswith("\\end{document}")
    assert "flipped-kernel" in text and r"\omega_{" in text and "test\\_buggy.py::test\\_flipped" in text


def test_without_the_option_nothing_is_written(pytester):
    pytester.makepyfile(test_buggy=BUGGY)
    pytester.runpytest().assert_outcomes(failed=2)
    assert not list(pytester.path.glob("**/*.tex"))


@pytest.mark.parametrize("flag", ["--help"])
def test_option_is_documented(pytester, flag):
    pytester.runpytest(flag).stdout.fnmatch_lines(["*--symconv-report=DIR*"])


def test_report_names_keep_apart_ids_that_differ_beyond_the_cut_or_in_unsafe_characters():
    long = "tests/test_x.py::test_y[" + "a" * 300
    ids = [long + "1]", long + "2]", "t.py::test[a b]", "t.py::test[a_b]", "t.py::test[a/b]"]
    paths = [report_path("out", nodeid) for nodeid in ids]
    assert len(set(paths)) == len(ids)
    for nodeid, path in zip(ids, paths):  # the suffix is SHA-256 of the full id, computed here independently
        assert path.name.endswith(f"-{hashlib.sha256(nodeid.encode()).hexdigest()[:8]}.tex")
        assert len(path.name) <= 160 + 1 + 8 + 4
    assert report_path("out", ids[0]) == paths[0]  # stable


def test_two_long_failing_ids_write_two_reports(pytester):
    pytester.makepyfile(test_long=BUGGY.replace("def test_flipped():", f"""import pytest
@pytest.mark.parametrize("case", ["{'x' * 250}1", "{'x' * 250}2"])
def test_flipped(case):"""))
    out = pytester.path / "reports"
    pytester.runpytest(f"--symconv-report={out}").assert_outcomes(failed=3)
    assert len(list(out.iterdir())) == 2  # before the hash, both cut to the same 200 characters: one overwrote the other
