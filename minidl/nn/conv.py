"""``Conv1d`` and ``Conv2d``: learned filters slid over sequences and images.

    weight  (out_channels, in_channels / groups, *kernel_size)
    bias    (out_channels,) or None

Each output channel o is the cross-correlation of its filter weight[o] with the input channels of
its group, plus bias[o]; the arithmetic is ``functional.conv1d``/``conv2d`` (our conv2d kernels).
Initialisation as in PyTorch: kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel_size), for the weight and the bias.
"""
import math

from .. import factories
from .. import functional as F
from . import init
from ._checks import expect_dtype, expect_float
from .module import Module
from .parameter import Parameter


def _tuple(name, value, dims):
    """An int or a tuple of ``dims`` ints, as a tuple of ``dims`` ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"Conv{dims}d: {name} must be an int or a tuple of {dims} ints, got {value!r}")
    return values


class _ConvNd(Module):
    """What Conv1d and Conv2d share; ``dims`` is the number of spatial dimensions."""

    dims = 0
    layout = ""  # the spatial part of the input layout, for messages: 'L' or 'H, W'

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {n!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported; only 'zeros'")
        dims = self.dims
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple("kernel_size", kernel_size, dims)
        self.stride = _tuple("stride", stride, dims)
        self.padding = padding if isinstance(padding, str) else _tuple("padding", padding, dims)
        self.dilation = _tuple("dilation", dilation, dims)
        self.padding_mode = padding_mode
        if isinstance(padding, str) and padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(factories.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(factories.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _conv(self, x):
        raise NotImplementedError

    def forward(self, x):
        expect_float(self, x)
        batched = x.ndim == self.dims + 2
        if not (batched or x.ndim == self.dims + 1) or x.shape[1 if batched else 0] != self.in_channels:
            c = self.in_channels
            raise ValueError(f"{self!r} expected input (N, {c}, {self.layout}) or ({c}, {self.layout}), "
                             f"got {tuple(x.shape)}")
        expect_dtype(self, x, self.weight)
        if not batched:  # one sample: PyTorch accepts it without the batch dim, and so do we
            return self._conv(x.unsqueeze(0)).squeeze(0)
        return self._conv(x)

    def extra_repr(self):
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

    def _conv(self, x):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class Conv2d(_ConvNd):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)

    input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
    H_out = (H + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1) // stride[0] + 1 (W_out likewise).
    """

    dims = 2
    layout = "H, W"

    def _conv(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
