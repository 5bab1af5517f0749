"""Truth tests and logic, all with bool results and no gradient: isnan, isinf, isfinite, isclose,
allclose, logical_and/or/xor/not, and the bitwise ops behind ``&``, ``|``, ``^``, ``~``.

The logical ops take any dtype and read it as PyTorch does: nonzero is true (NaN included). The
bitwise ops take bool and integer tensors only: on bools they are the logical ops, on integers
they work bit by bit (``~5 == -6``), and a float operand is a clear error, as in PyTorch.
"""

import numpy

from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError
from ._util import broadcast_error, data, operand_arrays
from .elementwise import Operand, _binary, _compare

# -- tests of each value -----------------------------------------------------------------------


def _test(name: str, doc: str):
    def fn(input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
        a = input.data
        return Tensor._make(getattr(xp_of(a), name)(a))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"True where x {doc}, elementwise (a bool tensor).  Any shape -> the same shape."
    return fn


isnan = _test("isnan", "is NaN")
isinf = _test("isinf", "is +inf or -inf")
isfinite = _test("isfinite", "is neither infinite nor NaN")


def isclose(
    input: Tensor, other: Operand, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """True where |input - other| <= atol + rtol |other| (or the two are equal, infinities
    included; NaN equals NaN only with ``equal_nan``), broadcasting; a bool tensor.

    As in PyTorch, the test is not symmetric (``rtol`` scales ``other``), and tensors of two
    different dtypes are refused rather than promoted."""
    if not isinstance(input, Tensor):
        raise TypeError(f"isclose: expected input to be a Tensor, got {type(input).__name__}")
    if isinstance(other, Tensor) and other.dtype != input.dtype:
        raise DTypeError(
            f"isclose: expected input and other of one dtype, got {input.dtype} and {other.dtype}"
        )
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    x, y = operand_arrays("isclose", input, other)
    xp = xp_of(x)
    if x.dtype.kind != "f":  # integers and bools: the error computed exactly, in float64
        x, y = x.astype(numpy.float64), (y.astype(numpy.float64) if hasattr(y, "astype") else y)
    try:
        with numpy.errstate(invalid="ignore"):  # inf - inf: equal infinities are caught by ==
            close = x == y
            if equal_nan:
                close = close | (xp.isnan(x) & xp.isnan(y))
            error = abs(x - y)
            close = close | (xp.isfinite(error) & (error <= atol + abs(rtol * y)))
    except ValueError:
        raise broadcast_error("isclose", input, other) from None
    return Tensor._make(xp.asarray(close))


def allclose(
    input: Tensor, other: Operand, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when ``isclose`` holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


# -- logic on any dtype: nonzero is true ---------------------------------------------------------

logical_and = _compare("logical_and", lambda x, y: (x != 0) & (y != 0))
logical_or = _compare("logical_or", lambda x, y: (x != 0) | (y != 0))
logical_xor = _compare("logical_xor", lambda x, y: (x != 0) ^ (y != 0))


def logical_not(input: Tensor) -> Tensor:
    """True where x is zero (False), elementwise, for any dtype (a bool tensor)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"logical_not: expected a Tensor, got {type(input).__name__}")
    return Tensor._make(input.data == 0)


# -- bitwise on bool and integer tensors: & | ^ ~ -----------------------------------------------


def _bool_or_integer(op: str, *operands: object) -> None:
    for v in operands:
        kind = v.dtype.kind if isinstance(v, Tensor) else "f" if isinstance(v, float) else "i"
        if kind not in "biu":
            what = f"dtype {v.dtype}" if isinstance(v, Tensor) else f"a {type(v).__name__}"
            raise DTypeError(
                f"{op}: expected bool or integer operands, got {what}; for floats use "
                f"logical_and/logical_or/logical_xor/logical_not (nonzero is true)"
            )


def _bitwise(op: str, fn):
    def bitwise(input: Operand, other: Operand) -> Tensor:
        _bool_or_integer(op, input, other)
        return Tensor._make(_binary(op, fn, input, other))

    bitwise.__name__ = bitwise.__qualname__ = op
    bitwise.__doc__ = f"Elementwise ``{op}`` of bool or integer operands, broadcasting (no gradient)."
    return bitwise


bitwise_and = _bitwise("bitwise_and", lambda x, y: x & y)
bitwise_or = _bitwise("bitwise_or", lambda x, y: x | y)
bitwise_xor = _bitwise("bitwise_xor", lambda x, y: x ^ y)


def bitwise_not(input: Tensor) -> Tensor:
    """~x: logical not of a bool tensor, bitwise not of an integer one (no gradient)."""
    _bool_or_integer("bitwise_not", input)
    return Tensor._make(~data(input))
