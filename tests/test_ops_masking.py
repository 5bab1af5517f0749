"""masked_fill, masked_select, nonzero, where (minidl/functional/masking.py).

- gradcheck in float64 over hypothesis-drawn shapes that broadcast together (0-d, size-1 dims):
  masked_fill (to input, and to a 0-d tensor value), masked_select, where (both branches);
- PyTorch's values, dtypes and gradients over the same draws, with size-0 dims and
  non-contiguous inputs; the result dtype of where with integer tensors and Python numbers;
  where(condition) and nonzero(as_tuple=...) for 0-d and empty inputs;
- the ops on the fake GPU;
- bad input: a mask or condition that is not bool, shapes that do not broadcast, a value tensor
  that is not 0-d.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, dtype_of_result, torch

import minidl as md
from minidl.errors import DTypeError, ShapeError

from fake_gpu import fake_gpu  # noqa: F401  (fixture)
from strategies import arrays, broadcastable_shapes, leaf, shapes


def mask_of(shape, seed):
    return np.asarray(np.random.default_rng(seed).random(shape) < 0.5)


empty_or_small = st.one_of(broadcastable_shapes(), st.just([(0, 3), (3,)]), st.just([(2, 0), (1, 1)]))


@settings(max_examples=40, deadline=None)
@given(pair=empty_or_small, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_masked_fill_matches_pytorch(pair, data, seed):
    x, mask = data.draw(arrays(tuple(pair[0]))), mask_of(tuple(pair[1]), seed)
    compare(lambda a, m: md.masked_fill(a, m, 2.5), lambda a, m: torch.masked_fill(a, m, 2.5), x, mask)
    value = np.array(-1.25)  # a 0-d tensor value gets the sum of the filled places' gradient
    compare(lambda a, m, v: a.masked_fill(m, v), lambda a, m, v: a.masked_fill(m, v), x, mask, value)
    ints = (x * 10).astype(np.int32)
    compare(lambda a, m: md.masked_fill(a, m, 2.7), lambda a, m: torch.masked_fill(a, m, 2.7), ints, mask)


@settings(max_examples=40, deadline=None)
@given(pair=empty_or_small, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_masked_select_matches_pytorch(pair, data, seed):
    x, mask = data.draw(arrays(tuple(pair[0]))), mask_of(tuple(pair[1]), seed)
    compare(lambda a, m: md.masked_select(a, m), lambda a, m: torch.masked_select(a, m), x, mask)
    compare(lambda a, m: a.masked_select(m), lambda a, m: a.masked_select(m), x.astype(np.float32), mask)


@settings(max_examples=40, deadline=None)
@given(shapes3=broadcastable_shapes(num_shapes=3), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_where_matches_pytorch(shapes3, data, seed):
    cond = mask_of(tuple(shapes3[0]), seed)
    a, b = data.draw(arrays(tuple(shapes3[1]))), data.draw(arrays(tuple(shapes3[2])))
    compare(md.where, torch.where, cond, a, b)
    compare(lambda c, x: md.where(c, x, 0.5), lambda c, x: torch.where(c, x, 0.5), cond, a.astype(np.float32))
    compare(lambda c, x, y: x.where(c, y), lambda c, x, y: x.where(c, y), cond, a, b)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.array([1, 2]), 2.5),  # int64 tensor with a float: the default float dtype
        (np.array([1, 2], np.int32), 2),  # an int number keeps int32
        (np.array([1.0, 2.0], np.float32), np.array(3.0)),  # a 0-d float64 does not widen float32
        (np.array([1.0, 2.0], np.float32), np.array([3.0])),  # a 1-d float64 does
        (np.array([1.0, 2.0], np.float32), np.array([3, 3])),
        (1, 2),
    ],
)
def test_where_result_dtype(a, b):
    cond = np.array([True, False])
    dtype_of_result(md.where, torch.where, cond, a, b)


@settings(max_examples=30, deadline=None)
@given(shape=shapes(min_dims=0, max_dims=3, min_side=0), seed=st.integers(0, 2**32 - 1))
def test_nonzero_and_where_condition_match_pytorch(shape, seed):
    x = np.where(mask_of(shape, seed), np.random.default_rng(seed).uniform(-1, 1, shape), 0.0)
    compare(md.nonzero, torch.nonzero, x)
    compare(lambda t: t.nonzero(as_tuple=True), lambda t: t.nonzero(as_tuple=True), x)
    compare(md.where, torch.where, x != 0)


@settings(max_examples=10, deadline=None)
@given(pair=broadcastable_shapes(), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gradcheck(pair, data, seed):
    x, mask = leaf(data.draw(arrays(tuple(pair[0])))), md.from_numpy(mask_of(tuple(pair[1]), seed))
    y = leaf(data.draw(arrays(tuple(pair[1]))))
    value = md.tensor(0.75, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda a, v: md.masked_fill(a, mask, v), (x, value))
    assert md.gradcheck(lambda a: md.masked_select(a, mask), (x,))
    assert md.gradcheck(lambda a, b: md.where(mask, a, b), (x, y))


def test_second_derivatives():
    x = leaf(np.linspace(-1, 1, 6).reshape(2, 3))
    mask = md.tensor([True, False, True])
    assert md.gradgradcheck(lambda a: md.masked_fill(a, mask, 0.0) ** 2, (x,))
    assert md.gradgradcheck(lambda a: md.masked_select(a, mask) ** 2, (x,))


def test_on_the_fake_gpu(fake_gpu):
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    mask = np.array([True, False, True])
    for fn in (
        lambda a, m: md.masked_fill(a, m, 2.0),
        lambda a, m: md.masked_select(a, m),
        lambda a, m: md.where(m, a, -a),
    ):
        want = fn(md.tensor(x), md.tensor(mask))
        gx = md.tensor(x, device="cuda", requires_grad=True)
        got = fn(gx, md.tensor(mask, device="cuda"))
        assert got.device.type == "cuda"
        np.testing.assert_array_equal(got.detach().cpu().numpy(), want.numpy())
        assert md.gradcheck(lambda a: fn(a, md.tensor(mask, device="cuda")), (gx,))
    rows, cols = md.where(md.tensor(x > 0, device="cuda"))
    assert (
        rows.device.type == "cuda" and rows.cpu().tolist() == [1, 1, 1] and cols.cpu().tolist() == [0, 1, 2]
    )


# -- bad input -------------------------------------------------------------------------------

X = md.arange(6.0).reshape(2, 3)
M = md.tensor([True, False, True])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: md.masked_fill(X, md.tensor([1, 0, 1]), 9.0),
            DTypeError,
            r"masked_fill: expected a bool mask, got int64",
        ),
        (
            lambda: md.masked_fill(X, [True, False, True], 9.0),
            TypeError,
            r"masked_fill: expected the mask as a bool Tensor, got list",
        ),
        (
            lambda: md.masked_fill(X, md.tensor([True, False]), 9.0),
            ShapeError,
            r"masked_fill: shapes \(2, 3\) and \(2,\) cannot be broadcast",
        ),
        (
            lambda: md.masked_fill(X, M, md.tensor([9.0])),
            ShapeError,
            r"masked_fill: value must be a number or a 0-d tensor, got a tensor of shape \(1,\)",
        ),
        (
            lambda: md.masked_fill(X, M, "9"),
            TypeError,
            r"masked_fill: value must be a number or a 0-d tensor, got str",
        ),
        (
            lambda: md.masked_select(X, md.tensor([1.0, 0.0, 1.0])),
            DTypeError,
            r"masked_select: expected a bool mask, got float32",
        ),
        (
            lambda: md.masked_select(X, md.tensor([True, False])),
            ShapeError,
            r"masked_select: shapes \(2, 3\) and \(2,\) cannot be broadcast",
        ),
        (
            lambda: md.where(md.tensor([1, 0, 1]), X, 0.0),
            DTypeError,
            r"where: expected a bool condition, got int64",
        ),
        (
            lambda: md.where(md.tensor([1.0, 0.0])),
            DTypeError,
            r"where: expected a bool condition, got float32",
        ),
        (
            lambda: md.where(M, X, md.ones(2)),
            ShapeError,
            r"where: shapes \(3,\) and \(2, 3\) and \(2,\) cannot be broadcast",
        ),
        (lambda: md.where(M, X), TypeError, r"where: expected both input and other, or neither"),
        (lambda: md.nonzero([1, 0]), TypeError, r"nonzero: expected a Tensor, got list"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_filled_places_pass_no_gradient():
    x = md.ones(3, requires_grad=True)
    value = md.tensor(5.0, requires_grad=True)
    (md.masked_fill(x, M, value) * md.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0] and value.grad.item() == 4.0
