"""Around the body: the front matter (title, PDF metadata, date) and what reproduces the document."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import sympy

from ..._version import __version__
from ...errors import SpecError
from ..render import Tex, escape_tex, pdf_string, title_tex

__all__ = ["ENGINES", "Footer", "Front", "document_date", "footer", "front"]


@dataclass(frozen=True)
class Footer:
    """What reproduces the document: versions and the command."""

    symconv_version: str
    sympy_version: str
    command: Tex | None


def footer(command: str | None, unicode: bool = False) -> Footer:
    """Versions of symconv and SymPy, and the command that made the report.

    >>> footer("symconv report --audit -o a.tex").sympy_version == sympy.__version__
    True
    """
    return Footer(__version__, sympy.__version__, None if command is None else escape_tex(command, unicode))


@dataclass(frozen=True)
class Front:
    """The title (inline math allowed), its plain form for the PDF metadata, author, date; or a bare fragment."""

    title: Tex
    pdf_title: Tex
    author: Tex
    date: str
    body_only: bool
    engine: str  # "pdflatex" or "lualatex": the preamble loads fonts for it


def document_date(date: str | None = None) -> str:
    """The date printed on a document: ``date`` if given, else ``SOURCE_DATE_EPOCH`` (UTC) if set, else none.

    Never the wall clock: the same input must give the same LaTeX.

    >>> document_date("1 May 2026"), document_date() == "" or document_date()[0].isdigit()
    ('1 May 2026', True)
    """
    if date is not None:
        return date
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return ""
    try:
        when = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    except (ValueError, OverflowError):
        raise SpecError(f"SOURCE_DATE_EPOCH must be seconds since 1970, got {epoch!r}") from None
    return f"{when.day} {when:%B %Y}"


ENGINES = ("pdflatex", "lualatex")


def front(title: str, body_only: bool = False, date: str | None = None, engine: str = "pdflatex") -> Front:
    """The front matter for ``title`` (plain text with optional ``$…$`` math, see :func:`title_tex`).

    >>> f = front("The layer $C_1 = 2$", date="1 May 2026")
    >>> print(f.title, "|", f.pdf_title, "|", f.date)
    The layer $C_1 = 2$ | The layer C1 = 2 | 1 May 2026
    """
    if engine not in ENGINES:
        raise SpecError(f"engine must be 'pdflatex' or 'lualatex', got {engine!r}")
    unicode = engine == "lualatex"  # LuaLaTeX typesets any Unicode the fonts have; pdflatex only Latin
    return Front(title_tex(title, unicode), pdf_string(title, unicode), Tex(f"symconv {__version__}"),
                 document_date(date), body_only, engine)
