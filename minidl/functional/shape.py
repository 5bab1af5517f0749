"""Shape ops: the same numbers, arranged differently.

Their derivatives are the inverse rearrangement of the gradient: a reshape is undone by reshaping
back, a permutation by the inverse permutation, a concatenation by slicing, a pad by cropping.
Most return NumPy views, so they copy nothing.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..autograd.broadcast import expand_to
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import ShapeError
from ._util import Dims, ensure_tensor, normalize_dim


def _shape_arg(shape):
    """Accept ``reshape(2, 3)`` as well as ``reshape((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.data.reshape(shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.data.size} elements) "
                f"into shape {shape}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        # reshaping moves no value: the gradient is reshaped back
        return grad.reshape(ctx.shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return x.data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        # undo the permutation
        return grad.permute(ctx.inverse), None


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape; one size may be -1 (inferred)."""
    shape = _shape_arg(shape)
    return x if shape == x.shape else Reshape.apply(x, shape)


view = reshape


def permute(x: Tensor, *dims: Any) -> Tensor:
    dims = _shape_arg(dims)
    if len(dims) != x.ndim or sorted(normalize_dim(d, x.ndim, "permute") for d in dims) != list(
        range(x.ndim)
    ):
        raise ShapeError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}"
        )
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    return Permute.apply(x, dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    if x.ndim < 2 or d0 == d1:
        return x
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))


def matrix_transpose(x: Tensor) -> Tensor:
    """``x.mT``: swap the last two dimensions (a batch of transposed matrices)."""
    if x.ndim < 2:
        raise ValueError(f"mT: needs at least 2 dimensions, got shape {x.shape}")
    return transpose(x, -2, -1)


def full_transpose(x: Tensor) -> Tensor:
    """``x.T``: all dimensions reversed (the matrix transpose for 2-d tensors)."""
    return x if x.ndim < 2 else Permute.apply(x, tuple(reversed(range(x.ndim))))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    s, e = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = normalize_dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1 :])


def squeeze(x: Tensor, dim: Dims = None) -> Tensor:
    """Remove dims of size 1 (only ``dim`` when given; a dim that is not 1 stays, as in PyTorch)."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    given = dim if isinstance(dim, (tuple, list)) else (dim,)
    dims = {normalize_dim(d, x.ndim, "squeeze") for d in given}  # a 0-d tensor takes dim 0 or -1
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim`` (``-1`` appends)."""
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension's size."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise ShapeError(f"expand: the new shape {sizes} has fewer dims than the tensor's {x.shape}")
    lead = len(sizes) - x.ndim
    target = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != target[lead + i]:
            raise ShapeError(
                f"expand: cannot expand shape {x.shape} to {sizes}: dim {i} has size {n}, "
                f"only size-1 dims can grow"
            )
    return expand_to(x, target)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, *other.shape)


# -- joining and splitting ---------------------------------------------------------------------


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in tensors]
        return xp_of(tensors[0].data).concatenate([t.data for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        # each input gets back the slice of the gradient where it was placed
        grads, start = [], 0
        lead = (slice(None),) * ctx.dim
        for size in ctx.sizes:
            grads.append(grad[lead + (slice(start, start + size),)])
            start += size
        return (None, *grads)


def cat(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other sizes must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    for t in tensors:
        ensure_tensor(t, "cat")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = normalize_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(
            a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d
        ):
            raise ShapeError(
                f"cat: tensor {i} has shape {t.shape}, which does not match {first.shape} outside dim {d}"
            )
    return Cat.apply(d, *tensors)


def stack(tensors: Iterable[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        ensure_tensor(t, "stack")
        if t.shape != tensors[0].shape:
            raise ShapeError(
                f"stack: all tensors must have one shape; tensor 0 is {tensors[0].shape}, "
                f"tensor {i} is {t.shape}"
            )
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Split into chunks of ``split_size`` (the last may be smaller) or of the listed sizes."""
    if x.ndim == 0:
        raise ShapeError("split: expected a tensor with at least 1 dimension, got a 0-d tensor")
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and n > 0):
            raise ShapeError(f"split: split_size must be positive (0 only for an empty dim), got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ShapeError(
                f"split: sections {sizes} must be non-negative and sum to {n}, the size of dim {d}"
            )
    lead = (slice(None),) * d
    parts, start = [], 0
    for size in sizes:
        parts.append(x[lead + (slice(start, start + size),)])
        start += size
    return tuple(parts)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    if x.ndim == 0 or chunks <= 0:
        raise ShapeError(f"chunk: needs chunks > 0 and at least 1 dim, got {chunks} for shape {x.shape}")
    d = normalize_dim(dim, x.ndim, "chunk")
    if x.shape[d] == 0:  # PyTorch gives `chunks` empty pieces, not one
        return split(x, [0] * chunks, d)
    return split(x, -(-x.shape[d] // chunks), d)


# -- padding: its own family now (all four modes), in padding.py; kept importable from here --

from .padding import pad as pad  # noqa: E402
