"""Exponentials and logarithms (functional/explog.py): log2, log10, exp2, expm1, log1p, rsqrt,
logaddexp, copysign, lerp.

- gradcheck in float64 over hypothesis-drawn shapes (0-d, size-1 dims, non-contiguous views), the
  logs and rsqrt on positive values, copysign away from 0, lerp with a tensor or a number weight;
- PyTorch comparison of values, dtypes and gradients in float32 and float64, with size-0 and
  size-1 dims and every layout; integer inputs give float32;
- the edges: expm1/log1p near 0 (exact, not 1 - 1), logaddexp of huge and infinite values (no
  overflow; PyTorch's inf and nan), copysign of signed zeros (gradient 0 at 0), lerp at 0 and 1;
- bad input: non-tensors, shapes that do not broadcast.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, dtype_of_result, torch

import minidl as md
from minidl.errors import ShapeError

from strategies import LAYOUTS, broadcastable_shapes, fill, leaf, shapes, with_layout

# name: (ours, PyTorch's, value kind, shift): the values of kind + shift lie in the domain
UNARY = {
    "log2": (md.log2, torch.log2, "positive", 0.0),
    "log10": (md.log10, torch.log10, "positive", 0.0),
    "exp2": (md.exp2, torch.exp2, "real", 0.0),
    "expm1": (md.expm1, torch.expm1, "real", 0.0),
    "log1p": (md.log1p, torch.log1p, "positive", -0.4),  # x in [0.1, 1.6], > -1
    "rsqrt": (md.rsqrt, torch.rsqrt, "positive", 0.0),
}


@st.composite
def values(draw, kind="real", shift=0.0, min_side=1, shape=None):
    shape = draw(shapes(min_side=min_side)) if shape is None else shape
    seed = draw(st.integers(0, 2**32 - 1))
    return with_layout(fill(shape, kind, seed) + shift, draw(st.sampled_from(LAYOUTS)))


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_gradcheck(name, data):
    ours, _, kind, shift = UNARY[name]
    assert md.gradcheck(ours, (leaf(data.draw(values(kind, shift))),))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_against_pytorch(name, dtype, data):
    ours, theirs, kind, shift = UNARY[name]
    x = data.draw(values(kind, shift, min_side=0))
    compare(ours, theirs, x if dtype == np.float64 else x.astype(dtype))


@pytest.mark.parametrize("name", UNARY)
def test_integer_inputs_and_edges(name):
    ours, theirs, *_ = UNARY[name]
    for dtype in (np.int32, np.int64, np.bool_):
        dtype_of_result(ours, theirs, np.array([1, 2]).astype(dtype))
    compare(ours, theirs, np.array([-1.0, -0.0, 0.0, 1e-12, 1.0, np.inf, -np.inf, np.nan]))


def test_expm1_and_log1p_exact_near_zero():
    tiny = md.tensor([1e-10], dtype=md.float64)
    np.testing.assert_allclose(md.expm1(tiny).numpy(), [1e-10], rtol=1e-9)
    np.testing.assert_allclose(md.log1p(tiny).numpy(), [1e-10], rtol=1e-9)


@pytest.mark.parametrize("name", ["log2", "log10", "exp2", "expm1", "log1p", "rsqrt"])
def test_methods(name):
    x = md.tensor([0.25, 1.5])
    np.testing.assert_array_equal(getattr(x, name)().numpy(), UNARY[name][0](x).numpy())


# -- logaddexp, copysign ----------------------------------------------------------------------

BINARY = {
    # name: (ours, PyTorch's, kind of a, kind of b)
    "logaddexp": (md.logaddexp, torch.logaddexp, "real", "real"),
    "copysign": (md.copysign, torch.copysign, "nonzero", "nonzero"),
}


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=10, deadline=None)
@given(data=st.data(), pair=broadcastable_shapes())
def test_binary_gradcheck(name, data, pair):
    ours, _, ka, kb = BINARY[name]
    a, b = data.draw(values(ka, shape=pair[0])), data.draw(values(kb, shape=pair[1]))
    assert md.gradcheck(ours, (leaf(a), leaf(b)))
    assert md.gradcheck(lambda t: ours(t, -0.5), (leaf(a),))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15, deadline=None)
@given(data=st.data(), pair=broadcastable_shapes(), empty=st.booleans())
def test_binary_against_pytorch(name, dtype, data, pair, empty):
    ours, theirs, ka, kb = BINARY[name]
    if empty:  # a size-0 dim in front, broadcast against the rest
        pair = ((0,) + pair[0], pair[0])
    a = data.draw(values(ka, shape=pair[0])).astype(dtype)
    b = data.draw(values(kb, shape=pair[1])).astype(dtype)
    compare(ours, theirs, a, b)


def test_logaddexp_does_not_overflow_and_meets_infinities_as_pytorch():
    a = np.array([1000.0, -1000.0, 0.0, np.inf, -np.inf, np.inf, -np.inf, 3.0, np.nan])
    b = np.array([1000.0, -1000.0, 800.0, np.inf, -np.inf, -np.inf, 2.0, 3.0, 1.0])
    compare(md.logaddexp, torch.logaddexp, a, b)
    compare(md.logaddexp, torch.logaddexp, a.astype(np.float32), b.astype(np.float32))


def test_copysign_signed_zeros_integers_and_numbers():
    a = np.array([0.0, -0.0, 2.0, -2.0, 0.0, 1.5])
    b = np.array([1.0, 1.0, -1.0, -0.0, -1.0, np.inf])
    compare(md.copysign, torch.copysign, a, b)  # gradient 0 where a = 0, as in PyTorch
    compare(lambda t: md.copysign(t, -1), lambda t: torch.copysign(t, -1), a)
    i = np.array([3, -2, 0], np.int32)
    compare(md.copysign, torch.copysign, i, i)  # integers give float32
    dtype_of_result(md.copysign, torch.copysign, i, np.array([-1.0]))


# -- lerp ----------------------------------------------------------------------------------------


@settings(max_examples=10, deadline=None)
@given(data=st.data(), shapes3=broadcastable_shapes(num_shapes=3))
def test_lerp_gradcheck(data, shapes3):
    s, e = data.draw(values(shape=shapes3[0])), data.draw(values(shape=shapes3[1]))
    w = data.draw(values("real", 0.5, shape=shapes3[2]))  # weights both sides of 0.5, and outside [0, 1]
    assert md.gradcheck(md.lerp, (leaf(s), leaf(e), leaf(w)))
    assert md.gradcheck(lambda a, b: md.lerp(a, b, 0.3), (leaf(s), leaf(e)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(max_examples=15, deadline=None)
@given(
    data=st.data(),
    shapes3=broadcastable_shapes(num_shapes=3),
    weight=st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5]),
)
def test_lerp_against_pytorch(dtype, data, shapes3, weight):
    s = data.draw(values(shape=shapes3[0])).astype(dtype)
    e = data.draw(values(shape=shapes3[1])).astype(dtype)
    w = data.draw(values("real", 0.5, shape=shapes3[2])).astype(dtype)
    compare(md.lerp, torch.lerp, s, e, w)
    compare(lambda a, b: a.lerp(b, weight), lambda a, b: a.lerp(b, weight), s, e)


def test_lerp_exact_at_the_ends_and_size_0():
    s, e = np.array([1.0, -3.0, 1e8]), np.array([3.0, 5.0, 1.0])
    for w in (0.0, 1.0):
        out = md.lerp(md.tensor(s), md.tensor(e), w).numpy()
        np.testing.assert_array_equal(out, s if w == 0.0 else e)
    compare(md.lerp, torch.lerp, np.zeros((0, 2)), np.zeros((1, 2)), np.zeros((0, 1)))


def test_bad_input():
    for op in (md.logaddexp, md.copysign):
        with pytest.raises(ShapeError, match=r"shapes \(2,\) and \(3,\) cannot be broadcast"):
            op(md.ones(2), md.ones(3))
        with pytest.raises(TypeError, match="expected a Tensor operand, got float and float"):
            op(1.0, 2.0)
    with pytest.raises(ShapeError, match=r"lerp: shapes \(2,\) and \(3,\) and \(\) cannot be broadcast"):
        md.lerp(md.ones(2), md.ones(3), 0.5)
    with pytest.raises(TypeError, match="lerp: expected a Tensor operand, got float and float and float"):
        md.lerp(1.0, 2.0, 0.5)
