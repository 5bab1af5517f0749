"""``minidl doctor``: what this installation was built with and what it can use.

The first thing to run when something is slow or missing: it says whether the C++ and CUDA modules
were built and load (and if not, why), which SIMD micro-kernel and how many threads the CPU
kernels use, and whether a GPU is usable. It never raises: every probe that fails is reported as
a line of the report instead.
"""

import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable
from typing import Any, TextIO

from . import backend
from ._version import __version__

OPENMP_ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_THREAD_LIMIT")


def _distribution_version(*names: str) -> str | None:
    """The installed version of the first distribution found among ``names``, else None."""
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _cupy_version() -> str | None:
    # CuPy ships as one wheel per CUDA major version; ask for them by name rather than importing
    # cupy, which can take seconds and print warnings on a machine without a driver.
    return _distribution_version("cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x", "cupy")


def _cupy_gpus() -> list[str]:
    """'cuda:N NAME (M GiB)' for each GPU that CuPy sees."""
    runtime = backend.xp_for("cuda").cuda.runtime
    gpus = []
    for i in range(runtime.getDeviceCount()):
        props = runtime.getDeviceProperties(i)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        gpus.append(f"cuda:{i} {name} ({props['totalGlobalMem'] / 2**30:.0f} GiB)")
    return gpus


def _probe(facts: dict[str, Any], key: str, fn: Callable[[], Any]) -> None:
    """facts[key] = fn(), or the error it raised, as text."""
    try:
        facts[key] = fn()
    except Exception as err:  # a report, not a failure: say what went wrong and carry on
        facts[key] = f"error: {type(err).__name__}: {err}"


def _collect() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "minidl": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": _distribution_version("numpy"),
    }

    # The C++ kernels: minidl._C
    cpu = backend.native.cpu_module()
    facts["_C"] = "loaded" if cpu is not None else "not available"
    facts["_C_error"] = backend.native.load_error("_C")
    if cpu is not None:
        _probe(facts, "simd", cpu.simd)
        _probe(facts, "build_info", cpu.build_info)
        _probe(facts, "openmp", cpu.openmp_enabled)
    else:
        facts.update(simd=None, build_info=None, openmp=None)
    _probe(facts, "threads", backend.get_num_threads)
    # The OpenMP settings that change speed the most: thread count, and how idle threads wait
    # (spinning threads help on an idle machine and hurt badly on a busy one).
    facts["openmp_env"] = {name: os.environ[name] for name in OPENMP_ENV if name in os.environ}

    # The CUDA kernels: minidl._C_cuda. It links the CUDA runtime statically, so it loads even
    # without a GPU and then reports 0 devices with the runtime's reason.
    cuda_module = backend.native.cuda_module()
    facts["_C_cuda"] = "loaded" if cuda_module is not None else "not available"
    facts["_C_cuda_error"] = backend.native.load_error("_C_cuda")
    facts["cuda_device_count"] = None
    facts["cuda_devices"] = []
    facts["cuda_runtime"] = None
    facts["cuda_no_gpu_reason"] = None
    if cuda_module is not None:
        _probe(facts, "cuda_device_count", cuda_module.device_count)
        _probe(facts, "cuda_runtime", lambda: ".".join(map(str, cuda_module.runtime_version())))
        _probe(facts, "cuda_no_gpu_reason", cuda_module.no_gpu_reason)
        if isinstance(facts["cuda_device_count"], int):
            _probe(
                facts,
                "cuda_devices",
                lambda: [cuda_module.device_name(i) for i in range(facts["cuda_device_count"])],
            )

    # What tensors can use: CuPy and a GPU it can see.
    facts["cupy"] = _cupy_version()
    _probe(facts, "cuda_available", backend.cuda_is_available)
    _probe(facts, "cuda_unavailable_reason", backend.cuda_unavailable_reason)
    facts["gpus"] = []
    if facts["cuda_available"] is True:
        # The GPUs as CuPy sees them: what tensors with device='cuda:N' will use, named even when
        # minidl._C_cuda was not built.
        _probe(facts, "gpus", _cupy_gpus)

    _probe(facts, "default_device", lambda: str(backend.get_default_device()))
    _probe(facts, "kernels", backend.get_kernels)
    _probe(facts, "active_kernels", backend.active_kernels)
    return facts


def _report(facts: dict[str, Any]) -> list[str]:
    """The facts as the lines doctor() prints."""

    def loaded(name: str) -> str:
        error = facts[f"{name}_error"]
        return "loaded" if facts[name] == "loaded" else f"NOT AVAILABLE ({error})"

    if facts["_C"] == "loaded":
        cpu = [
            f"  simd micro-kernel : {facts['simd']}",
            f"  build             : {facts['build_info']}",
            f"  OpenMP            : {facts['openmp']}",
        ]
    else:
        cpu = ["  (the NumPy reference kernels run instead; build with: pip install -e .)"]

    if facts["cuda_available"] is True:
        gpus = facts["gpus"] if isinstance(facts["gpus"], list) else [str(facts["gpus"])]
        gpu = f"yes: {', '.join(gpus or facts['cuda_devices']) or 'a CUDA device'}"
    else:
        gpu = f"no ({facts['cuda_unavailable_reason']})"
    if facts["_C_cuda"] == "loaded":
        count = facts["cuda_device_count"]
        if facts["cuda_devices"]:
            devices = f"{count} ({', '.join(facts['cuda_devices'])})"
        elif count == 0:
            devices = f"0 ({facts['cuda_no_gpu_reason']})"
        else:
            devices = str(count)
        cuda = [f"  CUDA runtime      : {facts['cuda_runtime']}", f"  devices           : {devices}"]
    else:
        cuda = []

    threads = str(facts["threads"])
    if facts["openmp_env"]:
        threads += " (" + ", ".join(f"{k}={v}" for k, v in facts["openmp_env"].items()) + ")"

    return [
        f"minidl {facts['minidl']}",
        f"  Python            : {facts['python']} ({facts['platform']})",
        f"  NumPy             : {facts['numpy']}",
        f"C++ kernels (minidl._C)      : {loaded('_C')}",
        *cpu,
        f"  threads           : {threads}",
        f"CUDA kernels (minidl._C_cuda): {loaded('_C_cuda')}",
        *cuda,
        f"CuPy                         : {facts['cupy'] or 'not installed'}",
        f"GPU usable                   : {gpu}",
        f"default device               : {facts['default_device']}",
        f"kernels                      : {facts['kernels']} (CPU runs {facts['active_kernels']})",
    ]


def doctor(file: TextIO | None = None) -> dict[str, Any]:
    """Print what minidl was built with and can use; return the same facts as a dict.

    ``file``: where to print (default ``sys.stdout``).
    """
    facts = _collect()
    out = sys.stdout if file is None else file
    for line in _report(facts):
        print(line, file=out)
    return facts
