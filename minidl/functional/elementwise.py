"""Elementwise ops: arithmetic, the usual functions, and comparisons.

Most ops are one row of a table (``_unary``, ``_binary_op``): the forward on arrays (NumPy or CuPy:
the array's own methods and ``xp``), the gradient in tensor ops, so that it can itself be
differentiated (``create_graph=True``), and the math in a comment. Binary ops
broadcast, and never reduce their gradients themselves: the engine sums a broadcast gradient back
to each input's shape (``minidl/autograd/broadcast.py``).
Operands may be tensors or Python numbers. Result dtypes follow PyTorch's type promotion
(``promotion.py``): ``int32 + 0.5`` is float32, ``int32 / int32`` and ``int32.cos()`` too.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError
from . import promotion
from ._util import broadcast_error, data, operand_arrays, shape_of


def _binary(op, fn, a, b, floating=False, compute_only=False):
    """``fn`` on the arrays of a and b, computed in their promoted dtype (``promotion.py``), which
    is also the result's (``floating``: the float one, for true division), unless ``compute_only``
    (comparisons: computed in it, a bool result)."""
    x, y = operand_arrays(op, a, b)
    x, y, dtype = promotion.promote_operands(x, y, floating)
    try:
        out = fn(x, y)
    except ValueError as err:
        try:
            numpy.broadcast_shapes(tuple(shape_of(a)), tuple(shape_of(b)))
        except ValueError:
            raise broadcast_error(op, a, b) from None
        # the shapes were fine: some other complaint (e.g. an integer to a negative power)
        raise ValueError(f"{op}: {err}") from None
    except TypeError as err:  # NumPy has no such loop: bool - bool, for one
        raise DTypeError(f"{op}: not supported for dtypes {_dtype_names(a, b)} ({err})") from None
    if compute_only or out.dtype == dtype:
        return out
    return out.astype(dtype)  # a wider scalar, or a library that promotes its own way


def _dtype_names(*operands):
    return " and ".join(str(v.dtype) if hasattr(v, "dtype") else type(v).__name__ for v in operands)


# -- the tables: one line per op, its derivative beside its forward ---------------------------


class _Unary(Function):
    """y = f(x) elementwise. ``f(xp, a)`` works on arrays; ``chain(g, v)`` turns the output's
    gradient g into the input's, in tensor ops of v: x (``uses`` "x"), y ("y") or nothing (None)."""

    f: Callable[..., Any]  # set by _unary for each op, as are chain and uses
    chain: Callable[..., Tensor]
    uses: str | None = "x"
    floating = True  # a float function: integer and bool inputs give the default float dtype
    kinds = "biuf"  # the dtype kinds it takes (NumPy's letters: bool, int, unsigned, float)

    @classmethod
    def forward(cls, ctx, x):
        if cls.uses == "x":
            ctx.save_for_backward(x)
        elif cls.uses == "y":
            ctx.save_output()
        a = x.data
        if a.dtype.kind not in cls.kinds:
            raise DTypeError(f"{cls.__name__.lower()}: not supported for {a.dtype} tensors (shape {x.shape})")
        return cls.f(xp_of(a), promotion.float_array(a) if cls.floating else a)

    @classmethod
    def backward(cls, ctx, grad):
        v = ctx.saved_tensors[0] if cls.uses == "x" else ctx.output
        return cls.chain(grad, v)


def _unary(name, f, chain, uses="x", floating=True, kinds="biuf"):
    """A _Unary subclass; ``floating=False`` for ops that keep an integer dtype (neg, abs, relu),
    ``kinds`` narrower where PyTorch refuses bool (neg, abs, relu)."""
    attrs = {"f": staticmethod(f), "chain": staticmethod(chain), "uses": uses}
    return type(name, (_Unary,), attrs | {"floating": floating, "kinds": kinds})


def _zero(g, _):
    """The gradient of a piecewise-constant op (sign, round): zero, also where g is inf or nan."""
    return Tensor._make(xp_of(g.data).zeros_like(g.data))


def _sign(xp, a):
    return a.copy() if a.dtype == bool else xp.sign(a)  # a bool's sign is itself, as in PyTorch


_INTS = {"floating": False, "kinds": "iuf"}  # keeps an integer dtype, refuses bool (as PyTorch does)


def _sigmoid(xp, a):
    # 1/(1+e^-x) overflows e^-x for very negative x; split by sign so exp never sees a large
    # positive argument.
    z = xp.exp(-abs(a))
    return xp.where(a >= 0, 1 / (1 + z), z / (1 + z)).astype(a.dtype, copy=False)


#   name                forward, on arrays             gradient, in tensor ops       math
Neg = _unary("Neg", lambda xp, a: -a, lambda g, _: -g, None, **_INTS)  # d(-x)/dx = -1
Exp = _unary("Exp", lambda xp, a: xp.exp(a), lambda g, y: g * y, uses="y")  # d e^x/dx = e^x
Log = _unary("Log", lambda xp, a: xp.log(a), lambda g, x: g / x)  # d ln x/dx = 1/x
Sqrt = _unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda g, y: g / (2 * y), uses="y")  # 1/(2 sqrt x)
Abs = _unary("Abs", lambda xp, a: abs(a), lambda g, x: g * sign(x), **_INTS)  # sign(x); 0 at 0
Sin = _unary("Sin", lambda xp, a: xp.sin(a), lambda g, x: g * x.cos())  # d sin x = cos x
Cos = _unary("Cos", lambda xp, a: xp.cos(a), lambda g, x: -g * x.sin())  # d cos x = -sin x
Tanh = _unary("Tanh", lambda xp, a: xp.tanh(a), lambda g, y: g * (1 - y * y), uses="y")  # 1 - tanh^2
Sigmoid = _unary("Sigmoid", _sigmoid, lambda g, y: g * y * (1 - y), uses="y")  # s (1 - s)
Relu = _unary("Relu", lambda xp, a: xp.maximum(a, 0), lambda g, x: g * (x > 0), **_INTS)  # 1 where x > 0
Sign = _unary("Sign", _sign, _zero, None, floating=False)  # d sign(x)/dx = 0, also at 0 (PyTorch's choice)


class _Binary(Function):
    """y = f(a, b) elementwise, broadcasting; a or b may be a number. ``da(g, a, b)`` and
    ``db(g, a, b)`` are the gradients for a and b, each computed only when that input needs it."""

    op: str  # set by _binary_op for each op, as are f, da and db
    f: Callable[..., Any]
    da: Callable[..., Tensor | None]
    db: Callable[..., Tensor | None]
    saves = True  # False when the gradients do not depend on a and b (add, sub)
    floating = False  # True for true division: integer operands give the default float dtype
    bools = True  # False where PyTorch refuses a bool tensor operand (sub)

    @classmethod
    def forward(cls, ctx, a, b):
        if not cls.bools and any(_is_bool_tensor(v) or isinstance(v, bool) for v in (a, b)):
            raise DTypeError(
                f"{cls.op}: not supported with a bool operand (dtypes {_dtype_names(a, b)}); "
                f"for a mask use logical_xor or ~, else convert first, e.g. t.int()"
            )
        if cls.saves:
            ctx.save_for_backward(a, b)
        return _binary(cls.op, cls.f, a, b, cls.floating)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors if cls.saves else (None, None)
        need_a, need_b = ctx.needs_input_grad
        return (cls.da(grad, a, b) if need_a else None), (cls.db(grad, a, b) if need_b else None)


def _is_bool_tensor(v):
    return isinstance(v, Tensor) and v.dtype == bool


def _binary_op(name, f, da, db, saves=True, floating=False, bools=True):
    return type(
        name,
        (_Binary,),
        {
            "f": staticmethod(f),
            "da": staticmethod(da),
            "db": staticmethod(db),
            "saves": saves,
            "floating": floating,
            "bools": bools,
            "op": name.lower(),
        },
    )


def _larger(a, b):
    """Which operand the gradient of max(a, b) goes to: 1 for a, 0 for b, 1/2 each on a tie."""
    return (a > b) + 0.5 * (a == b)


def _max(x, y):
    return xp_of(x if hasattr(x, "dtype") else y).maximum(x, y)


def _min(x, y):
    return xp_of(x if hasattr(x, "dtype") else y).minimum(x, y)


#   name                   forward, on arrays     gradient for a, gradient for b
# d(a + b)/da = 1, d(a + b)/db = 1
Add = _binary_op("Add", lambda x, y: x + y, lambda g, a, b: g, lambda g, a, b: g, saves=False)
# d(a - b)/da = 1, d(a - b)/db = -1
Sub = _binary_op("Sub", lambda x, y: x - y, lambda g, a, b: g, lambda g, a, b: -g, saves=False, bools=False)
# d(a b)/da = b, d(a b)/db = a
Mul = _binary_op("Mul", lambda x, y: x * y, lambda g, a, b: g * b, lambda g, a, b: g * a)
# d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
Div = _binary_op(
    "Div", lambda x, y: x / y, lambda g, a, b: g / b, lambda g, a, b: -g * a / (b * b), floating=True
)
# d max(a, b)/da = 1 where a > b, 1/2 on a tie, else 0; b takes the rest (min mirrors it)
Maximum = _binary_op(
    "Maximum", _max, lambda g, a, b: g * _larger(a, b), lambda g, a, b: g * (1 - _larger(a, b))
)
Minimum = _binary_op(
    "Minimum", _min, lambda g, a, b: g * _larger(b, a), lambda g, a, b: g * (1 - _larger(b, a))
)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        if _is_bool_tensor(b) and promotion.result_type(a, b).kind == "b":
            raise DTypeError(f"pow: not supported for a bool result (dtypes {_dtype_names(a, b)})")
        ctx.save_for_backward(a, b)
        if isinstance(b, Tensor) and b.requires_grad:
            ctx.save_output()  # d(a^b)/db = a^b ln a
        return _binary("pow", lambda x, y: x**y, a, b)

    @staticmethod
    def backward(ctx, grad):
        # d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln a; PyTorch's choices at the edges:
        # where b = 0 the da term is 0 (a^0 = 1 is constant, also at a = 0 where b a^(b-1) is
        # 0 * inf), and where a = 0 and b >= 0 the db term is 0 (ln 0 = -inf times a^b = 0).
        da, db = ctx.needs_input_grad
        a, b = ctx.saved_tensors
        ga = gb = None
        if da:
            if not isinstance(b, Tensor):
                ga = grad * 0 if b == 0 else grad * b * a ** (b - 1)
            else:
                ga = grad * where(b == 0, 0.0, b * a ** (b - 1))
        if db:
            if isinstance(a, Tensor):
                gb = grad * where((a == 0) & (b >= 0), 0.0, ctx.output * log(a))
            elif a == 0:
                gb = grad * where(b >= 0, 0.0, ctx.output * -math.inf)
            else:
                gb = grad * ctx.output * _log_number(a)
        return ga, gb


def _log_number(a):
    """ln of a constant base other than 0: nan below 0 (as in PyTorch), never Python's math error."""
    return math.log(a) if a > 0 else math.nan


# -- the public functions ----------------------------------------------------------------------

Operand = Tensor | float  # a Python int, float or NumPy scalar (or array) where a number goes


def _one_argument(op: type[Function]) -> Callable[[Tensor], Tensor]:
    def fn(x: Tensor) -> Tensor:
        return op.apply(x)

    fn.__name__ = fn.__qualname__ = op.__name__.lower()
    fn.__doc__ = f"Elementwise ``{fn.__name__}``.  Any shape -> the same shape."
    return fn


def _two_arguments(op: type[Function]) -> Callable[[Operand, Operand], Tensor]:
    def fn(a: Operand, b: Operand) -> Tensor:
        return op.apply(a, b)

    fn.__name__ = fn.__qualname__ = op.__name__.lower()
    fn.__doc__ = f"Elementwise ``{fn.__name__}``, broadcasting; either operand may be a number."
    return fn


neg, exp, log, sqrt, abs_, sin, cos, tanh, sigmoid, relu = map(
    _one_argument, (Neg, Exp, Log, Sqrt, Abs, Sin, Cos, Tanh, Sigmoid, Relu)
)
add, sub, mul, div, pow, maximum, minimum = map(_two_arguments, (Add, Sub, Mul, Div, Pow, Maximum, Minimum))


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        # computed in the promoted dtype: an int32 tensor clamped to 0.5 is float32, as in PyTorch;
        # tensor bounds broadcast, max then min, so where lo > hi the result is hi
        a, *bounds = operand_arrays("clamp", x, *(v for v in (lo, hi) if v is not None))
        (a, *bounds), _ = promotion.promote_all(a, *bounds)
        lo, hi = (bounds.pop(0) if v is not None else None for v in (lo, hi))
        try:
            return xp_of(a).clip(a, lo, hi)
        except ValueError:
            raise broadcast_error("clamp", *(v for v in (x, lo, hi) if v is not None)) from None

    @staticmethod
    def backward(ctx, grad):
        # d clamp(x)/dx = 1 inside [lo, hi], 0 where x was clipped; a tensor bound takes the
        # gradient where it is the result (PyTorch's choices: x wins a tie; lo > hi gives hi)
        x, lo, hi = ctx.saved_tensors
        if lo is None:
            return grad * (x <= hi), None, grad * (x > hi)
        if hi is None:
            return grad * (x >= lo), grad * (x < lo), None
        _, need_lo, need_hi = ctx.needs_input_grad
        g_lo = grad * ((x < lo) & (lo < hi)) if need_lo else None
        g_hi = grad * ((x > hi) | (hi < lo)) if need_hi else None
        return grad * ((x >= lo) & (x <= hi)), g_lo, g_hi


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        cond = data(condition)
        ctx.save_for_backward(condition if isinstance(condition, Tensor) else cond)
        xp = xp_of(cond)
        cond, x, y = operand_arrays("where", condition, a, b)
        (x, y), _ = promotion.promote_all(x, y)
        try:
            return xp.where(cond, x, y)
        except ValueError:
            raise broadcast_error("where", condition, a, b) from None

    @staticmethod
    def backward(ctx, grad):
        # each output element came from a or from b: its gradient goes back to that one
        (condition,) = ctx.saved_tensors
        zero = grad * 0
        return None, where(condition, grad, zero), where(condition, zero, grad)


def clamp(x: Tensor, min: Operand | None = None, max: Operand | None = None) -> Tensor:
    """Limit x to [min, max]; either bound may be None, a number, or a tensor."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return Clamp.apply(x, min, max)


def where(condition: Tensor | bool, a: Operand, b: Operand) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together)."""
    return Where.apply(condition, a, b)


# -- without gradient: signs and comparisons -------------------------------------------------


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 elementwise; its gradient is 0 everywhere (PyTorch's choice at 0 too)."""
    return Sign.apply(x)


def _compare(op: str, fn: Callable[[Any, Any], Any]) -> Callable[[Operand, Operand], Tensor]:
    def compare(a: Operand, b: Operand) -> Tensor:
        return Tensor._make(_binary(op, fn, a, b, compute_only=True))

    compare.__name__ = op
    compare.__doc__ = f"Elementwise ``{op}`` as a bool tensor (no gradient)."
    return compare


eq = _compare("eq", lambda x, y: x == y)
ne = _compare("ne", lambda x, y: x != y)
lt = _compare("lt", lambda x, y: x < y)
le = _compare("le", lambda x, y: x <= y)
gt = _compare("gt", lambda x, y: x > y)
ge = _compare("ge", lambda x, y: x >= y)
# logical_and/or/xor/not and & | ^ ~ are in logical.py
