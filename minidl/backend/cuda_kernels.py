"""The CUDA kernels of ``minidl._C_cuda``, called the way ``reference.py`` is: CuPy arrays in, CuPy
arrays out, the same names and arguments.

The compiled kernels take device pointers (see csrc/bindings_cuda.cpp), so each function here
allocates its outputs with CuPy on the inputs' GPU and passes the kernel
- every array as ``array.data.ptr``,
- the shapes and window parameters,
- the dtype's name, which picks the float or double kernel,
- CuPy's current stream, so the kernel runs in order with the CuPy work queued before and after it.

Only ``kernels.py`` calls these, after checking dtypes, shapes and devices and making every input
C-contiguous; nothing here checks again.
"""
from . import native, reference
from .device import xp_of


def _run(name, like, *args):
    """Queue kernel ``name`` on the current stream of ``like``'s GPU; arrays become pointers."""
    cupy = xp_of(like)
    stream = cupy.cuda.get_current_stream().ptr
    pointers = [a.data.ptr if isinstance(a, cupy.ndarray) else a for a in args]
    kernel = getattr(native.cuda_module(), name)
    try:
        kernel(*pointers, like.dtype.name, stream)
    except RuntimeError as err:
        if "cudaErrorMemoryAllocation" not in str(err):
            raise
        # The scratch memory of conv2d_backward_weight and max_pool2d_backward comes from CUDA's
        # own pool, which cannot use the memory CuPy keeps cached for reuse. Hand that back and
        # try once more (every kernel rewrites its whole output, so running it again is safe).
        cupy.get_default_memory_pool().free_all_blocks()
        kernel(*pointers, like.dtype.name, stream)


def _on_device_of(array):
    """CuPy, and its context for the GPU holding ``array``: outputs are allocated and kernels
    launched there (``with gpu:``), whichever GPU is current outside."""
    cupy = xp_of(array)
    return cupy, cupy.cuda.Device(array.device.id)


# ---------------------------------------------------------------------------------------------
# matmul

def matmul(a, b, trans_a=False, trans_b=False):
    """a: (Ba, M, K) or (Ba, K, M) if trans_a;  b: (Bb, K, N) or (Bb, N, K) if trans_b
    -> (max(Ba, Bb), M, N)"""
    batch_a, batch_b = a.shape[0], b.shape[0]
    m, k = (a.shape[2], a.shape[1]) if trans_a else (a.shape[1], a.shape[2])
    n = b.shape[1] if trans_b else b.shape[2]
    batch = 0 if 0 in (batch_a, batch_b) else max(batch_a, batch_b)
    cupy, gpu = _on_device_of(a)
    with gpu:
        c = cupy.empty((batch, m, n), dtype=a.dtype)
        if c.size:
            _run("matmul", a, a, b, c, batch_a, batch_b, m, n, k, bool(trans_a), bool(trans_b))
    return c


# ---------------------------------------------------------------------------------------------
# Softmax family: (rows, cols) -> (rows, cols)

def _rowwise_forward(name, x):
    cupy, gpu = _on_device_of(x)
    with gpu:
        y = cupy.empty_like(x)
        if x.size:
            _run(name, x, x, y, x.shape[0], x.shape[1])
    return y


def _rowwise_backward(name, grad_out, y):
    cupy, gpu = _on_device_of(y)
    with gpu:
        grad_x = cupy.empty_like(y)
        if y.size:
            _run(name, y, grad_out, y, grad_x, y.shape[0], y.shape[1])
    return grad_x


def softmax_forward(x):
    return _rowwise_forward("softmax_forward", x)


def softmax_backward(grad_out, y):
    return _rowwise_backward("softmax_backward", grad_out, y)


def log_softmax_forward(x):
    return _rowwise_forward("log_softmax_forward", x)


def log_softmax_backward(grad_out, y):
    return _rowwise_backward("log_softmax_backward", grad_out, y)


# ---------------------------------------------------------------------------------------------
# Pooling: x (N, C, H, W) -> y (N, C, OH, OW)

def _pool_output(x_shape, kernel, stride, padding, dilation, ceil_mode):
    return tuple(reference.pool_output_size(size, k, s, p, d, ceil_mode)
                 for size, k, s, p, d in zip(x_shape[2:], kernel, stride, padding, dilation))


def max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode=False):
    out = _pool_output(x.shape, kernel, stride, padding, dilation, ceil_mode)
    cupy, gpu = _on_device_of(x)
    with gpu:
        y = cupy.empty(x.shape[:2] + out, dtype=x.dtype)
        indices = cupy.empty(y.shape, dtype=cupy.int64)
        if x.size:
            _run("max_pool2d_forward", x, x, y, indices, x.shape, kernel, stride, padding, dilation,
                 bool(ceil_mode))
    return y, indices


def max_pool2d_backward(grad_out, indices, input_shape):
    cupy, gpu = _on_device_of(grad_out)
    with gpu:
        grad_x = cupy.empty(tuple(input_shape), dtype=grad_out.dtype)
        if grad_x.size:
            _run("max_pool2d_backward", grad_out, grad_out, indices, grad_x, tuple(input_shape),
                 tuple(grad_out.shape[2:]))
    return grad_x


def avg_pool2d_forward(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True):
    out = _pool_output(x.shape, kernel, stride, padding, (1, 1), ceil_mode)
    cupy, gpu = _on_device_of(x)
    with gpu:
        y = cupy.empty(x.shape[:2] + out, dtype=x.dtype)
        if x.size:
            _run("avg_pool2d_forward", x, x, y, x.shape, kernel, stride, padding, bool(ceil_mode),
                 bool(count_include_pad))
    return y


def avg_pool2d_backward(grad_out, input_shape, kernel, stride, padding, count_include_pad=True):
    cupy, gpu = _on_device_of(grad_out)
    with gpu:
        grad_x = cupy.empty(tuple(input_shape), dtype=grad_out.dtype)
        if grad_x.size:
            _run("avg_pool2d_backward", grad_out, grad_out, grad_x, tuple(input_shape),
                 tuple(grad_out.shape[2:]), kernel, stride, padding, bool(count_include_pad))
    return grad_x


# ---------------------------------------------------------------------------------------------
# conv2d: x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), y (N, C_out, OH, OW)

def _conv_output(x_shape, w_shape, stride, padding, dilation):
    return tuple(reference.conv2d_output_size(size, k, s, p, d)
                 for size, k, s, p, d in zip(x_shape[2:], w_shape[2:], stride, padding, dilation))


def conv2d_forward(x, weight, stride, padding, dilation, groups):
    out = _conv_output(x.shape, weight.shape, stride, padding, dilation)
    cupy, gpu = _on_device_of(x)
    with gpu:
        y = cupy.empty((x.shape[0], weight.shape[0]) + out, dtype=x.dtype)
        if y.size:
            _run("conv2d_forward", x, x, weight, y, x.shape, weight.shape, stride, padding, dilation,
                 groups)
    return y


def conv2d_backward_input(grad_out, weight, input_shape, stride, padding, dilation, groups):
    cupy, gpu = _on_device_of(grad_out)
    with gpu:
        grad_x = cupy.empty(tuple(input_shape), dtype=grad_out.dtype)
        if grad_x.size:
            _run("conv2d_backward_input", grad_out, grad_out, weight, grad_x, tuple(input_shape),
                 weight.shape, stride, padding, dilation, groups)
    return grad_x


def conv2d_backward_weight(grad_out, x, weight_shape, stride, padding, dilation, groups):
    cupy, gpu = _on_device_of(x)
    with gpu:
        grad_weight = cupy.empty(tuple(weight_shape), dtype=x.dtype)
        if grad_weight.size:
            _run("conv2d_backward_weight", x, grad_out, x, grad_weight, x.shape, tuple(weight_shape),
                 stride, padding, dilation, groups)
    return grad_weight
