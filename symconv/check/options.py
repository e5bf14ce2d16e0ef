"""The choices verify_implementation takes, in one place importable without NumPy (the CLI offers them as is)."""

from __future__ import annotations

__all__ = ["BACKENDS", "DTYPES", "IMPLEMENTATION_METHODS", "LAYOUTS", "SIGNATURES", "WEIGHT_LAYOUTS"]

#: how x is laid out when handed to fn ("auto": NCHW, or what fn's shapes say)
LAYOUTS: tuple[str, ...] = ("auto", "NCHW", "CHW", "NHWC", "HWC")
#: how the weight is laid out: PyTorch's (C₂, C₁/g, h, w) or TensorFlow's (h, w, C₁/g, C₂)
WEIGHT_LAYOUTS: tuple[str, ...] = ("OIHW", "HWIO")
BACKENDS: tuple[str, ...] = ("auto", "numpy", "torch")
DTYPES: tuple[str, ...] = ("float64", "float32")
#: how fn is read: on SymPy symbols, one weight at a time, or with sparse tagged probes
IMPLEMENTATION_METHODS: tuple[str, ...] = ("auto", "symbolic", "onehot", "sparse")
#: the calling conventions recognised (symconv.check.signature)
SIGNATURES: tuple[str, ...] = ("auto", "x,w,b", "x,w,b,conv_param", "x,w,b,stride,pad", "x,w,stride,pad", "module")
