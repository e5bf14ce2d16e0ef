"""The exceptions symconv raises.

Every error a user can provoke with bad input is a :class:`SpecError` (also a ``ValueError``) whose
message is one line naming the parameter and the allowed range. Refusals to build something too big
are :class:`TooLargeError` (also a ``MemoryError``), raised *before* any allocation. A failed proof
that a caller asked to be an assertion is a :class:`NotEquivalentError` (also an ``AssertionError``).
"""

from __future__ import annotations

__all__ = ["NotEquivalentError", "SpecError", "SymconvError", "TooLargeError"]


class SymconvError(Exception):
    """Base class of every error symconv raises on purpose."""


class SpecError(SymconvError, ValueError):
    """A parameter is outside its allowed range; the message names it and the range."""


class TooLargeError(SymconvError, MemoryError):
    """The requested object would not fit the memory budget; refused before building."""


class NotEquivalentError(SymconvError, AssertionError):
    """Two forms that were asserted equal are not; the message carries the counterexample.

    ``report`` is what the assertion that raised it found, for renderers (``symconv.testing`` sets a
    ``FailureReport`` whose LaTeX the pytest plugin writes); None when raised without one.
    """

    def __init__(self, message: str = "", report: object | None = None) -> None:
        super().__init__(message)
        self.report = report
