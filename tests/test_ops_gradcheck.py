"""Every differentiable op, forward and backward.

For each op and each hypothesis-drawn example, two checks on the same float64 inputs:

- forward: the result has the shape, dtype and values NumPy gives for the same arrays;
- backward: ``minidl.gradcheck`` agrees with central finite differences.

Shapes cover broadcasting, size-1 dims and 0-d tensors; the leaves are often non-contiguous views
(transposed, strided, negative strides; see ``strategies.py``). Values stay away from kinks and
domain edges (``strategies.fill``), so a correct gradient always passes at the default tolerances.
Tests that reach the matmul kernel take the ``kernels`` fixture and run once per kernel setting.
At the end, ``gradgradcheck`` checks the backward of the backward for each op family.
"""

import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl import gradcheck, gradgradcheck

from strategies import BINARY_OPS, arrays, broadcastable_shapes, dims, leaf, numpy_axes, shapes, with_fixtures

# Cheap properties get more examples: a shape op or one elementwise op on at most 64 values
# costs a millisecond or two, finite differences included.
CHEAP_SHAPE = settings(max_examples=75)
CHEAP_ELEMENTWISE = settings(max_examples=50)


def assert_forward(out, expected):
    """``out`` (a Tensor) has exactly NumPy's shape and dtype, and its values."""
    expected = np.asarray(expected)
    assert isinstance(out, minidl.Tensor)
    assert out.shape == expected.shape, f"shape {out.shape}, NumPy gives {expected.shape}"
    assert out.dtype == expected.dtype, f"dtype {out.dtype}, NumPy gives {expected.dtype}"
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def check(fn, inputs, expected):
    """Forward against ``expected``, then gradcheck, on the same inputs."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    assert_forward(fn(*inputs), expected)
    assert gradcheck(fn, inputs)


# -- arithmetic: + - * / ** with a tensor or a Python number on either side ----------------------

BINARY = {
    # name: (operator, minidl function, NumPy, kind of left values, kind of right values)
    "add": (operator.add, minidl.add, np.add, "real", "real"),
    "sub": (operator.sub, minidl.sub, np.subtract, "real", "real"),
    "mul": (operator.mul, minidl.mul, np.multiply, "real", "real"),
    "div": (operator.truediv, minidl.div, np.divide, "real", "nonzero"),
    "pow": (operator.pow, minidl.pow, np.power, "positive", "real"),
}

SCALARS = {  # Python numbers of each kind; ints too, to check they combine with float tensors
    "real": [-1.5, 0.5, 2.0, 3],
    "nonzero": [-1.5, 0.5, 2.0, 3],
    "positive": [0.5, 1.7, 2],
}


@pytest.mark.parametrize("name", BINARY)
@CHEAP_ELEMENTWISE
@given(data=st.data(), shape_pair=broadcastable_shapes())
def test_binary_tensor_tensor(name, data, shape_pair):
    op, fn, ref, left, right = BINARY[name]
    a = data.draw(arrays(shape_pair[0], left), label="a")
    b = data.draw(arrays(shape_pair[1], right), label="b")
    f = op if data.draw(st.booleans(), label="operator") else fn
    check(f, (leaf(a), leaf(b)), ref(a, b))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("side", ["tensor_scalar", "scalar_tensor"])
@CHEAP_ELEMENTWISE
@given(data=st.data(), shape=shapes())
def test_binary_with_python_number(name, side, data, shape):
    op, fn, ref, left, right = BINARY[name]
    if side == "tensor_scalar":
        a = data.draw(arrays(shape, left), label="a")
        s = data.draw(st.sampled_from(SCALARS[right]), label="scalar")
        f = op if data.draw(st.booleans(), label="operator") else fn
        check(lambda x: f(x, s), leaf(a), ref(a, s))
    else:
        s = data.draw(st.sampled_from(SCALARS[left]), label="scalar")
        b = data.draw(arrays(shape, right), label="b")
        # the reflected operators: 2 - x is x.__rsub__(2)
        check(lambda x: op(s, x), leaf(b), ref(s, b))


# -- functions of one argument ---------------------------------------------------------------

UNARY = {
    # name: (NumPy, kind of values)
    "neg": (np.negative, "real"),
    "exp": (np.exp, "real"),
    "log": (np.log, "positive"),
    "sqrt": (np.sqrt, "positive"),
    "abs": (np.abs, "nonzero"),
    "sin": (np.sin, "real"),
    "cos": (np.cos, "real"),
    "tanh": (np.tanh, "real"),
    "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), "real"),
    "relu": (lambda a: np.maximum(a, 0.0), "nonzero"),
}


@pytest.mark.parametrize("name", UNARY)
@CHEAP_ELEMENTWISE
@given(data=st.data(), shape=shapes())
def test_unary(name, data, shape):
    ref, kind = UNARY[name]
    a = data.draw(arrays(shape, kind), label="a")
    how = data.draw(st.sampled_from(["function", "method", "operator"]), label="called as")
    if how == "function":
        f = getattr(minidl, name)
    elif how == "method" or name not in ("neg", "abs"):
        f = lambda x: getattr(x, name)()  # noqa: E731
    else:
        f = operator.neg if name == "neg" else operator.abs
    check(f, leaf(a), ref(a))


def test_sigmoid_is_stable_at_extremes():
    x = minidl.tensor([-800.0, -30.0, 0.0, 30.0, 800.0], dtype=minidl.float64)
    np.testing.assert_allclose(
        x.sigmoid().numpy(), [0.0, 1 / (1 + np.exp(30)), 0.5, 1 / (1 + np.exp(-30)), 1.0], rtol=1e-12, atol=0
    )


# -- two-way choices: maximum, minimum, clamp, where --------------------------------------------


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@CHEAP_ELEMENTWISE
@given(data=st.data(), shape_pair=broadcastable_shapes())
def test_maximum_minimum(name, data, shape_pair):
    # grid0 and grid1 values differ by at least 0.05 everywhere: no ties to split
    a = data.draw(arrays(shape_pair[0], "grid0"), label="a")
    b = data.draw(arrays(shape_pair[1], "grid1"), label="b")
    ref = getattr(np, name)
    check(getattr(minidl, name), (leaf(a), leaf(b)), ref(a, b))
    check(lambda x: getattr(x, name)(0.05), leaf(a), ref(a, 0.05))  # against a Python number


@given(data=st.data(), shape=shapes())
def test_clamp_with_number_bounds(data, shape):
    a = data.draw(arrays(shape, "offgrid"), label="a")  # never within 0.05 of a bound
    lo, hi = data.draw(st.sampled_from([(-0.5, 0.5), (None, 0.3), (-0.7, None), (0.2, 1.0)]), label="bounds")
    f = data.draw(st.sampled_from([minidl.clamp, minidl.clip, lambda x, lo, hi: x.clamp(lo, hi)]))
    check(lambda x: f(x, lo, hi), leaf(a), np.clip(a, lo, hi))


@given(data=st.data(), shape_triple=broadcastable_shapes(num_shapes=3))
def test_clamp_with_tensor_bounds(data, shape_triple):
    x = data.draw(arrays(shape_triple[0], "grid0"), label="x")
    lo = data.draw(arrays(shape_triple[1], "grid1"), label="lo") - 1.0  # grid1 shifted: still apart
    hi = lo + 1.0 + data.draw(st.sampled_from([0.0, 0.5]), label="width")  # hi >= lo
    expected = np.minimum(np.maximum(x, lo), hi)
    check(minidl.clamp, (leaf(x), leaf(lo), leaf(hi)), expected)


@given(data=st.data(), shape_triple=broadcastable_shapes(num_shapes=3))
def test_where(data, shape_triple):
    cond_shape, a_shape, b_shape = shape_triple
    cond = np.asarray(
        np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed")).random(cond_shape) < 0.5
    )
    a = data.draw(arrays(a_shape), label="a")
    b = data.draw(arrays(b_shape), label="b")
    condition = minidl.tensor(cond) if data.draw(st.booleans(), label="condition as tensor") else cond
    check(lambda x, y: minidl.where(condition, x, y), (leaf(a), leaf(b)), np.where(cond, a, b))
    check(lambda x: minidl.where(condition, x, -0.5), leaf(a), np.where(cond, a, -0.5))


# -- reductions ---------------------------------------------------------------------------------

REDUCTIONS = {
    # name: (minidl, NumPy, kind of values, whether dim=None is allowed)
    "sum": (lambda x, d, k: x.sum(dim=d, keepdim=k), lambda a, ax, k: np.sum(a, axis=ax, keepdims=k), "real"),
    "mean": (
        lambda x, d, k: x.mean(dim=d, keepdim=k),
        lambda a, ax, k: np.mean(a, axis=ax, keepdims=k),
        "real",
    ),
    "var": (
        lambda x, d, k: x.var(dim=d, keepdim=k),  # correction=1 by default, as in PyTorch
        lambda a, ax, k: np.var(a, axis=ax, ddof=1, keepdims=k),
        "distinct",
    ),
    "std": (
        lambda x, d, k: x.std(dim=d, keepdim=k),
        lambda a, ax, k: np.std(a, axis=ax, ddof=1, keepdims=k),
        "distinct",
    ),
    "var_biased": (
        lambda x, d, k: minidl.var(x, dim=d, correction=0, keepdim=k),
        lambda a, ax, k: np.var(a, axis=ax, keepdims=k),
        "distinct",
    ),
    "logsumexp": (
        lambda x, d, k: x.logsumexp(d, keepdim=k),
        lambda a, ax, k: np.log(np.sum(np.exp(a), axis=ax, keepdims=k)),
        "real",
    ),
    "amax": (
        lambda x, d, k: minidl.amax(x, dim=d, keepdim=k),
        lambda a, ax, k: np.amax(a, axis=ax, keepdims=k),
        "distinct",
    ),
    "amin": (
        lambda x, d, k: x.amin(dim=d, keepdim=k),
        lambda a, ax, k: np.amin(a, axis=ax, keepdims=k),
        "distinct",
    ),
}


def _count(shape, dim):
    axes = numpy_axes(dim, len(shape))
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), shape=shapes(), keepdim=st.booleans())
def test_reduction(name, data, shape, keepdim):
    fn, ref, kind = REDUCTIONS[name]
    unbiased = name in ("var", "std")
    if unbiased and math.prod(shape) < 2:
        shape = shape + (2,)  # one element: the unbiased estimate would be 0/0
    dim = data.draw(dims(len(shape), allow_none=name != "logsumexp"), label="dim")
    if unbiased and _count(shape, dim) < 2:
        dim = None
    a = data.draw(arrays(shape, kind), label="a")
    check(lambda x: fn(x, dim, keepdim), leaf(a), ref(a, numpy_axes(dim, a.ndim), keepdim))


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), shape=shapes(), keepdim=st.booleans())
def test_max_min(name, data, shape, keepdim):
    a = data.draw(arrays(shape, "distinct"), label="a")
    ref, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)
    if data.draw(st.booleans(), label="over all"):
        check(lambda x: getattr(x, name)(), leaf(a), ref(a))
        return
    dim = data.draw(st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1), label="dim")
    values, indices = getattr(minidl, name)(leaf(a), dim, keepdim=keepdim)
    axis = numpy_axes(dim, a.ndim)
    axis = None if axis is None else axis[0]
    assert indices.dtype == minidl.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), np.asarray(arg(a, axis=axis, keepdims=keepdim)))
    check(
        lambda x: getattr(x, name)(dim=dim, keepdim=keepdim).values,
        leaf(a),
        ref(a, axis=axis, keepdims=keepdim),
    )


def test_max_splits_the_gradient_between_ties():
    x = minidl.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


# -- shape ops ----------------------------------------------------------------------------------


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_reshape_and_view(data, shape):
    a = data.draw(arrays(shape), label="a")
    n = a.size
    targets = [(n,), (1, n), (n, 1), shape[::-1], (-1,), shape + (1,), (1,) + shape]
    if n == 1:
        targets.append(())
    if len(shape) >= 2:
        targets.append((shape[0], -1))
    target = data.draw(st.sampled_from(targets), label="target")
    how = data.draw(st.sampled_from(["reshape", "view", "function", "varargs"]), label="called as")
    f = {
        "reshape": lambda x: x.reshape(target),
        "view": lambda x: x.view(target),
        "function": lambda x: minidl.reshape(x, target),
        "varargs": lambda x: x.reshape(*target),
    }[how]
    check(f, leaf(a), a.reshape(target))


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_transpose(data, shape):
    a = data.draw(arrays(shape), label="a")
    n = max(a.ndim, 1)
    d0 = data.draw(st.integers(-n, n - 1), label="dim0")
    d1 = data.draw(st.integers(-n, n - 1), label="dim1")
    expected = np.swapaxes(a, d0, d1) if a.ndim else a
    check(lambda x: x.transpose(d0, d1), leaf(a), expected)


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_permute(data, shape):
    a = data.draw(arrays(shape), label="a")
    perm = data.draw(st.permutations(range(a.ndim)), label="perm")
    perm = [p - a.ndim if i % 2 else p for i, p in enumerate(perm)]  # negative dims too
    f = (
        (lambda x: x.permute(*perm))
        if data.draw(st.booleans(), label="varargs")
        else (lambda x: minidl.permute(x, tuple(perm)))
    )
    check(f, leaf(a), np.transpose(a, [p % a.ndim for p in perm]) if a.ndim else a)


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes(min_dims=2))
def test_T_and_mT(data, shape):
    a = data.draw(arrays(shape), label="a")
    check(lambda x: x.T, leaf(a), a.T)
    check(lambda x: x.mT, leaf(a), np.swapaxes(a, -1, -2))


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_flatten(data, shape):
    a = data.draw(arrays(shape), label="a")
    if a.ndim == 0:
        check(lambda x: x.flatten(), leaf(a), a.reshape(1))
        return
    s = data.draw(st.integers(0, a.ndim - 1), label="start")
    e = data.draw(st.integers(s, a.ndim - 1), label="end")
    expected = a.reshape(shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])
    e = e - a.ndim if data.draw(st.booleans(), label="negative end") else e
    check(lambda x: minidl.flatten(x, s, e), leaf(a), expected)


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_squeeze(data, shape):
    a = data.draw(arrays(shape), label="a")
    if data.draw(st.booleans(), label="all dims"):
        check(lambda x: x.squeeze(), leaf(a), np.squeeze(a))
        return
    n = max(a.ndim, 1)
    dim = data.draw(st.integers(-n, n - 1), label="dim")
    # squeezing a dim that is not of size 1 is a no-op, as in PyTorch
    expected = np.squeeze(a, dim) if a.ndim and a.shape[dim] == 1 else a
    check(lambda x: x.squeeze(dim), leaf(a), expected)


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_unsqueeze(data, shape):
    a = data.draw(arrays(shape), label="a")
    dim = data.draw(st.integers(-a.ndim - 1, a.ndim), label="dim")
    check(lambda x: minidl.unsqueeze(x, dim), leaf(a), np.expand_dims(a, dim))


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes())
def test_expand(data, shape):
    a = data.draw(arrays(shape), label="a")
    lead = data.draw(st.lists(st.integers(1, 3), max_size=1), label="new leading dims")
    grown = [data.draw(st.integers(1, 3), label="grown") if n == 1 else n for n in shape]
    target = tuple(lead) + tuple(grown)
    # -1 keeps a dim's size
    sizes = tuple(lead) + tuple(
        -1 if g == n and data.draw(st.booleans(), label="-1") else g for n, g in zip(shape, grown)
    )
    check(lambda x: x.expand(*sizes), leaf(a), np.broadcast_to(a, target))


# -- indexing -------------------------------------------------------------------------------------

INDICES = {
    "int": 1,
    "negative int": -1,
    "two ints": (2, 1),
    "all ints": (3, 2, 1),
    "slice": slice(1, 3),
    "stepped slice": (slice(None, None, 2), 1),
    "negative step": slice(None, None, -1),
    "ellipsis": (Ellipsis, 0),
    "ellipsis middle": (0, Ellipsis, 1),
    "none": (None, 1),
    "none between": (slice(None), None, slice(0, 2)),
    "int array repeated": np.array([0, 2, 2, 3]),
    "list repeated": [3, 0, 0],
    "two int arrays": (np.array([0, 0, 1]), np.array([1, 1, 2])),
    "2-d int array": np.array([[0, 1], [1, 1]]),
    "slice and list": (slice(1, 3), [0, 0, 2]),
    "ellipsis and list": (Ellipsis, [1, 0, 1]),
    "bool mask dim 0": np.array([True, False, True, True]),
    "bool mask 2-d": np.array(
        [[True, False, True], [False, False, True], [True, True, False], [False, True, False]]
    ),
    "tensor int index": minidl.tensor([1, 1, 0]),
    "tensor bool mask": minidl.tensor([False, True, False, True]),
}


def _as_numpy_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    out = tuple(p.numpy() if isinstance(p, minidl.Tensor) else p for p in parts)
    return out if isinstance(index, tuple) else out[0]


@pytest.mark.parametrize("name", INDICES)
@given(data=st.data())
@settings(max_examples=4)
def test_getitem(name, data):
    a = data.draw(arrays((4, 3, 2)), label="a")
    index = INDICES[name]
    check(lambda x: x[index], leaf(a), a[_as_numpy_index(index)])


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes(min_dims=1))
def test_getitem_random_int_array(data, shape):
    a = data.draw(arrays(shape), label="a")
    n = shape[0]
    index = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6), label="index")  # repeats
    check(lambda x: x[index], leaf(a), a[np.array(index)])


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes(min_dims=1))
def test_getitem_random_bool_mask(data, shape):
    a = data.draw(arrays(shape), label="a")
    k = data.draw(st.integers(1, a.ndim), label="mask dims")
    mask = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed")).random(shape[:k]) < 0.5
    check(lambda x: x[minidl.tensor(mask)], leaf(a), a[mask])


# -- joining and splitting --------------------------------------------------------------------


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes(min_dims=1, max_side=3), count=st.integers(1, 3))
def test_cat(data, shape, count):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    parts = []
    for i in range(count):
        size = data.draw(st.integers(1, 3), label=f"size {i}")
        part_shape = tuple(size if k == dim % len(shape) else n for k, n in enumerate(shape))
        parts.append(data.draw(arrays(part_shape), label=f"part {i}"))
    check(
        lambda *xs: minidl.cat(list(xs), dim=dim),
        tuple(leaf(p) for p in parts),
        np.concatenate(parts, axis=dim),
    )


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes(max_side=3), count=st.integers(1, 3))
def test_stack(data, shape, count):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    parts = [data.draw(arrays(shape), label=f"part {i}") for i in range(count)]
    check(lambda *xs: minidl.stack(xs, dim), tuple(leaf(p) for p in parts), np.stack(parts, axis=dim))


@CHEAP_SHAPE
@given(data=st.data(), shape=shapes(min_dims=1))
def test_split(data, shape):
    a = data.draw(arrays(shape), label="a")
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1), label="dim")
    n = shape[dim]
    if data.draw(st.booleans(), label="int size"):
        size = data.draw(st.integers(1, n + 1), label="split_size")
        cuts = list(range(size, n, size))  # chunks of `size`, the last one smaller
        arg = size
    else:
        cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=3), label="cuts")) if n > 1 else []
        arg = [end - start for start, end in zip([0] + cuts, cuts + [n])]  # the sizes, as a list
    expected = np.split(a, cuts, axis=dim)
    parts = leaf(a).split(arg, dim)
    assert isinstance(parts, tuple) and len(parts) == len(expected)
    for part, e in zip(parts, expected):
        assert_forward(part, e)
    assert gradcheck(lambda x: minidl.split(x, arg, dim=dim), (leaf(a),))


@given(data=st.data(), shape=shapes(min_dims=1, max_side=3))
def test_pad(data, shape):
    a = data.draw(arrays(shape), label="a")
    k = data.draw(st.integers(1, a.ndim), label="padded dims")
    pad = tuple(data.draw(st.integers(0, 2)) for _ in range(2 * k))
    value = data.draw(st.sampled_from([0.0, -1.5]), label="value")
    # pairs start from the LAST dim, as in PyTorch: (left, right, top, bottom, ...)
    widths = [(0, 0)] * (a.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    check(lambda x: minidl.pad(x, pad, value=value), leaf(a), np.pad(a, widths, constant_values=value))


# -- matmul: through the kernel, once per kernel setting ----------------------------------------

MATMUL_SHAPES = {
    # name: (shape of a, shape of b) in terms of sizes m, k, n and batch sizes p, q
    "vector @ vector": lambda m, k, n, p, q: ((k,), (k,)),
    "vector @ matrix": lambda m, k, n, p, q: ((k,), (k, n)),
    "matrix @ vector": lambda m, k, n, p, q: ((m, k), (k,)),
    "matrix @ matrix": lambda m, k, n, p, q: ((m, k), (k, n)),
    "batch @ batch": lambda m, k, n, p, q: ((p, m, k), (p, k, n)),
    "batch @ matrix": lambda m, k, n, p, q: ((p, m, k), (k, n)),
    "matrix @ batch": lambda m, k, n, p, q: ((m, k), (p, k, n)),
    "broadcast batch dims": lambda m, k, n, p, q: ((p, 1, m, k), (q, k, n)),
    "broadcast size-1 batch": lambda m, k, n, p, q: ((1, m, k), (p, k, n)),
    "batch @ vector": lambda m, k, n, p, q: ((p, m, k), (k,)),
    "vector @ batch": lambda m, k, n, p, q: ((k,), (p, k, n)),
}

small = st.integers(1, 3)
batch = st.integers(1, 2)  # batch sizes: 2 already broadcasts, and keeps the kernel calls few


def matmul_operands(data, case, sizes):
    """Two arrays shaped as MATMUL_SHAPES[case] says for these sizes."""
    a_shape, b_shape = MATMUL_SHAPES[case](*sizes)
    return data.draw(arrays(a_shape), label="a"), data.draw(arrays(b_shape), label="b")


@pytest.mark.parametrize("case", MATMUL_SHAPES)
@with_fixtures
@given(data=st.data(), sizes=st.tuples(small, small, small, batch, batch))
def test_matmul(kernels, case, data, sizes):
    a, b = matmul_operands(data, case, sizes)
    f = data.draw(
        st.sampled_from([operator.matmul, minidl.matmul, lambda x, y: x.matmul(y)]), label="called as"
    )
    check(f, (leaf(a), leaf(b)), np.matmul(a, b))


@with_fixtures
@given(data=st.data(), sizes=st.tuples(small, small, small, small))
def test_small_network(kernels, data, sizes):
    """matmul inside a computation: its backward gets non-contiguous and broadcast gradients."""
    batch, n_in, hidden, n_out = sizes
    x = data.draw(arrays((batch, n_in)), label="x")
    w1 = data.draw(arrays((n_in, hidden)), label="w1")
    b1 = data.draw(arrays((hidden,)), label="b1")
    w2 = data.draw(arrays((n_out, hidden)), label="w2")

    def net(x, w1, b1, w2):
        return ((x @ w1 + b1).tanh() @ w2.T).logsumexp(dim=1).mean()

    expected = np.log(np.exp(np.tanh(x @ w1 + b1) @ w2.T).sum(axis=1)).mean()
    check(net, tuple(leaf(t) for t in (x, w1, b1, w2)), expected)


# -- second derivatives: gradgradcheck per op family ---------------------------------------------
# Every op's backward is written with differentiable ops; gradgradcheck differentiates it again.
# Linear ops (sum, reshape, ...) have a constant first derivative, so each op is followed by a
# square: the incoming gradient then depends on x and the op's backward itself is differentiated.


def square(t):
    return t * t


GG = settings(max_examples=8)
GG_FIXTURES = settings(with_fixtures, max_examples=8)
tiny_shapes = shapes(max_dims=2, max_side=3)


@pytest.mark.parametrize("name", UNARY)
@GG
@given(data=st.data(), shape=tiny_shapes)
def test_gradgrad_unary(name, data, shape):
    a = data.draw(arrays(shape, UNARY[name][1]), label="a")
    assert gradgradcheck(lambda x: square(getattr(minidl, name)(x)), (leaf(a),))


GG_BINARY = {
    **BINARY_OPS,
    "clamp": (lambda x, y: minidl.clamp(x, min=y), "grid0", "grid1"),
    "where": (lambda x, y: minidl.where(x > 0, x, y), "nonzero", "real"),
}


@pytest.mark.parametrize("name", GG_BINARY)
@GG
@given(data=st.data(), shape_pair=broadcastable_shapes(max_dims=2, max_side=3))
def test_gradgrad_binary(name, data, shape_pair):
    op, left, right = GG_BINARY[name]
    a = data.draw(arrays(shape_pair[0], left), label="a")
    b = data.draw(arrays(shape_pair[1], right), label="b")
    assert gradgradcheck(lambda x, y: square(op(x, y)), (leaf(a), leaf(b)))
    assert gradgradcheck(lambda x: square(op(x, 0.55)), (leaf(a),))
    assert gradgradcheck(lambda y: square(op(1.45, y)), (leaf(b),))


GG_REDUCTIONS = {
    "sum": lambda x: x.sum(dim=0),
    "sum keepdim": lambda x: x.sum(dim=(0, -1), keepdim=True),
    "mean": lambda x: x.mean(),
    "var": lambda x: x.var(dim=-1),
    "std": lambda x: x.std(),
    "logsumexp": lambda x: x.logsumexp(dim=-1),
    "max": lambda x: x.max(dim=0).values,
    "min": lambda x: x.min(),
}


@pytest.mark.parametrize("name", GG_REDUCTIONS)
@GG
@given(data=st.data(), shape=shapes(min_dims=2, max_dims=2, min_side=2, max_side=3))
def test_gradgrad_reduction(name, data, shape):
    a = data.draw(arrays(shape, "distinct"), label="a")
    assert gradgradcheck(lambda x: square(GG_REDUCTIONS[name](x)), (leaf(a),))


GG_SHAPE = {
    "reshape": lambda x: x.reshape(-1),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2),
    "flatten": lambda x: x.flatten(1),
    "squeeze/unsqueeze": lambda x: x.unsqueeze(1).squeeze(),
    "expand": lambda x: x[:, :1].expand(2, 3, 2),
    "getitem basic": lambda x: x[1:, None, ..., 0],
    "getitem repeated": lambda x: x[[0, 0, 1], :, [1, 1, 0]],
    "getitem mask": lambda x: x[x > 0],
    "cat": lambda x: minidl.cat([x, x[:, :2]], dim=1),
    "stack": lambda x: minidl.stack([x, x * 2], dim=-1),
    "split": lambda x: x.split([1, 2], dim=1)[1],
    "pad": lambda x: minidl.pad(x, (1, 0, 0, 2)),
}


@pytest.mark.parametrize("name", GG_SHAPE)
@GG
@given(data=st.data())
def test_gradgrad_shape(name, data):
    a = data.draw(arrays((2, 3, 2), "nonzero"), label="a")
    assert gradgradcheck(lambda x: square(GG_SHAPE[name](x)), (leaf(a),))


@pytest.mark.parametrize(
    "case", ["matrix @ matrix", "batch @ matrix", "broadcast batch dims", "vector @ batch"]
)
@GG_FIXTURES
@given(data=st.data(), sizes=st.tuples(small, small, small, batch, batch))
def test_gradgrad_matmul(kernels, case, data, sizes):
    a, b = matmul_operands(data, case, sizes)
    assert gradgradcheck(operator.matmul, (leaf(a), leaf(b)))
    assert gradgradcheck(lambda x, y: square(x @ y), (leaf(a), leaf(b)))
