"""Shared test setup: which minidl is tested, hypothesis profiles, the kernel-setting fixture,
global state restored after every test, and GPU and native-module handling.

- ``which_minidl.choose()`` runs before minidl is imported: the suite tests the built package
  (the tree after ``pip install -e .``, the installed copy after ``pip install .``) or stops.
- Without ``minidl._C`` the run stops at once with the reason, unless
  ``MINIDL_ALLOW_NO_NATIVE=1`` asks for a reference-only run, where the tests that need ``_C``
  (marked ``native``, and the ``native`` case of the ``kernels`` fixture) skip.
- ``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) makes hypothesis derandomized, so CI is repeatable;
  ``dev`` (default) draws new examples each run (``--hypothesis-seed=N`` picks them).
- Tests marked ``gpu`` are skipped without a GPU, unless ``MINIDL_REQUIRE_GPU=1``, which turns a
  missing GPU into a failure.
- ``MINIDL_STRICT_SKIPS=1`` (set by .ci/run) fails a run in which a test skipped for a reason not
  in ``tests/allowed_skips.txt`` (``tests/skip_guard.py``).
"""

import os

import pytest

import which_minidl

_STOP = which_minidl.choose()  # before the first `import minidl`

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import minidl  # noqa: E402
from minidl.backend import native  # noqa: E402

import skip_guard  # noqa: E402

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=25, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

NATIVE = native.cpu_module() is not None
NO_NATIVE_REASON = "reference-only run (MINIDL_ALLOW_NO_NATIVE=1): minidl._C is not built"


def _where():
    return f"minidl {minidl.__version__} from {os.path.dirname(minidl.__file__)}"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "native: needs minidl._C (the run stops without it, or skips these under MINIDL_ALLOW_NO_NATIVE=1)",
    )
    skip_guard.register(config)
    if _STOP is not None:
        pytest.exit(f"minidl test suite: {_STOP}", returncode=pytest.ExitCode.USAGE_ERROR)
    if not NATIVE and not which_minidl.allow_no_native():
        pytest.exit(
            f"minidl test suite: {_where()} has no usable minidl._C "
            f"({native.load_error('_C')}); {which_minidl.BUILD_HINT}",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_report_header(config):
    cuda = native.cuda_module()
    return [
        f"{_where()}; _C: {'loaded' if NATIVE else native.load_error('_C')}; "
        f"_C_cuda: {'loaded' if cuda is not None else 'not built'}; GPU: "
        f"{'yes' if minidl.cuda.is_available() else 'no (' + minidl.cuda.unavailable_reason() + ')'}"
    ]


@pytest.fixture(params=["native", "reference"])
def kernels(request):
    """Run the test under each kernel setting; yields the setting's name."""
    if request.param == "native" and not NATIVE:
        pytest.skip(NO_NATIVE_REASON)
    with minidl.use_kernels(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _global_state():
    """Every test starts from the same random state and the default settings, and whatever it
    changes (dtype, device, kernels, grad mode, threads) is put back, so no test depends on the
    ones that ran before it."""
    saved = (
        minidl.get_default_dtype(),
        minidl.get_default_device(),
        minidl.is_grad_enabled(),
        minidl.get_num_threads(),
    )
    minidl.manual_seed(0)
    np.random.seed(0)
    with minidl.use_kernels(minidl.backend.get_kernels()):  # restores the setting on the way out
        yield
    dtype, device, grad_enabled, threads = saved
    minidl.set_default_dtype(dtype)
    minidl.set_default_device(device)
    minidl.set_grad_enabled(grad_enabled)
    minidl.set_num_threads(threads)


def pytest_runtest_setup(item):
    if "native" in item.keywords and not NATIVE:
        pytest.skip(NO_NATIVE_REASON)  # the run was stopped already unless this was asked for
    if "gpu" not in item.keywords or minidl.cuda.is_available():
        return
    reason = minidl.cuda.unavailable_reason()
    if os.environ.get("MINIDL_REQUIRE_GPU") == "1":
        pytest.fail(f"MINIDL_REQUIRE_GPU=1 but there is no usable GPU: {reason}", pytrace=False)
    pytest.skip(f"needs a GPU: {reason}")
