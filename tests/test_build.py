"""The build and its report: minidl._C / minidl._C_cuda load and describe themselves, and
`minidl doctor` tells the truth about them."""

import importlib.metadata
import io
import os
import subprocess
import sys

import pytest

import minidl
from minidl import backend
from minidl.backend import native
from minidl.doctor import doctor

C = native.cpu_module()
C_CUDA = native.cuda_module()
needs_C = pytest.mark.native  # the run stops without _C (tests/conftest.py)
needs_C_cuda = pytest.mark.skipif(
    C_CUDA is None, reason=f"minidl._C_cuda is not built: {native.load_error('_C_cuda')}"
)


def run_minidl(*args):
    """`python -m minidl ARGS` in a fresh interpreter, on the same minidl these tests imported.

    It runs from the directory that holds that package: `python -m` looks in the current
    directory first, so a source tree and an installed copy are each tested as themselves.
    """
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(minidl.__file__)))
    return subprocess.run(
        [sys.executable, "-m", "minidl", *args],
        capture_output=True,
        text=True,
        cwd=package_parent,
        timeout=120,
    )


def test_doctor_prints_and_returns_the_facts():
    out = io.StringIO()
    facts = doctor(file=out)
    text = out.getvalue()
    assert facts["minidl"] == minidl.__version__
    assert f"minidl {minidl.__version__}" in text
    assert facts["_C"] == ("loaded" if C is not None else "not available")
    assert facts["_C_cuda"] == ("loaded" if C_CUDA is not None else "not available")
    assert facts["threads"] == backend.get_num_threads()
    assert facts["default_device"] == str(backend.get_default_device())
    assert facts["kernels"] == backend.get_kernels()
    assert facts["active_kernels"] == backend.active_kernels()
    assert facts["cuda_available"] == backend.cuda_is_available()
    if not facts["cuda_available"]:
        assert facts["cuda_unavailable_reason"] in text


@needs_C
def test_doctor_reports_the_cpu_build():
    facts = doctor(file=io.StringIO())
    assert facts["simd"] == C.simd()
    assert facts["build_info"] == C.build_info()
    assert facts["openmp"] == C.openmp_enabled()


def test_python_m_minidl_doctor():
    result = run_minidl("doctor")
    assert result.returncode == 0, result.stderr
    assert f"minidl {minidl.__version__}" in result.stdout
    assert "minidl._C" in result.stdout


def test_minidl_without_a_command_prints_help_and_fails():
    result = run_minidl()
    assert result.returncode == 2
    assert "doctor" in result.stderr


def test_console_script_is_declared():
    try:
        scripts = importlib.metadata.entry_points(group="console_scripts")
    except Exception as err:  # pragma: no cover - very old importlib.metadata
        pytest.skip(f"cannot read entry points: {err}")
    ours = [ep for ep in scripts if ep.name == "minidl"]
    if not ours:
        pytest.skip("minidl is not installed (running from a source tree on sys.path)")
    assert ours[0].value == "minidl.cli:main"


@needs_C
def test_cpu_module_describes_itself():
    assert C.simd() in ("avx512f", "portable")
    assert isinstance(C.openmp_enabled(), bool)
    assert "build type" in C.build_info()
    assert C.get_num_threads() >= 1


@needs_C
def test_set_num_threads_round_trips_and_rejects_nonsense():
    before = C.get_num_threads()
    try:
        C.set_num_threads(1)
        assert C.get_num_threads() == 1
        if C.openmp_enabled():
            C.set_num_threads(3)
            assert C.get_num_threads() == 3
    finally:
        C.set_num_threads(before)
    with pytest.raises(ValueError):
        C.set_num_threads(0)


@needs_C_cuda
def test_cuda_module_loads_and_counts_devices():
    # The module links the CUDA runtime statically, so it imports on a machine without a GPU or
    # driver; there it must answer 0 devices with the runtime's reason, not raise.
    count = C_CUDA.device_count()
    assert isinstance(count, int) and count >= 0
    major, minor = C_CUDA.runtime_version()
    assert major >= 11
    if count == 0:
        assert C_CUDA.no_gpu_reason() != ""
        with pytest.raises(IndexError):
            C_CUDA.device_name(0)
    else:
        assert C_CUDA.no_gpu_reason() == ""
        assert C_CUDA.device_name(0)


@needs_C_cuda
def test_doctor_reports_cuda_module():
    facts = doctor(file=io.StringIO())
    assert facts["cuda_device_count"] == C_CUDA.device_count()
    assert len(facts["cuda_devices"]) == facts["cuda_device_count"]


def test_cuda_module_is_built_wherever_nvcc_is():
    # CI has no GPU but has nvcc: there the CUDA kernels must still compile, so a kernel that does
    # not compile fails the install (and CI) instead of being skipped quietly.
    import shutil

    nvcc = shutil.which("nvcc") or os.environ.get("CUDACXX")
    if not nvcc or os.environ.get("MINIDL_CUDA", "AUTO").upper() == "OFF":
        pytest.skip("no nvcc on PATH (or MINIDL_CUDA=OFF): minidl._C_cuda is not expected")
    assert C_CUDA is not None, (
        f"nvcc is at {nvcc} but minidl._C_cuda did not load: {native.load_error('_C_cuda')}"
    )
