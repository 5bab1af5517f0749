"""``x[index]``: ints, slices, None, Ellipsis, integer arrays and boolean masks, as in NumPy.

The gradient of picking elements is *scattering* the gradient back to where they were picked
from, adding where one element was picked more than once (``x[[0, 0]]``). The scatter's own
gradient is the pick again, so both are differentiable to any order.
"""

from typing import Any

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.arrays import scatter_add
from ..backend.device import xp_of


def _normalize_index(index):
    """Tensors and lists inside an index become arrays, as NumPy wants them."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, Tensor):
            p = p.data
        elif isinstance(p, list):
            p = numpy.asarray(p)
        if hasattr(p, "dtype") and p.dtype.kind == "f":
            raise IndexError(f"tensor index: indices must be integers or booleans, got {p.dtype}")
        out.append(p)
    return tuple(out)


def _is_basic(index):
    """True when the index has only ints, slices, None and Ellipsis: then no element repeats."""
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, numpy.integer)) for p in index)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        try:
            return x.data[index]
        except IndexError as err:
            raise IndexError(f"tensor index: {err} (tensor shape {x.shape})") from None

    @staticmethod
    def backward(ctx, grad):
        # d x[i]/dx = 1 at the picked places: scatter the gradient back there
        return IndexAdd.apply(grad, ctx.shape, ctx.index), None


class IndexAdd(Function):
    """zeros(shape) with ``grad`` added at ``index``: the backward of GetItem."""

    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        xp = xp_of(grad.data)
        out = xp.zeros(shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad.data
        else:
            scatter_add(out, index, grad.data)  # an index may repeat: x[[0, 0]]
        return out

    @staticmethod
    def backward(ctx, grad):
        # the scatter's derivative is picking the same places again
        return GetItem.apply(grad, ctx.index), None, None


def _is_int(p):
    return isinstance(p, (int, numpy.integer)) and not isinstance(p, bool)


def _is_array(p):
    return hasattr(p, "dtype") and getattr(p, "ndim", 0) > 0


def _ints_first(index):
    """PyTorch's order for an index mixing ints with arrays: the ints select first (as basic
    indexing), then the arrays index what is left. NumPy counts the ints as arrays instead, which
    moves the picked dims: for x (A, B, C), ``x[0, :, idx]`` is (B, len(idx)) in PyTorch but
    (len(idx), B) in NumPy. Returns the two indices applied one after the other."""
    first, then = [], []
    for p in index:
        if _is_int(p):
            first.append(p)  # the dim is gone after the select: nothing left to index
        elif _is_array(p):
            first.extend([slice(None)] * (p.ndim if p.dtype == bool else 1))
            then.append(p)
        elif p is None:
            first.append(None)
            then.append(slice(None))  # the new size-1 dim exists after the first step
        elif p is Ellipsis:
            first.append(p)
            then.append(p)
        else:  # a slice
            first.append(p)
            then.append(slice(None))
    return tuple(first), tuple(then)


def getitem(x: Tensor, index: Any) -> Tensor:
    index = _normalize_index(index)
    if any(map(_is_int, index)) and any(map(_is_array, index)):
        first, then = _ints_first(index)
        return GetItem.apply(GetItem.apply(x, first), then)
    return GetItem.apply(x, index)
