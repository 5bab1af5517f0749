"""Activations: softmax, log_softmax and softmin (on the native kernels), and the elementwise ones:
gelu, leaky_relu, softplus, elu, selu, celu, silu, mish, hardswish, hardsigmoid, hardtanh, relu6,
softsign, logsigmoid.

softmax and log_softmax work along any ``dim``: the forward moves that axis last, flattens the
others into rows, and calls the row kernel (``backend.kernels.softmax_forward`` ->
``csrc/cpu/softmax.cpp``); then it moves the axis back.

Their backward passes run on the native kernels too (``softmax_backward``,
``log_softmax_backward``), through a second Function each (``SoftmaxBackward``,
``LogSoftmaxBackward``) whose own backward is written in tensor ops. So a first derivative costs
one kernel call, and ``create_graph=True`` still gives second (and higher) derivatives:

    y = softmax(x)          Softmax.forward: kernel           Softmax.backward: SoftmaxBackward.apply
    gx = SoftmaxBackward(g, y)  forward: kernel               backward: tensor ops (below)

relu, sigmoid and tanh live in ``elementwise.py``.
"""

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy
from numpy.typing import DTypeLike

from ..autograd.convert import cast
from ..autograd.dtypes import get_default_dtype
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..backend import arrays, kernels
from ..backend.device import xp_of
from ..errors import DTypeError
from . import elementwise as ew
from ._util import ensure_tensor, normalize_dim

_KERNEL_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


# ---------------------------------------------------------------------------------------------
# Any dim <-> the kernels' (rows, cols)


def _to_rows(a, dim):
    """``a`` with axis ``dim`` moved last and the other axes flattened: a (rows, cols) array.
    Also returns the shape after the move, which ``_from_rows`` needs to undo it."""
    if a.ndim == 0:  # a scalar is one row of one entry
        return a.reshape(1, 1), ()
    moved = a if dim == a.ndim - 1 else xp_of(a).moveaxis(a, dim, -1)
    cols = moved.shape[-1]
    rows = math.prod(moved.shape[:-1])  # not reshape(-1, cols): that is ambiguous when cols == 0
    return moved.reshape(rows, cols), moved.shape


def _from_rows(rows, moved_shape, dim, ndim):
    """The inverse of ``_to_rows``: (rows, cols) back to the original layout (a view)."""
    if ndim == 0:
        return rows.reshape(())
    out = rows.reshape(moved_shape)
    return out if dim == ndim - 1 else xp_of(out).moveaxis(out, -1, dim)


def _along(kernel, dim, *arrays):
    """Run a row kernel along axis ``dim`` of same-shaped arrays."""
    pieces = [_to_rows(a, dim) for a in arrays]
    out = kernel(*(rows for rows, _ in pieces))
    return _from_rows(out, pieces[0][1], dim, arrays[0].ndim)


def _prepare(op, x, dim, dtype):
    """The input (cast to ``dtype`` when given) and ``dim`` as a non-negative axis."""
    ensure_tensor(x, op)
    if dtype is not None:
        x = cast(x, dtype)
    if x.dtype not in _KERNEL_DTYPES:
        raise TypeError(
            f"{op}: expected a float32 or float64 tensor, got {x.dtype} (shape {x.shape}); "
            f"convert it first, or pass dtype=minidl.float32"
        )
    return x, normalize_dim(dim, x.ndim, op)


# ---------------------------------------------------------------------------------------------
# softmax and log_softmax: a row kernel forward, a row kernel backward, the same plumbing


class _RowKernel(Function):
    """y = kernel(x) along ``dim``. Its backward is ``grad_op``: the backward kernel as a Function
    of (grad, y), so that it can be differentiated in its turn."""

    kernel = ""  # the name in backend.kernels, looked up per call
    grad_op: type[Function]

    @classmethod
    def forward(cls, ctx, x, dim):
        ctx.dim = dim
        ctx.save_output()  # both backwards are written in terms of the output y
        return _along(getattr(kernels, cls.kernel), dim, x.data)

    @classmethod
    def backward(cls, ctx, grad):
        return cls.grad_op.apply(grad, ctx.output, ctx.dim), None


class _RowKernelBackward(Function):
    """grad_x = kernel(g, y) along ``dim``; each subclass's ``grads`` differentiates it in g and y
    for an upstream gradient h (None where that input needs no gradient)."""

    kernel = ""
    grads: Callable[..., tuple[Tensor | None, Tensor | None]]  # set by each subclass

    @classmethod
    def forward(cls, ctx, g, y, dim):
        ctx.save_for_backward(g, y)
        ctx.dim = dim
        return _along(getattr(kernels, cls.kernel), dim, g.data, y.data)

    @classmethod
    def backward(cls, ctx, h):
        g, y = ctx.saved_tensors
        need_g, need_y, _ = ctx.needs_input_grad
        return (*cls.grads(h, g, y, ctx.dim, need_g, need_y), None)


class SoftmaxBackward(_RowKernelBackward):
    """grad_x = y * (g - sum(g * y, dim)) on the kernel."""

    kernel = "softmax_backward"

    @staticmethod
    def grads(h, g, y, dim, need_g, need_y):
        # gx_i = y_i g_i - y_i s,  s = sum_j g_j y_j. For an upstream gradient h:
        #   d/dg_k: sum_i h_i y_i (delta_ik - y_k) = y_k (h_k - sum_i h_i y_i)   (the same map, on h)
        #   d/dy_k: h_k (g_k - s) - g_k sum_i h_i y_i
        dg = SoftmaxBackward.apply(h, y, dim) if need_g else None
        dy = None
        if need_y:
            dy = h * (g - (g * y).sum(dim, keepdim=True)) - g * (h * y).sum(dim, keepdim=True)
        return dg, dy


class Softmax(_RowKernel):
    # d y_i / d x_k = y_i (delta_ik - y_k):  grad_x = y * (grad - sum(grad * y))
    kernel, grad_op = "softmax_forward", SoftmaxBackward


class LogSoftmaxBackward(_RowKernelBackward):
    """grad_x = g - exp(y) * sum(g, dim) on the kernel."""

    kernel = "log_softmax_backward"

    @staticmethod
    def grads(h, g, y, dim, need_g, need_y):
        # gx_i = g_i - p_i S,  p = exp(y), S = sum_j g_j. For an upstream gradient h:
        #   d/dg_k: sum_i h_i (delta_ik - p_i) = h_k - sum_i h_i p_i
        #   d/dy_k: -h_k p_k S
        p = y.exp()
        dg = h - (h * p).sum(dim, keepdim=True) if need_g else None
        dy = -(h * p) * g.sum(dim, keepdim=True) if need_y else None
        return dg, dy


class LogSoftmax(_RowKernel):
    # d y_i / d x_k = delta_ik - softmax_k = delta_ik - exp(y_k):  grad_x = grad - exp(y) sum(grad)
    kernel, grad_op = "log_softmax_forward", LogSoftmaxBackward


def softmax(x: Tensor, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``: each slice along ``dim`` becomes a distribution.

    x: any shape (float32 or float64; ``dtype`` casts first) -> the same shape.
    Computed as exp(x - max) / sum(exp(x - max)), so large logits do not overflow. A slice that
    contains NaN, or is all -inf, comes out NaN (as in PyTorch).
    """
    x, axis = _prepare("softmax", x, dim, dtype)
    return Softmax.apply(x, axis)


def log_softmax(x: Tensor, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed directly (never log of a rounded-to-0 softmax).

    x: any shape (float32 or float64; ``dtype`` casts first) -> the same shape.
    y = (x - max) - log(sum(exp(x - max))). A slice that contains NaN, or is all -inf, comes out
    NaN (as in PyTorch).
    """
    x, axis = _prepare("log_softmax", x, dim, dtype)
    return LogSoftmax.apply(x, axis)


def softmin(x: Tensor, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """softmax(-x) along ``dim``: the smallest entries get the most weight.

    x: any shape (float32 or float64; ``dtype`` casts first) -> the same shape.
    """
    x, axis = _prepare("softmin", x, dim, dtype)
    return Softmax.apply(-x, axis)


# ---------------------------------------------------------------------------------------------
# Elementwise activations


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        xp = xp_of(x.data)
        positive = x.data > 0
        # The slope as a constant array: the backward multiplies by it (and it has no derivative
        # of its own, so leaky_relu is differentiable to any order: the second derivative is 0).
        ctx.save_for_backward(xp.where(positive, 1, negative_slope).astype(x.dtype))
        return xp.where(positive, x.data, x.data * negative_slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # d/dx = 1 where x > 0, negative_slope elsewhere (at 0 too, as in PyTorch)
        (slope,) = ctx.saved_tensors
        return grad * Tensor._make(slope), None


def _check_floating(op, x):
    """``x`` if it is a floating-point tensor: on integers these ops would round to nonsense."""
    ensure_tensor(x, op)
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{op}: expected a floating-point tensor, got {x.dtype} of shape {x.shape}; "
            f"convert with x.float()"
        )
    return x


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope * x elsewhere.  Any shape -> the same shape."""
    _check_floating("leaky_relu", x)
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    return LeakyRelu.apply(x, float(negative_slope))


class Softplus(Function):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = xp_of(x.data)
        ctx.beta = beta
        z = x.data * beta
        # log(1 + e^z) = log(1 + e^-|z|) + max(z, 0): e^-|z| <= 1 never overflows, and log1p
        # keeps the digits of a small e^-|z| that 1 + e^-|z| would round away.
        out = (xp.log1p(xp.exp(-abs(z))) + xp.maximum(z, 0)) / beta
        linear = None
        if threshold is not None:
            # Above the threshold softplus(x) equals x to working precision; PyTorch returns x there.
            linear = z > threshold
            out = xp.where(linear, x.data, out)
        ctx.save_for_backward(x, linear)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # d/dx (1/beta) log(1 + e^(beta x)) = sigmoid(beta x); 1 where the output was x itself
        x, linear = ctx.saved_tensors
        slope = ew.sigmoid(x * ctx.beta)
        if linear is not None:
            slope = ew.where(linear, 1.0, slope)
        return grad * slope, None, None


def softplus(x: Tensor, beta: float = 1.0, threshold: float | None = 20.0) -> Tensor:
    """(1/beta) log(1 + exp(beta x)), a smooth relu; x itself where beta x > threshold.

    Any shape -> the same shape. ``threshold=None`` never switches to x.
    """
    ensure_tensor(x, "softplus")
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(x, float(beta), None if threshold is None else float(threshold))


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return arrays.erf(x.data)

    @staticmethod
    def backward(ctx, grad):
        # d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * (-(x * x)).exp()


def erf(x: Tensor) -> Tensor:
    """The error function, elementwise.  Any shape -> the same shape."""
    return Erf.apply(_check_floating("erf", x))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


class Gelu(Function):
    """One node for GELU, forward and first derivative on arrays: written in tensor ops it was a
    dozen nodes and as many full-size temporaries each way, the largest cost of a GPT's MLP."""

    @staticmethod
    def forward(ctx, x, approximate):
        xp, a = xp_of(x.data), x.data
        one_half = a.dtype.type(0.5)
        if approximate == "tanh":
            u = a * a
            u *= a.dtype.type(_GELU_CUBIC * _SQRT_2_OVER_PI)
            u += a.dtype.type(_SQRT_2_OVER_PI)
            u *= a  # u = sqrt(2/pi) (x + 0.044715 x^3)
            phi = xp.tanh(u, out=u)  # the tanh is the CDF's stand-in, kept for the backward
        else:
            phi = arrays.erf(a * a.dtype.type(1 / math.sqrt(2)))
        ctx.save_for_backward(x, phi)
        ctx.approximate = approximate
        y = phi + 1
        y *= a
        y *= one_half  # 0.5 x (1 + phi)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, phi = ctx.saved_tensors
        if is_grad_enabled():  # create_graph=True: the same derivative in tensor ops, differentiable again
            return _gelu_slope(x, ctx.approximate) * grad, None
        a = x.data
        xp, dtype = xp_of(a), a.dtype.type
        if ctx.approximate == "tanh":
            # d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2),  t = phi
            slope = a * a
            slope *= dtype(3 * _GELU_CUBIC * _SQRT_2_OVER_PI)
            slope += dtype(_SQRT_2_OVER_PI)
            slope *= 1 - phi * phi
        else:
            # d/dx = 0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)
            slope = a * a
            slope *= dtype(-0.5)
            slope = xp.exp(slope, out=slope)
            slope *= dtype(2 / math.sqrt(2 * math.pi))
        slope *= a
        slope += phi
        slope += 1
        slope *= dtype(0.5)
        slope *= grad.data
        return slope, None


def _gelu_slope(x: Tensor, approximate: str) -> Tensor:
    """GELU's derivative in tensor ops (for create_graph=True); the math of Gelu.backward."""
    if approximate == "tanh":
        t = (_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)).tanh()
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
    return 0.5 * (1 + erf(x * (1 / math.sqrt(2)))) + x * (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF, as in PyTorch:

        approximate='none':  0.5 x (1 + erf(x / sqrt(2)))
        approximate='tanh':  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))

    Any shape -> the same shape. Differentiable to any order (one node; ``Gelu``).
    """
    _check_floating("gelu", x)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate)


# ---------------------------------------------------------------------------------------------
# The PyTorch activation zoo: one row per op, its forward on arrays beside its slope.
#
# Where an activation has a kink, the slope there is the one PyTorch picks (tested against it):
#   elu/selu at 0: the negative side's (alpha, scale alpha)   hardtanh/relu6 at a bound: 0
#   hardswish at -3: 0, at 3: 1 (the outer pieces')           hardsigmoid at +-3: 0


class _Pointwise(Function):
    """y = f(x, *params) elementwise. ``f(xp, a, *params)`` works on arrays; ``chain(g, x,
    *params)`` turns the output's gradient g into the input's, in tensor ops of x (so that it can
    be differentiated again). ``params`` are Python numbers."""

    f: Callable[..., Any]  # set by _pointwise for each op, as is chain
    chain: Callable[..., Tensor]

    @classmethod
    def forward(cls, ctx, x, *params):
        ctx.save_for_backward(x)
        ctx.params = params
        # the branch a where() throws away may overflow (exp of a large x): not an error
        with numpy.errstate(over="ignore"):
            return cls.f(xp_of(x.data), x.data, *params).astype(x.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        with numpy.errstate(over="ignore"):  # celu with alpha < 0 overflows where PyTorch does
            return (cls.chain(grad, x, *ctx.params), *(None for _ in ctx.params))


def _pointwise(name, f, chain):
    return type(name, (_Pointwise,), {"f": staticmethod(f), "chain": staticmethod(chain)})


def _softplus(xp, a):
    # log(1 + e^x) without overflow: log1p(e^-|x|) + max(x, 0)
    return xp.log1p(xp.exp(-abs(a))) + xp.maximum(a, 0)


# elu, selu and celu are one op: scale * (x for x > 0, alpha (e^(x input_scale) - 1) otherwise).
# ``grad_scale`` is input_scale as the backward uses it: PyTorch's celu backward takes
# 1 / float32(alpha), not 1 / alpha; we follow it, so that gradients agree in float64 too.


def _elu(xp, a, alpha, scale, input_scale, grad_scale):
    # expm1 of min(x, 0): the positive side never reaches exp, and small |x| keeps its digits
    return scale * xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0) * input_scale))


def _elu_grad(g, x, alpha, scale, _, input_scale):
    # d/dx = scale for x > 0; scale alpha input_scale e^(x input_scale) for x <= 0 (0 included)
    negative = (scale * alpha * input_scale) * ew.exp(ew.clamp(x, max=0) * input_scale)
    return g * ew.where(x > 0, scale, negative)


def _silu_grad(g, x):
    # d/dx x s(x) = s + x s (1 - s),  s = sigmoid(x)
    s = ew.sigmoid(x)
    return g * (s * (1 + x * (1 - s)))


def _mish_grad(g, x):
    # d/dx x tanh(sp(x)) = t + x sigmoid(x) (1 - t^2),  t = tanh(softplus(x)), sp' = sigmoid
    t = ew.tanh(Softplus.apply(x, 1.0, None))
    return g * (t + x * ew.sigmoid(x) * (1 - t * t))


# PyTorch's CPU kernel takes the slope 1/6 as a float32 constant, in float64 too; so do we, so
# that the gradients agree digit for digit (the difference is 3e-8 relative).
_ONE_SIXTH = float(numpy.float32(1 / 6))

#   name                forward, on arrays                                    gradient, in tensor ops
Elu = _pointwise("Elu", _elu, _elu_grad)
Hardtanh = _pointwise(
    "Hardtanh",
    lambda xp, a, lo, hi: xp.clip(a, lo, hi),
    lambda g, x, lo, hi: g * ((x > lo) & (x < hi)),  # 1 strictly inside, 0 at the bounds
)
Silu = _pointwise("Silu", lambda xp, a: a * ew._sigmoid(xp, a), _silu_grad)
Mish = _pointwise("Mish", lambda xp, a: a * xp.tanh(_softplus(xp, a)), _mish_grad)
Hardswish = _pointwise(
    "Hardswish",
    lambda xp, a: a * xp.clip(a + 3, 0, 6) / 6,
    # 0 up to -3 (included), x/3 + 1/2 on (-3, 3), 1 from 3 on
    lambda g, x: g * ew.where(x <= -3, 0.0, ew.where(x < 3, x / 3 + 0.5, 1.0)),
)
Hardsigmoid = _pointwise(
    "Hardsigmoid",
    lambda xp, a: xp.clip(a + 3, 0, 6) / 6,
    # 1/6 strictly inside (-3, 3), else 0
    lambda g, x: g * ((x > -3) & (x < 3)) * _ONE_SIXTH,
)
Softsign = _pointwise(
    "Softsign",
    lambda xp, a: a / (1 + abs(a)),
    lambda g, x: g / ((1 + x.abs()) * (1 + x.abs())),  # d/dx x/(1+|x|) = 1/(1+|x|)^2
)
Logsigmoid = _pointwise(
    "Logsigmoid",
    # log(1/(1+e^-x)) = min(x, 0) - log1p(e^-|x|): finite for any x (-1000 gives -1000)
    lambda xp, a: xp.minimum(a, 0) - xp.log1p(xp.exp(-abs(a))),
    lambda g, x: g * ew.sigmoid(-x),  # d/dx log sigmoid(x) = 1 - sigmoid(x) = sigmoid(-x)
)

# SELU's constants (Klambauer et al. 2017), as PyTorch spells them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _number(op: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


# ``inplace=True`` is accepted so that PyTorch code runs unchanged; minidl still returns a new
# tensor (the same values; only the memory saving is not made), as nn.ReLU(inplace=True) does.


def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise.  Any shape -> the same shape."""
    return Elu.apply(_check_floating("elu", x), _number("elu", "alpha", alpha), 1.0, 1.0, 1.0)


def selu(x: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with SELU's fixed alpha ~ 1.6733 and scale ~ 1.0507 (self-normalising).
    Any shape -> the same shape."""
    return Elu.apply(_check_floating("selu", x), _SELU_ALPHA, _SELU_SCALE, 1.0, 1.0)


def celu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)): elu with slope 1 at 0 for every alpha.
    Any shape -> the same shape."""
    a = _number("celu", "alpha", alpha)
    if a == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    return Elu.apply(_check_floating("celu", x), a, 1.0, 1.0 / a, 1.0 / float(numpy.float32(a)))


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish).  Any shape -> the same shape."""
    return Silu.apply(_check_floating("silu", x))


def mish(x: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)).  Any shape -> the same shape."""
    return Mish.apply(_check_floating("mish", x))


def hardswish(x: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6: 0 below -3, x above 3, a parabola between.  Any shape -> the same."""
    return Hardswish.apply(_check_floating("hardswish", x))


def hardsigmoid(x: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between.  Any shape -> the same shape."""
    return Hardsigmoid.apply(_check_floating("hardsigmoid", x))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val].  Any shape -> the same shape.

    As in PyTorch it also takes integer tensors (the bounds are truncated to integers) and keeps
    their dtype; bool is refused.
    """
    return _clip("hardtanh", x, min_val, max_val)


def relu6(x: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), i.e. hardtanh(x, 0, 6) (its slope at 0 and at 6 is 0).  Any shape."""
    return _clip("relu6", x, 0.0, 6.0)


def _clip(op: str, x: Tensor, min_val: float, max_val: float) -> Tensor:
    ensure_tensor(x, op)
    lo, hi = _number(op, "min_val", min_val), _number(op, "max_val", max_val)
    if lo > hi:
        raise ValueError(f"{op}: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    if x.dtype.kind == "b":
        raise DTypeError(f"{op}: not implemented for bool (shape {tuple(x.shape)}); convert with x.float()")
    if x.dtype.kind in "iu":
        if x.dtype.kind == "u" and lo < 0:
            raise DTypeError(f"{op}: min_val {min_val} is negative, which {x.dtype} cannot hold")
        lo, hi = int(lo), int(hi)  # what PyTorch does: clamp with the bounds cast to the dtype
    return Hardtanh.apply(x, lo, hi)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|).  Any shape -> the same shape; integers give the default float dtype (as
    PyTorch's x / (|x| + 1) does)."""
    ensure_tensor(x, "softsign")
    if x.dtype.kind == "b":
        raise DTypeError(
            f"softsign: not implemented for bool (shape {tuple(x.shape)}); convert with x.float()"
        )
    if x.dtype.kind != "f":
        x = cast(x, get_default_dtype())
    return Softsign.apply(x)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow for any x.  Any shape -> the same shape."""
    return Logsigmoid.apply(_check_floating("logsigmoid", x))
