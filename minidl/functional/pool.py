"""Pooling: max and average over sliding windows, as in ``torch.nn.functional``.

    max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False)
    avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    max_pool1d, avg_pool1d: the same over the last axis (run as 2-d pooling of height 1)

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
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..backend import kernels
from ..backend.device import xp_of
from ._util import ensure_tensor


# ---------------------------------------------------------------------------------------------
# Max pooling: y = x at the winners of each window; the backward adds grad_y there.

def _gather_winners(x, indices):
    """x (N, C, H, W) array at ``indices`` (N, C, OH, OW), flat positions in each plane; an index
    of -1 (a window that lies entirely in the padding) gives 0."""
    xp = xp_of(x)
    n, c, h, w = x.shape
    flat = indices.reshape(n, c, -1)
    picked = xp.take_along_axis(x.reshape(n, c, h * w), xp.maximum(flat, 0), axis=2)
    return xp.where(flat >= 0, picked, 0).reshape(indices.shape).astype(x.dtype, copy=False)


class MaxPoolGather(Function):
    """y = x at ``indices``: max pooling once the winners are known.

    x: (N, C, H, W); indices: (N, C, OH, OW) int64; y: the pooled array when the forward kernel
    has already computed it (None: gather it here, as a second derivative does).
    """

    @staticmethod
    def forward(ctx, x, indices, y=None):
        ctx.indices = indices
        ctx.input_shape = x.shape
        return y if y is not None else _gather_winners(x.data, indices)

    @staticmethod
    def backward(ctx, grad):
        # d y[o] / d x[i] = 1 where i won window o, else 0: send each grad to its winner.
        return MaxPoolScatter.apply(grad, ctx.indices, ctx.input_shape), None, None


class MaxPoolScatter(Function):
    """grad_x = grad_y added at ``indices`` (the max_pool2d_backward kernel), a linear map of grad_y
    whose backward is the gather.  grad: (N, C, OH, OW) -> (N, C, H, W) = input_shape."""

    @staticmethod
    def forward(ctx, grad, indices, input_shape):
        ctx.indices = indices
        return kernels.max_pool2d_backward(grad.data, indices, input_shape)

    @staticmethod
    def backward(ctx, grad_grad):
        return MaxPoolGather.apply(grad_grad, ctx.indices), None, None


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
# Arguments in PyTorch's forms

def _pair(op, name, value):
    """An int, or a tuple/list of one or two ints, as an (h, w) pair."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    elif isinstance(value, (tuple, list)) and len(value) == 1:
        pair = (value[0], value[0])
    else:
        pair = (value, value)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a tuple of two ints, got {value!r}")
    return pair


def _single(op, name, value):
    """An int, or a tuple/list of one int (1-d ops)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of one int, got {value!r}")
    return value


def _stride(op, stride, kernel, convert):
    """PyTorch's default: no stride (None or an empty tuple) means a stride of the kernel size."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return convert(op, "stride", stride)


def _batched(x, op, spatial):
    """x as a batched tensor, and whether it came unbatched. 2-d ops (spatial=2) take (N, C, H, W)
    or (C, H, W); 1-d ops (spatial=1) take (N, C, L) or (C, L)."""
    ensure_tensor(x, op)
    if x.dtype.kind != "f" or x.dtype.itemsize not in (4, 8):
        raise TypeError(f"{op}: expected a float32 or float64 tensor, got {x.dtype} (shape {tuple(x.shape)})")
    names = "(N, C, H, W) or (C, H, W)" if spatial == 2 else "(N, C, L) or (C, L)"
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 2}-d {names} tensor, got shape {tuple(x.shape)}")
    unbatched = x.ndim == spatial + 1
    return (x.unsqueeze(0) if unbatched else x), unbatched


def _max_pool(x4, kernel, stride, padding, dilation, ceil_mode):
    """(output tensor, indices array) of max pooling a 4-d tensor."""
    y, indices = kernels.max_pool2d_forward(x4.data, kernel, stride, padding, dilation, ceil_mode)
    return MaxPoolGather.apply(x4, indices, y), indices


# ---------------------------------------------------------------------------------------------
# The ops

def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of each kernel_size window, moved by stride over x padded with -inf.

    x: (N, C, H, W) or (C, H, W)  ->  (N, C, OH, OW) or (C, OH, OW), where
    OH = floor((H + 2*padding - dilation*(kernel-1) - 1) / stride) + 1  (ceil with ceil_mode).
    kernel_size, stride, padding, dilation: an int or an (h, w) pair; stride defaults to kernel_size.
    return_indices: also return int64 indices h*W + w of each maximum in its plane (PyTorch's).

    Ties go to the first maximum in row-major window order, which receives the whole gradient.
    A NaN in a window makes its output NaN (the first NaN's index is returned; PyTorch's CPU code
    returns the last). With dilation, a window may fall entirely into the padding: its output is
    -inf and its index -1 (PyTorch returns an index outside the plane there).
    """
    op = "max_pool2d"
    x4, unbatched = _batched(x, op, 2)
    kernel = _pair(op, "kernel_size", kernel_size)
    stride = _stride(op, stride, kernel, _pair)
    y, indices = _max_pool(x4, kernel, stride, _pair(op, "padding", padding), _pair(op, "dilation", dilation),
                           ceil_mode)
    if unbatched:
        y, indices = y.squeeze(0), indices[0]
    return (y, Tensor._make(indices)) if return_indices else y


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each kernel_size window, moved by stride over x padded with zeros.

    x: (N, C, H, W) or (C, H, W)  ->  (N, C, OH, OW) or (C, OH, OW), sizes as in max_pool2d.
    count_include_pad: divide by the window size including padded slots (PyTorch's default), or
    only by the number of real elements. ceil_mode's extra windows never count slots past the
    padding. divisor_override is not supported (a clear error).
    """
    op = "avg_pool2d"
    if divisor_override is not None:
        raise NotImplementedError(f"{op}: divisor_override is not supported; divide the sum yourself "
                                  f"(avg_pool2d(...) * kernel_area / divisor)")
    x4, unbatched = _batched(x, op, 2)
    kernel = _pair(op, "kernel_size", kernel_size)
    stride = _stride(op, stride, kernel, _pair)
    window = (kernel, stride, _pair(op, "padding", padding), bool(ceil_mode), bool(count_include_pad))
    y = AvgPool.apply(x4, window)
    return y.squeeze(0) if unbatched else y


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling along the last axis: x (N, C, L) or (C, L) -> (N, C, OL) or (C, OL).

    Runs as max_pool2d over (N, C, 1, L) with a 1 x kernel_size window; indices are positions in L.
    """
    op = "max_pool1d"
    x3, unbatched = _batched(x, op, 1)
    k = _single(op, "kernel_size", kernel_size)
    s = _stride(op, stride, k, _single)
    y, indices = _max_pool(x3.unsqueeze(2), (1, k), (1, s), (0, _single(op, "padding", padding)),
                           (1, _single(op, "dilation", dilation)), ceil_mode)
    y, indices = y.squeeze(2), indices[:, :, 0]
    if unbatched:
        y, indices = y.squeeze(0), indices[0]
    return (y, Tensor._make(indices)) if return_indices else y


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling along the last axis: x (N, C, L) or (C, L) -> (N, C, OL) or (C, OL)."""
    op = "avg_pool1d"
    x3, unbatched = _batched(x, op, 1)
    k = _single(op, "kernel_size", kernel_size)
    s = _stride(op, stride, k, _single)
    window = ((1, k), (1, s), (0, _single(op, "padding", padding)), bool(ceil_mode), bool(count_include_pad))
    y = AvgPool.apply(x3.unsqueeze(2), window).squeeze(2)
    return y.squeeze(0) if unbatched else y
