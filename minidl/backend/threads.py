"""How many CPU threads the native kernels use (OpenMP), following OMP_NUM_THREADS by default."""

from . import native


def get_num_threads():
    """Threads the native CPU kernels run on (1 when minidl._C was built without OpenMP or not built)."""
    module = native.cpu_module()
    return module.get_num_threads() if module is not None else 1


def set_num_threads(n):
    """Run the native CPU kernels on ``n`` threads."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    module = native.cpu_module()
    if module is not None:
        module.set_num_threads(n)
