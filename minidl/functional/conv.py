"""Convolutions: ``conv2d``, and ``conv1d`` as a conv2d over images of height 1.

The path of one call: ``conv2d`` reads and checks its arguments (``_check``; ``_convolve`` with
``backend.geometry``'s ``int_tuple`` and ``check_conv``) and applies ``Conv2d``, whose forward calls
``backend.kernels.conv2d_forward``: that checks the arrays and dispatches, by device and kernel
setting, to ``minidl._C.conv2d_forward`` (``csrc/cpu/conv2d.cpp``, im2col + our matmul), its CUDA
twin (``cuda_kernels.conv2d_forward`` -> ``minidl._C_cuda``) or ``reference.conv2d_forward``. The bias is not part of the kernels: it is
added by broadcasting, so its gradient is the engine's central broadcast sum over (N, OH, OW).

Higher derivatives work too (``create_graph=True``): each of the three kernels is bilinear in its
two array arguments, and the derivative of each is one of the other two. Writing
F(x, W) = conv2d_forward, Bx(dy, W) = conv2d_backward_input, Bw(dy, x) = conv2d_backward_weight:

    F:   dx = Bx(g, W)    dW = Bw(g, x)
    Bx:  ddy = F(g, W)    dW = Bw(dy, g)
    Bw:  ddy = F(x, g)    dx = Bx(dy, g)

so the three Functions below call each other in their backward passes, and the graph they build
is differentiable again, to any order.
"""

from collections.abc import Callable
from typing import Any

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import geometry, kernels

# IntOrInts, int_tuple and the transposed output size are re-exported for nn/conv.py, which may
# not import backend.
from ..backend.geometry import IntOrInts as IntOrInts
from ..backend.geometry import conv_transpose2d_output_size as conv_transpose2d_output_size
from ..backend.geometry import int_tuple as int_tuple
from ..backend.geometry import is_int
from ..errors import DTypeError, ShapeError
from ._util import ensure_tensor
from .padding import pad as pad_op

Padding = IntOrInts | str  # an int, a tuple, 'valid' or 'same'


# ---------------------------------------------------------------------------------------------
# The three kernels as Functions. Each saves its two operands and the geometry (the keywords
# stride=, padding=, dilation=, groups= that the kernels take), and runs its kernel on them.


class _ConvKernel(Function):
    """out = kernel(a, b, *shape, **geometry): one of the three conv2d kernels. ``gradients``
    says which Function, on which arguments, gives the gradient of a and of b."""

    kernel: Callable[..., Any]  # the backend.kernels function, set by each subclass
    gradients: Callable[..., tuple[tuple[Any, ...], tuple[Any, ...]]]  # (Function, *args) for a, b

    @classmethod
    def forward(cls, ctx, a, b, *shape, **geometry):
        ctx.save_for_backward(a, b)
        ctx.geometry = geometry
        return cls.kernel(a.data, b.data, *(tuple(s) for s in shape), **geometry)

    @classmethod
    def backward(cls, ctx, g):
        # Each gradient is computed only when needed, with the saved geometry; None for a shape.
        rules = cls.gradients(*ctx.saved_tensors, g)
        grads = tuple(
            function.apply(*args, **ctx.geometry) if needed else None
            for needed, (function, *args) in zip(ctx.needs_input_grad, rules)
        )
        return grads + (None,) * (len(ctx.needs_input_grad) - 2)


class Conv2d(_ConvKernel):
    """y = conv2d(x, weight).  x: (N, C_in, H, W), weight: (C_out, C_in/groups, kh, kw)"""

    kernel = staticmethod(kernels.conv2d_forward)

    @staticmethod
    def gradients(x, weight, g):  # dx = Bx(g, W), dW = Bw(g, x)
        return (Conv2dBackwardInput, g, weight, x.shape), (Conv2dBackwardWeight, g, x, weight.shape)


class Conv2dBackwardInput(_ConvKernel):
    """grad_x = conv2d_backward_input(grad_out, weight, input_shape): linear in each argument."""

    kernel = staticmethod(kernels.conv2d_backward_input)

    @staticmethod
    def gradients(grad_out, weight, g):  # ddy = F(g, W), dW = Bw(dy, g)
        return (Conv2d, g, weight), (Conv2dBackwardWeight, grad_out, g, weight.shape)


class Conv2dBackwardWeight(_ConvKernel):
    """grad_weight = conv2d_backward_weight(grad_out, x, weight_shape): linear in each argument."""

    kernel = staticmethod(kernels.conv2d_backward_weight)

    @staticmethod
    def gradients(grad_out, x, g):  # ddy = F(x, g), dx = Bx(dy, g)
        return (Conv2d, x, g), (Conv2dBackwardInput, grad_out, g, x.shape)


# ---------------------------------------------------------------------------------------------
# Arguments, checked at the edge in the terms of the op the user called (conv1d or conv2d).


def _check(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, dims: int) -> None:
    """Ranks, dtypes and bias of a ``dims``-d convolution (dims = 1 or 2)."""
    layout = "(N, C_in, L)" if dims == 1 else "(N, C_in, H, W)"
    _check_arrays(op, x, weight, bias, (dims + 2,), layout, "C_out, C_in/groups", dims)
    _check_bias(op, bias, weight.shape[0])


def _check_arrays(
    op: str,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    ranks: tuple[int, ...],
    layout: str,
    channels: str,
    dims: int,
) -> None:
    """x has one of ``ranks`` (named by ``layout``), the weight is (``channels``, *kernel), all
    three are tensors of one floating dtype."""
    ensure_tensor(x, op)
    ensure_tensor(weight, op)
    if bias is not None:
        ensure_tensor(bias, op)
    w_layout = f"({channels}, k)" if dims == 1 else f"({channels}, kh, kw)"
    if x.ndim not in ranks:
        rank = " or ".join(f"{r}-d" for r in ranks)
        raise ShapeError(f"{op}: expected a {rank} input {layout}, got shape {tuple(x.shape)}")
    if weight.ndim != dims + 2:
        raise ShapeError(f"{op}: expected a {dims + 2}-d weight {w_layout}, got shape {tuple(weight.shape)}")
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and not t.is_floating_point():
            raise DTypeError(f"{op}: expected floating-point tensors, got {name} of dtype {t.dtype}")
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise DTypeError(
            f"{op}: input, weight and bias must have one dtype, got {x.dtype}, {weight.dtype}"
            + (f", {bias.dtype}" if bias is not None else "")
        )


def _check_bias(op: str, bias: Tensor | None, c_out: int) -> None:
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ShapeError(
            f"{op}: bias must have shape ({c_out},) (one per output channel), got {tuple(bias.shape)}"
        )


def _padding(
    op: str,
    padding: Padding,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    dims: int,
) -> list[tuple[int, int]]:
    """Padding as (before, after) pairs per spatial dim, from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * dims
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        # The output keeps the input's size: pad the dilated kernel's extent minus one in all,
        # half before; an odd total puts the extra one after (as PyTorch does).
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in int_tuple(op, "padding", padding, dims)]


def _convolve(
    op: str,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: IntOrInts,
    padding: Padding,
    dilation: IntOrInts,
    groups: int,
    dims: int,
) -> Tensor:
    """The shared body of conv1d and conv2d: read and check the arguments, then run conv2d (over
    images of height 1 for conv1d)."""
    stride = int_tuple(op, "stride", stride, dims)
    dilation = int_tuple(op, "dilation", dilation, dims)
    pads = _padding(op, padding, tuple(weight.shape[2:]), stride, dilation, dims)
    if any(before != after for before, after in pads):
        # Uneven 'same' padding: pad the extra row/column explicitly, the rest in the kernel.
        extra = []
        for before, after in reversed(pads):  # pad() lists the last dim first
            extra += [0, after - before]
        x = pad_op(x, tuple(extra))
    padding = tuple(before for before, _ in pads)
    if is_int(groups) and 0 < groups and weight.shape[0] < groups:
        # PyTorch refuses an empty weight (C_out = 0) rather than return an empty output
        raise ShapeError(
            f"{op}: expected weight (C_out, C_in/groups, ...) with C_out at least groups={groups}, "
            f"got weight {tuple(weight.shape)} (input {tuple(x.shape)})"
        )
    geometry.check_conv(
        op,
        x.shape,
        weight.shape,
        stride,
        padding,
        dilation,
        groups,
        f"input {tuple(x.shape)}, weight {tuple(weight.shape)}",
    )
    if dims == 1:  # height 1, with stride/padding/dilation 1/0/1 along it
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
    y = Conv2d.apply(x, weight, stride=stride, padding=padding, dilation=dilation, groups=int(groups))
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    if x.shape[1] == 0:
        # PyTorch's answer for an input without channels: (N, 0, *out), not (N, C_out, *out) of
        # zeros (or of bias); the slice keeps weight and bias in the graph (zero gradients)
        y = y[:, :0]
    return y.squeeze(2) if dims == 1 else y


# ---------------------------------------------------------------------------------------------
# The ops


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrInts = 1,
    padding: Padding = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation, as in PyTorch) over a batch of images.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kh, kw); bias: (C_out,) or None
    stride, dilation: int or (h, w); padding: int, (h, w), 'valid' (0) or 'same' (stride 1 only)
    returns (N, C_out, OH, OW), OH = geometry.conv2d_output_size(H, kh, sh, ph, dh) (OW likewise)

    groups splits the channels into independent groups: output channel o sees only the input
    channels of its group (groups = C_in is a depthwise convolution).
    """
    op = "conv2d"
    _check(op, x, weight, bias, 2)
    return _convolve(op, x, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrInts = 1,
    padding: Padding = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution over a batch of sequences: conv2d over images of height 1.

    x: (N, C_in, L); weight: (C_out, C_in/groups, k); bias: (C_out,) or None
    stride, dilation: int; padding: int, 'valid' or 'same' (stride 1 only)
    returns (N, C_out, L_out) with L_out = (L + 2*padding - dilation*(k - 1) - 1) // stride + 1
    """
    op = "conv1d"
    _check(op, x, weight, bias, 1)
    return _convolve(op, x, weight, bias, stride, padding, dilation, groups, 1)


# ---------------------------------------------------------------------------------------------
# Transposed convolutions: the conv2d kernels read the other way round. conv_transpose2d(x, W)
# is the gradient a conv2d with weight W sends back to its input, Bx(x, W), so it runs on the
# grad-input kernel as it is, and its gradients are the two other kernels (dx = F(g, W),
# dW = Bw(x, g): Conv2dBackwardInput's own rules above). W is that conv's weight, (C_in,
# C_out/groups, kh, kw) here, as in PyTorch.


def _transpose(
    op: str,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: IntOrInts,
    padding: IntOrInts,
    output_padding: IntOrInts,
    groups: int,
    dilation: IntOrInts,
    dims: int,
) -> Tensor:
    """The shared body of conv_transpose1d and conv_transpose2d (dims = 1 or 2)."""
    layout = "(N, C_in, L) or (C_in, L)" if dims == 1 else "(N, C_in, H, W) or (C_in, H, W)"
    _check_arrays(op, x, weight, bias, (dims + 2, dims + 1), layout, "C_in, C_out/groups", dims)
    unbatched = x.ndim == dims + 1
    if unbatched:  # one sample, as PyTorch accepts
        x = x.unsqueeze(0)
    window = [
        int_tuple(op, name, value, dims)
        for name, value in (
            ("stride", stride),
            ("padding", padding),
            ("output_padding", output_padding),
            ("dilation", dilation),
        )
    ]
    stride, padding, output_padding, dilation = window
    shapes = f"input {tuple(x.shape)}, weight {tuple(weight.shape)}"
    out_shape = geometry.check_conv_transpose(
        op, x.shape, weight.shape, stride, padding, output_padding, dilation, groups, shapes
    )
    _check_bias(op, bias, out_shape[1])
    if dims == 1:  # height 1, with stride/padding/dilation 1/0/1 along it
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        out_shape = out_shape[:2] + (1,) + out_shape[2:]
        stride, padding, output_padding, dilation = (
            (1,) + stride,
            (0,) + padding,
            (0,) + output_padding,
            (1,) + dilation,
        )
    if all(o < s for o, s in zip(output_padding, stride)):
        # The conv that maps out_shape onto x's size exists: its grad-input is the answer.
        y = Conv2dBackwardInput.apply(
            x, weight, out_shape, stride=stride, padding=padding, dilation=dilation, groups=int(groups)
        )
    else:
        # output_padding >= stride (allowed under a larger dilation): no conv maps out_shape back
        # onto x's size. Take the unpadded output, then crop `padding` off each side and add
        # `output_padding` more rows after (what the crop left, else zeros).
        full = tuple(
            geometry.conv_transpose2d_output_size(n, k, s, 0, d, 0)
            for n, k, s, d in zip(x.shape[2:], weight.shape[2:], stride, dilation)
        )
        y = Conv2dBackwardInput.apply(
            x,
            weight,
            out_shape[:2] + full,
            stride=stride,
            padding=(0, 0),
            dilation=dilation,
            groups=int(groups),
        )
        widths: tuple[int, ...] = ()
        for p, o in reversed(list(zip(padding, output_padding))):  # pad() lists the last dim first
            widths += (-p, o - p)
        y = pad_op(y, widths)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    y = y.squeeze(2) if dims == 1 else y
    return y.squeeze(0) if unbatched else y


def conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts = 0,
    output_padding: IntOrInts = 0,
    groups: int = 1,
    dilation: IntOrInts = 1,
) -> Tensor:
    """2-d transposed convolution ("deconvolution"): the gradient of conv2d with respect to its
    input, used to upsample. Note PyTorch's argument order: groups before dilation.

    x: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out/groups, kh, kw); bias: (C_out,) or None
    returns (N, C_out, OH, OW), OH = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding_h + 1
    (geometry.conv_transpose2d_output_size; OW likewise). padding crops the output; output_padding
    (< stride or < dilation) adds rows and columns after, picking one of the input sizes a
    strided conv2d would have mapped onto H.
    """
    return _transpose(
        "conv_transpose2d", x, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose1d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts = 0,
    output_padding: IntOrInts = 0,
    groups: int = 1,
    dilation: IntOrInts = 1,
) -> Tensor:
    """1-d transposed convolution: conv_transpose2d over sequences of height 1.

    x: (N, C_in, L) or (C_in, L); weight: (C_in, C_out/groups, k); bias: (C_out,) or None
    returns (N, C_out, L_out), L_out = (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1
    """
    return _transpose(
        "conv_transpose1d", x, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )
