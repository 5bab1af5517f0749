"""The PyTorch activation zoo (elu, selu, celu, silu, mish, hardswish, hardsigmoid, hardtanh,
relu6, softsign, logsigmoid), softmin and F.normalize, functional and as layers.

- gradcheck in float64 over hypothesis-drawn shapes (0-d and size-1 dims, non-contiguous views),
  with values that stay away from every kink (``KINK_FREE``);
- PyTorch comparison of values, dtypes and gradients in float32 and float64, over shapes with
  size-0 and size-1 dims and non-contiguous layouts;
- the kinks themselves (0, the hardtanh bounds, +-3, 6) and extreme inputs (+-1000, a tiny celu
  alpha) against PyTorch, point by point: there PyTorch picks a subgradient and we must pick it too;
- the layers against torch.nn (repr, forward) and every bad input's error.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, compare, dtype_of_result, torch

import minidl as md
import minidl.nn.functional as F
from minidl.errors import DTypeError, ShapeError

from strategies import LAYOUTS, dims, fill, leaf, shapes, with_layout

TF = torch.nn.functional

# name: (ours, PyTorch's). Parameterised variants put their kinks somewhere other than 0 or +-1.
OPS = {
    "elu": (F.elu, TF.elu),
    "elu(alpha=2)": (lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0)),
    "selu": (F.selu, TF.selu),
    "celu": (F.celu, TF.celu),
    "celu(alpha=0.5)": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5)),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "hardswish": (F.hardswish, TF.hardswish),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh(-2, 3)": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0)),
    "relu6": (F.relu6, TF.relu6),
    "softsign": (F.softsign, TF.softsign),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
}

FLOAT_ONLY = ["elu", "selu", "celu", "silu", "mish", "hardswish", "hardsigmoid", "logsigmoid"]

# Every kink above (0, +-1, -2, +-3, 6) is a whole number; (k + 0.5) * 0.35 never comes within
# 0.025 of one (the finite-difference step is 1e-6), and spans [-6.8, 6.8], past them all.
KINK_FREE = 3.5


def in_layout(array, layout):
    """``with_layout`` keeping the array's dtype (its strided buffer is float64 NaNs)."""
    if layout == "strided" and array.ndim:
        buffer = np.full(array.shape[:-1] + (2 * array.shape[-1],), np.nan, array.dtype)
        buffer[..., ::2] = array
        return buffer[..., ::2]
    return with_layout(array, layout)


@st.composite
def inputs(draw, dtype=np.float64, kind="real", scale=1.0, min_side=1, min_dims=0):
    shape = draw(shapes(min_dims=min_dims, min_side=min_side))
    seed = draw(st.integers(0, 2**32 - 1))
    layout = draw(st.sampled_from(LAYOUTS))
    return in_layout((fill(shape, kind, seed) * scale).astype(dtype), layout)


# -- gradcheck ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPS)
@settings(max_examples=10, deadline=None)
@given(x=inputs(kind="offgrid", scale=KINK_FREE))
def test_gradcheck(name, x):
    ours, _ = OPS[name]
    assert md.gradcheck(ours, (leaf(x),))


# -- PyTorch: values, dtypes and gradients -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_matches_pytorch(name, dtype, data):
    x = data.draw(inputs(dtype, scale=4.0, min_side=0))  # size-0 dims too
    ours, theirs = OPS[name]
    compare(ours, theirs, x)


# Where the op has a kink, and where a naive formula overflows.
SPECIAL = [
    -1000.0,
    -30.0,
    -6.5,
    -6.0,
    -3.0,
    -2.0,
    -1.0,
    -1e-3,
    0.0,
    1e-3,
    1.0,
    2.0,
    3.0,
    6.0,
    6.5,
    30.0,
    1000.0,
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", OPS)
def test_kinks_and_extremes_match_pytorch(name, dtype):
    ours, theirs = OPS[name]
    x = np.array(SPECIAL, dtype)
    compare(ours, theirs, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning either (invalid value, divide by zero)
        x = md.tensor(x, requires_grad=True)
        out = ours(x)
        out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "ours, theirs, points",
    [
        # the slope each picks at a kink, checked one point at a time
        (lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0), [0.0]),  # 2 (the negative side's)
        (F.selu, TF.selu, [0.0]),  # scale * alpha
        (F.hardtanh, TF.hardtanh, [-1.0, 1.0]),  # 0
        (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0), [-2.0, 3.0]),
        (F.relu6, TF.relu6, [0.0, 6.0]),  # 0
        (F.hardswish, TF.hardswish, [-3.0, 3.0]),  # 0 and 1
        (F.hardsigmoid, TF.hardsigmoid, [-3.0, 3.0]),  # 0
    ],
)
def test_gradient_at_each_kink_is_pytorchs(ours, theirs, points, dtype):
    for point in points:
        x = md.tensor(np.array(point, dtype), requires_grad=True)
        t = torch.tensor(np.array(point, dtype), requires_grad=True)
        ours(x).backward()
        theirs(t).backward()
        assert x.grad.item() == t.grad.item(), f"slope at {point}: {x.grad.item()}, PyTorch {t.grad.item()}"


def test_stable_where_naive_formulas_overflow():
    big = md.tensor([-1000.0, 1000.0], dtype=md.float64)
    np.testing.assert_array_equal(F.logsigmoid(big).numpy(), [-1000.0, 0.0])
    np.testing.assert_array_equal(F.silu(big).numpy(), [0.0, 1000.0])
    np.testing.assert_array_equal(F.mish(big).numpy(), [0.0, 1000.0])
    # a tiny alpha makes x / alpha huge on both sides
    compare(lambda x: F.celu(x, 1e-3), lambda x: TF.celu(x, 1e-3), np.array([-5.0, -1e-3, 0.0, 1e-4, 5.0]))
    compare(
        lambda x: F.celu(x, 1e-3),
        lambda x: TF.celu(x, 1e-3),
        np.array([-5.0, -1e-3, 0.0, 1e-4, 5.0], np.float32),
    )


def test_second_derivative_of_a_smooth_activation():
    x = leaf(fill((3, 2), "real", 1))
    gelu_tanh = lambda a: F.gelu(a, approximate="tanh")  # noqa: E731
    for op in (F.silu, F.mish, F.logsigmoid, F.elu, F.softsign, F.gelu, gelu_tanh):
        assert md.gradgradcheck(op, (x,))


# -- integer and bool inputs: as PyTorch ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_hardtanh_relu6_softsign_follow_pytorch(dtype):
    x = np.array([0, 1, 2, 5, 9, 200], dtype)
    compare(F.relu6, TF.relu6, x)
    compare(F.softsign, TF.softsign, x)  # the default float dtype
    dtype_of_result(F.softsign, TF.softsign, x)
    bounds = (0.0, 1.5) if dtype == np.uint8 else (-1.5, 1.5)
    compare(lambda t: F.hardtanh(t, *bounds), lambda t: TF.hardtanh(t, *bounds), x)
    if dtype != np.uint8:
        compare(lambda t: F.hardtanh(t, -2.7, 3.9), lambda t: TF.hardtanh(t, -2.7, 3.9), -x)


@pytest.mark.parametrize("name", FLOAT_ONLY)
@pytest.mark.parametrize("dtype", [md.int64, md.int32, md.uint8, md.bool_])
def test_float_only_ops_refuse_integers(name, dtype):
    with pytest.raises(DTypeError, match=rf"{name}: expected a floating-point tensor, got {dtype}"):
        getattr(F, name)(md.zeros(3, dtype=dtype))
    with pytest.raises(RuntimeError):  # PyTorch raises NotImplementedError, a RuntimeError
        getattr(F, name)(md.zeros(3, dtype=dtype))


@pytest.mark.parametrize("op", [F.hardtanh, F.relu6, F.softsign])
def test_bool_is_refused(op):
    with pytest.raises(DTypeError, match=r"not implemented for bool"):
        op(md.tensor([True, False]))


def test_unsigned_hardtanh_with_a_negative_bound():
    with pytest.raises(DTypeError, match=r"hardtanh: min_val -1.0 is negative, which uint8 cannot hold"):
        F.hardtanh(md.tensor([1, 2], dtype=md.uint8))


# -- bad arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*FLOAT_ONLY, "hardtanh", "relu6", "softsign", "softmin", "normalize"])
def test_non_tensor_input(name):
    args = (0,) if name == "softmin" else ()
    with pytest.raises(TypeError, match=rf"{name}: expected a Tensor, got list"):
        getattr(F, name)([1.0, 2.0], *args)


def test_bad_parameters():
    x = md.randn(3)
    with pytest.raises(TypeError, match=r"elu: alpha must be a number, got 'a'"):
        F.elu(x, "a")
    with pytest.raises(TypeError, match=r"celu: alpha must be a number, got None"):
        F.celu(x, None)
    with pytest.raises(ValueError, match=r"celu: alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(TypeError, match=r"hardtanh: max_val must be a number, got '1'"):
        F.hardtanh(x, 0.0, "1")
    assert (F.hardtanh(x, 0.5, 0.5).numpy() == 0.5).all()  # equal bounds are allowed, as in PyTorch


# -- softmin -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_softmin_matches_pytorch(dtype, data):
    x = data.draw(inputs(dtype, scale=3.0, min_side=0))
    dim = data.draw(dims(x.ndim, allow_none=False, allow_tuple=False))
    compare(lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim), x)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_softmin_gradcheck(data):
    x = data.draw(inputs())
    dim = data.draw(dims(x.ndim, allow_none=False, allow_tuple=False))
    assert md.gradcheck(lambda t: F.softmin(t, dim), (leaf(x),))


def test_softmin_dtype_casts_first():
    x = np.array([[1, 2, 3], [0, 0, 1]], np.int64)
    compare(lambda t: F.softmin(t, 1, dtype=md.float32), lambda t: TF.softmin(t, 1, dtype=torch.float32), x)
    with pytest.raises(TypeError, match=r"softmin: expected a float32 or float64 tensor, got int64"):
        F.softmin(md.tensor(x), 1)
    with pytest.raises(IndexError, match=r"softmin: dim 2 is out of range"):
        F.softmin(md.randn(2, 3), 2)


def test_softmin_layer_warns_without_dim():
    x = md.randn(2, 3)
    with pytest.warns(UserWarning, match=r"Softmin: no dim given; using dim=1 for a 2-d input"):
        y = md.nn.Softmin()(x)
    np.testing.assert_allclose(y.numpy(), F.softmin(x, 1).numpy())


# -- normalize -----------------------------------------------------------------------------------------

NORMS = [2.0, 1.0, 0.0, math.inf, -math.inf, 3.0, 1.5, 0.5, -1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", NORMS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_normalize_matches_pytorch(p, dtype, data):
    x = data.draw(inputs(dtype, min_side=0, min_dims=1))
    dim = data.draw(dims(x.ndim))
    empty_slice = any(x.shape[d] == 0 for d in (range(x.ndim) if dim is None else np.atleast_1d(dim)))
    if empty_slice and (p < 0 or p == math.inf):
        with pytest.raises(ShapeError, match=r"normalize: the p=.* norm of an empty slice"):
            F.normalize(md.tensor(x), p, dim)
        with pytest.raises(RuntimeError):  # so does PyTorch
            TF.normalize(torch.tensor(x), p, dim)
        return
    compare(lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim), x, **_rounding(x, dim))


def _rounding(x, dim):
    """float32 tolerances for normalize. Its gradient is of size |g| / ||x||, and so is its
    rounding error in units of eps: along a size-1 slice the exact gradient is 0 and both
    frameworks return rounding noise of about eps / |x|. So the absolute tolerance is the default
    float32 one, times the largest 1 / ||x|| the input can have (slice length over the smallest
    nonzero |x|, which bounds 1 / ||x||_p for every p this test draws). float64 keeps the default."""
    if x.dtype != np.float32 or x.size == 0 or not np.any(x):
        return {}
    length = x.size if dim is None else math.prod(x.shape[d] for d in np.atleast_1d(dim))
    scale = max(1.0, length / float(np.min(np.abs(x[x != 0]))))
    return dict(rtol=2e-5, atol=2e-6 * scale)


@pytest.mark.parametrize("p", NORMS)
def test_normalize_zero_slices_and_ties_match_pytorch(p):
    # a zero row (its norm is 0: PyTorch's gradient there is g / eps), ties for the max, a 0-d input
    x = np.array([[0.0, 0.0, 0.0], [3.0, -3.0, 1.0], [1e-13, 0.0, -2e-13]])
    for dim in (0, 1, (0, 1)):
        compare(lambda t: F.normalize(t, p, dim), lambda t: TF.normalize(t, p, dim), x)
    compare(lambda t: F.normalize(t, p, 0), lambda t: TF.normalize(t, p, 0), np.array(-2.5))


@pytest.mark.parametrize(
    "p, kind",
    [
        (2.0, "real"),
        (3.0, "real"),
        (1.5, "real"),
        (1.0, "nonzero"),
        (0.5, "nonzero"),
        (-1.0, "nonzero"),
        (math.inf, "positive"),
    ],
)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_normalize_gradcheck(p, kind, data):
    x = data.draw(inputs(kind=kind))
    dim = data.draw(dims(x.ndim))
    assert md.gradcheck(lambda t: F.normalize(t, p, dim), (leaf(x),))


def test_normalize_bad_input():
    x = md.randn(2, 3)
    with pytest.raises(DTypeError, match=r"normalize: expected a floating-point tensor, got int64"):
        F.normalize(md.tensor([[1, 2]]))
    with pytest.raises(TypeError, match=r"normalize: p must be a real number, got 'nuc'"):
        F.normalize(x, p="nuc")
    with pytest.raises(TypeError, match=r"normalize: p must be a real number, got nan"):
        F.normalize(x, p=math.nan)
    with pytest.raises(TypeError, match=r"normalize: eps must be a real number, got None"):
        F.normalize(x, eps=None)
    with pytest.raises(IndexError, match=r"normalize: dim 2 is out of range"):
        F.normalize(x, dim=2)
    with pytest.raises(IndexError, match=r"normalize: dim 1 is out of range"):
        F.normalize(md.randn(3))  # the default dim=1, as in PyTorch


# -- layers ----------------------------------------------------------------------------------------

LAYERS = [
    "ELU()",
    "ELU(2, True)",
    "ELU(alpha=0.5)",
    "SELU()",
    "SELU(inplace=True)",
    "CELU()",
    "CELU(0.1, inplace=True)",
    "SiLU()",
    "SiLU(True)",
    "Mish()",
    "Mish(inplace=True)",
    "Hardswish(inplace=True)",
    "Hardsigmoid()",
    "Hardsigmoid(inplace=True)",
    "Hardtanh()",
    "Hardtanh(-2, 3, True)",
    "Hardtanh(min_val=0.5, max_val=2.5)",
    "ReLU6()",
    "ReLU6(inplace=True)",
    "Softsign()",
    "LogSigmoid()",
    "Softmin(dim=1)",
    "Softmin(0)",
    "Softmin()",
]


@pytest.mark.parametrize("spec", LAYERS)
def test_layers_match_torch_nn(spec):
    ours, theirs = eval("md.nn." + spec), eval("torch.nn." + spec)
    assert repr(ours) == repr(theirs)
    if spec == "Softmin()":
        return  # the implicit dim warns: test_softmin_layer_warns_without_dim
    x = (fill((3, 4), "real", 7) * 4).astype(np.float32)
    # PyTorch's inplace layers refuse a leaf that requires grad: give them a copy of it
    compare(ours, lambda t: theirs(t.clone()), x)


def test_layer_bad_input():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"):
        md.nn.Hardtanh(1.0, 1.0)
    with pytest.raises(TypeError, match=r"SiLU\(\) expected a floating-point input, got int64"):
        md.nn.SiLU()(md.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"ReLU6\(\) expected a Tensor input, got list"):
        md.nn.ReLU6()([1.0])
    with pytest.raises(ValueError, match=r"celu: alpha cannot be 0"):
        md.nn.CELU(0.0)(md.randn(2))
    assert md.nn.ReLU6()(md.tensor([-1, 3, 8])).tolist() == [0, 3, 6]  # integers pass, as in PyTorch


def test_top_level_functions():
    # PyTorch has torch.selu and torch.celu (and none of these as Tensor methods)
    x = np.array([-1.0, 0.5])
    assert_same(md.selu(md.tensor(x)), torch.selu(torch.tensor(x)))
    assert_same(md.celu(md.tensor(x), 0.5), torch.celu(torch.tensor(x), 0.5))
