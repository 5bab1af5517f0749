"""Truth tests and logic (functional/logical.py), and clamp with tensor bounds (elementwise.py).

- isnan/isinf/isfinite, isclose/allclose (PyTorch's rtol/atol/equal_nan defaults, infinities,
  NaN, integers), logical_and/or/xor/not on every dtype (nonzero is true), the bitwise ops and
  the operators & | ^ ~ on bool and integer tensors: against PyTorch over hypothesis-drawn shapes
  with size-0 and size-1 dims and every layout, bool (or integer) results;
- clamp/clip with tensor bounds: float64 gradcheck away from the bounds, and PyTorch's values
  and gradients (x wins a tie, the bound where it is the result, lo > hi gives hi) on ties too;
- bad input: floats to the bitwise ops, isclose across dtypes and negative tolerances, shapes
  that do not broadcast, clamp without bounds.
"""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, compare, torch

import minidl as md
from minidl.errors import DTypeError, ShapeError

from strategies import LAYOUTS, broadcastable_shapes, fill, leaf, with_layout

DTYPES = [np.float64, np.float32, np.int64, np.int32, np.bool_]


@st.composite
def values(draw, shape, dtype=np.float64, special=True):
    """Values of ``dtype`` in one of the layouts: small integers (many zeros and ties), and for
    floats also NaN and infinities."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.integers(-2, 3, shape).astype(np.float64)
    if special and np.dtype(dtype).kind == "f":
        a = np.where(rng.random(shape) < 0.2, rng.choice([np.nan, np.inf, -np.inf], shape), a)
    a = a.astype(dtype)
    layout = draw(st.sampled_from(LAYOUTS))
    return a if layout == "strided" else with_layout(a, layout)


@st.composite
def pairs(draw, dtype=np.float64):
    pair = draw(broadcastable_shapes())
    if draw(st.booleans()):  # a size-0 dim in front, broadcast against the rest
        pair = ((0,) + pair[0], pair[0])
    return draw(values(pair[0], dtype)), draw(values(pair[1], dtype))


TESTS = {
    "isnan": (md.isnan, torch.isnan),
    "isinf": (md.isinf, torch.isinf),
    "isfinite": (md.isfinite, torch.isfinite),
}
LOGICAL = {
    "logical_and": (md.logical_and, torch.logical_and),
    "logical_or": (md.logical_or, torch.logical_or),
    "logical_xor": (md.logical_xor, torch.logical_xor),
}
BITWISE = {
    "&": (operator.and_, operator.and_),
    "|": (operator.or_, operator.or_),
    "^": (operator.xor, operator.xor),
    "bitwise_and": (md.bitwise_and, torch.bitwise_and),
    "bitwise_or": (md.bitwise_or, torch.bitwise_or),
    "bitwise_xor": (md.bitwise_xor, torch.bitwise_xor),
}


@pytest.mark.parametrize("name", TESTS)
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_value_tests_against_pytorch(name, dtype, data):
    a, _ = data.draw(pairs(dtype))
    compare(*TESTS[name], a)


@pytest.mark.parametrize("name", LOGICAL)
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_logical_against_pytorch(name, dtype, data):
    a, b = data.draw(pairs(dtype))
    compare(*LOGICAL[name], a, b)
    compare(md.logical_not, torch.logical_not, a)
    compare(lambda t: t.logical_not(), lambda t: t.logical_not(), b)


def test_logical_mixed_dtypes_and_numbers():
    f, i = np.array([np.nan, 0.0, -0.0, 2.5]), np.array([1, 0, 3, 0])
    for ours, theirs in LOGICAL.values():
        compare(ours, theirs, f, i)
        out = ours(md.tensor(f), 1.0)
        assert_same(out, theirs(torch.from_numpy(f), torch.tensor(1.0)))


@pytest.mark.parametrize("name", BITWISE)
@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.int32])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_bitwise_against_pytorch(name, dtype, data):
    a, b = data.draw(pairs(dtype))
    ours, theirs = BITWISE[name]
    compare(ours, theirs, a, b)
    compare(lambda t: ours(t, True), lambda t: theirs(t, True), a)
    compare(operator.invert, operator.invert, a)


def test_bitwise_mixes_and_reflected_operators():
    b, i = np.array([True, False, True]), np.array([3, -7, 6], np.int32)
    for ours, theirs in BITWISE.values():
        compare(ours, theirs, b, i)  # bool with int32: int32
        compare(lambda t: ours(t, 6), lambda t: theirs(t, 6), i)
    mb, mi = md.from_numpy(b), md.from_numpy(i)
    assert_same(True & mb, True & torch.from_numpy(b))
    assert_same(5 | mi, 5 | torch.from_numpy(i))
    assert_same(5 ^ mi, 5 ^ torch.from_numpy(i))
    assert_same(~mi, ~torch.from_numpy(i))


# -- isclose, allclose ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize(
    "tolerances", [{}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 0.1, "atol": 0.5}, {"equal_nan": True}]
)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_isclose_against_pytorch(dtype, tolerances, data):
    a, b = data.draw(pairs(dtype))
    if np.dtype(dtype).kind == "f":  # nearly equal values, just inside and outside the tolerance
        b = np.asarray(
            b + np.random.default_rng(0).choice([0.0, 1e-9, 1e-6, 1e-4, 0.3], b.shape).astype(dtype)
        )
    compare(lambda x, y: md.isclose(x, y, **tolerances), lambda x, y: torch.isclose(x, y, **tolerances), a, b)
    assert md.allclose(md.from_numpy(a), md.from_numpy(b), **tolerances) == torch.allclose(
        torch.from_numpy(np.ascontiguousarray(a)), torch.from_numpy(np.ascontiguousarray(b)), **tolerances
    )


def test_isclose_edges():
    a = np.array([np.inf, np.nan, 1.0, -np.inf, 1.0, 0.0, 1e-9])
    b = np.array([np.inf, np.nan, 1.0 + 1e-6, np.inf, 1.00002, 1e-8, 0.0])
    for equal_nan in (False, True):
        compare(
            lambda x, y: md.isclose(x, y, equal_nan=equal_nan),
            lambda x, y: torch.isclose(x, y, equal_nan=equal_nan),
            a,
            b,
        )
    assert md.isclose(md.tensor([1.0, 2.0]), 1.0).tolist() == [True, False]
    assert md.allclose(md.ones(3), md.ones(3) + 1e-7) is True


# -- clamp with tensor bounds ------------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(data=st.data(), shapes3=broadcastable_shapes(num_shapes=3))
def test_clamp_tensor_bounds_gradcheck(data, shapes3):
    # x, lo and hi on three grids that never come within 0.05 of each other
    x, lo, hi = (
        with_layout(fill(s, k, data.draw(st.integers(0, 2**32 - 1))), data.draw(st.sampled_from(LAYOUTS)))
        for s, k in zip(shapes3, ("offgrid", "grid0", "grid1"))
    )
    assert md.gradcheck(md.clamp, (leaf(x), leaf(lo), leaf(hi)))
    assert md.gradcheck(lambda t, m: md.clamp(t, min=m), (leaf(x), leaf(lo)))
    assert md.gradcheck(lambda t, m: t.clip(max=m), (leaf(x), leaf(hi)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=12, deadline=None)
@given(data=st.data(), shapes3=broadcastable_shapes(num_shapes=3))
def test_clamp_tensor_bounds_against_pytorch(dtype, data, shapes3):
    # small integers: many ties between x and a bound, and lo > hi in places. x has the full
    # shape: PyTorch's own backward fails when the bounds broadcast x to a larger one
    shapes3 = (np.broadcast_shapes(*shapes3),) + tuple(shapes3[1:])
    x, lo, hi = (data.draw(values(s, dtype, special=False)) for s in shapes3)
    compare(md.clamp, torch.clamp, x, lo, hi)
    compare(lambda t, m: md.clamp(t, min=m), lambda t, m: torch.clamp(t, min=m), x, lo)
    compare(lambda t, m: md.clip(t, max=m), lambda t, m: torch.clip(t, max=m), x, hi)


def test_clamp_edges_as_pytorch():
    x = np.array([0.0, 1.0, 2.0, 3.0, 1.0, 2.0, np.nan])
    lo = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 0.0])
    hi = np.array([2.0, 2.0, 2.0, 2.0, 1.0, 2.0, 1.0])
    compare(md.clamp, torch.clamp, x, lo, hi)
    compare(
        lambda t: md.clamp(t, 2.0, 1.0), lambda t: torch.clamp(t, 2.0, 1.0), x
    )  # lo > hi: hi, no gradient
    compare(md.clamp, torch.clamp, np.array([1, 5, -3]), np.array([2, 2, 2]), np.array([3, 3, 3]))  # int64
    compare(md.clamp, torch.clamp, np.array([1, 5], np.int32), np.array([2.5, 0.5], np.float32))  # float32
    compare(md.clamp, torch.clamp, np.zeros((2, 0, 3)), np.zeros((1, 3)), np.ones((2, 1, 1)))


def test_bad_input():
    for op in (operator.and_, operator.or_, operator.xor, md.bitwise_and):
        with pytest.raises(DTypeError, match="expected bool or integer operands, got dtype float32"):
            op(md.ones(2), md.tensor([True, False]))
        with pytest.raises(DTypeError, match="expected bool or integer operands, got a float"):
            op(md.tensor([1, 2]), 1.5)
    with pytest.raises(DTypeError, match="bitwise_not: expected bool or integer operands, got dtype float32"):
        ~md.ones(2)
    with pytest.raises(
        DTypeError, match="isclose: expected input and other of one dtype, got float32 and float64"
    ):
        md.isclose(md.ones(2), md.ones(2, dtype=md.float64))
    with pytest.raises(ValueError, match="isclose: rtol and atol must be >= 0"):
        md.isclose(md.ones(2), md.ones(2), rtol=-1.0)
    with pytest.raises(ShapeError, match=r"isclose: shapes \(2,\) and \(3,\) cannot be broadcast"):
        md.isclose(md.ones(2), md.ones(3))
    with pytest.raises(ShapeError, match=r"logical_and: shapes \(2,\) and \(3,\) cannot be broadcast"):
        md.logical_and(md.ones(2), md.ones(3))
    with pytest.raises(ShapeError, match=r"clamp: shapes \(2,\) and \(3,\) cannot be broadcast"):
        md.clamp(md.ones(2), md.zeros(3))
    with pytest.raises(ValueError, match="clamp: at least one of min and max must be given"):
        md.clamp(md.ones(2))
    with pytest.raises(TypeError, match="isnan: expected a Tensor, got list"):
        md.isnan([1.0])
