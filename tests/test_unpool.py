"""max_pool2d(return_indices=True), F.max_unpool1d/2d and nn.MaxUnpool1d/2d (functional/pool.py,
nn/pooling.py): PyTorch's indices, values and gradients, gradcheck, the layers, and the errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, compare, to_minidl, to_torch, torch

import minidl
import minidl.nn.functional as F
from minidl import gradcheck, gradgradcheck, nn
from minidl.errors import ShapeError

from strategies import LAYOUTS, leaf, pool_values, with_fixtures, with_layout


@st.composite
def pooled(draw, dims=2, min_batch=0):
    """(x, kernel, stride, padding): a pooling PyTorch's unpooling can undo (no dilation)."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    sizes = tuple(draw(st.integers(1, 5)) for _ in range(dims))
    assume(all(n + 2 * p >= k for n, k, p in zip(sizes, kernel, padding)))
    batch = draw(st.one_of(st.just(None), st.integers(min_batch, 2)))
    shape = ((batch,) if batch is not None else ()) + (draw(st.integers(1, 2)),) + sizes
    x = with_layout(
        pool_values(shape, np.float64, draw(st.integers(0, 2**32 - 1))), draw(st.sampled_from(LAYOUTS))
    )
    return x, kernel, stride, padding


def _ops(dims):
    return (
        (F.max_pool2d, F.max_unpool2d, torch.nn.functional.max_pool2d, torch.nn.functional.max_unpool2d)
        if dims == 2
        else (F.max_pool1d, F.max_unpool1d, torch.nn.functional.max_pool1d, torch.nn.functional.max_unpool1d)
    )


@settings(with_fixtures, max_examples=60)
@given(dims=st.sampled_from([1, 2]), data=st.data())
def test_pool_indices_match_pytorch(kernels, dims, data):
    x, kernel, stride, padding = data.draw(pooled(dims))
    pool, _, tpool, _ = _ops(dims)
    compare(
        lambda t: pool(t, kernel, stride, padding, return_indices=True),
        lambda t: tpool(t, kernel, stride, padding, return_indices=True),
        x,
    )


@settings(with_fixtures, max_examples=60)
@given(dims=st.sampled_from([1, 2]), extra=st.integers(0, 2), data=st.data())
def test_unpool_matches_pytorch(kernels, dims, extra, data):
    x, kernel, stride, padding = data.draw(pooled(dims))
    pool, unpool, tpool, tunpool = _ops(dims)
    # the pooled values themselves: where windows overlap, an index repeats with one value (which
    # of several different values PyTorch keeps is not defined)
    x = x.astype(data.draw(st.sampled_from([np.float64, np.float32])))
    y, indices = tpool(to_torch(x), kernel, stride, padding, return_indices=True)
    y = y.numpy()
    # output_size: the default, or up to stride - 1 more (what a floor in the pooling dropped)
    size = [
        (n - 1) * s - 2 * p + k + min(extra, s - 1)
        for n, k, s, p in zip(indices.shape[-dims:], kernel, stride, padding)
    ]
    # the indices are positions in the pooled input's planes; they must fit the planes asked for
    assume(indices.numel() == 0 or int(indices.max()) < np.prod(size))
    compare(
        lambda t: unpool(t, to_minidl(indices.numpy()), kernel, stride, padding, size),
        lambda t: tunpool(t, indices, kernel, stride, padding, size),
        y,
    )


@settings(with_fixtures, max_examples=10)
@given(data=st.data())
def test_unpool_gradcheck(kernels, data):
    x, kernel, stride, padding = data.draw(pooled(2, min_batch=1))
    # non-overlapping windows: each index once, so the unpooling is linear in its input
    stride = tuple(max(s, k) for s, k in zip(stride, kernel))
    y, indices = F.max_pool2d(minidl.from_numpy(x), kernel, stride, padding, return_indices=True)
    size = x.shape[-2:]  # the pooled input's planes, which the indices point into
    assert gradcheck(lambda t: F.max_unpool2d(t, indices, kernel, stride, padding, size), (leaf(y.numpy()),))


def test_second_derivative(kernels):
    x = pool_values((1, 2, 4, 4), np.float64, 3)
    y, indices = F.max_pool2d(minidl.from_numpy(x), 2, return_indices=True)
    assert gradgradcheck(lambda t: F.max_unpool2d(t, indices, 2) ** 2, (leaf(y.numpy()),))


def test_unpool_puts_values_back():
    x = minidl.tensor([[[[1.0, 5.0], [7.0, 2.0]]]])
    y, indices = F.max_pool2d(x, 2, return_indices=True)
    assert indices.tolist() == [[[[2]]]]
    assert F.max_unpool2d(y, indices, 2).tolist() == [[[[0.0, 0.0], [7.0, 0.0]]]]


@pytest.mark.parametrize("dims", [1, 2])
def test_layers_match_torch_nn(dims):
    Pool, Unpool = (nn.MaxPool2d, nn.MaxUnpool2d) if dims == 2 else (nn.MaxPool1d, nn.MaxUnpool1d)
    TPool, TUnpool = (
        (torch.nn.MaxPool2d, torch.nn.MaxUnpool2d)
        if dims == 2
        else (torch.nn.MaxPool1d, torch.nn.MaxUnpool1d)
    )
    ours, theirs = Unpool(2, stride=2), TUnpool(2, stride=2)
    assert repr(ours) == repr(theirs)
    for n, output_size in ((4, None), (5, (5,) * dims)):  # 5: the pooling's floor dropped a row
        x = pool_values((2, 3) + (n,) * dims, np.float64, 1)
        y, i = Pool(2, stride=2, return_indices=True)(minidl.from_numpy(x))
        ty, ti = TPool(2, stride=2, return_indices=True)(torch.from_numpy(x))
        assert_same(ours(y, i, output_size), theirs(ty, ti, output_size))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda y, i: F.max_unpool2d(y, i.float(), 2), TypeError, ["max_unpool2d", "int64", "float32"]),
        (lambda y, i: F.max_unpool2d(y, i[:, :, :1], 2), ShapeError, ["indices must have the input's shape"]),
        (lambda y, i: F.max_unpool2d(y, i + 100, 2), ShapeError, ["invalid max index", "4x4"]),
        (lambda y, i: F.max_unpool2d(y, i - 100, 2), ShapeError, ["invalid max index"]),
        (
            lambda y, i: F.max_unpool2d(y, i, 2, output_size=(6, 4)),
            ShapeError,
            ["output_size", "between 2 and 6"],
        ),
        (lambda y, i: F.max_unpool2d(y, i, 2, output_size=(4,)), ShapeError, ["output_size", "2 or 4"]),
        (lambda y, i: F.max_unpool2d(y[0, 0], i[0, 0], 2), ValueError, ["max_unpool2d", "4-d", "(2, 2)"]),
        (lambda y, i: F.max_unpool2d(y, i, 0), ShapeError, ["kernel", "positive"]),
        (lambda y, i: F.max_unpool2d(y[:, :0], i[:, :0], 2), ShapeError, ["non-empty"]),
    ],
)
def test_unpool_errors(call, error, words):
    y, i = F.max_pool2d(minidl.randn(1, 2, 4, 4), 2, return_indices=True)
    with pytest.raises(error) as info:
        call(y, i)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"
