"""Fixtures that put minidl on the fake GPU of ``tests/fake_cupy.py`` (no GPU or CuPy needed).

``fake_gpu`` installs the double as ``cupy``/``cupyx``, forgets what minidl's device module had
probed (it caches whether CuPy imported and why not), starts from the CPU default device, and
sends CUDA arrays to the reference kernels: ``minidl._C_cuda`` may be built here, and it must
never receive a fake array's pointer, which is host memory. Everything is undone afterwards.

``no_gpu`` is the same with CuPy importable but the runtime failing (``count`` is 0 or an
exception), to test the "no GPU" messages.
"""

import sys

import pytest

import minidl
from minidl.backend import device as _device
from minidl.backend import native

import fake_cupy


def _install(monkeypatch, count):
    fake_cupy.reset()
    fake_cupy._state.device_count = count
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    for name, module in fake_cupy.cupyx_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(_device, "_cupy", None)  # probe again, now finding the fake
    monkeypatch.setattr(_device, "_cuda_reason", None)
    monkeypatch.setattr(_device, "_default_device", _device.Device("cpu"))
    monkeypatch.setattr(native, "cuda_module", lambda: None)
    monkeypatch.delenv("MINIDL_DEVICE", raising=False)
    return fake_cupy


@pytest.fixture
def fake_gpu(monkeypatch):
    """minidl with two fake CUDA devices; yields the fake ``cupy`` module."""
    cupy = _install(monkeypatch, fake_cupy.DEVICE_COUNT)
    assert minidl.cuda.is_available(), minidl.cuda.unavailable_reason()
    yield cupy
    fake_cupy.reset()


@pytest.fixture(params=["zero", "raises"])
def no_gpu(monkeypatch, request):
    """CuPy imports, but its runtime sees no GPU (0 devices, or an error as without a driver)."""
    count = (
        0
        if request.param == "zero"
        else fake_cupy.CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
    )
    yield _install(monkeypatch, count)
    fake_cupy.reset()


@pytest.fixture
def no_cupy(monkeypatch):
    """CuPy not importable (whether or not it is installed here), and no cached probe."""
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    monkeypatch.setattr(_device, "_cupy", None)
    monkeypatch.setattr(_device, "_cuda_reason", None)
    monkeypatch.setattr(_device, "_default_device", _device.Device("cpu"))
