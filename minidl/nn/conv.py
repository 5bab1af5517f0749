"""``Conv1d`` and ``Conv2d``: learned filters slid over sequences and images; ``ConvTranspose1d``
and ``ConvTranspose2d``: the same filters run backwards, to upsample.

    weight  (out_channels, in_channels / groups, *kernel_size)     Conv
            (in_channels, out_channels / groups, *kernel_size)     ConvTranspose (PyTorch's layout)
    bias    (out_channels,) or None

Each output channel o is the cross-correlation of its filter weight[o] with the input channels of
its group, plus bias[o]; the arithmetic is ``functional.conv1d``/``conv2d`` (our conv2d kernels).
A transposed conv is the input gradient of the conv with its weight (``functional.conv_transpose2d``).
Initialisation as in PyTorch: kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel_size), for the weight and the bias:
in_channels / groups for a conv, out_channels / groups for a transposed one (PyTorch computes
the transposed weight's fan the same way, from its second dim).
"""

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from .. import factories
from .. import functional as F
from ..autograd.tensor import Tensor
from ..factories import DeviceLike, DTypeLike
from ..functional.conv import IntOrInts, Padding, conv_transpose2d_output_size, int_tuple
from ._checks import expect_dtype, expect_float
from .linear import reset_weight_and_bias
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    """What Conv1d and Conv2d share; ``dims`` is the number of spatial dimensions."""

    dims = 0
    layout = ""  # the spatial part of the input layout, for messages: 'L' or 'H, W'
    transposed = False  # a ConvTranspose: the weight is (in, out / groups, *kernel)
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
        channels = (
            (in_channels, out_channels // groups)
            if self.transposed
            else (out_channels, in_channels // groups)
        )
        shape = channels + self.kernel_size
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
        return self._checked(x)

    def _checked(self, x: Tensor, **options: Any) -> Tensor:
        """Check x against the layer, then run the conv on it (batched), with ``options``."""
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
            return self._conv(x.unsqueeze(0), **options).squeeze(0)
        return self._conv(x, **options)

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


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: output_padding, and forward's output_size."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrInts,
        stride: IntOrInts = 1,
        padding: IntOrInts = 0,
        output_padding: IntOrInts = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: IntOrInts = 1,
        padding_mode: str = "zeros",
        device: DeviceLike | None = None,
        dtype: DTypeLike = None,
    ) -> None:
        name = type(self).__name__
        if isinstance(padding, str):
            raise TypeError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got {padding_mode!r}')
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )
        self.output_padding = int_tuple(name, "output_padding", output_padding, self.dims)

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """x: (N, C_in, *S) or (C_in, *S). output_size: the spatial sizes wanted (a leading
        (N, C) or (C,) may come too); it picks the output_padding, in place of the layer's own."""
        return self._checked(x, output_size=output_size)

    def _output_padding(self, x: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """The output_padding that gives ``output_size`` from the batched x (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)
        if len(wanted) in (self.dims + 1, self.dims + 2):
            wanted = wanted[-self.dims :]
        if len(wanted) != self.dims:
            raise ValueError(
                f"{self!r}: output_size must have {self.dims} spatial sizes (with or without the "
                f"leading N, C), got {tuple(output_size)}"
            )
        padding = tuple(int(p) for p in self.padding)  # never a string here (__init__ refuses one)
        axes = zip(x.shape[2:], self.kernel_size, self.stride, padding, self.dilation)
        smallest = [conv_transpose2d_output_size(n, k, s, p, d, 0) for n, k, s, p, d in axes]
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not lo <= n <= hi for n, lo, hi in zip(wanted, smallest, largest)):
            raise ValueError(
                f"{self!r}: requested an output size of {list(wanted)}, but valid sizes range from "
                f"{smallest} to {largest} (for an input of {tuple(x.shape[2:])})"
            )
        return tuple(n - lo for n, lo in zip(wanted, smallest))

    def _conv(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(x, output_size)
        return self.function(
            x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.output_padding == (0,) * self.dims:
            return s
        # PyTorch's order: after padding and dilation, before groups and bias
        cut = min((i for i in (s.find(", groups="), s.find(", bias=False")) if i >= 0), default=len(s))
        return s[:cut] + f", output_padding={self.output_padding}" + s[cut:]


class ConvTranspose1d(_ConvTransposeNd):
    """ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1)

    input (N, C_in, L) or (C_in, L) -> (N, C_out, L_out) or (C_out, L_out), with
    L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.
    """

    dims = 1
    layout = "L"
    function = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1)

    input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
    H_out = (H - 1) stride[0] - 2 padding[0] + dilation[0] (kernel_size[0] - 1) + output_padding[0] + 1
    (W_out likewise); forward(x, output_size=...) picks output_padding from the size wanted.
    """

    dims = 2
    layout = "H, W"
    function = staticmethod(F.conv_transpose2d)
