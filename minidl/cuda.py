"""``minidl.cuda``: is there a usable GPU?"""
from .backend import device as _device


def is_available():
    """True when CuPy is installed and sees at least one CUDA device."""
    return _device.cuda_is_available()


def unavailable_reason():
    """Why CUDA cannot be used ('' when it can)."""
    return _device.cuda_unavailable_reason()


def device_count():
    if not is_available():
        return 0
    return _device.xp_for("cuda").cuda.runtime.getDeviceCount()
