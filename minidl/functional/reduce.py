"""Reductions: sum, prod, mean, max, min, amax, amin, var, std (and std_mean, var_mean),
logsumexp, each over ``dim`` (an int, a tuple, or None for all) with ``keepdim``, as in PyTorch.

Result dtypes follow PyTorch: sums and products of integers or bools are int64 (``dtype=``
overrides), mean/var/std of an integer tensor is an error, max/min keep the input's dtype.

A reduction's backward must put the gradient back on every element that was reduced: it first
re-inserts the reduced axes (size 1), then broadcasts to the input's shape.
"""

import builtins
import math

from ..autograd.broadcast import expand_to
from ..autograd.convert import cast
from ..autograd.dtypes import get_default_dtype
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError
from ._util import Dims, normalize_dim, normalize_dims
from .elementwise import maximum, minimum, where
from .scan import _accumulating_dtype, cumprod
from .sort import ValuesIndices, take_along


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
        return x.data.sum(axis=axes, keepdims=keepdim, dtype=x.dtype)  # NumPy would widen int32

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


def _float_only(x, op):
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{op}: expected a floating-point tensor, got {x.dtype} (as PyTorch); "
            f"convert first, e.g. x.float().{op}(), or pass dtype="
        )


def sum(x: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims when None).  x: (...) -> reduced shape; ints and bools sum
    to int64."""
    axes = normalize_dims(dim, x.ndim, "sum")
    return Sum.apply(_accumulating_dtype(x, dtype), axes, keepdim)


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one ``dim`` (all elements when None); ints and bools multiply in int64.

    It is the last entry of the cumulative product, whose gradient is exact with zeros in x:
    d prod/dx_i = prod_{k != i} x_k, also where x_i (or another element) is 0."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod: dim must be one int or None, got {dim!r} (as PyTorch)")
    x = _accumulating_dtype(x, dtype)
    axes = normalize_dims(dim, x.ndim, "prod")
    if x.numel() == 0:  # the empty product is 1 (kept in the graph, with a zero gradient)
        return Sum.apply(x, axes, keepdim and dim is not None) + 1
    if dim is None:
        return cumprod(x.reshape(-1), 0)[-1]
    axis = normalize_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        return x
    last = cumprod(x, axis)[(slice(None),) * axis + (slice(-1, None),)]
    return last if keepdim else last.squeeze(axis)


def mean(x: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (all dims when None); an integer tensor needs ``dtype=`` (as PyTorch)."""
    if dtype is not None:
        x = cast(x, dtype)
    _float_only(x, "mean")
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


def _check_reducible(x, axes, op):
    """An extreme (max, min, median...) of nothing does not exist: PyTorch refuses it too."""
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(
                f"{op}: expected dim {a} of the tensor of shape {x.shape} to have a non-zero size"
            )


def _extreme(x, dim, keepdim, smallest):
    op = "min" if smallest else "max"
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return minimum(x, dim) if smallest else maximum(x, dim)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {x.shape}; give a dim")
        return Amax.apply(x, normalize_dims(None, x.ndim, op), keepdim, smallest)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int (use amax/amin for several dims)")
    axis = normalize_dim(dim, x.ndim, op)
    xp = xp_of(x.data)
    if x.ndim == 0:
        indices = xp.zeros((), dtype=xp.int64)
        return ValuesIndices(take_along(x, indices, 0), Tensor._make(indices))
    _check_reducible(x, (axis,), op)
    # the value is picked at its index, so the gradient goes to that one element (as PyTorch)
    pick = xp.argmin if smallest else xp.argmax
    indices = xp.expand_dims(pick(x.data, axis=axis), axis).astype(xp.int64)
    values = take_along(x, indices, axis)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices(values, Tensor._make(indices))


def max(x: Tensor, dim: "int | Tensor | None" = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """``x.max()`` is the largest value (ties share the gradient); ``x.max(dim)`` is
    ``(values, indices)`` along dim (the gradient goes to the index); ``max(x, y)`` is
    ``maximum(x, y)``."""
    return _extreme(x, dim, keepdim, smallest=False)


def min(x: Tensor, dim: "int | Tensor | None" = None, keepdim: bool = False) -> Tensor | ValuesIndices:
    """``x.min()`` is the smallest value; ``x.min(dim)`` is ``(values, indices)`` along dim."""
    return _extreme(x, dim, keepdim, smallest=True)


def amax(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The largest value over ``dim`` (all when None); equal values share the gradient."""
    axes = normalize_dims(dim, x.ndim, "amax")
    _check_reducible(x, axes, "amax")
    return Amax.apply(x, axes, keepdim, False)


def amin(x: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The smallest value over ``dim`` (all when None); equal values share the gradient."""
    axes = normalize_dims(dim, x.ndim, "amin")
    _check_reducible(x, axes, "amin")
    return Amax.apply(x, axes, keepdim, True)


def _arg_extreme(x, dim, keepdim, smallest):
    op = "argmin" if smallest else "argmax"
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{op}: cannot take the {op} of an empty tensor of shape {x.shape}")
        xp = xp_of(x.data)
        flat = (xp.argmin if smallest else xp.argmax)(x.data)
        return Tensor._make(xp.asarray(flat).astype("int64").reshape((1,) * x.ndim if keepdim else ()))
    normalize_dim(dim, x.ndim, op)  # a bad dim is reported as argmax's, not max's
    if x.ndim:
        _check_reducible(x, (normalize_dim(dim, x.ndim, op),), op)
    return _extreme(x, dim, keepdim, smallest).indices


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when dim is None); no gradient."""
    return _arg_extreme(x, dim, keepdim, smallest=False)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (over the flattened tensor when dim is None); no gradient."""
    return _arg_extreme(x, dim, keepdim, smallest=True)


def _correction(op, x, dim, unbiased, correction):
    """Check a float ``x`` and read PyTorch's two spellings: ``unbiased`` (bool, also as the first
    positional argument: ``var(x, True)``) or ``correction`` (a number); returns (dim, correction)."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{op}: unbiased given twice (as dim={dim} and unbiased={unbiased})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both")
    _float_only(x, op)
    if unbiased is not None:
        return dim, 1 if unbiased else 0
    return dim, 1 if correction is None else correction


def var(
    x: Tensor,
    dim: Dims | bool = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Variance: sum((x - mean)^2) / (n - correction); correction=1 (unbiased=True) by default."""
    dim, correction = _correction("var", x, dim, unbiased, correction)
    axes = normalize_dims(dim, x.ndim, "var")
    return Var.apply(x, axes, correction, keepdim)


class Var(Function):
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.axes, ctx.denominator = axes, _count(x.shape, axes) - correction
        centered = x.data - x.data.mean(axis=axes, keepdims=True)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / builtins.max(ctx.denominator, 0)

    @staticmethod
    def backward(ctx, grad):
        # d var/dx_i = 2 (x_i - mean) / (n - correction); like PyTorch, the denominator here is
        # not clamped at 0 (n < correction gives a finite gradient, n = correction an infinite one)
        (x,) = ctx.saved_tensors
        scale = 2.0 / ctx.denominator if ctx.denominator else math.inf
        centered = x - mean(x, dim=ctx.axes, keepdim=True)
        return _unreduce(grad, x.shape, ctx.axes) * centered * scale, None, None, None


class _SqrtOfVariance(Function):
    @staticmethod
    def forward(ctx, v):
        ctx.save_output()
        return xp_of(v.data).sqrt(v.data)

    @staticmethod
    def backward(ctx, grad):
        # d sqrt(v)/dv = 1 / (2 sqrt(v)); 0 where the std is 0 (all values equal), as PyTorch
        out = ctx.output
        return where(out.data == 0, 0, grad / (2 * where(out.data == 0, 1, out)))


def std(
    x: Tensor,
    dim: Dims | bool = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Standard deviation: sqrt(var); its gradient is 0 where all values are equal."""
    dim, correction = _correction("std", x, dim, unbiased, correction)
    normalize_dims(dim, x.ndim, "std")  # a bad dim is reported as std's, not var's
    return _SqrtOfVariance.apply(var(x, dim, keepdim=keepdim, correction=correction))


def var_mean(
    x: Tensor,
    dim: Dims | bool = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """(var, mean) over ``dim``, as ``torch.var_mean``."""
    dim, correction = _correction("var_mean", x, dim, unbiased, correction)
    return var(x, dim, keepdim=keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(
    x: Tensor,
    dim: Dims | bool = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """(std, mean) over ``dim``, as ``torch.std_mean``."""
    dim, correction = _correction("std_mean", x, dim, unbiased, correction)
    return std(x, dim, keepdim=keepdim, correction=correction), mean(x, dim, keepdim)


def logsumexp(x: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m))) with m = max(x) so
    exp never overflows. m is a constant for differentiation: the result does not depend on it."""
    axes = normalize_dims(dim, x.ndim, "logsumexp")
    if x.dtype.kind != "f":  # integers and bools give the default float dtype, as PyTorch
        x = cast(x, get_default_dtype())
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
