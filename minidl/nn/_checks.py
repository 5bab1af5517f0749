"""Input checks shared by the layers, so that every error names the layer (its repr) and both shapes."""

from typing import Any

from ..autograd.tensor import Tensor


def expect_tensor(layer: object, x: Any) -> None:
    """``x`` must be a Tensor: a list or an array passed by mistake gets an error naming the layer."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer!r} expected a Tensor input, got {type(x).__name__}")


def expect_float(layer: object, x: Any) -> None:
    expect_tensor(layer, x)
    if not x.is_floating_point():
        raise TypeError(
            f"{layer!r} expected a floating-point input, got {x.dtype} (shape {tuple(x.shape)}); "
            f"convert it, e.g. x.float()"
        )


def expect_dtype(layer: object, x: Tensor, weight: Tensor) -> None:
    """The input's dtype must be the parameters': a float64 batch into a float32 layer is a mistake
    to point out, not to paper over with a silent cast."""
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{layer!r} has {weight.dtype} parameters but got a {x.dtype} input "
            f"{tuple(x.shape)}; convert one of them, e.g. x.to(minidl.{weight.dtype}) or "
            f"layer.to(minidl.{x.dtype})"
        )
