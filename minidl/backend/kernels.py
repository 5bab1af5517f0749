"""One function per kernel: check the arrays, then run the native kernel or its reference.

This is the gate between Python and C++/CUDA. Nothing reaches a pointer before it has been
checked here: dtype (float32 or float64, the same for every operand), dimensions, matching sizes,
and contiguity (made contiguous when it is not). A bad call raises a Python error that names the
kernel and the shapes, so no input can crash the process.

Which implementation runs is chosen per call:
- ``MINIDL_KERNELS`` (environment) or ``use_kernels(...)`` (context manager) picks the setting:
  ``auto`` (default: native when built, else reference), ``native`` (native or an error),
  ``reference`` (always the NumPy/CuPy code in ``reference.py``);
- the device of the arrays picks ``_C`` (CPU) or ``_C_cuda`` (GPU, through ``cuda_kernels.py``,
  which hands the kernels CuPy's pointers and current stream).
"""
import contextlib
import os

import numpy

from . import cuda_kernels, native, reference
from .device import device_of, on_device_of, xp_of

SETTINGS = ("auto", "native", "reference")
FLOAT_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def _check_setting(setting, where):
    if setting not in SETTINGS:
        raise ValueError(f"{where}: unknown kernel setting {setting!r}, expected one of {SETTINGS}")
    if setting == "native" and native.cpu_module() is None:
        raise RuntimeError(
            f"{where}: native kernels requested but minidl._C is not built "
            f"({native.load_error('_C')}); reinstall with 'pip install -e .'"
        )
    return setting


_setting = _check_setting(os.environ.get("MINIDL_KERNELS", "auto").strip() or "auto", "MINIDL_KERNELS")


def get_kernels():
    """The current kernel setting: 'auto', 'native' or 'reference'."""
    return _setting


def active_kernels():
    """What 'auto' resolves to on the CPU right now: 'native' or 'reference'."""
    if _setting == "reference" or native.cpu_module() is None:
        return "reference"
    return "native"


def set_kernels(setting):
    """Choose the kernels for every later call: 'auto', 'native' or 'reference'."""
    global _setting
    _setting = _check_setting(setting, "set_kernels")


@contextlib.contextmanager
def use_kernels(setting):
    """``with use_kernels('reference'): ...`` runs the block on the reference kernels."""
    global _setting
    previous = _setting
    _setting = _check_setting(setting, "use_kernels")
    try:
        yield
    finally:
        _setting = previous


def _implementation(name, array):
    """The function that runs kernel ``name`` for arrays living where ``array`` lives:
    minidl._C for NumPy arrays, minidl._C_cuda (through cuda_kernels.py) for CuPy arrays, or the
    NumPy/CuPy reference when the setting says so or the module is not built."""
    if device_of(array).type == "cpu":
        if _setting != "reference" and native.cpu_module() is not None:
            return getattr(native.cpu_module(), name)
        return getattr(reference, name)
    if _setting != "reference" and native.cuda_module() is not None:
        return getattr(cuda_kernels, name)
    if _setting == "native":
        raise RuntimeError(
            f"{name}: native kernels requested for a CUDA array but minidl._C_cuda is not built "
            f"({native.load_error('_C_cuda')}); rebuild with nvcc on PATH, or use_kernels('auto') "
            f"to run the CuPy reference")
    return _on_gpu_of(array, getattr(reference, name))


def _on_gpu_of(array, function):
    """``function`` run with ``array``'s GPU current: the CuPy reference allocates and launches on
    the current GPU, which is not always the GPU of the arrays."""
    def run(*args):
        with on_device_of(array):
            return function(*args)
    return run


# ---------------------------------------------------------------------------------------------
# Checks shared by every kernel

def _fmt(*arrays):
    return ", ".join(str(tuple(a.shape)) for a in arrays)


def _check_float(op, *arrays):
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{op}: expected float32 or float64 arrays, got {a.dtype} (shapes {_fmt(*arrays)})")
        if a.dtype != dtype:
            raise TypeError(f"{op}: all operands must have one dtype, got {', '.join(str(x.dtype) for x in arrays)}")
        if device_of(a) != device_of(arrays[0]):
            raise ValueError(f"{op}: operands on different devices: {', '.join(str(device_of(x)) for x in arrays)}")


# CuPy copies and allocates on its current GPU; these work on the GPU of the array they are given,
# so that a kernel called with cuda:1 arrays never touches cuda:0.

def _contiguous(a):
    with on_device_of(a):
        return xp_of(a).ascontiguousarray(a)


def _zeros(like, shape):
    with on_device_of(like):
        return xp_of(like).zeros(shape, dtype=like.dtype)


# ---------------------------------------------------------------------------------------------
# matmul

def _matmul_operand(x, trans):
    """A C-contiguous array and its transpose flag, without copying a transposed view.

    ``x.swapaxes(1, 2)`` of a contiguous array (what a backward pass produces) is passed as the
    contiguous original with the flag flipped, so the kernel reads it in place.
    """
    if x.flags.c_contiguous:
        return x, trans
    flipped = x.transpose(0, 2, 1)
    if flipped.flags.c_contiguous:
        return flipped, not trans
    return _contiguous(x), trans


def matmul(a, b, trans_a=False, trans_b=False):
    """Batched matrix product, see ``reference.matmul``.

    a: (Ba, M, K) or (Ba, K, M) if trans_a;  b: (Bb, K, N) or (Bb, N, K) if trans_b
    returns (max(Ba, Bb), M, N)
    """
    op = "matmul"
    _check_float(op, a, b)
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"{op}: kernel expects 3-d (batch, rows, cols) arrays, got shapes {_fmt(a, b)}")
    ba, bb = a.shape[0], b.shape[0]
    m, k = (a.shape[2], a.shape[1]) if trans_a else (a.shape[1], a.shape[2])
    k2, n = (b.shape[2], b.shape[1]) if trans_b else (b.shape[1], b.shape[2])
    if k != k2:
        raise ValueError(
            f"{op}: inner dimensions differ: {m}x{k} @ {k2}x{n} "
            f"(shapes {_fmt(a, b)}, trans_a={trans_a}, trans_b={trans_b})"
        )
    if ba != bb and 1 not in (ba, bb):
        raise ValueError(f"{op}: batch sizes {ba} and {bb} differ and neither is 1 (shapes {_fmt(a, b)})")
    a, trans_a = _matmul_operand(a, trans_a)
    b, trans_b = _matmul_operand(b, trans_b)
    return _implementation("matmul", a)(a, b, bool(trans_a), bool(trans_b))


# ---------------------------------------------------------------------------------------------
# Softmax family: over the last axis of 2-d (rows, cols) arrays. The ops in
# functional/activation.py move any dim last and flatten the rest into rows before calling these.

def _rowwise_operands(op, *arrays):
    """The arrays, checked (one float dtype, 2-d, one shape) and made C-contiguous."""
    _check_float(op, *arrays)
    for a in arrays:
        if a.ndim != 2:
            raise ValueError(f"{op}: kernel expects 2-d (rows, cols) arrays, got shapes {_fmt(*arrays)}")
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(f"{op}: grad_out and y must have the same shape, got shapes {_fmt(*arrays)}")
    return [_contiguous(a) for a in arrays]


def softmax_forward(x):
    """Softmax along each row, see ``reference.softmax_forward``.  x: (rows, cols) -> (rows, cols)"""
    (x,) = _rowwise_operands("softmax_forward", x)
    return _implementation("softmax_forward", x)(x)


def softmax_backward(grad_out, y):
    """grad_x = y * (grad_out - sum(grad_out * y)) per row.  grad_out, y: (rows, cols) -> (rows, cols)"""
    grad_out, y = _rowwise_operands("softmax_backward", grad_out, y)
    return _implementation("softmax_backward", y)(grad_out, y)


def log_softmax_forward(x):
    """Log-softmax along each row, see ``reference.log_softmax_forward``.  x: (rows, cols) -> (rows, cols)"""
    (x,) = _rowwise_operands("log_softmax_forward", x)
    return _implementation("log_softmax_forward", x)(x)


def log_softmax_backward(grad_out, y):
    """grad_x = grad_out - exp(y) * sum(grad_out) per row.  grad_out, y: (rows, cols) -> (rows, cols)"""
    grad_out, y = _rowwise_operands("log_softmax_backward", grad_out, y)
    return _implementation("log_softmax_backward", y)(grad_out, y)


# ---------------------------------------------------------------------------------------------
# conv2d: forward, gradient of the input, gradient of the weight.
# x: (N, C_in, H, W), weight: (C_out, C_in/groups, kh, kw), y: (N, C_out, OH, OW); stride,
# padding, dilation: (h, w) pairs (an int means the same for both). The ops in functional/conv.py
# give friendlier errors in terms of their own arguments; these protect the kernels.

def _conv_pair(op, name, value, minimum):
    """``value`` (an int or a pair of ints) as a tuple of two ints, each at least ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, numpy.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if min(pair) < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {value!r}")
    return pair


def _conv_shape(op, name, shape):
    """A 4-tuple of non-negative ints (input_shape or weight_shape of a backward kernel)."""
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(s, (int, numpy.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"{op}: {name} must be a tuple of 4 ints, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4 or min(shape) < 0:
        raise ValueError(f"{op}: {name} must be 4 non-negative ints, got {shape!r}")
    return shape


def _conv2d_geometry(op, x_shape, w_shape, stride, padding, dilation, groups, shapes):
    """Check one convolution's sizes; returns (stride, padding, dilation, groups, y_shape).

    ``shapes`` describes the operands for error messages (e.g. "x (2, 3, 8, 8), weight (4, 3, 3, 3)").
    """
    stride = _conv_pair(op, "stride", stride, 1)
    padding = _conv_pair(op, "padding", padding, 0)
    dilation = _conv_pair(op, "dilation", dilation, 1)
    if isinstance(groups, bool) or not isinstance(groups, (int, numpy.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r} ({shapes})")
    groups = int(groups)
    n, c_in, h, w = x_shape
    c_out, c_in_per_group, kh, kw = w_shape
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: the weight needs a kernel of at least 1x1 ({shapes})")
    if c_in != c_in_per_group * groups:
        raise ValueError(f"{op}: input has {c_in} channels but weight expects {c_in_per_group} per group "
                         f"x {groups} groups = {c_in_per_group * groups} ({shapes})")
    if c_out % groups:
        raise ValueError(f"{op}: {c_out} output channels are not divisible by groups={groups} ({shapes})")
    oh = reference.conv2d_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = reference.conv2d_output_size(w, kw, stride[1], padding[1], dilation[1])
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{op}: kernel {kh}x{kw} (dilation {dilation}) is larger than the padded input "
            f"{h + 2 * padding[0]}x{w + 2 * padding[1]} (input {h}x{w}, padding {padding}); "
            f"output would be {oh}x{ow} ({shapes})")
    return stride, padding, dilation, groups, (n, c_out, oh, ow)


def _check_4d(op, names, *arrays):
    for name, a in zip(names, arrays):
        if a.ndim != 4:
            raise ValueError(f"{op}: {name} must be 4-d, got shape {tuple(a.shape)} "
                             f"(shapes {_fmt(*arrays)})")


def conv2d_forward(x, weight, stride, padding, dilation, groups):
    """2-d convolution without bias, see ``reference.conv2d_forward``.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kh, kw)  ->  y: (N, C_out, OH, OW)
    """
    op = "conv2d_forward"
    _check_float(op, x, weight)
    _check_4d(op, ("x (N, C_in, H, W)", "weight (C_out, C_in/groups, kh, kw)"), x, weight)
    shapes = f"x {tuple(x.shape)}, weight {tuple(weight.shape)}"
    stride, padding, dilation, groups, y_shape = _conv2d_geometry(
        op, x.shape, weight.shape, stride, padding, dilation, groups, shapes)
    if x.shape[0] == 0:  # an empty batch: nothing to compute
        return _zeros(x, y_shape)
    x, weight = _contiguous(x), _contiguous(weight)
    return _implementation(op, x)(x, weight, stride, padding, dilation, groups)


def conv2d_backward_input(grad_out, weight, input_shape, stride, padding, dilation, groups):
    """Gradient of conv2d_forward with respect to x, see ``reference.conv2d_backward_input``.

    grad_out: (N, C_out, OH, OW); weight: (C_out, C_in/groups, kh, kw); input_shape: (N, C_in, H, W)
    -> grad_x: input_shape
    """
    op = "conv2d_backward_input"
    _check_float(op, grad_out, weight)
    _check_4d(op, ("grad_out (N, C_out, OH, OW)", "weight (C_out, C_in/groups, kh, kw)"), grad_out, weight)
    input_shape = _conv_shape(op, "input_shape", input_shape)
    shapes = f"grad_out {tuple(grad_out.shape)}, weight {tuple(weight.shape)}, input_shape {input_shape}"
    stride, padding, dilation, groups, y_shape = _conv2d_geometry(
        op, input_shape, weight.shape, stride, padding, dilation, groups, shapes)
    if tuple(grad_out.shape) != y_shape:
        raise ValueError(f"{op}: grad_out must have the output shape {y_shape} ({shapes})")
    if input_shape[0] == 0:
        return _zeros(grad_out, input_shape)
    grad_out, weight = _contiguous(grad_out), _contiguous(weight)
    return _implementation(op, grad_out)(grad_out, weight, input_shape, stride, padding, dilation, groups)


def conv2d_backward_weight(grad_out, x, weight_shape, stride, padding, dilation, groups):
    """Gradient of conv2d_forward with respect to weight, see ``reference.conv2d_backward_weight``.

    grad_out: (N, C_out, OH, OW); x: (N, C_in, H, W); weight_shape: (C_out, C_in/groups, kh, kw)
    -> grad_weight: weight_shape (summed over the batch)
    """
    op = "conv2d_backward_weight"
    _check_float(op, grad_out, x)
    _check_4d(op, ("grad_out (N, C_out, OH, OW)", "x (N, C_in, H, W)"), grad_out, x)
    weight_shape = _conv_shape(op, "weight_shape", weight_shape)
    shapes = f"grad_out {tuple(grad_out.shape)}, x {tuple(x.shape)}, weight_shape {weight_shape}"
    stride, padding, dilation, groups, y_shape = _conv2d_geometry(
        op, x.shape, weight_shape, stride, padding, dilation, groups, shapes)
    if tuple(grad_out.shape) != y_shape:
        raise ValueError(f"{op}: grad_out must have the output shape {y_shape} ({shapes})")
    if x.shape[0] == 0:  # an empty sum
        return _zeros(x, weight_shape)
    grad_out, x = _contiguous(grad_out), _contiguous(x)
    return _implementation(op, x)(grad_out, x, weight_shape, stride, padding, dilation, groups)


# ---------------------------------------------------------------------------------------------
# Pooling: max_pool2d and avg_pool2d, forward and backward.
# x: (N, C, H, W) -> y: (N, C, OH, OW); kernel, stride, padding, dilation: (h, w) pairs (an int
# means the same for both). The ops in functional/pool.py accept PyTorch's argument forms and
# unbatched input; these protect the kernels and name the kernel in every error.

def _pool_pair(op, name, value, minimum):
    """``value`` (an int or a pair of ints) as a tuple of two ints, each at least ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, numpy.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    pair = (int(pair[0]), int(pair[1]))
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return pair


def _pool_input_shape(op, shape):
    """input_shape of a backward kernel: 4 ints, N and C >= 0, H and W >= 1."""
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: input_shape must be a tuple of 4 ints (N, C, H, W), got {shape!r}") from None
    if len(shape) != 4 or min(shape[:2]) < 0 or min(shape[2:]) < 1:
        raise ValueError(f"{op}: input_shape must be (N, C, H, W) with H, W >= 1, got {shape!r}")
    return shape


def _pool2d_geometry(op, x_shape, kernel, stride, padding, dilation, ceil_mode, shapes):
    """Check one pooling's parameters against the input (N, C, H, W); returns
    (kernel, stride, padding, dilation, (OH, OW)). ``shapes`` describes the operands for errors."""
    kernel = _pool_pair(op, "kernel", kernel, 1)
    stride = _pool_pair(op, "stride", stride, 1)
    padding = _pool_pair(op, "padding", padding, 0)
    dilation = _pool_pair(op, "dilation", dilation, 1)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        # PyTorch's rule: more padding would allow windows (nearly) all padding.
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel} ({shapes})")
    _, _, h, w = x_shape
    if h < 1 or w < 1:
        raise ValueError(f"{op}: input height and width must be at least 1 ({shapes})")
    oh = reference.pool_output_size(h, kernel[0], stride[0], padding[0], dilation[0], bool(ceil_mode))
    ow = reference.pool_output_size(w, kernel[1], stride[1], padding[1], dilation[1], bool(ceil_mode))
    if oh < 1 or ow < 1:
        span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ValueError(
            f"{op}: the {span[0]}x{span[1]} window (kernel {kernel}, dilation {dilation}) is larger than "
            f"the padded input {h + 2 * padding[0]}x{w + 2 * padding[1]} (input {h}x{w}, padding "
            f"{padding}); output would be {oh}x{ow} ({shapes})")
    return kernel, stride, padding, dilation, (oh, ow)


def _pool_4d(op, name, a):
    if a.ndim != 4:
        raise ValueError(f"{op}: {name} must be 4-d (N, C, H, W), got shape {tuple(a.shape)}")


def max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode=False):
    """Max over each window and where it was, see ``reference.max_pool2d_forward``.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW), indices: (N, C, OH, OW) int64 (h*W + w in the plane)
    """
    op = "max_pool2d_forward"
    _check_float(op, x)
    _pool_4d(op, "x", x)
    kernel, stride, padding, dilation, _ = _pool2d_geometry(
        op, x.shape, kernel, stride, padding, dilation, ceil_mode, f"x {tuple(x.shape)}")
    x = _contiguous(x)
    return _implementation(op, x)(x, kernel, stride, padding, dilation, bool(ceil_mode))


def max_pool2d_backward(grad_out, indices, input_shape):
    """Scatter-add of grad_out to the positions in ``indices``, see ``reference.max_pool2d_backward``.

    grad_out: (N, C, OH, OW); indices: (N, C, OH, OW) int64  ->  grad_x: input_shape (N, C, H, W)
    """
    op = "max_pool2d_backward"
    _check_float(op, grad_out)
    _pool_4d(op, "grad_out", grad_out)
    input_shape = _pool_input_shape(op, input_shape)
    shapes = f"grad_out {tuple(grad_out.shape)}, indices {tuple(indices.shape)}, input_shape {input_shape}"
    if indices.dtype != numpy.int64:
        raise TypeError(f"{op}: indices must be int64, got {indices.dtype} ({shapes})")
    if device_of(indices) != device_of(grad_out):
        raise ValueError(f"{op}: indices on {device_of(indices)}, grad_out on {device_of(grad_out)}")
    if indices.shape != grad_out.shape:
        raise ValueError(f"{op}: indices must have grad_out's shape ({shapes})")
    if tuple(grad_out.shape[:2]) != input_shape[:2]:
        raise ValueError(f"{op}: grad_out's N and C must match input_shape's ({shapes})")
    grad_out, indices = _contiguous(grad_out), _contiguous(indices)
    kernel = _implementation(op, grad_out)
    is_native = kernel in (cuda_kernels.max_pool2d_backward, getattr(native.cpu_module(), op, None))
    if not is_native and indices.size:
        # The native kernels check every index as they scatter; the reference would add a bad one
        # into a neighbouring plane, so it is checked here (-1 marks an empty window).
        plane = input_shape[2] * input_shape[3]
        if int(indices.min()) < -1 or int(indices.max()) >= plane:
            raise ValueError(f"{op}: indices must lie in 0..{plane - 1} (or be -1), got "
                             f"{int(indices.min())}..{int(indices.max())} ({shapes})")
    return kernel(grad_out, indices, input_shape)


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True):
    """Mean over each window, see ``reference.avg_pool2d_forward``.  x: (N, C, H, W) -> (N, C, OH, OW)"""
    op = "avg_pool2d_forward"
    _check_float(op, x)
    _pool_4d(op, "x", x)
    kernel, stride, padding, _, _ = _pool2d_geometry(
        op, x.shape, kernel, stride, padding, 1, ceil_mode, f"x {tuple(x.shape)}")
    x = _contiguous(x)
    return _implementation(op, x)(x, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad))


def avg_pool2d_backward(grad_out, input_shape, kernel, stride, padding, count_include_pad=True):
    """Gradient of average pooling, see ``reference.avg_pool2d_backward``.

    grad_out: (N, C, OH, OW) with (OH, OW) the output size of the forward (either ceil_mode)
    ->  grad_x: input_shape (N, C, H, W)
    """
    op = "avg_pool2d_backward"
    _check_float(op, grad_out)
    _pool_4d(op, "grad_out", grad_out)
    input_shape = _pool_input_shape(op, input_shape)
    shapes = f"grad_out {tuple(grad_out.shape)}, input_shape {input_shape}"
    # ceil_mode's output is never smaller, so its geometry is the one that must exist.
    kernel, stride, padding, _, ceil_size = _pool2d_geometry(
        op, input_shape, kernel, stride, padding, 1, True, shapes)
    floor_size = tuple(reference.pool_output_size(n, k, s, p) for n, k, s, p in
                       zip(input_shape[2:], kernel, stride, padding))
    n_c, size = tuple(grad_out.shape[:2]), tuple(grad_out.shape[2:])
    if n_c != input_shape[:2] or not all(o in (f, c) and o >= 1 for o, f, c in zip(size, floor_size, ceil_size)):
        raise ValueError(f"{op}: grad_out must be the output of this pooling, (N, C) = {input_shape[:2]} and "
                         f"(OH, OW) = {floor_size} (or {ceil_size} in ceil_mode) ({shapes})")
    grad_out = _contiguous(grad_out)
    return _implementation(op, grad_out)(grad_out, input_shape, kernel, stride, padding, bool(count_include_pad))
