"""The dtypes a tensor can have, and the default one for floating-point data.

They are NumPy's dtype objects, so ``t.dtype == t.numpy().dtype`` and every NumPy habit carries
over. New floating tensors made from Python numbers or lists get the default dtype (float32, as in
PyTorch), not NumPy's float64.
"""

import numpy
from numpy.typing import DTypeLike

float32 = numpy.dtype(numpy.float32)
float64 = numpy.dtype(numpy.float64)
float16 = numpy.dtype(numpy.float16)
int32 = numpy.dtype(numpy.int32)
int64 = numpy.dtype(numpy.int64)
uint8 = numpy.dtype(numpy.uint8)
bool_ = numpy.dtype(numpy.bool_)

_default_dtype: numpy.dtype = float32


def get_default_dtype() -> numpy.dtype:
    """The dtype of floating tensors created without an explicit dtype (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: DTypeLike) -> None:
    """Make ``dtype`` (float32 or float64) the default for new floating tensors."""
    global _default_dtype
    d = numpy.dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64 can be the default, got {d}")
    _default_dtype = d


def is_floating(dtype: DTypeLike) -> bool:
    """True for the floating-point dtypes, the only ones that can carry gradients."""
    return numpy.dtype(dtype).kind == "f"
