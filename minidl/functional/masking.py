"""Choosing elements by a boolean mask: ``masked_fill``, ``masked_select``, ``nonzero``, ``where``.

    masked_fill(input, mask, value)    value where mask is true, input elsewhere (they broadcast)
    masked_select(input, mask)         the 1-d list of input's elements where mask is true
    nonzero(input)                     the (N, ndim) int64 positions of the non-zero elements
    where(condition, input, other)     input where condition, other elsewhere (all broadcast);
    where(condition)                   nonzero(condition, as_tuple=True)

Masks are bool tensors, as PyTorch requires. Gradients flow to what was chosen: masked_fill
gives input none at the filled places, and a 0-d tensor ``value`` the sum over them; where sends
each element's gradient to the branch it came from. ``where``'s three-argument form is
elementwise.py's ``Where``; this file adds the checks, PyTorch's result dtype and the one-argument
form, and is the ``where`` that minidl exports.
"""

from typing import Any

import numpy

from ..autograd.convert import cast
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend.device import xp_of
from ..errors import DTypeError, ShapeError
from . import elementwise, promotion
from ._util import ensure_tensor
from .indexing import getitem
from .reduce import sum as sum_
from .shape import expand


def _check_mask(op: str, mask: Any, what: str = "mask") -> Tensor:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: expected the {what} as a bool Tensor, got {type(mask).__name__}")
    if mask.dtype != numpy.bool_:
        raise DTypeError(
            f"{op}: expected a bool {what}, got {mask.dtype} (shape {tuple(mask.shape)}); "
            f"make one with a comparison, e.g. x > 0, or {what}.bool()"
        )
    return mask


def _broadcast(op: str, *tensors: Any) -> tuple[int, ...]:
    try:
        return tuple(numpy.broadcast_shapes(*(tuple(getattr(t, "shape", ())) for t in tensors)))
    except ValueError:
        shapes = " and ".join(str(tuple(getattr(t, "shape", ()))) for t in tensors)
        raise ShapeError(
            f"{op}: shapes {shapes} cannot be broadcast together (sizes must match or be 1, aligned from the right)"
        ) from None


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        xp = xp_of(x.data)
        fill = value.data if isinstance(value, Tensor) else numpy.asarray(value)
        return xp.where(mask.data, xp.asarray(fill.astype(x.dtype)), x.data)

    @staticmethod
    def backward(ctx, grad):
        # d out/d input = 0 where filled, 1 elsewhere; d out/d value = 1 at every filled place
        (mask,) = ctx.saved_tensors
        _, _, need_value = ctx.needs_input_grad
        gx = elementwise.where(mask, 0.0, grad)
        gv = sum_(elementwise.where(mask, grad, 0.0)) if need_value else None
        return gx, None, gv


def masked_fill(input: Tensor, mask: Tensor, value: Tensor | float) -> Tensor:
    """``value`` where ``mask`` is true, ``input`` elsewhere.

    input: (*A); mask: bool, broadcasting with input; value: a number or a 0-d tensor, cast to
    input's dtype. Returns the broadcast shape, input's dtype."""
    op = "masked_fill"
    ensure_tensor(input, op)
    _check_mask(op, mask)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(
                f"{op}: value must be a number or a 0-d tensor, got a tensor of shape {tuple(value.shape)}"
            )
    elif not isinstance(value, (int, float, numpy.number, numpy.bool_)):  # bool is an int
        raise TypeError(f"{op}: value must be a number or a 0-d tensor, got {type(value).__name__}")
    _broadcast(op, input, mask)
    return MaskedFill.apply(input, mask, value)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` is true, as a 1-d tensor (row-major order).

    input and mask (bool) broadcast together; returns (number of true elements,)."""
    op = "masked_select"
    ensure_tensor(input, op)
    _check_mask(op, mask)
    if mask.device != input.device:
        raise RuntimeError(
            f"{op}: mask is on {mask.device} but input is on {input.device}; move one with .to()"
        )
    shape = _broadcast(op, input, mask)
    x = expand(input, *shape) if input.shape != shape else input
    # a boolean index; its gradient adds back at the chosen places (indexing.py), and expand's
    # sums the broadcast copies
    return getitem(x, xp_of(mask.data).broadcast_to(mask.data, shape))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The positions of the non-zero (true) elements of ``input``, in row-major order.

    Returns an int64 tensor (N, input.ndim), or with as_tuple one int64 tensor (N,) per dim (a
    0-d input counts as 1-d there, as in PyTorch). No gradient."""
    ensure_tensor(input, "nonzero")
    a = input.data
    xp = xp_of(a)
    if as_tuple:
        return tuple(
            Tensor._make(i.astype(numpy.int64, copy=False)) for i in xp.nonzero(a.reshape(a.shape or (1,)))
        )
    return Tensor._make(xp.argwhere(a).astype(numpy.int64, copy=False))


def where(condition: Tensor | bool, input: Any = None, other: Any = None) -> Any:
    """``input`` where ``condition`` is true, ``other`` elsewhere; the three broadcast together
    and input/other may be numbers. Result dtype: PyTorch's promotion of input and other
    (``where(c, int_tensor, 0.5)`` is float32). ``where(condition)`` is
    ``nonzero(condition, as_tuple=True)``."""
    op = "where"
    if input is None and other is None:
        return nonzero(_check_mask(op, condition, "condition"), as_tuple=True)
    if input is None or other is None:
        raise TypeError(f"{op}: expected both input and other, or neither (where(condition) is nonzero)")
    # a Python bool or a bool array (a constant mask, kept from minidl's older where) pass as they are
    if not isinstance(condition, bool) and not (
        hasattr(condition, "shape") and getattr(condition, "dtype", None) == numpy.bool_
    ):
        _check_mask(op, condition, "condition")
    _broadcast(op, condition, input, other)
    out = elementwise.Where.apply(condition, input, other)
    dtype = promotion.result_type(input, other)
    return out if out.dtype == dtype else cast(out, dtype)
