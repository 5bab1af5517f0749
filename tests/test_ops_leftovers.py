"""Issue 13's leftovers, each against PyTorch: F.linear; conv over empty channel/batch dims;
batch_norm of an empty batch; in-place ops that cannot store their result; logical ops on
integers; window arguments of the wrong length."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl as md
from minidl.errors import ArgumentError, DTypeError, ShapeError

from strategies import arrays, fill, leaf

F = md.nn.functional
TF = torch.nn.functional

# ---------------------------------------------------------------------------------------------
# F.linear


@st.composite
def linear_operands(draw, min_side=0):
    lead = draw(st.lists(st.integers(min_side, 3), max_size=2).map(tuple))
    n_in, n_out = draw(st.integers(min_side, 4)), draw(st.integers(min_side, 4))
    x = draw(arrays(lead + (n_in,)))
    w = draw(arrays((n_out, n_in)))
    b = draw(st.none() | arrays((n_out,)))
    return x, w, b


@settings(max_examples=10, deadline=None)
@given(linear_operands(min_side=1))
def test_linear_gradcheck(operands):
    x, w, b = operands
    inputs = (leaf(x), leaf(w)) + (() if b is None else (leaf(b),))
    assert md.gradcheck(F.linear, inputs)


@settings(max_examples=40, deadline=None)
@given(linear_operands())
def test_linear_matches_pytorch(operands):
    x, w, b = operands
    if b is None:
        compare(F.linear, TF.linear, x, w)
    else:
        compare(F.linear, TF.linear, x, w, b)


def test_linear_vector_weight_and_layer():
    x, w = fill((3, 4), "real", 1), fill((4,), "real", 2)
    compare(F.linear, TF.linear, x, w)
    layer = md.nn.Linear(4, 2, dtype="float64")
    ref = torch.nn.Linear(4, 2, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.detach().numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.detach().numpy()))
    np.testing.assert_allclose(
        layer(md.tensor(x)).detach().numpy(), ref(torch.from_numpy(x)).detach().numpy()
    )


def test_linear_bad_shapes():
    with pytest.raises(ShapeError, match=r"linear: .*input \(2, 3\) and weight \(4, 5\)"):
        F.linear(md.randn(2, 3), md.randn(4, 5))
    with pytest.raises(RuntimeError, match="linear: bias of shape"):
        F.linear(md.randn(2, 3), md.randn(4, 3), md.randn(5))
    with pytest.raises(ValueError, match="linear"):
        F.linear(md.randn(()), md.randn(4, 3))
    with pytest.raises(TypeError, match="linear: expected a Tensor"):
        F.linear(np.ones((2, 3)), md.randn(4, 3))


# ---------------------------------------------------------------------------------------------
# conv over empty dims


@pytest.mark.parametrize(
    "x_shape, w_shape, bias",
    [
        ((1, 0, 5, 5), (3, 0, 3, 3), False),  # no input channels: PyTorch gives (1, 0, 3, 3)
        ((2, 0, 5, 5), (3, 0, 3, 3), True),
        ((0, 2, 5, 5), (3, 2, 3, 3), True),  # an empty batch
    ],
)
def test_conv2d_empty_dims_match_pytorch(x_shape, w_shape, bias):
    arrays_ = [fill(x_shape, "real", 0), fill(w_shape, "real", 1)]
    if bias:
        arrays_.append(fill(w_shape[:1], "real", 2))
    compare(F.conv2d, TF.conv2d, *arrays_)


def test_conv1d_without_input_channels_matches_pytorch():
    compare(F.conv1d, TF.conv1d, fill((2, 0, 5), "real", 0), fill((3, 0, 3), "real", 1))


@pytest.mark.parametrize(
    "x_shape, w_shape, groups", [((1, 2, 5, 5), (0, 2, 3, 3), 1), ((1, 4, 5, 5), (0, 2, 3, 3), 2)]
)
def test_conv2d_without_output_channels_refused_as_pytorch(x_shape, w_shape, groups):
    with pytest.raises(RuntimeError):
        TF.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), groups=groups)
    with pytest.raises(ShapeError, match=rf"conv2d: .*C_out at least groups={groups}.*{w_shape}"):
        F.conv2d(md.zeros(*x_shape), md.zeros(*w_shape), groups=groups)


def test_conv_rank_and_channel_errors_are_runtime_errors():
    with pytest.raises(RuntimeError, match=r"conv2d: expected a 4-d input"):
        F.conv2d(md.randn(3, 5, 5), md.randn(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv2d: input has 3 channels"):
        F.conv2d(md.randn(1, 3, 5, 5), md.randn(2, 4, 3, 3))


# ---------------------------------------------------------------------------------------------
# batch_norm of an empty batch


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4)])
def test_batch_norm_training_on_empty_batch_matches_pytorch(shape):
    x, w, b = fill(shape, "real", 0), fill((3,), "real", 1), fill((3,), "real", 2)
    stats = {lib: (lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)) for lib in (md, torch)}

    def ours(x, w, b):
        return F.batch_norm(x, *stats[md], w, b, training=True)

    def theirs(x, w, b):
        return TF.batch_norm(x, *stats[torch], w, b, training=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch warns nothing; neither may we
        compare(ours, theirs, x, w, b)
    for m, t in zip(stats[md], stats[torch]):
        np.testing.assert_array_equal(m.numpy(), t.numpy())  # unchanged: zeros and ones


def test_batch_norm_one_value_per_channel_still_refused():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(md.randn(1, 3), None, None, training=True)


# ---------------------------------------------------------------------------------------------
# in-place results the tensor's dtype cannot hold


@pytest.mark.parametrize(
    "op, operand",
    [
        ("add_", lambda: md.randn(3)),
        ("sub_", lambda: 0.5),
        ("mul_", lambda: 1.5),
        ("div_", lambda: 2),
    ],
)
def test_inplace_float_result_into_int_tensor(op, operand):
    t = torch.tensor([1, 2, 3], dtype=torch.int32)
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(t, op)(torch.randn(3) if op == "add_" else operand())
    a = md.tensor([1, 2, 3], dtype="int32")
    with pytest.raises(DTypeError, match=rf"{op}: the result of this int32 tensor and .* int32 tensor"):
        getattr(a, op)(operand())
    assert a.tolist() == [1, 2, 3] and a._version == 0


def test_inplace_ops_that_pytorch_allows_on_int_tensors():
    a, t = md.tensor([1, 2, 3], dtype="int32"), torch.tensor([1, 2, 3], dtype=torch.int32)
    a.add_(md.tensor([1, 1, 1], dtype="int64"))
    t.add_(torch.tensor([1, 1, 1]))
    assert a.tolist() == t.tolist()
    a.fill_(2.7)
    t.fill_(2.7)
    assert a.tolist() == t.tolist()
    a.copy_(md.tensor([1.7, -2.5, 3.0]))
    t.copy_(torch.tensor([1.7, -2.5, 3.0]))
    assert a.tolist() == t.tolist()
    with pytest.raises(TypeError):  # not a number: the original error
        a.add_("x")


# ---------------------------------------------------------------------------------------------
# logical ops on integers: nonzero is true


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_on_integers(name):
    a = np.array([0, 1, 2, -3, 4, 0], dtype=np.int32)
    b = np.array([0, 2, 1, 0, -4, 5], dtype=np.int64)
    compare(getattr(md, name), getattr(torch, name), a, b)
    compare(getattr(md, name), getattr(torch, name), a, np.array([0.0, 0.5, 0, 2, 0, 1]))


# ---------------------------------------------------------------------------------------------
# window arguments of the wrong length


def test_window_argument_of_wrong_length():
    with pytest.raises(RuntimeError):
        TF.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), padding=(1, 2, 3))
    x, w = md.zeros(1, 1, 5, 5), md.zeros(1, 1, 3, 3)
    for kind in (ArgumentError, TypeError, ValueError, RuntimeError):
        with pytest.raises(
            kind, match=r"conv2d: padding must be an int or a tuple of two ints, got \(1, 2, 3\)"
        ):
            F.conv2d(x, w, padding=(1, 2, 3))
    with pytest.raises(ArgumentError, match="stride"):
        F.conv2d(x, w, stride=(1, 1, 1))
    # a wrong kind stays a TypeError only, as PyTorch's
    with pytest.raises(TypeError, match="padding") as caught:
        F.conv2d(x, w, padding=1.5)
    assert not isinstance(caught.value, ValueError)
