"""Size limits: refuse, before building, what would not fit in memory or time.

The budgets are per-term estimates measured on SymPy 1.14 / CPython 3.11 (see benchmarks/):
a symbolic term (a product ω·x held as a SymPy object or as a dict entry keyed by symbols) costs
about 0.5 KiB across both forms; the NumPy index engine streams in chunks and needs no budget beyond
int64 key range.
"""

from __future__ import annotations

import math

from ..errors import TooLargeError
from .spec import ConvSpec

__all__ = [
    "MAX_ARRAY_TERMS",
    "MAX_DIRECT_TERMS",
    "MAX_KEY",
    "MAX_SYMBOLIC_TERMS",
    "MAX_SYMBOLS",
    "PADDED_KEY",
    "check_key_range",
    "check_symbol_count",
    "check_symbolic_size",
    "check_terms",
]

#: Largest number of (output, weight, input) terms a symbolic (SymPy) build accepts by default:
#: about 4 GiB at the measured cost per term, and about a minute of building.
MAX_SYMBOLIC_TERMS = 8_000_000
#: direct(spec) builds one SymPy Mul per term (≈14 µs, ≈1 KiB each): a lower default ceiling.
MAX_DIRECT_TERMS = 1_000_000
#: Largest list of (output, weight, input) int64 triples held whole in NumPy (the engines of the transposed and
#: padding-mode identities sort two of them): 3 × 8 bytes a term, about 2 GiB with the sorts' copies.
MAX_ARRAY_TERMS = 40_000_000
#: Largest symbol array (ω, b or x) built: one SymPy Symbol is ≈ 0.3 KiB.
MAX_SYMBOLS = 5_000_000
#: Term keys x-index · n_weights + weight-index (and the negative keys below them) must stay under this in int64.
MAX_KEY = 2**62
#: The spatial part of a key for a tap in the zero padding: spatial + channel part (0 ≤ channel part < MAX_KEY) is then
#: negative, so "key < 0" marks "no term" without a mask, and no real key (≥ 0) can equal it.
PADDED_KEY = -MAX_KEY


def check_symbolic_size(spec: ConvSpec, what: str, max_terms: int | None = None) -> None:
    """Raise :class:`TooLargeError` if building ``what`` symbolically for ``spec`` is too big."""
    limit = MAX_SYMBOLIC_TERMS if max_terms is None else max_terms
    terms = spec.n_terms + spec.n_bias_terms
    if terms > limit:
        raise TooLargeError(
            f"{what}: the symbolic build has {terms:,} terms, above the limit of {limit:,} "
            f"(about {terms * 512 / 2**30:.1f} GiB); use method='index' for exact checks at this size"
        )


def check_terms(what: str, terms: int, limit: int, hint: str) -> None:
    """Raise :class:`TooLargeError` naming ``what`` if ``terms`` is above ``limit``; ``hint`` says what to do instead.

    >>> check_terms("prove_backward", 10, 5, "use a smaller layer")
    Traceback (most recent call last):
    symconv.errors.TooLargeError: prove_backward: 10 terms, above the limit of 5; use a smaller layer
    """
    if terms > limit:
        raise TooLargeError(f"{what}: {terms:,} terms, above the limit of {limit:,}; {hint}")


def check_symbol_count(what: str, shape: tuple[int, ...]) -> None:
    """Raise :class:`TooLargeError` if an array of ``shape`` symbols is too big to build."""
    count = 1
    for n in shape:
        count *= n
    if count > MAX_SYMBOLS:
        raise TooLargeError(
            f"{what}: {count:,} symbols of shape {shape} is above the limit of {MAX_SYMBOLS:,}; "
            f"use method='index' for exact checks at this size"
        )


def check_key_range(spec: ConvSpec, what: str) -> None:
    """Raise :class:`TooLargeError` if ``spec``'s int64 term keys (d_x · n_weights of them) could overflow.

    >>> check_key_range(ConvSpec(3, 64, input_size=224, kernel_size=3), "verify")
    >>> check_key_range(ConvSpec(4096, 4096, input_size=4096, kernel_size=2), "verify")
    Traceback (most recent call last):
    symconv.errors.TooLargeError: verify: d_x · n_weights = 4,611,686,018,427,387,904 overflows the int64 term keys (limit 2^62)
    """
    keys = spec.d_x * math.prod(spec.weight_shape)
    if keys >= MAX_KEY:
        raise TooLargeError(f"{what}: d_x · n_weights = {keys:,} overflows the int64 term keys (limit 2^62)")
