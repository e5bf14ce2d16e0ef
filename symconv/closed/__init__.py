"""Closed forms derived from the forms: parameter counts, nnz(𝒲), MACs and the output-size arithmetic."""
