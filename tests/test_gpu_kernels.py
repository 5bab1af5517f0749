"""The CUDA kernels (minidl._C_cuda, through backend.kernels) against the CPU float64 reference.

Every kernel of ``backend/kernels.py`` runs on CuPy arrays, float32 and float64, through the
native path (``use_kernels('native')``), and is compared with ``reference.<name>`` run by NumPy
in float64 on the same values:

- matmul: all four transpose combinations, batch broadcasting (1 vs B), K = 0, M or N = 1, sizes
  that are not a multiple of any tile (127, 129, 1000) and 1024 x 1024 x 1024;
- conv2d forward / backward_input / backward_weight: stride, padding, dilation, groups;
- max/avg pooling forward and backward: ceil_mode, padding, dilation, count_include_pad; max
  pooling's values and indices exactly (distinct values, and ties: the first maximum wins);
- softmax / log_softmax forward and backward: rows of 1, 31, 32, 33, 1000 and 5000 columns, no
  rows at all, more rows than a grid's y-dimension; NaN, -inf and +-1e4 logits;
- the dispatch: 'native' and 'auto' run a _C_cuda function (a spy counts the calls) and never
  the reference; 'reference' runs CuPy and never _C_cuda;
- outputs are C-contiguous CuPy arrays on the inputs' GPU, and the kernels are queued on CuPy's
  *current* stream (a non-default, non-blocking stream whose inputs only become valid late);
- bad input: wrong dtype, NumPy mixed with CuPy, arrays on two GPUs, a bad max-pool index.

Bounds. A float32 result is held to the classic bound of a sum of ``terms`` products in floating
point, |got - exact| <= 2 (terms + 1) eps (sum of |products|), the same as
test_native_matmul.py's: it holds for any summation order, so it does not depend on how a kernel
tiles or splits its sums, and one wrong or missing term breaks it. Softmax uses
test_softmax_loss.py's tolerances.

Every test is marked ``gpu``: skipped without a GPU unless MINIDL_REQUIRE_GPU=1 (tests/conftest.py).
CuPy is imported by the ``cp`` fixture, never at module level, so this file is collected without it.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minidl as md
from minidl.backend import geometry, kernels, native, reference
from minidl.backend.kernels import KERNELS

from strategies import SOFTMAX_TOL, assert_softmax_close, fill, pool_values, softmax_inputs

pytestmark = pytest.mark.gpu

DTYPES = (np.float32, np.float64)
# _C_cuda functions that answer questions about the GPU and run no kernel.
DEVICE_QUERIES = {"device_count", "no_gpu_reason", "device_name", "runtime_version"}
GPU_EXAMPLES = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


@pytest.fixture(scope="module")
def cuda_module():
    """minidl._C_cuda; on a GPU machine a missing build is a failure, not a skip."""
    module = native.cuda_module()
    if module is None:
        pytest.fail(
            f"minidl._C_cuda is not built: {native.load_error('_C_cuda')}; "
            f"pip install --no-build-isolation -e .",
            pytrace=False,
        )
    return module


def native_call(name, *args):
    with md.use_kernels("native"):
        return getattr(kernels, name)(*args)


def on_gpu(cp, array, dtype=None):
    return cp.asarray(array if dtype is None else np.asarray(array).astype(dtype))


def host(cp, out, like, dtype=None):
    """``out`` back on the host, after checking it is a C-contiguous CuPy array on ``like``'s GPU."""
    assert isinstance(out, cp.ndarray), f"expected a CuPy array, got {type(out).__name__}"
    assert out.device.id == like.device.id
    assert out.flags.c_contiguous
    if dtype is not None:
        assert out.dtype == np.dtype(dtype)
    return cp.asnumpy(out)


def assert_within_rounding(got, exact, magnitude, terms, dtype, what=""):
    """|got - exact| <= 2 (terms + 1) eps magnitude, elementwise (see the module docstring)."""
    assert got.shape == exact.shape, f"{what}: shape {got.shape}, expected {exact.shape}"
    eps = np.finfo(dtype).eps
    bound = 2 * (terms + 1) * eps * magnitude + np.finfo(dtype).tiny
    err = np.abs(got.astype(np.float64) - exact)
    if err.size and not np.all(err <= bound):
        worst = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(
            f"{what}: error {err[worst]:.3g} > bound {bound[worst]:.3g} at {worst} "
            f"(got {got[worst]!r}, exact {exact[worst]!r})"
        )


# ---------------------------------------------------------------------------------------------
# matmul

BATCHES = [(1, 1), (2, 2), (3, 3), (1, 3), (3, 1), (2, 1), (1, 2)]


def matmul_operands(rng, dtype, batch_a, batch_b, M, N, K, trans_a, trans_b):
    a = rng.standard_normal((batch_a, K, M) if trans_a else (batch_a, M, K)).astype(dtype)
    b = rng.standard_normal((batch_b, N, K) if trans_b else (batch_b, K, N)).astype(dtype)
    return a, b


def check_matmul(cp, a, b, trans_a, trans_b, a_dev=None, b_dev=None):
    """kernels.matmul on the GPU (``a_dev``/``b_dev``: the device operands, default copies of a, b)
    against the float64 reference of the host values."""
    a_dev = on_gpu(cp, a) if a_dev is None else a_dev
    b_dev = on_gpu(cp, b) if b_dev is None else b_dev
    got = host(cp, native_call("matmul", a_dev, b_dev, trans_a, trans_b), a_dev, a.dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    exact = reference.matmul(a64, b64, trans_a, trans_b)
    magnitude = reference.matmul(np.abs(a64), np.abs(b64), trans_a, trans_b)
    K = a.shape[1] if trans_a else a.shape[2]
    assert_within_rounding(got, exact, magnitude, K, a.dtype, "matmul")


@GPU_EXAMPLES
@given(
    M=st.integers(1, 140),
    N=st.integers(1, 140),
    K=st.integers(1, 140),
    batches=st.sampled_from(BATCHES),
    trans_a=st.booleans(),
    trans_b=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_matmul_matches_reference(cp, cuda_module, M, N, K, batches, trans_a, trans_b, dtype, seed):
    a, b = matmul_operands(np.random.default_rng(seed), dtype, *batches, M, N, K, trans_a, trans_b)
    check_matmul(cp, a, b, trans_a, trans_b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize(
    "batches, M, N, K",
    [
        ((1, 1), 127, 129, 131),  # one short of / one past a power-of-two tile on every side
        ((1, 1), 129, 127, 1000),  # a long K: many K-tiles, the last partial
        ((1, 1), 1000, 1, 129),  # N = 1 (a matrix-vector product)
        ((1, 1), 1, 1000, 127),  # M = 1
        ((1, 1), 1, 1, 1000),  # a dot product
        ((4, 1), 65, 129, 33),  # a shared B
        ((1, 4), 129, 65, 33),  # a shared A
    ],
)
def test_matmul_tile_edges(cp, cuda_module, batches, M, N, K, trans_a, trans_b, dtype):
    a, b = matmul_operands(np.random.default_rng(M + N + K), dtype, *batches, M, N, K, trans_a, trans_b)
    check_matmul(cp, a, b, trans_a, trans_b)


@pytest.mark.parametrize(
    "dtype, trans_a, trans_b",
    [
        (np.float32, False, False),
        (np.float32, False, True),
        (np.float32, True, False),
        (np.float32, True, True),
        (np.float64, False, False),
    ],
)
def test_matmul_large(cp, cuda_module, dtype, trans_a, trans_b):
    a, b = matmul_operands(np.random.default_rng(3), dtype, 1, 1, 1024, 1024, 1024, trans_a, trans_b)
    check_matmul(cp, a, b, trans_a, trans_b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape",
    [
        (1, 1, 0, 5, 4),  # M = 0
        (1, 1, 3, 0, 4),  # N = 0
        (1, 1, 3, 5, 0),  # K = 0: an empty sum, the result is zeros (written, not left uninitialised)
        (2, 1, 64, 65, 0),
        (0, 0, 3, 5, 4),  # no batch
        (0, 1, 3, 5, 4),  # an empty batch against a shared one stays empty
    ],
)
def test_matmul_empty(cp, cuda_module, shape, dtype):
    a, b = matmul_operands(np.random.default_rng(4), dtype, *shape, False, False)
    a_dev, b_dev = on_gpu(cp, a), on_gpu(cp, b)
    got = host(cp, native_call("matmul", a_dev, b_dev, False, False), a_dev, dtype)
    np.testing.assert_array_equal(got, reference.matmul(a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_non_contiguous_views(cp, cuda_module, dtype):
    rng = np.random.default_rng(5)
    a, b = matmul_operands(rng, dtype, 2, 2, 37, 41, 29, False, False)
    # a transposed view (passed as the contiguous original with the flag flipped) ...
    a_t = on_gpu(cp, np.ascontiguousarray(a.transpose(0, 2, 1))).transpose(0, 2, 1)
    check_matmul(cp, a, b, False, False, a_dev=a_t)
    # ... and a strided one (copied by kernels.matmul); its gaps are NaN, which must not leak in
    wide = np.full(b.shape[:2] + (2 * b.shape[2],), np.nan, dtype)
    wide[..., ::2] = b
    check_matmul(cp, a, b, False, False, b_dev=on_gpu(cp, wide)[..., ::2])


def test_matmul_nan_and_inf_propagate_like_numpy(cp, cuda_module):
    a = np.ones((1, 5, 3), np.float32)
    b = np.ones((1, 3, 4), np.float32)
    a[0, 2, 1] = np.nan
    b[0, 0, 3] = np.inf
    out = cp.asnumpy(native_call("matmul", on_gpu(cp, a), on_gpu(cp, b), False, False))
    np.testing.assert_array_equal(np.isnan(out), np.isnan(a @ b))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(a @ b))


# ---------------------------------------------------------------------------------------------
# conv2d


@st.composite
def conv_geometries(draw):
    """(x_shape, weight_shape, stride, padding, dilation, groups) with an output of at least 1x1:
    test_conv.py's geometries, with more channels and larger images, to cross the GPU's tiles."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 4))
    c_out = groups * draw(st.integers(1, 4))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2 + 2)) for k in kernel)
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 12))
        for k, p, d in zip(kernel, padding, dilation)
    )
    return (
        (draw(st.integers(1, 3)), c_in) + size,
        (c_out, c_in // groups) + kernel,
        stride,
        padding,
        dilation,
        groups,
    )


def check_conv(cp, x_shape, w_shape, stride, padding, dilation, groups, dtype, seed):
    """The three conv kernels on the GPU against the float64 reference on the host."""
    geometry = (stride, padding, dilation, groups)
    x, w = fill(x_shape, "real", seed).astype(dtype), fill(w_shape, "real", seed + 1).astype(dtype)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    x_dev, w_dev = on_gpu(cp, x), on_gpu(cp, w)
    c_out, per_group, kh, kw = w_shape

    y = host(cp, native_call("conv2d_forward", x_dev, w_dev, *geometry), x_dev, dtype)
    assert_within_rounding(
        y,
        reference.conv2d_forward(x64, w64, *geometry),
        reference.conv2d_forward(abs(x64), abs(w64), *geometry),
        per_group * kh * kw,
        dtype,
        "conv2d_forward",
    )

    g = fill(y.shape, "real", seed + 2).astype(dtype)
    g64, g_dev = g.astype(np.float64), on_gpu(cp, g)
    grad_x = host(cp, native_call("conv2d_backward_input", g_dev, w_dev, x_shape, *geometry), g_dev, dtype)
    assert_within_rounding(
        grad_x,
        reference.conv2d_backward_input(g64, w64, x_shape, *geometry),
        reference.conv2d_backward_input(abs(g64), abs(w64), x_shape, *geometry),
        (c_out // groups) * kh * kw,
        dtype,
        "conv2d_backward_input",
    )
    grad_w = host(cp, native_call("conv2d_backward_weight", g_dev, x_dev, w_shape, *geometry), g_dev, dtype)
    assert_within_rounding(
        grad_w,
        reference.conv2d_backward_weight(g64, x64, w_shape, *geometry),
        reference.conv2d_backward_weight(abs(g64), abs(x64), w_shape, *geometry),
        x_shape[0] * y.shape[2] * y.shape[3],
        dtype,
        "conv2d_backward_weight",
    )


@GPU_EXAMPLES
@given(geometry=conv_geometries(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**31))
def test_conv2d_matches_reference(cp, cuda_module, geometry, dtype, seed):
    check_conv(cp, *geometry, dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding, dilation, groups",
    [
        ((2, 16, 32, 32), (32, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # a typical CNN layer
        ((4, 64, 14, 14), (32, 64, 1, 1), (1, 1), (0, 0), (1, 1), 1),  # pointwise
        ((2, 8, 15, 15), (8, 1, 3, 3), (2, 2), (1, 1), (1, 1), 8),  # depthwise, strided
        ((2, 3, 33, 31), (5, 3, 7, 7), (2, 2), (3, 3), (1, 1), 1),  # a stem: 7x7, stride 2
        ((1, 6, 20, 20), (6, 2, 3, 3), (1, 1), (2, 2), (2, 2), 3),  # dilated, grouped
        ((2, 4, 1, 300), (6, 4, 1, 5), (1, 2), (0, 2), (1, 3), 1),  # conv1d's shape: height 1
        ((1, 1, 1, 1), (1, 1, 1, 1), (1, 1), (0, 0), (1, 1), 1),  # one pixel
    ],
)
def test_conv2d_special_shapes(cp, cuda_module, x_shape, w_shape, stride, padding, dilation, groups, dtype):
    check_conv(cp, x_shape, w_shape, stride, padding, dilation, groups, dtype, 7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_empty_batch(cp, cuda_module, dtype):
    x_dev = cp.zeros((0, 3, 6, 6), dtype)
    w_dev = cp.ones((4, 3, 3, 3), dtype)
    geometry = ((1, 1), (1, 1), (1, 1), 1)
    y = native_call("conv2d_forward", x_dev, w_dev, *geometry)
    assert host(cp, y, x_dev, dtype).shape == (0, 4, 6, 6)
    assert host(cp, native_call("conv2d_backward_input", y, w_dev, (0, 3, 6, 6), *geometry), x_dev).shape == (
        0,
        3,
        6,
        6,
    )
    grad_w = host(cp, native_call("conv2d_backward_weight", y, x_dev, (4, 3, 3, 3), *geometry), x_dev)
    np.testing.assert_array_equal(grad_w, np.zeros((4, 3, 3, 3)))


# ---------------------------------------------------------------------------------------------
# Pooling


def _pool_out(size, k, s, p, d, ceil_mode):
    return geometry.pool2d_output_size(size, k, s, p, d, ceil_mode)


@st.composite
def pool_windows(draw, dilation=True):
    """(x_shape, kernel, stride, padding, dilation, ceil_mode): test_pool.py's windows, with more
    channels and larger planes."""
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    spatial = tuple(
        draw(st.integers(max(1, d * (k - 1) - 2 * p), d * (k - 1) + 1 + 20))
        for k, p, d in zip(kernel, padding, dil)
    )
    assume(
        all(
            _pool_out(n, k, s, p, d, ceil_mode) >= 1
            for n, k, s, p, d in zip(spatial, kernel, stride, padding, dil)
        )
    )
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5))) + spatial
    return shape, kernel, stride, padding, dil, ceil_mode


def check_max_pool(cp, shape, kernel, stride, padding, dilation, ceil_mode, dtype, seed, ties=False, x=None):
    """Forward: values and indices exactly as the reference's. Backward: within rounding of
    the overlapping windows' sums."""
    x = pool_values(shape, dtype, seed, ties) if x is None else x
    x_dev = on_gpu(cp, x)
    y_dev, idx_dev = native_call("max_pool2d_forward", x_dev, kernel, stride, padding, dilation, ceil_mode)
    want_y, want_idx = reference.max_pool2d_forward(
        x.astype(np.float64), kernel, stride, padding, dilation, ceil_mode
    )
    y, idx = host(cp, y_dev, x_dev, dtype), host(cp, idx_dev, x_dev, np.int64)
    np.testing.assert_array_equal(y.astype(np.float64), want_y)  # NaN equals NaN here
    np.testing.assert_array_equal(idx, want_idx)

    g = pool_values(y.shape, dtype, seed + 1) * 0.1
    g_dev = on_gpu(cp, g)
    grad_x = host(cp, native_call("max_pool2d_backward", g_dev, idx_dev, shape), g_dev, dtype)
    g64 = g.astype(np.float64)
    assert_within_rounding(
        grad_x,
        reference.max_pool2d_backward(g64, want_idx, shape),
        reference.max_pool2d_backward(abs(g64), want_idx, shape),
        kernel[0] * kernel[1],
        dtype,
        "max_pool2d_backward",
    )


def check_avg_pool(cp, shape, kernel, stride, padding, ceil_mode, count_include_pad, dtype, seed):
    x = fill(shape, "real", seed).astype(dtype)
    x_dev, x64 = on_gpu(cp, x), x.astype(np.float64)
    window = (kernel, stride, padding, ceil_mode, count_include_pad)
    y = host(cp, native_call("avg_pool2d_forward", x_dev, *window), x_dev, dtype)
    terms = kernel[0] * kernel[1] + 1  # the sum, and the division
    assert_within_rounding(
        y,
        reference.avg_pool2d_forward(x64, *window),
        reference.avg_pool2d_forward(abs(x64), *window),
        terms,
        dtype,
        "avg_pool2d_forward",
    )

    g = fill(y.shape, "real", seed + 1).astype(dtype)
    g_dev, g64 = on_gpu(cp, g), g.astype(np.float64)
    back = (kernel, stride, padding, count_include_pad)
    grad_x = host(cp, native_call("avg_pool2d_backward", g_dev, shape, *back), g_dev, dtype)
    assert_within_rounding(
        grad_x,
        reference.avg_pool2d_backward(g64, shape, *back),
        reference.avg_pool2d_backward(abs(g64), shape, *back),
        terms,
        dtype,
        "avg_pool2d_backward",
    )


@GPU_EXAMPLES
@given(window=pool_windows(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_max_pool_matches_reference(cp, cuda_module, window, dtype, seed):
    check_max_pool(cp, *window, dtype, seed)


@GPU_EXAMPLES
@given(window=pool_windows(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_max_pool_ties_go_to_the_first_maximum(cp, cuda_module, window, dtype, seed):
    # The documented rule (csrc/cuda/pool2d.h): the first maximum in row-major window order.
    check_max_pool(cp, *window, dtype, seed, ties=True)


@GPU_EXAMPLES
@given(
    window=pool_windows(dilation=False),
    count_include_pad=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_avg_pool_matches_reference(cp, cuda_module, window, count_include_pad, dtype, seed):
    shape, kernel, stride, padding, _, ceil_mode = window
    check_avg_pool(cp, shape, kernel, stride, padding, ceil_mode, count_include_pad, dtype, seed)


POOL_CASES = [
    # x shape, kernel, stride, padding, ceil_mode
    ((8, 64, 56, 56), (3, 3), (2, 2), (1, 1), False),  # a ResNet stem's max pool
    ((8, 64, 56, 56), (3, 3), (2, 2), (1, 1), True),
    ((4, 32, 64, 64), (2, 2), (2, 2), (0, 0), False),  # the usual halving
    ((2, 16, 7, 7), (7, 7), (1, 1), (0, 0), False),  # global pooling
    ((2, 3, 31, 33), (1, 5), (1, 3), (0, 2), True),  # uneven, one axis only
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0), False),  # one pixel
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kernel, stride, padding, ceil_mode", POOL_CASES)
def test_pool_special_shapes(cp, cuda_module, shape, kernel, stride, padding, ceil_mode, dtype):
    check_max_pool(cp, shape, kernel, stride, padding, (1, 1), ceil_mode, dtype, 11)
    if all(
        _pool_out(n, k, s, p, 2, ceil_mode) >= 1 for n, k, s, p in zip(shape[2:], kernel, stride, padding)
    ):
        check_max_pool(cp, shape, kernel, stride, padding, (2, 2), ceil_mode, dtype, 12)  # dilated
    for count_include_pad in (True, False):
        check_avg_pool(cp, shape, kernel, stride, padding, ceil_mode, count_include_pad, dtype, 13)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_nan_minus_inf_and_all_padding_windows(cp, cuda_module, dtype):
    # NaN: the first NaN of a window wins it and the output is NaN (the reference's rule).
    x = np.arange(32, dtype=dtype).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = x[0, 0, 3, 3] = x[0, 1, 0, 1] = x[0, 1, 1, 0] = np.nan
    for kernel, stride, padding in [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1))]:
        check_max_pool(cp, x.shape, kernel, stride, padding, (1, 1), False, dtype, 0, x=x)
    # All -inf: a real position is recorded, never the padding.
    x = np.full((1, 1, 3, 3), -np.inf, dtype)
    y, idx = native_call("max_pool2d_forward", on_gpu(cp, x), (3, 3), (1, 1), (1, 1), (1, 1), False)
    assert bool((y == -np.inf).all()) and int(idx.min()) >= 0 and int(idx[0, 0, 0, 0]) == 0
    # A window entirely in the padding (possible with dilation): -inf, index -1, no gradient.
    x_dev = on_gpu(cp, np.array([[[[1.0, 2.0]]]], dtype))
    y, idx = native_call("max_pool2d_forward", x_dev, (1, 2), (1, 1), (0, 1), (1, 3), False)
    assert y.shape == (1, 1, 1, 1) and float(y[0, 0, 0, 0]) == -np.inf and int(idx[0, 0, 0, 0]) == -1
    grad = native_call("max_pool2d_backward", cp.ones_like(y), idx, x_dev.shape)
    np.testing.assert_array_equal(host(cp, grad, x_dev, dtype), np.zeros((1, 1, 1, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_empty_batch(cp, cuda_module, dtype):
    x_dev = cp.zeros((0, 3, 6, 6), dtype)
    y, idx = native_call("max_pool2d_forward", x_dev, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert y.shape == idx.shape == (0, 3, 3, 3) and y.dtype == dtype
    assert native_call("max_pool2d_backward", y, idx, x_dev.shape).shape == x_dev.shape
    a = native_call("avg_pool2d_forward", x_dev, (3, 3), (2, 2), (1, 1))
    assert a.shape == (0, 3, 3, 3)
    assert native_call("avg_pool2d_backward", a, x_dev.shape, (3, 3), (2, 2), (1, 1)).shape == x_dev.shape


def test_max_pool_backward_rejects_a_bad_index(cp, cuda_module):
    """The kernel checks every index as it scatters; a bad one is a Python error, not a stray write."""
    x_dev = cp.arange(32, dtype=cp.float32).reshape(1, 2, 4, 4)
    y, idx = native_call("max_pool2d_forward", x_dev, (2, 2), (2, 2), (0, 0), (1, 1), False)
    for value in (16, -2, 2**40):
        bad = idx.copy()
        bad[0, 1, 1, 1] = value
        with pytest.raises(ValueError, match="indices"):
            native_call("max_pool2d_backward", y, bad, (1, 2, 4, 4))


# ---------------------------------------------------------------------------------------------
# Softmax family

SOFTMAX_KERNELS = ("softmax_forward", "log_softmax_forward", "softmax_backward", "log_softmax_backward")


def check_softmax(cp, name, args, dtype):
    """The kernel on the GPU against the reference in float64, with test_softmax_loss.py's scale:
    the backward kernels subtract a row sum, so their error scales with what is subtracted."""
    dev = [on_gpu(cp, a) for a in args]
    got = host(cp, native_call(name, *dev), dev[0], dtype)
    want = getattr(reference, name)(*[a.astype(np.float64) for a in args])
    assert_softmax_close(name, got, want, args, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cols", [1, 31, 32, 33, 1000, 5000])
@pytest.mark.parametrize("rows", [0, 3, 257])
@pytest.mark.parametrize("name", SOFTMAX_KERNELS)
def test_softmax_row_lengths(cp, cuda_module, name, rows, cols, dtype):
    # 31/32/33: a warp's width and either side of it; 1000 and 5000: rows a block must loop over.
    check_softmax(cp, name, softmax_inputs(name, rows, cols, dtype, np.random.default_rng(cols)), dtype)


@GPU_EXAMPLES
@given(
    rows=st.integers(0, 70),
    cols=st.integers(1, 700),
    dtype=st.sampled_from(DTYPES),
    name=st.sampled_from(SOFTMAX_KERNELS),
    scale=st.sampled_from([0.1, 3.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_softmax_matches_reference(cp, cuda_module, rows, cols, dtype, name, scale, seed):
    check_softmax(
        cp, name, softmax_inputs(name, rows, cols, dtype, np.random.default_rng(seed), scale), dtype
    )


@pytest.mark.parametrize("shape", [(70000, 3), (4096, 1000)])
@pytest.mark.parametrize("name", SOFTMAX_KERNELS)
def test_softmax_many_rows(cp, cuda_module, name, shape):
    # 70000 rows: more than a grid's y-dimension (65535) allows, in case rows are mapped there.
    check_softmax(cp, name, softmax_inputs(name, *shape, np.float32, np.random.default_rng(1)), np.float32)


@pytest.mark.parametrize("shape", [(0, 5), (4, 0), (0, 0)])
@pytest.mark.parametrize("name", SOFTMAX_KERNELS)
def test_softmax_empty(cp, cuda_module, name, shape):
    args = [cp.zeros(shape, cp.float32)] * (1 if name.endswith("forward") else 2)
    assert host(cp, native_call(name, *args), args[0], np.float32).shape == shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_huge_logits_are_stable(cp, cuda_module, dtype):
    # test_softmax_loss.py's case: the row max is subtracted first, so nothing overflows.
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1], [-1e4, -1e4 + 2, -1e4, -1e4]], dtype)
    s0, s1 = 1 + math.exp(-1), 1 + 3 * math.exp(-2)
    want = [
        [1 / s0, 0, 0, math.exp(-1) / s0],
        [math.exp(-2) / s1, 1 / s1, math.exp(-2) / s1, math.exp(-2) / s1],
    ]
    y = cp.asnumpy(native_call("softmax_forward", on_gpu(cp, x)))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-30)
    log_y = cp.asnumpy(native_call("log_softmax_forward", on_gpu(cp, x)))
    l0, l1 = math.log(s0), math.log(s1)
    np.testing.assert_allclose(
        log_y, [[-l0, -2e4 - l0, -1e4 - l0, -1 - l0], [-2 - l1, -l1, -2 - l1, -2 - l1]], rtol=1e-6
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cols", [3, 33, 1000])
def test_softmax_nan_and_minus_inf_rows(cp, cuda_module, dtype, cols):
    x = np.zeros((5, cols), dtype)
    x[0, cols // 2] = np.nan  # a NaN reaches its whole row
    x[1] = -np.inf  # all -inf: NaN, as in PyTorch
    x[2, 1] = -np.inf  # one impossible class: probability 0, log-probability -inf
    x[3, -1] = np.inf  # +inf: NaN
    x[4] = np.arange(cols)  # an ordinary row, untouched by its neighbours
    for name in ("softmax_forward", "log_softmax_forward"):
        y = cp.asnumpy(native_call(name, on_gpu(cp, x)))
        assert np.isnan(y[0]).all() and np.isnan(y[1]).all() and np.isnan(y[3]).all(), name
        assert not np.isnan(y[2]).any() and not np.isnan(y[4]).any(), name
        np.testing.assert_allclose(
            y[4], getattr(reference, name)(x[4:5].astype(np.float64))[0], **SOFTMAX_TOL[dtype]
        )
    soft = cp.asnumpy(native_call("softmax_forward", on_gpu(cp, x)))[2]
    np.testing.assert_allclose(soft, np.where(np.arange(cols) == 1, 0.0, 1.0 / (cols - 1)), rtol=1e-6)
    assert cp.asnumpy(native_call("log_softmax_forward", on_gpu(cp, x)))[2, 1] == -np.inf


# ---------------------------------------------------------------------------------------------
# Dispatch, devices, streams


def sample_args(name, dtype=np.float32):
    """Small host arguments for kernel ``name`` (arrays are NumPy; move them with to_device)."""
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(dtype)

    geometry = ((1, 1), (1, 1), (1, 1), 1)
    if name == "matmul":
        return (arr(2, 5, 3), arr(2, 3, 4), False, False)
    if name == "conv2d_forward":
        return (arr(2, 3, 6, 6), arr(4, 3, 3, 3)) + geometry
    if name == "conv2d_backward_input":
        return (arr(2, 4, 6, 6), arr(4, 3, 3, 3), (2, 3, 6, 6)) + geometry
    if name == "conv2d_backward_weight":
        return (arr(2, 4, 6, 6), arr(2, 3, 6, 6), (4, 3, 3, 3)) + geometry
    if name == "max_pool2d_forward":
        return (pool_values((2, 3, 6, 6), dtype, 0), (2, 2), (2, 2), (0, 0), (1, 1), False)
    if name == "max_pool2d_backward":
        _, idx = reference.max_pool2d_forward(
            pool_values((2, 3, 6, 6), dtype, 0), (3, 3), (1, 1), (1, 1), (1, 1)
        )
        return (arr(2, 3, 6, 6), idx, (2, 3, 6, 6))
    if name == "avg_pool2d_forward":
        return (arr(2, 3, 6, 6), (3, 3), (2, 2), (1, 1), False, True)
    if name == "avg_pool2d_backward":
        return (arr(2, 3, 3, 3), (2, 3, 6, 6), (3, 3), (2, 2), (1, 1), True)
    if name.endswith("forward"):
        return (arr(4, 7),)
    y = (
        reference.softmax_forward(arr(4, 7))
        if name == "softmax_backward"
        else reference.log_softmax_forward(arr(4, 7))
    )
    return (arr(4, 7), y)


def to_device(cp, args):
    return tuple(cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.fixture
def spy(cuda_module, monkeypatch):
    """A list that records the name of every _C_cuda function called (device queries aside), and
    makes the reference kernels raise: while it is active, a kernel that ran at all ran natively.

    It wraps the module's attributes, so it sees calls made as ``_C_cuda.<function>(...)`` or
    ``native.cuda_module().<function>(...)`` at call time (not through a name bound at import)."""
    calls = []
    for attr in dir(cuda_module):
        fn = getattr(cuda_module, attr)
        if attr.startswith("_") or attr in DEVICE_QUERIES or not callable(fn):
            continue

        def wrapper(*args, _fn=fn, _attr=attr, **kwargs):
            calls.append(_attr)
            return _fn(*args, **kwargs)

        monkeypatch.setattr(cuda_module, attr, wrapper)
    return calls


@pytest.mark.parametrize("setting", ["native", "auto"])
@pytest.mark.parametrize("name", KERNELS)
def test_native_cuda_kernel_is_the_one_running(cp, spy, monkeypatch, name, setting):
    args = to_device(cp, sample_args(name))
    with md.use_kernels("reference"):
        want = as_tuple(getattr(kernels, name)(*args))  # CuPy running the reference, before the trap
    spy.clear()

    def trap(*a, **k):
        raise AssertionError(f"reference.{name} ran on CuPy arrays under use_kernels({setting!r})")

    monkeypatch.setattr(reference, name, trap)
    with md.use_kernels(setting):
        got = as_tuple(getattr(kernels, name)(*args))
    assert spy, f"kernels.{name} on CuPy arrays called no minidl._C_cuda function under {setting!r}"
    for g, w in zip(got, want):
        assert isinstance(g, cp.ndarray) and g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(cp.asnumpy(g), cp.asnumpy(w), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", KERNELS)
def test_reference_setting_runs_cupy_not_cuda_kernels(cp, spy, name):
    args = to_device(cp, sample_args(name, np.float64))
    with md.use_kernels("reference"):
        got = as_tuple(getattr(kernels, name)(*args))
    assert not spy, f"use_kernels('reference') still called minidl._C_cuda: {spy}"
    want = as_tuple(getattr(reference, name)(*sample_args(name, np.float64)))
    for g, w in zip(got, want):
        assert isinstance(g, cp.ndarray)
        np.testing.assert_allclose(cp.asnumpy(g), w, rtol=1e-12, atol=1e-12)


# A kernel that waits ~30 ms (clock64 counts SM cycles, ~1.5-2 GHz) and only then copies src to dst,
# bytewise: arrays it fills are valid only for work queued after it on the same stream.
LATE_COPY = r"""
extern "C" __global__ void late_copy(const unsigned char* src, unsigned char* dst, long long n,
                                     long long cycles) {
    long long start = clock64();
    while (clock64() - start < cycles) { }
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        dst[i] = src[i];
}
"""


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_run_on_cupys_current_stream(cp, cuda_module, name):
    """Inputs filled late by a kernel on a non-blocking stream; our kernel queued on that stream
    must see them. A kernel launched on the default stream instead would not wait for the copy
    (a non-blocking stream does not synchronise with it) and would read the NaN/-1 placeholders."""
    late_copy = cp.RawKernel(LATE_COPY, "late_copy")
    host_args = sample_args(name, np.float64)
    with md.use_kernels("reference"):
        want = as_tuple(getattr(kernels, name)(*to_device(cp, host_args)))
    sources = to_device(cp, host_args)
    # Placeholders, complete before the stream starts: NaN for floats, -1 for indices.
    placeholders = tuple(
        cp.full(a.shape, np.nan if a.dtype.kind == "f" else -1, a.dtype) if isinstance(a, cp.ndarray) else a
        for a in sources
    )
    cp.cuda.Device().synchronize()
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        for src, dst in zip(sources, placeholders):
            if isinstance(src, cp.ndarray):
                late_copy(
                    (min(1024, max(1, -(-src.nbytes // 256))),),
                    (256,),
                    (src, dst, np.int64(src.nbytes), np.int64(50_000_000)),
                )
        with md.use_kernels("native"):
            got = as_tuple(getattr(kernels, name)(*placeholders))
    stream.synchronize()
    cp.cuda.Device().synchronize()  # whatever ran elsewhere has finished too: compare final values
    for g, w in zip(got, want):
        np.testing.assert_allclose(cp.asnumpy(g), cp.asnumpy(w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", KERNELS)
def test_outputs_live_on_the_inputs_gpu(cp, cuda_module, name):
    count = cp.cuda.runtime.getDeviceCount()
    for index in range(min(count, 2)):
        with cp.cuda.Device(index):
            args = to_device(cp, sample_args(name))
            for out in as_tuple(native_call(name, *args)):
                assert isinstance(out, cp.ndarray) and out.device.id == index


@pytest.mark.parametrize("name", ["matmul", "conv2d_forward", "max_pool2d_forward", "softmax_forward"])
@pytest.mark.parametrize("bad", ["int64", "float16"])
def test_wrong_dtype_is_a_clear_error(cp, cuda_module, name, bad):
    args = tuple(cp.asarray(a.astype(bad)) if isinstance(a, np.ndarray) else a for a in sample_args(name))
    with pytest.raises(TypeError, match=f"{name}: expected float32 or float64"):
        native_call(name, *args)


def test_mixed_dtypes_are_a_clear_error(cp, cuda_module):
    a, b, *_ = sample_args("matmul")
    with pytest.raises(TypeError, match="matmul: all operands must have one dtype"):
        native_call("matmul", cp.asarray(a), cp.asarray(b.astype(np.float64)), False, False)


# (kernel, which positional array argument to leave on the host)
MIXED = [
    ("matmul", 1),
    ("matmul", 0),
    ("conv2d_forward", 1),
    ("conv2d_backward_input", 1),
    ("conv2d_backward_weight", 1),
    ("softmax_backward", 1),
    ("log_softmax_backward", 0),
]


@pytest.mark.parametrize("name, host_arg", MIXED)
def test_numpy_mixed_with_cupy_is_a_clear_error(cp, cuda_module, name, host_arg):
    args = list(to_device(cp, sample_args(name)))
    args[host_arg] = cp.asnumpy(args[host_arg])
    with pytest.raises(
        ValueError, match=rf"{name}: operands on different devices: (cpu, cuda:0|cuda:0, cpu)"
    ):
        native_call(name, *args)


def test_max_pool_indices_on_the_host_are_a_clear_error(cp, cuda_module):
    grad, idx, shape = sample_args("max_pool2d_backward")
    with pytest.raises(ValueError, match=r"max_pool2d_backward: indices on cpu, grad_out on cuda:0"):
        native_call("max_pool2d_backward", cp.asarray(grad), idx, shape)


def test_arrays_on_two_gpus_are_a_clear_error(cp, cuda_module):
    if cp.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")
    a, b, *_ = sample_args("matmul")
    with cp.cuda.Device(0):
        a0 = cp.asarray(a)
    with cp.cuda.Device(1):
        b1 = cp.asarray(b)
    with pytest.raises(ValueError, match=r"matmul: operands on different devices: cuda:0, cuda:1"):
        native_call("matmul", a0, b1, False, False)


def test_bad_shapes_are_clear_errors(cp, cuda_module):
    with pytest.raises(ValueError, match="matmul: inner dimensions differ"):
        native_call("matmul", cp.zeros((1, 2, 3), cp.float32), cp.zeros((1, 4, 5), cp.float32), False, False)
    with pytest.raises(ValueError, match="softmax_forward: kernel expects 2-d"):
        native_call("softmax_forward", cp.zeros((2, 3, 4), cp.float32))
    with pytest.raises(ValueError, match="conv2d_forward: input has 4 channels"):
        native_call(
            "conv2d_forward",
            cp.zeros((1, 4, 5, 5), cp.float32),
            cp.zeros((2, 3, 3, 3), cp.float32),
            1,
            0,
            1,
            1,
        )
    with pytest.raises(ValueError, match="max_pool2d_forward: x must be 4-d"):
        native_call("max_pool2d_forward", cp.zeros((4, 4), cp.float32), 2, 2, 0, 1)
