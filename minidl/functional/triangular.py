"""Triangles and diagonals of matrices: ``tril``, ``triu``, ``diag``, ``diagonal``.

Each keeps some entries and drops the rest, so its derivative keeps the same entries of the
gradient: the triangle of the gradient for ``tril``/``triu``, and for ``diagonal`` the gradient
written back onto the diagonal of a zero matrix (and the reverse for a 1-d ``diag``).
``diagonal`` also serves einsum's repeated labels (``ii->i``).
"""

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import ShapeError
from ._util import ensure_tensor, normalize_dim


def _check_int(value, name, op):
    if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


# -- triangles ---------------------------------------------------------------------------------


def _triangle_function(name: str, keep: str) -> type[Function]:
    """The Function keeping one triangle: ``keep`` names both the array function and the op."""

    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return getattr(xp_of(x.data), keep)(x.data, diagonal)

    def backward(ctx, grad):
        # kept entries pass their gradient, dropped ones (constant 0) pass none
        return (tril if keep == "tril" else triu)(grad, ctx.diagonal), None

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


Tril = _triangle_function("Tril", "tril")
Triu = _triangle_function("Triu", "triu")


def _triangle(fn, x, diagonal, op):
    ensure_tensor(x, op)
    diagonal = _check_int(diagonal, "diagonal", op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must have at least 2 dimensions, got shape {x.shape}")
    return fn.apply(x, diagonal)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims, the rest zero. input: (..., M, N).
    ``diagonal`` = k keeps entries with column - row <= k (k > 0: above the main diagonal too)."""
    return _triangle(Tril, input, diagonal, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims: entries with column - row >= ``diagonal``."""
    return _triangle(Triu, input, diagonal, "triu")


# -- diagonals ---------------------------------------------------------------------------------


def _diagonal_places(shape, offset, dim1, dim2):
    """Rows and columns (in dims dim1, dim2) of the diagonal ``offset`` of an array of ``shape``."""
    rows, cols = shape[dim1], shape[dim2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    start = numpy.arange(length)
    return start + max(-offset, 0), start + max(offset, 0)


class Diagonal(Function):
    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.where = x.shape, (offset, dim1, dim2)
        return x.data.diagonal(offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        # picking the diagonal: its gradient goes back onto the diagonal, zeros elsewhere
        return DiagonalScatter.apply(grad, ctx.shape, *ctx.where), None, None, None


class DiagonalScatter(Function):
    """zeros(shape) with ``values`` (..., L) on diagonal ``offset`` of dims dim1, dim2: the
    backward of Diagonal (and the forward of a 1-d ``diag``)."""

    @staticmethod
    def forward(ctx, values, shape, offset, dim1, dim2):
        ctx.where = (offset, dim1, dim2)
        xp = xp_of(values.data)
        out = xp.zeros(shape, dtype=values.dtype)
        rows, cols = _diagonal_places(shape, offset, dim1, dim2)
        # a view of ``out`` with dim1, dim2 last, so one fancy-index write fills the diagonal
        xp.moveaxis(out, (dim1, dim2), (-2, -1))[..., xp.asarray(rows), xp.asarray(cols)] = values.data
        return out

    @staticmethod
    def backward(ctx, grad):
        # the values were placed on the diagonal: their gradient is the diagonal of grad
        return Diagonal.apply(grad, *ctx.where), None, None, None, None


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` (> 0 above the main one) of the matrices in dims dim1, dim2.
    input: (..., M, ..., N, ...) -> (..., L): the two dims are removed, the diagonal is last."""
    ensure_tensor(input, "diagonal")
    offset = _check_int(offset, "offset", "diagonal")
    if input.ndim < 2:
        raise ShapeError(f"diagonal: input must have at least 2 dimensions, got shape {input.shape}")
    d1, d2 = normalize_dim(dim1, input.ndim, "diagonal"), normalize_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 must differ, both name dim {d1} of shape {input.shape}")
    return Diagonal.apply(input, offset, d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-d (N,) -> the (N+|k|, N+|k|) matrix with ``input`` on diagonal k = ``diagonal``;
    2-d (M, N) -> its diagonal k, 1-d."""
    ensure_tensor(input, "diag")
    k = _check_int(diagonal, "diagonal", "diag")
    if input.ndim == 2:
        return Diagonal.apply(input, k, 0, 1)
    if input.ndim != 1:
        raise ShapeError(f"diag: expected a 1-d or 2-d tensor, got shape {input.shape}")
    n = input.shape[0] + abs(k)
    return DiagonalScatter.apply(input, (n, n), k, 0, 1)
