"""The CUDA native implementations: ``minidl._C_cuda``'s kernels called the way ``reference.py`` is
called (CuPy arrays in, CuPy arrays out, the same names and arguments).

The compiled kernels take device pointers (see csrc/bindings_cuda.cpp), so each function here
allocates its outputs with CuPy and passes the kernel, in the binding's order,
- the input arrays, then the output arrays, each as ``array.data.ptr``,
- the shapes and window parameters,
- the dtype's name, which picks the float or double kernel,
- CuPy's current stream, so the kernel runs in order with the CuPy work queued before and after it.

Only ``kernels.py`` calls these, through its CUDA dispatch table, after checking dtypes, shapes
and devices, making every input C-contiguous and making the inputs' GPU current (where CuPy
allocates the outputs); nothing here checks again.
"""

from collections.abc import Sequence
from typing import Any

from . import native
from .device import xp_of
from .geometry import conv2d_output_size, pool2d_output_size

Array = Any  # a CuPy array


def _run(name: str, *args: Any) -> None:
    """Queue kernel ``name`` on the current stream; arrays become pointers. The first argument is
    an input array, whose dtype picks the kernel."""
    cupy = xp_of(args[0])
    stream = cupy.cuda.get_current_stream().ptr
    pointers = [a.data.ptr if isinstance(a, cupy.ndarray) else a for a in args]
    dtype = args[0].dtype.name
    kernel = getattr(native.cuda_module(), name)
    try:
        kernel(*pointers, dtype, stream)
    except RuntimeError as err:
        if "cudaErrorMemoryAllocation" not in str(err):
            raise
        # The scratch memory of conv2d_backward_weight and max_pool2d_backward comes from CUDA's
        # own pool, which cannot use the memory CuPy keeps cached for reuse. Hand that back and
        # try once more (every kernel rewrites its whole output, so running it again is safe).
        cupy.get_default_memory_pool().free_all_blocks()
        kernel(*pointers, dtype, stream)


def _launch(name: str, inputs: Sequence[Array], outputs: Sequence[Array], *sizes: Any) -> Any:
    """Run kernel ``name`` on ``inputs`` into ``outputs`` (nothing to launch when they are empty);
    returns the output, or the outputs as a tuple when there are several."""
    if outputs[0].size:
        _run(name, *inputs, *outputs, *sizes)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _empty(like: Array, shape: Sequence[int], dtype: Any = None) -> Array:
    return xp_of(like).empty(tuple(shape), dtype=like.dtype if dtype is None else dtype)


def matmul(a, b, trans_a=False, trans_b=False):
    """a: (Ba, M, K) or (Ba, K, M) if trans_a;  b: (Bb, K, N) or (Bb, N, K) if trans_b
    -> (max(Ba, Bb), M, N)"""
    batch_a, batch_b = a.shape[0], b.shape[0]
    m, k = (a.shape[2], a.shape[1]) if trans_a else (a.shape[1], a.shape[2])
    n = b.shape[1] if trans_b else b.shape[2]
    batch = 0 if 0 in (batch_a, batch_b) else max(batch_a, batch_b)
    return _launch(
        "matmul", (a, b), (_empty(a, (batch, m, n)),), batch_a, batch_b, m, n, k, bool(trans_a), bool(trans_b)
    )


# Softmax family: (rows, cols) -> (rows, cols)


def softmax_forward(x):
    return _launch("softmax_forward", (x,), (_empty(x, x.shape),), *x.shape)


def softmax_backward(grad_out, y):
    return _launch("softmax_backward", (grad_out, y), (_empty(y, y.shape),), *y.shape)


def log_softmax_forward(x):
    return _launch("log_softmax_forward", (x,), (_empty(x, x.shape),), *x.shape)


def log_softmax_backward(grad_out, y):
    return _launch("log_softmax_backward", (grad_out, y), (_empty(y, y.shape),), *y.shape)


# Pooling: x (N, C, H, W) -> y (N, C, OH, OW)


def max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode=False):
    out = tuple(
        pool2d_output_size(*axis, ceil_mode) for axis in zip(x.shape[2:], kernel, stride, padding, dilation)
    )
    y = _empty(x, x.shape[:2] + out)
    indices = _empty(x, y.shape, dtype=xp_of(x).int64)
    return _launch(
        "max_pool2d_forward", (x,), (y, indices), x.shape, kernel, stride, padding, dilation, bool(ceil_mode)
    )


def max_pool2d_backward(grad_out, indices, input_shape):
    return _launch(
        "max_pool2d_backward",
        (grad_out, indices),
        (_empty(grad_out, input_shape),),
        tuple(input_shape),
        tuple(grad_out.shape[2:]),
    )


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True):
    out = tuple(pool2d_output_size(*axis, 1, ceil_mode) for axis in zip(x.shape[2:], kernel, stride, padding))
    return _launch(
        "avg_pool2d_forward",
        (x,),
        (_empty(x, x.shape[:2] + out),),
        x.shape,
        kernel,
        stride,
        padding,
        bool(ceil_mode),
        bool(count_include_pad),
    )


def avg_pool2d_backward(grad_out, input_shape, kernel, stride, padding, count_include_pad=True):
    return _launch(
        "avg_pool2d_backward",
        (grad_out,),
        (_empty(grad_out, input_shape),),
        tuple(input_shape),
        tuple(grad_out.shape[2:]),
        kernel,
        stride,
        padding,
        bool(count_include_pad),
    )


# conv2d: x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), y (N, C_out, OH, OW)


def conv2d_forward(x, weight, stride, padding, dilation, groups):
    out = tuple(
        conv2d_output_size(*axis) for axis in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    )
    y = _empty(x, (x.shape[0], weight.shape[0]) + out)
    return _launch(
        "conv2d_forward", (x, weight), (y,), x.shape, weight.shape, stride, padding, dilation, groups
    )


def conv2d_backward_input(grad_out, weight, input_shape, stride, padding, dilation, groups):
    return _launch(
        "conv2d_backward_input",
        (grad_out, weight),
        (_empty(grad_out, input_shape),),
        tuple(input_shape),
        weight.shape,
        stride,
        padding,
        dilation,
        groups,
    )


def conv2d_backward_weight(grad_out, x, weight_shape, stride, padding, dilation, groups):
    return _launch(
        "conv2d_backward_weight",
        (grad_out, x),
        (_empty(x, weight_shape),),
        x.shape,
        tuple(weight_shape),
        stride,
        padding,
        dilation,
        groups,
    )
