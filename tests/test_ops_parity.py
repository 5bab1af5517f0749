"""The wrong answers of issue 13, each against PyTorch: pow's gradient at its edges, zero gradients
of piecewise-constant ops, size-0 inputs across the existing ops, linspace on integer dtypes,
advanced indexing mixing ints and arrays, float16 and integer matmul, integer max pooling,
squeeze's dim check."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, compare, torch

import minidl as md
import minidl.nn.functional as F

TF = torch.nn.functional


# -- pow at its edges --------------------------------------------------------------------------


def test_pow_gradient_at_zero_to_the_zero():
    base = np.array([0.0, 0.0, 2.0, 0.0, 3.0])
    exponent = np.array([0.0, 2.0, 0.0, -1.0, 0.5])
    compare(lambda a, b: a**b, lambda a, b: a**b, base, exponent)
    compare(lambda a: a**0.0, lambda a: a**0.0, base)


@pytest.mark.parametrize("constant", [-2.0, 0.0, 2.0, -0.5])
def test_pow_of_a_constant_base(constant):
    exponent = np.array([-1.0, 0.0, 0.5, 2.0])
    compare(lambda b: constant**b, lambda b: constant**b, exponent)


# -- piecewise-constant ops: a zero gradient, not a cut graph ------------------------------------


def test_sign_has_a_zero_gradient():
    x = np.array([-1.5, 0.0, 2.0])
    compare(lambda t: t.sign(), lambda t: t.sign(), x)
    compare(lambda t: t.sign() * t, lambda t: t.sign() * t, x)
    t = md.tensor([1.0, -1.0], requires_grad=True)
    t.sign().sum().backward(create_graph=True)
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0])


def test_comparisons_carry_no_gradient_and_leave_the_rest_intact():
    x = np.array([-1.0, 0.5, 2.0])
    compare(lambda t: (t > 0).float() * t, lambda t: (t > 0).float() * t, x)
    t = md.tensor(x, requires_grad=True)
    for out in (t > 0, t == 0.5, t <= 1, md.maximum(t, 0.0) != t):
        assert out.dtype == md.bool_ and not out.requires_grad and out.grad_fn is None


def test_sign_of_integers_and_bools_keeps_the_dtype():
    compare(lambda t: t.sign(), lambda t: t.sign(), np.array([-3, 0, 4], np.int32))
    compare(lambda t: t.sign(), lambda t: t.sign(), np.array([True, False]))


# -- size-0 inputs -------------------------------------------------------------------------------

MATMULS = [
    ((8, 8), (8, 0)),
    ((8, 0), (0, 8)),
    ((0, 3), (3, 4)),
    ((0,), (0,)),
    ((3,), (3, 0)),
    ((2, 0, 3, 4), (4, 5)),
    ((0, 3, 4), (0, 4, 5)),
    ((1, 3, 0), (2, 0, 5)),
]


@pytest.mark.parametrize(("sa", "sb"), MATMULS)
def test_matmul_with_a_zero_length_dim(sa, sb):
    rng = np.random.default_rng(0)
    compare(md.matmul, torch.matmul, rng.uniform(-1, 1, sa), rng.uniform(-1, 1, sb))


E = (0, 3)
SIZE_ZERO = {
    "sum": (lambda x: x.sum(), E),
    "sum(0)": (lambda x: x.sum(0), E),
    "mean": (lambda x: x.mean(), E),
    "mean(1)": (lambda x: x.mean(1), E),
    "amax(1)": (lambda x: x.amax(1), E),
    "max(1)": (lambda x: x.max(1), E),
    "logsumexp(0)": (lambda x: x.logsumexp(0), E),
    "logsumexp(1)": (lambda x: x.logsumexp(1), E),
    "softmax(0)": (lambda x: x.softmax(0), E),
    "log_softmax(1)": (lambda x: x.log_softmax(1), E),
    "var(0)": (lambda x: x.var(0), E),
    "elementwise": (lambda x: (x.exp() * 2 - 1).tanh().sigmoid().relu() ** 2, E),
    "clamp": (lambda x: x.clamp(0, 1), E),
    "reshape": (lambda x: x.reshape(3, 0), E),
    "reshape(-1)": (lambda x: x.reshape(-1), E),
    "permute": (lambda x: x.permute(1, 0), E),
    "flatten": (lambda x: x.flatten(), E),
    "squeeze": (lambda x: x.squeeze(), (0, 1)),
    "unsqueeze": (lambda x: x.unsqueeze(0), E),
    "expand": (lambda x: x.expand(0, 3), (1, 3)),
    "x[:, 1]": (lambda x: x[:, 1], E),
    "x[x > 5]": (lambda x: x[x > 5], (3, 4)),
    "conv2d N=0": (lambda x: _conv(x), (0, 2, 5, 5)),
    "max_pool2d N=0": (lambda x: _lib(x).max_pool2d(x, 2), (0, 2, 4, 4)),
    "avg_pool2d N=0": (lambda x: _lib(x).avg_pool2d(x, 2), (0, 2, 4, 4)),
    "max_pool1d N=0": (lambda x: _lib(x).max_pool1d(x, 2), (0, 2, 4)),
    "mse_loss": (lambda x: _lib(x).mse_loss(x, x * 0), E),
    "l1_loss sum": (lambda x: _lib(x).l1_loss(x, x * 0, reduction="sum"), E),
    "cross_entropy": (lambda x: _lib(x).cross_entropy(x, _empty_targets(x)), E),
    "gelu": (lambda x: _lib(x).gelu(x), E),
    "layer_norm": (lambda x: _lib(x).layer_norm(x, (3,)), E),
}


def _lib(x):
    return F if isinstance(x, md.Tensor) else TF


def _conv(x):
    w = np.ones((3, 2, 3, 3))
    return _lib(x).conv2d(x, md.tensor(w) if isinstance(x, md.Tensor) else torch.tensor(w))


def _empty_targets(x):
    return md.zeros(0, dtype=md.int64) if isinstance(x, md.Tensor) else torch.zeros(0, dtype=torch.int64)


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
@pytest.mark.parametrize("name", SIZE_ZERO)
def test_size_zero_inputs_match_pytorch(name):
    fn, shape = SIZE_ZERO[name]
    compare(fn, fn, np.ones(shape))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.max(),
        lambda x: x.amax(),
        lambda x: x.min(),
        lambda x: x.argmax(),
        lambda x: x.max(0),
        lambda x: x.reshape(0, -1),  # -1 could be any size
    ],
)
def test_size_zero_inputs_pytorch_refuses(fn):
    with pytest.raises((RuntimeError, IndexError)):
        fn(torch.ones(0, 3))
    with pytest.raises((ValueError, IndexError, RuntimeError)):
        fn(md.ones(0, 3))


# -- linspace ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(-50, 50),
    end=st.integers(-50, 50),
    steps=st.integers(0, 12),
    dtype=st.sampled_from(["int64", "int32", "int16", "float32", "float64"]),
)
def test_linspace_matches_pytorch(start, end, steps, dtype):
    ours = md.linspace(start, end, steps, dtype=dtype)
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
    assert_same(ours, theirs, rtol=1e-6, atol=1e-5)


def test_linspace_truncates_integers_toward_zero():
    np.testing.assert_array_equal(md.linspace(-5, 10, 7, dtype=md.int64).numpy(), [-5, -2, 0, 2, 5, 7, 10])


# -- advanced indexing with ints ------------------------------------------------------------------

IDX = np.array([0, 2, 1, 2])
INDICES = [
    lambda i: (0, slice(None), i),
    lambda i: (slice(None), 0, slice(None), i),
    lambda i: (i, 0),
    lambda i: (Ellipsis, 1, i),
    lambda i: (1, None, i, slice(1, 3)),
    lambda i: (1, i, 2),
    lambda i: (i, slice(None), 0, i),
    lambda i: (0, slice(None), slice(None), i[:2]),
]


@pytest.mark.parametrize("index", range(len(INDICES)))
def test_ints_mixed_with_arrays_index_in_pytorchs_order(index):
    make = INDICES[index]
    x = np.random.default_rng(index).uniform(-1, 1, (3, 3, 4, 5))
    compare(lambda t: t[make(md.tensor(IDX))], lambda t: t[make(torch.tensor(IDX))], x)


def test_ints_with_a_mask_index_in_pytorchs_order():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 4))
    mask = np.array([True, False, True, True])
    compare(lambda t: t[0, :, md.tensor(mask)], lambda t: t[0, :, torch.tensor(mask)], x)


# -- dtypes the kernels did not take --------------------------------------------------------------


@pytest.mark.parametrize(("sa", "sb"), [((3, 4), (4, 5)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_float16_matmul(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, sa).astype(np.float16), rng.uniform(-1, 1, sb).astype(np.float16)
    compare(md.matmul, torch.matmul, a, b)


def test_integer_matmul():
    rng = np.random.default_rng(0)
    a, b = rng.integers(-9, 9, (2, 3, 4)), rng.integers(-9, 9, (4, 2))
    compare(md.matmul, torch.matmul, a, b)
    compare(md.matmul, torch.matmul, a.astype(np.int32), b.astype(np.int32))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool2d_on_integers(dtype, padding):
    x = np.random.default_rng(1).integers(0, 100, (2, 3, 5, 6)).astype(dtype)
    compare(
        lambda t: F.max_pool2d(t, 2, padding=padding, return_indices=True),
        lambda t: TF.max_pool2d(t, 2, padding=padding, return_indices=True),
        x,
    )
    with pytest.raises(NotImplementedError):  # PyTorch's 1-d max pooling has no integer kernel
        TF.max_pool1d(torch.from_numpy(x[:, :, 0]), 3)
    with pytest.raises(TypeError, match="max_pool1d: expected a float32 or float64 tensor"):
        F.max_pool1d(md.from_numpy(x[:, :, 0]), 3)


# -- squeeze's dim --------------------------------------------------------------------------------


def test_squeeze_checks_the_dim_of_a_0d_tensor():
    for dim in (10, 1, -2):
        with pytest.raises(IndexError):
            torch.tensor(1.0).squeeze(dim)
        with pytest.raises(IndexError, match="squeeze: dim"):
            md.tensor(1.0).squeeze(dim)
    for dim in (0, -1):
        assert_same(md.tensor(1.0).squeeze(dim), torch.tensor(1.0).squeeze(dim))


# -- bad input ------------------------------------------------------------------------------------


def test_bool_operands_that_pytorch_refuses():
    flags = md.tensor([True, False])
    with pytest.raises(RuntimeError, match="sub: not supported with a bool operand"):
        flags - flags
    with pytest.raises(RuntimeError, match="neg: not supported for bool"):
        -flags
    with pytest.raises(TypeError, match="pow: not supported for a bool result"):
        flags**flags


def test_mixed_dtype_matmul_is_refused():
    with pytest.raises(RuntimeError, match="matmul: all operands must have one dtype"):
        md.ones(2, 2) @ md.ones(2, 2, dtype=md.float64)
    with pytest.raises(TypeError, match="matmul: expected float32 or float64 arrays, got bool"):
        md.ones(2, 2, dtype=md.bool_) @ md.ones(2, 2, dtype=md.bool_)
