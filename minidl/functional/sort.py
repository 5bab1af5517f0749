"""Sorting and selecting along one dim: sort, argsort, topk, kthvalue, median, as in PyTorch.

Each op finds *indices* first (no gradient: they are integers), then picks the values at those
indices with ``take_along``. The gradient of picking is scattering the gradient back to the picked
positions (adding where a position was picked twice, as cummax does), and the scatter's gradient
is the pick again, so every op here is differentiable to any order.

Ties: ``sort`` always sorts stably (so ``stable=True`` holds whatever is asked); PyTorch leaves the
order of ties unspecified when ``stable=False``, so any order is correct there. NaN sorts as the
largest value, as in PyTorch.
"""

import collections

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.arrays import scatter_add
from ..backend.device import xp_of
from ._util import normalize_dim

ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def _grid(indices, axis):
    """The full index tuple that picks ``indices`` along ``axis``: aranges on the other axes."""
    xp = xp_of(indices)
    nd = indices.ndim
    parts = [
        xp.arange(n).reshape([-1 if k == d else 1 for k in range(nd)]) for d, n in enumerate(indices.shape)
    ]
    parts[axis] = indices
    return tuple(parts)


class TakeAlong(Function):
    """x picked at ``indices`` along ``axis`` (indices: x's shape but for that axis)."""

    @staticmethod
    def forward(ctx, x, indices, axis):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(indices)
        return xp_of(x.data).take_along_axis(x.data, indices, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        # d x[idx]/dx = 1 at each picked place: scatter the gradient back there
        (indices,) = ctx.saved_tensors
        return PutAlongAdd.apply(grad, ctx.shape, indices, ctx.axis), None, None


class PutAlongAdd(Function):
    """zeros(shape) with ``grad`` added at ``indices`` along ``axis``: the backward of TakeAlong."""

    @staticmethod
    def forward(ctx, grad, shape, indices, axis):
        ctx.axis = axis
        ctx.save_for_backward(indices)
        out = xp_of(grad.data).zeros(shape, dtype=grad.dtype)
        return scatter_add(out, _grid(indices, axis), grad.data)

    @staticmethod
    def backward(ctx, grad):
        # the scatter's derivative is picking the same places again
        (indices,) = ctx.saved_tensors
        return TakeAlong.apply(grad, indices, ctx.axis), None, None, None


def take_along(x: Tensor, indices, axis: int) -> Tensor:
    """x picked at ``indices`` (an int64 array) along ``axis``; 0-d x stays 0-d."""
    if x.ndim == 0:
        return TakeAlong.apply(x.reshape(1), indices.reshape(1), 0).reshape(())
    return TakeAlong.apply(x, indices, axis)


def _check_sortable(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected a real or boolean tensor, got {x.dtype}")


def _argsort(a, axis, descending):
    """Stable sort order of array ``a`` along ``axis``. Descending: sort the reversed array
    ascending, then reverse back, so equal values keep their original order (as PyTorch)."""
    xp = xp_of(a)
    if a.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(xp.int64)
    n = a.shape[axis]
    flipped = xp.flip(a, axis=axis)
    order = xp.flip(xp.argsort(flipped, axis=axis, kind="stable"), axis=axis)
    return (n - 1 - order).astype(xp.int64)


def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> ValuesIndices:
    """(values, indices) of x sorted along ``dim``; x: (...) -> both (...).  Always stable."""
    _check_sortable(x, "sort")
    axis = normalize_dim(dim, x.ndim, "sort")
    indices = _argsort(x.data, axis, descending)
    return ValuesIndices(take_along(x, indices, axis), Tensor._make(indices))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort x along ``dim`` (int64, no gradient)."""
    _check_sortable(x, "argsort")
    return Tensor._make(_argsort(x.data, normalize_dim(dim, x.ndim, "argsort"), descending))


def _size_along(x, axis):
    return x.shape[axis] if x.ndim else 1


def _check_k(op, k, x, axis, low):
    n = _size_along(x, axis)
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"{op}: k must be an int, got {k!r}")
    if not low <= k <= n:
        raise RuntimeError(
            f"{op}: k={k} is out of range for dim {axis} of size {n} in a tensor of shape {x.shape} "
            f"(expected {low} <= k <= {n})"
        )


def _slice_along(a, axis, start, stop):
    return a[(slice(None),) * axis + (slice(start, stop),)]


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first
    (smallest first with largest=False); x: (..., n, ...) -> (..., k, ...). The result is
    always sorted, which ``sorted=False`` allows."""
    _check_sortable(x, "topk")
    if x.dtype.kind == "b":
        raise TypeError("topk: expected a numeric tensor, got bool (as PyTorch: convert with .int())")
    axis = normalize_dim(dim, x.ndim, "topk")
    _check_k("topk", k, x, axis, 0)
    order = _argsort(x.data, axis, descending=largest)
    indices = order if x.ndim == 0 else _slice_along(order, axis, 0, k)
    return ValuesIndices(take_along(x, indices, axis), Tensor._make(indices))


def _pick(x, axis, position, keepdim):
    """(values, indices) at ``position`` (an int, or an array with one entry per slice) of the
    ascending stable order along ``axis``; the axis is dropped unless keepdim."""
    xp = xp_of(x.data)
    order = _argsort(x.data, axis, descending=False)
    if x.ndim == 0:
        return ValuesIndices(take_along(x, order, 0), Tensor._make(order))
    if isinstance(position, int):
        indices = _slice_along(order, axis, position, position + 1)
    else:
        indices = xp.take_along_axis(order, position, axis=axis)
    values = take_along(x, indices, axis)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices(values, Tensor._make(indices))


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(values, indices) of the k-th smallest value along ``dim`` (k counts from 1)."""
    _check_sortable(x, "kthvalue")
    axis = normalize_dim(dim, x.ndim, "kthvalue")
    _check_nonempty("kthvalue", x, axis)
    _check_k("kthvalue", k, x, axis, 1)
    return _pick(x, axis, k - 1, keepdim)


def _check_nonempty(op, x, axis):
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(
            f"{op}: expected dim {axis} of the tensor of shape {x.shape} to have a non-zero size"
        )


class _MedianAll(Function):
    """The lower median of all elements; equal values share its gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x.data)
        flat = x.data.reshape(-1)
        if flat.size == 0 and flat.dtype.kind != "f":
            raise IndexError(
                f"median: cannot take the median of an empty {flat.dtype} tensor of shape {x.shape}"
            )
        if flat.size == 0 or (flat.dtype.kind == "f" and xp.isnan(flat).any()):
            out = xp.asarray(xp.nan, dtype=flat.dtype)
        else:
            out = xp.sort(flat)[(flat.size - 1) // 2]
        ctx.save_for_backward(x, xp.asarray(out))
        return xp.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        # d median/dx_i = 1/k for the k elements equal to the median, 0 elsewhere
        x, out = ctx.saved_tensors
        mask = (x.data == out).astype(x.dtype)
        return grad * Tensor._make(mask / max(mask.sum(), 1))


def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> "Tensor | ValuesIndices":
    """``x.median()``: the lower median of all elements (the ((n-1)//2)-th smallest; NaN if any
    is NaN). ``x.median(dim)``: (values, indices) of the lower median along ``dim``."""
    _check_sortable(x, "median")
    if dim is None:
        if x.dtype.kind == "b":
            raise TypeError("median: expected a numeric tensor, got bool")
        return _MedianAll.apply(x)
    axis = normalize_dim(dim, x.ndim, "median")
    _check_nonempty("median", x, axis)
    n = _size_along(x, axis)
    if x.dtype.kind != "f":
        return _pick(x, axis, (n - 1) // 2, keepdim)
    # NaN sorts last; a slice holding one answers NaN, at the first NaN's place in sorted order
    xp = xp_of(x.data)
    numbers = (~xp.isnan(x.data)).sum(axis=axis, keepdims=True) if x.ndim else xp.asarray(1)
    position = xp.where(numbers < n, numbers, (n - 1) // 2).astype(xp.int64)
    return _pick(x, axis, position, keepdim)
