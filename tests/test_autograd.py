"""How the backward pass behaves: accumulation, broadcasting, dtypes, freeing the graph, deep
graphs, grad modes, user-defined Functions, ``minidl.grad``, higher derivatives."""

import gc
import math
import tracemalloc
import weakref

import numpy as np
import pytest

import minidl
from minidl import Function, gradcheck, gradgradcheck


def t64(values, requires_grad=True):
    return minidl.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- accumulation ----------------------------------------------------------------------------------


def test_gradients_accumulate_across_backward_calls():
    x = t64([1.0, -2.0, 3.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -8.0, 12.0])
    (3 * x).sum().backward()  # a new graph adds to the same .grad
    np.testing.assert_allclose(x.grad.numpy(), [7.0, -5.0, 15.0])


def test_a_leaf_used_twice_gets_both_contributions():
    x = t64([2.0])
    (x * x + x.exp() + x).sum().backward()  # 2x + e^x + 1
    np.testing.assert_allclose(x.grad.numpy(), [4.0 + np.exp(2.0) + 1.0])


def test_grad_is_none_until_backward_and_only_on_tensors_that_require_it():
    x = t64([1.0, 2.0])
    c = t64([3.0, 4.0], requires_grad=False)
    assert x.grad is None
    (x * c).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    assert c.grad is None


# -- broadcasting ----------------------------------------------------------------------------------


def test_broadcast_gradients_reduce_to_each_input_shape():
    a = minidl.ones(3, 1, requires_grad=True)
    b = minidl.ones(4, requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 3.0))


def test_broadcast_gradient_of_a_0d_tensor_is_the_sum():
    s = minidl.tensor(2.0, requires_grad=True)
    m = minidl.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (s * m).sum().backward()
    assert s.grad.shape == () and m.grad.shape == (2, 3)
    assert s.grad.item() == pytest.approx(15.0)  # sum of m
    np.testing.assert_array_equal(m.grad.numpy(), np.full((2, 3), 2.0))


def test_broadcast_gradient_keeps_values_in_the_right_places():
    a = t64([[1.0], [2.0]])  # (2, 1)
    b = t64([[10.0, 20.0, 30.0]])  # (1, 3)
    (a * b * t64(np.arange(6.0).reshape(2, 3), requires_grad=False)).sum().backward()
    w = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(a.grad.numpy(), (w * [[10.0, 20.0, 30.0]]).sum(1, keepdims=True))
    np.testing.assert_allclose(b.grad.numpy(), (w * [[1.0], [2.0]]).sum(0, keepdims=True))


# -- dtypes ----------------------------------------------------------------------------------------


def test_mixed_float32_float64_gives_each_leaf_a_grad_of_its_own_dtype():
    x = minidl.tensor([1.0, 2.0], dtype=minidl.float32, requires_grad=True)
    y = minidl.tensor([3.0, 4.0], dtype=minidl.float64, requires_grad=True)
    z = x * y
    assert z.dtype == minidl.float64
    z.sum().backward()
    assert x.grad.dtype == minidl.float32 and y.grad.dtype == minidl.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 2.0])


def test_float32_stays_float32_with_python_numbers():
    x = minidl.ones(3, requires_grad=True)
    y = (x * 2.5 + 1).exp() / 3
    assert y.dtype == minidl.float32
    y.sum().backward()
    assert x.grad.dtype == minidl.float32


def test_dtype_conversions_are_differentiable():
    x = minidl.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == minidl.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    d = t64([0.5, -1.0])
    assert gradcheck(lambda t: t.to(minidl.float64) * t.double(), (d,))


# -- backward twice, and freeing the graph -------------------------------------------------------


def test_backward_twice_without_retain_graph_is_a_clear_error():
    x = t64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_twice_with_retain_graph_works():
    x = t64([1.0, 2.0])
    y = (x.sin() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_saved_tensors_are_released_after_backward():
    x = t64(np.linspace(-1, 1, 5))
    h = x * 2  # an intermediate that sin saves for its backward
    y = h.sin().sum()
    saved = weakref.ref(h.data)
    del h
    assert saved() is not None  # the graph keeps it alive ...
    y.backward()
    assert saved() is None  # ... and backward lets it go, without waiting for the garbage collector


def test_saved_outputs_are_released_after_backward():
    x = t64(np.linspace(-1, 1, 5))
    h = x.exp()  # exp keeps its own output for backward (a reference cycle until released)
    y = h.sum()
    out = weakref.ref(h)
    del h
    assert out() is not None
    y.backward()
    assert out() is None


def test_saved_tensors_are_kept_with_retain_graph():
    x = t64(np.linspace(-1, 1, 5))
    h = x * 2
    y = h.sin().sum()
    saved = weakref.ref(h.data)
    del h
    y.backward(retain_graph=True)
    assert saved() is not None


def test_training_loop_runs_in_constant_memory():
    """2000 steps of linear regression: traced memory must not grow after a warm-up."""
    x = minidl.randn(16, 3, dtype=minidl.float64)
    target = x @ t64([[1.0], [-2.0], [0.5]], requires_grad=False) + 0.3
    w = minidl.zeros(3, 1, dtype=minidl.float64, requires_grad=True)
    b = minidl.zeros(1, dtype=minidl.float64, requires_grad=True)

    def step():
        loss = ((x @ w + b - target) ** 2).mean()
        loss.backward()
        with minidl.no_grad():
            w.sub_(0.1 * w.grad)
            b.sub_(0.1 * b.grad)
        w.grad = None
        b.grad = None
        return loss.item()

    tracemalloc.start()
    try:
        for _ in range(200):
            step()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1800):
            last = step()
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 50_000, f"memory grew by {growth} bytes over 1800 steps"
    assert last < 1e-6  # and it did learn
    np.testing.assert_allclose(w.detach().numpy().ravel(), [1.0, -2.0, 0.5], atol=1e-3)


def test_a_training_step_leaves_no_reference_cycles():
    """Freed by reference counting alone: nothing for the cycle collector after backward."""
    w = minidl.randn(4, 3, dtype=minidl.float64, requires_grad=True)
    x = minidl.randn(5, 4, dtype=minidl.float64)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            (x @ w).tanh().exp().sigmoid().logsumexp(dim=1).mean().backward()
        gc.collect()
        leftovers = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert leftovers == []


def test_a_chain_of_100000_ops_backpropagates():
    x = t64([1.0, 2.0])
    y = x
    for _ in range(100_000):
        y = y * (1 + 1e-6)
    y.sum().backward()  # an explicit stack, not recursion: no RecursionError
    np.testing.assert_allclose(x.grad.numpy(), [(1 + 1e-6) ** 100_000] * 2, rtol=1e-9)
    del y  # freeing the long chain must not recurse either


# -- grad modes ------------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = t64([1.0, 2.0])
    with minidl.no_grad():
        assert not minidl.is_grad_enabled()
        y = x * 2
    assert minidl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_enable_grad_inside_no_grad_and_nesting():
    x = t64([1.0])
    with minidl.no_grad():
        with minidl.enable_grad():
            assert minidl.is_grad_enabled()
            y = x * 2
        assert not minidl.is_grad_enabled()
        with minidl.no_grad():
            assert not minidl.is_grad_enabled()
        assert not minidl.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None


def test_set_grad_enabled_as_function_and_context_manager():
    x = t64([1.0])
    with minidl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert minidl.is_grad_enabled()
    minidl.set_grad_enabled(False)  # takes effect immediately, as in PyTorch
    try:
        assert not minidl.is_grad_enabled()
        with minidl.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not minidl.is_grad_enabled()
    finally:
        minidl.set_grad_enabled(True)
    assert minidl.is_grad_enabled()


def test_set_grad_enabled_refused_as_decorator_leaves_the_mode_alone():
    with pytest.raises(TypeError, match="decorator"):

        @minidl.set_grad_enabled(False)
        def f():
            pass

    assert minidl.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = t64([1.0])

    @minidl.no_grad()
    def evaluate(t):
        assert not minidl.is_grad_enabled()
        return t * 2

    @minidl.enable_grad()
    def train(t):
        return t * 2

    assert evaluate.__name__ == "evaluate"  # functools.wraps
    assert not evaluate(x).requires_grad
    assert minidl.is_grad_enabled()
    with minidl.no_grad():
        assert train(x).requires_grad
        assert not minidl.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with minidl.no_grad():
            1 / 0
    assert minidl.is_grad_enabled()


def test_ops_on_tensors_without_requires_grad_build_no_graph():
    a = minidl.randn(3)
    b = (a * 2).exp().sum()
    assert not b.requires_grad and b.grad_fn is None


# -- user-defined Functions ------------------------------------------------------------------------


class Exp2(Function):
    """2^x, whose derivative is written in terms of its own output (save_output)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_output()
        return 2.0**x.data

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.output * math.log(2)  # d 2^x/dx = 2^x ln 2


class ScaledProduct(Function):
    """a * b * scale, with a non-tensor argument and needs_input_grad."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a.data * b.data * scale  # forward may return a raw array

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db, _ = ctx.needs_input_grad
        return (grad * b * ctx.scale if da else None), (grad * a * ctx.scale if db else None), None


def test_custom_function_in_pytorch_style():
    x = t64([1.0, -2.0, 3.0])
    y = Exp2.apply(x)
    assert type(y.grad_fn).__name__ == "Context" and "Exp2Backward" in repr(y.grad_fn)
    np.testing.assert_allclose(y.detach().numpy(), [2.0, 0.25, 8.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.array([2.0, 0.25, 8.0]) * math.log(2))


def test_custom_function_gradchecks_to_second_order():
    x = t64([0.3, -1.2, 2.0])
    assert gradcheck(Exp2.apply, (x,))
    assert gradgradcheck(Exp2.apply, (x,))


def test_custom_function_with_non_tensor_args_and_needs_input_grad():
    a = t64([1.0, 2.0])
    b = t64([3.0, -1.0], requires_grad=False)
    out = ScaledProduct.apply(a, b, 0.5)
    assert out.grad_fn.needs_input_grad == (True, False, False)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.5, -0.5])
    assert gradcheck(lambda p, q: ScaledProduct.apply(p, q, 0.5), (t64([1.0, 2.0]), t64([3.0, -1.0])))


def test_custom_function_under_no_grad_records_nothing():
    x = t64([2.0])
    with minidl.no_grad():
        y = Exp2.apply(x)
    assert y.grad_fn is None and not y.requires_grad


# -- what a node keeps: save_for_backward only, checked for in-place changes ----------------------


class KeepsOnCtx(Function):
    """Stores its input as a ctx attribute: refused, in favour of save_for_backward."""

    @staticmethod
    def forward(ctx, x, what):
        ctx.kept = x if what == "tensor" else x.data
        return x.data * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2, None


@pytest.mark.parametrize("what", ["tensor", "array"])
def test_a_tensor_or_array_set_on_ctx_is_refused_with_the_fix_named(what):
    with pytest.raises(TypeError, match=r"KeepsOnCtx.forward: ctx.kept = .*save_for_backward"):
        KeepsOnCtx.apply(t64([1.0]), what)


def test_plain_values_on_ctx_stay_attributes_and_are_freed_with_the_saved_tensors():
    a, b = t64([1.0, 2.0]), t64([3.0, -1.0])
    out = ScaledProduct.apply(a, b, 0.5)
    node = out.grad_fn
    assert node.scale == 0.5 and node.saved_tensors == (a, b)
    with pytest.raises(AttributeError, match="belongs to the graph"):
        node.edges = ()
    out.sum().backward()
    assert not hasattr(node, "scale") and node.edges  # freed; the graph's own fields stay
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        node.saved_tensors


def test_every_in_place_update_bumps_the_version():
    t = minidl.zeros(3)
    assert t._version == 0
    with minidl.no_grad():
        for update in (
            lambda: t.add_(1),
            lambda: t.sub_(1),
            lambda: t.mul_(2),
            lambda: t.div_(2),
            lambda: t.copy_(minidl.ones(3)),
            lambda: t.fill_(4.0),
            lambda: t.zero_(),
        ):
            before = t._version
            update()
            assert t._version == before + 1
    assert (t + 1)._version == 0  # an op's result is a new tensor


def test_backward_refuses_a_saved_input_changed_in_place():
    w, x = t64([1.0, 2.0]), t64([3.0, 4.0], requires_grad=False)
    loss = (w * x).sum()  # Mul saves both operands
    x.mul_(10)  # x does not require grad: allowed outside no_grad, but the graph needs its old value
    with pytest.raises(
        RuntimeError,
        match=r"modified by an in-place operation: MulBackward saved a "
        r"tensor of shape \(2,\) at version 0, now at version 1",
    ):
        loss.backward()


def test_backward_refuses_a_saved_output_changed_in_place():
    x = t64([0.5, -1.0])
    y = x.exp()  # Exp saves its output
    with minidl.no_grad():
        y.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"ExpBackward saved an output of shape \(2,\) at version 0, "
        r"now at version 1",
    ):
        y.sum().backward()


def test_changing_an_input_the_op_did_not_save_is_fine():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0], requires_grad=False)
    loss = (a + b).sum()  # Add saves nothing: its gradient does not depend on a or b
    b.add_(5)
    loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 1.0])


def test_parameters_updated_under_no_grad_between_steps_train_normally():
    w = t64([1.0, -2.0])
    x = t64([3.0, 0.5], requires_grad=False)
    for _ in range(3):
        loss = (w * w * x).sum()
        loss.backward()
        with minidl.no_grad():
            w.sub_(w.grad, alpha=0.1)  # after backward: nothing saved refers to the old value
        w.grad = None
    assert w._version == 3
    # d/dw sum(w^2 x) = 2 w x, so each step multiplies w by (1 - 0.2 x)
    expected = np.array([1.0, -2.0]) * (1 - 0.2 * np.array([3.0, 0.5])) ** 3
    np.testing.assert_allclose(w.detach().numpy(), expected)


# -- minidl.grad -----------------------------------------------------------------------------------


def test_grad_returns_gradients_without_touching_dot_grad():
    x = t64([1.0, 2.0])
    y = t64([3.0, 4.0])
    gx, gy = minidl.grad((x * y).sum(), (x, y))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gy.numpy(), [1.0, 2.0])
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad


def test_grad_with_grad_outputs_and_a_non_leaf_input():
    x = t64([1.0, 2.0])
    h = x * 3
    out = h * h
    (gh,) = minidl.grad(out, h, grad_outputs=t64([1.0, 0.5], requires_grad=False))
    np.testing.assert_allclose(gh.numpy(), [2 * 3.0 * 1.0, 2 * 6.0 * 0.5])


def test_grad_create_graph_gives_differentiable_gradients():
    x = t64([0.5, -1.5])
    (g,) = minidl.grad((x**3).sum(), x, create_graph=True)  # 3x^2
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, -1.5]) ** 2)
    (gg,) = minidl.grad(g.sum(), x)  # 6x
    np.testing.assert_allclose(gg.numpy(), [3.0, -9.0])


def test_grad_allow_unused():
    x = t64([1.0])
    unused = t64([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        minidl.grad(y, (x, unused), retain_graph=True)
    gx, gu = minidl.grad(y, (x, unused), allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0])
    assert gu is None


def test_backward_with_create_graph_then_differentiate_grad():
    x = t64([1.0, 2.0])
    (x.sin() * x).sum().backward(create_graph=True)  # grad = cos(x) x + sin(x)
    g = x.grad
    x.grad = None
    g.sum().backward()  # -sin(x) x + 2 cos(x)
    xs = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(xs) * xs + 2 * np.cos(xs))


def test_hessian_vector_product_matches_the_hand_computed_hessian():
    """f(x) = x^T A x / 2 + sum(exp(x)) + (c . x)^2 has Hessian (A + A^T)/2 + diag(e^x) + 2 c c^T."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    c = rng.standard_normal(4)
    x0 = rng.standard_normal(4)
    v = rng.standard_normal(4)
    x = t64(x0)
    A, C = t64(a, requires_grad=False), t64(c, requires_grad=False)

    f = 0.5 * (x @ A @ x) + x.exp().sum() + (C @ x) ** 2
    (g,) = minidl.grad(f, x, create_graph=True)
    (hv,) = minidl.grad((g * t64(v, requires_grad=False)).sum(), x)

    hessian = (a + a.T) / 2 + np.diag(np.exp(x0)) + 2 * np.outer(c, c)
    np.testing.assert_allclose(
        g.detach().numpy(), 0.5 * (a + a.T) @ x0 + np.exp(x0) + 2 * (c @ x0) * c, rtol=1e-12
    )
    np.testing.assert_allclose(hv.numpy(), hessian @ v, rtol=1e-12)


# -- retain_grad, comparisons, detach, aliasing --------------------------------------------------


def test_retain_grad_on_a_non_leaf():
    x = t64([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    other = x + 1  # a non-leaf without retain_grad
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    assert other.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [19.0, 37.0])


def test_comparisons_return_bool_tensors_without_grad():
    x = t64([1.0, -2.0, 3.0])
    y = t64([1.0, 0.0, 4.0])
    results = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= 0}
    expected = {
        "==": [True, False, False],
        "!=": [False, True, True],
        "<": [False, True, True],
        "<=": [True, True, True],
        ">": [False, False, False],
        ">=": [True, False, True],
    }
    for op, r in results.items():
        assert r.dtype == minidl.bool_, op
        assert not r.requires_grad and r.grad_fn is None, op
        np.testing.assert_array_equal(r.numpy(), expected[op], err_msg=op)


def test_integer_results_carry_no_gradient():
    x = t64([[1.0, 5.0], [7.0, 2.0]])
    idx = x.argmax(dim=1)
    assert idx.dtype == minidl.int64 and not idx.requires_grad
    assert not x.max(dim=0).indices.requires_grad


def test_detach_cuts_the_graph():
    x = t64([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])  # d counted as a constant


def test_leaf_grads_are_not_aliased():
    x = t64([1.0, 2.0])
    y = t64([3.0, 4.0])
    g = t64([1.0, 1.0], requires_grad=False)
    (x + y).backward(g)  # both leaves receive the very same gradient
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    x.grad.add_(10.0)
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_backward_of_a_leaf_itself():
    x = t64([1.0, 2.0])
    x.backward(t64([0.5, 2.0], requires_grad=False))
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 2.0])


def test_backward_with_inputs_fills_only_those():
    x = t64([1.0])
    y = t64([2.0])
    (x * y).sum().backward(inputs=[x])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])
    assert y.grad is None
