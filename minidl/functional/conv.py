"""Convolutions: ``conv2d``, and ``conv1d`` as a conv2d over images of height 1.

The forward and both gradients are native kernels (``backend.kernels.conv2d_forward``,
``conv2d_backward_input``, ``conv2d_backward_weight`` -> ``csrc/cpu/conv2d.cpp``, im2col + our
matmul). The bias is not part of the kernels: it is added by broadcasting, so its gradient is the
engine's central broadcast sum over (N, OH, OW).

Higher derivatives work too (``create_graph=True``): each of the three kernels is bilinear in its
two array arguments, and the derivative of each is one of the other two. Writing
F(x, W) = conv2d_forward, Bx(dy, W) = conv2d_backward_input, Bw(dy, x) = conv2d_backward_weight:

    F:   dx = Bx(g, W)    dW = Bw(g, x)
    Bx:  ddy = F(g, W)    dW = Bw(dy, g)
    Bw:  ddy = F(x, g)    dx = Bx(dy, g)

so the three Functions below call each other in their backward passes, and the graph they build
is differentiable again, to any order.
"""
import numpy

from ..autograd.function import Function
from ..backend import kernels
from ._util import ensure_tensor
from .shape import pad as pad_op


# ---------------------------------------------------------------------------------------------
# The three kernels as Functions. ``geometry`` is the dict stride=, padding=, dilation=, groups=
# with (h, w) pairs, as the kernels take it.

class Conv2d(Function):
    """y = conv2d(x, weight).  x: (N, C_in, H, W), weight: (C_out, C_in/groups, kh, kw)"""

    @staticmethod
    def forward(ctx, x, weight, **geometry):
        ctx.save_for_backward(x, weight)
        ctx.geometry = geometry
        return kernels.conv2d_forward(x.data, weight.data, **geometry)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = Conv2dBackwardInput.apply(grad, weight, input_shape=x.shape, **ctx.geometry) if need_x else None
        gw = Conv2dBackwardWeight.apply(grad, x, weight_shape=weight.shape, **ctx.geometry) if need_w else None
        return gx, gw


class Conv2dBackwardInput(Function):
    """grad_x = conv2d_backward_input(grad_out, weight): linear in each argument."""

    @staticmethod
    def forward(ctx, grad_out, weight, input_shape, **geometry):
        ctx.save_for_backward(grad_out, weight)
        ctx.geometry = geometry
        return kernels.conv2d_backward_input(grad_out.data, weight.data, tuple(input_shape), **geometry)

    @staticmethod
    def backward(ctx, g):
        grad_out, weight = ctx.saved_tensors
        need_dy, need_w = ctx.needs_input_grad
        ddy = Conv2d.apply(g, weight, **ctx.geometry) if need_dy else None
        dw = Conv2dBackwardWeight.apply(grad_out, g, weight_shape=weight.shape, **ctx.geometry) if need_w else None
        return ddy, dw


class Conv2dBackwardWeight(Function):
    """grad_weight = conv2d_backward_weight(grad_out, x): linear in each argument."""

    @staticmethod
    def forward(ctx, grad_out, x, weight_shape, **geometry):
        ctx.save_for_backward(grad_out, x)
        ctx.geometry = geometry
        return kernels.conv2d_backward_weight(grad_out.data, x.data, tuple(weight_shape), **geometry)

    @staticmethod
    def backward(ctx, g):
        grad_out, x = ctx.saved_tensors
        need_dy, need_x = ctx.needs_input_grad
        ddy = Conv2d.apply(x, g, **ctx.geometry) if need_dy else None
        dx = Conv2dBackwardInput.apply(grad_out, g, input_shape=x.shape, **ctx.geometry) if need_x else None
        return ddy, dx


# ---------------------------------------------------------------------------------------------
# Argument checking, in the terms of the op the user called (conv1d or conv2d)

def _ints(op, name, value, dims, minimum):
    """An int or a tuple of ``dims`` ints, as a tuple of ``dims`` ints >= minimum."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims or not all(isinstance(v, (int, numpy.integer)) and not isinstance(v, bool)
                                      for v in values):
        expected = "an int" if dims == 1 else f"an int or a tuple of {dims} ints"
        raise TypeError(f"{op}: {name} must be {expected}, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return tuple(int(v) for v in values)


def _check(op, x, weight, bias, groups, dims):
    """Ranks, dtypes, channels and bias of a ``dims``-d convolution (dims = 1 or 2)."""
    ensure_tensor(x, op)
    ensure_tensor(weight, op)
    if bias is not None:
        ensure_tensor(bias, op)
    layout = "(N, C_in, L)" if dims == 1 else "(N, C_in, H, W)"
    w_layout = "(C_out, C_in/groups, k)" if dims == 1 else "(C_out, C_in/groups, kh, kw)"
    if x.ndim != dims + 2:
        raise ValueError(f"{op}: expected a {dims + 2}-d input {layout}, got shape {tuple(x.shape)}")
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: expected a {dims + 2}-d weight {w_layout}, got shape {tuple(weight.shape)}")
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and not t.is_floating_point():
            raise TypeError(f"{op}: expected floating-point tensors, got {name} of dtype {t.dtype}")
    if weight.dtype != x.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"{op}: input, weight and bias must have one dtype, got {x.dtype}, {weight.dtype}"
                        + (f", {bias.dtype}" if bias is not None else ""))
    if isinstance(groups, bool) or not isinstance(groups, (int, numpy.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c_in, c_out, c_per_group = x.shape[1], weight.shape[0], weight.shape[1]
    shapes = f"input {tuple(x.shape)}, weight {tuple(weight.shape)}"
    if c_in != c_per_group * groups:
        raise ValueError(f"{op}: input has {c_in} channels, but weight expects {c_per_group} per group x "
                         f"groups={groups} = {c_per_group * groups} ({shapes})")
    if c_out % groups:
        raise ValueError(f"{op}: weight's {c_out} output channels are not divisible by groups={groups} ({shapes})")
    if min(weight.shape[2:]) < 1:
        raise ValueError(f"{op}: the kernel must be at least 1 wide, got weight shape {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},) (one per output channel), "
                         f"got {tuple(bias.shape)}")


def _padding(op, padding, kernel, stride, dilation, dims):
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
    return [(p, p) for p in _ints(op, "padding", padding, dims, 0)]


def _convolve(op, x, weight, bias, stride, padding, dilation, groups, dims):
    """The shared body of conv1d and conv2d; x, weight are already 4-d when dims = 1."""
    kernel = tuple(weight.shape[4 - dims:])
    stride = _ints(op, "stride", stride, dims, 1)
    dilation = _ints(op, "dilation", dilation, dims, 1)
    pads = _padding(op, padding, kernel, stride, dilation, dims)
    if any(before != after for before, after in pads):
        # Uneven 'same' padding: pad the extra row/column explicitly, the rest in the kernel.
        extra = []
        for before, after in reversed(pads):  # pad() lists the last dim first
            extra += [0, after - before]
        x = pad_op(x, tuple(extra))
    before = tuple(b for b, _ in pads)

    sizes = tuple(x.shape[4 - dims:])
    out = [(n + 2 * p - d * (k - 1) - 1) // s + 1
           for n, p, d, k, s in zip(sizes, before, dilation, kernel, stride)]
    if min(out) < 1:
        raise ValueError(
            f"{op}: the kernel {kernel} (dilation {dilation}) is larger than the padded input "
            f"{tuple(n + 2 * p for n, p in zip(sizes, before))} (input size {sizes}, padding {before}); "
            f"the output size would be {tuple(out)}")

    if dims == 1:  # conv1d: height 1, with stride/padding/dilation 1/0/1 along it
        stride, before, dilation = (1,) + stride, (0,) + before, (1,) + dilation
    y = Conv2d.apply(x, weight, stride=stride, padding=before, dilation=dilation, groups=int(groups))
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y


# ---------------------------------------------------------------------------------------------
# The ops

def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch) over a batch of images.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kh, kw); bias: (C_out,) or None
    stride, dilation: int or (h, w); padding: int, (h, w), 'valid' (0) or 'same' (stride 1 only)
    returns (N, C_out, OH, OW) with OH = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1 (OW likewise)

    groups splits the channels into independent groups: output channel o sees only the input
    channels of its group (groups = C_in is a depthwise convolution).
    """
    op = "conv2d"
    _check(op, x, weight, bias, groups, 2)
    return _convolve(op, x, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over a batch of sequences: conv2d over images of height 1.

    x: (N, C_in, L); weight: (C_out, C_in/groups, k); bias: (C_out,) or None
    stride, dilation: int; padding: int, 'valid' or 'same' (stride 1 only)
    returns (N, C_out, L_out) with L_out = (L + 2*padding - dilation*(k - 1) - 1) // stride + 1
    """
    op = "conv1d"
    _check(op, x, weight, bias, groups, 1)
    y = _convolve(op, x.unsqueeze(2), weight.unsqueeze(2), bias, stride, padding, dilation, groups, 1)
    return y.squeeze(2)
