"""Rearranging ops: the same values moved, mirrored, repeated or cut into windows.

``roll``, ``flip``, ``movedim`` move every value exactly once, so their derivative moves the
gradient back (roll the other way, flip again, the inverse permutation). ``repeat`` copies
values, so each copy's gradient is summed back onto its source. ``repeat_interleave`` and
``unfold`` pick elements by an index array (``x[..., index]``), whose derivative already scatters
and adds the gradient back (indexing.py); ``meshgrid`` is reshape + expand.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError, ShapeError
from ._util import ensure_tensor, normalize_dim
from .indexing import getitem
from .reduce import sum as sum_
from .shape import expand, permute, reshape


def _ints(value, name, op):
    """An int or a sequence of ints as a tuple of ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, numpy.integer)):
            raise TypeError(f"{op}: {name} must be ints, got {value!r}")
    return tuple(int(v) for v in values)


def _distinct_dims(dims, ndim, op, what="dims"):
    axes = tuple(normalize_dim(d, ndim, op) for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: {what} {dims} name a dimension more than once")
    return axes


# -- moving every value once -------------------------------------------------------------------


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return xp_of(x.data).roll(x.data, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        # rolling moves x[i] to y[i + s]: the gradient rolls back by -s
        back = tuple(-s for s in ctx.shifts) if ctx.dims is not None else -ctx.shifts
        return Roll.apply(grad, back, ctx.dims), None, None


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Shift the elements along ``dims`` circularly (what falls off one end comes back at the
    other); with dims=None, along the flattened tensor, keeping the shape."""
    ensure_tensor(input, "roll")
    shift_list = _ints(shifts, "shifts", "roll")
    if dims is None:
        if len(shift_list) != 1:
            raise ShapeError(f"roll: with dims=None, shifts must be one int, got {shifts!r}")
        return Roll.apply(input, shift_list[0], None)
    dim_list = _ints(dims, "dims", "roll")
    if len(dim_list) != len(shift_list):
        raise ShapeError(f"roll: shifts {shifts!r} and dims {dims!r} must have the same length")
    if input.ndim == 0:
        raise IndexError(f"roll: dims {dims!r} given, but the tensor has no dimensions")
    axes = tuple(normalize_dim(d, input.ndim, "roll") for d in dim_list)
    return Roll.apply(input, shift_list, axes)


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return xp_of(x.data).flip(x.data, dims) if dims else x.data

    @staticmethod
    def backward(ctx, grad):
        # flipping twice is the identity
        return Flip.apply(grad, ctx.dims), None


def flip(input: Tensor, dims: int | Sequence[int], *more_dims: int) -> Tensor:
    """Reverse the order of the elements along each of ``dims`` (``x.flip(0, 1)`` as well)."""
    ensure_tensor(input, "flip")
    listed = (dims, *more_dims) if more_dims else dims
    axes = _distinct_dims(_ints(listed, "dims", "flip"), input.ndim, "flip")
    return Flip.apply(input, axes if input.ndim else ())


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    ensure_tensor(input, "movedim")
    src, dst = _ints(source, "source", "movedim"), _ints(destination, "destination", "movedim")
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {source!r} and destination {destination!r} must name as many dims")
    src = _distinct_dims(src, input.ndim, "movedim", "source")
    dst = _distinct_dims(dst, input.ndim, "movedim", "destination")
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order)) if input.ndim else input


moveaxis = movedim


# -- copying values ----------------------------------------------------------------------------


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, repeats):
        lead = (1,) * (len(repeats) - x.ndim)
        ctx.shape, ctx.tiled = x.shape, tuple(zip(repeats, lead + x.shape))
        return xp_of(x.data).tile(x.data.reshape(lead + x.shape), repeats)

    @staticmethod
    def backward(ctx, grad):
        # every copy of x[i] adds its gradient: split each dim into (copy, i) and sum the copies
        split = tuple(n for pair in ctx.tiled for n in pair)
        copies = tuple(range(0, len(split), 2))
        return reshape(sum_(reshape(grad, split), copies), ctx.shape), None


def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """``x.repeat(2, 3)``: tile the whole tensor, ``repeats[i]`` times along dim i. There may be
    more repeats than dims (new leading dims). input: (s0, ..., sn) -> (r0 s0, ..., rn sn)."""
    ensure_tensor(input, "repeat")
    if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
        repeats = tuple(repeats[0])
    reps = _ints(repeats, "repeats", "repeat")
    if len(reps) < input.ndim:
        raise ShapeError(
            f"repeat: got {len(reps)} repeats {reps} for a tensor of shape {input.shape}; "
            f"expected at least one per dimension ({input.ndim})"
        )
    if any(r < 0 for r in reps):
        raise ShapeError(f"repeat: repeats {reps} must not be negative")
    return Repeat.apply(input, reps)


def _repeat_counts(repeats, n, op):
    """``repeats`` (an int, or a 0-d/1-d integer tensor) as a NumPy array of n counts."""
    if isinstance(repeats, Tensor):
        if repeats.dtype.kind not in "iu":
            raise DTypeError(f"{op}: repeats must be an integer tensor, got {repeats.dtype}")
        if repeats.ndim > 1:
            raise ShapeError(f"{op}: repeats must be a 0-d or 1-d tensor, got shape {repeats.shape}")
        counts = numpy.asarray(repeats.detach().cpu().numpy(), dtype=numpy.int64).reshape(-1)
    else:
        counts = numpy.asarray(_ints(repeats, "repeats", op), dtype=numpy.int64)
    if counts.size == 1:
        counts = numpy.full(n, counts[0])
    if counts.size != n:
        raise ShapeError(f"{op}: {counts.size} repeats given for a dimension of size {n}")
    if (counts < 0).any():
        raise ShapeError(f"{op}: repeats must not be negative, got {counts.tolist()}")
    return counts


def repeat_interleave(input: Tensor, repeats: "int | Tensor | None" = None, dim: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per element along ``dim``),
    copies side by side: [a, b] -> [a, a, b, b]. dim=None works on the flattened tensor.
    ``repeat_interleave(counts)`` alone gives the indices 0, 1, ... each repeated counts[i] times."""
    ensure_tensor(input, "repeat_interleave")
    if repeats is None:
        counts = _repeat_counts(input, input.shape[0] if input.ndim else 1, "repeat_interleave")
        index = numpy.repeat(numpy.arange(counts.size), counts)
        return Tensor._make(xp_of(input.data).asarray(index))
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        if input.ndim == 0:
            raise IndexError(f"repeat_interleave: dim {dim} given, but the tensor has no dimensions")
        d = normalize_dim(dim, input.ndim, "repeat_interleave")
    counts = _repeat_counts(repeats, input.shape[d], "repeat_interleave")
    index = xp_of(input.data).asarray(numpy.repeat(numpy.arange(input.shape[d]), counts))
    return getitem(input, (slice(None),) * d + (index,))


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-d tensors t0 (n0,), t1 (n1,), ...: output i is t_i stretched to
    (n0, n1, ...) along its own dim. ``indexing='xy'`` swaps the first two dims: (n1, n0, ...)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ValueError("meshgrid: expected at least one tensor")
    for i, t in enumerate(tensors):
        ensure_tensor(t, "meshgrid")
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-d or 1-d tensors, tensor {i} has shape {t.shape}")
        if t.dtype != tensors[0].dtype:
            raise DTypeError(
                f"meshgrid: all tensors must have one dtype; tensor 0 is {tensors[0].dtype}, "
                f"tensor {i} is {t.dtype}"
            )
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:  # 'xy' is 'ij' with the first two inputs (and so the first two outputs) swapped
        tensors = (tensors[1], tensors[0], *tensors[2:])
    sizes = tuple(math.prod(t.shape) for t in tensors)
    grids = [
        expand(reshape(t, (1,) * i + (n,) + (1,) * (len(sizes) - i - 1)), *sizes)
        for i, (t, n) in enumerate(zip(tensors, sizes))
    ]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# -- windows -----------------------------------------------------------------------------------


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``x.unfold(d, size, step)``: the windows x[..., i*step : i*step + size, ...] along dim d.
    Dim d becomes the window count L = (n - size) // step + 1 and a last dim of ``size`` is added:
    (..., n, ...) -> (..., L, ..., size). Overlapping windows share elements (their gradients add)."""
    ensure_tensor(input, "unfold")
    size, step = _ints(size, "size", "unfold")[0], _ints(step, "step", "unfold")[0]
    d = normalize_dim(dimension, input.ndim, "unfold")
    n = input.shape[d] if input.ndim else 1
    if size < 0 or step <= 0:
        raise ShapeError(f"unfold: size must be >= 0 and step > 0, got size={size}, step={step}")
    if size > n:
        raise ShapeError(
            f"unfold: window size {size} is larger than dim {d} (size {n}) of shape {input.shape}"
        )
    if input.ndim == 0:  # PyTorch: a 0-d tensor unfolds into one window of `size` (0 or 1)
        return getitem(reshape(input, (1,)), slice(0, size))
    starts = numpy.arange((n - size) // step + 1)[:, None] * step
    index = xp_of(input.data).asarray(starts + numpy.arange(size)[None, :])
    windows = getitem(input, (slice(None),) * d + (index,))  # (..., L, size, ...)
    return movedim(windows, d + 1, -1)
