"""Changing a tensor's dtype or device, differentiably: the gradient goes back the same way."""

from typing import Any

import numpy
from numpy.typing import DTypeLike

from ..backend import device as _device
from ..backend.device import xp_of
from .function import Function
from .tensor import Tensor


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        # d cast(x)/dx = 1: the gradient only returns to x's dtype
        return cast(grad, ctx.dtype), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = x.device
        return _device.to_device(x.data, device)

    @staticmethod
    def backward(ctx, grad):
        # d move(x)/dx = 1: the gradient moves back to where x lives
        return ToDevice.apply(grad, ctx.device), None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return xp_of(x.data).array(x.data, order="C", copy=True)  # a row-major copy

    @staticmethod
    def backward(ctx, grad):
        # d clone(x)/dx = 1
        return grad


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` with its own memory, still in the graph."""
    return Clone.apply(x)


def cast(x: Tensor, dtype: DTypeLike) -> Tensor:
    """``x`` as ``dtype`` (the same tensor when it already is)."""
    dtype = numpy.dtype(dtype)
    return x if x.dtype == dtype else Cast.apply(x, dtype)


def to_tensor(x: Tensor, dtype: DTypeLike | None = None, device: Any = None) -> Tensor:
    """What ``Tensor.to`` does: a cast and/or a move, each only when something changes."""
    if device is not None:
        device = _device.Device(device)
        if device != x.device:
            if device.type == "cuda":
                _device.xp_for(device)  # a clear error when there is no GPU or no CuPy
            x = ToDevice.apply(x, device)
    if dtype is not None:
        x = cast(x, dtype)
    return x


__all__ = ["Cast", "Clone", "ToDevice", "cast", "clone", "to_tensor", "Tensor"]
