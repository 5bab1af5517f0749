"""Activations: softmax and log_softmax (on the native kernels), gelu, leaky_relu, softplus.

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

import numpy
from numpy.typing import DTypeLike

from ..autograd.convert import cast
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import arrays, kernels
from ..backend.device import xp_of
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
        raise TypeError(
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


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF, as in PyTorch:

        approximate='none':  0.5 x (1 + erf(x / sqrt(2)))
        approximate='tanh':  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))

    Any shape -> the same shape. Written in tensor ops, so differentiable to any order.
    """
    ensure_tensor(x, "gelu")
    if approximate == "none":
        return 0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
