"""gather, take_along_dim, index_select and F.one_hot (minidl/functional/gather.py, embedding.py).

- gradcheck in float64 over hypothesis-drawn input shapes (0-d and size-1 dims), dims (negative
  ones too) and index tensors drawn within range, repeats included (a repeated index must add);
- PyTorch's values, dtypes and gradients over the same draws, with size-0 index dims and
  non-contiguous inputs and indices, for float32/float64 and integer inputs;
- on the fake GPU (tests/fake_cupy.py): CUDA tensors in, CUDA tensors out, equal to the CPU;
- bad input: wrong index dtype, an index out of range, too many or too few index dims, an index
  larger than the input, with errors naming the op.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl as md
import minidl.nn.functional as F
from minidl.errors import DTypeError, ShapeError

from fake_gpu import fake_gpu  # noqa: F401  (fixture)
from strategies import arrays, leaf, shapes, with_layout

INT_LAYOUTS = ("contiguous", "transposed", "reversed")


def int_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """An integer array with the same values, as a non-contiguous view where layout says so
    (strategies.with_layout fills unused memory with NaN, which an integer array cannot hold)."""
    if a.ndim == 0 or layout == "contiguous":
        return np.array(a)
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T
    return np.ascontiguousarray(a[::-1])[::-1]


@st.composite
def gather_case(draw, min_index_side=1):
    """(input shape, dim, index array): index has input's dims, no larger outside dim, values in
    range; a 0-d input takes a 0-d or 1-d index."""
    shape = draw(shapes(min_dims=0, max_dims=3))
    n = max(len(shape), 1)
    dim = draw(st.integers(-n, n - 1))
    d = dim % n
    full = shape or (1,)
    ishape = tuple(
        draw(st.integers(min_index_side, 3)) if i == d else draw(st.integers(min_index_side, full[i]))
        for i in range(len(full))
    )
    if not shape and ishape == (1,) and draw(st.booleans()):
        ishape = ()
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index = rng.integers(0, full[d], ishape).astype(np.int64)
    return shape, dim, int_layout(index, draw(st.sampled_from(INT_LAYOUTS)))


@settings(max_examples=12, deadline=None)
@given(case=gather_case(), data=st.data())
def test_gather_gradcheck(case, data):
    shape, dim, index = case
    x = leaf(data.draw(arrays(shape)))
    assert md.gradcheck(lambda t: md.gather(t, dim, md.from_numpy(index)), (x,))


@settings(max_examples=40, deadline=None)
@given(case=gather_case(min_index_side=0), data=st.data())
def test_gather_matches_pytorch(case, data):
    shape, dim, index = case
    x = data.draw(arrays(shape))
    compare(lambda t, i: t.gather(dim, i), lambda t, i: torch.gather(t, dim, i), x, index)
    compare(
        lambda t, i: md.gather(t, dim, i), lambda t, i: torch.gather(t, dim, i), x.astype(np.float32), index
    )
    ints = np.arange(x.size).reshape(x.shape).astype(np.int32)
    compare(
        lambda t, i: md.gather(t, dim, i), lambda t, i: torch.gather(t, dim, i), ints, index.astype(np.int32)
    )


def test_gather_second_derivative():
    x = leaf(np.arange(6.0).reshape(2, 3))
    index = md.tensor([[0, 0, 2], [1, 1, 1]])
    assert md.gradgradcheck(lambda t: md.gather(t, 1, index) ** 2, (x,))


@st.composite
def take_along_case(draw):
    """Input and indices of one ndim that broadcast outside dim (or dim None: any indices)."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    if draw(st.booleans()):
        ishape = draw(shapes(min_dims=0, max_dims=2, min_side=0))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        return shape, None, rng.integers(0, int(np.prod(shape)), ishape)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    ishape = tuple(
        draw(st.integers(0, 3)) if i == d else draw(st.sampled_from([1, n])) for i, n in enumerate(shape)
    )
    shape = tuple(
        1 if i != d and draw(st.booleans()) else n for i, n in enumerate(shape)
    )  # broadcast input too
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index = rng.integers(-shape[d], shape[d], ishape)  # negative indices count from the end
    return shape, dim, int_layout(index, draw(st.sampled_from(INT_LAYOUTS)))


@settings(max_examples=40, deadline=None)
@given(case=take_along_case(), data=st.data())
def test_take_along_dim_matches_pytorch(case, data):
    shape, dim, index = case
    x = data.draw(arrays(shape))
    compare(lambda t, i: md.take_along_dim(t, i, dim), lambda t, i: torch.take_along_dim(t, i, dim), x, index)
    compare(lambda t, i: t.take_along_dim(i, dim=dim), lambda t, i: t.take_along_dim(i, dim=dim), x, index)


@settings(max_examples=8, deadline=None)
@given(case=take_along_case(), data=st.data())
def test_take_along_dim_gradcheck(case, data):
    shape, dim, index = case
    x = leaf(data.draw(arrays(shape)))
    assert md.gradcheck(lambda t: md.take_along_dim(t, md.from_numpy(index), dim), (x,))


@st.composite
def index_select_case(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    n = max(len(shape), 1)
    dim = draw(st.integers(-n, n - 1))
    size = (shape or (1,))[dim % n]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if not shape:
        index = np.array(0) if draw(st.booleans()) else np.zeros(1, np.int64)
    elif draw(st.booleans()):
        index = np.array(rng.integers(0, size))  # 0-d: a dim of size 1 in the result
    else:
        index = int_layout(rng.integers(0, size, draw(st.integers(0, 5))), draw(st.sampled_from(INT_LAYOUTS)))
    dtype = draw(st.sampled_from([np.int64, np.int32]))
    return shape, dim, index.astype(dtype)


@settings(max_examples=40, deadline=None)
@given(case=index_select_case(), data=st.data())
def test_index_select_matches_pytorch(case, data):
    shape, dim, index = case
    x = data.draw(arrays(shape))
    compare(lambda t, i: md.index_select(t, dim, i), lambda t, i: torch.index_select(t, dim, i), x, index)
    compare(
        lambda t, i: t.index_select(dim, i), lambda t, i: t.index_select(dim, i), x.astype(np.float32), index
    )


@settings(max_examples=10, deadline=None)
@given(case=index_select_case(), data=st.data())
def test_index_select_gradcheck(case, data):
    shape, dim, index = case
    x = leaf(data.draw(arrays(shape)))
    assert md.gradcheck(lambda t: md.index_select(t, dim, md.from_numpy(index)), (x,))


@settings(max_examples=30, deadline=None)
@given(
    shape=shapes(min_dims=0, max_dims=3, min_side=0),
    classes=st.integers(1, 5),
    infer=st.booleans(),
    seed=st.integers(0, 99),
)
def test_one_hot_matches_pytorch(shape, classes, infer, seed):
    ids = np.random.default_rng(seed).integers(0, classes, shape)
    if infer and ids.size:
        compare(F.one_hot, torch.nn.functional.one_hot, ids)
    compare(lambda t: F.one_hot(t, classes), lambda t: torch.nn.functional.one_hot(t, classes), ids)


def test_on_the_fake_gpu(fake_gpu):
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[0, 2, 2, 1], [1, 1, 0, 0]])
    for fn in (
        lambda t, i: md.gather(t, 1, i[:, :3]),
        lambda t, i: md.take_along_dim(t, i[:1], 0),
        lambda t, i: md.index_select(t, 1, i[0]),
    ):
        want = fn(md.tensor(x, requires_grad=True), md.tensor(index))
        got = fn(md.tensor(x, device="cuda", requires_grad=True), md.tensor(index, device="cuda"))
        assert got.device.type == "cuda"
        np.testing.assert_array_equal(got.detach().cpu().numpy(), want.detach().numpy())
        assert md.gradcheck(
            lambda t: fn(t, md.tensor(index, device="cuda")),
            (md.tensor(x, device="cuda", requires_grad=True),),
        )
    hot = F.one_hot(md.tensor([0, 2], device="cuda"), 3)
    assert hot.device.type == "cuda" and hot.cpu().tolist() == [[1, 0, 0], [0, 0, 1]]


# -- bad input -------------------------------------------------------------------------------

X = md.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: md.gather(X, 1, md.tensor([[0.0]])),
            DTypeError,
            r"gather: expected an index of dtype int64 or int32, got float32",
        ),
        (lambda: md.gather(X, 1, md.tensor([[0]], dtype=md.uint8)), DTypeError, r"gather: .*got uint8"),
        (
            lambda: md.gather(X, 1, [[0]]),
            TypeError,
            r"gather: expected the index as an int64 Tensor, got list",
        ),
        (
            lambda: md.gather(X, 1, md.tensor([[3]])),
            IndexError,
            r"gather: index 3 is out of range for dim 1 of size 3",
        ),
        (
            lambda: md.gather(X, 1, md.tensor([[-1]])),
            IndexError,
            r"gather: index -1 is out of range .*0 <= index < 3",
        ),
        (lambda: md.gather(X, 1, md.tensor([0])), ShapeError, r"gather: index has 1 dims but input has 2"),
        (
            lambda: md.gather(X, 1, md.zeros(3, 1, dtype=md.int64)),
            ShapeError,
            r"gather: index of shape \(3, 1\) is larger than input \(2, 3\) at dim 0",
        ),
        (lambda: md.gather(X, 2, md.tensor([[0]])), IndexError, r"gather: dim 2 is out of range"),
        (
            lambda: md.take_along_dim(X, md.tensor([[0]], dtype=md.int32), 1),
            DTypeError,
            r"take_along_dim: expected an index of dtype int64, got int32",
        ),
        (
            lambda: md.take_along_dim(X, md.tensor([[3]]), 1),
            IndexError,
            r"take_along_dim: index 3 is out of range .*-3 <= index < 3",
        ),
        (
            lambda: md.take_along_dim(X, md.tensor([6])),
            IndexError,
            r"take_along_dim: index 6 is out of range for dim 0 of size 6",
        ),
        (
            lambda: md.take_along_dim(X, md.tensor([0]), 1),
            ShapeError,
            r"take_along_dim: input and indices should have the same number of dims",
        ),
        (
            lambda: md.take_along_dim(X, md.zeros(3, 1, dtype=md.int64), 1),
            ShapeError,
            r"take_along_dim: .*cannot be broadcast",
        ),
        (
            lambda: md.take_along_dim(md.tensor(1.0), md.tensor(0), 0),
            IndexError,
            r"take_along_dim: dim 0 given, but the input is 0-d",
        ),
        (
            lambda: md.index_select(X, 1, md.tensor([[0]])),
            ShapeError,
            r"index_select: index must be 1-d or 0-d, got shape \(1, 1\)",
        ),
        (
            lambda: md.index_select(X, 1, md.tensor([3])),
            IndexError,
            r"index_select: index 3 is out of range for dim 1 of size 3",
        ),
        (
            lambda: md.index_select(X, 1, md.tensor([-1])),
            IndexError,
            r"index_select: index -1 is out of range",
        ),
        (
            lambda: md.index_select(X, 1, md.tensor([1.0])),
            DTypeError,
            r"index_select: expected an index of dtype int64 or int32",
        ),
        (
            lambda: md.index_select(md.tensor(1.0), 0, md.tensor([0, 0])),
            ShapeError,
            r"index_select: a 0-d input takes an index of one value, got 2",
        ),
        (
            lambda: F.one_hot(md.tensor([0, 1], dtype=md.int32), 3),
            DTypeError,
            r"one_hot: expected int64 class indices, got int32",
        ),
        (lambda: F.one_hot(md.tensor([0, 3]), 3), IndexError, r"one_hot: index 3 is out of range for 3"),
        (
            lambda: F.one_hot(md.tensor([0, -1]), 3),
            IndexError,
            r"one_hot: class values must be non-negative, got -1",
        ),
        (
            lambda: F.one_hot(md.zeros(0, dtype=md.int64)),
            ValueError,
            r"one_hot: cannot infer num_classes from an empty tensor",
        ),
        (
            lambda: F.one_hot(md.tensor([0]), -2),
            ValueError,
            r"one_hot: num_classes must be a non-negative int or -1, got -2",
        ),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_shape_and_dtype_errors_are_runtime_errors_too():
    # ported PyTorch code catches RuntimeError
    with pytest.raises(RuntimeError):
        md.gather(X, 1, md.tensor([0]))
    with pytest.raises(RuntimeError):
        md.gather(X, 1, md.tensor([[0.0]]))


def test_repeated_indices_add_their_gradients():
    x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    md.gather(x, 0, md.tensor([2, 2, 0, 2])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0]


def test_layouts_of_the_float_input_reach_the_op():
    # with_layout's strided view holds NaN in the unused memory: reading past the view shows
    a = with_layout(np.arange(6.0).reshape(2, 3), "strided")
    out = md.gather(md.from_numpy(a), 1, md.tensor([[2, 0], [1, 1]]))
    assert out.tolist() == [[2.0, 0.0], [4.0, 4.0]]
