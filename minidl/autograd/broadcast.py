"""Broadcasting and its gradient, kept in one place.

When ``x`` of shape (3, 1) meets ``y`` of shape (4,) in ``x + y``, NumPy stretches both to (3, 4).
The gradient that comes back has the stretched shape (3, 4), and every stretched copy of an
element contributes to that element's gradient, so it must be *summed* back to (3, 1) and (4,).
The engine does this once, for every op, with ``sum_to``: no op reduces its own gradients.
"""

from collections.abc import Sequence

from ..backend.device import xp_of
from .function import Function
from .tensor import Tensor


def sum_to_shape(array, shape):
    """Sum ``array`` over the axes that broadcasting added or stretched, giving ``shape``."""
    shape = tuple(shape)
    if tuple(array.shape) == shape:
        return array
    lead = array.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"cannot reduce a gradient of shape {tuple(array.shape)} to shape {shape}")
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and array.shape[lead + i] != 1)
    out = array.sum(axis=tuple(range(lead)) + stretched, keepdims=True)
    out = out.reshape(shape)
    if tuple(out.shape) != shape:
        raise ValueError(f"cannot reduce a gradient of shape {tuple(array.shape)} to shape {shape}")
    return out


class SumTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return sum_to_shape(x.data, shape)

    @staticmethod
    def backward(ctx, grad):
        # d sum_to(x)/dx = 1 for every element that was summed: the gradient is broadcast back
        return ExpandTo.apply(grad, ctx.shape), None


class ExpandTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return xp_of(x.data).broadcast_to(x.data, shape)

    @staticmethod
    def backward(ctx, grad):
        # each input element was copied to several places: its gradient is the sum over them
        return SumTo.apply(grad, ctx.shape), None


def sum_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x`` (a Tensor) summed down to ``shape``; the same tensor when it already has it."""
    return x if x.shape == tuple(shape) else SumTo.apply(x, tuple(shape))


def expand_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast (without copying) to ``shape``."""
    return x if x.shape == tuple(shape) else ExpandTo.apply(x, tuple(shape))
