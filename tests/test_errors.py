"""Bad input gets a clear error: the right exception type, naming the op and the shapes (or dtypes,
devices) involved. Each case lists the fragments its message must contain."""

import re

import numpy as np
import pytest

import minidl
from minidl.backend import kernels


def raises(exc, fn, *fragments):
    """``fn()`` raises ``exc`` whose message contains every fragment (literally)."""
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message: {message!r}"
    return message


def randn(*shape):
    return minidl.randn(*shape)


# -- shapes that do not fit ------------------------------------------------------------------------


def test_matmul_shape_mismatch_names_matmul_and_both_shapes():
    raises(ValueError, lambda: randn(2, 3) @ randn(4, 5), "matmul", "(2, 3)", "(4, 5)")
    raises(ValueError, lambda: minidl.matmul(randn(3), randn(4)), "matmul", "(3,)", "(4,)")
    raises(ValueError, lambda: randn(2, 2, 3) @ randn(3, 3, 5), "matmul", "(2, 2, 3)", "(3, 3, 5)")
    raises(ValueError, lambda: minidl.tensor(1.0) @ randn(2), "matmul", "()", "(2,)")
    raises(TypeError, lambda: randn(2, 2) @ 3, "matmul", "Tensor")


BROADCAST_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    "maximum": minidl.maximum,
    "minimum": minidl.minimum,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


@pytest.mark.parametrize("op", BROADCAST_OPS)
def test_broadcast_mismatch_names_the_op_and_the_shapes(op):
    raises(ValueError, lambda: BROADCAST_OPS[op](randn(2, 3), randn(4)), op, "(2, 3)", "(4,)", "broadcast")


def test_broadcast_mismatch_in_where():
    cond = minidl.tensor([True, False, True])
    raises(ValueError, lambda: minidl.where(cond, randn(2), randn(3)), "where", "(3,)", "(2,)", "broadcast")


def test_a_non_shape_error_is_not_reported_as_broadcasting():
    msg = raises(ValueError, lambda: minidl.tensor([1, 2]) ** -1, "pow", "negative")
    assert "broadcast" not in msg


def test_reshape_to_an_incompatible_shape():
    raises(ValueError, lambda: randn(2, 3).reshape(4, 2), "reshape", "(2, 3)", "(4, 2)")
    raises(ValueError, lambda: randn(2, 3).view(4, -1), "reshape", "(2, 3)", "(4, -1)")


def test_permute_with_a_bad_permutation():
    raises(ValueError, lambda: randn(2, 3).permute(0, 0), "permute", "(0, 0)", "(2, 3)")
    raises(ValueError, lambda: randn(2, 3).permute(0, 1, 2), "permute", "(0, 1, 2)", "(2, 3)")


def test_cat_and_stack_with_mismatched_shapes():
    raises(ValueError, lambda: minidl.cat([randn(2, 3), randn(2, 4)]), "cat", "(2, 4)", "(2, 3)")
    raises(ValueError, lambda: minidl.cat([randn(2, 3), randn(2)], dim=1), "cat", "(2,)", "(2, 3)")
    raises(ValueError, lambda: minidl.cat([]), "cat", "empty")
    raises(ValueError, lambda: minidl.cat([minidl.tensor(1.0)]), "cat", "stack")
    raises(TypeError, lambda: minidl.cat([randn(2), np.ones(2)]), "cat", "ndarray")
    raises(ValueError, lambda: minidl.stack([randn(2, 3), randn(3, 2)]), "stack", "(2, 3)", "(3, 2)")


def test_other_shape_op_errors():
    raises(ValueError, lambda: randn(2, 3).expand(4, 3), "expand", "(2, 3)", "(4, 3)")
    raises(ValueError, lambda: randn(2, 3).expand(3), "expand", "(2, 3)")
    raises(ValueError, lambda: randn(5).split([2, 2]), "split", "[2, 2]", "5")
    raises(ValueError, lambda: randn(4).split(0), "split", "positive")
    raises(ValueError, lambda: minidl.pad(randn(5), (1, 1, 1, 1)), "pad", "(5,)")
    raises(ValueError, lambda: minidl.pad(randn(3), (-4, 0)), "pad", "crops", "(3,)")
    raises(ValueError, lambda: minidl.pad(randn(1, 3), (3, 0), mode="reflect"), "pad", "reflect", "less than")
    raises(ValueError, lambda: randn(2, 3).flatten(1, 0), "flatten")
    raises(ValueError, lambda: randn(3).mT, "mT", "(3,)")
    raises(IndexError, lambda: randn(2, 3)[5], "index", "(2, 3)")
    raises(IndexError, lambda: randn(3)[minidl.tensor([0.5])], "index", "float32")


# -- dims out of range ---------------------------------------------------------------------------------

DIM_OPS = {
    "sum": lambda x: x.sum(2),
    "mean": lambda x: x.mean(-3),
    "var": lambda x: x.var(dim=2),
    "std": lambda x: x.std(dim=(0, 5)),
    "max": lambda x: x.max(dim=2),
    "min": lambda x: x.min(-3),
    "amax": lambda x: x.amax(dim=7),
    "argmax": lambda x: x.argmax(dim=2),
    "argmin": lambda x: x.argmin(dim=-3),
    "logsumexp": lambda x: x.logsumexp(dim=2),
    "softmax": lambda x: minidl.functional.softmax(x, dim=2),
    "log_softmax": lambda x: minidl.functional.log_softmax(x, dim=-3),
    "transpose": lambda x: x.transpose(0, 2),
    "unsqueeze": lambda x: x.unsqueeze(4),
    "squeeze": lambda x: x.squeeze(3),
    "split": lambda x: x.split(1, dim=2),
    "cat": lambda x: minidl.cat([x, x], dim=2),
    "size": lambda x: x.size(2),
}


@pytest.mark.parametrize("op", DIM_OPS)
def test_dim_out_of_range_names_the_op(op):
    x = randn(2, 3)
    msg = raises(IndexError, lambda: DIM_OPS[op](x), "out of range")
    assert re.search(rf"\b{op}\b", msg), msg


def test_bad_dim_arguments():
    raises(TypeError, lambda: randn(2).sum(0.5), "sum", "0.5")
    raises(ValueError, lambda: randn(2, 3).sum((0, -2)), "sum", "twice")
    raises(TypeError, lambda: randn(2, 3).max((0, 1)), "max", "amax")


# -- autograd misuse -----------------------------------------------------------------------------------


def test_integer_tensors_cannot_require_grad():
    raises(TypeError, lambda: minidl.tensor([1, 2], requires_grad=True), "floating", "int64")
    raises(TypeError, lambda: minidl.arange(3).requires_grad_(), "floating", "int64")
    raises(TypeError, lambda: minidl.zeros(2, dtype=minidl.int32, requires_grad=True), "floating", "int32")


def test_backward_of_a_non_scalar_needs_a_gradient_and_names_the_shape():
    y = randn(2, 3).requires_grad_() * 2
    raises(RuntimeError, lambda: y.backward(), "scalar", "(2, 3)")
    raises(RuntimeError, lambda: y.backward(minidl.ones(3)), "(3,)", "(2, 3)")


def test_backward_of_a_tensor_outside_the_graph():
    raises(RuntimeError, lambda: randn(2).sum().backward(), "does not require grad")


def test_backward_twice():
    x = randn(3).requires_grad_()
    y = (x * x).sum()
    y.backward()
    raises(RuntimeError, lambda: y.backward(), "second time", "retain_graph=True")


def test_grad_of_an_input_that_does_not_require_grad():
    y = (randn(2).requires_grad_() * 2).sum()
    raises(RuntimeError, lambda: minidl.grad(y, randn(2)), "grad", "(2,)", "does not require grad")


def test_retain_grad_on_a_tensor_outside_the_graph():
    raises(RuntimeError, lambda: randn(2).retain_grad(), "retain_grad")


def test_item_of_a_multi_element_tensor():
    raises(ValueError, lambda: randn(2, 3).item(), "item", "(2, 3)")


def test_mean_of_an_integer_tensor():
    raises(TypeError, lambda: minidl.arange(3).mean(), "mean", "int64", "float()")


def test_clamp_without_bounds():
    raises(ValueError, lambda: randn(3).clamp(), "clamp", "min", "max")


def test_copy_of_a_wrong_shape():
    raises(ValueError, lambda: randn(2).copy_(randn(3)), "copy_", "(3,)", "(2,)")


class ReturnsTwo(minidl.Function):
    @staticmethod
    def forward(ctx, x):
        return x.data, x.data


class OneGradForTwoInputs(minidl.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x.data * y.data

    @staticmethod
    def backward(ctx, grad):
        return grad


class WrongGradShape(minidl.Function):
    @staticmethod
    def forward(ctx, x):
        return x.data.sum()

    @staticmethod
    def backward(ctx, grad):
        return minidl.ones(5)


def test_custom_function_mistakes():
    x = randn(2).requires_grad_()
    raises(TypeError, lambda: ReturnsTwo.apply(x), "ReturnsTwo", "tuple")
    raises(
        RuntimeError,
        lambda: OneGradForTwoInputs.apply(x, randn(2)).sum().backward(),
        "OneGradForTwoInputs",
        "1 gradient",
        "2 argument",
    )
    raises(RuntimeError, lambda: WrongGradShape.apply(x).backward(), "WrongGradShape", "(5,)", "(2,)")


# -- construction ------------------------------------------------------------------------------------


def test_bad_tensor_data():
    raises(TypeError, lambda: minidl.tensor("abc"), "tensor", "str")
    raises(ValueError, lambda: minidl.tensor([[1, 2], [3]]), "tensor")
    raises(ValueError, lambda: minidl.zeros(-1, 2), "zeros", "negative")
    raises(TypeError, lambda: minidl.ones("a"), "ones")
    raises(ValueError, lambda: minidl.arange(0, 5, 0), "arange", "step")
    raises(TypeError, lambda: minidl.manual_seed(1.5), "manual_seed")
    raises(TypeError, lambda: minidl.from_numpy([1, 2]), "from_numpy", "list")
    raises(ValueError, lambda: minidl.set_num_threads(0), "set_num_threads")


# -- kernels and devices -------------------------------------------------------------------------------


def test_matmul_kernel_checks_its_arrays():
    f64 = np.ones((1, 2, 2))
    raises(
        TypeError,
        lambda: kernels.matmul(np.ones((1, 2, 2), bool), np.ones((1, 2, 2), bool)),
        "matmul",
        "bool",
    )
    raises(TypeError, lambda: kernels.matmul(f64, f64.astype(np.float32)), "matmul", "float64", "float32")
    raises(ValueError, lambda: kernels.matmul(np.ones((2, 2)), np.ones((2, 2))), "matmul", "3-d", "(2, 2)")
    raises(ValueError, lambda: kernels.matmul(np.ones((1, 2, 3)), f64), "matmul", "(1, 2, 3)", "(1, 2, 2)")
    raises(
        ValueError,
        lambda: kernels.matmul(np.ones((2, 2, 2)), np.ones((3, 2, 2))),
        "matmul",
        "batch",
        "(2, 2, 2)",
        "(3, 2, 2)",
    )


def test_matmul_kernel_accepts_what_it_checks():
    a = np.arange(6.0).reshape(1, 2, 3)
    np.testing.assert_allclose(kernels.matmul(a, a, trans_b=True), a @ a.transpose(0, 2, 1))


def test_unknown_kernel_setting():
    def use():
        with minidl.use_kernels("bogus"):
            pass

    raises(ValueError, use, "use_kernels", "bogus", "reference")
    raises(ValueError, lambda: minidl.backend.set_kernels("bogus"), "set_kernels", "bogus")
    assert minidl.backend.get_kernels() in ("auto", "native", "reference")  # unchanged by the failures


def test_unknown_device():
    raises(ValueError, lambda: minidl.device("tpu"), "tpu", "cpu", "cuda")
    raises(ValueError, lambda: minidl.device("cuda:x"), "cuda:x")
    raises(TypeError, lambda: minidl.device(3), "device")
    raises(ValueError, lambda: minidl.zeros(2, device="tpu"), "tpu")


@pytest.mark.skipif(minidl.cuda.is_available(), reason="a GPU is present: CUDA requests succeed")
def test_cuda_without_a_gpu_is_a_clear_error():
    reason = minidl.cuda.unavailable_reason()
    assert reason and ("CuPy" in reason or "GPU" in reason)
    cases = {
        "zeros": lambda: minidl.zeros(2, device="cuda"),
        "tensor": lambda: minidl.tensor([1.0], device="cuda"),
        "to": lambda: minidl.ones(2).to("cuda"),
        "cuda": lambda: minidl.ones(2).cuda(),
        "set_default_device": lambda: minidl.set_default_device("cuda"),
    }
    for name, fn in cases.items():
        msg = raises(RuntimeError, fn, "cuda")
        assert "CuPy" in msg or "GPU" in msg, (name, msg)
    assert minidl.get_default_device() == "cpu"
    assert not minidl.cuda.is_available() and minidl.cuda.device_count() == 0


@pytest.mark.gpu
def test_mixing_devices_is_a_clear_error():
    """Needs a GPU (skipped otherwise): a CPU tensor and a CUDA tensor in one op."""
    a = minidl.ones(2)
    b = minidl.ones(2, device="cuda")
    raises(RuntimeError, lambda: a + b, "cpu", "cuda", "(2,)")
    raises(RuntimeError, lambda: b @ minidl.ones(2, 2), "cpu", "cuda")


# -- window arguments of convolution and pooling: one reading (backend/geometry.py) everywhere ----

import minidl.functional as F  # noqa: E402
from minidl import nn  # noqa: E402

# op name -> (the call with one window argument replaced, the arguments it takes, the input)
WINDOW_OPS = {
    "conv1d": (
        lambda x, **kw: F.conv1d(x, minidl.ones(2, 3, 3), **kw),
        ("stride", "padding", "dilation"),
        (1, 3, 8),
    ),
    "conv2d": (
        lambda x, **kw: F.conv2d(x, minidl.ones(2, 3, 3, 3), **kw),
        ("stride", "padding", "dilation"),
        (1, 3, 8, 8),
    ),
    "max_pool2d": (
        lambda x, **kw: F.max_pool2d(x, **{"kernel_size": 3, **kw}),
        ("kernel_size", "stride", "padding", "dilation"),
        (1, 3, 8, 8),
    ),
    "avg_pool2d": (
        lambda x, **kw: F.avg_pool2d(x, **{"kernel_size": 3, **kw}),
        ("kernel_size", "stride", "padding"),
        (1, 3, 8, 8),
    ),
}
# An argument -> a value that must be accepted as a NumPy integer, and the plain-int twin.
NUMPY_VALUES = {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}


@pytest.mark.parametrize("op", WINDOW_OPS)
def test_numpy_integers_are_accepted_by_every_window_argument(op):
    call, names, shape = WINDOW_OPS[op]
    x = randn(*shape)
    for name in names:
        value = NUMPY_VALUES[name]
        want = call(x, **{name: value})
        for numpy_value in (np.int64(value), np.int32(value), (np.int64(value),) * (len(shape) - 2)):
            got = call(x, **{name: numpy_value})
            assert got.shape == want.shape, (op, name, numpy_value)
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    if op.startswith("conv"):  # groups too
        np.testing.assert_array_equal(call(x, groups=np.int64(1)).numpy(), call(x).numpy())


@pytest.mark.parametrize("op", WINDOW_OPS)
@pytest.mark.parametrize("bad", [True, 2.0, 1.5, "2", None, (1, 2, 3)], ids=repr)
def test_bools_floats_and_other_types_are_refused_naming_the_op_and_argument(op, bad):
    call, names, shape = WINDOW_OPS[op]
    x = randn(*shape)
    for name in names:
        if bad is None and name == "stride" and "pool" in op:
            continue  # a pooling's stride=None is its default: the kernel size
        if bad == "2" and name == "padding" and op.startswith("conv"):
            continue  # a string padding means 'valid' or 'same' (others: ValueError, test_conv.py)
        message = raises(TypeError, lambda: call(x, **{name: bad}), op, name)
        assert repr(bad) in message


@pytest.mark.parametrize("op", WINDOW_OPS)
def test_negative_and_zero_window_arguments_are_refused(op):
    call, names, shape = WINDOW_OPS[op]
    x = randn(*shape)
    for name in names:
        word = name.replace("kernel_size", "kernel")
        if name != "padding":
            raises(ValueError, lambda: call(x, **{name: 0}), op, word, "must be positive")
        raises(ValueError, lambda: call(x, **{name: -1}), op, word, str(shape))
    if op.startswith("conv"):
        raises(ValueError, lambda: call(x, groups=0), op, "groups", "positive")
        raises(TypeError, lambda: call(x, groups=True), op, "groups")
        raises(TypeError, lambda: call(x, groups=1.0), op, "groups")


LAYERS = {
    "Conv1d": (lambda **kw: nn.Conv1d(3, 2, **{"kernel_size": 3, **kw}), (1, 3, 8)),
    "Conv2d": (lambda **kw: nn.Conv2d(3, 2, **{"kernel_size": 3, **kw}), (1, 3, 8, 8)),
    "MaxPool2d": (lambda **kw: nn.MaxPool2d(**{"kernel_size": 3, **kw}), (1, 3, 8, 8)),
    "AvgPool2d": (lambda **kw: nn.AvgPool2d(**{"kernel_size": 3, **kw}), (1, 3, 8, 8)),
}


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_take_numpy_integers_and_refuse_bools_and_floats(layer):
    make, shape = LAYERS[layer]
    x = randn(*shape)
    names = ("kernel_size", "stride", "padding") + (("dilation",) if layer != "AvgPool2d" else ())
    for name in names:
        value = NUMPY_VALUES[name]
        np.testing.assert_array_equal(
            make(**{name: np.int64(value)})(x).shape, make(**{name: value})(x).shape
        )
        for bad in (True, 1.5):
            # Conv layers read their arguments at construction (the weight's shape needs the
            # kernel); pooling layers keep them as given and the functional op reads them.
            op = layer if layer.startswith("Conv") else layer.replace("Pool", "_pool").lower()
            raises(TypeError, lambda: make(**{name: bad})(x), op, name, repr(bad))
    if layer.startswith("Conv"):
        conv = make(groups=np.int64(1))
        assert conv.groups == 1 and type(conv.groups) is int and conv(x).shape[1] == 2
