"""gradcheck and gradgradcheck themselves: they pass correct gradients and catch wrong ones,
with a message that says where."""

import re

import numpy as np
import pytest

import minidl
from minidl import Function, GradcheckError, gradcheck, gradgradcheck


def t64(values, requires_grad=True):
    return minidl.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class Square(Function):
    """x^2, with its derivative 2x in ``derivative``: the subclasses below get it wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        return cls.derivative(x) * grad

    @staticmethod
    def derivative(x):
        return 2 * x


class SquareOnePercentOff(Square):
    """The derivative of x^2, multiplied by 1.01."""

    @staticmethod
    def derivative(x):
        return 2 * x * 1.01


class SquareDetached(Square):
    """First derivative right, but computed from a detached x: not differentiable again."""

    @staticmethod
    def derivative(x):
        return 2 * x.detach()


class MulWrongForB(Function):
    """a * b with a correct gradient for a and a 1% wrong one for b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a * 1.01


class CubeWrongSecondOrder(Function):
    """d(x^3)/dx = 3 x^2 computed as 3 * x.detach() * x: right in value, but its own derivative
    comes out as 3x instead of 6x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x.detach() * x * grad


X = [0.3, -1.2, 2.0, 0.7]


# -- correct gradients pass ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.exp().sum(),
        lambda x: (x * x).tanh(),
        lambda x: x.reshape(2, 2) @ x.reshape(2, 2),
        Square.apply,
    ],
)
def test_gradcheck_returns_true_for_correct_gradients(fn):
    assert gradcheck(fn, (t64(X),)) is True
    assert gradgradcheck(fn, (t64(X),)) is True


def test_gradcheck_with_several_inputs_tuple_outputs_and_non_tensor_arguments():
    def fn(a, scale, b):
        return a * b * scale, (a - b).sum()

    a, b = t64(X), t64(X[::-1])
    assert gradcheck(fn, (a, 2.5, b))
    assert gradcheck(fn, [a, 2.5, t64(X[::-1], requires_grad=False)])  # only a is checked
    assert gradcheck(lambda x: x.sin(), t64(X))  # a single tensor, not in a tuple


def test_gradcheck_leaves_the_inputs_and_their_grads_alone():
    x = t64(X)
    assert gradcheck(lambda t: (t**3).sum(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), X)  # every perturbation undone exactly
    assert x.grad is None


def test_gradcheck_passes_an_output_that_does_not_depend_on_the_inputs():
    c = t64([1.0, 2.0], requires_grad=False)
    assert gradcheck(lambda x: c * 2, (t64(X),))


# -- wrong gradients fail ------------------------------------------------------------------------


def test_gradcheck_catches_a_backward_that_is_one_percent_wrong():
    with pytest.raises(GradcheckError) as info:
        gradcheck(SquareOnePercentOff.apply, (t64(X),))
    message = str(info.value)
    for word in ("input 0", "index", "analytic", "numeric"):
        assert word in message, message
    # the worst entry comes first: where the true gradient 2 x v is largest (v: gradcheck's weights)
    true = 2 * np.array(X) * _weights(seed=0)
    worst_index = int(np.argmax(np.abs(true)))
    worst = message.splitlines()[1]
    assert f"index ({worst_index},)" in worst, message
    analytic, numeric = map(float, re.search(r"analytic (\S+), numeric (\S+)", worst).groups())
    assert analytic == pytest.approx(1.01 * true[worst_index], rel=1e-7)  # printed to 8 digits
    assert numeric == pytest.approx(true[worst_index], rel=1e-6)


def _weights(seed):
    """gradcheck's random output weights v (it checks the gradient of sum(v * f(x)))."""
    return np.random.default_rng(seed).standard_normal(len(X))


def test_gradcheck_error_names_the_wrong_input():
    with pytest.raises(GradcheckError) as info:
        gradcheck(MulWrongForB.apply, (t64(X), t64([1.5, 0.5, -2.0, 1.0])))
    assert "input 1" in str(info.value) and "input 0" not in str(info.value)


def test_gradcheck_error_is_an_assertion_error_with_a_multi_dim_index():
    with pytest.raises(AssertionError, match=r"index \(\d, \d\)"):
        gradcheck(lambda x: SquareOnePercentOff.apply(x), (t64(np.reshape(X, (2, 2))),))


def test_raise_exception_false_returns_false():
    assert gradcheck(SquareOnePercentOff.apply, (t64(X),), raise_exception=False) is False
    assert gradcheck(Square.apply, (t64(X),), raise_exception=False) is True
    assert gradgradcheck(SquareDetached.apply, (t64(X),), raise_exception=False) is False


def test_a_looser_tolerance_lets_the_one_percent_error_through():
    assert gradcheck(SquareOnePercentOff.apply, (t64(X),), rtol=0.02)


# -- float32 warns -------------------------------------------------------------------------------


def test_gradcheck_warns_on_float32_inputs():
    x = minidl.tensor(X, dtype=minidl.float32, requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        gradcheck(lambda t: t.exp(), (x,), raise_exception=False)


def test_gradcheck_does_not_warn_on_float64(recwarn):
    gradcheck(lambda t: t.exp(), (t64(X),))
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


# -- gradgradcheck -------------------------------------------------------------------------------


def test_gradgradcheck_catches_a_detached_backward():
    assert gradcheck(SquareDetached.apply, (t64(X),))  # first order is fine ...
    with pytest.raises(GradcheckError, match="analytic"):
        gradgradcheck(SquareDetached.apply, (t64(X),))  # ... second order is not


def test_gradgradcheck_catches_a_backward_wrong_in_second_order():
    assert gradcheck(CubeWrongSecondOrder.apply, (t64(X),))
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(CubeWrongSecondOrder.apply, (t64(X),))


def test_gradgradcheck_of_a_linear_function_passes():
    # the first derivative is constant: there is nothing to differentiate, and nothing wrong
    assert gradgradcheck(lambda x: (x * 3).sum(), (t64(X),))
    assert gradgradcheck(lambda x: x.reshape(2, 2).T, (t64(X),))


def test_gradgradcheck_with_two_inputs():
    assert gradgradcheck(lambda a, b: (a * b).sin(), (t64(X), t64([1.5, 0.5, -2.0, 1.0])))
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda a, b: SquareDetached.apply(a) * b, (t64(X), t64([1.5, 0.5, -2.0, 1.0])))


# -- misuse ----------------------------------------------------------------------------------------


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda t: t.exp(), (t64(X, requires_grad=False),))


def test_gradcheck_needs_a_floating_output():
    with pytest.raises(ValueError, match="floating-point"):
        gradcheck(lambda t: t > 0, (t64(X),))
