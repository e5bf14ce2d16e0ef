"""Using a report inside one's own paper: --body-only fragments, --template-dir overrides, -o -, titles with math,
the engine, and LaTeX's warnings on the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import symconv.report
from symconv import ConvSpec
from symconv.cli import main
from symconv.errors import SpecError
from symconv.report import PdfResult, build_pdf, spec_report
from symconv.report.render import title_tex

LAYER = ["--in-channels", "1", "--out-channels", "2", "--input", "3x4", "--kernel", "2x2"]
SPEC = ConvSpec(1, 2, input_size=(3, 4), kernel_size=2)

# A paper with its own \W, its own theorem environment and its own bibliography-style label.
PAPER = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb,amsthm,array,booktabs,enumitem,xcolor,tikz,hyperref}
\usetikzlibrary{decorations.pathreplacing}
\newcommand{\W}{\mathbf{W}}
\newtheorem{theorem}{Theorem}
\begin{document}
\section{Our own work}\label{sec:proof}
Our $\W$ is not symconv's. \begin{theorem}Ours.\end{theorem}
\input{fragment}
\input{fragment}
See Section~\ref{sec:proof}.
\end{document}
"""


def test_body_only_fragment_inputs_into_a_paper_with_its_own_macros(tmp_path):
    fragment = spec_report(SPEC, body_only=True)
    assert r"\documentclass" not in fragment and r"\begin{document}" not in fragment
    header = fragment.split("\n\\providecommand", 1)[0]
    assert r"\symconvW" in header and "symconvtheorem" in header and r"\usepackage{" in header
    assert r"\newcommand{\W}" not in fragment and r"\W " not in fragment and r"\W_" not in fragment
    # \input twice (two layers in one paper): everything symconv defines is guarded
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "fragment.tex").write_text(fragment, encoding="utf-8")
    tex = PAPER.replace(r"\input{fragment}", r"\input{" + str(paper / "fragment") + "}")
    result = build_pdf(tex, paper / "paper.pdf")
    assert result.undefined_references == () and result.pages >= 2


def test_template_dir_overrides_one_section_by_name(tmp_path):
    (tmp_path / "section_counts.tex.j2").write_text(
        "\\section{Counts, our way}\nParameters: \\VAR{counts.rows | length} rows.\n", encoding="utf-8")
    tex = spec_report(SPEC, template_dir=tmp_path)
    assert r"\section{Counts, our way}" in tex and r"\section{Counts: sizes" not in tex
    assert r"\section{The index sum}" in tex  # every other template is still the package's
    assert main(["report", *LAYER, "--template-dir", str(tmp_path), "-o", str(tmp_path / "r.tex")]) == 0
    assert r"\section{Counts, our way}" in (tmp_path / "r.tex").read_text()
    with pytest.raises(SpecError, match=r"^template directory '.*nowhere' does not exist$"):
        spec_report(SPEC, template_dir=tmp_path / "nowhere")


def test_output_dash_writes_the_tex_to_stdout(capsys):
    assert main(["report", *LAYER, "-o", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\documentclass") and out.rstrip().endswith(r"\end{document}")
    assert main(["report", *LAYER, "-o", "-", "--pdf"]) == 2
    assert "-o - writes the LaTeX to stdout; --pdf needs a file name" in capsys.readouterr().err


def test_title_math_is_kept_and_everything_else_escaped():
    tex = spec_report(SPEC, title=r"The map $x \mapsto \mathcal{W}x + b$ & 50%", date="1 May 2026")
    assert r"\title{The map $x \mapsto \mathcal{W}x + b$ \& 50\%}" in tex
    assert r"pdftitle={The map x mapsto Wx + b \& 50\%}" in tex and r"\date{1 May 2026}" in tex
    for hostile, word in ((r"$\input{/etc/passwd}$", r"\\input"), (r"$\def\x{1}$", r"\\def"), ("${a$", "braces")):
        with pytest.raises(SpecError, match=word):
            title_tex(hostile)
    assert title_tex("$a$ costs $5") == r"\$a\$ costs \$5"  # an unpaired $: no math, all literal


def test_the_default_title_carries_the_whole_layer():
    tex = spec_report(ConvSpec(2, 2, input_size=(7, 6), kernel_size=3, stride=2, padding=1, dilation=(1, 2),
                               bias="none"))
    assert r"stride 2, padding 1, dilation 1\ensuremath{\times}2, no bias}" in tex


def test_the_date_is_never_the_clock(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert r"\date{}" in spec_report(SPEC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert r"\date{1 January 1970}" in spec_report(SPEC)


def _lualatex_works() -> bool:
    import subprocess

    return shutil.which("lualatex") is not None and subprocess.run(
        ["kpsewhich", "luaotfload-main.lua"], capture_output=True, text=True).stdout.strip() != ""


@pytest.mark.skipif(not _lualatex_works(), reason="LuaLaTeX with luaotfload (Debian: texlive-luatex) not installed")
def test_lualatex_lifts_the_latin_only_title_refusal(tmp_path, capsys):
    out = tmp_path / "r.tex"
    assert main(["report", *LAYER, "--title", "Faltung Ω ‖ ∗", "-o", str(out)]) == 2
    assert "--engine lualatex accepts it" in capsys.readouterr().err
    assert main(["report", *LAYER, "--title", "Faltung Ω ‖ ∗", "--engine", "lualatex", "-o", str(out), "--pdf"]) == 0
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert r"\usepackage{fontspec}" in out.read_text()


def test_the_cli_prints_latex_warnings(tmp_path, monkeypatch, capsys):
    def fake_build(tex, path, engine="pdflatex"):
        Path(path).write_bytes(b"%PDF")
        return PdfResult(Path(path), 3, 1, (), 2, ("LaTeX Warning: Something odd on input line 7.",))

    monkeypatch.setattr(symconv.report, "build_pdf", fake_build)  # the command imports it at run time
    assert main(["report", *LAYER, "-o", str(tmp_path / "r.tex"), "--pdf"]) == 0
    err = capsys.readouterr().err
    assert "pdflatex LaTeX Warning: Something odd on input line 7." in err and "2 overfull boxes" in err


# ----------------------------------------------------------------------------- the corrected note
NOTE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "convolutions.md"  # shared/ beside the checkout


@pytest.mark.skipif(not NOTE.exists(), reason="the lecture note's source is not on this machine")
def test_every_erratum_quotes_the_note_as_written():
    from symconv.report.sections.corrected import ERRATA

    text = NOTE.read_text(encoding="utf-8")
    assert [e.written for e in ERRATA if e.written not in text] == []
    for slip in ("runes", " ad ", "lemente", "the the"):
        assert any(slip in e.written for e in ERRATA), slip


def test_note_report_files_every_claim_under_the_notes_headings(tmp_path, capsys):
    assert main(["report", "--note", "--no-torch", "-o", str(tmp_path / "n.tex")]) == 0
    tex = (tmp_path / "n.tex").read_text()
    for heading in ("Formulation", "Matrix form", "Parameter counts", "Receptive fields", "Erratum: the prose"):
        assert rf"\section{{{heading}}}" in tex
    assert tex.count(r"\begin{symconvclaim}") == tex.count(r"\textbf{Verdict:}") >= 20
    assert main(["report", "--note", "--position", "1x1", "-o", str(tmp_path / "m.tex")]) == 2
    assert "--note takes no --position" in capsys.readouterr().err
