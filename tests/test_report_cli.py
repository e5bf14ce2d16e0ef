"""``symconv report`` in-process: files written, the command recorded, one-line errors, LaTeX errors with the log lines."""

from __future__ import annotations

import pytest

from symconv.cli import main
from symconv.cli.commands import report as report_command

LAYER = ["--in-channels", "1", "--out-channels", "2", "--input", "3x4", "--kernel", "2x2"]


def test_report_writes_tex_with_the_canonical_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *LAYER, "--stride", "1", "--bias", "none", "-o", "r.tex"]) == 0
    assert capsys.readouterr().out == "wrote r.tex\n"
    tex = (tmp_path / "r.tex").read_text()
    # defaults dropped, the rest in a fixed order: the same report from the same layer, however it was typed
    assert "symconv report -{}-in-channels 1 -{}-out-channels 2 -{}-input 3x4 -{}-kernel 2x2 -{}-bias none -o r.tex" in tex
    reordered = ["--kernel", "2x2", "--bias", "none", "--input", "3x4", "--out-channels", "2", "--in-channels", "1"]
    assert main(["report", *reordered, "-o", "s.tex"]) == 0
    assert (tmp_path / "s.tex").read_text() == tex.replace("-o r.tex", "-o s.tex")


def test_report_pdf_lands_next_to_the_tex(tmp_path, capsys):
    out = tmp_path / "r.tex"
    assert main(["report", *LAYER, "-o", str(out), "--pdf", "--title", "A & B"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote {out}" and lines[1].startswith(f"wrote {out.with_suffix('.pdf')} (")
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert r"\title{A \& B}" in out.read_text()


def test_layers_and_audit_reports(tmp_path):
    assert main(["report", "--layers", "conv:k=3", "maxpool:k=2,s=2", "--input", "8x8", "-o", str(tmp_path / "l.tex")]) == 0
    assert r"\section{The stack, layer by layer}" in (tmp_path / "l.tex").read_text()
    assert main(["report", "--audit", "--no-torch", "-o", str(tmp_path / "a.tex")]) == 0
    text = (tmp_path / "a.tex").read_text()
    assert r"\section{The note's claims, checked}" in text and "PyTorch was not consulted" in text


@pytest.mark.parametrize(
    "args,message",
    [
        ([*LAYER, "-o", "r.pdf"], "-o must name a .tex file (the PDF goes next to it), got 'r.pdf'"),
        ([*LAYER, "-o", "missing/r.tex"], "-o: directory 'missing' does not exist"),
        (["--in-channels", "1", "-o", "r.tex"],
         "the layer to report on is incomplete: --out-channels, --input, --kernel required (or --layers, --audit, --note)"),
        (["--layers", "conv:k=3", "-o", "r.tex"], "--layers needs --input HxW, the size of the stack's input"),
        (["--layers", "pool:k=2", "--input", "8", "-o", "r.tex"],
         "kind must be 'conv', 'maxpool', 'avgpool' or 'tconv', got 'pool'"),
        ([*LAYER, "--position", "1-1", "-o", "r.tex"], "--position must be JxK with 0-based ints (e.g. 0x0), got '1-1'"),
        ([*LAYER, "--position", "5x0", "-o", "r.tex"], "position must be within 0..1 x 0..2 (0-based), got (5, 0)"),
        ([*LAYER, "--title", "snow ☃", "-o", "r.tex"],
         "--title: text must be printable by pdflatex; '☃' (U+2603) is not supported (--engine lualatex accepts it)"),
        ([*LAYER, "--stride", "0", "-o", "r.tex"], "stride must be ≥ 1, got 0"),
        (["--audit", "--in-channels", "2", "-o", "r.tex"], "--audit takes no layer arguments, got --in-channels"),
        (["--layers", "conv:k=3", "--input", "8", "--stride", "2", "-o", "r.tex"],
         "--layers takes no layer arguments, got --stride"),
        ([*LAYER, "--no-torch", "-o", "r.tex"], "--no-torch applies to --audit and --note only"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *args]) == 2
    err = capsys.readouterr().err
    assert err == f"symconv report: error: {message}\n"
    assert not (tmp_path / "r.tex").exists()


def test_missing_tex_is_one_line_and_keeps_the_tex(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["report", *LAYER, "-o", str(tmp_path / "r.tex"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install texlive-latex-base" in err and "latexmk" in err
    assert (tmp_path / "r.tex").exists() and not (tmp_path / "r.pdf").exists()


def test_latex_error_prints_the_log_lines_not_the_log(tmp_path, monkeypatch, capsys):
    broken = "\\documentclass{article}\n\\begin{document}\n\\nosuchmacro\n\\end{document}\n"
    monkeypatch.setattr(report_command, "document", lambda args: broken)
    assert main(["report", *LAYER, "-o", str(tmp_path / "r.tex"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symconv report: error: pdflatex failed on r.tex:\n")
    assert "r.tex:3: Undefined control sequence." in err and "l.3 \\nosuchmacro" in err and err.count("\n") <= 12
    assert not (tmp_path / "r.pdf").exists()
