"""minidl._C.matmul against its reference, called directly (not through backend.kernels).

The comparison bound is the classic one for a dot product of length K in floating point:
|computed - exact| <= K * eps * (|a| @ |b|), elementwise. It holds for any summation order, so
the test does not depend on how the kernel blocks K, and it is tight enough to catch a single
wrong or missing term.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl.backend import native, reference

C = native.cpu_module()
pytestmark = pytest.mark.native  # the run stops without _C (tests/conftest.py)

DTYPES = (np.float32, np.float64)
# Equal batches, and a batch of 1 shared by the other side (both ways round).
BATCHES = [(1, 1), (2, 2), (3, 3), (1, 3), (3, 1), (2, 1), (1, 2)]


def operands(rng, dtype, batch_a, batch_b, M, N, K, trans_a, trans_b):
    a = rng.standard_normal((batch_a, K, M) if trans_a else (batch_a, M, K)).astype(dtype)
    b = rng.standard_normal((batch_b, N, K) if trans_b else (batch_b, K, N)).astype(dtype)
    return a, b


def assert_matmul_close(out, a, b, trans_a, trans_b):
    """out must be op(a) @ op(b) up to rounding: K * eps * (|a| @ |b|), computed in float64."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    exact = reference.matmul(a64, b64, trans_a, trans_b)
    scale = reference.matmul(np.abs(a64), np.abs(b64), trans_a, trans_b)
    K = a.shape[1] if trans_a else a.shape[2]
    eps = np.finfo(out.dtype).eps
    assert out.dtype == a.dtype
    assert out.shape == exact.shape
    assert out.flags.c_contiguous
    err = np.abs(out.astype(np.float64) - exact)
    bound = 2 * (K + 1) * eps * scale + np.finfo(out.dtype).tiny
    worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.size else None
    assert np.all(err <= bound), f"error {err[worst]} > bound {bound[worst]} at {worst}"


@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(
    M=st.integers(1, 70),
    N=st.integers(1, 70),
    K=st.integers(1, 70),
    batches=st.sampled_from(BATCHES),
    trans_a=st.booleans(),
    trans_b=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_reference(M, N, K, batches, trans_a, trans_b, dtype, seed):
    a, b = operands(np.random.default_rng(seed), dtype, *batches, M, N, K, trans_a, trans_b)
    assert_matmul_close(C.matmul(a, b, trans_a, trans_b), a, b, trans_a, trans_b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_large_crosses_cache_blocks(dtype, trans_a, trans_b):
    # 300 > the row block (MC), 257 > the depth block (KC = 256): every edge and every
    # accumulate-into-C path of the blocked loops is used.
    a, b = operands(np.random.default_rng(1), dtype, 1, 1, 300, 513, 257, trans_a, trans_b)
    assert_matmul_close(C.matmul(a, b, trans_a, trans_b), a, b, trans_a, trans_b)


@pytest.mark.parametrize("dtype, N", [(np.float32, 4100), (np.float64, 2060)])
def test_wider_than_column_block(dtype, N):
    # Wider than twice the column block NC (2048 floats, 1024 doubles), so that the outermost
    # loop runs more than once even when two threads split the columns.
    a, b = operands(np.random.default_rng(2), dtype, 1, 1, 13, N, 40, False, False)
    assert_matmul_close(C.matmul(a, b, False, False), a, b, False, False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_shapes(dtype):
    # The shapes of a small MLP's forward and both backward products (batch 128, 40 -> 100).
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 128, 40)).astype(dtype)
    w = rng.standard_normal((1, 40, 100)).astype(dtype)
    g = rng.standard_normal((1, 128, 100)).astype(dtype)
    assert_matmul_close(C.matmul(x, w, False, False), x, w, False, False)  # x @ w
    assert_matmul_close(C.matmul(g, w, False, True), g, w, False, True)  # grad_x = g @ w.T
    assert_matmul_close(C.matmul(x, g, True, False), x, g, True, False)  # grad_w = x.T @ g


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape",
    [
        (1, 1, 0, 5, 4),  # M = 0
        (1, 1, 3, 0, 4),  # N = 0
        (1, 1, 3, 5, 0),  # K = 0: an empty sum, C is zeros
        (0, 0, 3, 5, 4),  # no batch
        (0, 1, 3, 5, 4),  # an empty batch against a shared one stays empty
    ],
)
def test_empty(dtype, shape):
    a, b = operands(np.random.default_rng(4), dtype, *shape, False, False)
    out = C.matmul(a, b, False, False)
    np.testing.assert_array_equal(out, reference.matmul(a, b))
    assert out.shape == reference.matmul(a, b).shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batches, size", [((1, 1), 200), ((6, 6), 40), ((4, 1), 50)])
def test_thread_count_does_not_change_result(dtype, batches, size):
    # Threads split C into disjoint tiles, and every element is summed in the same order however
    # the tiles are shared out, so the results are identical, not merely close. The cases cover
    # one product split across threads, a batch run one product per thread, and a shared B.
    a, b = operands(np.random.default_rng(5), dtype, *batches, size, size + 7, size + 3, False, True)
    before = C.get_num_threads()
    try:
        C.set_num_threads(1)
        one = C.matmul(a, b, False, True)
        C.set_num_threads(2)
        two = C.matmul(a, b, False, True)
    finally:
        C.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


def test_fewer_threads_than_asked_for_still_compute_everything():
    # Inside another parallel region, or under OMP_THREAD_LIMIT, OpenMP gives a kernel fewer
    # threads than it asks for; the kernel must still cover all of C. OMP_THREAD_LIMIT is read
    # when the OpenMP runtime starts, hence a fresh interpreter.
    if not C.openmp_enabled():
        pytest.skip("minidl._C was built without OpenMP")
    script = (
        "import numpy as np; from minidl.backend import native; C = native.cpu_module(); "
        "C.set_num_threads(2); rng = np.random.default_rng(0); "
        "a = rng.standard_normal((1, 200, 150)); b = rng.standard_normal((1, 150, 170)); "
        "assert np.allclose(C.matmul(a, b, False, False), a @ b)"
    )
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(minidl.__file__)))
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=package_parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_nan_and_inf_propagate_like_numpy():
    a = np.ones((1, 5, 3), np.float32)
    b = np.ones((1, 3, 4), np.float32)
    a[0, 2, 1] = np.nan
    b[0, 0, 3] = np.inf
    out = C.matmul(a, b, False, False)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(a @ b))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(a @ b))


# ---------------------------------------------------------------------------------------------
# Bad input: a clear Python error, never a crash. (backend.kernels checks all of this first;
# these are the second line of defence for code that calls _C directly.)

f32 = np.zeros((1, 2, 3), np.float32)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32), "3-d"),
        (np.zeros((1, 2, 3), np.float32), np.zeros((1, 4, 5), np.float32), "inner dimensions"),
        (np.zeros((2, 2, 3), np.float32), np.zeros((3, 3, 4), np.float32), "batch"),
    ],
)
def test_bad_shapes_raise_value_error(a, b, match):
    with pytest.raises(ValueError, match=match) as info:
        C.matmul(a, b, False, False)
    assert "matmul" in str(info.value)
    assert str(a.shape) in str(info.value)


def test_bad_transposed_shapes_name_the_flags():
    with pytest.raises(ValueError, match="trans_a=True"):
        C.matmul(np.zeros((1, 3, 2), np.float32), np.zeros((1, 4, 5), np.float32), True, False)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.zeros((1, 2, 3), np.int64), np.zeros((1, 3, 4), np.int64)),  # not floats
        (f32, np.zeros((1, 3, 4), np.float64)),  # mixed dtypes
        (np.zeros((1, 2, 6), np.float32)[:, :, ::2], np.zeros((1, 3, 4), np.float32)),  # strided view
        (np.zeros((1, 2, 3), np.float32, order="F"), np.zeros((1, 3, 4), np.float32)),  # Fortran order
        ([[[1.0, 2.0]]], [[[1.0], [2.0]]]),  # lists
        (None, f32),
    ],
)
def test_wrong_types_raise_type_error_without_converting(a, b):
    with pytest.raises(TypeError):
        C.matmul(a, b, False, False)
