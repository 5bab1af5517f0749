"""Loading the compiled modules ``minidl._C`` (C++) and ``minidl._C_cuda`` (CUDA).

Either may be missing: ``_C`` when the package runs from a source tree that was never built,
``_C_cuda`` whenever the build machine had no CUDA compiler. A failed import is remembered, not
raised, so that ``minidl.doctor()`` can say *why* a module is missing and the dispatcher can fall
back to the NumPy reference kernels.
"""
import importlib

_modules = {}
_errors = {}


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
