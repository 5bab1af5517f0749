"""The Tensor API: construction and dtypes, attributes, leaving minidl (numpy, item, __array__),
printing, factories, conversions and in-place updates; PyTorch's semantics throughout."""

import numpy as np
import pytest

import minidl

# -- construction and dtypes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int32, np.int64, np.uint8, np.bool_]
)
def test_tensor_of_an_ndarray_keeps_its_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = minidl.tensor(a)
    assert t.dtype == np.dtype(dtype)
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), a)


def test_python_numbers_get_pytorch_dtypes():
    assert minidl.tensor(1.5).dtype == minidl.float32  # the default dtype, not NumPy's float64
    assert minidl.tensor([1.0, 2.0]).dtype == minidl.float32
    assert minidl.tensor([1, 2.5]).dtype == minidl.float32  # mixed ints and floats: floating
    assert minidl.tensor(3).dtype == minidl.int64
    assert minidl.tensor([[1, 2], [3, 4]]).dtype == minidl.int64
    assert minidl.tensor([True, False]).dtype == minidl.bool_
    assert minidl.tensor(3).shape == () and minidl.tensor([[1, 2]]).shape == (1, 2)


def test_an_explicit_dtype_wins():
    assert minidl.tensor([1, 2], dtype=minidl.float64).dtype == minidl.float64
    assert minidl.tensor(np.zeros(2, np.float64), dtype=minidl.float32).dtype == minidl.float32


def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0])
    t = minidl.tensor(a)
    s = minidl.from_numpy(a)
    a[0] = 100.0
    assert t.numpy()[0] == 1.0
    assert s.numpy()[0] == 100.0


def test_tensor_of_a_tensor_is_a_new_leaf():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = minidl.tensor(x * 2)
    assert y.is_leaf and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_set_default_dtype():
    minidl.set_default_dtype(minidl.float64)  # the conftest fixture restores float32 afterwards
    assert minidl.get_default_dtype() == minidl.float64
    assert minidl.tensor(1.0).dtype == minidl.float64
    assert minidl.zeros(2).dtype == minidl.float64
    assert minidl.randn(2).dtype == minidl.float64
    assert minidl.arange(0.0, 1.0, 0.5).dtype == minidl.float64
    assert minidl.tensor(1).dtype == minidl.int64  # ints are unaffected
    minidl.set_default_dtype(minidl.float32)
    assert minidl.tensor(1.0).dtype == minidl.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        minidl.set_default_dtype(minidl.int64)


def test_dtype_aliases():
    assert minidl.float == minidl.float32 and minidl.double == minidl.float64
    assert minidl.long == minidl.int64 and minidl.bool == minidl.bool_


# -- attributes ------------------------------------------------------------------------------------


def test_leaf_attributes():
    x = minidl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert x.grad is None and x.grad_fn is None
    assert x.shape == (2, 3) and isinstance(x.shape, tuple)
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.dtype == minidl.float32 and x.is_floating_point()
    assert x.device == "cpu" and x.device == minidl.device("cpu") and str(x.device) == "cpu"


def test_non_leaf_attributes():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn is not None and "MulBackward" in repr(y.grad_fn)
    assert y.grad is None


def test_requires_grad_can_be_set_on_leaves_only():
    x = minidl.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    y = minidl.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False


def test_T_and_mT():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = minidl.tensor(a)
    np.testing.assert_array_equal(x.T.numpy(), a.T)  # all dims reversed
    np.testing.assert_array_equal(x.mT.numpy(), np.swapaxes(a, -1, -2))  # the last two swapped
    v = minidl.tensor([1.0, 2.0])
    np.testing.assert_array_equal(v.T.numpy(), [1.0, 2.0])
    with pytest.raises(ValueError, match="mT"):
        v.mT


def test_iteration_and_python_conversions():
    x = minidl.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert len(rows) == 2 and rows[1].shape == (2,)
    assert float(minidl.tensor([2.5])) == 2.5 and int(minidl.tensor(7)) == 7
    assert bool(minidl.tensor(1.0)) and not bool(minidl.tensor([0]))
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(minidl.tensor(1.0))


# -- leaving minidl --------------------------------------------------------------------------------


def test_numpy_shares_the_data():
    x = minidl.tensor([1.0, 2.0])
    a = x.numpy()
    assert isinstance(a, np.ndarray)
    a[0] = 5.0
    assert x[0].item() == 5.0


def test_numpy_refuses_a_tensor_that_requires_grad_and_suggests_detach():
    x = minidl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        x.numpy()
    np.testing.assert_array_equal(x.detach().numpy(), [1.0])


def test_item():
    assert minidl.tensor(2.5).item() == 2.5 and isinstance(minidl.tensor(2.5).item(), float)
    assert minidl.tensor([[3]]).item() == 3 and isinstance(minidl.tensor([[3]]).item(), int)
    assert minidl.tensor([1.0], requires_grad=True).item() == 1.0  # item needs no detach


def test_detach_shares_data_and_leaves_the_graph():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y.detach().numpy())


def test_array_protocol():
    x = minidl.tensor([[1.0, 2.0]], dtype=minidl.float64)
    a = np.asarray(x)
    assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == (1, 2)
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    c = np.array(x, copy=True)
    c[0, 0] = 9.0
    assert x[0, 0].item() == 1.0
    np.testing.assert_array_equal(np.exp(x), np.exp([[1.0, 2.0]]))


def test_ndarray_on_the_left_gives_a_tensor():
    x = minidl.tensor([1.0, 2.0], dtype=minidl.float64, requires_grad=True)
    y = np.array([10.0, 20.0]) + x  # __array_priority__: NumPy defers to Tensor.__radd__
    assert isinstance(y, minidl.Tensor) and y.requires_grad
    np.testing.assert_array_equal(y.detach().numpy(), [11.0, 22.0])


def test_repr():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x).startswith("tensor(") and "requires_grad=True" in repr(x)
    y = x * 2
    assert "grad_fn=<MulBackward>" in repr(y) and "requires_grad" not in repr(y)
    assert "grad_fn=<SumBackward>" in repr(y.sum())
    assert "dtype=minidl.float64" in repr(minidl.tensor([1.0], dtype=minidl.float64))
    assert "dtype" not in repr(minidl.tensor([1.0])) and "dtype" not in repr(minidl.tensor([1]))
    assert "2." in repr(minidl.tensor([2.0])) and "requires_grad" not in repr(minidl.tensor([2.0]))


# -- factories -------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory, value", [(minidl.zeros, 0.0), (minidl.ones, 1.0)])
def test_zeros_and_ones(factory, value):
    for t in (factory(2, 3), factory((2, 3)), factory([2, 3])):
        assert t.shape == (2, 3) and t.dtype == minidl.float32 and not t.requires_grad
        assert (t.numpy() == value).all()
    assert factory(()).shape == () and factory(0).shape == (0,)
    assert factory(2, dtype=minidl.float64).dtype == minidl.float64
    assert factory(2, dtype=minidl.int64).dtype == minidl.int64
    t = factory(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_full():
    assert minidl.full((2, 2), 1.5).dtype == minidl.float32
    assert minidl.full((2,), 3).dtype == minidl.int64
    assert minidl.full((2,), True).dtype == minidl.bool_
    t = minidl.full((2, 3), 7.0, dtype=minidl.float64)
    assert t.shape == (2, 3) and t.dtype == minidl.float64 and (t.numpy() == 7.0).all()


def test_arange():
    np.testing.assert_array_equal(minidl.arange(5).numpy(), np.arange(5))
    assert minidl.arange(5).dtype == minidl.int64
    np.testing.assert_array_equal(minidl.arange(2, 8, 2).numpy(), [2, 4, 6])
    t = minidl.arange(0, 1, 0.25)
    assert t.dtype == minidl.float32
    np.testing.assert_allclose(t.numpy(), [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(minidl.arange(3, 0, -1).numpy(), [3, 2, 1])


def test_randn_and_rand():
    r = minidl.randn(200, 50)
    assert r.shape == (200, 50) and r.dtype == minidl.float32
    assert abs(r.numpy().mean()) < 0.05 and abs(r.numpy().std() - 1) < 0.05
    u = minidl.rand(1000, dtype=minidl.float64)
    assert u.dtype == minidl.float64 and (u.numpy() >= 0).all() and (u.numpy() < 1).all()
    assert minidl.randn((3, 4), requires_grad=True).requires_grad


def test_like_factories_keep_shape_and_dtype():
    x = minidl.tensor(np.ones((2, 3), np.float64))
    for f, v in ((minidl.zeros_like, 0.0), (minidl.ones_like, 1.0)):
        t = f(x)
        assert t.shape == (2, 3) and t.dtype == minidl.float64 and (t.numpy() == v).all()
    assert minidl.zeros_like(x, dtype=minidl.float32).dtype == minidl.float32
    assert minidl.ones_like(minidl.tensor([1, 2])).dtype == minidl.int64
    assert minidl.zeros_like(x, requires_grad=True).requires_grad


def test_manual_seed_makes_draws_repeatable():
    minidl.manual_seed(42)
    a, b = minidl.randn(5), minidl.rand(3)
    minidl.manual_seed(42)
    np.testing.assert_array_equal(minidl.randn(5).numpy(), a.numpy())
    np.testing.assert_array_equal(minidl.rand(3).numpy(), b.numpy())
    minidl.manual_seed(43)
    assert not np.array_equal(minidl.randn(5).numpy(), a.numpy())


# -- conversions -----------------------------------------------------------------------------------


def test_to_dtype():
    x = minidl.tensor([1.5, 2.5])
    assert x.to(minidl.float32) is x and x.to("cpu") is x and x.float() is x
    d = x.to(minidl.float64)
    assert d.dtype == minidl.float64 and x.double().dtype == minidl.float64
    assert x.to(dtype=minidl.int64).dtype == minidl.int64 and x.long().dtype == minidl.int64
    assert x.to("cpu", minidl.float64).dtype == minidl.float64
    np.testing.assert_array_equal(x.long().numpy(), [1, 2])
    assert minidl.tensor([0.0, 1.0]).bool().dtype == minidl.bool_


def test_float_and_double_are_differentiable():
    x = minidl.tensor([1.0, 2.0], dtype=minidl.float64, requires_grad=True)
    y = x.float()
    assert y.dtype == minidl.float32 and y.requires_grad and "CastBackward" in repr(y.grad_fn)
    (y * y).sum().backward()
    assert x.grad.dtype == minidl.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# -- in-place updates ------------------------------------------------------------------------------

INPLACE = {
    "add_": lambda t: t.add_(1.0),
    "sub_": lambda t: t.sub_(minidl.ones(2)),
    "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0),
    "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(3.0),
    "copy_": lambda t: t.copy_(minidl.tensor([5.0, 6.0])),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_ops_are_refused_on_tensors_that_require_grad(name):
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"{name}.*no_grad"):
        INPLACE[name](x)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match=name):
        INPLACE[name](x * 1)  # a non-leaf too


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_ops_are_allowed_inside_no_grad(name):
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    with minidl.no_grad():
        assert INPLACE[name](x) is x
    expected = {
        "add_": [2.0, 3.0],
        "sub_": [0.0, 1.0],
        "mul_": [2.0, 4.0],
        "div_": [0.5, 1.0],
        "zero_": [0.0, 0.0],
        "fill_": [3.0, 3.0],
        "copy_": [5.0, 6.0],
    }[name]
    np.testing.assert_array_equal(x.detach().numpy(), expected)
    assert x.requires_grad and x.is_leaf


def test_inplace_ops_on_plain_tensors_need_no_no_grad():
    x = minidl.tensor([1.0, 2.0])
    x.add_(minidl.tensor([1.0, 1.0]), alpha=2).mul_(10.0)
    np.testing.assert_array_equal(x.numpy(), [30.0, 40.0])


def test_optimizer_style_update_changes_the_data_in_place():
    w = minidl.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    data_before = w.data
    with minidl.no_grad():
        w.sub_(0.5 * w.grad)
    assert w.data is data_before
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])


# -- the operator table ----------------------------------------------------------------------------


def test_methods_and_functions_agree():
    a = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    x = minidl.tensor(a)
    pairs = [
        (x.exp(), minidl.exp(x)),
        (x.abs(), abs(x)),
        (x.neg(), -x),
        (x.clamp(-0.5, 0.5), minidl.clip(x, -0.5, 0.5)),
        (x.add(1), x + 1),
        (x.sub(1), x - 1),
        (x.mul(2), 2 * x),
        (x.div(2), x / 2),
        (x.pow(2), x**2),
        (x.sum(1), minidl.sum(x, dim=1)),
        (x.reshape(3, 2), minidl.reshape(x, (3, 2))),
        (x.transpose(0, 1), minidl.transpose(x, 0, 1)),
        (x.matmul(x.T), x @ x.T),
        (+x, x),
    ]
    for left, right in pairs:
        np.testing.assert_array_equal(left.numpy(), right.numpy())


def test_contiguous_copies_only_a_view_that_needs_it_and_keeps_the_gradient():
    x = minidl.tensor(np.arange(6.0).reshape(2, 3), dtype=minidl.float64, requires_grad=True)
    assert x.is_contiguous() and x.contiguous() is x
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.data.flags.c_contiguous
    np.testing.assert_array_equal(c.detach().numpy(), np.arange(6.0).reshape(2, 3).T)
    (c * minidl.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=minidl.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    assert minidl.gradcheck(lambda a: a.T.contiguous() * 2, (x,))
