"""Loading the compiled modules ``minidl._C`` (C++) and ``minidl._C_cuda`` (CUDA).

Either may be missing: ``_C`` when the package runs from a source tree that was never built,
``_C_cuda`` whenever the build machine had no CUDA compiler. A failed import is remembered, not
raised, so that ``minidl.doctor()`` can say *why* a module is missing and the dispatcher can fall
back to the NumPy reference kernels.
"""

import importlib
import os
from typing import Any

# OpenMP's threads spin after each parallel region waiting for the next one (libgomp: 300,000
# spins by default). On a machine whose cores are busy with other work, a spinning thread takes
# the core its partner needs, and a 2-thread kernel of 20 microseconds was measured taking 8 ms.
# A short spin keeps back-to-back kernels fast and gives the core back quickly. It must be set
# before libgomp loads (with _C); a value the user set wins.
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

_modules: dict[str, Any] = {}  # name -> the loaded module
_errors: dict[str, str] = {}  # name -> why it did not load


def _load(name):
    if name not in _modules and name not in _errors:
        try:
            _modules[name] = importlib.import_module(f"minidl.{name}")
        except ImportError as err:  # not built, or built for another Python/CUDA
            _errors[name] = f"{type(err).__name__}: {err}"
    return _modules.get(name)


def cpu_module():
    """The pybind11 module ``minidl._C``, or None when it is not built."""
    return _load("_C")


def cuda_module():
    """The pybind11 module ``minidl._C_cuda``, or None when it is not built."""
    return _load("_C_cuda")


def load_error(name):
    """Why ``minidl.<name>`` failed to import, or None if it loaded (or was never tried)."""
    _load(name)
    return _errors.get(name)
