"""Rounding and integer division: floor, ceil, trunc, round, frac, fmod, remainder (``%``),
floor_divide (``//``) and ``div(..., rounding_mode=...)``.

The roundings are piecewise constant: their gradient is zero (PyTorch's choice, also at the
jumps), not an error and not a cut graph. On integer tensors they return the values unchanged, in
the same dtype. The two remainders differ in the sign they take::

    fmod(a, b)      = a - trunc(a / b) b     sign of a   (C's fmod)
    remainder(a, b) = a - floor(a / b) b     sign of b   (Python's %)

so d/da = 1 and d/db = -trunc(a / b) or -floor(a / b). Integer operands stay integers (PyTorch's
promotion: ``int // 2`` is an integer, ``int // 2.5`` the default float), and an integer division
by zero raises, as in PyTorch.
"""

from typing import Literal

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError
from . import elementwise as ew
from ._util import data, tensor_among
from .elementwise import Operand, _binary_op, _unary
from .elementwise import _zero as zero_gradient


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """An integer tensor divided by zero (PyTorch raises a RuntimeError; Python a ZeroDivisionError)."""


def _integer_or(f):
    """A rounding's forward: ``f`` on floats; integers are already whole, returned as a copy."""
    return lambda xp, a: f(xp, a) if a.dtype.kind == "f" else a.copy()


def _round(xp, a, decimals):
    # As PyTorch: scale by 10^|decimals| (in a's own dtype), round half to even, scale back.
    if decimals == 0:
        return xp.rint(a)
    scale = 10.0 ** abs(decimals)
    return xp.rint(a * scale) / scale if decimals > 0 else xp.rint(a / scale) * scale


#   name              forward, on arrays                                   gradient         math
Floor = _unary("Floor", _integer_or(lambda xp, a: xp.floor(a)), zero_gradient, None, False, "iuf")  # 0
Ceil = _unary("Ceil", _integer_or(lambda xp, a: xp.ceil(a)), zero_gradient, None, False, "iuf")  # 0
Trunc = _unary("Trunc", _integer_or(lambda xp, a: xp.trunc(a)), zero_gradient, None, False, "iuf")  # 0
Round = _unary("Round", _integer_or(lambda xp, a: xp.rint(a)), zero_gradient, None, False, "iuf")  # 0
Frac = _unary("Frac", lambda xp, a: a - xp.trunc(a), lambda g, _: g, None, kinds="f")  # d(x - trunc x) = 1


class RoundDecimals(Function):
    @staticmethod
    def forward(ctx, x, decimals):
        return _round(xp_of(x.data), x.data, decimals)

    @staticmethod
    def backward(ctx, grad):
        return zero_gradient(grad, None), None  # piecewise constant


def _checked(op, divide):
    """``divide(xp, x, y)`` for arrays already in the result dtype; integers refuse a zero divisor."""

    def forward(x, y):
        array = x if hasattr(x, "dtype") else y  # its dtype is the result's: numbers are weak
        xp = xp_of(array)
        if array.dtype.kind in "iub" and (xp.asarray(y) == 0).any():
            raise IntegerDivisionByZero(f"{op}: integer division by zero (the divisor has a zero element)")
        return divide(xp, x, y)

    return forward


def _trunc_divide(xp, x, y):
    if (x if hasattr(x, "dtype") else y).dtype.kind == "f":
        return xp.trunc(x / y)
    return (x - xp.fmod(x, y)) // y  # exact: x - fmod(x, y) is a multiple of y


def _quotient(rounding, a, b):
    """trunc(a / b) or floor(a / b) as a constant tensor: the derivative of fmod or remainder in b
    (piecewise constant itself, so a constant is exact to every order)."""
    x, y = data(a), data(b)
    xp = xp_of(x if isinstance(a, Tensor) else y)
    return Tensor._make(getattr(xp, rounding)(x / y))


def _constant(g, a, b):
    return zero_gradient(g, a)  # a quotient rounded to a whole number is piecewise constant


def _row(name, op, f, da, db, saves=True):
    """A row of elementwise.py's binary table, its errors naming the op as PyTorch spells it."""
    row = _binary_op(name, f, da, db, saves)
    row.op = op
    return row


#   name         forward, on arrays          gradient for a, gradient for b
def _remainder_row(name, op, f, rounding):
    # a - q(a / b) b with q = trunc or floor: d/da = 1, d/db = -q(a / b)
    return _row(name, op, _checked(op, f), lambda g, a, b: g, lambda g, a, b: -g * _quotient(rounding, a, b))


Fmod = _remainder_row("Fmod", "fmod", lambda xp, x, y: xp.fmod(x, y), "trunc")
Remainder = _remainder_row("Remainder", "remainder", lambda xp, x, y: xp.remainder(x, y), "floor")
# floor(a / b) and trunc(a / b) are piecewise constant in a and b: zero gradients
FloorDivide = _row(
    "FloorDivide",
    "floor_divide",
    _checked("floor_divide", lambda xp, x, y: xp.floor_divide(x, y)),
    _constant,
    _constant,
    saves=False,
)
TruncDivide = _row("TruncDivide", "div", _checked("div", _trunc_divide), _constant, _constant, saves=False)


# -- the public functions ----------------------------------------------------------------------


def _rounding(op: str, x: Tensor) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind == "b":
        raise DTypeError(f"{op}: expected a float or integer tensor, got dtype bool")


def floor(input: Tensor) -> Tensor:
    """The largest whole number <= x, elementwise (zero gradient).  Any shape -> the same shape."""
    _rounding("floor", input)
    return Floor.apply(input)


def ceil(input: Tensor) -> Tensor:
    """The smallest whole number >= x, elementwise (zero gradient).  Any shape -> the same shape."""
    _rounding("ceil", input)
    return Ceil.apply(input)


def trunc(input: Tensor) -> Tensor:
    """x rounded toward zero, elementwise (zero gradient).  Any shape -> the same shape."""
    _rounding("trunc", input)
    return Trunc.apply(input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` decimal places (negative: to tens, hundreds, ...), halves to
    even, elementwise (zero gradient).  Any shape -> the same shape."""
    _rounding("round", input)
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    if decimals == 0:
        return Round.apply(input)
    if input.dtype.kind != "f":
        raise DTypeError(f"round: decimals={decimals} needs a float tensor, got dtype {input.dtype}")
    return RoundDecimals.apply(input, decimals)


def frac(input: Tensor) -> Tensor:
    """x - trunc(x): the fractional part, with x's sign.  Any shape -> the same shape."""
    _rounding("frac", input)
    if input.dtype.kind != "f":
        raise DTypeError(f"frac: expected a float tensor, got dtype {input.dtype}")
    return Frac.apply(input)


def _operands(op: str, a: Operand, b: Operand) -> None:
    tensor_among(op, a, b)
    for v in (a, b):
        if isinstance(v, Tensor) and v.dtype.kind == "b":
            raise DTypeError(f"{op}: expected float or integer operands, got dtype bool")


def fmod(input: Operand, other: Operand) -> Tensor:
    """a - trunc(a / b) b: the remainder with the sign of a (C's fmod), broadcasting."""
    _operands("fmod", input, other)
    return Fmod.apply(input, other)


def remainder(input: Operand, other: Operand) -> Tensor:
    """a - floor(a / b) b: the remainder with the sign of b (Python's ``%``), broadcasting."""
    _operands("remainder", input, other)
    return Remainder.apply(input, other)


def floor_divide(input: Operand, other: Operand) -> Tensor:
    """floor(a / b) (Python's ``//``), broadcasting; zero gradient."""
    _operands("floor_divide", input, other)
    return FloorDivide.apply(input, other)


def div(input: Operand, other: Operand, *, rounding_mode: Literal["trunc", "floor"] | None = None) -> Tensor:
    """a / b, broadcasting; ``rounding_mode`` 'trunc' rounds the quotient toward zero, 'floor'
    down (both keep integer operands integers and have zero gradient), None does not round."""
    if rounding_mode is None:
        return ew.div(input, other)
    if rounding_mode == "floor":
        _operands("div", input, other)
        return FloorDivide.apply(input, other)
    if rounding_mode == "trunc":
        _operands("div", input, other)
        return TruncDivide.apply(input, other)
    raise ValueError(
        f"div: expected rounding_mode to be one of None, 'trunc' or 'floor', got {rounding_mode!r}"
    )
