"""LaTeX → PDF: every example report compiles cleanly and is up to date; escaping survives pdflatex; failures are short.

These tests need TeX Live (pdflatex, latexmk) and poppler-utils (pdftotext); CI installs them (.ci/run), so
they are not skipped there.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from symconv import ConvSpec
from symconv.report import DEBIAN_PACKAGES, LatexError, TexNotFoundError, build_pdf, spec_report
from symconv.report.render import _UNICODE, escape_tex

ROOT = Path(__file__).resolve().parents[1]
NASTY = r"Title \input{/etc/passwd} $ % # _ { } ~ ^ & -- \\ end"


def _regenerate_module():
    spec = importlib.util.spec_from_file_location("regenerate", ROOT / "reports" / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGENERATE = _regenerate_module()


@pytest.fixture(scope="session")
def fresh_reports() -> dict[str, str]:
    """Every example's .tex, generated now (the audit once: it is the slow one)."""
    return {name: REGENERATE.tex_for(name) for name in REGENERATE.EXAMPLES}


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def _assert_clean(result) -> None:
    assert result.pages >= 1
    assert result.undefined_references == ()
    assert result.overfull_boxes == 0, "overfull boxes: a formula or table is wider than the text"
    assert not [w for w in result.warnings if "undefined" in w.lower() or "Rerun" in w]


# ----------------------------------------------------------------------------- the examples
@pytest.mark.parametrize("name", list(REGENERATE.EXAMPLES))
def test_committed_example_is_up_to_date(fresh_reports, name):
    committed = (ROOT / "reports" / f"{name}.tex").read_text(encoding="utf-8")
    assert committed == fresh_reports[name], (
        f"reports/{name}.tex is stale (the library or its templates changed); regenerate with: "
        f"python reports/regenerate.py {name}"
    )
    assert (ROOT / "reports" / f"{name}.pdf").stat().st_size > 0


@pytest.mark.parametrize("name", list(REGENERATE.EXAMPLES))
def test_example_compiles_without_errors_or_undefined_references(fresh_reports, name, tmp_path):
    result = build_pdf(fresh_reports[name], tmp_path / f"{name}.pdf")
    _assert_clean(result)
    text = _text(result.path)
    assert "Reproducibility" in text and f"reports/{name}.tex" in text


# ----------------------------------------------------------------------------- escaping
def test_hostile_title_prints_literally_and_reads_nothing(tmp_path):
    tex = spec_report(ConvSpec(1, 1, input_size=3, kernel_size=2), title=NASTY)
    result = build_pdf(tex, tmp_path / "nasty.pdf")
    _assert_clean(result)
    first_line = _text(result.path).strip().splitlines()[0].strip()
    assert first_line == NASTY
    assert "root:" not in _text(result.path)  # \input{/etc/passwd} was not executed


def test_every_supported_unicode_character_compiles(tmp_path):
    text = " ".join(sorted(_UNICODE)) + " Größe, café, naïve"
    tex = "\n".join([
        r"\documentclass{article}\usepackage[T1]{fontenc}\usepackage[utf8]{inputenc}\usepackage{lmodern}",
        r"\usepackage{amsmath,amssymb}\begin{document}", escape_tex(text), r"\end{document}",
    ])
    _assert_clean(build_pdf(tex, tmp_path / "unicode.pdf"))


# ----------------------------------------------------------------------------- failures
def test_latex_error_shows_the_relevant_log_lines_only(tmp_path):
    target = tmp_path / "bad.pdf"
    target.write_bytes(b"previous")
    tex = "\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedmacro{x}\n\\end{document}\n"
    with pytest.raises(LatexError) as caught:
        build_pdf(tex, target)
    message = str(caught.value)
    assert message.splitlines()[0] == "pdflatex failed on bad.tex:"
    assert "bad.tex:4: Undefined control sequence." in message and "l.4 \\undefinedmacro" in message
    assert len(message.splitlines()) <= 10 and "This is pdfTeX" not in message
    assert target.read_bytes() == b"previous"  # nothing moved into place
    assert list(tmp_path.iterdir()) == [target]


def test_missing_tex_is_one_line_naming_the_debian_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    with pytest.raises(TexNotFoundError) as caught:
        build_pdf(r"\documentclass{article}\begin{document}x\end{document}", tmp_path / "x.pdf")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("--pdf needs latexmk and pdflatex (TeX Live)")
    assert message.endswith("apt-get install " + " ".join(DEBIAN_PACKAGES))
    assert not (tmp_path / "x.pdf").exists()


def test_pdfs_are_reproducible(tmp_path):
    # same source, same file name (pdfTeX hashes the job name into the PDF's ID), another directory and time
    tex = spec_report(ConvSpec(1, 1, input_size=3, kernel_size=2))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build_pdf(tex, tmp_path / "a" / "r.pdf").path.read_bytes()
    second = build_pdf(tex, tmp_path / "b" / "r.pdf").path.read_bytes()
    assert first == second and b"/CreationDate (D:19700101000000Z)" in first
