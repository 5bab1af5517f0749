"""Type promotion: the dtype an op's result gets from its operands' dtypes, PyTorch's rules, in one place.

Every elementwise op asks here, so ``int32_tensor + 0.5`` is float32 (not NumPy's float64) and
``int32 / int32`` is true division to the default float dtype, as in PyTorch.

The rules. Dtypes fall in three categories, bool < integer < floating. Operands fall in three
groups, by how much say they have:

    dimensioned   tensors (and arrays) with at least one dimension
    zero-dim      0-d tensors: ``tensor(2.5)``
    wrapped       Python numbers (and NumPy scalars): bool -> bool, int -> int64,
                  float -> the default float dtype (float32)

Within a group the dtypes promote pairwise (``promote``: int8 with uint8 is int16, any integer
with a float is that float, float16 with float32 is float32). Across groups, a lower group only
counts when its category is higher: ``int32 + float64_0d`` is float64, but ``float16 + float64_0d``
stays float16 and ``int8 + 1000`` stays int8. Division and the float functions (``cos``, ``exp``,
``sqrt``...) then turn an integer or bool result into the default float dtype.

Cost: ``result_type`` runs for every elementwise op. The common cases, two tensors of one float
dtype or a float tensor and a Python number, return after a type check and a dtype compare.
"""

from typing import Any

import numpy

from ..autograd import dtypes
from ..autograd.tensor import Tensor

_BOOL = numpy.dtype(numpy.bool_)
_INT64 = numpy.dtype(numpy.int64)
_ARRAY = numpy.ndarray


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}  # dtype.kind -> category; anything else ranks above


def _category(dtype: numpy.dtype) -> int:
    """0 for bool, 1 for the integers, 2 for floats."""
    return _CATEGORY.get(dtype.kind, 3)


def promote(a: numpy.dtype | None, b: numpy.dtype | None) -> numpy.dtype | None:
    """The smallest dtype that holds both (``torch.promote_types``); None stands for no dtype yet.

    NumPy's table agrees with PyTorch's except between an integer and a float, where NumPy widens
    the float (int64 with float16 is float64 to NumPy) and PyTorch keeps the float as it is."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    fa, fb = a.kind == "f", b.kind == "f"
    if fa != fb:
        return a if fa else b
    return numpy.promote_types(a, b)


def _wrapped_dtype(value: Any) -> numpy.dtype:
    """The dtype a Python number (or NumPy scalar) stands for beside tensors."""
    if isinstance(value, (bool, numpy.bool_)):
        return _BOOL
    if isinstance(value, (int, numpy.integer)):
        return _INT64
    if isinstance(value, (float, numpy.floating)):
        return dtypes.get_default_dtype()
    raise TypeError(f"expected a tensor, a bool, an int or a float operand, got {type(value).__name__}")


def _combine(higher: numpy.dtype | None, lower: numpy.dtype | None) -> numpy.dtype | None:
    """A group's dtype with a lower group's: the lower one matters only when its category is higher."""
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower):
        return higher
    return promote(higher, lower)


def result_type(*operands: Any) -> numpy.dtype:
    """The dtype of an elementwise op's result on these operands (``torch.result_type``).

    operands: tensors, NumPy/CuPy arrays, Python numbers or NumPy scalars."""
    dim = zero = wrapped = None
    for v in operands:
        if isinstance(v, Tensor):
            v = v.data
        d = getattr(v, "dtype", None)
        if d is None or isinstance(v, numpy.generic):
            wrapped = promote(wrapped, _wrapped_dtype(v))
        elif v.ndim:
            dim = promote(dim, d)
        else:
            zero = promote(zero, d)
    out = _combine(dim, _combine(zero, wrapped))
    if out is None:
        raise TypeError("result_type: expected at least one operand")
    return out


def to_float(dtype: numpy.dtype) -> numpy.dtype:
    """``dtype`` for an op whose result is always floating (``/``, ``cos``): bool and integer
    dtypes become the default float dtype, float dtypes stay."""
    return dtype if dtype.kind == "f" else dtypes.get_default_dtype()


def float_array(array: Any) -> Any:
    """``array`` as the input of a float function: an integer or bool array becomes the default
    float dtype (``int32.cos()`` is float32), a float array passes as it is."""
    return array if array.dtype.kind == "f" else array.astype(dtypes.get_default_dtype())


def _as(value: Any, dtype: numpy.dtype) -> Any:
    """One operand ready for a NumPy/CuPy op computed in ``dtype``: an array cast to it; a Python
    number as it is (NumPy's weak scalars then keep ``dtype``); a NumPy scalar as a Python number,
    since NumPy would let its own dtype widen the result."""
    if isinstance(value, numpy.generic):
        return value.item()
    if hasattr(value, "dtype") and value.dtype != dtype:
        return value.astype(dtype)
    return value


def promote_operands(x: Any, y: Any, floating: bool = False) -> tuple[Any, Any, numpy.dtype]:
    """Two operands (arrays or numbers) of a binary op, cast for computing in the result dtype.

    Returns (x, y, dtype): the result dtype is ``result_type(x, y)``, or its float version
    (``to_float``) for ``floating`` ops (true division)."""
    # fast path (CPU): a float array with an array of its dtype, or with a Python number either side
    tx, ty = type(x), type(y)
    if tx is _ARRAY:
        dx = x.dtype
        if dx.kind == "f" and ((ty is _ARRAY and y.dtype == dx) or ty is float or ty is int):
            return x, y, dx
    elif ty is _ARRAY and (tx is float or tx is int) and y.dtype.kind == "f":
        return x, y, y.dtype
    dtype = result_type(x, y)
    if floating:
        dtype = to_float(dtype)
    return _as(x, dtype), _as(y, dtype), dtype


def promote_all(*operands: Any) -> tuple[list[Any], numpy.dtype]:
    """Like ``promote_operands``, for any number of operands (``where``'s two values)."""
    dtype = result_type(*operands)
    return [_as(v, dtype) for v in operands], dtype
