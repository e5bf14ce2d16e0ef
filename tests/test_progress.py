"""Progress on stderr: drawn only on a terminal and never with --quiet/--json; fed by the engines' callback."""

from __future__ import annotations

import argparse
import io

import pytest

from symconv import ConvSpec, verify
from symconv.cli import progress as progress_module


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("flags, stream, shown", [
    ({}, Terminal(), True),
    ({"quiet": True}, Terminal(), False),
    ({"json": True}, Terminal(), False),
    ({}, io.StringIO(), False),  # a pipe or a file: nothing
])
def test_wanted_only_on_a_terminal_without_quiet_or_json(flags, stream, shown):
    assert progress_module.wanted(argparse.Namespace(**flags), stream) is shown


@pytest.mark.parametrize("method", ["index", "sympy"])
def test_the_bar_follows_the_engine_to_the_end(monkeypatch, method):
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    stream, calls = Terminal(), []
    spec = ConvSpec(3, 4, input_size=9, kernel_size=3, padding=1)
    with progress_module.progress_bar(argparse.Namespace(), stream=stream) as progress:
        assert progress is not None

        def record(done: int, total: int) -> None:
            calls.append((done, total))
            progress(done, total)

        assert verify(spec, method=method, progress=record).holds
    total = spec.n_terms + spec.n_bias_terms
    assert calls[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))  # done never decreases
    assert "terms" in stream.getvalue()


def test_no_bar_no_output():
    stream = Terminal()
    with progress_module.progress_bar(argparse.Namespace(quiet=True), stream=stream) as progress:
        assert progress is None
    assert stream.getvalue() == ""


def test_verify_command_draws_on_a_terminal_and_not_with_quiet(monkeypatch, capsys):
    from symconv.cli import main

    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr("sys.stderr", Terminal())
    layer = ["verify", "--in-channels", "3", "--out-channels", "4", "--input", "9", "--kernel", "3", "--method", "index"]
    assert main(layer) == 0
    import sys

    assert "terms" in sys.stderr.getvalue()
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main([*layer, "--quiet"]) == 0
    assert sys.stderr.getvalue() == ""
    assert "HOLDS" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["audit", "--no-torch", "--max-size", "2"],
    ["report", "--in-channels", "1", "--out-channels", "1", "--input", "3", "--kernel", "2", "-o", "{tmp}/r.tex"],
])
def test_audit_and_report_draw_on_a_terminal_and_not_with_quiet(monkeypatch, tmp_path, argv):
    import sys

    from symconv.cli import main

    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main(argv) in (0, 1)  # the audit exits 1: the note's claims fail as written
    assert ("claims" if argv[0] == "audit" else "stages") in sys.stderr.getvalue()
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main([*argv, "--quiet"]) in (0, 1)
    assert sys.stderr.getvalue() == ""
