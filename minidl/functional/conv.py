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

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import geometry, kernels

# IntOrInts and int_tuple are re-exported for nn/conv.py, which may not import backend.
from ..backend.geometry import IntOrInts as IntOrInts
from ..backend.geometry import int_tuple as int_tuple
from ._util import ensure_tensor
from .shape import pad as pad_op

Padding = IntOrInts | str  # an int, a tuple, 'valid' or 'same'


# ---------------------------------------------------------------------------------------------
# The three kernels as Functions. Each saves its two operands and the geometry (the keywords
# stride=, padding=, dilation=, groups= that the kernels take), and runs its kernel on them.


class _ConvKernel(Function):
    """out = kernel(a, b, *shape, **geometry): one of the three conv2d kernels. ``gradients``
    says which Function, on which arguments, gives the gradient of a and of b."""

    kernel = None  # the backend.kernels function

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
        raise TypeError(
            f"{op}: input, weight and bias must have one dtype, got {x.dtype}, {weight.dtype}"
            + (f", {bias.dtype}" if bias is not None else "")
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{op}: bias must have shape ({weight.shape[0]},) (one per output channel), "
            f"got {tuple(bias.shape)}"
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
