"""The Jinja layer of the reports: escaping, the guard on every \\VAR{}, strictness, templates, atomic writes, determinism."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
import sympy

from symconv import SpecError
from symconv.report import escape_tex, write_atomic
from symconv.report.render import _UNICODE, environment, prose, render, texjoin
from symconv.report.sections import footer

TEMPLATES = Path(__file__).resolve().parents[1] / "symconv" / "report" / "templates"
DOCUMENTS = ("spec_report.tex.j2", "layers_report.tex.j2", "audit_report.tex.j2", "note_report.tex.j2", "nd_report.tex.j2",
             "transposed_report.tex.j2", "backward_report.tex.j2", "mode_report.tex.j2")


# ------------------------------------------------------------------------------------ escaping
@pytest.mark.parametrize(
    "text,expected",
    [
        ("\\", r"\textbackslash{}"), ("{", r"\{"), ("}", r"\}"), ("$", r"\$"), ("%", r"\%"), ("#", r"\#"),
        ("_", r"\_"), ("&", r"\&"), ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}"),
        ("--", "-{}-"), ("<<", r"\textless{}\textless{}"), ("a\n\tb", "a b"), ("Größe", "Größe"),
    ],
)
def test_escape_tex_writes_each_special_character_as_a_literal(text, expected):
    assert escape_tex(text) == expected


def test_escape_tex_refuses_what_pdflatex_cannot_print_with_one_line():
    with pytest.raises(SpecError, match=r"^text must be printable by pdflatex; '☃' \(U\+2603\) is not supported$"):
        escape_tex("snow ☃")


def test_unicode_table_has_one_entry_per_character():
    assert all(len(ch) == 1 and not ch.isascii() for ch in _UNICODE)


def test_prose_keeps_balanced_math_and_escapes_the_rest():
    assert prose(r"a_b $\frac{1}{2}$ 5%") == r"a\_b $\frac{1}{2}$ 5\%"
    assert prose("costs $5") == r"costs \$5"  # an unbalanced $ is text


def test_texjoin_escapes_pieces_that_are_not_latex():
    assert texjoin([escape_tex("x_1"), "y_2"], " | ") == r"x\_1 | y\_2"


# ------------------------------------------------------------------------------------ the environment
def test_every_var_escapes_plain_text_even_without_a_filter():
    assert environment().from_string(r"\VAR{t}").render(t="50% & $") == r"50\% \& \$"


@pytest.mark.parametrize("value", [sympy.Symbol("x"), 1.5, None, True, [1]])
def test_every_var_refuses_objects_that_need_a_decision(value):
    with pytest.raises(TypeError, match="refusing to print"):
        environment().from_string(r"\VAR{v}").render(v=value)


def test_latex_filter_uses_sympys_printer_with_parentheses():
    m = sympy.Matrix([[sympy.Symbol("omega_1,1,0,0"), 0]])
    out = environment().from_string(r"\VAR{m | latex}").render(m=m)
    assert out == sympy.latex(m, mat_delim="(") and out.startswith(r"\left(\begin{matrix}")


def test_undefined_names_fail_loudly():
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string(r"\VAR{missing}").render()


def test_delimiters_leave_latex_braces_alone():
    tpl = environment().from_string(r"\BLOCK{if x}\frac{a}{b}\BLOCK{endif}\#{ a comment }")
    assert tpl.render(x=True) == r"\frac{a}{b}"


def _referenced(name: str, seen: set[str]) -> set[str]:
    if name in seen:
        return seen
    seen.add(name)
    source = environment().loader.get_source(environment(), name)[0]
    for child in jinja2.meta.find_referenced_templates(environment().parse(source)):
        assert child is not None, f"{name} includes a template by a computed name"
        _referenced(child, seen)
    return seen


def test_every_template_is_reached_from_a_document():
    # the compile tests build every document kind; this makes sure that covers every template file
    reached: set[str] = set()
    for document in DOCUMENTS:
        _referenced(document, reached)
    assert reached == {p.name for p in TEMPLATES.glob("*.tex.j2")}


def test_render_reads_package_templates():
    assert "Reproducibility" in render("section_footer.tex.j2", footer=footer("symconv report --audit"))


# ------------------------------------------------------------------------------------ files
def test_write_atomic_replaces_the_whole_file(tmp_path):
    target = tmp_path / "r.tex"
    target.write_text("old")
    write_atomic(target, "new content")
    assert target.read_text() == "new content"
    assert [p.name for p in tmp_path.iterdir()] == ["r.tex"]


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "r.tex"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.tex"]  # no temporary file left behind


def test_same_input_gives_byte_identical_tex_across_processes(tmp_path):
    # different hash seeds change set/dict iteration orders: the output must not depend on them
    args = ["--in-channels", "2", "--out-channels", "2", "--input", "5x4", "--kernel", "3x2", "--padding", "1"]
    outputs = []
    for seed in ("1", "2"):
        (tmp_path / seed).mkdir()
        # this checkout's symconv, not whichever is installed (the subprocess runs in tmp_path)
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        subprocess.run([sys.executable, "-m", "symconv", "report", *args, "-o", "r.tex"], check=True, env=env,
                       capture_output=True, cwd=tmp_path / seed)
        outputs.append((tmp_path / seed / "r.tex").read_bytes())
    assert outputs[0] == outputs[1]
    assert b"\\today" not in outputs[0] and b"timestamp" not in outputs[0].lower()
