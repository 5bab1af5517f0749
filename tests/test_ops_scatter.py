"""scatter, scatter_add, scatter_reduce (minidl/functional/scatter.py) and the array helper under
them (backend/arrays.py: scatter_reduce, scatter_in_rounds).

- gradcheck in float64 over hypothesis-drawn shapes (0-d, size-1 dims), dims and index tensors
  in range: scatter (to input and src), scatter_add, scatter_reduce for every reduction, with and
  without include_self. The values keep away from ties for amax/amin ('distinct');
- PyTorch's values, dtypes and gradients, with size-0 index dims, non-contiguous inputs and
  indices, repeated indices (scatter itself draws indices without repeats: which repeat wins is
  unspecified in PyTorch), ties for amax/amin (PyTorch splits the gradient among them) and zeros
  for prod;
- the GPU's way of reducing (in rounds, device-neutral) against NumPy's ufunc.at, and the ops on
  the fake GPU;
- bad input: index dtype, index out of range, index larger than src or input, src of another
  dtype, a bad reduce string.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ops_gather import INT_LAYOUTS, int_layout
from torch_oracle import compare, torch

import minidl as md
from minidl.backend import arrays
from minidl.errors import DTypeError, ShapeError

from fake_gpu import fake_gpu  # noqa: F401  (fixture)
from strategies import arrays as float_arrays
from strategies import fill, leaf, shapes

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@st.composite
def scatter_case(draw, min_index_side=1, unique=False, larger_src=True):
    """(input shape, dim, index, src shape): index has input's dims, no larger than input outside
    dim; src at least index's size (sometimes larger); values in range; with ``unique``, no two
    index positions write the same element."""
    shape = draw(shapes(min_dims=0, max_dims=3))
    n = max(len(shape), 1)
    dim = draw(st.integers(-n, n - 1))
    d = dim % n
    full = shape or (1,)
    top = full[d] if unique else 3
    ishape = tuple(
        draw(st.integers(min_index_side, top)) if i == d else draw(st.integers(min_index_side, full[i]))
        for i in range(len(full))
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if unique:  # along dim, each line of the index is part of a permutation
        perm = np.argsort(rng.random(ishape[:d] + (full[d],) + ishape[d + 1 :]), axis=d)
        index = np.take(perm, np.arange(ishape[d]), axis=d)
    else:
        index = rng.integers(0, full[d], ishape)
    if not shape and index.size == 1 and draw(st.booleans()):
        index = index.reshape(())
    grow = larger_src and draw(st.booleans())
    sshape = tuple(s + (1 if grow else 0) for s in index.shape) if index.ndim else ()
    return shape, dim, int_layout(index.astype(np.int64), draw(st.sampled_from(INT_LAYOUTS))), sshape


def _pad_ok(src_shape, index):
    """PyTorch's backward refuses a src larger than the index; compare gradients only when equal."""
    return tuple(src_shape) == tuple(index.shape)


@settings(max_examples=40, deadline=None)
@given(case=scatter_case(min_index_side=0, unique=True), data=st.data())
def test_scatter_matches_pytorch(case, data):
    shape, dim, index, sshape = case
    x, src = data.draw(float_arrays(shape)), data.draw(float_arrays(sshape))
    grad = _pad_ok(sshape, index)
    compare(
        lambda a, i, s: md.scatter(a, dim, i, s),
        lambda a, i, s: torch.scatter(a, dim, i, s),
        x,
        index,
        src,
        grad=grad,
    )
    compare(
        lambda a, i: a.scatter(dim, i, 2.5), lambda a, i: a.scatter(dim, i, 2.5), x.astype(np.float32), index
    )
    ints = np.arange(x.size).reshape(x.shape)
    compare(
        lambda a, i: md.scatter(a, dim, i, value=-7),
        lambda a, i: torch.scatter(a, dim, i, value=-7),
        ints,
        index,
    )


@settings(max_examples=40, deadline=None)
@given(case=scatter_case(min_index_side=0), data=st.data())
def test_scatter_add_matches_pytorch(case, data):
    shape, dim, index, sshape = case
    x, src = data.draw(float_arrays(shape)), data.draw(float_arrays(sshape))
    grad = _pad_ok(sshape, index)
    compare(
        lambda a, i, s: md.scatter_add(a, dim, i, s),
        lambda a, i, s: torch.scatter_add(a, dim, i, s),
        x,
        index,
        src,
        grad=grad,
    )
    compare(
        lambda a, i, s: a.scatter_add(dim, i, s),
        lambda a, i, s: a.scatter_add(dim, i, s),
        x,
        index.astype(np.int32),
        src,
        grad=grad,
    )


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@settings(max_examples=25, deadline=None)
@given(
    case=scatter_case(min_index_side=0, larger_src=False),
    data=st.data(),
    values=st.sampled_from(["distinct", "ties"]),
)
def test_scatter_reduce_matches_pytorch(reduce, include_self, case, data, values):
    shape, dim, index, sshape = case
    seed = data.draw(st.integers(0, 2**32 - 1))
    if values == "ties":  # a few small integers: ties for amax/amin, zeros for prod
        rng = np.random.default_rng(seed)
        x, src = rng.integers(-1, 2, shape).astype(np.float64), rng.integers(-1, 2, sshape).astype(np.float64)
    else:
        x, src = fill(shape, "distinct", seed), fill(sshape, "distinct", seed + 1)

    def ours(a, i, s):
        return md.scatter_reduce(a, dim, i, s, reduce, include_self=include_self)

    def theirs(a, i, s):
        return torch.scatter_reduce(a, dim, i, s, reduce, include_self=include_self)

    compare(ours, theirs, x, index, src)
    ints = (x * 10).astype(np.int64), (src * 10).astype(np.int64)
    compare(ours, theirs, ints[0], index, ints[1])  # an integer mean rounds down


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_scatter_and_scatter_add_gradcheck(op, data):
    # scatter: no repeated index, since PyTorch's gradient (which minidl follows) reaches every
    # repeat of src, also those whose value was overwritten and has no effect
    shape, dim, index, sshape = data.draw(scatter_case(unique=op == "scatter"))
    x, src = leaf(data.draw(float_arrays(shape))), leaf(data.draw(float_arrays(sshape)))
    i = md.from_numpy(index)
    assert md.gradcheck(lambda a, s: getattr(md, op)(a, dim, i, s), (x, src))


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@settings(max_examples=6, deadline=None)
@given(case=scatter_case(), data=st.data())
def test_scatter_reduce_gradcheck(reduce, include_self, case, data):
    shape, dim, index, sshape = case
    if reduce in ("amax", "amin"):  # one set of distinct values split in two: no ties anywhere
        n = int(np.prod(shape))
        both = data.draw(float_arrays((n + int(np.prod(sshape)),), "distinct"))
        x, src = leaf(both[:n].reshape(shape)), leaf(both[n:].reshape(sshape))
    else:
        x, src = (
            leaf(data.draw(float_arrays(shape, "nonzero"))),
            leaf(data.draw(float_arrays(sshape, "nonzero"))),
        )
    i = md.from_numpy(index)
    assert md.gradcheck(
        lambda a, s: md.scatter_reduce(a, dim, i, s, reduce, include_self=include_self), (x, src)
    )


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "amax"])
def test_scatter_reduce_second_derivative(reduce):
    x = leaf(fill((2, 3), "nonzero", 1))
    src = leaf(fill((2, 2), "nonzero", 2))
    index = md.tensor([[0, 0], [2, 1]])
    assert md.gradgradcheck(lambda a, s: md.scatter_reduce(a, 1, index, s, reduce) ** 2, (x, src))


def test_src_larger_than_index_gets_zero_gradient_outside():
    # PyTorch's backward fails here; the gradient is zero where src was not used
    src = md.ones(2, 3, dtype=md.float64, requires_grad=True)
    md.scatter_add(md.zeros(2, 3, dtype=md.float64), 1, md.tensor([[0], [2]]), src).sum().backward()
    assert src.grad.tolist() == [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")  # PyTorch deprecates it
def test_legacy_reduce_argument():
    x, index, src = np.arange(6.0).reshape(2, 3), np.array([[0, 1], [2, 0]]), np.full((2, 2), 7.0)
    for r in ("add", "multiply"):
        compare(
            lambda a, i, s: md.scatter(a, 1, i, s, reduce=r),
            lambda a, i, s: torch.scatter(a, 1, i, s, reduce=r),
            x,
            index,
            src,
            grad=False,
        )


@pytest.mark.parametrize("reduce", ["sum", "prod", "amax", "amin"])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 30), size=st.integers(1, 4))
def test_reducing_in_rounds_equals_ufunc_at(reduce, seed, n, size):
    rng = np.random.default_rng(seed)
    out = rng.integers(-3, 4, (size, 3)).astype(np.float64)
    rows, cols = rng.integers(0, size, n), rng.integers(0, 3, n)
    values = rng.integers(-3, 4, n).astype(np.float64)
    want = arrays.scatter_reduce(out.copy(), (rows, cols), values, reduce)  # NumPy's ufunc.at
    got = arrays.scatter_in_rounds(np.asfortranarray(out), (rows, cols), values, reduce)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_on_the_fake_gpu(fake_gpu, reduce):
    x, src = fill((3, 4), "distinct", 0), fill((2, 4), "distinct", 1)
    index = np.array([[0, 2, 2, 1], [0, 1, 2, 1]])

    def fn(a, s, device):
        i = md.tensor(index, device=device)
        return (
            md.scatter_reduce(a, 0, i, s, reduce)
            + md.scatter(a, 0, i[:1], s[:1])
            + md.scatter_add(a, 0, i, s)
        )

    want = fn(md.tensor(x), md.tensor(src), "cpu")
    gx, gs = (
        md.tensor(x, device="cuda", requires_grad=True),
        md.tensor(src, device="cuda", requires_grad=True),
    )
    got = fn(gx, gs, "cuda")
    assert got.device.type == "cuda"
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.numpy(), rtol=1e-12)
    assert md.gradcheck(lambda a, s: fn(a, s, "cuda"), (gx, gs))


# -- bad input -------------------------------------------------------------------------------

X = md.arange(6.0).reshape(2, 3)
IDX = md.tensor([[0, 1], [2, 0]])
S = md.ones(2, 2)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: md.scatter(X, 1, IDX.float(), S),
            DTypeError,
            r"scatter: expected an index of dtype int64 or int32, got float32",
        ),
        (
            lambda: md.scatter_add(X, 1, md.tensor([[3]]), S),
            IndexError,
            r"scatter_add: index 3 is out of range for dim 1 of size 3",
        ),
        (
            lambda: md.scatter(X, 1, md.tensor([[-1]]), S),
            IndexError,
            r"scatter: index -1 is out of range .*0 <= index < 3",
        ),
        (
            lambda: md.scatter(X, 1, md.zeros(2, 3, dtype=md.int64), S),
            ShapeError,
            r"scatter: index of shape \(2, 3\) is larger than input \(2, 3\) and src \(2, 2\) at dim 1",
        ),
        (
            lambda: md.scatter(X, 1, md.zeros(3, 1, dtype=md.int64), S),
            ShapeError,
            r"scatter: index of shape \(3, 1\) is larger than input",
        ),
        (
            lambda: md.scatter(X, 1, md.zeros(2, 1, dtype=md.int64), S[0]),
            ShapeError,
            r"scatter: src has 1 dims but input has 2",
        ),
        (
            lambda: md.scatter(X, 1, md.tensor([0]), S),
            ShapeError,
            r"scatter: index has 1 dims but input has 2",
        ),
        (
            lambda: md.scatter(X, 1, IDX, S.double()),
            DTypeError,
            r"scatter: src is float64 but input is float32",
        ),
        (
            lambda: md.scatter_add(X.double(), 1, IDX, S),
            DTypeError,
            r"scatter_add: src is float32 but input is float64",
        ),
        (lambda: md.scatter_add(X, 1, IDX, 1.0), TypeError, r"scatter_add: src must be a Tensor, got float"),
        (lambda: md.scatter(X, 1, IDX), TypeError, r"scatter: expected exactly one of src .* and value"),
        (lambda: md.scatter(X, 1, IDX, S, value=1.0), TypeError, r"scatter: expected exactly one of src"),
        (
            lambda: md.scatter(X, 1, IDX, S, reduce="sum"),
            ValueError,
            r"scatter: reduce must be 'add' or 'multiply', got 'sum'",
        ),
        (
            lambda: md.scatter_reduce(X, 1, IDX, S, "avg"),
            ValueError,
            r"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got 'avg'",
        ),
        (
            lambda: md.scatter_reduce(X, 3, IDX, S, "sum"),
            IndexError,
            r"scatter_reduce: dim 3 is out of range",
        ),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_input_is_not_changed():
    x = md.zeros(3)
    md.scatter_add(x, 0, md.tensor([0, 0]), md.ones(2))
    md.scatter(x, 0, md.tensor([1]), md.ones(1))
    assert x.tolist() == [0.0, 0.0, 0.0]
