"""Rounding and integer division (functional/rounding.py): floor, ceil, trunc, round (decimals),
frac, fmod, remainder and ``%``, floor_divide and ``//``, div(rounding_mode=...).

- gradcheck in float64 over hypothesis-drawn shapes: the roundings on values away from their
  jumps (zero gradient, not a cut graph), frac, fmod and remainder (d/db = -trunc or -floor(a/b));
- PyTorch comparison of values, dtypes and gradients, float32 and float64, size-0 and size-1 dims,
  every layout, signs of both operands, halves (round half to even), integer operands (integer
  results, floor vs trunc on negatives) and PyTorch's result dtypes under promotion;
- bad input: bool tensors, frac and round(decimals) of integers, integer division by zero, a bad
  rounding_mode, shapes that do not broadcast.
"""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, dtype_of_result, torch

import minidl as md
from minidl.errors import DTypeError, ShapeError

from strategies import LAYOUTS, broadcastable_shapes, fill, leaf, shapes, with_layout

# name: (ours, PyTorch's, value kind whose values stay >= 0.025 from the op's jumps)
ROUNDINGS = {
    "floor": (md.floor, torch.floor, "offgrid"),
    "ceil": (md.ceil, torch.ceil, "offgrid"),
    "trunc": (md.trunc, torch.trunc, "offgrid"),
    "round": (md.round, torch.round, "offgrid"),  # jumps at halves; offgrid is k/10 + 0.05
    "round(decimals=1)": (lambda x: md.round(x, decimals=1), lambda x: torch.round(x, decimals=1), "grid0"),
    "round(decimals=-1)": (
        lambda x: md.round(x, decimals=-1),
        lambda x: torch.round(x, decimals=-1),
        "offgrid",
    ),
    "frac": (md.frac, torch.frac, "offgrid"),
}

# name: (ours, PyTorch's)
DIVISIONS = {
    "fmod": (md.fmod, torch.fmod),
    "remainder": (md.remainder, torch.remainder),
    "%": (operator.mod, operator.mod),
    "floor_divide": (md.floor_divide, torch.floor_divide),
    "//": (operator.floordiv, operator.floordiv),
    "div(trunc)": (
        lambda a, b: md.div(a, b, rounding_mode="trunc"),
        lambda a, b: torch.div(a, b, rounding_mode="trunc"),
    ),
    "div(floor)": (
        lambda a, b: md.div(a, b, rounding_mode="floor"),
        lambda a, b: torch.div(a, b, rounding_mode="floor"),
    ),
}
# PyTorch has no derivative for floor_divide; ours is zero, like div(rounding_mode="floor")
NO_TORCH_GRAD = {"floor_divide", "//"}


@st.composite
def values(draw, kind="real", scale=1.0, min_side=1, shape=None):
    shape = draw(shapes(min_side=min_side)) if shape is None else shape
    seed = draw(st.integers(0, 2**32 - 1))
    return with_layout(fill(shape, kind, seed) * scale, draw(st.sampled_from(LAYOUTS)))


@pytest.mark.parametrize("name", ROUNDINGS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_rounding_gradcheck(name, data):
    ours, _, kind = ROUNDINGS[name]
    scale = 30.0 if name == "round(decimals=-1)" else 1.0  # keeps k/10 + 0.05 * 30 off the fives
    assert md.gradcheck(ours, (leaf(data.draw(values(kind, scale))),))


@pytest.mark.parametrize("name", ROUNDINGS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_rounding_against_pytorch(name, dtype, data):
    ours, theirs, _ = ROUNDINGS[name]
    x = data.draw(values("real", 3.0, min_side=0))
    compare(ours, theirs, x if dtype == np.float64 else x.astype(dtype))


def test_halves_and_decimals_as_pytorch():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1.25, 2.35, -0.55, 125.0, 135.0, -0.0])
    for decimals in (0, 1, 2, -1, -2):
        compare(lambda t: md.round(t, decimals=decimals), lambda t: torch.round(t, decimals=decimals), x)
        compare(
            lambda t: md.round(t, decimals=decimals),
            lambda t: torch.round(t, decimals=decimals),
            x.astype(np.float32),
        )
    for name in ("floor", "ceil", "trunc", "frac"):
        compare(
            ROUNDINGS[name][0],
            ROUNDINGS[name][1],
            np.array([-1.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, np.inf, np.nan]),
        )


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_roundings_keep_integers(name, dtype):
    ours, theirs, _ = ROUNDINGS[name]
    compare(ours, theirs, np.array([-3, 0, 7], dtype))


def test_rounding_gradient_is_zero_not_cut():
    x = md.tensor([0.5, 1.7, -2.2], requires_grad=True)
    for f in (md.floor, md.ceil, md.trunc, md.round, lambda t: t.round(decimals=1)):
        x.grad = None
        y = f(x)
        assert y.requires_grad
        (y * md.tensor([1.0, float("inf"), float("nan")])).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])  # zero also where g is inf/nan


# -- fmod, remainder, floor division --------------------------------------------------------------


@pytest.mark.parametrize("name", ["fmod", "remainder", "%", "div(trunc)", "div(floor)", "//"])
@settings(max_examples=6, deadline=None)
@given(data=st.data(), pair=broadcastable_shapes())
def test_division_gradcheck(name, data, pair):
    ours, _ = DIVISIONS[name]
    a = data.draw(values("real", 3.0, shape=pair[0]))
    b = data.draw(values("nonzero", shape=pair[1]))
    assert md.gradcheck(ours, (leaf(a), leaf(b)))
    assert md.gradcheck(lambda t: ours(t, 0.75), (leaf(a),))
    assert md.gradcheck(lambda t: ours(2.5, t), (leaf(b),))


@pytest.mark.parametrize("name", DIVISIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=12, deadline=None)
@given(data=st.data(), pair=broadcastable_shapes(), empty=st.booleans())
def test_division_against_pytorch(name, dtype, data, pair, empty):
    ours, theirs = DIVISIONS[name]
    if empty:  # a size-0 dim in front, broadcast against the rest
        pair = ((0,) + pair[0], pair[0])
    a = data.draw(values("real", 3.0, shape=pair[0])).astype(dtype)
    b = data.draw(values("nonzero", shape=pair[1])).astype(dtype)
    compare(ours, theirs, a, b, grad=name not in NO_TORCH_GRAD)


@pytest.mark.parametrize("name", DIVISIONS)
def test_division_signs_and_integers_as_pytorch(name):
    ours, theirs = DIVISIONS[name]
    a = np.array([5.5, -5.5, 5.5, -5.5, 7.0, -7.0, 0.0, 3.0])
    b = np.array([2.0, 2.0, -2.0, -2.0, 2.0, 2.0, 3.0, 0.5])
    compare(ours, theirs, a, b, grad=name not in NO_TORCH_GRAD)
    for dtype in (np.int32, np.int64):
        ia, ib = np.array([7, -7, 7, -7, 0, 6], dtype), np.array([2, 2, -2, -2, 3, 3], dtype)
        compare(ours, theirs, ia, ib)
        compare(lambda t: ours(t, 3), lambda t: theirs(t, 3), ia)
        compare(lambda t: ours(t, 2.5), lambda t: theirs(t, 2.5), ia)  # float32, as in PyTorch
        # a number first (PyTorch's fmod wants a tensor there: a 0-d one promotes the same way)
        compare(lambda t: ours(9, t), lambda t: theirs(torch.tensor(9), t), ib)


@pytest.mark.parametrize("name", DIVISIONS)
def test_division_dtypes_follow_promotion(name):
    ours, theirs = DIVISIONS[name]
    i32, i64 = np.array([3, 4], np.int32), np.array([3, 4], np.int64)
    f32, f64_0d = np.array([3.0, 4.0], np.float32), np.array(2.0)
    for args in [(i32, 2), (i32, 2.5), (i32, i64), (i32, f64_0d), (f32, f64_0d), (f32, i64)]:
        dtype_of_result(ours, theirs, *args)


def test_float_division_by_zero_as_pytorch():
    a = np.array([1.0, -1.0, 0.0])
    for name in DIVISIONS:
        ours, theirs = DIVISIONS[name]
        compare(ours, theirs, a, np.zeros(3), grad=False)


def test_bad_input():
    with pytest.raises(DTypeError, match="floor: expected a float or integer tensor, got dtype bool"):
        md.floor(md.tensor([True]))
    with pytest.raises(DTypeError, match="frac: expected a float tensor, got dtype int64"):
        md.tensor([1, 2]).frac()
    with pytest.raises(DTypeError, match="round: decimals=1 needs a float tensor, got dtype int64"):
        md.tensor([1, 2]).round(decimals=1)
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        md.round(md.ones(2), decimals=0.5)
    for op in (md.fmod, md.remainder, md.floor_divide):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            op(md.tensor([1, 2]), md.tensor([1, 0]))
        with pytest.raises(RuntimeError, match="integer division by zero"):  # PyTorch's class too
            op(md.tensor([1, 2]), 0)
        with pytest.raises(ShapeError, match=r"shapes \(2,\) and \(3,\) cannot be broadcast"):
            op(md.ones(2), md.ones(3))
        with pytest.raises(DTypeError, match="expected float or integer operands, got dtype bool"):
            op(md.tensor([True]), 2)
    with pytest.raises(
        ValueError, match="div: expected rounding_mode to be one of None, 'trunc' or 'floor', got 'round'"
    ):
        md.div(md.ones(2), 2, rounding_mode="round")
    with pytest.raises(TypeError, match="fmod: expected a Tensor operand, got int and int"):
        md.fmod(1, 2)
