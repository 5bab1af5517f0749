"""Trigonometric and hyperbolic functions (functional/trig.py): tan, asin, acos, atan, atan2, sinh,
cosh, asinh, acosh, atanh.

- gradcheck in float64 over hypothesis-drawn shapes (0-d, size-1 dims, non-contiguous views),
  each function on its domain with a margin (acosh on x >= 1.5, asin/acos/atanh on |x| <= 0.8);
- PyTorch comparison of values, dtypes and gradients in float32 and float64, over shapes with
  size-0 and size-1 dims and every layout; integer and bool inputs give float32, as in PyTorch;
- outside the domain (NaN), atan2 at the origin (gradient 0) and in every quadrant;
- bad input: a non-tensor, shapes that do not broadcast.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, dtype_of_result, torch

import minidl as md
from minidl.errors import ShapeError

from strategies import LAYOUTS, broadcastable_shapes, fill, leaf, shapes, with_layout

# name: (ours, PyTorch's, value kind, scale, shift): values kind * scale + shift lie in the domain
UNARY = {
    "tan": (md.tan, torch.tan, "real", 0.6, 0.0),  # |x| <= 1.2, away from the pole at pi/2
    "asin": (md.asin, torch.asin, "real", 0.4, 0.0),
    "acos": (md.acos, torch.acos, "real", 0.4, 0.0),
    "atan": (md.atan, torch.atan, "real", 2.0, 0.0),
    "sinh": (md.sinh, torch.sinh, "real", 1.0, 0.0),
    "cosh": (md.cosh, torch.cosh, "real", 1.0, 0.0),
    "asinh": (md.asinh, torch.asinh, "real", 2.0, 0.0),
    "acosh": (md.acosh, torch.acosh, "positive", 1.0, 1.0),  # x in [1.5, 3]
    "atanh": (md.atanh, torch.atanh, "real", 0.4, 0.0),
}


@st.composite
def values(draw, kind="real", scale=1.0, shift=0.0, min_side=1, shape=None):
    shape = draw(shapes(min_side=min_side)) if shape is None else shape
    seed = draw(st.integers(0, 2**32 - 1))
    return with_layout(fill(shape, kind, seed) * scale + shift, draw(st.sampled_from(LAYOUTS)))


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_gradcheck(name, data):
    ours, _, kind, scale, shift = UNARY[name]
    x = data.draw(values(kind, scale, shift))
    assert md.gradcheck(ours, (leaf(x),))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_against_pytorch(name, dtype, data):
    ours, theirs, kind, scale, shift = UNARY[name]
    x = data.draw(values(kind, scale, shift, min_side=0))
    compare(ours, theirs, x if dtype == np.float64 else x.astype(dtype))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_and_bool_inputs_give_float32(name, dtype):
    ours, theirs, *_ = UNARY[name]
    x = np.array([0, 1, 2, 1]).astype(dtype)
    compare(ours, theirs, x)
    dtype_of_result(ours, theirs, x)


@pytest.mark.parametrize("name", ["asin", "acos", "acosh", "atanh"])
def test_outside_the_domain_is_nan_as_in_pytorch(name):
    ours, theirs, *_ = UNARY[name]
    compare(ours, theirs, np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 3.0]))


@pytest.mark.parametrize("name", UNARY)
def test_methods(name):
    x = md.tensor([1.25, 1.5])
    np.testing.assert_array_equal(getattr(x, name)().numpy(), UNARY[name][0](x).numpy())


# -- atan2 --------------------------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(data=st.data(), pair=broadcastable_shapes())
def test_atan2_gradcheck(data, pair):
    y = data.draw(values("nonzero", shape=pair[0]))
    x = data.draw(values("nonzero", shape=pair[1]))
    assert md.gradcheck(md.atan2, (leaf(y), leaf(x)))
    assert md.gradcheck(lambda t: md.atan2(t, 0.5), (leaf(y),))
    assert md.gradcheck(lambda t: md.atan2(-1.5, t), (leaf(x),))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=25, deadline=None)
@given(data=st.data(), pair=broadcastable_shapes())
def test_atan2_against_pytorch(dtype, data, pair):
    y = data.draw(values("real", shape=pair[0])).astype(dtype)
    x = data.draw(values("real", shape=pair[1])).astype(dtype)
    compare(md.atan2, torch.atan2, y, x)
    compare(lambda a: a.atan2(md.tensor(0.5)), lambda a: a.atan2(torch.tensor(0.5)), y)


def test_atan2_quadrants_origin_and_size_0():
    # each quadrant, the axes, signed zeros, and the origin, where PyTorch's gradient is 0 (not nan)
    y = np.array([1.0, 1.0, -1.0, -1.0, 0.0, -0.0, 0.0, 2.0, 0.0])
    x = np.array([1.0, -1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 0.0, 0.0])
    compare(md.atan2, torch.atan2, y, x)
    compare(md.atan2, torch.atan2, np.zeros((0, 3)), np.zeros((2, 1, 1)))


def test_atan2_dtypes_follow_promotion():
    i32, f64 = np.array([1, 2], np.int32), np.array([1.0, 2.0])
    dtype_of_result(md.atan2, torch.atan2, i32, i32)  # float32
    dtype_of_result(md.atan2, torch.atan2, i32, f64)  # float64
    dtype_of_result(md.atan2, torch.atan2, f64.astype(np.float32), np.array(2.0))  # 0-d: float32


def test_bad_input():
    with pytest.raises(ShapeError, match=r"atan2: shapes \(2,\) and \(3,\) cannot be broadcast"):
        md.atan2(md.ones(2), md.ones(3))
    with pytest.raises(TypeError, match="atan2: expected a Tensor operand, got float and float"):
        md.atan2(1.0, 2.0)
    with pytest.raises(ShapeError, match="atan2"):
        md.atan2(md.ones(2, 3), 2.0 * md.ones(4, 1, 2))
