"""Elementwise ops: arithmetic, the usual functions, and comparisons.

Each forward works on arrays (NumPy or CuPy: the array's own methods and ``xp``); each backward is
written with tensor ops so that it can itself be differentiated (``create_graph=True``). Binary ops
broadcast, and never reduce their gradients themselves: the engine sums a broadcast gradient back
to each input's shape (``minidl/autograd/broadcast.py``).
Operands may be tensors or Python numbers.
"""
import math

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ._util import broadcast_error, data, operand_arrays, shape_of


def _binary(op, fn, a, b):
    x, y = operand_arrays(op, a, b)
    try:
        return fn(x, y)
    except ValueError as err:
        try:
            numpy.broadcast_shapes(tuple(shape_of(a)), tuple(shape_of(b)))
        except ValueError:
            raise broadcast_error(op, a, b) from None
        # the shapes were fine: some other complaint (e.g. an integer to a negative power)
        raise ValueError(f"{op}: {err}") from None


# -- arithmetic ------------------------------------------------------------------------------

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _binary("add", lambda x, y: x + y, a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a + b)/da = 1, d(a + b)/db = 1
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _binary("sub", lambda x, y: x - y, a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a - b)/da = 1, d(a - b)/db = -1
        return grad, -grad


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return _binary("mul", lambda x, y: x * y, a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a b)/da = b, d(a b)/db = a
        da, db = ctx.needs_input_grad
        return (grad * ctx.b if da else None), (grad * ctx.a if db else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return _binary("div", lambda x, y: x / y, a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        da, db = ctx.needs_input_grad
        return (grad / ctx.b if da else None), (-grad * ctx.a / (ctx.b * ctx.b) if db else None)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        if isinstance(b, Tensor) and b.requires_grad:
            ctx.save_output()  # d(a^b)/db = a^b ln a
        return _binary("pow", lambda x, y: x ** y, a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln a
        da, db = ctx.needs_input_grad
        a, b = ctx.a, ctx.b
        if not da:
            ga = None
        elif not isinstance(b, Tensor) and b == 0:
            ga = grad * 0  # a^0 = 1 is constant, also at a = 0 where b a^(b-1) would be 0 * inf
        else:
            ga = grad * b * a ** (b - 1)
        gb = grad * ctx.output * (log(a) if isinstance(a, Tensor) else math.log(a)) if db else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x.data

    @staticmethod
    def backward(ctx, grad):
        # d(-x)/dx = -1
        return -grad


def add(a, b):
    return Add.apply(a, b)


def sub(a, b):
    return Sub.apply(a, b)


def mul(a, b):
    return Mul.apply(a, b)


def div(a, b):
    return Div.apply(a, b)


def pow(a, b):
    return Pow.apply(a, b)


def neg(x):
    return Neg.apply(x)


# -- functions of one argument -----------------------------------------------------------------

class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return xp_of(x.data).exp(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d e^x/dx = e^x
        out = ctx.output
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x.data).log(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d ln x/dx = 1/x
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return xp_of(x.data).sqrt(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        out = ctx.output
        return grad / (2 * out)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return abs(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d|x|/dx = sign(x)  (0 at x = 0, as in PyTorch)
        (x,) = ctx.saved_tensors
        return grad * sign(x)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x.data).sin(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d sin x/dx = cos x
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x.data).cos(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d cos x/dx = -sin x
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return xp_of(x.data).tanh(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d tanh x/dx = 1 - tanh^2 x
        out = ctx.output
        return grad * (1 - out * out)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x.data)
        # 1/(1+e^-x) overflows e^-x for very negative x; split by sign so exp never sees a large
        # positive argument.
        z = xp.exp(-abs(x.data))
        ctx.save_output()
        return xp.where(x.data >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # d sigma(x)/dx = sigma(x) (1 - sigma(x))
        out = ctx.output
        return grad * out * (1 - out)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x.data).maximum(x.data, 0)

    @staticmethod
    def backward(ctx, grad):
        # d relu(x)/dx = 1 where x > 0, else 0
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs_(x):
    return Abs.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


# -- two-way choices ---------------------------------------------------------------------------

class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return _binary("maximum", lambda x, y: xp_of(x if hasattr(x, "dtype") else y).maximum(x, y), a, b)

    @staticmethod
    def backward(ctx, grad):
        # the gradient goes to the larger operand; a tie splits it evenly
        share = (ctx.a > ctx.b) + 0.5 * (ctx.a == ctx.b)
        return grad * share, grad * (1 - share)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return _binary("minimum", lambda x, y: xp_of(x if hasattr(x, "dtype") else y).minimum(x, y), a, b)

    @staticmethod
    def backward(ctx, grad):
        # the gradient goes to the smaller operand; a tie splits it evenly
        share = (ctx.a < ctx.b) + 0.5 * (ctx.a == ctx.b)
        return grad * share, grad * (1 - share)


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return xp_of(x.data).clip(x.data, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        # d clamp(x)/dx = 1 inside [lo, hi], 0 where x was clipped
        (x,) = ctx.saved_tensors
        inside = (x >= ctx.lo) if ctx.lo is not None else None
        if ctx.hi is not None:
            upper = x <= ctx.hi
            inside = upper if inside is None else logical_and(inside, upper)
        return grad * inside, None, None


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        cond = data(condition)
        ctx.condition = cond
        xp = xp_of(cond)
        try:
            return xp.where(*operand_arrays("where", condition, a, b))
        except ValueError:
            raise broadcast_error("where", condition, a, b) from None

    @staticmethod
    def backward(ctx, grad):
        # each output element came from a or from b: its gradient goes back to that one
        zero = grad * 0
        return None, where(ctx.condition, grad, zero), where(ctx.condition, zero, grad)


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def clamp(x, min=None, max=None):
    """Limit x to [min, max]; either bound may be None, a number, or a tensor."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x if min is None else maximum(x, min)
        return out if max is None else minimum(out, max)
    return Clamp.apply(x, min, max)


def where(condition, a, b):
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together)."""
    return Where.apply(condition, a, b)


# -- without gradient: signs and comparisons -------------------------------------------------

def _no_grad_result(array):
    return Tensor._make(array)


def sign(x):
    return _no_grad_result(xp_of(x.data).sign(x.data))


def _compare(op, fn):
    def compare(a, b):
        return _no_grad_result(_binary(op, fn, a, b))
    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` as a bool tensor (no gradient)."
    return compare


eq = _compare("eq", lambda x, y: x == y)
ne = _compare("ne", lambda x, y: x != y)
lt = _compare("lt", lambda x, y: x < y)
le = _compare("le", lambda x, y: x <= y)
gt = _compare("gt", lambda x, y: x > y)
ge = _compare("ge", lambda x, y: x >= y)
logical_and = _compare("logical_and", lambda x, y: x & y)
logical_or = _compare("logical_or", lambda x, y: x | y)


def logical_not(x):
    return _no_grad_result(~data(x))
