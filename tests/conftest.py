"""Shared fixtures; CI's rule that a test never skips there for lack of a tool CI installs; the slow tests.

The few slow tests (PDF builds with latexmk, sizes in the tens of millions, cross-process determinism) are
marked ``slow`` here, in one list. They always run in CI (``CI`` set, as ``.ci/run`` does) and with ``--slow``;
a plain local ``python -m pytest`` leaves them out and says how many it left out.
"""

import os
import re

import numpy as np
import pytest

#: skip reasons that mean "a tool or file is missing on this machine" (CI installs all of them: .ci/run)
_MISSING = re.compile(r"not installed|could not import|No module named|not on this machine", re.IGNORECASE)


#: node ids (or their prefixes) of the slow tests
SLOW = (
    "tests/test_report_pdf.py",
    "tests/test_report_paper.py",
    "tests/test_report_math.py",
    "tests/test_report_snapshots.py::test_snapshot_compiles",
    "tests/test_report_render.py::test_same_input_gives_byte_identical_tex_across_processes",
    "tests/test_report_cli.py::test_report_pdf_lands_next_to_the_tex",
    "tests/test_testing.py::test_failure_reports_compile_with_latex",
    "tests/test_receptive_check.py::test_no_wrong_claim_passes_on_small_one_layer_stacks",
    "tests/test_soundness.py::test_index_engine_catches_one_wrong_entry_in_85_million",
    "tests/test_report_transposed.py::test_theorem_2_compiles_with_pdflatex",
    "tests/test_report_backward.py::test_compiles_with_pdflatex",
    "tests/test_report_padding_modes.py::test_reports_compile",
)


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the slow tests (PDF builds, large sizes); CI always does")


def pytest_collection_modifyitems(config, items):
    slow = [item for item in items if item.nodeid.startswith(SLOW)]
    for item in slow:
        item.add_marker(pytest.mark.slow)
    if config.getoption("--slow") or os.environ.get("CI") or not slow:
        return
    config.hook.pytest_deselected(items=slow)
    items[:] = [item for item in items if not item.nodeid.startswith(SLOW)]


def pytest_terminal_summary(terminalreporter, config):
    if not (config.getoption("--slow") or os.environ.get("CI")):  # said by the controller too (xdist workers collect)
        terminalreporter.write_line("the slow tests (PDF builds, large sizes: tests/conftest.py SLOW) were left out; "
                                    "run them with --slow (CI always does)")


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if _MISSING.search(reason):
            report.outcome = "failed"
            report.longrepr = f"skipped in CI, where .ci/run installs every tool the tests need: {reason}"
