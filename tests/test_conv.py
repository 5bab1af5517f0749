"""Convolution (kernels and ops): conv2d_forward / backward_input / backward_weight, conv1d, conv2d.

- the NumPy reference against a plain loop over every (output, kernel tap) pair, written here;
- the native kernels against the reference over hypothesis-drawn batch (0 to 3), channels,
  groups, sizes, kernel, stride, padding (up to and beyond half the kernel) and dilation, in
  float64 (tight) and float32 (within rounding relative to the size of the sums), directly and
  through backend.kernels; plus the special paths (1x1 kernels, several chunks of images);
- float64 gradcheck of conv2d and conv1d (input, weight, bias; non-contiguous inputs) under each
  kernel setting, and gradgradcheck (the backward kernels are differentiable too);
- bad input: a clear error for each, from the ops, from backend.kernels and from minidl._C.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl as md
import minidl.functional as F
from minidl.backend import kernels as dispatch
from minidl.backend import native, reference

from strategies import arrays, fill, leaf, with_fixtures

_C = native.cpu_module()
needs_native = pytest.mark.native  # the run stops without _C (tests/conftest.py)
DTYPES = (np.float32, np.float64)


def _out_size(size, k, s, p, d):
    """Outputs along one axis, written out independently of geometry.conv2d_output_size."""
    return math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1


# ---------------------------------------------------------------------------------------------
# Geometry


@st.composite
def geometries(draw, max_batch=3, max_channels=3, max_groups=3, max_kernel=4, max_extra=6, conv1d=False):
    """(x_shape, weight_shape, stride, padding, dilation, groups) with an output of at least 1x1.

    Padding goes up to half the kernel plus 2 (beyond what 'same' needs); inputs range from the
    smallest that still gives an output (often a 1x1 output) to a few strides larger.
    """
    n = draw(st.integers(0, max_batch))
    groups = draw(st.integers(1, max_groups))
    c_in = groups * draw(st.integers(1, max_channels))
    c_out = groups * draw(st.integers(1, max_channels))
    axes = 1 if conv1d else 2
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(axes))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(axes))
    padding = tuple(draw(st.integers(0, k // 2 + 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(axes))
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, max_extra))
        for k, p, d in zip(kernel, padding, dilation)
    )
    if conv1d:  # as the op passes it to the kernels: height 1
        kernel, stride, padding, dilation, size = (
            (1,) + kernel,
            (1,) + stride,
            (0,) + padding,
            (1,) + dilation,
            (1,) + size,
        )
    return (n, c_in) + size, (c_out, c_in // groups) + kernel, stride, padding, dilation, groups


def _y_shape(x_shape, w_shape, stride, padding, dilation):
    return (x_shape[0], w_shape[0]) + tuple(
        _out_size(n, k, s, p, d) for n, k, s, p, d in zip(x_shape[2:], w_shape[2:], stride, padding, dilation)
    )


# ---------------------------------------------------------------------------------------------
# The reference against a plain loop


def _taps(x_shape, w_shape, stride, padding, dilation, groups):
    """Every (output index, input index, weight index) triple that contributes y += x * w."""
    n, c_in, h, w = x_shape
    c_out, per_group, kh, kw = w_shape
    y_shape = _y_shape(x_shape, w_shape, stride, padding, dilation)
    for b, o, r, c in np.ndindex(*y_shape):
        group = o // (c_out // groups)
        for ci, i, j in np.ndindex(per_group, kh, kw):
            row = r * stride[0] - padding[0] + i * dilation[0]
            col = c * stride[1] - padding[1] + j * dilation[1]
            if 0 <= row < h and 0 <= col < w:
                yield (b, o, r, c), (b, group * per_group + ci, row, col), (o, ci, i, j)


def _loop_forward(x, weight, *geometry):
    y = np.zeros(_y_shape(x.shape, weight.shape, *geometry[:3]))
    for out, inp, wt in _taps(x.shape, weight.shape, *geometry):
        y[out] += x[inp] * weight[wt]
    return y


def _loop_backward_input(grad_out, weight, x_shape, *geometry):
    grad_x = np.zeros(x_shape)
    for out, inp, wt in _taps(x_shape, weight.shape, *geometry):
        grad_x[inp] += grad_out[out] * weight[wt]
    return grad_x


def _loop_backward_weight(grad_out, x, w_shape, *geometry):
    grad_w = np.zeros(w_shape)
    for out, inp, wt in _taps(x.shape, w_shape, *geometry):
        grad_w[wt] += grad_out[out] * x[inp]
    return grad_w


LOOP_CASES = [
    # x shape, weight shape, stride, padding, dilation, groups
    ((2, 3, 5, 6), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((1, 4, 7, 5), (6, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2),  # groups, stride, dilation, uneven
    ((2, 3, 4, 4), (3, 1, 2, 2), (3, 3), (4, 3), (1, 1), 3),  # depthwise, padding beyond the kernel
    ((1, 2, 3, 3), (2, 2, 3, 3), (1, 1), (0, 0), (1, 1), 1),  # 1x1 output
    ((2, 2, 4, 5), (3, 2, 1, 1), (1, 1), (0, 0), (1, 1), 1),  # 1x1 kernel
    ((1, 1, 9, 1), (2, 1, 3, 1), (2, 1), (1, 0), (3, 1), 1),  # a column (conv1d-like, transposed)
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", LOOP_CASES)
def test_reference_matches_loop(x_shape, w_shape, stride, padding, dilation, groups):
    geometry = (stride, padding, dilation, groups)
    x, weight = fill(x_shape, "real", 1), fill(w_shape, "real", 2)
    y = reference.conv2d_forward(x, weight, *geometry)
    np.testing.assert_allclose(y, _loop_forward(x, weight, *geometry), rtol=1e-12, atol=1e-12)
    g = fill(y.shape, "real", 3)
    np.testing.assert_allclose(
        reference.conv2d_backward_input(g, weight, x_shape, *geometry),
        _loop_backward_input(g, weight, x_shape, *geometry),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        reference.conv2d_backward_weight(g, x, w_shape, *geometry),
        _loop_backward_weight(g, x, w_shape, *geometry),
        rtol=1e-12,
        atol=1e-12,
    )


# ---------------------------------------------------------------------------------------------
# Native kernels against the reference


def _assert_close(got, want, magnitude, dtype):
    """Equal within rounding: |got - want| <= tol * (sum of |terms|) of each entry. ``magnitude``
    is the same kernel applied to absolute values, so the bound scales with the size of the sums
    (a float32 sum of many terms can be off by much more than float32's epsilon of its result)."""
    assert got.shape == want.shape and got.dtype == np.dtype(dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    excess = np.abs(got.astype(np.float64) - want) - tol * (magnitude + 1e-30)
    assert excess.size == 0 or excess.max() <= 0, (
        f"worst excess {excess.max()} at {np.unravel_index(excess.argmax(), excess.shape)}"
    )


def _check_native(x_shape, w_shape, stride, padding, dilation, groups, dtype, seed, call):
    """All three kernels, through ``call(name, *args)``, against the reference in float64."""
    geometry = (stride, padding, dilation, groups)
    x = fill(x_shape, "real", seed).astype(dtype)
    weight = fill(w_shape, "real", seed + 1).astype(dtype)
    x64, w64 = x.astype(np.float64), weight.astype(np.float64)
    y = call("conv2d_forward", x, weight, *geometry)
    _assert_close(
        y,
        reference.conv2d_forward(x64, w64, *geometry),
        reference.conv2d_forward(abs(x64), abs(w64), *geometry),
        dtype,
    )

    g = fill(y.shape, "real", seed + 2).astype(dtype)
    g64 = g.astype(np.float64)
    _assert_close(
        call("conv2d_backward_input", g, weight, x_shape, *geometry),
        reference.conv2d_backward_input(g64, w64, x_shape, *geometry),
        reference.conv2d_backward_input(abs(g64), abs(w64), x_shape, *geometry),
        dtype,
    )
    _assert_close(
        call("conv2d_backward_weight", g, x, w_shape, *geometry),
        reference.conv2d_backward_weight(g64, x64, w_shape, *geometry),
        reference.conv2d_backward_weight(abs(g64), abs(x64), w_shape, *geometry),
        dtype,
    )


def _call_C(name, *args):
    return getattr(_C, name)(*args)


def _call_kernels(name, *args):
    with md.use_kernels("native"):
        return getattr(dispatch, name)(*args)


@needs_native
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(geometries(), st.integers(0, 2**31))
def test_native_matches_reference(dtype, geometry, seed):
    x_shape = geometry[0]
    # _C itself is never handed an empty batch by backend.kernels, but handles one
    _check_native(*geometry, dtype, seed, _call_C)
    if x_shape[0] > 0:
        _check_native(*geometry, dtype, seed, _call_kernels)


@needs_native
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(geometries(conv1d=True), st.integers(0, 2**31))
def test_native_matches_reference_conv1d_shapes(dtype, geometry, seed):
    _check_native(*geometry, dtype, seed, _call_kernels)


SPECIAL_CASES = [
    # pointwise (1x1, stride 1, no padding): no im2col, the images are read in place
    ((3, 6, 5, 7), (4, 6, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    ((3, 6, 5, 7), (4, 3, 1, 1), (1, 1), (0, 0), (1, 1), 2),
    ((2, 4, 3, 3), (4, 1, 1, 1), (1, 1), (0, 0), (1, 1), 4),
    # 1x1 kernels that are not pointwise
    ((2, 3, 6, 6), (2, 3, 1, 1), (2, 2), (0, 0), (1, 1), 1),
    ((2, 3, 6, 6), (2, 3, 1, 1), (1, 1), (1, 0), (1, 1), 1),
    # scratch larger than the chunk budget (2^20 values): one image per chunk, and
    # backward_weight adds up the chunks (with groups too); two chunks of 2 images; pointwise,
    # chunks of 7 and 6 images
    ((2, 16, 64, 64), (8, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((2, 16, 64, 64), (8, 8, 3, 3), (1, 1), (1, 1), (1, 1), 2),
    ((4, 8, 64, 64), (4, 8, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((13, 64, 32, 32), (16, 64, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    # a long sequence (conv1d) and a wide kernel
    ((2, 2, 1, 300), (3, 2, 1, 7), (1, 2), (0, 3), (1, 2), 1),
]


@needs_native
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", SPECIAL_CASES)
def test_native_special_paths(x_shape, w_shape, stride, padding, dilation, groups, dtype):
    _check_native(x_shape, w_shape, stride, padding, dilation, groups, dtype, 7, _call_kernels)


@needs_native
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_native_with_any_thread_count(threads):
    """The split of work (backward_weight's parts, matmul's tiles) depends on the thread count;
    the result must not, beyond rounding. Odd and even batches, chunks split into 2 or 3 parts."""
    before = md.get_num_threads()
    md.set_num_threads(threads)
    try:
        for x_shape, w_shape, padding in [
            ((6, 3, 9, 9), (4, 3, 3, 3), 1),
            ((7, 2, 5, 5), (6, 1, 2, 2), 1),
            ((16, 2, 32, 32), (4, 2, 5, 5), 1),
            ((5, 8, 64, 64), (4, 8, 3, 3), 1),
            ((2, 64, 32, 32), (16, 64, 1, 1), 0),
        ]:  # pointwise, a part per image
            groups = x_shape[1] // w_shape[1]
            _check_native(
                x_shape, w_shape, (1, 1), (padding, padding), (1, 1), groups, np.float64, threads, _call_C
            )
    finally:
        md.set_num_threads(before)


@needs_native
def test_native_is_deterministic_and_reuses_scratch():
    """Calls of different sizes in turn (the scratch buffers grow and are reused) agree with
    fresh ones, bit for bit."""
    geometry = ((1, 1), (1, 1), (1, 1), 1)
    small = fill((2, 3, 5, 5), "real", 0).astype(np.float32), fill((4, 3, 3, 3), "real", 1).astype(np.float32)
    large = (
        fill((3, 16, 40, 40), "real", 2).astype(np.float32),
        fill((8, 16, 3, 3), "real", 3).astype(np.float32),
    )
    first = _C.conv2d_forward(*small, *geometry)
    _C.conv2d_forward(*large, *geometry)
    np.testing.assert_array_equal(_C.conv2d_forward(*small, *geometry), first)


# ---------------------------------------------------------------------------------------------
# The ops: values, gradients, empty batches


def test_conv2d_values_and_bias(kernels):
    x, w, b = fill((2, 4, 6, 5), "real", 0), fill((6, 2, 3, 2), "real", 1), fill((6,), "real", 2)
    y = F.conv2d(
        md.tensor(x), md.tensor(w), md.tensor(b), stride=(2, 1), padding=1, dilation=(1, 2), groups=2
    )
    want = _loop_forward(x, w, (2, 1), (1, 1), (1, 2), 2) + b.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    assert y.dtype == md.float64


def test_conv1d_values(kernels):
    x, w, b = fill((3, 2, 11), "real", 0), fill((4, 2, 3), "real", 1), fill((4,), "real", 2)
    y = F.conv1d(md.tensor(x), md.tensor(w), md.tensor(b), stride=2, padding=2, dilation=2)
    want = np.zeros((3, 4, _out_size(11, 3, 2, 2, 2)))
    for n, o, t in np.ndindex(*want.shape):
        for c, k in np.ndindex(2, 3):
            pos = t * 2 - 2 + k * 2
            if 0 <= pos < 11:
                want[n, o, t] += x[n, c, pos] * w[o, c, k]
    np.testing.assert_allclose(y.numpy(), want + b.reshape(1, -1, 1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel, dilation", [((3, 3), (1, 1)), ((2, 4), (1, 1)), ((3, 2), (2, 3))])
def test_padding_same_and_valid(kernels, kernel, dilation):
    x = md.tensor(fill((2, 3, 7, 6), "real", 0))
    w = md.tensor(fill((4, 3) + kernel, "real", 1))
    same = F.conv2d(x, w, padding="same", dilation=dilation)
    assert same.shape == (2, 4, 7, 6)
    # uneven 'same' padding puts the extra row/column after (PyTorch's rule)
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    padded = np.pad(
        x.numpy(),
        (
            (0, 0),
            (0, 0),
            (total[0] // 2, total[0] - total[0] // 2),
            (total[1] // 2, total[1] - total[1] // 2),
        ),
    )
    np.testing.assert_allclose(
        same.numpy(), _loop_forward(padded, w.numpy(), (1, 1), (0, 0), dilation, 1), rtol=1e-12, atol=1e-12
    )
    valid = F.conv2d(x, w, padding="valid", dilation=dilation)
    np.testing.assert_allclose(valid.numpy(), F.conv2d(x, w, dilation=dilation).numpy())
    seq = F.conv1d(
        md.tensor(fill((1, 3, 9), "real", 2)), md.tensor(fill((2, 3, 4), "real", 3)), padding="same"
    )
    assert seq.shape == (1, 2, 9)


@with_fixtures
@given(st.data(), geometries(max_batch=2, max_channels=2, max_groups=2, max_kernel=3, max_extra=3))
def test_conv2d_gradcheck(kernels, data, geometry):
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    if x_shape[0] == 0:
        x_shape = (1,) + x_shape[1:]
    x = leaf(data.draw(arrays(x_shape), label="x"))
    w = leaf(data.draw(arrays(w_shape), label="weight"))
    b = (
        leaf(data.draw(arrays((w_shape[0],)), label="bias"))
        if data.draw(st.booleans(), label="bias?")
        else None
    )
    as_int = data.draw(st.booleans(), label="int args")  # ints where both axes agree, pairs otherwise
    args = [v[0] if as_int and v[0] == v[1] else v for v in (stride, padding, dilation)]

    def fn(*t):
        return F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, *args, groups)

    assert md.gradcheck(fn, (x, w) if b is None else (x, w, b))


@with_fixtures
@given(st.data(), geometries(max_batch=2, max_channels=2, max_groups=2, max_kernel=4, conv1d=True))
def test_conv1d_gradcheck(kernels, data, geometry):
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    x_shape, w_shape = (max(x_shape[0], 1), x_shape[1], x_shape[3]), (w_shape[0], w_shape[1], w_shape[3])
    x = leaf(data.draw(arrays(x_shape), label="x"))
    w = leaf(data.draw(arrays(w_shape), label="weight"))
    b = leaf(data.draw(arrays((w_shape[0],)), label="bias"))
    fn = lambda a, c, d: F.conv1d(a, c, d, stride[1], padding[1], dilation[1], groups)  # noqa: E731
    assert md.gradcheck(fn, (x, w, b))


@pytest.mark.parametrize(
    "case",
    [
        ((1, 2, 4, 5), (3, 2, 2, 3), dict(stride=(2, 1), padding=1, dilation=(1, 2))),
        ((2, 4, 4, 4), (2, 2, 3, 3), dict(padding="same", groups=2)),
    ],
)
def test_conv2d_gradgradcheck(kernels, case):
    """Second derivatives: the backward kernels are themselves differentiable Functions."""
    x_shape, w_shape, options = case
    x, w = leaf(fill(x_shape, "real", 0)), leaf(fill(w_shape, "real", 1))
    b = leaf(fill((w_shape[0],), "real", 2))
    assert md.gradgradcheck(lambda a, c, d: F.conv2d(a, c, d, **options), (x, w, b))


def test_empty_batch(kernels):
    x = md.zeros(0, 3, 5, 5, requires_grad=True)
    w = md.tensor(fill((4, 3, 3, 3), "real", 0)).float().requires_grad_()
    b = md.zeros(4, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    assert y.shape == (0, 4, 5, 5) and y.dtype == md.float32
    y.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 3, 3, 3), np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(4, np.float32))


def test_empty_batch_never_reaches_the_kernel(monkeypatch):
    def fail(name, array):
        raise AssertionError(f"{name} was dispatched for an empty batch")

    monkeypatch.setattr(dispatch, "_implementation", fail)
    x, w = np.zeros((0, 2, 4, 4), np.float32), np.ones((3, 2, 3, 3), np.float32)
    assert dispatch.conv2d_forward(x, w, (1, 1), (0, 0), (1, 1), 1).shape == (0, 3, 2, 2)
    g = np.zeros((0, 3, 2, 2), np.float32)
    assert dispatch.conv2d_backward_input(g, w, (0, 2, 4, 4), (1, 1), (0, 0), (1, 1), 1).shape == (0, 2, 4, 4)
    gw = dispatch.conv2d_backward_weight(g, x, (3, 2, 3, 3), (1, 1), (0, 0), (1, 1), 1)
    assert gw.shape == (3, 2, 3, 3) and not gw.any()


def test_float32_stays_float32(kernels):
    x = md.tensor(fill((2, 3, 6, 6), "real", 0)).float().requires_grad_()
    w = md.tensor(fill((4, 3, 3, 3), "real", 1)).float().requires_grad_()
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == md.float32


# ---------------------------------------------------------------------------------------------
# Bad input


def _t(shape, dtype=np.float64):
    return md.tensor(np.ones(shape, dtype))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: F.conv2d(_t((3, 5, 5)), _t((2, 3, 3, 3))), ValueError, ["conv2d", "4-d input", "(3, 5, 5)"]),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3))),
            ValueError,
            ["conv2d", "4-d weight", "(2, 3, 3)"],
        ),
        (
            lambda: F.conv1d(_t((1, 3, 5, 5)), _t((2, 3, 3))),
            ValueError,
            ["conv1d", "3-d input", "(1, 3, 5, 5)"],
        ),
        (lambda: F.conv1d(_t((1, 3, 5)), _t((2, 3, 3, 3))), ValueError, ["conv1d", "3-d weight"]),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 2, 3, 3))),
            ValueError,
            ["conv2d", "3 channels", "(2, 2, 3, 3)"],
        ),
        (
            lambda: F.conv2d(_t((1, 4, 5, 5)), _t((3, 2, 3, 3)), groups=2),
            ValueError,
            ["conv2d", "divisible by groups=2"],
        ),
        (lambda: F.conv2d(_t((1, 4, 5, 5)), _t((4, 4, 3, 3)), groups=0), ValueError, ["conv2d", "groups"]),
        (
            lambda: F.conv2d(_t((1, 3, 4, 4)), _t((2, 3, 5, 5))),
            ValueError,
            ["conv2d", "larger than the padded input"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 4, 4)), _t((2, 3, 3, 3)), dilation=2),
            ValueError,
            ["conv2d", "larger than the padded"],
        ),
        (
            lambda: F.conv1d(_t((1, 3, 4)), _t((2, 3, 6)), padding=0),
            ValueError,
            ["conv1d", "larger than the padded input"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), stride=0),
            ValueError,
            ["conv2d", "stride", "positive"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), dilation=(1, 0)),
            ValueError,
            ["conv2d", "dilation"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), padding=-1),
            ValueError,
            ["conv2d", "padding", "non-negative"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), stride=(1, 2, 3)),
            TypeError,
            ["conv2d", "stride"],
        ),
        (lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), padding=1.5), TypeError, ["conv2d", "padding"]),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), padding="full"),
            ValueError,
            ["conv2d", "'same'"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), stride=2, padding="same"),
            ValueError,
            ["conv2d", "stride 1"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3)), _t((3,))),
            ValueError,
            ["conv2d", "bias", "(2,)"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5), np.float32), _t((2, 3, 3, 3))),
            TypeError,
            ["conv2d", "float32", "float64"],
        ),
        (
            lambda: F.conv2d(_t((1, 3, 5, 5), np.int64), _t((2, 3, 3, 3), np.int64)),
            TypeError,
            ["conv2d", "floating-point"],
        ),
        (lambda: F.conv2d(np.ones((1, 3, 5, 5)), _t((2, 3, 3, 3))), TypeError, ["conv2d", "Tensor"]),
    ],
)
def test_op_errors(kernels, call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"


X, W = np.ones((2, 3, 5, 5), np.float32), np.ones((4, 3, 3, 3), np.float32)
G = np.ones((2, 4, 3, 3), np.float32)
GEOM = ((1, 1), (0, 0), (1, 1), 1)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (
            lambda: dispatch.conv2d_forward(X.astype(np.int32), W.astype(np.int32), *GEOM),
            TypeError,
            ["conv2d_forward", "int32"],
        ),
        (
            lambda: dispatch.conv2d_forward(X, W.astype(np.float64), *GEOM),
            TypeError,
            ["conv2d_forward", "one dtype"],
        ),
        (lambda: dispatch.conv2d_forward(X[0], W, *GEOM), ValueError, ["conv2d_forward", "4-d", "(3, 5, 5)"]),
        (
            lambda: dispatch.conv2d_forward(X, W[:, :2], *GEOM),
            ValueError,
            ["conv2d_forward", "3 channels", "(4, 2, 3, 3)"],
        ),
        (
            lambda: dispatch.conv2d_forward(X, W[:3], (1, 1), (0, 0), (1, 1), 3),
            ValueError,
            ["conv2d_forward", "3 channels"],
        ),
        (
            lambda: dispatch.conv2d_forward(
                np.ones((2, 4, 5, 5), np.float32),
                np.ones((3, 2, 3, 3), np.float32),
                (1, 1),
                (0, 0),
                (1, 1),
                2,
            ),
            ValueError,
            ["conv2d_forward", "divisible"],
        ),
        (
            lambda: dispatch.conv2d_forward(X, W, (1, 1), (0, 0), (3, 3), 1),
            ValueError,
            ["conv2d_forward", "larger than the padded input", "(2, 3, 5, 5)"],
        ),
        (
            lambda: dispatch.conv2d_forward(X, W, (0, 1), (0, 0), (1, 1), 1),
            ValueError,
            ["conv2d_forward", "stride"],
        ),
        (
            lambda: dispatch.conv2d_forward(X, W, (1, 1), (0, -1), (1, 1), 1),
            ValueError,
            ["conv2d_forward", "padding"],
        ),
        (
            lambda: dispatch.conv2d_forward(X, W, (1, 1), (0, 0), (1, 1), 0),
            ValueError,
            ["conv2d_forward", "groups"],
        ),
        (
            lambda: dispatch.conv2d_backward_input(G[:, :, :2], W, X.shape, *GEOM),
            ValueError,
            ["conv2d_backward_input", "output shape (2, 4, 3, 3)"],
        ),
        (
            lambda: dispatch.conv2d_backward_input(G, W, (2, 3, 5), *GEOM),
            ValueError,
            ["conv2d_backward_input", "input_shape"],
        ),
        (
            lambda: dispatch.conv2d_backward_input(G, W, "abcd", *GEOM),
            TypeError,
            ["conv2d_backward_input", "input_shape"],
        ),
        (
            lambda: dispatch.conv2d_backward_weight(G, X, (4, 3, 3), *GEOM),
            ValueError,
            ["conv2d_backward_weight", "weight_shape"],
        ),
        (
            lambda: dispatch.conv2d_backward_weight(G, X, (4, 3, 2, 2), *GEOM),
            ValueError,
            ["conv2d_backward_weight", "output shape (2, 4, 4, 4)"],
        ),
        (
            lambda: dispatch.conv2d_backward_weight(G.astype(np.float64), X, W.shape, *GEOM),
            TypeError,
            ["conv2d_backward_weight", "one dtype"],
        ),
    ],
)
def test_kernel_errors(kernels, call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"


def test_kernels_accept_non_contiguous_views(kernels):
    x = fill((2, 3, 6, 8), "real", 0)[:, :, :, ::2]
    w = fill((3, 3, 2, 4), "real", 1).transpose(0, 1, 3, 2)  # (3, 3, 4, 2), F-ordered kernels
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    got = dispatch.conv2d_forward(x, w, (1, 1), (1, 1), (1, 1), 1)
    np.testing.assert_allclose(got, _loop_forward(x, w, (1, 1), (1, 1), (1, 1), 1), rtol=1e-12, atol=1e-12)


@needs_native
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: _C.conv2d_forward(X[0], W, *GEOM), ValueError, ["conv2d_forward", "4-d"]),
        (
            lambda: _C.conv2d_forward(X, np.ones((4, 2, 3, 3), np.float32), *GEOM),
            ValueError,
            ["conv2d_forward", "channels"],
        ),
        (
            lambda: _C.conv2d_forward(X, W, (1, 1), (0, 0), (3, 3), 1),
            ValueError,
            ["conv2d_forward", "larger"],
        ),
        (
            lambda: _C.conv2d_forward(X, W, (1, 1), (0, 0), (1, 1), 0),
            ValueError,
            ["conv2d_forward", "groups"],
        ),
        (lambda: _C.conv2d_forward(X, W, (1,), (0, 0), (1, 1), 1), ValueError, ["conv2d_forward", "stride"]),
        (
            lambda: _C.conv2d_forward(X, W, (1, 1), (0, 0), (1, 1 << 40), 1),
            ValueError,
            ["conv2d_forward", "2^31"],
        ),
        (
            lambda: _C.conv2d_forward(X, W, (1, 1), (1 << 40, 0), (1, 1), 1),
            ValueError,
            ["conv2d_forward", "2^31"],
        ),
        (lambda: _C.conv2d_forward(X, W.astype(np.float64), *GEOM), TypeError, []),
        (lambda: _C.conv2d_forward(X.astype(np.int64), W.astype(np.int64), *GEOM), TypeError, []),
        (lambda: _C.conv2d_forward(X[:, :, :, ::2], W, *GEOM), TypeError, []),  # not contiguous
        (
            lambda: _C.conv2d_backward_input(G, W, (2, 3, 9, 9), *GEOM),
            ValueError,
            ["conv2d_backward_input", "grad_out"],
        ),
        (lambda: _C.conv2d_backward_input(G, W, (2, -3, 5, 5), *GEOM), ValueError, ["conv2d_backward_input"]),
        (
            lambda: _C.conv2d_backward_input(G, W, (2, 3, 5), *GEOM),
            ValueError,
            ["conv2d_backward_input", "input_shape"],
        ),
        (
            lambda: _C.conv2d_backward_weight(G, X, (4, 3, 3, 3, 1), *GEOM),
            ValueError,
            ["conv2d_backward_weight"],
        ),
        (
            lambda: _C.conv2d_backward_weight(G, X, (4, 3, 0, 3), *GEOM),
            ValueError,
            ["conv2d_backward_weight"],
        ),
        (
            lambda: _C.conv2d_backward_weight(G[:1], X, W.shape, *GEOM),
            ValueError,
            ["conv2d_backward_weight", "grad_out"],
        ),
        (
            lambda: _C.conv2d_backward_weight(G, X, (4, 3, 3, 3), (1, 1), (0, 0), (1, 1), 2),
            ValueError,
            ["conv2d_backward_weight", "channels"],
        ),
    ],
)
def test_native_module_rejects_bad_calls(call, error, words):
    """minidl._C called directly (skipping backend.kernels) raises instead of crashing."""
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"
