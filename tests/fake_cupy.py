"""A fake ``cupy`` (and ``cupyx``) built on NumPy: a test double, not a GPU.

Why it exists: the machines that run CI have no GPU and no CuPy, so without it the device code
of minidl (``.to('cuda')``, ``xp_of``, every op on a CUDA tensor) would never run before it meets
a real GPU. ``tests/fake_gpu.py`` installs it as ``sys.modules['cupy']``.

What it mimics, because these are the ways our code can go wrong with real CuPy:

- ``ndarray`` is NOT a ``numpy.ndarray`` (real CuPy's is not either): ``isinstance(a,
  numpy.ndarray)`` is False, and a code path that forgets the GPU case takes the wrong branch.
  (A NumPy subclass would pass those checks and be silently converted by ``numpy.asarray``, hiding
  exactly the bugs this double is for.) It wraps a NumPy array and a device id: ``a.device.id``,
  ``a.data.ptr`` (the buffer's address), ``a.get()`` (a NumPy copy).
- Implicit conversion is refused: ``numpy.asarray(a)``/``numpy.array(a)`` raise TypeError with
  CuPy's message, and so does any NumPy function or ufunc called on a fake array
  (``numpy.exp(a)``, ``numpy.concatenate([a, b])``). Real CuPy forwards the NumPy functions it
  implements (NEP 13/18); the double refuses them all, so minidl must go through ``xp_of(array)``
  as the design says, and code that passes here does not depend on which functions CuPy forwards.
- Mixing a fake array with a NumPy array in one operation (``a + numpy_array``, ``cupy.add``,
  ``cupy.stack``, ``a[...] = numpy_array``) raises TypeError, as CuPy's "Unsupported type" does.
  Python and NumPy scalars are fine; NumPy arrays used as indices are converted, as in CuPy.
- Reductions and integer indexing return 0-d arrays, never NumPy scalars.
- Two devices. New arrays go on the *current* device (``with cupy.cuda.Device(1):``); a computing
  operation whose operands live on another device raises ValueError, as CuPy does without peer
  access. Views (reshape, transpose, basic slicing) keep their base's device. ``cupy.asarray(a)``
  of an array on another device returns ``a`` itself (no move), as CuPy's does; ``a.copy()`` copies
  to the current device.
- ``cupy.cuda``: ``runtime.getDeviceCount()`` (settable to raise or return 0),
  ``runtime.getDeviceProperties``, ``Device(i)`` (a context manager with ``.id``, ``.use()``,
  ``.synchronize()``), ``get_current_stream()`` (``.ptr``), ``Stream``; ``cupyx.scatter_add`` and
  ``cupyx.scipy.special.erf``.

What it cannot do: run anything asynchronously (stream-ordering bugs stay invisible), keep device
memory apart from host memory (``.data.ptr`` is a host address: it must never reach
``minidl._C_cuda``, which the fixture switches off), reproduce CuPy's own numerics (it computes
with NumPy, so results match the CPU bit for bit where the GPU would differ in the last places),
model peer access (it is always unavailable), or offer CuPy functions that NumPy lacks. Module
functions are NumPy's, forwarded by name, so a name CuPy lacks would pass here and fail there.
"""

import itertools
import math
import operator
import sys
import types

import numpy

__version__ = "0.0.0+fake"

DEVICE_COUNT = 2


class _State:
    """Mutable module state, reset by ``reset()``: the current device and what the runtime reports."""

    def __init__(self):
        self.current = 0
        self.device_count = DEVICE_COUNT  # an int, or an exception instance to raise


_state = _State()
_stream_ids = itertools.count(0x7F00)


def reset():
    global _state
    _state = _State()


# ---------------------------------------------------------------------------------------------
# cupy.cuda


class CUDARuntimeError(RuntimeError):
    pass


class _Runtime:
    CUDARuntimeError = CUDARuntimeError

    @staticmethod
    def getDeviceCount():
        if isinstance(_state.device_count, BaseException):
            raise _state.device_count
        return _state.device_count

    @staticmethod
    def getDevice():
        return _state.current

    @staticmethod
    def getDeviceProperties(i):
        _check_device_id(i)
        return {
            "name": f"Fake GPU {i}".encode(),
            "totalGlobalMem": 80 * 2**30,
            "major": 9,
            "minor": 0,
            "multiProcessorCount": 132,
        }

    @staticmethod
    def runtimeGetVersion():
        return 12040

    @staticmethod
    def deviceSynchronize():
        pass


def _check_device_id(i):
    count = _Runtime.getDeviceCount()
    if not isinstance(i, int) or not 0 <= i < count:
        raise CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {i!r}")


class Device:
    """``cupy.cuda.Device(i)``: ``with Device(1): ...`` makes device 1 current for the block."""

    def __init__(self, device=None):
        if device is None:
            device = _state.current
        device = int(device)
        _check_device_id(device)
        self.id = device
        self._previous = []

    def __enter__(self):
        self._previous.append(_state.current)
        _state.current = self.id
        return self

    def __exit__(self, *exc):
        _state.current = self._previous.pop()
        return False

    def use(self):
        _state.current = self.id

    def synchronize(self):
        pass  # everything here finished when it returned

    @property
    def compute_capability(self):
        return "90"

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    def __init__(self, null=False, non_blocking=False):
        self.ptr = 0 if null else next(_stream_ids)
        self.device_id = _state.current

    def synchronize(self):
        pass

    def use(self):
        _state.stream = self
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _MemoryPointer:
    def __init__(self, ptr, device_id):
        self.ptr = ptr
        self.device_id = device_id


def get_current_stream():
    return getattr(_state, "stream", None) or Stream(null=True)


def get_device_id():
    return _state.current


cuda = types.SimpleNamespace(
    runtime=_Runtime,
    Device=Device,
    Stream=Stream,
    get_current_stream=get_current_stream,
    get_device_id=get_device_id,
    CUDARuntimeError=CUDARuntimeError,
    is_available=lambda: _safe_count() > 0,
)


def _safe_count():
    try:
        return _Runtime.getDeviceCount()
    except Exception:
        return 0


# ---------------------------------------------------------------------------------------------
# Conversions between the double and NumPy, with CuPy's refusals


def _refuse_numpy_array(value):
    raise TypeError(
        f"Unsupported type {type(value)} (fake cupy: a NumPy array mixed with CuPy arrays "
        f"in one operation; move it with cupy.asarray first)"
    )


def _check_here(array):
    if array._dev != _state.current:
        raise ValueError(
            f"The device where the array resides ({array._dev}) is different from the "
            f"current device ({_state.current}). Peer access is unavailable between these "
            f"devices."
        )


def _unwrap(value, allow_host=False):
    """The NumPy data of ``value`` (recursing into lists and tuples), refusing host arrays and
    arrays on another device."""
    if isinstance(value, ndarray):
        _check_here(value)
        return value._a
    if isinstance(value, numpy.ndarray) and not allow_host:
        _refuse_numpy_array(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, allow_host) for v in value)
    return value


def _wrap(value, inputs=(), dev=None):
    """A result of NumPy as the double: arrays (and NumPy scalars, as 0-d arrays) on ``dev``
    (default: the current device). An input returned unchanged keeps its wrapper."""
    if isinstance(value, numpy.ndarray):
        for w in inputs:
            if isinstance(w, ndarray) and w._a is value:
                return w
        return ndarray._from(value, _state.current if dev is None else dev)
    if isinstance(value, numpy.generic):
        return ndarray._from(numpy.asarray(value), _state.current if dev is None else dev)
    if isinstance(value, tuple):
        return tuple(_wrap(v, inputs, dev) for v in value)
    if isinstance(value, list):
        return [_wrap(v, inputs, dev) for v in value]
    return value


def _flat_inputs(args, kwargs):
    out = []
    for v in itertools.chain(args, kwargs.values()):
        if isinstance(v, (list, tuple)):
            out.extend(v)
        else:
            out.append(v)
    return out


def _call(fn, *args, **kwargs):
    """Run the NumPy function ``fn`` as a CuPy function would: on the current device."""
    result = fn(*_unwrap(args), **{key: _unwrap(v) for key, v in kwargs.items()})
    return _wrap(result, _flat_inputs(args, kwargs))


# ---------------------------------------------------------------------------------------------
# ndarray

_VIEW_METHODS = {"reshape", "view", "transpose", "swapaxes", "squeeze", "diagonal"}
_PYTHON_VALUE_METHODS = {"item", "tolist"}


class ndarray:
    """An array "on a GPU": a NumPy array and the id of the device it lives on."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100  # CuPy's: a Tensor's higher priority makes `array + tensor` defer

    @classmethod
    def _from(cls, array, dev):
        self = object.__new__(cls)
        self._a = array
        self._dev = dev
        return self

    def __init__(self, shape, dtype=float):
        self._a = numpy.empty(shape, dtype)
        self._dev = _state.current

    # -- CuPy's own surface ---------------------------------------------------------------------

    @property
    def device(self):
        d = object.__new__(Device)
        d.id, d._previous = self._dev, []
        return d

    @property
    def data(self):
        return _MemoryPointer(self._a.__array_interface__["data"][0], self._dev)

    def get(self, stream=None, order="C", out=None):
        return numpy.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        self._a[...] = arr

    def copy(self, order="C"):
        # CuPy's copy goes to the *current* device, from any device
        return ndarray._from(self._a.copy(order=order), _state.current)

    # -- refusing NumPy -------------------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
            "construct a NumPy array explicitly."
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(
            f"fake cupy: numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method} "
            f"called on a CuPy array; use the array's own library (xp_of(array)) or "
            f"move it to the host with cupy.asnumpy"
        )

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(
            f"fake cupy: numpy.{func.__name__} called on a CuPy array; use the array's own "
            f"library (xp_of(array)) or move it to the host with cupy.asnumpy"
        )

    # -- attributes and methods, forwarded -----------------------------------------------------

    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray._from(self._a.T, self._dev))
    mT = property(lambda self: ndarray._from(self._a.swapaxes(-1, -2), self._dev))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr, (self,), self._dev) if isinstance(attr, numpy.ndarray) else attr
        if name in _VIEW_METHODS:  # no kernel runs: any current device will do
            return lambda *a, **k: ndarray._from(attr(*a, **k), self._dev)
        if name in _PYTHON_VALUE_METHODS:
            return attr

        def method(*args, **kwargs):  # a kernel runs: on the current device, which must hold self
            _check_here(self)
            result = attr(*_unwrap(args), **{key: _unwrap(v) for key, v in kwargs.items()})
            return _wrap(result, [self] + _flat_inputs(args, kwargs))

        return method

    def astype(self, dtype, copy=True, **kwargs):
        if not copy and numpy.dtype(dtype) == self.dtype:
            return self
        _check_here(self)
        return ndarray._from(self._a.astype(dtype, copy=True, **kwargs), _state.current)

    def fill(self, value):
        if isinstance(value, numpy.ndarray) and value.shape != ():
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        self._a.fill(value)

    # -- Python protocol -------------------------------------------------------------------------

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return f"{self._a!r} <fake cuda:{self._dev}>"

    __str__ = lambda self: str(self._a)  # noqa: E731

    def __reduce__(self):
        raise TypeError("fake cupy: pickling a CuPy array is not supported by this double")

    def __getitem__(self, key):
        if _is_basic(key):
            return ndarray._from(self._a[key], self._dev)
        _check_here(self)
        return _wrap(self._a[_index(key)], (self,))

    def __setitem__(self, key, value):
        _check_here(self)
        if isinstance(value, numpy.ndarray) and value.shape != ():
            _refuse_numpy_array(value)
        self._a[_index(key)] = _unwrap(value, allow_host=True)

    def __dlpack__(self, *a, **k):
        raise TypeError("fake cupy: no DLPack")


def _is_basic(key):
    keys = key if isinstance(key, tuple) else (key,)
    return all(
        k is None
        or k is Ellipsis
        or isinstance(k, slice)
        or (isinstance(k, (int, numpy.integer)) and not isinstance(k, (bool, numpy.bool_)))
        for k in keys
    )


def _index(key):
    """An index with fake arrays unwrapped; NumPy arrays and lists are allowed (CuPy copies them)."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, ndarray):
        _check_here(key)
        return key._a
    return key


def _defers(other):
    return (
        not isinstance(other, (ndarray, numpy.ndarray))
        and getattr(other, "__array_priority__", 0) > ndarray.__array_priority__
    )


def _binary(fn, reflected=False):
    def op(self, other):
        if _defers(other):
            return NotImplemented
        _check_here(self)
        if reflected:
            return _call(fn, other, self)
        return _call(fn, self, other)

    return op


def _inplace(fn):
    def op(self, other):
        _check_here(self)
        if isinstance(other, numpy.ndarray):
            _refuse_numpy_array(other)
        fn(self._a, _unwrap(other))  # NumPy's in-place op writes into self's buffer
        return self

    return op


for _name in (
    "add",
    "sub",
    "mul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "matmul",
    "and",
    "or",
    "xor",
    "lshift",
    "rshift",
):
    _fn = getattr(operator, _name if _name not in ("and", "or") else _name + "_")
    setattr(ndarray, f"__{_name}__", _binary(_fn))
    setattr(ndarray, f"__r{_name}__", _binary(_fn, reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(getattr(operator, _name)))


def _unary(fn):
    def op(self):
        _check_here(self)
        return _call(fn, self)

    return op


for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", _unary(getattr(operator, _name)))
ndarray.__hash__ = None


# ---------------------------------------------------------------------------------------------
# Module functions: NumPy's, run on the current device


def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray):  # already on a GPU: returned as is, on whichever device it is
        return a if dtype is None or numpy.dtype(dtype) == a.dtype else a.astype(dtype)
    return ndarray._from(numpy.array(a, dtype=dtype, order=order or "K", copy=True), _state.current)


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    if isinstance(obj, ndarray):
        if not copy:
            return asarray(obj, dtype)
        out = obj.copy()
        return out if dtype is None else out.astype(dtype, copy=False)
    return ndarray._from(numpy.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin), _state.current)


def asnumpy(a, stream=None, order="C", out=None):
    if isinstance(a, ndarray):
        return a.get(order=order)
    return numpy.asarray(a, order=order)


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got {type(a).__name__})")
    _check_here(a)
    if a.flags.c_contiguous and (dtype is None or numpy.dtype(dtype) == a.dtype):
        return a
    return ndarray._from(numpy.ascontiguousarray(a._a, dtype=dtype), _state.current)


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else numpy


def _forwarded(numpy_namespace):
    def get(name):
        attr = getattr(numpy_namespace, name)
        if isinstance(attr, type) or not callable(attr):  # dtypes, constants, classes
            return attr
        return lambda *args, **kwargs: _call(attr, *args, **kwargs)

    return get


random = types.ModuleType("cupy.random")
random.__getattr__ = _forwarded(numpy.random)
linalg = types.ModuleType("cupy.linalg")
linalg.__getattr__ = _forwarded(numpy.linalg)
_numpy_names = _forwarded(numpy)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _numpy_names(name)


# ---------------------------------------------------------------------------------------------
# cupyx


def scatter_add(a, slices, value):
    _check_here(a)
    numpy.add.at(a._a, _index(slices), _unwrap(value))


def _erf(x):
    _check_here(x)
    try:
        from scipy.special import erf as scipy_erf

        return ndarray._from(scipy_erf(x._a).astype(x.dtype, copy=False), _state.current)
    except ImportError:
        out = numpy.frompyfunc(math.erf, 1, 1)(x._a).astype(x.dtype)
        return ndarray._from(out, _state.current)


def cupyx_modules():
    """``cupyx``, ``cupyx.scipy``, ``cupyx.scipy.special``: the parts minidl uses."""
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = _erf
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special = special
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = scatter_add
    cupyx.scipy = scipy
    return {"cupyx": cupyx, "cupyx.scipy": scipy, "cupyx.scipy.special": special}
