"""Reductions against PyTorch (minidl/functional/reduce.py): prod, std_mean, var_mean, amax,
amin, and the result dtypes, empty inputs and tie gradients of sum, mean, max, min, std, var.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl
from minidl import gradcheck, gradgradcheck

from strategies import arrays, dims, leaf, shapes


def _one_dim(data, shape):
    n = max(len(shape), 1)
    return data.draw(st.one_of(st.none(), st.integers(-n, n - 1)), label="dim")


# -- prod -------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(data=st.data(), shape=shapes(), keepdim=st.booleans())
def test_prod_gradcheck(data, shape, keepdim):
    x = data.draw(arrays(shape, "nonzero"), label="x")
    dim = _one_dim(data, shape)
    fn = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim, keepdim))
    assert gradcheck(fn, (leaf(x),))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=shapes(min_side=0), keepdim=st.booleans(), zeros=st.integers(0, 3))
def test_prod_against_pytorch(data, shape, keepdim, zeros):
    """With no, one or several zeros: the gradient is the product of the others, not y/x."""
    x = np.array(data.draw(arrays(shape, "real"), label="x"))
    if x.size:
        x.reshape(-1)[data.draw(st.lists(st.integers(0, x.size - 1), max_size=zeros), label="zeros")] = 0
    dim = _one_dim(data, shape)
    if dim is None:
        compare(lambda t: t.prod(), lambda t: t.prod(), x)
    else:
        compare(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim), x)


@pytest.mark.parametrize("zeros", [[2], [0, 3], [0, 1, 2, 3, 4, 5]])
def test_prod_second_derivative_with_zeros(zeros):
    x = np.arange(1.0, 7.0).reshape(2, 3) * 0.5
    x.reshape(-1)[zeros] = 0
    assert gradcheck(lambda t: t.prod(), (leaf(x),))
    assert gradgradcheck(lambda t: t.prod(), (leaf(x),))
    assert gradgradcheck(lambda t: t.prod(1), (leaf(x),))


# -- var, std, var_mean, std_mean ---------------------------------------------------------------


SPELLINGS = [  # (args, kwargs) as PyTorch takes them after the tensor
    ((), {}),
    ((True,), {}),
    ((False,), {}),
    (("D", True), {}),
    (("D", False, True), {}),
    (("D",), {"correction": 0}),
    (("D",), {"correction": 2, "keepdim": True}),
    ((), {"dim": "D", "unbiased": False}),
]


@pytest.mark.parametrize("name", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("spelling", range(len(SPELLINGS)))
@settings(max_examples=8, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1))
def test_variance_against_pytorch(name, spelling, data, shape):
    args, kwargs = SPELLINGS[spelling]
    dim = data.draw(dims(len(shape), allow_none=False), label="dim")
    args = tuple(dim if a == "D" else a for a in args)
    kwargs = {k: dim if v == "D" else v for k, v in kwargs.items()}
    x = data.draw(arrays(shape, "distinct"), label="x")
    ours, theirs = getattr(minidl, name), getattr(torch, name)
    # n <= correction too: the value is nan/inf, the gradient PyTorch's (its denominator n -
    # correction is not clamped in the backward)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's "degrees of freedom is <= 0"
        compare(lambda t: ours(t, *args, **kwargs), lambda t: theirs(t, *args, **kwargs), x)


@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1, min_side=2))
def test_std_mean_gradcheck(data, shape):
    x = data.draw(arrays(shape, "distinct"), label="x")
    dim = data.draw(dims(len(shape)), label="dim")
    assert gradcheck(lambda t: minidl.std_mean(t, dim), (leaf(x),))
    assert gradcheck(lambda t: minidl.var_mean(t, dim, correction=0), (leaf(x),))


def test_std_of_equal_values_has_zero_gradient():
    """sqrt's derivative is infinite at 0; PyTorch gives 0 there, and so do we (not nan)."""
    x = np.full((2, 3), 1.5)
    compare(lambda t: t.std(1), lambda t: t.std(1), x)
    compare(lambda t: t.std(), lambda t: t.std(), x)


# -- max, min, amax, amin: ties ---------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=shapes(min_side=1), keepdim=st.booleans())
def test_extremes_with_ties_against_pytorch(data, shape, keepdim):
    """amax/amin and max()/min() share the gradient among ties; max(dim) gives it to the index
    (the first one, on the CPU, as PyTorch)."""
    x = np.round(data.draw(arrays(shape, "real"), label="x"))
    dim = data.draw(dims(len(shape)), label="dims")
    one = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1), label="dim")
    compare(lambda t: t.amax(dim, keepdim), lambda t: t.amax(dim, keepdim), x)
    compare(lambda t: t.amin(dim, keepdim), lambda t: t.amin(dim, keepdim), x)
    compare(lambda t: t.max(), lambda t: t.max(), x)
    compare(lambda t: tuple(t.max(one, keepdim)), lambda t: tuple(t.max(one, keepdim)), x)
    compare(lambda t: tuple(t.min(one, keepdim)), lambda t: tuple(t.min(one, keepdim)), x)
    compare(lambda t: t.argmax(one, keepdim), lambda t: t.argmax(one, keepdim), x)


@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=shapes(), keepdim=st.booleans())
def test_amax_amin_gradcheck(data, shape, keepdim):
    x = data.draw(arrays(shape, "distinct"), label="x")
    dim = data.draw(dims(len(shape)), label="dim")
    assert gradcheck(lambda t: t.amax(dim, keepdim), (leaf(x),))
    assert gradcheck(lambda t: t.amin(dim, keepdim), (leaf(x),))


def test_max_of_two_tensors_is_maximum():
    compare(
        lambda a, b: minidl.max(a, b),
        lambda a, b: torch.max(a, b),
        np.array([1.0, 3.0]),
        np.array([2.0, 2.5]),
    )


# -- result dtypes and empty inputs -----------------------------------------------------------

DTYPED = {  # name: call on a minidl or torch tensor
    "sum": lambda t: t.sum(),
    "sum_dim": lambda t: t.sum(0),
    "prod": lambda t: t.prod(),
    "prod_dim": lambda t: t.prod(1, True),
    "max": lambda t: t.max(),
    "amin": lambda t: t.amin(0),
    "logsumexp": lambda t: t.logsumexp(1),
}


@pytest.mark.parametrize(
    "name, dtype",
    [
        (name, dtype)
        for name in DTYPED
        for dtype in ["int32", "int64", "uint8", "bool", "float16", "float32", "float64"]
        if (name, dtype) != ("logsumexp", "bool")  # PyTorch's logsumexp refuses bool
    ],
)
def test_result_dtypes_as_pytorch(name, dtype):
    """Integer and bool sums and products are int64; max keeps the dtype; logsumexp of
    integers is the default float dtype."""
    x = np.array([[1, 2, 0], [3, 1, 1]]).astype(dtype)
    tol = {"rtol": 1e-3, "atol": 1e-3} if dtype == "float16" else {}
    compare(DTYPED[name], DTYPED[name], x, **tol)


def test_dtype_arguments():
    x = minidl.tensor([1, 2, 3], dtype="int32")
    assert x.sum(dtype=minidl.float32).dtype == minidl.float32
    assert x.prod(dtype=minidl.float64).dtype == minidl.float64
    assert x.mean(dtype=minidl.float32).item() == 2.0
    assert minidl.ones(2).sum(dtype=minidl.int32).dtype == minidl.int32


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.sum(0),
        lambda t: t.sum(1),
        lambda t: t.prod(0),
        lambda t: t.prod(),
        lambda t: t.mean(0),
        lambda t: t.amax(1),
        lambda t: tuple(t.max(1)),
        lambda t: t.argmin(1),
        lambda t: t.logsumexp(0),
    ],
)
def test_empty_inputs_as_pytorch(call):
    with np.errstate(divide="ignore", invalid="ignore"):
        compare(call, call, np.zeros((0, 3)))


def test_bad_input():
    i = minidl.tensor([1, 2, 3], dtype="int32")
    for name in ["mean", "var", "std"]:
        with pytest.raises(RuntimeError, match=rf"{name}: expected a floating-point tensor, got int32"):
            getattr(i, name)()
    with pytest.raises(TypeError, match="std_mean: expected a floating-point tensor, got int32"):
        minidl.std_mean(i)
    empty = minidl.zeros(0, 3)
    with pytest.raises(
        IndexError, match=r"amax: expected dim 0 of the tensor of shape \(0, 3\) to have a non-zero"
    ):
        empty.amax(0)
    with pytest.raises(IndexError, match="max: expected dim 0"):
        empty.max(0)
    with pytest.raises(
        RuntimeError, match=r"max: cannot reduce an empty tensor of shape \(0, 3\); give a dim"
    ):
        empty.max()
    with pytest.raises(RuntimeError, match="argmax: cannot take the argmax of an empty tensor"):
        empty.argmax()
    with pytest.raises(IndexError, match="prod: dim 2 is out of range"):
        minidl.ones(2, 2).prod(2)
    with pytest.raises(TypeError, match=r"prod: dim must be one int or None, got \(0, 1\)"):
        minidl.ones(2, 2).prod((0, 1))
    with pytest.raises(TypeError, match="var: give unbiased or correction, not both"):
        minidl.ones(3).var(0, True, correction=1)
