"""Exponentials and logarithms beyond exp and log: log2, log10, exp2, expm1, log1p, rsqrt,
logaddexp, and two functions of sign and mix, copysign and lerp.

expm1 and log1p are exact near 0, where ``exp(x) - 1`` and ``log(1 + x)`` lose every digit;
logaddexp(a, b) = log(e^a + e^b) is computed as max(a, b) + log1p(e^-|a - b|), so neither
exponential can overflow. Integer and bool tensors give the default float dtype, as in PyTorch.
"""

import math

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from . import promotion
from ._util import broadcast_error, data, operand_arrays, tensor_among
from .elementwise import Operand, _binary_op, _one_argument, _unary, _zero, sigmoid

_LN2, _LN10 = math.log(2.0), math.log(10.0)

#   name              forward, on arrays            gradient, in tensor ops             math
Log2 = _unary("Log2", lambda xp, a: xp.log2(a), lambda g, x: g / (x * _LN2))  # 1/(x ln 2)
Log10 = _unary("Log10", lambda xp, a: xp.log10(a), lambda g, x: g / (x * _LN10))  # 1/(x ln 10)
Exp2 = _unary("Exp2", lambda xp, a: xp.exp2(a), lambda g, y: g * y * _LN2, uses="y")  # 2^x ln 2
Expm1 = _unary("Expm1", lambda xp, a: xp.expm1(a), lambda g, y: g * (y + 1), uses="y")  # e^x
Log1p = _unary("Log1p", lambda xp, a: xp.log1p(a), lambda g, x: g / (1 + x))  # 1/(1+x)
Rsqrt = _unary(
    "Rsqrt", lambda xp, a: 1 / xp.sqrt(a), lambda g, y: -0.5 * g * y * y * y, uses="y"
)  # -x^-3/2 / 2


def _logaddexp(x, y):
    xp = xp_of(x if hasattr(x, "dtype") else y)
    m = xp.maximum(x, y)
    with numpy.errstate(invalid="ignore"):  # inf - inf where both are the same infinity
        out = m + xp.log1p(xp.exp(-abs(x - y)))
    return xp.where(xp.isinf(m) & (x == y), m, out)  # log(e^inf + e^inf) = inf, as PyTorch


def _sign_ratio(a, b):
    """copysign(a, b) / a as a constant: +-1, and 0 where a = 0 (PyTorch's gradient there)."""
    x = data(a)
    xp = xp_of(x)
    return Tensor._make((xp.sign(x) * xp.copysign(1.0, data(b))).astype(x.dtype, copy=False))


#   name             forward, on arrays          gradient for a, gradient for b
# d logaddexp(a, b)/da = e^a / (e^a + e^b) = sigmoid(a - b); b mirrors it
Logaddexp = _binary_op(
    "Logaddexp",
    _logaddexp,
    lambda g, a, b: g * sigmoid(a - b),
    lambda g, a, b: g * sigmoid(b - a),
    floating=True,
)
# d copysign(a, b)/da = sign(a) sign(b) (0 at a = 0), d/db = 0 (the sign of b only flips it)
Copysign = _binary_op(
    "Copysign",
    lambda x, y: xp_of(x if hasattr(x, "dtype") else y).copysign(x, y),
    lambda g, a, b: g * _sign_ratio(a, b),
    lambda g, a, b: _zero(g, b),
    floating=True,
)


class Lerp(Function):
    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        s, e, w = operand_arrays("lerp", start, end, weight)
        (s, e, w), dtype = promotion.promote_all(s, e, w)
        if dtype.kind != "f":
            s, e, w = (v.astype(promotion.to_float(dtype)) if hasattr(v, "astype") else v for v in (s, e, w))
        xp = xp_of(s if hasattr(s, "dtype") else e)
        try:
            # PyTorch's form: exact at both ends (weight 0 gives start, weight 1 gives end)
            return xp.where(w < 0.5, s + w * (e - s), e - (e - s) * (1 - w))
        except ValueError:
            raise broadcast_error("lerp", start, end, weight) from None

    @staticmethod
    def backward(ctx, grad):
        # d/dstart = 1 - w, d/dend = w, d/dw = end - start
        s, e, w = ctx.saved_tensors
        need_s, need_e, need_w = ctx.needs_input_grad
        return (
            grad * (1 - w) if need_s else None,
            grad * w if need_e else None,
            grad * (e - s) if need_w else None,
        )


# -- the public functions ----------------------------------------------------------------------

log2, log10, exp2, expm1, log1p, rsqrt = map(_one_argument, (Log2, Log10, Exp2, Expm1, Log1p, Rsqrt))


def logaddexp(input: Operand, other: Operand) -> Tensor:
    """log(e^input + e^other) without overflow, broadcasting."""
    tensor_among("logaddexp", input, other)
    return Logaddexp.apply(input, other)


def copysign(input: Operand, other: Operand) -> Tensor:
    """|input| with the sign of other (also of -0.0), broadcasting; a float result."""
    tensor_among("copysign", input, other)
    return Copysign.apply(input, other)


def lerp(input: Operand, end: Operand, weight: Operand) -> Tensor:
    """input + weight (end - input), broadcasting all three; weight a tensor or a number."""
    tensor_among("lerp", input, end, weight)
    return Lerp.apply(input, end, weight)
