"""Pooling layers: ``MaxPool1d``, ``MaxPool2d``, ``AvgPool1d``, ``AvgPool2d``; ``MaxUnpool1d`` and
``MaxUnpool2d``, max pooling's partial inverse.

A pooling layer has no parameters: it keeps its window settings and calls the functional op
(``functional/pool.py``, on our pool2d kernels), which reads and checks them. The max of each
window passes its gradient to the element that won; the average spreads it evenly over the window.
"""

from collections.abc import Callable, Sequence
from typing import Any

from .. import functional as F
from ..autograd.tensor import Tensor
from ..functional.pool import IntOrInts, int_tuple
from ._checks import expect_float
from .module import Module


class _Pool(Module):
    """What the four share: the input check in the layer's own words, and one forward that hands
    the settings named in ``arguments`` to ``function``, in that order."""

    dims = 0
    layout = ""
    function: Callable[..., Any]  # the functional op
    arguments: tuple[str, ...] = ()

    def forward(self, x: Tensor) -> Any:
        expect_float(self, x)
        if x.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(
                f"{self!r} expected input (N, C, {self.layout}) or (C, {self.layout}), got {tuple(x.shape)}"
            )
        return self.function(x, *(getattr(self, name) for name in self.arguments))


class _MaxPool(_Pool):
    arguments = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")

    def __init__(
        self,
        kernel_size: IntOrInts,
        stride: IntOrInts | None = None,
        padding: IntOrInts = 0,
        dilation: IntOrInts = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size  # PyTorch's default
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPool):
    """MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)

    input (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out); stride defaults to kernel_size.
    """

    dims, layout = 1, "L"
    function = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)

    input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).
    """

    dims, layout = 2, "H, W"
    function = staticmethod(F.max_pool2d)


class _AvgPool(_Pool):
    arguments = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")

    def __init__(
        self,
        kernel_size: IntOrInts,
        stride: IntOrInts | None = None,
        padding: IntOrInts = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPool):
    """AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)

    input (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out).
    """

    dims, layout = 1, "L"
    function = staticmethod(F.avg_pool1d)


class AvgPool2d(_AvgPool):
    """AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)

    input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).
    """

    dims, layout = 2, "H, W"
    function = staticmethod(F.avg_pool2d)


class _MaxUnpool(Module):
    """What MaxUnpool1d and MaxUnpool2d share: the window, kept as tuples (PyTorch's repr)."""

    dims = 0
    function: Callable[..., Tensor]

    def __init__(
        self, kernel_size: IntOrInts, stride: IntOrInts | None = None, padding: IntOrInts = 0
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = int_tuple(name, "kernel_size", kernel_size, self.dims)
        self.stride = int_tuple(name, "stride", stride if stride is not None else kernel_size, self.dims)
        self.padding = int_tuple(name, "padding", padding, self.dims)

    def forward(self, x: Tensor, indices: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return self.function(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """MaxUnpool1d(kernel_size, stride=None, padding=0); forward(x, indices, output_size=None)

    x, indices (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out),
    L_out = (L - 1) stride - 2 padding + kernel_size, or output_size.
    """

    dims = 1
    function = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """MaxUnpool2d(kernel_size, stride=None, padding=0); forward(x, indices, output_size=None)

    x, indices (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out),
    H_out = (H - 1) stride[0] - 2 padding[0] + kernel_size[0] (W_out likewise), or output_size.
    """

    dims = 2
    function = staticmethod(F.max_unpool2d)
