"""Trigonometric and hyperbolic functions and their inverses: tan, asin, acos, atan, atan2, sinh,
cosh, asinh, acosh, atanh (sin and cos are in elementwise.py).

Rows of elementwise.py's unary table, each derivative beside its forward. Integer and bool tensors
give the default float dtype, as in PyTorch. Outside an inverse's domain (asin of 2, acosh of 0)
the value is NaN, as in PyTorch; at a domain edge (asin of 1) the gradient is infinite.
"""

import math

from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ._util import tensor_among
from .elementwise import Operand, _binary_op, _one_argument, _unary, sqrt, where

#   name              forward, on arrays                gradient, in tensor ops              math
Tan = _unary("Tan", lambda xp, a: xp.tan(a), lambda g, y: g * (1 + y * y), uses="y")  # 1 + tan^2
Asin = _unary("Asin", lambda xp, a: xp.arcsin(a), lambda g, x: g / sqrt(1 - x * x))  # 1/sqrt(1-x^2)
Acos = _unary("Acos", lambda xp, a: xp.arccos(a), lambda g, x: -g / sqrt(1 - x * x))  # -1/sqrt(1-x^2)
Atan = _unary("Atan", lambda xp, a: xp.arctan(a), lambda g, x: g / (1 + x * x))  # 1/(1+x^2)
Sinh = _unary("Sinh", lambda xp, a: xp.sinh(a), lambda g, x: g * _cosh(x))  # d sinh = cosh
Cosh = _unary("Cosh", lambda xp, a: xp.cosh(a), lambda g, x: g * _sinh(x))  # d cosh = sinh
Asinh = _unary("Asinh", lambda xp, a: xp.arcsinh(a), lambda g, x: g / sqrt(x * x + 1))  # 1/sqrt(x^2+1)
Acosh = _unary("Acosh", lambda xp, a: xp.arccosh(a), lambda g, x: g / sqrt(x * x - 1))  # 1/sqrt(x^2-1)
Atanh = _unary("Atanh", lambda xp, a: xp.arctanh(a), lambda g, x: g / (1 - x * x))  # 1/(1-x^2)


def _sinh(x):
    return Sinh.apply(x)


def _cosh(x):
    return Cosh.apply(x)


def _atan2_scale(a, b):
    """1 / (a^2 + b^2), with 0 where a = b = 0 (PyTorch's gradient of atan2 at the origin)."""
    r2 = a * a + b * b
    return 1 / where(r2 == 0, math.inf, r2)


# d atan2(a, b)/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)
Atan2 = _binary_op(
    "Atan2",
    lambda y, x: xp_of(y if hasattr(y, "dtype") else x).arctan2(y, x),
    lambda g, a, b: g * b * _atan2_scale(a, b),
    lambda g, a, b: -g * a * _atan2_scale(a, b),
    floating=True,
)

tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh = map(
    _one_argument, (Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh)
)


def atan2(input: Operand, other: Operand) -> Tensor:
    """The angle of the point (other, input), i.e. atan(input / other) in the right quadrant, in
    (-pi, pi]; broadcasting."""
    tensor_among("atan2", input, other)
    return Atan2.apply(input, other)
