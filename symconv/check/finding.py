"""What the check found wrong about an implementation: one :class:`Finding` per bug named (or suspected)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    """One thing found wrong (or suspected) about an implementation.

    ``code`` names the bug (e.g. ``"flipped-kernel"``); ``part`` is what it concerns (``"shape"``,
    ``"products"``, ``"bias"``, ``"extra-terms"``, ``"linearity"``); ``exact`` is True when a complete
    hypothesis form matched the implementation's form term by term.

    Codes: flipped-kernel, transposed-kernel, transposed-input, padding-off-by-one, padding-ignored,
    padding-mode-zeros (x padded with zeros where the spec's padding_mode is reflect, replicate or circular),
    padding-mode-wrong (another mode: e.g. replicate instead of reflect; or np.pad's symmetric for replicate/circular),
    reflect-symmetric (np.pad's mode="symmetric", edge repeated, where PyTorch's reflect excludes the edge),
    circular-wrong-side (circular padding with the wrap taken from the wrong end of x, or all of it on one side: a
    cyclic shift), stride-ignored, stride-wrong, dilation-ignored, dilation-wrong, swapped-channels, mixed-groups,
    outputs-permuted, input-layout (x reshaped where a transpose belongs), wrong-layout (fn computes the layer in
    the other channel placement: pass that layout), scaled-products, output-shape, bias-missing, bias-scaled,
    bias-wrong, bias-shared, bias-per-location, extra-input-term, extra-weight-term, constant-term, not-bilinear, unknown.
    """

    code: str
    part: str
    message: str
    exact: bool = True

    def describe(self) -> str:
        """One line: code and message."""
        return f"{self.code}: {self.message}" + ("" if self.exact else " [not an exact match]")

