"""tril, triu, diag, diagonal: values, dtypes and gradients against PyTorch, gradcheck, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl as md
from minidl.errors import ShapeError

from strategies import arrays, leaf, shapes

OFFSETS = st.integers(-4, 4)


@st.composite
def diagonal_args(draw, shape):
    """(offset, dim1, dim2) for a tensor of ``shape``: two different dims, either sign."""
    n = len(shape)
    d1, d2 = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    d1 = d1 - n if draw(st.booleans()) else d1
    return draw(OFFSETS), d1, d2


@pytest.mark.parametrize("name", ["tril", "triu"])
@given(data=st.data(), shape=shapes(min_dims=2, min_side=0), k=OFFSETS)
def test_triangle_matches_pytorch(name, data, shape, k):
    x = data.draw(arrays(shape))
    compare(lambda a: getattr(md, name)(a, k), lambda a: getattr(torch, name)(a, k), x)
    compare(lambda a: getattr(a, name)(diagonal=k), lambda a: getattr(a, name)(diagonal=k), x)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("name", ["tril", "triu", "diag", "diagonal"])
def test_dtype_is_kept(name, dtype):
    x = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    compare(getattr(md, name), getattr(torch, name), x)


@settings(max_examples=10, deadline=None)
@pytest.mark.parametrize("name", ["tril", "triu"])
@given(data=st.data(), shape=shapes(min_dims=2), k=OFFSETS)
def test_triangle_gradcheck(name, data, shape, k):
    x = leaf(data.draw(arrays(shape)))
    assert md.gradcheck(lambda a: getattr(md, name)(a, k), (x,))


@given(data=st.data(), shape=shapes(min_dims=2, min_side=0))
def test_diagonal_matches_pytorch(data, shape):
    x = data.draw(arrays(shape))
    offset, d1, d2 = data.draw(diagonal_args(shape))
    compare(lambda a: md.diagonal(a, offset, d1, d2), lambda a: torch.diagonal(a, offset, d1, d2), x)
    compare(lambda a: a.diagonal(offset=offset, dim1=d1, dim2=d2), lambda a: a.diagonal(offset, d1, d2), x)


@given(data=st.data(), shape=shapes(min_dims=1, max_dims=2, min_side=0), k=OFFSETS)
def test_diag_matches_pytorch(data, shape, k):
    """1-d: the vector on diagonal k of a square matrix; 2-d: diagonal k as a vector."""
    x = data.draw(arrays(shape))
    compare(lambda a: md.diag(a, k), lambda a: torch.diag(a, k), x)


@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=2))
def test_diagonal_gradcheck_and_gradgradcheck(data, shape):
    x = leaf(data.draw(arrays(shape)))
    offset, d1, d2 = data.draw(diagonal_args(shape))
    assert md.gradcheck(lambda a: md.diagonal(a, offset, d1, d2), (x,))
    assert md.gradgradcheck(lambda a: md.diagonal(a, offset, d1, d2) ** 2, (x,))


@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=2), k=OFFSETS)
def test_diag_gradcheck_and_gradgradcheck(data, shape, k):
    x = leaf(data.draw(arrays(shape)))
    assert md.gradcheck(lambda a: md.diag(a, k), (x,))
    assert md.gradgradcheck(lambda a: md.diag(a, k) ** 2, (x,))


def test_causal_mask_from_tril():
    """The use that motivated tril: a causal attention mask (ones on and below the diagonal)."""
    mask = md.tril(md.ones(3, 3)).numpy()
    np.testing.assert_array_equal(mask, [[1, 0, 0], [1, 1, 0], [1, 1, 1]])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: md.tril(md.ones(3)), ShapeError, r"tril: .*at least 2 dimensions.*\(3,\)"),
        (lambda: md.triu(md.tensor(1.0)), ShapeError, r"triu: .*at least 2 dimensions"),
        (lambda: md.tril(md.ones(2, 2), 1.5), TypeError, r"tril: diagonal must be an int"),
        (lambda: md.diag(md.ones(2, 2, 2)), ShapeError, r"diag: expected a 1-d or 2-d.*\(2, 2, 2\)"),
        (lambda: md.diag(md.tensor(1.0)), ShapeError, r"diag: expected a 1-d or 2-d"),
        (lambda: md.diagonal(md.ones(2, 2), 0, 1, -1), ShapeError, r"diagonal: dim1 and dim2 must differ"),
        (lambda: md.diagonal(md.ones(2, 2), 0, 0, 2), IndexError, r"diagonal: dim 2 is out of range"),
        (lambda: md.diagonal(md.ones(2)), ShapeError, r"diagonal: .*at least 2 dimensions"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_shape_errors_are_runtime_errors_too():
    """Ported PyTorch code catches RuntimeError."""
    with pytest.raises(RuntimeError):
        md.tril(md.ones(3))
