"""Shared test setup: hypothesis profiles, the kernel-setting fixture, and GPU skipping.

- ``HYPOTHESIS_PROFILE=ci`` (set by .ci/run) makes hypothesis derandomized with bounded examples,
  so CI is repeatable and its time bounded; ``dev`` (default) is the same size but random.
- ``kernels``: a fixture that runs a test once per kernel setting ('native' when minidl._C is
  built, and 'reference'), so every gradcheck goes through the real native path too.
- Tests marked ``gpu`` are skipped without a GPU, unless ``MINIDL_REQUIRE_GPU=1``, which turns a
  missing GPU into a failure.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minidl
from minidl.backend import native

settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

KERNEL_SETTINGS = (["native"] if native.cpu_module() is not None else []) + ["reference"]


@pytest.fixture(params=KERNEL_SETTINGS)
def kernels(request):
    """Run the test under each available kernel setting; yields the setting's name."""
    with minidl.use_kernels(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state and the default dtype/device."""
    minidl.manual_seed(0)
    np.random.seed(0)
    yield
    minidl.set_default_dtype(minidl.float32)
    minidl.set_grad_enabled(True)  # a test that leaked no_grad must not disable the ones after it


def pytest_runtest_setup(item):
    if "gpu" not in item.keywords or minidl.cuda.is_available():
        return
    reason = minidl.cuda.unavailable_reason()
    if os.environ.get("MINIDL_REQUIRE_GPU") == "1":
        pytest.fail(f"MINIDL_REQUIRE_GPU=1 but there is no usable GPU: {reason}", pytrace=False)
    pytest.skip(f"needs a GPU: {reason}")
