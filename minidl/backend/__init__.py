"""The backend: the only Python code that chooses between NumPy and CuPy or calls _C/_C_cuda."""

from . import kernels, native, reference
from .device import (
    Device,
    cuda_is_available,
    cuda_unavailable_reason,
    device_of,
    get_default_device,
    set_default_device,
    to_device,
    xp_for,
    xp_of,
)
from .kernels import active_kernels, get_kernels, set_kernels, use_kernels
from .memory import keep_freed_memory
from .threads import get_num_threads, set_num_threads

keep_freed_memory()  # once, when minidl is imported: see memory.py
