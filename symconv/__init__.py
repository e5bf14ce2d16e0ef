"""symconv: the mathematics of convolution layers, built in SymPy and proved exactly.

>>> import symconv
>>> spec = symconv.ConvSpec(2, 3, input_size=(5, 5), kernel_size=(3, 3))
>>> symconv.verify(spec).holds
True
"""

from .blocks import Blocks, bias_vector, blocks, matrix, matrix_as_written
from .direct import direct
from .errors import NotEquivalentError, SpecError, SymconvError, TooLargeError
from .spec import ConvSpec
from .symbols import ORDERS, bias_symbols, input_symbols, output_index, row_permutation, weight_symbols
from .verdict import Mismatch, Verdict
from .verify import verify

__version__ = "0.1.0"

__all__ = [
    "ORDERS",
    "Blocks",
    "ConvSpec",
    "Mismatch",
    "NotEquivalentError",
    "SpecError",
    "SymconvError",
    "TooLargeError",
    "Verdict",
    "bias_symbols",
    "bias_vector",
    "blocks",
    "direct",
    "input_symbols",
    "matrix",
    "matrix_as_written",
    "output_index",
    "row_permutation",
    "verify",
    "weight_symbols",
]
