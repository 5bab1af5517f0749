"""``Conv1d`` and ``Conv2d``: learned filters slid over sequences and images.

    weight  (out_channels, in_channels / groups, *kernel_size)
    bias    (out_channels,) or None

Each output channel o is the cross-correlation of its filter weight[o] with the input channels of
its group, plus bias[o]; the arithmetic is ``functional.conv1d``/``conv2d`` (our conv2d kernels).
Initialisation as in PyTorch: kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel_size), for the weight and the bias.
"""

import numbers
from collections.abc import Callable

from .. import factories
from .. import functional as F
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from ..functional.conv import IntOrInts, Padding, int_tuple
from ._checks import expect_dtype, expect_float
from .linear import reset_weight_and_bias
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    """What Conv1d and Conv2d share; ``dims`` is the number of spatial dimensions."""

    dims = 0
    layout = ""  # the spatial part of the input layout, for messages: 'L' or 'H, W'
    function: Callable[..., Tensor]  # the functional op: F.conv1d or F.conv2d

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrInts,
        stride: IntOrInts = 1,
        padding: Padding = 0,
        dilation: IntOrInts = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self.dims
        # What only the layer knows: the channels it is built for, and the weight's shape. The
        # window arguments are read the way F.conv1d/conv2d read them (int_tuple), and checked
        # against the input by the kernel at the first forward.
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {n!r}")
        in_channels, out_channels, groups = int(in_channels), int(out_channels), int(groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported; only 'zeros'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = int_tuple(name, "kernel_size", kernel_size, dims)
        self.stride = int_tuple(name, "stride", stride, dims)
        self.padding = padding if isinstance(padding, str) else int_tuple(name, "padding", padding, dims)
        self.dilation = int_tuple(name, "dilation", dilation, dims)
        self.padding_mode = padding_mode
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.bias: Parameter | None
        self.weight = Parameter(factories.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(factories.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias)

    def _conv(self, x: Tensor) -> Tensor:
        return self.function(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, x: Tensor) -> Tensor:
        expect_float(self, x)
        batched = x.ndim == self.dims + 2
        if not (batched or x.ndim == self.dims + 1) or x.shape[1 if batched else 0] != self.in_channels:
            c = self.in_channels
            raise ValueError(
                f"{self!r} expected input (N, {c}, {self.layout}) or ({c}, {self.layout}), "
                f"got {tuple(x.shape)}"
            )
        expect_dtype(self, x, self.weight)
        if not batched:  # one sample: PyTorch accepts it without the batch dim, and so do we
            return self._conv(x.unsqueeze(0)).squeeze(0)
        return self._conv(x)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)

    input (N, C_in, L) or (C_in, L) -> (N, C_out, L_out) or (C_out, L_out), with
    L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1.
    """

    dims = 1
    layout = "L"
    function = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)

    input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
    H_out = (H + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) // stride[0] + 1 (W_out likewise).
    """

    dims = 2
    layout = "H, W"
    function = staticmethod(F.conv2d)
