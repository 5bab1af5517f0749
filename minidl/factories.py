"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``randn``, ``rand``, ...

Each takes ``dtype=``, ``device=`` and ``requires_grad=`` as in PyTorch. Floating results default
to ``get_default_dtype()`` (float32); the device defaults to ``get_default_device()``.
"""
import numpy

from . import random as _random
from .autograd import dtypes
from .autograd.tensor import Tensor
from .backend import device as _device


def _size(size, op):
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        shape = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: size must be ints, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in size {shape}")
    return shape


def _finish(array, dtype, device, requires_grad):
    """Cast, move, wrap: the last step of every factory."""
    if dtype is not None:
        array = array.astype(numpy.dtype(dtype), copy=False)
    array = _device.to_device(array, _device.Device(device) if device is not None else _device.get_default_device())
    t = Tensor._make(array)
    t.requires_grad = requires_grad
    return t


def _float(dtype):
    return numpy.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor).

    Arrays keep their dtype; Python floats get the default dtype, Python ints int64.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def from_numpy(array):
    """A CPU tensor sharing memory with a NumPy array (no copy)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _finish(numpy.zeros(_size(size, "zeros"), _float(dtype)), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _finish(numpy.ones(_size(size, "ones"), _float(dtype)), None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        kind = numpy.asarray(fill_value).dtype.kind
        dtype = {"b": dtypes.bool_, "i": dtypes.int64, "u": dtypes.int64}.get(kind, dtypes.get_default_dtype())
    return _finish(numpy.full(_size((size,), "full"), fill_value, numpy.dtype(dtype)), None, device,
                   requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(numpy.eye(n, m, dtype=_float(dtype)), None, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """``arange(5)`` is [0, 1, 2, 3, 4] (int64); a float bound gives the default float dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if floats else dtypes.int64
    return _finish(numpy.arange(start, end, step, dtype=numpy.dtype(dtype)), None, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _finish(numpy.linspace(start, end, steps, dtype=_float(dtype)), None, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Samples from the standard normal distribution."""
    shape = _size(size, "randn")
    return _finish(_random.generator().standard_normal(shape).astype(_float(dtype)), None, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Samples from the uniform distribution on [0, 1)."""
    shape = _size(size, "rand")
    return _finish(_random.generator().random(shape).astype(_float(dtype)), None, device, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None):
    """Random integers in [low, high) (int64)."""
    if high is None:
        low, high = 0, low
    shape = _size((size,), "randint")
    return _finish(_random.generator().integers(low, high, shape), dtype or dtypes.int64, device, False)


def randperm(n, device=None):
    return _finish(_random.generator().permutation(n).astype(numpy.int64), None, device, False)


def _like(x, fill, dtype, device, requires_grad):
    dtype = numpy.dtype(dtype) if dtype is not None else x.dtype
    xp = _device.xp_of(x.data)
    array = xp.full(x.shape, fill, dtype=dtype)
    return _finish(array, None, device if device is not None else x.device, requires_grad)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    return _like(x, 0, dtype, device, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    return _like(x, 1, dtype, device, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(x, fill_value, dtype, device, requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad=False):
    return randn(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def rand_like(x, dtype=None, device=None, requires_grad=False):
    return rand(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)
