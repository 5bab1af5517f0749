"""One function per kernel: check the arrays, then run the native kernel or its reference.

This is the gate between Python and C++/CUDA. Nothing reaches a pointer before it has been
checked here: dtype (float32 or float64, the same for every operand), dimensions, matching sizes,
and contiguity (made contiguous when it is not). A bad call raises a Python error that names the
kernel and the shapes, so no input can crash the process.

Which implementation runs is chosen per call:
- ``MINIDL_KERNELS`` (environment) or ``use_kernels(...)`` (context manager) picks the setting:
  ``auto`` (default: native when built, else reference), ``native`` (native or an error),
  ``reference`` (always the NumPy/CuPy code in ``reference.py``);
- the device of the arrays picks ``_C`` (CPU) or ``_C_cuda`` (GPU).
"""
import contextlib
import os

import numpy

from . import native, reference
from .device import device_of, xp_of

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
    """The function that runs kernel ``name`` for arrays living where ``array`` lives."""
    if _setting != "reference" and device_of(array).type == "cpu":
        module = native.cpu_module()
        if module is not None:
            return getattr(module, name)
    # CUDA arrays run on CuPy through the reference until minidl._C_cuda provides the kernel.
    return getattr(reference, name)


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


def _contiguous(a):
    return xp_of(a).ascontiguousarray(a)


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
