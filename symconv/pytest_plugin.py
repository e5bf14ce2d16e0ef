"""pytest plugin (entry point ``pytest11: symconv``): a spec-table fixture and LaTeX reports of failures.

* ``symconv_spec`` — a test that takes this argument runs once per layer of a table: by default
  :data:`symconv.testing.SPECS`, or your own ``{id: ConvSpec}`` given with
  ``@pytest.mark.symconv_specs(TABLE)`` on the test, its class or module (``pytestmark``).
* ``symconv_specs`` — the table itself (the marked one, or the default), as a dict.
* ``--symconv-report DIR`` — every test that fails with a symconv assertion
  (a :class:`~symconv.errors.NotEquivalentError` whose ``report`` is a :class:`~symconv.testing.FailureReport`) writes
  ``DIR/<test id>-<hash>.tex``, a complete LaTeX document (:mod:`symconv.report.failure`) with the layer, the
  diagnosis and the mismatching outputs, written atomically (:func:`symconv.report.output.write_atomic`).

::

    from symconv.testing import assert_implements_conv

    def test_my_conv(symconv_spec):
        assert_implements_conv(make_my_conv(symconv_spec), symconv_spec)
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from .core.spec import ConvSpec
from .errors import NotEquivalentError
from .testing import SPECS, FailureReport

__all__ = ["report_path"]

_MARKER = "symconv_specs"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("symconv", "symconv: exact convolution checks")
    group.addoption("--symconv-report", metavar="DIR", default=None,
                    help="write a LaTeX report of every failed symconv assertion into DIR")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_MARKER}(table): run tests that take `symconv_spec` once per layer of table, a dict id → ConvSpec"
    )


def _table(node: Any) -> dict[str, ConvSpec]:
    marker = node.get_closest_marker(_MARKER)
    if marker is None:
        return dict(SPECS)
    if len(marker.args) != 1 or not isinstance(marker.args[0], Mapping):
        raise pytest.UsageError(f"@pytest.mark.{_MARKER} takes one dict {{id: ConvSpec}}, got {marker.args!r}")
    table = dict(marker.args[0])
    bad = [k for k, v in table.items() if not isinstance(v, ConvSpec)]
    if bad:
        raise pytest.UsageError(f"@pytest.mark.{_MARKER}: values must be ConvSpec; {bad[0]!r} is not")
    return table


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "symconv_spec" in metafunc.fixturenames:
        table = _table(metafunc.definition)
        metafunc.parametrize("symconv_spec", list(table.values()), ids=list(table))


@pytest.fixture
def symconv_specs(request: pytest.FixtureRequest) -> dict[str, ConvSpec]:
    """The spec table of this test: the one given with ``@pytest.mark.symconv_specs``, or symconv's default."""
    return _table(request.node)


def report_path(directory: str | os.PathLike, nodeid: str) -> Path:
    """Where the report of test ``nodeid`` goes: the id's safe characters (at most 160), then a hash of the id.

    The hash (8 hex digits of SHA-256 of the full id) keeps two ids apart that differ only in unsafe
    characters or beyond the cut, so one report never overwrites another.

    >>> report_path("out", "tests/test_x.py::test_y[case-1]").as_posix()
    'out/tests_test_x.py_test_y_case-1-08c89d17.tex'
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_") or "test"
    digest = hashlib.sha256(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return Path(directory) / f"{name[:160]}-{digest}.tex"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    directory = item.config.getoption("--symconv-report")
    if not directory or call.excinfo is None:
        return
    error = call.excinfo.value
    if not isinstance(error, NotEquivalentError) or not isinstance(error.report, FailureReport):
        return
    if outcome.get_result().failed:
        from .report.output import write_atomic  # only now: the report package loads Jinja

        path = report_path(directory, item.nodeid)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, error.report.document(item.nodeid))  # the LaTeX comes from symconv.report.failure
