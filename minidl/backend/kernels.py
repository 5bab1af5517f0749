"""The kernels, as Python calls them: check the arrays, then run the implementation for their device.

Words, each with one meaning in minidl/backend (and in csrc/):

- a **kernel** is one of the twelve named computations in ``KERNELS`` (matmul, conv2d_forward,
  ...). It has the same name, argument order and output at every level: here, ``reference.py``,
  ``csrc/cpu``, ``csrc/cuda``, ``minidl._C`` and ``minidl._C_cuda``.
- an **implementation** is one of a kernel's four versions: CPU native (``minidl._C``), CPU
  reference (``reference.py`` on NumPy), CUDA native (``cuda_kernels.py`` handing CuPy's pointers
  to ``minidl._C_cuda``) and CUDA reference (``reference.py`` on CuPy).
- **dispatch** is choosing the implementation: by the arrays' device (one table per device,
  ``_TABLES``) and by the **kernel setting**: ``MINIDL_KERNELS`` or ``use_kernels(...)``, one of
  ``auto`` (native when built, else reference), ``native`` (native or an error), ``reference``.

Each function below is the gate between Python and native code: nothing reaches a pointer
before it is checked here. One float dtype and one device for every operand, the dimensions, the
geometry (``geometry.check_conv``/``check_pool``, the functions ``functional/`` called at the edge
in the user's terms: for an op's call they pass; they are here for every other caller, tests,
benchmarks and tutorials among them, and so that the reference path can never compute garbage),
shapes that agree, and C-contiguous arrays. A bad call raises a Python error naming the kernel and
the shapes. The C++ bindings check the sizes once more (``csrc/binding_checks.cpp``), as the last
guard for whoever calls ``minidl._C`` directly.
"""

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy

from ..errors import DTypeError, ShapeError
from . import cuda_kernels, geometry, native, reference
from .device import device_of, on_device_of, xp_of
from .geometry import IntOrInts, int_tuple

Array = Any  # a NumPy or a CuPy array
SETTINGS = ("auto", "native", "reference")
FLOAT_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))
KERNELS = (
    "matmul",
    "softmax_forward",
    "softmax_backward",
    "log_softmax_forward",
    "log_softmax_backward",
    "conv2d_forward",
    "conv2d_backward_input",
    "conv2d_backward_weight",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
)


# ---------------------------------------------------------------------------------------------
# The kernel setting


def _check_setting(setting: str, where: str) -> str:
    if setting not in SETTINGS:
        raise ValueError(f"{where}: unknown kernel setting {setting!r}, expected one of {SETTINGS}")
    if setting == "native" and native.cpu_module() is None:
        raise RuntimeError(
            f"{where}: native kernels requested but minidl._C is not built "
            f"({native.load_error('_C')}); reinstall with 'pip install -e .'"
        )
    return setting


_setting = _check_setting(os.environ.get("MINIDL_KERNELS", "auto").strip() or "auto", "MINIDL_KERNELS")


def get_kernels() -> str:
    """The current kernel setting: 'auto', 'native' or 'reference'."""
    return _setting


def active_kernels() -> str:
    """What 'auto' resolves to on the CPU right now: 'native' or 'reference'."""
    if _setting == "reference" or native.cpu_module() is None:
        return "reference"
    return "native"


def set_kernels(setting: str) -> None:
    """Choose the kernels for every later call: 'auto', 'native' or 'reference'."""
    global _setting
    _setting = _check_setting(setting, "set_kernels")


@contextlib.contextmanager
def use_kernels(setting: str) -> Iterator[None]:
    """``with use_kernels('reference'): ...`` runs the block on the reference kernels."""
    global _setting
    previous = _setting
    _setting = _check_setting(setting, "use_kernels")
    try:
        yield
    finally:
        _setting = previous


# ---------------------------------------------------------------------------------------------
# Dispatch: one table per device, kernel name -> (native, reference)


def _with_gpu_of_operands(function: Callable) -> Callable:
    """``function`` run with its first array's GPU current: CuPy allocates and launches on the
    current GPU, which need not be the GPU of the arrays (a model on cuda:1)."""

    def run(first, *rest):
        with on_device_of(first):
            return function(first, *rest)

    return functools.wraps(function)(run)


_cpu = native.cpu_module()
_TABLES: dict[str, dict[str, tuple[Callable | None, Callable]]] = {  # device -> {kernel: (native, reference)}
    "cpu": {name: (getattr(_cpu, name, None), getattr(reference, name)) for name in KERNELS},
    "cuda": {
        name: (
            _with_gpu_of_operands(getattr(cuda_kernels, name)),
            _with_gpu_of_operands(getattr(reference, name)),
        )
        for name in KERNELS
    },
}


def _runs_native(name: str, array: Array) -> bool:
    """Whether kernel ``name`` runs natively for arrays on ``array``'s device (else: reference):
    not under the 'reference' setting, nor when the device's compiled module is not built."""
    if _setting == "reference":
        return False
    on_cpu = device_of(array).type == "cpu"
    if (native.cpu_module() if on_cpu else native.cuda_module()) is not None:
        return True
    if _setting == "native":  # only the GPU gets here: set_kernels('native') checked _C already
        raise RuntimeError(
            f"{name}: native kernels requested for a CUDA array but minidl._C_cuda is not built "
            f"({native.load_error('_C_cuda')}); rebuild with nvcc on PATH, or use_kernels('auto') "
            f"to run the CuPy reference"
        )
    return False


def _implementation(name: str, array: Array) -> Callable:
    """The function that runs kernel ``name`` for arrays living where ``array`` lives: native or
    reference (``_runs_native``), from that device's table."""
    native_kernel, reference_kernel = _TABLES[device_of(array).type][name]
    if not _runs_native(name, array):
        return reference_kernel
    assert native_kernel is not None, f"{name}: the compiled module is loaded but lacks this kernel"
    return native_kernel


# ---------------------------------------------------------------------------------------------
# Checks shared by every kernel


def _fmt(*arrays: Array) -> str:
    return ", ".join(str(tuple(a.shape)) for a in arrays)


def _check_float(op: str, *arrays: Array, accept: Callable[[Any], bool] | None = None) -> None:
    """One dtype for all operands: float32 or float64, or one that ``accept(dtype)`` allows (the
    kernels that also take float16 or integers, on their reference path, so not under the
    'native' setting); one device."""
    dtype = arrays[0].dtype
    for a in arrays:
        known = accept is not None and accept(a.dtype)
        if a.dtype not in FLOAT_DTYPES and not (known and _setting != "native"):
            hint = "; only the reference kernels take it" if known else ""
            raise DTypeError(
                f"{op}: expected float32 or float64 arrays, got {a.dtype} (shapes {_fmt(*arrays)}){hint}"
            )
        if a.dtype != dtype:
            raise DTypeError(
                f"{op}: all operands must have one dtype, got {', '.join(str(x.dtype) for x in arrays)}"
            )
        if device_of(a) != device_of(arrays[0]):
            raise ValueError(
                f"{op}: operands on different devices: {', '.join(str(device_of(x)) for x in arrays)}"
            )


def _check_4d(op: str, **arrays: Array) -> str:
    """Each array 4-d; returns the operands described for messages ("x (2, 3, 8, 8), weight ...")."""
    shapes = ", ".join(f"{name} {tuple(a.shape)}" for name, a in arrays.items())
    for name, a in arrays.items():
        if a.ndim != 4:
            raise ShapeError(f"{op}: {name} must be 4-d, got shape {tuple(a.shape)} ({shapes})")
    return shapes


def _shape4(op: str, name: str, shape: Sequence[int]) -> tuple[int, int, int, int]:
    """The shape argument of a backward kernel (input_shape, weight_shape): 4 non-negative ints."""
    if not isinstance(shape, (tuple, list)) or not all(geometry.is_int(s) for s in shape):
        raise TypeError(f"{op}: {name} must be a tuple of 4 ints, got {shape!r}")
    if len(shape) != 4 or min(shape) < 0:
        raise ShapeError(f"{op}: {name} must be 4 non-negative ints, got {tuple(shape)!r}")
    n, c, h, w = (int(s) for s in shape)
    return n, c, h, w


def _pairs(op: str, **values: IntOrInts) -> list[tuple[int, ...]]:
    """Each window argument (kernel, stride, padding, dilation) as an (h, w) pair, in order."""
    return [int_tuple(op, name, value, 2) for name, value in values.items()]


# CuPy copies and allocates on its current GPU; these work on the GPU of the array they are given,
# so that a kernel called with cuda:1 arrays never touches cuda:0.


def _contiguous(a: Array) -> Array:
    with on_device_of(a):
        return xp_of(a).ascontiguousarray(a)


def _zeros(like: Array, shape: Sequence[int]) -> Array:
    with on_device_of(like):
        return xp_of(like).zeros(tuple(shape), dtype=like.dtype)


# ---------------------------------------------------------------------------------------------
# matmul


def _matmul_operand(x: Array, trans: bool) -> tuple[Array, bool]:
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


def matmul(a: Array, b: Array, trans_a: bool = False, trans_b: bool = False) -> Array:
    """Batched matrix product, see ``reference.matmul``.

    a: (Ba, M, K) or (Ba, K, M) if trans_a;  b: (Bb, K, N) or (Bb, N, K) if trans_b
    returns (max(Ba, Bb), M, N)
    """
    op = "matmul"
    _check_float(op, a, b, accept=_reference_matmul_dtype)
    if a.ndim != 3 or b.ndim != 3:
        raise ShapeError(f"{op}: kernel expects 3-d (batch, rows, cols) arrays, got shapes {_fmt(a, b)}")
    ba, bb = a.shape[0], b.shape[0]
    m, k = (a.shape[2], a.shape[1]) if trans_a else (a.shape[1], a.shape[2])
    k2, n = (b.shape[2], b.shape[1]) if trans_b else (b.shape[1], b.shape[2])
    if k != k2:
        raise ShapeError(
            f"{op}: inner dimensions differ: {m}x{k} @ {k2}x{n} "
            f"(shapes {_fmt(a, b)}, trans_a={trans_a}, trans_b={trans_b})"
        )
    if ba != bb and 1 not in (ba, bb):
        raise ShapeError(f"{op}: batch sizes {ba} and {bb} differ and neither is 1 (shapes {_fmt(a, b)})")
    if 0 in (ba, bb, m, n, k):  # nothing to multiply: an empty result, or a sum of no terms (K = 0)
        return _zeros(a, (bb if ba == 1 else ba, m, n))
    if a.dtype not in FLOAT_DTYPES:
        return _reference_matmul(a, b, trans_a, trans_b)
    a, trans_a = _matmul_operand(a, trans_a)
    b, trans_b = _matmul_operand(b, trans_b)
    return _implementation(op, a)(a, b, bool(trans_a), bool(trans_b))


def _reference_matmul_dtype(dtype: Any) -> bool:
    """The dtypes matmul takes beyond float32/float64: float16 and the integers (not bool)."""
    return dtype == numpy.float16 or dtype.kind in "iu"


def _reference_matmul(a: Array, b: Array, trans_a: bool, trans_b: bool) -> Array:
    """float16 and integer matmul, which the native kernels do not have, on the reference path.
    float16 is computed in float32 and rounded once at the end, as PyTorch's CPU matmul does."""
    reference_kernel = _TABLES[device_of(a).type]["matmul"][1]
    if a.dtype != numpy.float16:
        return reference_kernel(a, b, trans_a, trans_b)
    wide = reference_kernel(a.astype(numpy.float32), b.astype(numpy.float32), trans_a, trans_b)
    return wide.astype(a.dtype)


# ---------------------------------------------------------------------------------------------
# Softmax family: over the last axis of 2-d (rows, cols) arrays. The ops in
# functional/activation.py move any dim last and flatten the rest into rows before calling these.


def _rowwise(name: str, *arrays: Array) -> Array:
    """Check the operands (one float dtype, 2-d, one shape), make them contiguous, run ``name``."""
    _check_float(name, *arrays)
    for a in arrays:
        if a.ndim != 2:
            raise ShapeError(f"{name}: kernel expects 2-d (rows, cols) arrays, got shapes {_fmt(*arrays)}")
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ShapeError(f"{name}: grad_out and y must have the same shape, got shapes {_fmt(*arrays)}")
    arrays = tuple(_contiguous(a) for a in arrays)
    return _implementation(name, arrays[-1])(*arrays)


def softmax_forward(x: Array) -> Array:
    """Softmax along each row, see ``reference.softmax_forward``.  x: (rows, cols) -> (rows, cols)"""
    return _rowwise("softmax_forward", x)


def softmax_backward(grad_out: Array, y: Array) -> Array:
    """grad_x = y * (grad_out - sum(grad_out * y)) per row.  grad_out, y: (rows, cols) -> (rows, cols)"""
    return _rowwise("softmax_backward", grad_out, y)


def log_softmax_forward(x: Array) -> Array:
    """Log-softmax along each row, see ``reference.log_softmax_forward``.  x: (rows, cols) -> (rows, cols)"""
    return _rowwise("log_softmax_forward", x)


def log_softmax_backward(grad_out: Array, y: Array) -> Array:
    """grad_x = grad_out - exp(y) * sum(grad_out) per row.  grad_out, y: (rows, cols) -> (rows, cols)"""
    return _rowwise("log_softmax_backward", grad_out, y)


# ---------------------------------------------------------------------------------------------
# conv2d: forward, gradient of the input, gradient of the weight.
# x: (N, C_in, H, W), weight: (C_out, C_in/groups, kh, kw), y: (N, C_out, OH, OW); stride,
# padding, dilation: (h, w) pairs or ints.


def conv2d_forward(
    x: Array, weight: Array, stride: IntOrInts, padding: IntOrInts, dilation: IntOrInts, groups: int
) -> Array:
    """2-d convolution without bias, see ``reference.conv2d_forward``.

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, kh, kw)  ->  y: (N, C_out, OH, OW)
    """
    op = "conv2d_forward"
    _check_float(op, x, weight)
    shapes = _check_4d(op, x=x, weight=weight)
    stride, padding, dilation = _pairs(op, stride=stride, padding=padding, dilation=dilation)
    y_shape = geometry.check_conv(op, x.shape, weight.shape, stride, padding, dilation, groups, shapes)
    if x.shape[0] == 0:  # an empty batch: nothing to compute
        return _zeros(x, y_shape)
    x, weight = _contiguous(x), _contiguous(weight)
    return _implementation(op, x)(x, weight, stride, padding, dilation, int(groups))


def _check_gradient(
    op: str,
    grad_out: Array,
    operand: Array,
    operand_name: str,
    shape_name: str,
    shape: Sequence[int],
    stride: IntOrInts,
    padding: IntOrInts,
    dilation: IntOrInts,
    groups: int,
) -> tuple[tuple[int, int, int, int], list[tuple[int, ...]]]:
    """What both gradient kernels check: grad_out and the other operand (weight or x), the shape of
    the gradient asked for (input_shape or weight_shape), and that grad_out has the output's shape.
    Returns that shape and the window (stride, padding, dilation) as pairs."""
    _check_float(op, grad_out, operand)
    shapes = _check_4d(op, **{"grad_out": grad_out, operand_name: operand})
    shape = _shape4(op, shape_name, shape)
    shapes += f", {shape_name} {shape}"
    window = _pairs(op, stride=stride, padding=padding, dilation=dilation)
    x_shape, w_shape = (shape, operand.shape) if shape_name == "input_shape" else (operand.shape, shape)
    stride_hw, padding_hw, dilation_hw = window
    y_shape = geometry.check_conv(op, x_shape, w_shape, stride_hw, padding_hw, dilation_hw, groups, shapes)
    if tuple(grad_out.shape) != y_shape:
        raise ShapeError(f"{op}: grad_out must have the output shape {y_shape} ({shapes})")
    return shape, window


def conv2d_backward_input(
    grad_out: Array,
    weight: Array,
    input_shape: Sequence[int],
    stride: IntOrInts,
    padding: IntOrInts,
    dilation: IntOrInts,
    groups: int,
) -> Array:
    """Gradient of conv2d_forward with respect to x, see ``reference.conv2d_backward_input``.

    grad_out: (N, C_out, OH, OW); weight: (C_out, C_in/groups, kh, kw); input_shape: (N, C_in, H, W)
    -> grad_x: input_shape
    """
    op = "conv2d_backward_input"
    input_shape, window = _check_gradient(
        op, grad_out, weight, "weight", "input_shape", input_shape, stride, padding, dilation, groups
    )
    if input_shape[0] == 0:
        return _zeros(grad_out, input_shape)
    grad_out, weight = _contiguous(grad_out), _contiguous(weight)
    return _implementation(op, grad_out)(grad_out, weight, input_shape, *window, int(groups))


def conv2d_backward_weight(
    grad_out: Array,
    x: Array,
    weight_shape: Sequence[int],
    stride: IntOrInts,
    padding: IntOrInts,
    dilation: IntOrInts,
    groups: int,
) -> Array:
    """Gradient of conv2d_forward with respect to weight, see ``reference.conv2d_backward_weight``.

    grad_out: (N, C_out, OH, OW); x: (N, C_in, H, W); weight_shape: (C_out, C_in/groups, kh, kw)
    -> grad_weight: weight_shape (summed over the batch)
    """
    op = "conv2d_backward_weight"
    weight_shape, window = _check_gradient(
        op, grad_out, x, "x", "weight_shape", weight_shape, stride, padding, dilation, groups
    )
    if x.shape[0] == 0:  # an empty sum
        return _zeros(x, weight_shape)
    grad_out, x = _contiguous(grad_out), _contiguous(x)
    return _implementation(op, x)(grad_out, x, weight_shape, *window, int(groups))


# ---------------------------------------------------------------------------------------------
# Pooling: max_pool2d and avg_pool2d, forward and backward.
# x: (N, C, H, W) -> y: (N, C, OH, OW); kernel, stride, padding, dilation: (h, w) pairs or ints.


def max_pool2d_forward(
    x: Array,
    kernel: IntOrInts,
    stride: IntOrInts,
    padding: IntOrInts,
    dilation: IntOrInts,
    ceil_mode: bool = False,
) -> tuple[Array, Array]:
    """Max over each window and where it was, see ``reference.max_pool2d_forward``.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW), indices: (N, C, OH, OW) int64 (h*W + w in the plane)
    """
    op = "max_pool2d_forward"
    _check_float(op, x, accept=_is_integer)  # integers: on the reference path, as PyTorch's CPU takes them
    shapes = _check_4d(op, x=x)
    kernel, stride, padding, dilation = _pairs(
        op, kernel=kernel, stride=stride, padding=padding, dilation=dilation
    )
    geometry.check_pool(op, x.shape, kernel, stride, padding, dilation, bool(ceil_mode), shapes)
    x = _contiguous(x)
    run = _implementation(op, x) if x.dtype in FLOAT_DTYPES else _TABLES[device_of(x).type][op][1]
    return run(x, kernel, stride, padding, dilation, bool(ceil_mode))


def _is_integer(dtype: Any) -> bool:
    return dtype.kind in "iu"


def max_pool2d_backward(grad_out: Array, indices: Array, input_shape: Sequence[int]) -> Array:
    """Scatter-add of grad_out to the positions in ``indices``, see ``reference.max_pool2d_backward``.

    grad_out: (N, C, OH, OW); indices: (N, C, OH, OW) int64  ->  grad_x: input_shape (N, C, H, W)
    """
    op = "max_pool2d_backward"
    _check_float(op, grad_out)
    _check_4d(op, grad_out=grad_out)
    input_shape = _shape4(op, "input_shape", input_shape)
    shapes = f"grad_out {tuple(grad_out.shape)}, indices {tuple(indices.shape)}, input_shape {input_shape}"
    if indices.dtype != numpy.int64:
        raise TypeError(f"{op}: indices must be int64, got {indices.dtype} ({shapes})")
    if device_of(indices) != device_of(grad_out):
        raise ValueError(f"{op}: indices on {device_of(indices)}, grad_out on {device_of(grad_out)}")
    if indices.shape != grad_out.shape:
        raise ShapeError(f"{op}: indices must have grad_out's shape ({shapes})")
    if tuple(grad_out.shape[:2]) != input_shape[:2]:
        raise ShapeError(f"{op}: grad_out's N and C must match input_shape's ({shapes})")
    grad_out, indices = _contiguous(grad_out), _contiguous(indices)
    if not _runs_native(op, grad_out) and indices.size:
        # The native kernels check every index as they scatter; the reference would add a bad one
        # into a neighbouring plane, so it is checked here (-1 marks an empty window).
        plane = input_shape[2] * input_shape[3]
        if int(indices.min()) < -1 or int(indices.max()) >= plane:
            raise ValueError(
                f"{op}: indices must lie in 0..{plane - 1} (or be -1), got "
                f"{int(indices.min())}..{int(indices.max())} ({shapes})"
            )
    return _implementation(op, grad_out)(grad_out, indices, input_shape)


def avg_pool2d_forward(
    x: Array,
    kernel: IntOrInts,
    stride: IntOrInts,
    padding: IntOrInts,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """Mean over each window, see ``reference.avg_pool2d_forward``.  x: (N, C, H, W) -> (N, C, OH, OW)"""
    op = "avg_pool2d_forward"
    _check_float(op, x)
    shapes = _check_4d(op, x=x)
    kernel, stride, padding = _pairs(op, kernel=kernel, stride=stride, padding=padding)
    geometry.check_pool(op, x.shape, kernel, stride, padding, (1, 1), bool(ceil_mode), shapes)
    x = _contiguous(x)
    return _implementation(op, x)(x, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad))


def avg_pool2d_backward(
    grad_out: Array,
    input_shape: Sequence[int],
    kernel: IntOrInts,
    stride: IntOrInts,
    padding: IntOrInts,
    count_include_pad: bool = True,
) -> Array:
    """Gradient of average pooling, see ``reference.avg_pool2d_backward``.

    grad_out: (N, C, OH, OW) with (OH, OW) the output size of the forward (either ceil_mode)
    ->  grad_x: input_shape (N, C, H, W)
    """
    op = "avg_pool2d_backward"
    _check_float(op, grad_out)
    _check_4d(op, grad_out=grad_out)
    input_shape = _shape4(op, "input_shape", input_shape)
    shapes = f"grad_out {tuple(grad_out.shape)}, input_shape {input_shape}"
    kernel, stride, padding = _pairs(op, kernel=kernel, stride=stride, padding=padding)
    # ceil_mode's output is never smaller, so its geometry is the one that must exist.
    ceil_size = geometry.check_pool(op, input_shape, kernel, stride, padding, (1, 1), True, shapes)
    floor_size = tuple(
        geometry.pool2d_output_size(n, k, s, p, 1, False)
        for n, k, s, p in zip(input_shape[2:], kernel, stride, padding)
    )
    n_c, size = tuple(grad_out.shape[:2]), tuple(grad_out.shape[2:])
    if n_c != input_shape[:2] or not all(
        o in (f, c) and o >= 1 for o, f, c in zip(size, floor_size, ceil_size)
    ):
        raise ShapeError(
            f"{op}: grad_out must be the output of this pooling, (N, C) = {input_shape[:2]} and "
            f"(OH, OW) = {floor_size} (or {ceil_size} in ceil_mode) ({shapes})"
        )
    grad_out = _contiguous(grad_out)
    return _implementation(op, grad_out)(
        grad_out, input_shape, kernel, stride, padding, bool(count_include_pad)
    )
