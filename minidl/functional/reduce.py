"""Reductions: sum, mean, max, min, var, std, logsumexp, each over ``dim`` (an int, a tuple, or
None for all) with ``keepdim``, as in PyTorch.

A reduction's backward must put the gradient back on every element that was reduced: it first
re-inserts the reduced axes (size 1), then broadcasts to the input's shape.
"""

import builtins
import collections

from ..autograd.broadcast import expand_to
from ..autograd.convert import cast
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ._util import Dims, normalize_dim, normalize_dims

ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1: the keepdim=True shape."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _unreduce(grad, shape, axes):
    """A gradient of the reduced shape, spread back over the full ``shape``."""
    return expand_to(grad.reshape(_kept_shape(shape, axes)), shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        return x.data.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # d sum(x)/dx_i = 1 for every reduced element
        return _unreduce(grad, ctx.shape, ctx.axes), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        ctx.count = builtins.max(1, _count(x.shape, axes))
        return x.data.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        # d mean(x)/dx_i = 1/n
        return _unreduce(grad, ctx.shape, ctx.axes) / ctx.count, None, None


class Amax(Function):
    """max over ``axes``; ties share the gradient equally (as PyTorch's amax does)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, smallest):
        if x.data.size == 0:
            raise ValueError(
                f"{'min' if smallest else 'max'}: cannot reduce an empty tensor of shape {x.shape}"
            )
        out = x.data.min(axis=axes, keepdims=True) if smallest else x.data.max(axis=axes, keepdims=True)
        ctx.save_for_backward(x, Tensor._make(out))
        ctx.axes = axes
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        # d max(x)/dx_i = 1/k for the k elements equal to the max, 0 elsewhere
        x, out = ctx.saved_tensors
        mask = cast(x == out, x.dtype)
        count = mask.sum(dim=ctx.axes, keepdim=True)
        return _unreduce(grad, x.shape, ctx.axes) * mask / count, None, None, None


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def sum(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (all dims when None).  x: (...) -> reduced shape."""
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def mean(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all dims when None)."""
    if x.dtype.kind != "f":
        raise TypeError(f"mean: expected a floating-point tensor, got {x.dtype}; use x.float().mean()")
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


def _extreme(x, dim, keepdim, smallest):
    op = "min" if smallest else "max"
    if dim is None:
        return Amax.apply(x, normalize_dims(None, x.ndim, op), keepdim, smallest)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int (use amax/amin for several dims)")
    axis = normalize_dim(dim, x.ndim, op)
    values = Amax.apply(x, (axis,), keepdim, smallest) if x.ndim else Amax.apply(x, (), keepdim, smallest)
    xp = xp_of(x.data)
    pick = xp.argmin if smallest else xp.argmax
    indices = pick(x.data, axis=axis) if x.ndim else xp.zeros((), dtype=xp.int64)
    if keepdim and x.ndim:
        indices = xp.expand_dims(indices, axis)
    return ValuesIndices(values, Tensor._make(indices.astype(xp.int64)))


def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """``x.max()`` is the largest value; ``x.max(dim)`` is ``(values, indices)`` along dim."""
    return _extreme(x, dim, keepdim, smallest=False)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """``x.min()`` is the smallest value; ``x.min(dim)`` is ``(values, indices)`` along dim."""
    return _extreme(x, dim, keepdim, smallest=True)


def amax(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    return Amax.apply(x, normalize_dims(dim, x.ndim, "amax"), keepdim, False)


def amin(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    return Amax.apply(x, normalize_dims(dim, x.ndim, "amin"), keepdim, True)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when dim is None); no gradient."""
    if dim is None:
        return Tensor._make(xp_of(x.data).argmax(x.data).astype("int64"))
    normalize_dim(dim, x.ndim, "argmax")  # a bad dim is reported as argmax's, not max's
    return max(x, dim, keepdim).indices


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        return Tensor._make(xp_of(x.data).argmin(x.data).astype("int64"))
    normalize_dim(dim, x.ndim, "argmin")
    return min(x, dim, keepdim).indices


def var(x: Tensor, dim: Dims = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """Variance: sum((x - mean)^2) / (n - correction); correction=1 is the unbiased estimate."""
    axes = normalize_dims(dim, x.ndim, "var")
    n = _count(x.shape, axes)
    centered = x - mean(x, dim=axes, keepdim=True)
    return sum(centered * centered, dim=axes, keepdim=keepdim) / builtins.max(n - correction, 0)


def std(x: Tensor, dim: Dims = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """Standard deviation: sqrt(var)."""
    normalize_dims(dim, x.ndim, "std")  # a bad dim is reported as std's, not var's
    return var(x, dim, correction, keepdim) ** 0.5


def logsumexp(x: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m))) with m = max(x) so
    exp never overflows. m is a constant for differentiation: the result does not depend on it."""
    axes = normalize_dims(dim, x.ndim, "logsumexp")
    xp = xp_of(x.data)
    m = x.data.max(axis=axes, keepdims=True) if x.data.size else xp.zeros(_kept_shape(x.shape, axes), x.dtype)
    m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) along an axis: leave the values alone
    shifted = (x - Tensor._make(m)).exp().sum(dim=axes, keepdim=True).log() + Tensor._make(m)
    return shifted if keepdim else shifted.reshape([n for i, n in enumerate(shifted.shape) if i not in axes])


def all(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    axes = normalize_dims(dim, x.ndim, "all")
    return Tensor._make(x.data.all(axis=axes, keepdims=keepdim))


def any(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    axes = normalize_dims(dim, x.ndim, "any")
    return Tensor._make(x.data.any(axis=axes, keepdims=keepdim))
