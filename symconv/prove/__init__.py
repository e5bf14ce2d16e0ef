"""Proving conv(x) = 𝒲x + b: the front door ``verify``, one engine per file, and the ``Verdict``."""
