"""Writing along one dim: ``scatter``, ``scatter_add``, ``scatter_reduce`` (the inverse of gather).

    scatter(input, dim, index, src)         out = input; out[p with p[dim] = index[p]] = src[p]
    scatter_add(input, dim, index, src)     ... += src[p]     (every repeat of an index adds)
    scatter_reduce(input, dim, index, src, reduce, include_self=True)
                                            ... combined by 'sum', 'prod', 'mean', 'amax', 'amin'

Shapes as in gather (gather.py): index has input's number of dims, is no larger than input
outside ``dim`` and no larger than src anywhere; only the corner of src that index covers is used.
Every op returns a new tensor (input is not changed) of input's shape and dtype.

Gradients, PyTorch's: what was written gets the output's gradient gathered back at the written
places (``gather``), what was overwritten gets none. A mean divides by the count of what was
combined; amax/amin split the gradient equally among the values that tie for the result; prod
gives each factor the product of the others (computed without dividing by a zero factor).
"""

from typing import Any

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError
from . import elementwise as ew
from ._util import ensure_tensor
from .gather import at_least_1d, check_along_dim, check_index, gather, scatter_into, take_along
from .indexing import IndexAdd

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _check(op: str, input: Tensor, dim: int, index: Tensor, src: Any) -> int:
    """The checks every scatter makes at its edge; returns dim as a non-negative int."""
    ensure_tensor(input, op)
    check_index(op, index)
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise DTypeError(
            f"{op}: src is {src.dtype} but input is {input.dtype}; expected the same dtype "
            f"(convert one, e.g. src.to(input.dtype))"
        )
    return check_along_dim(op, input, dim, index, src if isinstance(src, Tensor) else None)


def _flat(t: Tensor) -> Any:
    """The array of t, read as at least 1-d (0-d tensors scatter as one element along dim 0)."""
    return t.data.reshape(at_least_1d(t.shape))


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim = dim
        ctx.save_for_backward(index, src if isinstance(src, Tensor) else None)
        out = x.data.copy()
        values = _flat(src) if isinstance(src, Tensor) else src
        scatter_into(out.reshape(at_least_1d(x.shape)), dim, _flat(index), values)
        return out

    @staticmethod
    def backward(ctx, grad):
        # d out/d input = 1 where nothing was written, 0 where src overwrote it;
        # d out[p with p[dim] = index[p]]/d src[p] = 1
        index, src = ctx.saved_tensors
        need_x, _, _, need_src = ctx.needs_input_grad
        gx = scatter(grad, ctx.dim, index, 0) if need_x else None
        gs = _pad_to(gather(grad, ctx.dim, index), src) if need_src else None
        return gx, None, None, gs


class ScatterReduce(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        ctx.save_for_backward(x, index, src)
        if reduce in ("amax", "amin", "prod"):
            ctx.save_output()
        out = x.data.copy()
        flat, ids, values = out.reshape(at_least_1d(x.shape)), _flat(index), _flat(src)
        if not include_self:  # the written places start from the reduction's identity
            scatter_into(flat, dim, ids, _identity(reduce, out.dtype))
        if reduce != "mean":
            scatter_into(flat, dim, ids, values, reduce)
            return out
        scatter_into(flat, dim, ids, values, "sum")
        count = _count(x, dim, index, include_self)
        return out // count if out.dtype.kind in "iu" else out / count  # PyTorch floors integer means

    @staticmethod
    def backward(ctx, grad):
        x, index, src = ctx.saved_tensors
        dim, reduce = ctx.dim, ctx.reduce
        if reduce == "sum":
            # d out/d input = 1; d out/d src[p] = 1 at the place src[p] went
            gx, gs = grad, gather(grad, dim, index)
        elif reduce == "mean":
            # a mean of k values: each of them gets 1/k of the gradient
            count = Tensor._make(_count(x, dim, index, ctx.include_self))
            gx, gs = grad / count, gather(grad, dim, index) / gather(count, dim, index)
        elif reduce == "prod":
            gx, gs = _prod_grads(ctx, grad, x, index, src)
        else:
            # the maximum's gradient goes to the values equal to it, split equally among ties
            out = ctx.output
            hit_x = Tensor._make((x.data == out.data).astype(grad.dtype))
            hit_src = Tensor._make(
                (_corner(src.data, index) == _take(out.data, dim, index)).astype(grad.dtype)
            )
            ties = hit_x.data.copy()
            scatter_into(ties.reshape(at_least_1d(ties.shape)), dim, _flat(index), _flat(hit_src), "sum")
            share = grad / Tensor._make(ties)
            gx, gs = share * hit_x, gather(share, dim, index) * hit_src
        if not ctx.include_self:  # input's value at the written places was never used
            gx = scatter(gx, dim, index, 0)
        return gx, None, None, _pad_to(gs, src), None, None


def _prod_grads(ctx, grad, x, index, src):
    """d prod/d factor = the product of the other factors. Dividing the product by the factor
    fails at a zero factor, so, as PyTorch does, each zero is replaced by 1 before multiplying:
    a lone zero's gradient is then the product of the others, exactly."""
    dim, include_self, out = ctx.dim, ctx.include_self, ctx.output
    # d out/d input = (product with input's zeros as 1) / (input with its zeros as 1)
    x_ones = ew.where(Tensor._make(x.data == 0), 1.0, x)
    gx = grad * scatter_reduce(x_ones, dim, index, src, "prod", include_self=include_self) / x_ones
    # d out/d src[p] = out / src[p], or, for the only zero that reaches its element, the product
    # of the others (the product with that zero as 1)
    src = _cut(src, index)
    src_zero = src.data == 0
    zeros_at = xp_of(src.data).zeros(at_least_1d(x.shape), dtype=grad.dtype)
    scatter_into(
        zeros_at,
        dim,
        _flat(index),
        xp_of(src.data).asarray(src_zero, dtype=grad.dtype).reshape(at_least_1d(index.shape)),
        "sum",
    )
    lone_zero = Tensor._make(src_zero & (_take(zeros_at, dim, index) == 1))
    without = scatter_reduce(x, dim, index, ew.where(lone_zero, 1.0, src), "prod", include_self=include_self)
    src_ones = ew.where(Tensor._make(src_zero), 1.0, src)
    gs = ew.where(lone_zero, gather(grad * without, dim, index), gather(grad * out, dim, index) / src_ones)
    return gx, gs


def _corner(a: Any, index: Tensor) -> Any:
    """The part of src's array that index covers (src may be larger)."""
    a = a.reshape(at_least_1d(a.shape))
    return a[tuple(slice(0, n) for n in at_least_1d(index.shape))].reshape(index.shape)


def _cut(t: Tensor, index: Tensor) -> Tensor:
    """The part of tensor t (src-shaped) that index covers, in the graph."""
    if t.shape == index.shape:
        return t
    return t[tuple(slice(0, n) for n in index.shape)]


def _take(a: Any, dim: int, index: Tensor) -> Any:
    """gather on arrays: ``a`` (input-shaped) at index along dim, in index's shape."""
    return take_along(a.reshape(at_least_1d(a.shape)), _flat(index), dim).reshape(index.shape)


def _pad_to(g: Tensor, src: Tensor) -> Tensor:
    """src's gradient from ``g``, the gradient of the part index covers: zero elsewhere."""
    return g if g.shape == src.shape else IndexAdd.apply(g, src.shape, tuple(slice(0, n) for n in g.shape))


def _identity(reduce: str, dtype: Any) -> Any:
    """The value that leaves a reduction unchanged: 0 for sums, 1 for products, the lowest and
    highest values of dtype for the maximum and the minimum."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        low, high = -numpy.inf, numpy.inf
    else:
        info = numpy.iinfo(dtype)
        low, high = info.min, info.max
    return low if reduce == "amax" else high


def _count(x: Tensor, dim: int, index: Tensor, include_self: bool) -> Any:
    """How many values each element of the mean combines (input's own one if include_self), at
    least 1, as an array of x's shape and dtype."""
    xp = xp_of(x.data)
    count = (xp.ones if include_self else xp.zeros)(at_least_1d(x.shape), dtype=x.dtype)
    scatter_into(count, dim, _flat(index), 1, "sum")
    count[count == 0] = 1
    return count.reshape(x.shape)


# -- the public functions --------------------------------------------------------------------


def scatter(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor | float | None = None,
    *,
    value: float | None = None,
    reduce: str | None = None,
) -> Tensor:
    """input with ``src[p]`` (or the number ``value``) written at p with p[dim] = index[p].

    input: (*S); index: int64 (or int32), as many dims; src: input's dtype, at least index's
    size in every dim, or a number. Where an index repeats, one of the values wins.
    reduce: PyTorch's older form, 'add' (= scatter_add) or 'multiply' (= scatter_reduce 'prod')."""
    op = "scatter"
    if (src is None) == (value is None):
        raise TypeError(f"{op}: expected exactly one of src (a tensor or a number) and value")
    src = value if src is None else src
    if not isinstance(src, (Tensor, int, float)):
        raise TypeError(f"{op}: src must be a Tensor or a number, got {type(src).__name__}")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"{op}: reduce must be 'add' or 'multiply', got {reduce!r}")
        ensure_tensor(input, op)
        check_index(op, index)
        values = (
            src
            if isinstance(src, Tensor)
            else Tensor._make(xp_of(input.data).full(index.shape, src, input.dtype))
        )
        return _reduce(op, input, dim, index, values, "sum" if reduce == "add" else "prod", True)
    dim = _check(op, input, dim, index, src)
    return Scatter.apply(input, dim, index, src)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """input with every ``src[p]`` added at p with p[dim] = index[p] (repeats all add).

    Shapes as in ``scatter``; src must be a tensor of input's dtype."""
    return _reduce("scatter_add", input, dim, index, src, "sum", True)


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """input with the values of src that land on one element combined by ``reduce``: 'sum',
    'prod', 'mean', 'amax' or 'amin'; with include_self the element's own value takes part.
    An integer mean rounds down, as in PyTorch. Shapes as in ``scatter``."""
    return _reduce("scatter_reduce", input, dim, index, src, reduce, include_self)


def _reduce(
    op: str, input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, include_self: bool
) -> Tensor:
    if reduce not in REDUCTIONS:
        raise ValueError(f"{op}: reduce must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
    dim = _check(op, input, dim, index, src)
    return ScatterReduce.apply(input, dim, index, src, reduce, bool(include_self))
