"""Scans against PyTorch: cumsum, cumprod, cummax, cummin, logcumsumexp (minidl/functional/scan.py).

Each op: a float64 gradcheck over hypothesis shapes and dims (negative ones too), a PyTorch
comparison of values, dtypes, indices and gradients (size-0 and size-1 dims, non-contiguous
layouts), integer inputs, and bad input.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl
from minidl import gradcheck, gradgradcheck

from strategies import arrays, leaf, shapes

# name: (minidl op, PyTorch op, kind of values for gradcheck)
SCANS = {
    "cumsum": (minidl.cumsum, torch.cumsum, "real"),
    "cumprod": (minidl.cumprod, torch.cumprod, "real"),
    "logcumsumexp": (minidl.logcumsumexp, torch.logcumsumexp, "real"),
    "cummax": (lambda x, d: minidl.cummax(x, d).values, lambda x, d: torch.cummax(x, d).values, "distinct"),
    "cummin": (lambda x, d: minidl.cummin(x, d).values, lambda x, d: torch.cummin(x, d).values, "distinct"),
}
PAIRS = {"cummax": (minidl.cummax, torch.cummax), "cummin": (minidl.cummin, torch.cummin)}


@pytest.mark.parametrize("name", SCANS)
@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=shapes())
def test_gradcheck(name, data, shape):
    ours, _, kind = SCANS[name]
    x = data.draw(arrays(shape, kind), label="x")
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1), label="dim")
    assert gradcheck(lambda t: ours(t, dim), (leaf(x),))


@pytest.mark.parametrize("name", SCANS)
@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=shapes(min_side=0))
def test_against_pytorch(name, data, shape):
    ours, theirs, kind = SCANS[name]
    x = data.draw(arrays(shape, kind), label="x")
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1), label="dim")
    compare(lambda t: ours(t, dim), lambda t: theirs(t, dim), x)


@pytest.mark.parametrize("name", PAIRS)
@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=shapes(min_side=0), ties=st.booleans())
def test_cummax_cummin_values_and_indices(name, data, shape, ties):
    """Indices too, also with ties (the latest place of the running extreme, as PyTorch)."""
    ours, theirs = PAIRS[name]
    x = data.draw(arrays(shape, "distinct"), label="x")
    if ties:
        x = np.round(x)  # many equal values
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1), label="dim")
    compare(lambda t: tuple(ours(t, dim)), lambda t: tuple(theirs(t, dim)), x)


@pytest.mark.parametrize("zeros", [[1], [0, 3], [1, 2, 4], [0, 1, 2, 3, 4]])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_gradient_with_zeros(zeros, dim):
    """One zero, several, all of them: the exact gradient (the division y / x would be 0/0)."""
    rng = np.random.default_rng(len(zeros))
    x = rng.uniform(0.5, 2, (5, 5)) * rng.choice([-1, 1], (5, 5))
    x[zeros, :] = 0
    x[:, zeros] = 0
    compare(lambda t: minidl.cumprod(t, dim), lambda t: torch.cumprod(t, dim), x)
    assert gradcheck(lambda t: minidl.cumprod(t, dim), (leaf(x),))
    assert gradgradcheck(lambda t: minidl.cumprod(t, dim), (leaf(x),))


def test_second_derivatives():
    x = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    for name, (ours, _, _) in SCANS.items():
        assert gradgradcheck(lambda t: ours(t, 1), (leaf(x),)), name


def test_logcumsumexp_is_stable():
    """Values a thousand apart: exp overflows and underflows, the log-space sum does not."""
    x = np.array([[-1000.0, 0.0, 1000.0, 999.0], [800.0, -800.0, 0.0, 800.0]])
    compare(lambda t: minidl.logcumsumexp(t, 1), lambda t: torch.logcumsumexp(t, 1), x)
    assert np.isfinite(minidl.logcumsumexp(minidl.tensor(x), 1).numpy()).all()


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "uint8", "float32", "float16"])
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin"])
def test_dtypes_as_pytorch(name, dtype):
    """cumsum/cumprod of integers and bools give int64; cummax/cummin keep the dtype."""
    x = np.array([[3, 1, 0], [2, 2, 5]]).astype(dtype)
    ours, theirs = getattr(minidl, name), getattr(torch, name)
    compare(
        lambda t: ours(t, 1),
        lambda t: theirs(t, 1),
        x,
        **({"rtol": 1e-3, "atol": 1e-3} if dtype == "float16" else {}),
    )


def test_dtype_argument_and_methods():
    x = minidl.tensor([1, 2, 3], dtype="int32")
    assert minidl.ones(2).cumsum(0, dtype=minidl.int32).dtype == minidl.int32
    assert x.cumsum(0, dtype=minidl.float32).dtype == minidl.float32
    assert x.cumprod(0).tolist() == [1, 2, 6]
    assert minidl.tensor(3.0).cumsum(0).shape == ()
    v, i = minidl.tensor([1.0, 3.0, 2.0]).cummax(0)
    assert v.tolist() == [1.0, 3.0, 3.0] and i.tolist() == [0, 1, 1]
    assert minidl.tensor([0.0, 1.0]).logcumsumexp(-1).shape == (2,)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
def test_bad_input(name):
    fn = getattr(minidl, name)
    with pytest.raises(IndexError, match=rf"{name}: dim 2 is out of range.*1 dimension"):
        fn(minidl.ones(3), 2)
    with pytest.raises(TypeError, match=rf"{name}: dim must be an int"):
        fn(minidl.ones(3), 0.5)


def test_logcumsumexp_of_integers_is_refused():
    with pytest.raises(TypeError, match="logcumsumexp: expected a floating-point tensor, got int64"):
        minidl.logcumsumexp(minidl.tensor([1, 2]), 0)
