"""Sorting and selection against PyTorch: sort, argsort, topk, kthvalue, median
(minidl/functional/sort.py).

Values are always compared; indices on tie-free inputs ("distinct" values), since PyTorch leaves
the order of ties unspecified, except for ``sort(stable=True)``, whose tie order is defined.
Gradients flow through the selected values to their indices.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl
from minidl import gradcheck, gradgradcheck

from strategies import arrays, leaf, shapes


def _dim(data, shape):
    n = max(len(shape), 1)
    return data.draw(st.integers(-n, n - 1), label="dim")


def _size(shape, dim):
    return shape[dim] if shape else 1


@st.composite
def op_calls(draw, shape):
    """(name, minidl call, PyTorch call) with arguments drawn for ``shape``."""
    n = max(len(shape), 1)
    dim = draw(st.integers(-n, n - 1), label="dim")
    size = _size(shape, dim)
    name = draw(st.sampled_from(["sort", "argsort", "topk", "kthvalue", "median_dim", "median"]))
    descending, keepdim = draw(st.booleans()), draw(st.booleans())
    if name == "sort":
        return name, lambda t: tuple(t.sort(dim, descending)), lambda t: tuple(t.sort(dim, descending))
    if name == "argsort":
        return name, lambda t: t.argsort(dim, descending), lambda t: t.argsort(dim, descending)
    if name == "topk":
        k, largest = draw(st.integers(0, size)), draw(st.booleans())
        return name, lambda t: tuple(t.topk(k, dim, largest)), lambda t: tuple(t.topk(k, dim, largest))
    if name == "kthvalue" and size:
        k = draw(st.integers(1, size))
        return (
            name,
            lambda t: tuple(t.kthvalue(k, dim, keepdim)),
            lambda t: tuple(t.kthvalue(k, dim, keepdim)),
        )
    if name == "median_dim" and size:
        return name, lambda t: tuple(t.median(dim, keepdim)), lambda t: tuple(t.median(dim, keepdim))
    return "median", lambda t: t.median(), lambda t: t.median()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=shapes(min_side=0))
def test_against_pytorch(data, shape):
    """Values, indices, dtypes and gradients on tie-free values, any layout, size-0 dims too."""
    name, ours, theirs = data.draw(op_calls(shape))
    x = data.draw(arrays(shape, "distinct"), label="x")
    compare(ours, theirs, x)


@settings(max_examples=15, deadline=None)
@given(data=st.data(), shape=shapes())
def test_gradcheck(data, shape):
    name, ours, _ = data.draw(op_calls(shape))
    if name == "argsort":
        return
    x = data.draw(arrays(shape, "distinct"), label="x")

    def values(t):
        out = ours(t)
        return out[0] if isinstance(out, tuple) else out

    assert gradcheck(values, (leaf(x),))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=shapes(min_side=0), descending=st.booleans())
def test_stable_sort_on_ties(data, shape, descending):
    """Many equal values: stable=True keeps their original order, as PyTorch."""
    x = np.round(data.draw(arrays(shape, "real"), label="x"))
    dim = _dim(data, shape)
    compare(
        lambda t: tuple(minidl.sort(t, dim=dim, descending=descending, stable=True)),
        lambda t: tuple(torch.sort(t, dim=dim, descending=descending, stable=True)),
        x,
    )


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=shapes(min_side=1))
def test_values_on_ties(data, shape):
    """With ties, the values (and where the gradient of the no-dim median goes) still agree."""
    x = np.round(data.draw(arrays(shape, "real"), label="x"))
    dim = _dim(data, shape)
    k = data.draw(st.integers(1, _size(shape, dim)), label="k")
    for ours, theirs in [
        (lambda t: t.topk(k, dim).values, lambda t: t.topk(k, dim).values),
        (lambda t: t.kthvalue(k, dim).values, lambda t: t.kthvalue(k, dim).values),
        (lambda t: t.median(dim).values, lambda t: t.median(dim).values),
    ]:
        compare(ours, theirs, x, grad=False)
    compare(lambda t: t.median(), lambda t: t.median(), x)  # ties share the gradient


def test_second_derivative():
    x = np.random.default_rng(0).permutation(12).reshape(3, 4) * 0.1
    assert gradgradcheck(lambda t: t.sort(1, descending=True).values, (leaf(x),))
    assert gradgradcheck(lambda t: t.topk(2, 0).values, (leaf(x),))


def test_median_is_the_lower_median_and_nan_wins():
    assert minidl.tensor([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0
    x = np.array([[1.0, np.nan, 2.0, np.nan], [3.0, 1.0, 2.0, 0.0]])
    compare(lambda t: t.median(), lambda t: t.median(), x, grad=False)
    compare(lambda t: tuple(t.median(1)), lambda t: tuple(t.median(1)), x, grad=False)
    compare(lambda t: tuple(t.sort(1)), lambda t: tuple(t.sort(1)), x, grad=False)  # NaN last


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "float32", "bool"])
def test_integer_and_bool_inputs(dtype):
    x = np.array([[3, 1, 0, 2], [5, 4, 6, 7]]).astype(dtype)
    compare(lambda t: tuple(t.sort(dim=1, stable=True)), lambda t: tuple(t.sort(dim=1, stable=True)), x)
    compare(lambda t: t.argsort(dim=0, stable=True), lambda t: t.argsort(dim=0, stable=True), x)
    if dtype != "bool":  # PyTorch has no bool topk/kthvalue/median either
        compare(lambda t: tuple(t.topk(2)), lambda t: tuple(t.topk(2)), x)
        compare(lambda t: tuple(t.kthvalue(2)), lambda t: tuple(t.kthvalue(2)), x)
        compare(lambda t: t.median(), lambda t: t.median(), x)


def test_named_tuples_and_0d():
    out = minidl.topk(minidl.tensor([1.0, 3.0, 2.0]), 2)
    assert out.values.tolist() == [3.0, 2.0] and out.indices.tolist() == [1, 2]
    v, i = minidl.tensor(3.0).sort()
    assert v.shape == () and i.item() == 0
    assert minidl.tensor(3.0).kthvalue(1).values.item() == 3.0


def test_bad_input():
    x = minidl.ones(2, 3)
    with pytest.raises(IndexError, match=r"sort: dim 2 is out of range.*expected -2 to 1"):
        x.sort(2)
    with pytest.raises(IndexError, match="argsort: dim -3 is out of range"):
        x.argsort(-3)
    with pytest.raises(RuntimeError, match=r"topk: k=4 is out of range for dim 1 of size 3.*0 <= k <= 3"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="topk: k=-1 is out of range"):
        x.topk(-1)
    with pytest.raises(TypeError, match="topk: k must be an int, got 1.5"):
        x.topk(1.5)
    with pytest.raises(RuntimeError, match=r"kthvalue: k=0 is out of range.*1 <= k <= 3"):
        x.kthvalue(0)
    with pytest.raises(
        IndexError, match=r"kthvalue: expected dim 0 of the tensor of shape \(0, 3\) to have a non-zero"
    ):
        minidl.zeros(0, 3).kthvalue(1, 0)
    with pytest.raises(IndexError, match="median: expected dim 0"):
        minidl.zeros(0, 3).median(0)
    with pytest.raises(TypeError, match="topk: expected a numeric tensor, got bool"):
        minidl.tensor([True, False]).topk(1)
    with pytest.raises(TypeError, match="sort: expected a Tensor, got list"):
        minidl.sort([1, 2])
