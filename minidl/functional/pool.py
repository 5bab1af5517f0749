"""Pooling: max and average over sliding windows, as in ``torch.nn.functional``.

    max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)
    avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    max_pool1d, avg_pool1d: the same over the last axis (run as 2-d pooling of height 1)
    max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None), max_unpool1d:
        max pooling's partial inverse, each value put back at its index (zeros elsewhere)

x is (N, C, H, W), or (C, H, W) for one unbatched sample (as PyTorch accepts); 1-d ops take
(N, C, L) or (C, L). The windows run in our kernels (``backend.kernels`` -> ``csrc/cpu/pool2d.cpp``,
or the NumPy reference). ``stride`` defaults to the kernel size; padding may be at most half the
kernel.

Both poolings are linear once the windows (and, for max, the winners) are fixed, so each backward
is again a pooling-shaped linear map whose own backward is the forward: max pooling gathers the
winners and its backward scatters to them; average pooling spreads and its backward averages. Each
pair of Functions below calls the other in backward, so gradients of any order flow
(``create_graph=True``, ``gradgradcheck``), and each step runs on the native kernels.
"""

import math
from collections.abc import Sequence

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import geometry, kernels
from ..backend.device import xp_of
from ..backend.geometry import IntOrInts as IntOrInts  # re-exported for nn/pooling.py
from ..backend.geometry import int_tuple as int_tuple  # re-exported for nn/pooling.py too
from ..errors import DTypeError, ShapeError
from ._util import ensure_tensor

# ---------------------------------------------------------------------------------------------
# Max pooling: y = x at the winners of each window; the backward adds grad_y there.


def _gather_winners(x, indices):
    """x (N, C, H, W) array at ``indices`` (N, C, OH, OW), flat positions in each plane; an index
    of -1 (a window that lies entirely in the padding) gives 0."""
    xp = xp_of(x)
    n, c, h, w = x.shape
    flat = indices.reshape(n, c, indices.shape[2] * indices.shape[3])  # not -1: n or c may be 0
    picked = xp.take_along_axis(x.reshape(n, c, h * w), xp.maximum(flat, 0), axis=2)
    return xp.where(flat >= 0, picked, 0).reshape(indices.shape).astype(x.dtype, copy=False)


class MaxPoolGather(Function):
    """y = x at ``indices``: max pooling once the winners are known.

    x: (N, C, H, W); indices: (N, C, OH, OW) int64; y: the pooled array when the forward kernel
    has already computed it (None: gather it here, as a second derivative does).
    """

    @staticmethod
    def forward(ctx, x, indices, y=None):
        ctx.save_for_backward(indices)
        ctx.input_shape = x.shape
        return y if y is not None else _gather_winners(x.data, indices)

    @staticmethod
    def backward(ctx, grad):
        # d y[o] / d x[i] = 1 where i won window o, else 0: send each grad to its winner.
        (indices,) = ctx.saved_tensors
        return MaxPoolScatter.apply(grad, indices, ctx.input_shape), None, None


class MaxPoolScatter(Function):
    """grad_x = grad_y added at ``indices`` (the max_pool2d_backward kernel), a linear map of grad_y
    whose backward is the gather.  grad: (N, C, OH, OW) -> (N, C, H, W) = input_shape."""

    @staticmethod
    def forward(ctx, grad, indices, input_shape):
        ctx.save_for_backward(indices)
        return kernels.max_pool2d_backward(grad.data, indices, input_shape)

    @staticmethod
    def backward(ctx, grad_grad):
        (indices,) = ctx.saved_tensors
        return MaxPoolGather.apply(grad_grad, indices), None, None


# ---------------------------------------------------------------------------------------------
# Average pooling: y = window sums / divisors; the backward spreads grad_y / divisor back.


class AvgPool(Function):
    """y = the mean of each window (the avg_pool2d_forward kernel).  x: (N, C, H, W) -> (N, C, OH, OW)

    window: (kernel, stride, padding, ceil_mode, count_include_pad)
    """

    @staticmethod
    def forward(ctx, x, window):
        ctx.input_shape = x.shape
        ctx.window = window
        return kernels.avg_pool2d_forward(x.data, *window)

    @staticmethod
    def backward(ctx, grad):
        return AvgPoolSpread.apply(grad, ctx.input_shape, ctx.window), None


class AvgPoolSpread(Function):
    """grad_x: each grad_y / divisor spread over its window (the avg_pool2d_backward kernel); the
    transpose of AvgPool, so its backward is AvgPool.  grad: (N, C, OH, OW) -> input_shape."""

    @staticmethod
    def forward(ctx, grad, input_shape, window):
        kernel, stride, padding, _ceil_mode, count_include_pad = window
        ctx.window = window
        return kernels.avg_pool2d_backward(grad.data, input_shape, kernel, stride, padding, count_include_pad)

    @staticmethod
    def backward(ctx, grad_grad):
        return AvgPool.apply(grad_grad, ctx.window), None, None


# ---------------------------------------------------------------------------------------------
# Arguments in PyTorch's forms, read and checked at the edge in the op's own terms (a 1-d op's
# window is 1-d in its messages), then lifted to the 2-d kernels.


def _batched(x: Tensor, op: str, dims: int, integers: bool = False) -> tuple[Tensor, bool]:
    """x as a batched tensor, and whether it came unbatched. 2-d ops (dims=2) take (N, C, H, W)
    or (C, H, W); 1-d ops take (N, C, L) or (C, L). ``integers``: integer x too (max pooling,
    on the reference kernel, as PyTorch's CPU max_pool2d takes them)."""
    ensure_tensor(x, op)
    if not (x.dtype.kind == "f" and x.dtype.itemsize in (4, 8)) and not (integers and x.dtype.kind in "iu"):
        kinds = "float32, float64 or integer" if integers else "float32 or float64"
        raise TypeError(f"{op}: expected a {kinds} tensor, got {x.dtype} (shape {tuple(x.shape)})")
    names = "(N, C, H, W) or (C, H, W)" if dims == 2 else "(N, C, L) or (C, L)"
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 2}-d {names} tensor, got shape {tuple(x.shape)}")
    unbatched = x.ndim == dims + 1
    return (x.unsqueeze(0) if unbatched else x), unbatched


def _window(
    op: str,
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None,
    padding: IntOrInts,
    dilation: IntOrInts,
    ceil_mode: bool,
) -> tuple[Tensor, tuple[tuple[int, ...], ...]]:
    """Check the window on the batched x, then return x as (N, C, H, W) (height 1 for a 1-d op)
    and (kernel, stride, padding, dilation) as (h, w) pairs. No stride (None or an empty tuple)
    means a stride of the kernel size (PyTorch's default)."""
    dims = x.ndim - 2
    kernel = int_tuple(op, "kernel_size", kernel_size, dims)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    window = (
        kernel,
        int_tuple(op, "stride", stride, dims),
        int_tuple(op, "padding", padding, dims),
        int_tuple(op, "dilation", dilation, dims),
    )
    geometry.check_pool(op, x.shape, *window, bool(ceil_mode), f"x {tuple(x.shape)}")
    if dims == 1:
        return x.unsqueeze(2), tuple((fill,) + w for fill, w in zip((1, 1, 0, 1), window))
    return x, window


def _unbatched(y: Tensor, dims: int, unbatched: bool) -> Tensor:
    """A pooled (N, C, OH, OW) tensor, or its indices, in the op's own layout."""
    y = y.squeeze(2) if dims == 1 else y
    return y.squeeze(0) if unbatched else y


def _max_pool(
    op: str,
    dims: int,
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None,
    padding: IntOrInts,
    dilation: IntOrInts,
    ceil_mode: bool,
    return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    x, unbatched = _batched(x, op, dims, integers=dims == 2)  # PyTorch's max_pool1d refuses integers
    x4, window = _window(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    kernel_hw, stride_hw, padding_hw, dilation_hw = window
    y, indices = kernels.max_pool2d_forward(
        x4.data, kernel_hw, stride_hw, padding_hw, dilation_hw, bool(ceil_mode)
    )
    y = _unbatched(MaxPoolGather.apply(x4, indices, y), dims, unbatched)
    if not return_indices:
        return y
    return y, _unbatched(Tensor._make(indices), dims, unbatched)


def _avg_pool(
    op: str,
    dims: int,
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None,
    padding: IntOrInts,
    ceil_mode: bool,
    count_include_pad: bool,
) -> Tensor:
    x, unbatched = _batched(x, op, dims)
    x4, (kernel, stride, padding, _) = _window(op, x, kernel_size, stride, padding, 1, ceil_mode)
    window = (kernel, stride, padding, bool(ceil_mode), bool(count_include_pad))
    return _unbatched(AvgPool.apply(x4, window), dims, unbatched)


# ---------------------------------------------------------------------------------------------
# The ops


def max_pool2d(
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum of each kernel_size window, moved by stride over x padded with -inf.

    x: (N, C, H, W) or (C, H, W)  ->  (N, C, OH, OW) or (C, OH, OW), where
    OH = floor((H + 2*padding - dilation*(kernel-1) - 1) / stride) + 1  (ceil with ceil_mode;
    backend.geometry.pool2d_output_size).
    kernel_size, stride, padding, dilation: an int or an (h, w) pair; stride defaults to kernel_size.
    return_indices: also return int64 indices h*W + w of each maximum in its plane (PyTorch's).

    Ties go to the first maximum in row-major window order, which receives the whole gradient.
    A NaN in a window makes its output NaN (the first NaN's index is returned; PyTorch's CPU code
    returns the last). With dilation, a window may fall entirely into the padding: its output is
    -inf and its index -1 (PyTorch returns an index outside the plane there).
    """
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool2d(
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each kernel_size window, moved by stride over x padded with zeros.

    x: (N, C, H, W) or (C, H, W)  ->  (N, C, OH, OW) or (C, OH, OW), sizes as in max_pool2d.
    count_include_pad: divide by the window size including padded slots (PyTorch's default), or
    only by the number of real elements. ceil_mode's extra windows never count slots past the
    padding. divisor_override is not supported (a clear error).
    """
    if divisor_override is not None:
        raise NotImplementedError(
            "avg_pool2d: divisor_override is not supported; divide the sum yourself "
            "(avg_pool2d(...) * kernel_area / divisor)"
        )
    return _avg_pool("avg_pool2d", 2, x, kernel_size, stride, padding, ceil_mode, count_include_pad)


def max_pool1d(
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling along the last axis: x (N, C, L) or (C, L) -> (N, C, OL) or (C, OL).

    Runs as max_pool2d over (N, C, 1, L) with a 1 x kernel_size window; indices are positions in L.
    """
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(
    x: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Average pooling along the last axis: x (N, C, L) or (C, L) -> (N, C, OL) or (C, OL)."""
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding, ceil_mode, count_include_pad)


# ---------------------------------------------------------------------------------------------
# Max unpooling: put each value back where max pooling found it, zeros elsewhere. Once the
# places are fixed it is linear, and its adjoint gathers from those places: MaxPoolGather, whose
# own backward scatters again, so every order of derivative runs.


def _place(x, indices, output_shape):
    """zeros(output_shape) (N, C, OH, OW) holding x (N, C, H, W) at ``indices``, flat positions in
    each plane. Where an index repeats, the first value in row-major order is kept (as PyTorch's
    CPU code does)."""
    xp = xp_of(x)
    n, c = x.shape[:2]
    out = xp.zeros((n * c, output_shape[2] * output_shape[3]), dtype=x.dtype)
    rows = xp.arange(n * c).reshape(-1, 1)
    flat = (n * c, x.shape[2] * x.shape[3])
    # NumPy keeps the last of repeated places; reversed (copies: a view's order is not kept), the first
    reverse = (slice(None), slice(None, None, -1))
    out[rows, xp.ascontiguousarray(indices.reshape(flat)[reverse])] = xp.ascontiguousarray(
        x.reshape(flat)[reverse]
    )
    return out.reshape(output_shape)


class MaxUnpool(Function):
    """y = x placed at ``indices`` in zero planes of output_shape.
    x, indices: (N, C, H, W) -> (N, C, OH, OW) = output_shape."""

    @staticmethod
    def forward(ctx, x, indices, output_shape):
        ctx.save_for_backward(indices)
        return _place(x.data, indices, output_shape)

    @staticmethod
    def backward(ctx, grad):
        # d y[indices[o]] / d x[o] = 1: each input takes the gradient at its place
        (indices,) = ctx.saved_tensors
        return MaxPoolGather.apply(grad, indices, None), None, None


def _max_unpool(
    op: str,
    dims: int,
    x: Tensor,
    indices: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None,
    padding: IntOrInts,
    output_size: Sequence[int] | None,
) -> Tensor:
    x, unbatched = _batched(x, op, dims)
    ensure_tensor(indices, op)
    shapes = f"input {tuple(x.shape)}, indices {tuple(indices.shape)}"
    if str(indices.dtype) != "int64":
        raise DTypeError(
            f"{op}: indices must be int64 (as max_pool returns them), got {indices.dtype} ({shapes})"
        )
    if tuple(indices.shape) != tuple(x.shape[1:] if unbatched else x.shape):
        raise ShapeError(f"{op}: indices must have the input's shape ({shapes})")
    index = indices.data.reshape(x.shape)
    kernel = int_tuple(op, "kernel_size", kernel_size, dims)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    sizes = geometry.check_unpool(
        op,
        x.shape,
        kernel,
        int_tuple(op, "stride", stride, dims),
        int_tuple(op, "padding", padding, dims),
        output_size,
        shapes,
    )
    plane = math.prod(sizes)
    if index.size and (int(index.min()) < 0 or int(index.max()) >= plane):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise ShapeError(
            f"{op}: found an invalid max index {bad}: the output planes are {'x'.join(map(str, sizes))} "
            f"({shapes})"
        )
    if dims == 1:
        x, index, sizes = x.unsqueeze(2), index.reshape(x.shape[:2] + (1, x.shape[2])), (1,) + sizes
    y = MaxUnpool.apply(x, index, tuple(x.shape[:2]) + sizes)
    return _unbatched(y, dims, unbatched)


def max_unpool2d(
    x: Tensor,
    indices: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """The partial inverse of max_pool2d: each value put back at its index, zeros elsewhere.

    x: (N, C, H, W) or (C, H, W); indices: x's shape, int64, flat positions h*OW + w in each
    output plane (max_pool2d(..., return_indices=True)'s).
    returns (N, C, OH, OW) or (C, OH, OW), OH = (H - 1)*stride - 2*padding + kernel_size
    (geometry.max_unpool2d_output_size), or output_size (OH, OW) or (N, C, OH, OW), within
    stride of that, to undo a pooling whose floor dropped rows.
    """
    return _max_unpool("max_unpool2d", 2, x, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(
    x: Tensor,
    indices: Tensor,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """The partial inverse of max_pool1d: x, indices (N, C, L) or (C, L) -> (N, C, OL) or (C, OL),
    OL = (L - 1)*stride - 2*padding + kernel_size, or output_size."""
    return _max_unpool("max_unpool1d", 1, x, indices, kernel_size, stride, padding, output_size)
