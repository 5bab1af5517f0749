"""Devices: where a tensor's array lives, and which array library computes on it.

A CPU tensor holds a NumPy array, a CUDA tensor a CuPy array. This file is the one place that
chooses between the two libraries; everything above asks ``xp_for(device)`` or ``xp_of(array)``.
The default device comes from ``MINIDL_DEVICE`` (``cpu`` unless set) and can be changed with
``minidl.set_default_device``.
"""

import contextlib
import os
from typing import Any

import numpy

_KINDS = ("cpu", "cuda")


class Device:
    """``Device('cpu')``, ``Device('cuda')`` or ``Device('cuda:1')``; compares equal to its string."""

    __slots__ = ("type", "index")
    type: str  # 'cpu' or 'cuda'
    index: int | None  # the GPU's number; None for the cpu

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string like 'cpu' or 'cuda', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in _KINDS:
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        if idx:
            if not idx.isdigit():
                raise ValueError(f"bad device index in {spec!r}: expected 'cuda:N'")
            index = int(idx)
        if kind == "cpu" and index not in (None, 0):
            raise ValueError(f"the cpu device has no index, got {spec!r}")
        self.type = kind
        self.index = (index or 0) if kind == "cuda" else None

    def __eq__(self, other):
        if isinstance(other, str):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


# ---------------------------------------------------------------------------------------------
# CUDA availability: CuPy must import and see a GPU. The reason for a "no" is kept for messages.

_cupy: Any = None  # the cupy module once CUDA is found usable (untyped)
_cuda_reason = None


def _probe_cuda():
    global _cupy, _cuda_reason
    if _cupy is not None or _cuda_reason is not None:
        return
    try:
        import cupy
    except ImportError:
        _cuda_reason = "CuPy is not installed (pip install 'minidl[cuda]')"
        return
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CuPy raises its own CUDARuntimeError when there is no driver
        _cuda_reason = f"no GPU: CuPy could not reach a CUDA device ({err})"
        return
    if count == 0:
        _cuda_reason = "no GPU: CuPy found no CUDA device"
        return
    _cupy = cupy


def cuda_is_available():
    """True when CuPy is installed and at least one CUDA device is visible."""
    _probe_cuda()
    return _cupy is not None


def cuda_unavailable_reason():
    """Why CUDA cannot be used ('' when it can)."""
    _probe_cuda()
    return _cuda_reason or ""


def xp_for(device):
    """The array library (numpy or cupy) that computes on ``device``."""
    device = Device(device)
    if device.type == "cpu":
        return numpy
    if not cuda_is_available():
        raise RuntimeError(f"cannot use device '{device}': {cuda_unavailable_reason()}")
    return _cupy


def xp_of(array):
    """The array library that owns ``array``: numpy for NumPy arrays, cupy for CuPy arrays."""
    # The CuPy type is tested first: whatever is a CuPy array computes on the GPU, even an array
    # type that also passes isinstance(array, numpy.ndarray) (as test doubles may).
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return numpy


_CPU = Device("cpu")  # one instance, handed out for every NumPy array (devices are never changed)


def device_of(array):
    """The Device that holds ``array``."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return Device("cuda", array.device.id)
    return _CPU


def on_device(device):
    """A context manager that makes ``device`` CuPy's current GPU for the block (nothing for the
    CPU). CuPy allocates every new array, and launches every kernel, on the *current* GPU, not on
    the GPU of the operands; code that works on tensors of ``cuda:1`` must run inside
    ``with on_device('cuda:1'):``."""
    device = Device(device)
    if device.type == "cpu":
        return contextlib.nullcontext()
    return xp_for(device).cuda.Device(device.index)


_NO_SCOPE = contextlib.nullcontext()


def on_device_of(array):
    """``on_device(device_of(array))``, quick for NumPy arrays: the autograd code wraps every op
    and every backward step in it, so a CPU tensor must pay next to nothing."""
    if type(array) is numpy.ndarray:
        return _NO_SCOPE
    return on_device(device_of(array))


def to_device(array, device):
    """A copy of ``array`` on ``device`` (the same array when it is already there)."""
    device = Device(device)
    source = device_of(array)
    if source == device:
        return array
    if device.type == "cpu":
        return _cupy.asnumpy(array)
    xp = xp_for(device)
    if device.index >= xp.cuda.runtime.getDeviceCount():
        raise RuntimeError(
            f"cannot use device '{device}': CuPy sees {xp.cuda.runtime.getDeviceCount()} "
            f"GPU(s), numbered from 0"
        )
    with xp.cuda.Device(device.index):
        if source.type == "cuda":
            # cupy.asarray would hand back the same array, still on its own GPU; copy() copies to
            # the current one, from any GPU.
            return array.copy()
        return xp.asarray(array)


# ---------------------------------------------------------------------------------------------
# The default device


def _initial_device():
    spec = os.environ.get("MINIDL_DEVICE", "cpu").strip() or "cpu"
    try:
        return Device(spec)
    except ValueError as err:
        raise ValueError(f"MINIDL_DEVICE: {err}") from None


_default_device = _initial_device()


def get_default_device():
    """The device new tensors are created on when none is given."""
    return _default_device


def set_default_device(device):
    """Create new tensors on ``device`` ('cpu' or 'cuda') from now on."""
    global _default_device
    device = Device(device)
    if device.type == "cuda":
        xp_for(device)  # fail now, with the reason, rather than at the first tensor
    _default_device = device
