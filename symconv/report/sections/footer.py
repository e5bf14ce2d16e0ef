"""What reproduces a document: the versions of symconv and SymPy, and the command."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from ..._version import __version__

__all__ = ["Footer", "footer"]


@dataclass(frozen=True)
class Footer:
    """What reproduces the document: versions and the command."""

    symconv_version: str
    sympy_version: str
    command: str | None


def footer(command: str | None) -> Footer:
    """Versions of symconv and SymPy, and the command that made the report.

    >>> footer("symconv report --audit -o a.tex").sympy_version == sympy.__version__
    True
    """
    return Footer(__version__, sympy.__version__, command)
