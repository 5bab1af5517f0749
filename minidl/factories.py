"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``randn``, ``rand``, ...

Each takes ``dtype=``, ``device=`` and ``requires_grad=`` as in PyTorch. Floating results default
to ``get_default_dtype()`` (float32); the device defaults to ``get_default_device()``.
"""

from collections.abc import Sequence
from typing import Any

import numpy
import numpy.typing

from . import random as _random
from .autograd import dtypes
from .autograd.tensor import Tensor
from .backend import device as _device

# What the public API accepts as a dtype (minidl.float32, numpy.float64, "float32") and as a
# device ("cpu", "cuda:1", minidl.device("cuda")); nn and optim take these names from here.
# None means the default (get_default_dtype(), get_default_device()).
DTypeLike = numpy.typing.DTypeLike | None
DeviceLike = str | _device.Device
# A shape given as `zeros(2, 3)` or `zeros((2, 3))`.
Size = int | Sequence[int]
Number = int | float | bool


def _size(size: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: size must be ints, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in size {shape}")
    return shape


def _finish(array: Any, dtype: DTypeLike, device: DeviceLike | None, requires_grad: bool) -> Tensor:
    """Cast, move, wrap: the last step of every factory."""
    if dtype is not None:
        array = array.astype(numpy.dtype(dtype), copy=False)
    array = _device.to_device(
        array, _device.Device(device) if device is not None else _device.get_default_device()
    )
    t = Tensor._make(array)
    t.requires_grad = requires_grad
    return t


def _float(dtype: DTypeLike) -> numpy.dtype[Any]:
    return numpy.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def tensor(
    data: Any, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor).

    Arrays keep their dtype; Python floats get the default dtype, Python ints int64.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (no copy)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(
    *size: Size, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return _finish(numpy.zeros(_size(size, "zeros"), _float(dtype)), None, device, requires_grad)


def ones(
    *size: Size, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return _finish(numpy.ones(_size(size, "ones"), _float(dtype)), None, device, requires_grad)


def empty(
    *size: Size, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(
    size: Size,
    fill_value: Number,
    dtype: DTypeLike = None,
    device: DeviceLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    if dtype is None:
        kind = numpy.asarray(fill_value).dtype.kind
        dtype = {"b": dtypes.bool_, "i": dtypes.int64, "u": dtypes.int64}.get(
            kind, dtypes.get_default_dtype()
        )
    return _finish(
        numpy.full(_size((size,), "full"), fill_value, numpy.dtype(dtype)), None, device, requires_grad
    )


def eye(
    n: int,
    m: int | None = None,
    dtype: DTypeLike = None,
    device: DeviceLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    return _finish(numpy.eye(n, m, dtype=_float(dtype)), None, device, requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: DTypeLike = None,
    device: DeviceLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``arange(5)`` is [0, 1, 2, 3, 4] (int64); a float bound gives the default float dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if floats else dtypes.int64
    return _finish(numpy.arange(start, end, step, dtype=numpy.dtype(dtype)), None, device, requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: DTypeLike = None,
    device: DeviceLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    As PyTorch computes them: the first half counted up from ``start``, the second half down from
    ``end`` (so both ends are exact), in the dtype itself for floats and in float64 for an integer
    dtype, whose values are then truncated toward zero (``linspace(-5, 10, 7, dtype=int64)`` is
    -5, -2, 0, 2, 5, 7, 10)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, numpy.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    out = _float(dtype)
    compute = out if out.kind == "f" else numpy.dtype(numpy.float64)
    first, last = compute.type(start), compute.type(end)
    i = numpy.arange(steps, dtype=compute)
    step = (last - first) / compute.type(max(steps - 1, 1))
    values = numpy.where(i < steps // 2, first + step * i, last - step * (compute.type(steps - 1) - i))
    if steps == 1:
        values[0] = first
    return _finish(values.astype(out), None, device, requires_grad)


def randn(
    *size: Size, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    """Samples from the standard normal distribution."""
    shape = _size(size, "randn")
    return _finish(
        _random.generator().standard_normal(shape).astype(_float(dtype)), None, device, requires_grad
    )


def rand(
    *size: Size, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    """Samples from the uniform distribution on [0, 1)."""
    shape = _size(size, "rand")
    return _finish(_random.generator().random(shape).astype(_float(dtype)), None, device, requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Size = (),
    dtype: DTypeLike = None,
    device: DeviceLike | None = None,
) -> Tensor:
    """Random integers in [low, high) (int64)."""
    if high is None:
        low, high = 0, low
    shape = _size((size,), "randint")
    return _finish(_random.generator().integers(low, high, shape), dtype or dtypes.int64, device, False)


def randperm(n: int, device: DeviceLike | None = None) -> Tensor:
    return _finish(_random.generator().permutation(n).astype(numpy.int64), None, device, False)


def _like(
    x: Tensor, fill: Number, dtype: DTypeLike, device: DeviceLike | None, requires_grad: bool
) -> Tensor:
    dtype = numpy.dtype(dtype) if dtype is not None else x.dtype
    xp = _device.xp_of(x.data)
    array = xp.full(x.shape, fill, dtype=dtype)
    return _finish(array, None, device if device is not None else x.device, requires_grad)


def zeros_like(
    x: Tensor, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return _like(x, 0, dtype, device, requires_grad)


def ones_like(
    x: Tensor, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return _like(x, 1, dtype, device, requires_grad)


def full_like(
    x: Tensor,
    fill_value: Number,
    dtype: DTypeLike = None,
    device: DeviceLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    return _like(x, fill_value, dtype, device, requires_grad)


def randn_like(
    x: Tensor, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return randn(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def rand_like(
    x: Tensor, dtype: DTypeLike = None, device: DeviceLike | None = None, requires_grad: bool = False
) -> Tensor:
    return rand(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)
