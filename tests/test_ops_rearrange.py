"""roll, flip, movedim, repeat, repeat_interleave, meshgrid, unfold, split and chunk: values, dtypes
and gradients against PyTorch (size-0 dims, non-contiguous inputs), gradcheck, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl as md
from minidl.errors import DTypeError, ShapeError

from strategies import arrays, dims, leaf, shapes

ANY_SHAPE = shapes(min_side=0)  # 0-d, size-0 and size-1 dims
SMALL = settings(max_examples=10, deadline=None)


# -- each op's arguments, drawn for a tensor of a given shape -----------------------------------


@st.composite
def roll_args(draw, shape):
    """(shifts, dims): one shift over the flattened tensor, or one shift per (possibly repeated) dim."""
    n = len(shape)
    if n == 0 or draw(st.booleans()):
        return draw(st.integers(-7, 7)), None
    ds = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))
    shifts = draw(st.lists(st.integers(-7, 7), min_size=len(ds), max_size=len(ds)))
    return (tuple(shifts), tuple(ds)) if len(ds) > 1 or draw(st.booleans()) else (shifts[0], ds[0])


@st.composite
def movedim_args(draw, shape):
    n = len(shape)
    k = draw(st.integers(1, n))
    source = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    dest = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))
    dest = [d - n if i % 2 else d for i, d in enumerate(dest)]
    return (source[0], dest[0]) if k == 1 and draw(st.booleans()) else (tuple(source), tuple(dest))


@st.composite
def unfold_args(draw, shape):
    d = draw(st.integers(0, len(shape) - 1))
    size = draw(st.integers(0, shape[d]))
    return d - len(shape) * draw(st.integers(0, 1)), size, draw(st.integers(1, 3))


@st.composite
def sections(draw, n):
    """Sizes (some 0) adding up to n."""
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, n])]


# -- PyTorch comparisons -----------------------------------------------------------------------


@given(data=st.data(), shape=ANY_SHAPE)
def test_roll(data, shape):
    x = data.draw(arrays(shape))
    shifts, ds = data.draw(roll_args(shape))
    compare(lambda a: md.roll(a, shifts, ds), lambda a: torch.roll(a, shifts, ds), x)


@given(data=st.data(), shape=ANY_SHAPE)
def test_flip(data, shape):
    x = data.draw(arrays(shape))
    d = data.draw(dims(len(shape), allow_none=False))
    as_tuple = d if isinstance(d, tuple) else (d,)
    compare(lambda a: md.flip(a, d), lambda a: torch.flip(a, as_tuple), x)
    compare(lambda a: a.flip(*as_tuple), lambda a: a.flip(*as_tuple), x)


@given(data=st.data(), shape=shapes(min_dims=1, min_side=0))
def test_movedim_and_moveaxis(data, shape):
    x = data.draw(arrays(shape))
    source, dest = data.draw(movedim_args(shape))
    compare(lambda a: md.movedim(a, source, dest), lambda a: torch.movedim(a, source, dest), x)
    compare(lambda a: a.moveaxis(source, dest), lambda a: a.moveaxis(source, dest), x)


@given(data=st.data(), shape=ANY_SHAPE)
def test_repeat(data, shape):
    x = data.draw(arrays(shape))
    extra = data.draw(st.integers(0 if shape else 1, 2))
    reps = tuple(
        data.draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra, max_size=len(shape) + extra))
    )
    compare(lambda a: a.repeat(*reps), lambda a: a.repeat(*reps), x)
    compare(lambda a: a.repeat(reps), lambda a: a.repeat(reps), x)


@given(data=st.data(), shape=ANY_SHAPE)
def test_repeat_interleave(data, shape):
    x = data.draw(arrays(shape))
    dim = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    n = int(np.prod(shape)) if dim is None else shape[dim]
    kind = data.draw(st.sampled_from(["int", "counts", "one count"]))
    if kind == "int":
        r = data.draw(st.integers(0, 3))
        ours, theirs = r, r
    else:
        counts = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)) if kind == "counts" else [2]
        ours, theirs = md.tensor(counts, dtype=md.int64), torch.tensor(counts, dtype=torch.int64)
    compare(
        lambda a: md.repeat_interleave(a, ours, dim), lambda a: torch.repeat_interleave(a, theirs, dim), x
    )
    compare(lambda a: a.repeat_interleave(ours, dim=dim), lambda a: a.repeat_interleave(theirs, dim=dim), x)


def test_repeat_interleave_of_counts_alone():
    counts = [1, 0, 3, 2]
    compare(md.repeat_interleave, torch.repeat_interleave, np.array(counts))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@given(data=st.data(), sizes=st.lists(st.integers(0, 3) | st.none(), min_size=1, max_size=3))
def test_meshgrid(data, indexing, sizes):
    """Each input 1-d of length n, or 0-d (None)."""
    xs = [data.draw(arrays(() if n is None else (n,))) for n in sizes]
    compare(
        lambda *t: md.meshgrid(*t, indexing=indexing), lambda *t: torch.meshgrid(*t, indexing=indexing), *xs
    )
    compare(
        lambda *t: md.meshgrid(list(t), indexing=indexing),
        lambda *t: torch.meshgrid(list(t), indexing=indexing),
        *xs,
    )


@given(data=st.data(), shape=shapes(min_dims=1, min_side=0))
def test_unfold(data, shape):
    x = data.draw(arrays(shape))
    d, size, step = data.draw(unfold_args(shape))
    compare(lambda a: a.unfold(d, size, step), lambda a: a.unfold(d, size, step), x)


@pytest.mark.parametrize("size", [0, 1])
def test_unfold_of_a_0d_tensor(size):
    compare(lambda a: a.unfold(0, size, 1), lambda a: a.unfold(0, size, 1), np.array(2.5))


@given(data=st.data(), shape=shapes(min_dims=1, min_side=0))
def test_split_by_size_and_by_sections(data, shape):
    x = data.draw(arrays(shape))
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(1 if shape[d] else 0, 5))
    compare(lambda a: md.split(a, size, d), lambda a: torch.split(a, size, d), x)
    parts = data.draw(sections(shape[d]))
    compare(lambda a: a.split(parts, dim=d), lambda a: a.split(parts, dim=d), x)


@given(data=st.data(), shape=shapes(min_dims=1, min_side=0), chunks=st.integers(1, 5))
def test_chunk(data, shape, chunks):
    x = data.draw(arrays(shape))
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    compare(lambda a: md.chunk(a, chunks, d), lambda a: torch.chunk(a, chunks, d), x)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize(
    "op",
    [
        lambda m, a: m.roll(a, 1, 0),
        lambda m, a: m.flip(a, (0, 1)),
        lambda m, a: m.movedim(a, 0, 1),
        lambda m, a: a.repeat(2, 1),
        lambda m, a: m.repeat_interleave(a, 2, 1),
        lambda m, a: a.unfold(1, 2, 1),
        lambda m, a: m.meshgrid(a[0], a[1], indexing="ij"),
        lambda m, a: m.chunk(a, 2, 1),
    ],
)
def test_dtype_is_kept(op, dtype):
    x = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    compare(lambda a: op(md, a), lambda a: op(torch, a), x)


# -- gradcheck (float64) -----------------------------------------------------------------------


@SMALL
@given(data=st.data(), shape=shapes())
def test_gradcheck_roll_flip_movedim(data, shape):
    x = leaf(data.draw(arrays(shape)))
    shifts, ds = data.draw(roll_args(shape))
    assert md.gradcheck(lambda a: md.roll(a, shifts, ds), (x,))
    d = data.draw(dims(len(shape), allow_none=False))
    assert md.gradcheck(lambda a: md.flip(a, d), (x,))
    if shape:
        source, dest = data.draw(movedim_args(shape))
        assert md.gradcheck(lambda a: md.movedim(a, source, dest), (x,))


@SMALL
@given(data=st.data(), shape=shapes())
def test_gradcheck_repeat_and_repeat_interleave(data, shape):
    x = leaf(data.draw(arrays(shape)))
    reps = data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1))
    assert md.gradcheck(lambda a: a.repeat(*reps) if reps else a.repeat(()), (x,))
    dim = data.draw(st.none() | st.integers(0, len(shape) - 1)) if shape else None
    n = int(np.prod(shape)) if dim is None else shape[dim]
    counts = md.tensor(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=md.int64)
    assert md.gradcheck(lambda a: md.repeat_interleave(a, counts, dim), (x,))
    assert md.gradgradcheck(lambda a: a.repeat(*reps).sum() ** 2 if reps else a.sum() ** 2, (x,))


@SMALL
@given(data=st.data(), shape=shapes(min_dims=1))
def test_gradcheck_unfold_split_chunk(data, shape):
    """Overlapping windows (step < size) share elements: their gradients add up."""
    x = leaf(data.draw(arrays(shape)))
    d, size, step = data.draw(unfold_args(shape))
    assert md.gradcheck(lambda a: a.unfold(d, size, step), (x,))
    parts = data.draw(sections(shape[d]))
    assert md.gradcheck(lambda a: md.split(a, parts, d), (x,))
    assert md.gradcheck(lambda a: md.chunk(a, 2, d), (x,))


@SMALL
@given(
    data=st.data(),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    indexing=st.sampled_from(["ij", "xy"]),
)
def test_gradcheck_meshgrid(data, sizes, indexing):
    xs = tuple(leaf(data.draw(arrays((n,)))) for n in sizes)
    assert md.gradcheck(lambda *t: md.meshgrid(*t, indexing=indexing), xs)


# -- bad input ---------------------------------------------------------------------------------

x23 = md.ones(2, 3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: md.roll(x23, (1, 2)), ShapeError, r"roll: with dims=None, shifts must be one int"),
        (lambda: md.roll(x23, (1, 2), (0,)), ShapeError, r"roll: shifts \(1, 2\) and dims \(0,\)"),
        (lambda: md.roll(x23, 1, 2), IndexError, r"roll: dim 2 is out of range"),
        (lambda: md.roll(md.tensor(1.0), 1, 0), IndexError, r"roll: .*no dimensions"),
        (lambda: md.flip(x23, (0, -2)), ShapeError, r"flip: dims \(0, -2\) name a dimension more than once"),
        (lambda: md.flip(x23, 0.5), TypeError, r"flip: dims must be ints"),
        (lambda: md.movedim(x23, (0, 1), (1, 1)), ShapeError, r"movedim: destination"),
        (lambda: md.movedim(x23, (0,), (1, 0)), ShapeError, r"movedim: source .* must name as many dims"),
        (lambda: x23.repeat(2), ShapeError, r"repeat: got 1 repeats .*\(2, 3\).*at least one per dimension"),
        (lambda: x23.repeat(-1, 2), ShapeError, r"repeat: repeats \(-1, 2\) must not be negative"),
        (
            lambda: md.repeat_interleave(x23, md.tensor([1, 2]), 1),
            ShapeError,
            r"repeat_interleave: 2 repeats .* size 3",
        ),
        (
            lambda: md.repeat_interleave(x23, md.tensor([1.0, 2.0]), 0),
            DTypeError,
            r"repeat_interleave: .*integer tensor",
        ),
        (
            lambda: md.repeat_interleave(x23, -1, 0),
            ShapeError,
            r"repeat_interleave: repeats must not be negative",
        ),
        (
            lambda: md.repeat_interleave(x23, md.tensor([[1, 2]]), 0),
            ShapeError,
            r"repeat_interleave: .*0-d or 1-d",
        ),
        (
            lambda: md.repeat_interleave(md.tensor(1.0), 2, 0),
            IndexError,
            r"repeat_interleave: .*no dimensions",
        ),
        (
            lambda: md.meshgrid(md.ones(2), md.ones(3, 1)),
            ShapeError,
            r"meshgrid: expected 0-d or 1-d .*\(3, 1\)",
        ),
        (
            lambda: md.meshgrid(md.ones(2), md.arange(3)),
            DTypeError,
            r"meshgrid: all tensors must have one dtype",
        ),
        (
            lambda: md.meshgrid(md.ones(2), indexing="yx"),
            ValueError,
            r"meshgrid: indexing must be 'ij' or 'xy'",
        ),
        (lambda: md.meshgrid(), ValueError, r"meshgrid: expected at least one tensor"),
        (lambda: x23.unfold(1, 4, 1), ShapeError, r"unfold: window size 4 is larger than dim 1 \(size 3\)"),
        (lambda: x23.unfold(1, 2, 0), ShapeError, r"unfold: size must be >= 0 and step > 0"),
        (lambda: x23.unfold(1, -1, 1), ShapeError, r"unfold: size must be >= 0"),
        (lambda: x23.unfold(2, 1, 1), IndexError, r"unfold: dim 2 is out of range"),
        (lambda: md.split(x23, [1, 1], 1), ShapeError, r"split: sections \[1, 1\] must .* sum to 3"),
        (lambda: md.split(x23, [4, -1], 1), ShapeError, r"split: sections \[4, -1\] must be non-negative"),
        (lambda: md.split(x23, 0, 1), ShapeError, r"split: split_size must be positive"),
        (lambda: md.split(md.tensor(1.0), 1), ShapeError, r"split: .*0-d"),
        (lambda: md.chunk(x23, 0), ShapeError, r"chunk: needs chunks > 0"),
        (lambda: md.chunk(md.tensor(1.0), 1), ShapeError, r"chunk: .*at least 1 dim"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
