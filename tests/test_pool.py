"""Pooling (kernels and ops): max_pool1d/2d, avg_pool1d/2d.

- the NumPy reference against a plain loop over every window, written here;
- the native kernels against the reference over hypothesis-drawn shapes and window parameters,
  float32 and float64: max pooling exactly (values and indices, ties included), average pooling
  within rounding;
- NaN, -inf and windows that fall entirely into the padding;
- float64 gradcheck and gradgradcheck of every op, under each kernel setting, on non-contiguous
  and unbatched inputs;
- hand-computed values, and PyTorch as a second oracle when it is installed;
- bad input: a clear error for each, including bad indices handed straight to minidl._C.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minidl as md
import minidl.functional as F
from minidl.backend import kernels, native, reference

from strategies import arrays, fill, leaf, pool_values, with_fixtures

_C = native.cpu_module()
needs_native = pytest.mark.native  # the run stops without _C (tests/conftest.py)
DTYPES = (np.float32, np.float64)


# ---------------------------------------------------------------------------------------------
# Window parameters


def _out_size(size, k, s, p, d, ceil_mode):
    """Outputs along one axis, written out independently of geometry.pool2d_output_size."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else math.floor(span / s)) + 1
    if ceil_mode and out > 1 and (out - 1) * s >= size + p:
        out -= 1
    return out


@st.composite
def windows(draw, dilation=True):
    """(input (N, C, H, W), kernel, stride, padding, dilation, ceil_mode) with an output of at
    least 1x1 and padding at most half the kernel (PyTorch's rules)."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    # Inputs from a little smaller than the window (allowed in ceil_mode and with padding) to a
    # few strides larger.
    spatial = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p - 1), d * (k - 1) + 1 + 6))
        for k, p, d in zip(kernel, padding, dil)
    )
    shape = (draw(st.integers(0, 3)), draw(st.integers(1, 3))) + spatial
    assume(
        all(
            _out_size(n, k, s, p, d, ceil_mode) >= 1
            for n, k, s, p, d in zip(spatial, kernel, stride, padding, dil)
        )
    )
    return shape, kernel, stride, padding, dil, ceil_mode


# ---------------------------------------------------------------------------------------------
# The reference against a plain loop


def _loop_max_pool(x, kernel, stride, padding, dilation, ceil_mode):
    n, c, h, w = x.shape
    oh = _out_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = _out_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    y = np.full((n, c, oh, ow), -np.inf, x.dtype)
    idx = np.full((n, c, oh, ow), -1, np.int64)
    for b, ch, i, j in np.ndindex(n, c, oh, ow):
        for a in range(kernel[0]):
            for e in range(kernel[1]):
                r = i * stride[0] - padding[0] + a * dilation[0]
                q = j * stride[1] - padding[1] + e * dilation[1]
                if 0 <= r < h and 0 <= q < w:
                    v = x[b, ch, r, q]
                    if idx[b, ch, i, j] < 0 or v > y[b, ch, i, j]:  # the first maximum wins
                        y[b, ch, i, j], idx[b, ch, i, j] = v, r * w + q
    return y, idx


def _loop_avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad):
    n, c, h, w = x.shape
    oh = _out_size(h, kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = _out_size(w, kernel[1], stride[1], padding[1], 1, ceil_mode)
    y = np.zeros((n, c, oh, ow), x.dtype)
    for b, ch, i, j in np.ndindex(n, c, oh, ow):
        r0, q0 = i * stride[0] - padding[0], j * stride[1] - padding[1]
        # Slots past the padding (ceil_mode) are never part of the window.
        r1, q1 = min(r0 + kernel[0], h + padding[0]), min(q0 + kernel[1], w + padding[1])
        rows, cols = range(max(r0, 0), min(r1, h)), range(max(q0, 0), min(q1, w))
        total = sum(x[b, ch, r, q] for r in rows for q in cols)
        count = (r1 - r0) * (q1 - q0) if count_include_pad else len(rows) * len(cols)
        y[b, ch, i, j] = total / count
    return y


@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(windows(), st.integers(0, 2**32 - 1), st.booleans())
def test_reference_max_pool_matches_loop(window, seed, ties):
    shape, kernel, stride, padding, dilation, ceil_mode = window
    x = pool_values(shape, np.float64, seed, ties)
    y, idx = reference.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    want_y, want_idx = _loop_max_pool(x, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(idx, want_idx)
    # backward: every output's gradient lands on its winner
    g = pool_values(y.shape, np.float64, seed + 1)
    want = np.zeros(shape)
    for pos in np.ndindex(*y.shape):
        if want_idx[pos] >= 0:
            want[pos[0], pos[1], want_idx[pos] // shape[3], want_idx[pos] % shape[3]] += g[pos]
    np.testing.assert_allclose(reference.max_pool2d_backward(g, idx, shape), want, rtol=1e-12, atol=1e-12)


@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(windows(dilation=False), st.integers(0, 2**32 - 1), st.booleans())
def test_reference_avg_pool_matches_loop(window, seed, count_include_pad):
    shape, kernel, stride, padding, _, ceil_mode = window
    x = pool_values(shape, np.float64, seed)
    y = reference.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad)
    np.testing.assert_allclose(
        y, _loop_avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad), rtol=1e-12, atol=1e-12
    )
    # backward = transpose of the forward: <avg(x), g> == <x, avg_backward(g)> for every x, g
    g = pool_values(y.shape, np.float64, seed + 1)
    gx = reference.avg_pool2d_backward(g, shape, kernel, stride, padding, count_include_pad)
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * gx), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------------------------
# Native against the reference


@needs_native
@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(windows(), st.sampled_from(DTYPES), st.integers(0, 2**32 - 1), st.booleans())
def test_native_max_pool_matches_reference(window, dtype, seed, ties):
    shape, kernel, stride, padding, dilation, ceil_mode = window
    x = pool_values(shape, dtype, seed, ties)
    y, idx = _C.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    want_y, want_idx = reference.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    assert y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(idx, want_idx)  # ties: the first maximum, in both
    g = pool_values(y.shape, dtype, seed + 1)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        _C.max_pool2d_backward(g, idx, shape), reference.max_pool2d_backward(g, want_idx, shape), **tol
    )


@needs_native
@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(windows(dilation=False), st.sampled_from(DTYPES), st.integers(0, 2**32 - 1), st.booleans())
def test_native_avg_pool_matches_reference(window, dtype, seed, count_include_pad):
    shape, kernel, stride, padding, _, ceil_mode = window
    x = pool_values(shape, dtype, seed)
    y = _C.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad)
    want = reference.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(y, want, **tol)
    g = pool_values(y.shape, dtype, seed + 1)
    np.testing.assert_allclose(
        _C.avg_pool2d_backward(g, shape, kernel, stride, padding, count_include_pad),
        reference.avg_pool2d_backward(g, shape, kernel, stride, padding, count_include_pad),
        **tol,
    )


@needs_native
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(64, 6, 28, 28), (3, 5, 9, 11), (2, 3, 8, 7)])
def test_native_fast_2x2_path_matches_reference(shape, dtype):
    """The 2x2 stride-2 kernels (odd sizes leave a last row/column out) against the reference."""
    x = pool_values(shape, dtype, 7)
    y, idx = _C.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    want_y, want_idx = reference.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(idx, want_idx)
    g = pool_values(y.shape, dtype, 8)
    np.testing.assert_array_equal(
        _C.max_pool2d_backward(g, idx, shape), reference.max_pool2d_backward(g, idx, shape)
    )
    np.testing.assert_array_equal(
        _C.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0)),
        reference.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0)),
    )
    np.testing.assert_array_equal(
        _C.avg_pool2d_backward(g, shape, (2, 2), (2, 2), (0, 0)),
        reference.avg_pool2d_backward(g, shape, (2, 2), (2, 2), (0, 0)),
    )


@needs_native
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kernel, stride, padding, dilation, ceil_mode",
    [
        ((3, 3), (1, 1), (1, 1), (1, 1), False),
        ((3, 3), (2, 2), (1, 1), (1, 1), True),
        ((2, 5), (3, 3), (1, 2), (2, 1), False),
        ((4, 2), (2, 3), (2, 0), (1, 3), True),
    ],
)
def test_native_matches_reference_on_wide_rows(kernel, stride, padding, dilation, ceil_mode, dtype):
    """Rows of many more outputs than one block of the kernels (16), with a partial last block;
    some -inf and NaN values. The hypothesis cases above stay within one block."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 11, 77)).astype(dtype)
    x[rng.random(x.shape) < 0.2] = -np.inf
    x[0, 1, 5, 40] = np.nan
    y, idx = _C.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    want_y, want_idx = reference.max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(idx, want_idx)
    x = np.where(np.isfinite(x), x, 0.5).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for count_include_pad in (True, False):
        y = _C.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad)
        np.testing.assert_allclose(
            y, reference.avg_pool2d_forward(x, kernel, stride, padding, ceil_mode, count_include_pad), **tol
        )
        g = rng.standard_normal(y.shape).astype(dtype)
        np.testing.assert_allclose(
            _C.avg_pool2d_backward(g, x.shape, kernel, stride, padding, count_include_pad),
            reference.avg_pool2d_backward(g, x.shape, kernel, stride, padding, count_include_pad),
            **tol,
        )


@needs_native
def test_native_results_do_not_depend_on_threads():
    x = np.random.default_rng(4).standard_normal((4, 8, 30, 30))
    results = []
    previous = md.get_num_threads()
    try:
        for threads in (1, 2):
            md.set_num_threads(threads)
            y, idx = _C.max_pool2d_forward(x, (3, 3), (2, 2), (1, 1), (1, 1), False)
            results.append(
                (
                    y,
                    idx,
                    _C.max_pool2d_backward(y, idx, x.shape),
                    _C.avg_pool2d_backward(y, x.shape, (3, 3), (2, 2), (1, 1), True),
                )
            )
    finally:
        md.set_num_threads(previous)
    for first, second in zip(*results):
        np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------------------------------------
# NaN, -inf, empty windows


@pytest.mark.parametrize("setting", (["native"] if _C else []) + ["reference"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_propagates_nan(setting, dtype):
    x = np.arange(32, dtype=dtype).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = np.nan  # in the first 2x2 window, not its first element
    x[0, 0, 3, 3] = np.nan  # the last element of the last window
    x[0, 1, 0, 1] = x[0, 1, 1, 0] = np.nan  # two NaNs in one window: the first is recorded
    with md.use_kernels(setting):
        for kernel, stride, padding in [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1))]:
            y, idx = kernels.max_pool2d_forward(x, kernel, stride, padding, (1, 1))
            want_y, want_idx = _loop_max_pool_nan(x, kernel, stride, padding)
            np.testing.assert_array_equal(y, want_y)  # NaN == NaN for assert_array_equal
            np.testing.assert_array_equal(idx, want_idx)
        y, idx = kernels.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1))
        assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 4
        assert np.isnan(y[0, 0, 1, 1]) and idx[0, 0, 1, 1] == 15
        assert np.isnan(y[0, 1, 0, 0]) and idx[0, 1, 0, 0] == 1
        assert not np.isnan(y[0, 1, 1, 1])


def _loop_max_pool_nan(x, kernel, stride, padding):
    """The loop with every NaN replaced by one value larger than any number: the first NaN of a
    window wins it (equal values: the first), and its output is NaN again."""
    _, idx = _loop_max_pool(np.where(np.isnan(x), 1e30, x), kernel, stride, padding, (1, 1), False)
    n, c = x.shape[:2]
    y = np.take_along_axis(x.reshape(n, c, -1), idx.reshape(n, c, -1), axis=2).reshape(idx.shape)
    return y, idx


@pytest.mark.parametrize("setting", (["native"] if _C else []) + ["reference"])
def test_max_pool_of_minus_inf_and_all_padding_windows(setting):
    with md.use_kernels(setting):
        # All -inf: still a real position, never the padding.
        x = np.full((1, 1, 3, 3), -np.inf)
        y, idx = kernels.max_pool2d_forward(x, (3, 3), (1, 1), (1, 1), (1, 1))
        assert np.all(y == -np.inf)
        assert idx.min() >= 0 and idx[0, 0, 0, 0] == 0
        # 1x2 input, kernel 2 with dilation 3 and padding 1: the window taps columns -1 and 2,
        # both padding. Output -inf, index -1, and no gradient goes anywhere.
        x = np.array([[[[1.0, 2.0]]]])
        y, idx = kernels.max_pool2d_forward(x, (1, 2), (1, 1), (0, 1), (1, 3))
        assert y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == -np.inf and idx[0, 0, 0, 0] == -1
        np.testing.assert_array_equal(
            kernels.max_pool2d_backward(np.ones_like(y), idx, x.shape), np.zeros_like(x)
        )


@pytest.mark.parametrize("setting", (["native"] if _C else []) + ["reference"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch_gives_empty_output(setting, dtype):
    x = np.zeros((0, 3, 6, 6), dtype)
    with md.use_kernels(setting):
        y, idx = kernels.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1))
        assert y.shape == idx.shape == (0, 3, 3, 3) and y.dtype == dtype
        assert kernels.max_pool2d_backward(y, idx, x.shape).shape == x.shape
        a = kernels.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1))
        assert a.shape == (0, 3, 3, 3)
        assert kernels.avg_pool2d_backward(a, x.shape, (3, 3), (2, 2), (1, 1)).shape == x.shape
        t = md.from_numpy(x).requires_grad_()
        F.max_pool2d(t, 2).sum().backward()
        assert t.grad.shape == x.shape


# ---------------------------------------------------------------------------------------------
# Ops: gradients, hand-computed values, PyTorch


@st.composite
def op_cases(draw, dilation=True):
    """A small (N, C, H, W) window case for gradcheck, plus whether to drop the batch dim."""
    shape, kernel, stride, padding, dil, ceil_mode = draw(windows(dilation))
    shape = (max(shape[0], 1), min(shape[1], 2)) + shape[2:]
    unbatched = draw(st.booleans()) and shape[0] == 1
    x = draw(arrays(shape, kind="distinct"))  # ties would make max pooling non-differentiable
    return (x[0] if unbatched else x), kernel, stride, padding, dil, ceil_mode


@with_fixtures
@given(op_cases())
def test_max_pool2d_gradcheck(kernels, case):
    x, kernel, stride, padding, dilation, ceil_mode = case

    def fn(t):
        return F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode)

    # A window entirely in the padding (dilation) gives a constant -inf: nothing to check there.
    x4 = x if x.ndim == 4 else x[None]
    assume((reference.max_pool2d_forward(x4, kernel, stride, padding, dilation, ceil_mode)[1] >= 0).all())
    t = leaf(x)
    assert md.gradcheck(fn, t)
    assert md.gradgradcheck(fn, t)


@with_fixtures
@given(op_cases(dilation=False), st.booleans())
def test_avg_pool2d_gradcheck(kernels, case, count_include_pad):
    x, kernel, stride, padding, _, ceil_mode = case

    def fn(t):
        return F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad)

    t = leaf(x)
    assert md.gradcheck(fn, t)
    assert md.gradgradcheck(fn, t)


@with_fixtures
@given(
    st.integers(1, 2),
    st.integers(1, 2),
    st.integers(1, 9),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(1, 2),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_pool1d_gradcheck(kernels, n, c, length, k, s, p, d, ceil_mode, unbatched, seed):
    p = min(p, k // 2)
    assume(_out_size(length, k, s, p, d, ceil_mode) >= 1)
    shape = (c, length) if unbatched else (n, c, length)
    t = leaf(fill(shape, "distinct", seed))
    # A window entirely in the padding (dilation) gives a constant -inf: nothing to check there.
    assume((F.max_pool1d(t, k, s, p, d, ceil_mode, return_indices=True)[1].numpy() >= 0).all())
    assert md.gradcheck(lambda v: F.max_pool1d(v, k, s, p, d, ceil_mode), t)
    assume(_out_size(length, k, s, p, 1, ceil_mode) >= 1)
    assert md.gradcheck(lambda v: F.avg_pool1d(v, k, s, p, ceil_mode, count_include_pad=bool(seed % 2)), t)


def test_pool_ops_by_hand(kernels):
    x = md.tensor(
        [[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 6.0], [0.0, 1.0, 2.0, 3.0], [7.0, 1.0, 4.0, 2.0]]]],
        requires_grad=True,
    )
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert y.tolist() == [[[[4.0, 6.0], [7.0, 4.0]]]]
    assert idx.tolist() == [[[[5, 7], [12, 14]]]] and idx.dtype == md.int64
    y.sum().backward()
    assert x.grad.tolist() == [[[[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0]]]]
    assert F.avg_pool2d(x, 2).tolist() == [[[[2.5, 3.0], [2.25, 2.75]]]]
    # 3x3 stride 2 padding 1: corner windows hold 4 real elements, the divisor counts 9 (default)
    # or 4 (count_include_pad=False).
    assert F.avg_pool2d(x, 3, 2, 1)[0, 0, 0, 0].item() == pytest.approx(10.0 / 9)
    assert F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)[0, 0, 0, 0].item() == pytest.approx(2.5)
    # overlapping windows (stride 1): an element that wins several windows gets their sum
    x.grad = None
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad[0, 0, 1, 1].item() == 3.0 and x.grad[0, 0, 1, 3].item() == 2.0
    # 1-d: indices are positions along L; unbatched (C, L) input keeps its rank
    y1, i1 = F.max_pool1d(md.tensor([[3.0, 1.0, 2.0, 5.0, 4.0]]), 2, return_indices=True)
    assert y1.tolist() == [[3.0, 5.0]] and i1.tolist() == [[0, 3]]
    assert F.avg_pool1d(md.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2, ceil_mode=True).tolist() == [
        [[1.5, 3.5, 5.0]]
    ]
    assert F.max_pool2d(md.zeros(3, 5, 5), 2).shape == (3, 2, 2)
    assert F.max_pool2d(md.zeros(1, 1, 5, 5), 2, ceil_mode=True).shape == (1, 1, 3, 3)


def test_pool_ops_match_pytorch(kernels):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 11, 9))
    tx = torch.tensor(x, requires_grad=True)
    mx = md.tensor(x, requires_grad=True)
    for args in [(2,), (3, 2, 1), ((3, 2), (2, 1), (1, 0)), (3, 2, 1, 1, True), (2, 2, 1, 2, False)]:
        ty, ti = tf.max_pool2d(tx, *args, return_indices=True)
        my, mi = F.max_pool2d(mx, *args, return_indices=True)
        np.testing.assert_array_equal(my.detach().numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(mi.numpy(), ti.numpy())
    for args in [(2,), (3, 2, 1), (3, 2, 1, True, False), ((2, 3), (2, 2), (1, 1), True, True)]:
        ty = tf.avg_pool2d(tx, *args)
        my = F.avg_pool2d(mx, *args)
        np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        g = rng.standard_normal(ty.shape)
        (tg,) = torch.autograd.grad(ty, tx, torch.tensor(g))
        (mg,) = md.grad(my, mx, md.tensor(g))
        np.testing.assert_allclose(mg.numpy(), tg.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad input


def test_op_errors():
    x = md.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="padding .* at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="padding .* at most half the kernel"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"larger than the padded input.*\(1, 1, 4, 4\)"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(x, 2, dilation=4)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.avg_pool2d(x, (1, 7), padding=(0, 1))
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 4-d .* got shape \(4, 4\)"):
        F.max_pool2d(md.zeros(4, 4), 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected a 4-d"):
        F.avg_pool2d(md.zeros(1, 1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match=r"max_pool1d: expected a 3-d"):
        F.max_pool1d(x, 2)
    with pytest.raises(
        TypeError, match="max_pool2d: expected a float32, float64 or integer tensor, got bool"
    ):
        F.max_pool2d(md.zeros(1, 1, 4, 4, dtype=md.bool_), 2)
    with pytest.raises(TypeError, match="avg_pool2d: expected a float32 or float64"):
        F.avg_pool2d(md.zeros(1, 1, 4, 4, dtype=md.float16), 2)
    with pytest.raises(ValueError, match="kernel must be positive"):
        F.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        F.max_pool2d(x, 2, padding=-1)
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of two ints"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple of one int"):
        F.max_pool1d(md.zeros(1, 1, 4), (2, 2))
    with pytest.raises(NotImplementedError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=3)
    with pytest.raises(TypeError, match="expected a Tensor"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2)


@pytest.mark.parametrize("setting", (["native"] if _C else []) + ["reference"])
def test_kernel_errors(setting):
    x = np.zeros((1, 2, 4, 4), np.float32)
    y, idx = kernels.max_pool2d_forward(x, 2, 2, 0, 1)
    with md.use_kernels(setting):
        with pytest.raises(TypeError, match="max_pool2d_forward: expected float32 or float64"):
            kernels.max_pool2d_forward(x.astype(np.bool_), 2, 2, 0, 1)
        with pytest.raises(ValueError, match="max_pool2d_forward: x must be 4-d"):
            kernels.max_pool2d_forward(x[0], 2, 2, 0, 1)
        with pytest.raises(TypeError, match="max_pool2d_backward: indices must be int64"):
            kernels.max_pool2d_backward(y, idx.astype(np.int32), x.shape)
        with pytest.raises(ValueError, match="indices must have grad_out's shape"):
            kernels.max_pool2d_backward(y, idx[:, :1], x.shape)
        with pytest.raises(ValueError, match="N and C must match"):
            kernels.max_pool2d_backward(y, idx, (1, 3, 4, 4))
        with pytest.raises(TypeError, match="all operands must have one dtype|expected float32"):
            kernels.max_pool2d_backward(y.astype(np.float16), idx, x.shape)
        bad = idx.copy()
        bad[0, 1, 1, 1] = 16  # one past the 4x4 plane
        with pytest.raises(ValueError, match="indices"):
            kernels.max_pool2d_backward(y, bad, x.shape)
        with pytest.raises(ValueError, match="avg_pool2d_backward: grad_out must be the output"):
            kernels.avg_pool2d_backward(np.zeros((1, 2, 3, 3), np.float32), x.shape, 2, 2, 0)
        with pytest.raises(ValueError, match="input_shape"):
            kernels.avg_pool2d_backward(y, (1, 2, 0, 4), 2, 2, 0)


@needs_native
def test_native_module_rejects_bad_arrays_without_crashing():
    """minidl._C called directly, past every Python check: errors, never a stray write."""
    x = np.arange(32, dtype=np.float64).reshape(1, 2, 4, 4)
    y, idx = _C.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    for value in (16, -2, 2**40, -(2**62)):
        bad = idx.copy()
        bad[0, 0, 0, 0] = value
        with pytest.raises(ValueError, match=r"max_pool2d_backward: 1 indices lie outside the 4x4 plane"):
            _C.max_pool2d_backward(y, bad, (1, 2, 4, 4))
    with pytest.raises(TypeError):  # int32 indices: no overload matches (noconvert)
        _C.max_pool2d_backward(y, idx.astype(np.int32), (1, 2, 4, 4))
    with pytest.raises(TypeError):  # non-contiguous view
        _C.max_pool2d_forward(np.zeros((1, 2, 8, 8))[:, :, ::2, ::2], (2, 2), (2, 2), (0, 0), (1, 1), False)
    with pytest.raises(TypeError):  # float16: no overload
        _C.max_pool2d_forward(x.astype(np.float16), (2, 2), (2, 2), (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="indices must have grad_out's shape"):
        _C.max_pool2d_backward(y, np.ascontiguousarray(idx[:, :, :1]), (1, 2, 4, 4))
    with pytest.raises(ValueError, match="N and C"):
        _C.max_pool2d_backward(y, idx, (2, 2, 4, 4))
    with pytest.raises(ValueError, match="padding must be between 0 and half"):
        _C.max_pool2d_forward(x, (2, 2), (1, 1), (2, 0), (1, 1), False)
    with pytest.raises(ValueError, match="kernel, stride and dilation must be positive"):
        _C.avg_pool2d_forward(x, (2, 0), (1, 1), (0, 0), False, True)
    with pytest.raises(ValueError, match="larger than the padded input"):
        _C.avg_pool2d_forward(x, (5, 5), (1, 1), (0, 0), False, True)
    with pytest.raises(ValueError, match="expected a 4-d"):
        _C.max_pool2d_forward(x[0], (2, 2), (2, 2), (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="kernel must be a tuple of 2 ints"):
        _C.max_pool2d_forward(x, (2, 2, 2), (2, 2), (0, 0), (1, 1), False)
    with pytest.raises(ValueError, match="grad_out's shape is not the output shape"):
        _C.avg_pool2d_backward(np.zeros((1, 2, 3, 3)), (1, 2, 4, 4), (2, 2), (2, 2), (0, 0), True)
    with pytest.raises(ValueError, match="input_shape must be a tuple of 4 ints"):
        _C.avg_pool2d_backward(np.zeros((1, 2, 2, 2)), (1, 2, 4), (2, 2), (2, 2), (0, 0), True)
