"""``minidl.cuda``: is there a usable GPU?"""

from .backend import device as _device


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA device."""
    return _device.cuda_is_available()


def unavailable_reason() -> str:
    """Why CUDA cannot be used ('' when it can)."""
    return _device.cuda_unavailable_reason()


def device_count() -> int:
    if not is_available():
        return 0
    return int(_device.xp_for("cuda").cuda.runtime.getDeviceCount())


def synchronize() -> None:
    """Wait until all work queued on the current GPU has finished (``torch.cuda.synchronize``).

    GPU operations return as soon as they are queued, so a timer read right after one measures
    the queueing, not the work; time GPU code with a ``synchronize()`` before reading the clock.
    Raises the reason when no GPU is usable.
    """
    _device.xp_for("cuda").cuda.Device().synchronize()
