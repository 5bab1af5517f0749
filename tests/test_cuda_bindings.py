"""minidl._C_cuda seen from a machine without a GPU: the names, the checks and the error path.

The kernels themselves run only on a GPU (tests/test_gpu_kernels.py). What runs everywhere the
module is built: every kernel exists under its CPU twin's name; the binding rejects bad sizes,
dtypes and null pointers with a ValueError naming the kernel before any CUDA call; and a CUDA
failure (here: there is no GPU to launch on) comes back as a RuntimeError naming the kernel.
"""

import inspect

import pytest

from minidl.backend import cuda_kernels, native, reference
from minidl.backend.kernels import KERNELS

FAKE = 0x10000  # a non-null "device pointer"; only passed where the call must fail before using it


@pytest.fixture(scope="module")
def cuda_module():
    module = native.cuda_module()
    if module is None:
        pytest.skip(f"minidl._C_cuda is not built: {native.load_error('_C_cuda')}")
    return module


@pytest.fixture(scope="module")
def no_gpu(cuda_module):
    if cuda_module.device_count() > 0:
        pytest.skip("a GPU is visible: fake pointers would reach a real kernel")
    return cuda_module


@pytest.mark.parametrize("name", KERNELS)
def test_every_kernel_has_one_name_on_every_level(name, cuda_module):
    assert callable(getattr(native.cpu_module(), name))
    assert callable(getattr(cuda_module, name))
    # cuda_kernels.py is called exactly like reference.py
    assert inspect.signature(getattr(cuda_kernels, name)) == inspect.signature(getattr(reference, name))


def conv_call(pointers, stride, padding, dilation):
    """The keyword arguments of a conv kernel: ``pointers`` faked, one grouped problem (2, 4, 8, 8)
    * (6, 2, 3, 3), each kernel with its own stride, padding and dilation."""
    return dict(
        dict.fromkeys(pointers, FAKE),
        input_shape=(2, 4, 8, 8),
        weight_shape=(6, 2, 3, 3),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=2,
    )


# One valid call per kernel (sizes consistent, fake non-null pointers), as keyword arguments.
VALID = {
    "matmul": dict(a=FAKE, b=FAKE, c=FAKE, batch_a=2, batch_b=1, M=3, N=4, K=5, trans_a=False, trans_b=True),
    "softmax_forward": dict(x=FAKE, y=FAKE, rows=4, cols=10),
    "log_softmax_forward": dict(x=FAKE, y=FAKE, rows=4, cols=10),
    "softmax_backward": dict(grad_out=FAKE, y=FAKE, grad_x=FAKE, rows=4, cols=10),
    "log_softmax_backward": dict(grad_out=FAKE, y=FAKE, grad_x=FAKE, rows=4, cols=10),
    "max_pool2d_forward": dict(
        x=FAKE,
        y=FAKE,
        indices=FAKE,
        input_shape=(2, 3, 8, 8),
        kernel=(2, 2),
        stride=(2, 2),
        padding=(0, 0),
        dilation=(1, 1),
        ceil_mode=False,
    ),
    "max_pool2d_backward": dict(
        grad_out=FAKE, indices=FAKE, grad_x=FAKE, input_shape=(2, 3, 8, 8), output_size=(4, 4)
    ),
    "avg_pool2d_forward": dict(
        x=FAKE,
        y=FAKE,
        input_shape=(2, 3, 8, 8),
        kernel=(3, 3),
        stride=(2, 2),
        padding=(1, 1),
        ceil_mode=True,
        count_include_pad=False,
    ),
    "avg_pool2d_backward": dict(
        grad_out=FAKE,
        grad_x=FAKE,
        input_shape=(2, 3, 8, 8),
        output_size=(4, 4),
        kernel=(3, 3),
        stride=(2, 2),
        padding=(1, 1),
        count_include_pad=True,
    ),
    "conv2d_forward": conv_call(("x", "weight", "y"), stride=(1, 1), padding=(1, 1), dilation=(1, 1)),
    "conv2d_backward_input": conv_call(
        ("grad_out", "weight", "grad_x"), stride=(2, 2), padding=(1, 1), dilation=(1, 1)
    ),
    "conv2d_backward_weight": conv_call(
        ("grad_out", "x", "grad_weight"), stride=(1, 1), padding=(0, 0), dilation=(2, 2)
    ),
}


def call(module, name, dtype="float32", **changes):
    return getattr(module, name)(**{**VALID[name], **changes}, dtype=dtype, stream=0)


def test_valid_calls_cover_every_kernel():
    assert sorted(VALID) == sorted(KERNELS)


@pytest.mark.parametrize("name", KERNELS)
def test_bad_dtype_is_a_value_error_naming_the_kernel(name, cuda_module):
    with pytest.raises(ValueError, match=rf"^{name}: dtype must be 'float32' or 'float64', got 'float16'"):
        call(cuda_module, name, dtype="float16")


@pytest.mark.parametrize("name", KERNELS)
def test_null_pointer_for_a_non_empty_array_is_refused(name, cuda_module):
    first = next(iter(VALID[name]))  # the first array argument
    with pytest.raises(ValueError, match=rf"^{name}: null device pointer for {first}"):
        call(cuda_module, name, **{first: 0})


BAD_SIZES = [
    ("matmul", dict(M=-1), "sizes must be non-negative"),
    ("matmul", dict(batch_a=2, batch_b=3), "batch sizes 2 and 3 differ"),
    ("softmax_forward", dict(rows=-2), "must be non-negative"),
    ("log_softmax_backward", dict(cols=-1), "must be non-negative"),
    ("max_pool2d_forward", dict(padding=(2, 0)), "padding must be between 0 and half the kernel"),
    ("max_pool2d_forward", dict(kernel=(9, 9)), "larger than the padded input"),
    ("max_pool2d_forward", dict(input_shape=(2, 3, 8)), "input_shape must be a tuple of 4 ints"),
    ("max_pool2d_backward", dict(output_size=(0, 4)), "H, W, OH, OW >= 1"),
    ("avg_pool2d_forward", dict(stride=(0, 1)), "kernel, stride and dilation must be positive"),
    ("avg_pool2d_backward", dict(output_size=(6, 4)), "not the output size of this pooling"),
    ("conv2d_forward", dict(groups=3), "not divisible by groups|input channels"),
    ("conv2d_forward", dict(weight_shape=(6, 3, 3, 3)), "input channels 4"),
    ("conv2d_backward_input", dict(stride=(1, -1)), "stride and dilation must be positive"),
    (
        "conv2d_backward_weight",
        dict(input_shape=(2, 4, 2, 2), dilation=(3, 3)),
        "larger than the padded input",
    ),
]


@pytest.mark.parametrize("name, changes, message", BAD_SIZES)
def test_bad_sizes_are_value_errors_naming_the_kernel(name, changes, message, cuda_module):
    with pytest.raises(ValueError, match=rf"^{name}: .*({message})"):
        call(cuda_module, name, **changes)


# Zero rows / zero products for the kernels that can be handed them. Pooling and convolution
# with N = 0 never reach a binding: backend.kernels answers them (tests/test_conv.py, test_pool.py).
EMPTY = {"matmul": dict(M=0, a=0, c=0)}
for _rowwise in ("softmax_forward", "log_softmax_forward", "softmax_backward", "log_softmax_backward"):
    EMPTY[_rowwise] = {"rows": 0, **{k: 0 for k in VALID[_rowwise] if k not in ("rows", "cols")}}


@pytest.mark.parametrize("name", sorted(EMPTY))
def test_empty_arrays_launch_nothing(name, cuda_module):
    # Nothing to compute, so the binding returns without any CUDA call. Without a GPU every CUDA
    # call fails with a RuntimeError (see the next test), so a call that returns None here made
    # none; the same call with real sizes is the control that does fail.
    assert call(cuda_module, name, **EMPTY[name]) is None  # these kernels return nothing
    if cuda_module.device_count() == 0:
        with pytest.raises(RuntimeError, match=rf"^{name}: CUDA error"):
            call(cuda_module, name)  # the non-empty call does reach CUDA


@pytest.mark.parametrize("name", KERNELS)
def test_a_cuda_failure_is_a_runtime_error_naming_the_kernel(name, no_gpu):
    # Without a GPU the first CUDA call fails; the check after it names the kernel and CUDA's error.
    with pytest.raises(RuntimeError, match=rf"^{name}: CUDA error cuda\w+ \(.+\) at "):
        call(no_gpu, name)
