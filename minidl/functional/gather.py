"""Picking elements along one dim: ``gather``, ``take_along_dim``, ``index_select``.

    gather(input, dim, index)          out[i][j][k] = input[i][index[i][j][k]][k]     (dim = 1)
    take_along_dim(input, indices, dim) gather after broadcasting input and indices
    index_select(input, dim, index)    whole slices: out[:, j, :] = input[:, index[j], :]

``index`` has as many dims as ``input``; along ``dim`` it says *which* element, along every other
dim the element's own position is used (so index may be smaller than input there, never larger).
The gradient of picking is putting back: the output's gradient is added, into zeros shaped like
the input, at the places the elements were picked from (twice where one was picked twice). That
"scatter-add" is also ``scatter_add``'s forward (scatter.py), and its own gradient is the gather
again, so the pair is differentiable to any order.

This file also holds what the scatter ops share with gather: checking an index tensor, and
``scatter_into``, the array-level write "along dim at index" that every scatter is made of.
"""

from typing import Any

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import arrays
from ..backend.device import xp_of
from ..errors import DTypeError, ShapeError
from ._util import ensure_tensor, normalize_dim
from .indexing import getitem
from .shape import expand

INT32_OR_64 = ("int32", "int64")


# -- checks shared with scatter.py -----------------------------------------------------------


def check_index(op: str, index: Any, allowed: tuple[str, ...] = INT32_OR_64) -> Tensor:
    """``index`` if it is a Tensor of one of the ``allowed`` dtypes, else a clear error."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: expected the index as an int64 Tensor, got {type(index).__name__}")
    if str(index.dtype) not in allowed:
        raise DTypeError(
            f"{op}: expected an index of dtype {' or '.join(reversed(allowed))}, got {index.dtype} "
            f"(shape {tuple(index.shape)}); convert it, e.g. index.long()"
        )
    return index


def check_range(op: str, ids: Any, size: int, dim: int, low: int = 0) -> None:
    """Every element of the index array ``ids`` in [low, size): one sync for min and max."""
    if ids.size == 0:
        return
    lo, hi = int(ids.min()), int(ids.max())
    if lo < low or hi >= size:
        raise IndexError(
            f"{op}: index {lo if lo < low else hi} is out of range for dim {dim} of size {size} "
            f"(expected {low} <= index < {size})"
        )


def at_least_1d(shape: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch's gather and scatter read a 0-d tensor as one element along dim 0."""
    return shape if shape else (1,)


def check_along_dim(op: str, x: Tensor, dim: int, index: Tensor, src: Any = None) -> int:
    """The checks of gather and the scatters; returns dim as a non-negative int.

    index: as many dims as x; no larger than x in every dim but ``dim``, and (scatter) no larger
    than src in any dim; its values in [0, x.shape[dim])."""
    dim = normalize_dim(dim, x.ndim, op)
    if index.device != x.device:
        raise RuntimeError(
            f"{op}: index is on {index.device} but input is on {x.device}; move one with .to()"
        )
    shape, ishape = at_least_1d(x.shape), at_least_1d(index.shape)
    if len(ishape) != len(shape):
        raise ShapeError(
            f"{op}: index has {index.ndim} dims but input has {x.ndim} (shapes {tuple(index.shape)} "
            f"and {tuple(x.shape)}); expected the same number of dims"
        )
    too_big = [d for d in range(len(shape)) if d != dim and ishape[d] > shape[d]]
    if src is not None:
        sshape = at_least_1d(src.shape)
        if len(sshape) != len(shape):
            raise ShapeError(
                f"{op}: src has {src.ndim} dims but input has {x.ndim} (shapes {tuple(src.shape)} "
                f"and {tuple(x.shape)}); expected the same number of dims"
            )
        too_big += [d for d in range(len(shape)) if ishape[d] > sshape[d]]
    if too_big:
        against = f" and src {tuple(src.shape)}" if src is not None else ""
        raise ShapeError(
            f"{op}: index of shape {tuple(index.shape)} is larger than input {tuple(x.shape)}{against} "
            f"at dim {too_big[0]}; expected index no larger than input in every dim but dim {dim}"
            + (", and no larger than src in any dim" if src is not None else "")
        )
    check_range(op, index.data, shape[dim], dim)
    return dim


# -- the array level: picking and putting back along dim -------------------------------------


def take_along(a: Any, ids: Any, dim: int) -> Any:
    """``a`` gathered along ``dim`` at ``ids`` (arrays, at least 1-d, same ndim): the corner of
    ``a`` that ``ids`` covers in the other dims, then NumPy's/CuPy's take_along_axis."""
    corner = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(ids.shape))
    return xp_of(a).take_along_axis(a[corner], ids, axis=dim)


def scatter_into(out: Any, dim: int, ids: Any, values: Any, reduce: str | None = None) -> Any:
    """In place: for every position p of ``ids``, ``out[p with p[dim] = ids[p]]`` is set to
    ``values[p]`` (``reduce`` None; where ids repeat, one of them wins) or combined with it by
    ``reduce`` ('sum', 'prod', 'amax', 'amin'; every repeat counts). ``values``: an array at least
    as large as ids in every dim (only the corner ids covers is used), or a number."""
    xp = xp_of(out)
    coords = tuple(
        ids if d == dim else xp.arange(n).reshape((n,) + (1,) * (ids.ndim - d - 1))
        for d, n in enumerate(ids.shape)
    )
    if hasattr(values, "shape"):
        values = values[tuple(slice(0, n) for n in ids.shape)]
    if reduce is None:
        out[coords] = values
    else:
        arrays.scatter_reduce(
            out, coords, xp.broadcast_to(xp.asarray(values, dtype=out.dtype), ids.shape), reduce
        )
    return out


# -- the ops ---------------------------------------------------------------------------------


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(index)
        a, ids = x.data.reshape(at_least_1d(x.shape)), index.data.reshape(at_least_1d(index.shape))
        return take_along(a, ids, dim).reshape(index.shape)

    @staticmethod
    def backward(ctx, grad):
        # d out[p]/d x[p with p[dim] = index[p]] = 1: add each gradient back where it was picked
        (index,) = ctx.saved_tensors
        return GatherBackward.apply(grad, ctx.shape, ctx.dim, index), None, None


class GatherBackward(Function):
    """zeros(shape) with ``grad`` added along dim at index: gather's backward, and its inverse."""

    @staticmethod
    def forward(ctx, grad, shape, dim, index):
        ctx.dim = dim
        ctx.save_for_backward(index)
        xp = xp_of(grad.data)
        out = xp.zeros(at_least_1d(shape), dtype=grad.dtype)
        ishape = at_least_1d(index.shape)
        scatter_into(out, dim, index.data.reshape(ishape), grad.data.reshape(ishape), "sum")
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        # the scatter-add's derivative is the gather at the same places
        (index,) = ctx.saved_tensors
        return Gather.apply(grad, ctx.dim, index), None, None, None


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` along ``dim`` at ``index``: out[p] = input[p with p[dim] = index[p]].

    input: (*S); index: int64 (or int32), as many dims as input, index.size(d) <= input.size(d)
    for d != dim, values in [0, input.size(dim)); returns index's shape, input's dtype.
    ``sparse_grad`` is accepted for PyTorch's signature; the gradient is always dense."""
    op = "gather"
    ensure_tensor(input, op)
    check_index(op, index)
    dim = check_along_dim(op, input, dim, index)
    return Gather.apply(input, dim, index)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """NumPy's take_along_axis: ``gather`` after broadcasting input and indices in every dim but
    ``dim``; with dim None, gather from the flattened input at the flattened indices.

    indices: int64; in [-n, n) along dim (negative ones count from the end, as in PyTorch), in
    [0, numel) with dim None."""
    op = "take_along_dim"
    ensure_tensor(input, op)
    check_index(op, indices, ("int64",))
    if indices.device != input.device:
        raise RuntimeError(
            f"{op}: indices are on {indices.device} but input is on {input.device}; move one with .to()"
        )
    if dim is None:
        flat = indices.data.reshape(-1)
        check_range(op, flat, input.numel(), 0)
        return Gather.apply(input.reshape(-1), 0, Tensor._make(flat))
    if input.ndim == 0:
        raise IndexError(f"{op}: dim {dim} given, but the input is 0-d (expected dim None)")
    dim = normalize_dim(dim, input.ndim, op)
    if indices.ndim != input.ndim:
        raise ShapeError(
            f"{op}: input and indices should have the same number of dims, got input "
            f"{tuple(input.shape)} and indices {tuple(indices.shape)}"
        )
    n = input.shape[dim]
    ids = indices.data
    check_range(op, ids, n, dim, low=-n)
    ids = xp_of(ids).where(ids < 0, ids + n, ids)
    ishape = list(indices.shape)
    ishape[dim] = n
    try:
        shape = list(numpy.broadcast_shapes(tuple(ishape), input.shape))
    except ValueError:
        raise ShapeError(
            f"{op}: input {tuple(input.shape)} and indices {tuple(indices.shape)} cannot be broadcast "
            f"together outside dim {dim} (sizes must match or be 1)"
        ) from None
    x = expand(input, *shape) if tuple(shape) != input.shape else input
    shape[dim] = indices.shape[dim]
    ids = xp_of(ids).broadcast_to(ids, tuple(shape))
    return Gather.apply(x, dim, Tensor._make(ids))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` at positions ``index`` along ``dim``.

    input: (*A, n, *B) with n at dim; index: 1-d (or 0-d) int64 or int32 of k values in [0, n);
    returns (*A, k, *B). A 0-d input takes a one-element index and returns 0-d."""
    op = "index_select"
    ensure_tensor(input, op)
    check_index(op, index)
    dim = normalize_dim(dim, input.ndim, op)
    if index.ndim > 1:
        raise ShapeError(f"{op}: index must be 1-d or 0-d, got shape {tuple(index.shape)}")
    if index.device != input.device:
        raise RuntimeError(
            f"{op}: index is on {index.device} but input is on {input.device}; move one with .to()"
        )
    ids = index.data.reshape(-1)
    if input.ndim == 0:
        if ids.size != 1:
            raise ShapeError(f"{op}: a 0-d input takes an index of one value, got {ids.size}")
        check_range(op, ids, 1, 0)
        return getitem(input.reshape(1), ids).reshape(())
    check_range(op, ids, input.shape[dim], dim)
    # picking whole slices is basic-plus-one-array indexing; its gradient adds back (indexing.py)
    return getitem(input, (slice(None),) * dim + (ids,))
