"""The kernels in plain NumPy/CuPy: the readable math, and the oracle the native kernels are
tested against.

Every function here has a C++ twin in ``csrc/cpu`` (and a CUDA twin in ``csrc/cuda``) with the same
name, the same argument order and the same output. They run on NumPy or CuPy arrays alike: the
array library is taken from the inputs.
"""

import numpy

from .device import xp_of
from .geometry import conv2d_output_size, pool2d_output_size


def matmul(a, b, trans_a=False, trans_b=False):
    """Batched matrix product ``op(a) @ op(b)``, where ``op`` transposes the last two axes when
    its flag is set.

    a: (Ba, M, K), or (Ba, K, M) when trans_a
    b: (Bb, K, N), or (Bb, N, K) when trans_b
    Ba == Bb, or one of them is 1 and is shared by every batch entry.
    returns: (max(Ba, Bb), M, N)
    """
    xp = xp_of(a)
    if trans_a:
        a = a.transpose(0, 2, 1)
    if trans_b:
        b = b.transpose(0, 2, 1)
    return xp.matmul(a, b)


# ---------------------------------------------------------------------------------------------
# Pooling (max_pool2d, avg_pool2d): forward and backward
#
# Geometry, per spatial axis (H with kernel kh, stride sh, padding ph, dilation dh; W likewise):
# output position o looks at the input positions  o*sh - ph + i*dh  for i in 0..kh-1, the ones
# outside 0..H-1 being padding. How many outputs there are is geometry.pool2d_output_size (in
# ceil_mode a last window may hang over the right-hand padding).
#
# The reference builds every pooled value from kh*kw strided slices of a padded copy of x: slice
# (i, j) holds, for all outputs at once, the element at offset (i, j) of each window. That is
# kh*kw small array operations, never a Python loop over outputs, and it runs on CuPy unchanged.


def _pool_sizes(shape, kernel, stride, padding, dilation, ceil_mode):
    (_, _, H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = shape, kernel, stride, padding, dilation
    return (
        pool2d_output_size(H, kh, sh, ph, dh, ceil_mode),
        pool2d_output_size(W, kw, sw, pw, dw, ceil_mode),
    )


def _pad_for_windows(x, out_size, kernel, stride, padding, dilation, fill):
    """x (N, C, H, W) padded with ``fill`` so that every window of the pooling lies inside it:
    ``padding`` on the top/left, and on the bottom/right as much as the last window reaches
    (more than ``padding`` in ceil_mode, where the last window may hang over)."""
    xp = xp_of(x)
    pads = [(0, 0), (0, 0)]
    for size, out, k, s, p, d in zip(x.shape[2:], out_size, kernel, stride, padding, dilation):
        reach = (out - 1) * s + d * (k - 1) + 1  # padded extent the windows cover
        pads.append((p, max(reach - size - p, 0)))
    return xp.pad(x, pads, mode="constant", constant_values=fill)


def _window_slices(out_size, kernel, stride, dilation):
    """For each offset (i, j) of the window (a pooling's or a convolution's kernel), in row-major
    order, the slices of the padded input that hold that offset's element of every window:
    (kh*kw) pairs of slices."""
    (oh, ow), (kh, kw), (sh, sw), (dh, dw) = out_size, kernel, stride, dilation
    return [
        (slice(i * dh, i * dh + (oh - 1) * sh + 1, sh), slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))
        for i in range(kh)
        for j in range(kw)
    ]


def max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode=False):
    """Max over each window, and where it was.

    x: (N, C, H, W); kernel, stride, padding, dilation: (h, w) pairs
    returns y: (N, C, OH, OW), same dtype as x
            indices: (N, C, OH, OW) int64, the position h*W + w of each maximum in its (n, c)
                     plane (PyTorch's convention), for the backward pass and return_indices

    Padding is -inf, so it never wins. Ties go to the first maximum in row-major window order;
    a NaN in a window makes the output NaN (the first NaN is the one recorded). A window that
    falls entirely into the padding (possible only with dilation) gives -inf and index -1.
    """
    xp = xp_of(x)
    N, C, H, W = x.shape
    out_size = _pool_sizes(x.shape, kernel, stride, padding, dilation, ceil_mode)
    lowest = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min  # integer x: its smallest value
    padded = _pad_for_windows(x, out_size, kernel, stride, padding, dilation, lowest)
    # The same padding applied to a map of flat positions tells which element each slot holds;
    # -1 marks padding.
    positions = xp.arange(H * W, dtype=xp.int64).reshape(1, 1, H, W)
    positions = _pad_for_windows(positions, out_size, kernel, stride, padding, dilation, -1)

    slices = _window_slices(out_size, kernel, stride, dilation)
    values = xp.stack([padded[:, :, sh, sw] for sh, sw in slices])  # (kh*kw, N, C, OH, OW)
    where = xp.stack([positions[:, :, sh, sw] for sh, sw in slices])  # (kh*kw, 1, 1, OH, OW)

    best = values.max(axis=0)  # NaN propagates
    # The first slot holding the maximum, counting NaN as equal to a NaN maximum. Padding slots
    # are excluded, so a window whose real elements are all -inf still records a real position.
    hit = (where >= 0) & ((values == best) | (xp.isnan(values) & xp.isnan(best)))
    first = hit.argmax(axis=0)[None]  # argmax of booleans: the first True (0 when there is none)
    indices = xp.take_along_axis(xp.broadcast_to(where, values.shape), first, axis=0)[0]
    y = xp.take_along_axis(values, first, axis=0)[0]
    return y, xp.ascontiguousarray(indices)


def max_pool2d_backward(grad_out, indices, input_shape):
    """Gradient of max pooling: each output's gradient goes to the input element that won.

    grad_out: (N, C, OH, OW); indices: (N, C, OH, OW) int64 from max_pool2d_forward
    input_shape: (N, C, H, W)
    returns grad_x: (N, C, H, W); where windows overlap, an element that won several of them
            receives the sum. Index -1 (a window entirely in padding) contributes nothing.
    """
    xp = xp_of(grad_out)
    N, C, H, W = input_shape
    planes = N * C
    # Flat positions in the whole (N*C*H*W) array: plane number * plane size + position in plane.
    plane_of = xp.arange(planes, dtype=xp.int64).reshape(N, C, 1, 1)
    target = (plane_of * (H * W) + indices).ravel()
    keep = indices.ravel() >= 0
    # bincount adds every weight that lands on the same target: the scatter-add of overlapping
    # windows, in one call that NumPy and CuPy both have.
    summed = xp.bincount(target[keep], weights=grad_out.ravel()[keep], minlength=planes * H * W)
    return summed.astype(grad_out.dtype).reshape(N, C, H, W)


def _avg_divisors(in_size, out_size, kernel, stride, padding, count_include_pad, xp):
    """The divisor of each output along one axis: the window's length, clipped to the padded input
    (count_include_pad) or to the input itself (not counting padding)."""
    start = xp.arange(out_size) * stride - padding
    end = xp.minimum(start + kernel, in_size + padding)  # ceil_mode windows may hang past the padding
    if not count_include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, in_size)
    return end - start


def _avg_divisor_grid(input_shape, out_size, kernel, stride, padding, count_include_pad, xp):
    """(OH, OW) divisors: the product of the per-axis window lengths."""
    (_, _, H, W), (oh, ow) = input_shape, out_size
    rows = _avg_divisors(H, oh, kernel[0], stride[0], padding[0], count_include_pad, xp)
    cols = _avg_divisors(W, ow, kernel[1], stride[1], padding[1], count_include_pad, xp)
    return rows[:, None] * cols[None, :]


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True):
    """Mean over each window.

    x: (N, C, H, W); kernel, stride, padding: (h, w) pairs
    returns y: (N, C, OH, OW)

    Padding is 0. With count_include_pad the divisor counts padded slots too (PyTorch's default),
    so a corner output of a padded input is smaller than the mean of its real elements; without
    it, the divisor is the number of real elements. Slots past the padding (ceil_mode) never count.
    """
    xp = xp_of(x)
    dilation = (1, 1)  # avg_pool2d has none (as in PyTorch)
    out_size = _pool_sizes(x.shape, kernel, stride, padding, dilation, ceil_mode)
    padded = _pad_for_windows(x, out_size, kernel, stride, padding, dilation, 0)
    total = xp.zeros(x.shape[:2] + out_size, dtype=x.dtype)
    for sh, sw in _window_slices(out_size, kernel, stride, dilation):
        total += padded[:, :, sh, sw]
    divisor = _avg_divisor_grid(x.shape, out_size, kernel, stride, padding, count_include_pad, xp)
    return total / divisor.astype(x.dtype)


def avg_pool2d_backward(grad_out, input_shape, kernel, stride, padding, count_include_pad=True):
    """Gradient of average pooling: each output's gradient, divided by its divisor, goes to every
    input element of its window (padding slots absorb their share, which is dropped).

    grad_out: (N, C, OH, OW); input_shape: (N, C, H, W)
    returns grad_x: (N, C, H, W)

    No ceil_mode argument: the output size is grad_out's, and the divisors depend only on it.
    """
    xp = xp_of(grad_out)
    N, C, H, W = input_shape
    out_size = tuple(grad_out.shape[2:])
    dilation = (1, 1)
    divisor = _avg_divisor_grid(input_shape, out_size, kernel, stride, padding, count_include_pad, xp)
    share = grad_out / divisor.astype(grad_out.dtype)
    # Accumulate into a padded gradient, one window offset at a time; within one offset the slots
    # of different windows are distinct, so `+=` on the strided view never collides.
    empty = xp.zeros((N, C, H, W), dtype=grad_out.dtype)
    grad_padded = _pad_for_windows(empty, out_size, kernel, stride, padding, dilation, 0)
    for sh, sw in _window_slices(out_size, kernel, stride, dilation):
        grad_padded[:, :, sh, sw] += share
    ph, pw = padding
    return xp.ascontiguousarray(grad_padded[:, :, ph : ph + H, pw : pw + W])


# ---------------------------------------------------------------------------------------------
# Convolution (conv2d): forward, gradient of the input, gradient of the weight
#
# Shapes: x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), y (N, C_out, OH, OW); stride,
# padding, dilation are (h, w) pairs. Output (n, o, r, c) is the dot product of filter o with the
# window of x whose element (i, j) sits at row r*sh - ph + i*dh, column c*sw - pw + j*dw (outside
# the input: padding, zero). With groups, the channels split into `groups` equal, independent
# slices: filter o sees only the input channels of its own group.
#
# im2col: gather, for every output position, the window it sees, into a column matrix
# (C_in*kh*kw rows, OH*OW columns). The convolution is then one matrix product per group,
# weight (C_out_g, C_in_g*kh*kw) @ columns. The gather is kh*kw strided slices of a padded copy
# of x (slice (i, j) holds element (i, j) of every window at once), so no Python loop runs over
# pixels and the same code runs on CuPy. The two gradients are the same product transposed:
#
#   y  = W @ cols               (per image and group)
#   dW = sum over images of dy @ cols^T
#   dcols = W^T @ dy, then col2im: every column entry added back to the pixel it was copied from


def _conv_out_size(input_shape, kernel, stride, padding, dilation):
    return tuple(
        conv2d_output_size(size, k, s, p, d)
        for size, k, s, p, d in zip(input_shape[2:], kernel, stride, padding, dilation)
    )


def _im2col(x, kernel, stride, padding, dilation, groups):
    """x (N, C, H, W) -> columns (N, groups, C/groups * kh * kw, OH * OW).

    Row (c, i, j) of a group's matrix holds, for every output position, the input element at
    offset (i, j) of that position's window in channel c of the group."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    (kh, kw), (ph, pw) = kernel, padding
    oh, ow = _conv_out_size(x.shape, kernel, stride, padding, dilation)
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    slices = _window_slices((oh, ow), kernel, stride, dilation)
    cols = xp.stack(
        [padded[:, :, rows, columns] for rows, columns in slices], axis=2
    )  # (N, C, kh*kw, OH, OW)
    return cols.reshape(N, groups, (C // groups) * kh * kw, oh * ow)


def _col2im(cols, input_shape, kernel, stride, padding, dilation):
    """The adjoint of _im2col: cols (N, groups, C/groups * kh * kw, OH * OW) -> (N, C, H, W),
    each entry added to the input element it was gathered from (overlapping windows sum)."""
    xp = xp_of(cols)
    N, C, H, W = input_shape
    (kh, kw), (ph, pw) = kernel, padding
    oh, ow = _conv_out_size(input_shape, kernel, stride, padding, dilation)
    cols = cols.reshape(N, C, kh * kw, oh, ow)
    padded = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    # Within one offset (i, j) distinct windows read distinct pixels, so `+=` on the strided view
    # never collides; overlaps between windows are summed across the kh*kw offsets.
    for offset, (rows, columns) in enumerate(_window_slices((oh, ow), kernel, stride, dilation)):
        padded[:, :, rows, columns] += cols[:, :, offset]
    return xp.ascontiguousarray(padded[:, :, ph : ph + H, pw : pw + W])


def conv2d_forward(x, weight, stride, padding, dilation, groups):
    """2-d convolution (cross-correlation, as in every DL framework), without bias.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kh, kw); stride, padding, dilation: (h, w)
    returns y: (N, C_out, OH, OW), OH = (H + 2*ph - dh*(kh-1) - 1) // sh + 1 (OW likewise)
    """
    xp = xp_of(x)
    N = x.shape[0]
    c_out, _, kh, kw = weight.shape
    oh, ow = _conv_out_size(x.shape, (kh, kw), stride, padding, dilation)
    cols = _im2col(x, (kh, kw), stride, padding, dilation, groups)  # (N, G, K, L)
    w = weight.reshape(groups, c_out // groups, weight[0].size)  # (G, C_out/G, K)
    y = xp.matmul(w, cols)  # (N, G, C_out/G, L)
    return xp.ascontiguousarray(y.reshape(N, c_out, oh, ow))


def conv2d_backward_input(grad_out, weight, input_shape, stride, padding, dilation, groups):
    """Gradient of conv2d_forward with respect to x.

    grad_out: (N, C_out, OH, OW); weight: (C_out, C_in/groups, kh, kw); input_shape: (N, C_in, H, W)
    returns grad_x: (N, C_in, H, W)
    """
    xp = xp_of(grad_out)
    N = grad_out.shape[0]
    c_out, _, kh, kw = weight.shape
    L = grad_out.shape[2] * grad_out.shape[3]
    w = weight.reshape(groups, c_out // groups, weight[0].size)  # (G, C_out/G, K)
    dy = grad_out.reshape(N, groups, c_out // groups, L)  # (N, G, C_out/G, L)
    dcols = xp.matmul(w.transpose(0, 2, 1), dy)  # (N, G, K, L)
    return _col2im(dcols, tuple(input_shape), (kh, kw), stride, padding, dilation)


def conv2d_backward_weight(grad_out, x, weight_shape, stride, padding, dilation, groups):
    """Gradient of conv2d_forward with respect to weight.

    grad_out: (N, C_out, OH, OW); x: (N, C_in, H, W); weight_shape: (C_out, C_in/groups, kh, kw)
    returns grad_weight: (C_out, C_in/groups, kh, kw)
    """
    xp = xp_of(grad_out)
    N = x.shape[0]
    c_out, _, kh, kw = weight_shape
    L = grad_out.shape[2] * grad_out.shape[3]
    cols = _im2col(x, (kh, kw), stride, padding, dilation, groups)  # (N, G, K, L)
    dy = grad_out.reshape(N, groups, c_out // groups, L)  # (N, G, C_out/G, L)
    # Sum over images and output positions at once: move the image axis next to the positions
    # and contract both in one product per group.
    dy = dy.transpose(1, 2, 0, 3).reshape(groups, c_out // groups, N * L)  # (G, C_out/G, N*L)
    cols = cols.transpose(1, 2, 0, 3).reshape(groups, cols.shape[2], N * L)  # (G, K, N*L)
    dw = xp.matmul(dy, cols.transpose(0, 2, 1))  # (G, C_out/G, K)
    return xp.ascontiguousarray(dw.reshape(tuple(weight_shape)))


# ---------------------------------------------------------------------------------------------
# Softmax family: softmax and log-softmax over the last axis of a 2-d (rows, cols) array, and
# their backward passes. Each row is one distribution.
#
# Numerics (the C++ kernels do the same arithmetic):
# - the row max m is subtracted first: exp(x - m) <= 1 never overflows, and the largest term is
#   exactly 1, so the row sum is >= 1 and its log is >= 0. Logits of +-1e4 are fine.
# - a NaN in a row makes that whole row NaN (it reaches the sum); other rows are unaffected.
# - a row of all -inf gives NaN, as in PyTorch: m = -inf and -inf - (-inf) is NaN. (There is no
#   distribution over "impossible" outcomes to return.) A row holding +inf gives NaN too.
# These NaNs are results, not errors: the invalid-operation warning NumPy would print for
# -inf - (-inf) is silenced.


def _row_max(x):
    return x.max(axis=1, keepdims=True)


def softmax_forward(x):
    """y = exp(x - m) / sum(exp(x - m)) along each row, m the row max.

    x: (rows, cols) -> y: (rows, cols)
    """
    if x.size == 0:  # no rows, or rows of nothing (max() refuses an empty axis)
        return xp_of(x).empty_like(x)
    with numpy.errstate(invalid="ignore"):
        e = xp_of(x).exp(x - _row_max(x))
        return e / e.sum(axis=1, keepdims=True)


def softmax_backward(grad_out, y):
    """grad_x = y * (grad_out - sum(grad_out * y)) along each row; y is softmax_forward's output.

    (The Jacobian of softmax is diag(y) - y y^T, and it is symmetric.)
    grad_out, y: (rows, cols) -> grad_x: (rows, cols)
    """
    return y * (grad_out - (grad_out * y).sum(axis=1, keepdims=True))


def log_softmax_forward(x):
    """y = (x - m) - log(sum(exp(x - m))) along each row, m the row max.

    x: (rows, cols) -> y: (rows, cols)
    """
    if x.size == 0:
        return xp_of(x).empty_like(x)
    xp = xp_of(x)
    with numpy.errstate(invalid="ignore"):
        shifted = x - _row_max(x)
        return shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))


def log_softmax_backward(grad_out, y):
    """grad_x = grad_out - exp(y) * sum(grad_out) along each row; y is log_softmax_forward's output.

    (d log_softmax_i / d x_k = delta_ik - softmax_k, and softmax = exp(y).)
    grad_out, y: (rows, cols) -> grad_x: (rows, cols)
    """
    return grad_out - xp_of(y).exp(y) * grad_out.sum(axis=1, keepdims=True)
