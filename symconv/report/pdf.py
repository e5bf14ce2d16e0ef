"""LaTeX → PDF with latexmk (pdflatex) in a temporary directory; the PDF moves into place only on success.

Why latexmk: it reruns pdflatex until cross-references settle, which a fixed number of runs cannot
promise. The build is hermetic and reproducible: ``-norc`` ignores personal latexmkrc files,
``-no-shell-escape`` forbids running programs, and ``SOURCE_DATE_EPOCH``/``FORCE_SOURCE_DATE`` make
pdfTeX write the same bytes for the same source (no creation date, no random trailer ID).

Failures are reported briefly: a missing TeX installation is one line naming the Debian packages, a
LaTeX error is the error lines of the log with their context, not the whole log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import SymconvError
from .output import write_atomic

__all__ = ["DEBIAN_PACKAGES", "LatexError", "PdfResult", "TexNotFoundError", "build_pdf", "check_tex"]

#: What a Debian/Ubuntu machine needs for every report (pdflatex, latexmk, TikZ, amsmath, lmodern).
DEBIAN_PACKAGES: tuple[str, ...] = (
    "texlive-latex-base", "texlive-latex-recommended", "texlive-latex-extra", "texlive-pictures", "lmodern", "latexmk",
)
# Which Debian package ships a LaTeX package the templates load, for "File `x.sty' not found".
_STY_PACKAGES = {"tikz": "texlive-pictures", "pgf": "texlive-pictures", "lmodern": "lmodern"}
_TIMEOUT_SECONDS = 300
_CONTEXT_LINES = 6  # log lines shown after each error line: TeX's "l.<n> <source>" lands within them
_MAX_ERRORS = 5


class TexNotFoundError(SymconvError, RuntimeError):
    """pdflatex or latexmk is not installed; the message names the Debian packages."""


class LatexError(SymconvError, RuntimeError):
    """pdflatex stopped with an error; the message carries the relevant lines of the log."""


@dataclass(frozen=True)
class PdfResult:
    """A compiled PDF and what pdflatex's log says about it."""

    path: Path
    pages: int
    runs: int
    undefined_references: tuple[str, ...]
    overfull_boxes: int
    warnings: tuple[str, ...]


def check_tex(engine: str = "pdflatex") -> None:
    """Raise :class:`TexNotFoundError` unless ``engine`` (pdflatex, lualatex) and latexmk are on PATH."""
    missing = [tool for tool in ("latexmk", engine) if shutil.which(tool) is None]
    if missing:
        raise TexNotFoundError(
            f"--pdf needs {' and '.join(missing)} (TeX Live), not found on PATH; on Debian/Ubuntu: "
            f"apt-get install {' '.join(DEBIAN_PACKAGES)}"
        )


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SOURCE_DATE_EPOCH="0",  # reproducible PDFs: fixed dates …
        FORCE_SOURCE_DATE="1",  # … also for \today and the PDF info dictionary
        max_print_line="10000",  # one log line per message, so that errors can be quoted whole
    )
    return env


def _log_errors(log: str) -> list[str]:
    """The error lines of a pdflatex log (``file:line: message`` or ``! message``) with their context."""
    lines = log.splitlines()
    shown: list[str] = []
    errors = 0
    for number, line in enumerate(lines):
        if re.match(r"^(!|\S+?:\d+: )", line) and "==> Fatal error occurred" not in line:
            errors += 1
            if errors > _MAX_ERRORS:
                shown.append("…")
                break
            shown.append(line)
            for follow in lines[number + 1 : number + 1 + _CONTEXT_LINES]:
                if follow.strip() and not follow.startswith(("Here is how much", "No pages of output")):
                    shown.append(follow)
                if re.match(r"^l\.\d+", follow):
                    break
    return shown


def _missing_package_hint(log: str) -> str:
    match = re.search(r"File `([\w-]+)\.sty' not found", log)
    if not match:
        return ""
    debian = _STY_PACKAGES.get(match.group(1), "texlive-latex-extra")
    return f"\n(the LaTeX package {match.group(1)} is missing; on Debian/Ubuntu: apt-get install {debian})"


def build_pdf(tex: str, pdf_path: str | os.PathLike[str], timeout: float = _TIMEOUT_SECONDS,
              engine: str = "pdflatex") -> PdfResult:
    """Compile the LaTeX source ``tex`` to ``pdf_path`` with latexmk and ``engine``; atomic, nothing written on failure.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "hello.pdf"
    >>> build_pdf("\\\\documentclass{article}\\\\begin{document}Hi\\\\end{document}", out).pages
    1
    """
    if engine not in ("pdflatex", "lualatex"):
        raise ValueError(f"engine must be 'pdflatex' or 'lualatex', got {engine!r}")
    check_tex(engine)
    target = Path(pdf_path)
    stem = target.stem or "report"
    with tempfile.TemporaryDirectory(prefix="symconv-latex-") as tmp:
        source = Path(tmp) / f"{stem}.tex"
        source.write_text(tex, encoding="utf-8")
        command = [
            "latexmk", "-pdf" if engine == "pdflatex" else "-lualatex", "-norc", "-silent",
            "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-no-shell-escape",
            source.name,
        ]
        try:
            done = subprocess.run(
                command, cwd=tmp, env=_environment(), capture_output=True, text=True, timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise LatexError(f"latexmk did not finish {source.name} within {timeout:g} s") from None
        log_path = source.with_suffix(".log")
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        built = source.with_suffix(".pdf")
        if done.returncode != 0 or not built.exists():
            details = _log_errors(log) or (done.stdout + done.stderr).strip().splitlines()[-_CONTEXT_LINES:]
            body = "\n".join(f"  {line}" for line in details)
            raise LatexError(f"{engine} failed on {target.with_suffix('.tex').name}:\n{body}{_missing_package_hint(log)}")
        result = _summarise(log, target, runs=len(re.findall(rf"Run number \d+ of rule '{engine}'", done.stdout + done.stderr)))
        write_atomic(target, built.read_bytes())
    return result


def _summarise(log: str, target: Path, runs: int) -> PdfResult:
    pages = re.search(r"Output written on .*?\((\d+) pages?", log)
    undefined = re.findall(r"LaTeX Warning: (?:Reference|Citation|Hyper reference) `([^']*)' on page \d+ undefined", log)
    warnings = re.findall(r"^(?:LaTeX|Package \w+) Warning: .*$", log, flags=re.MULTILINE)
    return PdfResult(
        path=target,
        pages=int(pages.group(1)) if pages else 0,
        runs=max(runs, 1),
        undefined_references=tuple(sorted(set(undefined))),
        overfull_boxes=len(re.findall(r"^Overfull \\[hv]box", log, flags=re.MULTILINE)),
        warnings=tuple(warnings),
    )
