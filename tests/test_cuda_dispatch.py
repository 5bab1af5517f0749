"""The road from kernels.py to minidl._C_cuda, walked on the fake GPU of tests/fake_cupy.py.

No GPU here, so a recording stand-in takes the place of the compiled module: the tests check what
cuda_kernels.py hands it (pointers, sizes, dtype, CuPy's current stream, in the binding's order),
where the outputs are allocated, and the retry after an out-of-memory error.
"""

import pytest

import minidl as md
from minidl.backend import kernels, native

from fake_gpu import fake_gpu  # noqa: F401  (fixture)


class RecordingModule:
    """Answers every kernel name; records (name, args); optionally fails the first calls."""

    def __init__(self, failures=()):
        self.calls = []
        self.failures = list(failures)

    def __getattr__(self, name):
        def kernel(*args):
            self.calls.append((name, args))
            if self.failures:
                raise self.failures.pop(0)

        return kernel


@pytest.fixture
def recorder(fake_gpu, monkeypatch):
    module = RecordingModule()
    monkeypatch.setattr(native, "cuda_module", lambda: module)
    return module


def test_matmul_passes_pointers_sizes_dtype_and_the_current_stream(fake_gpu, recorder):
    cupy = fake_gpu
    a = cupy.ones((2, 3, 5), dtype="float32")
    b = cupy.ones((1, 4, 5), dtype="float32")
    with cupy.cuda.Stream() as stream:
        stream.use()
        c = kernels.matmul(a, b, trans_b=True)
    ((name, args),) = recorder.calls
    assert name == "matmul"
    assert args[:2] == (a.data.ptr, b.data.ptr)
    assert args[2] == c.data.ptr
    assert args[3:] == (2, 1, 3, 4, 5, False, True, "float32", stream.ptr)
    assert isinstance(c, cupy.ndarray) and c.shape == (2, 3, 4) and c.dtype == "float32"


def test_a_transposed_view_reaches_the_kernel_as_a_flag(fake_gpu, recorder):
    cupy = fake_gpu
    a = cupy.ones((1, 5, 3), dtype="float64")  # used as its transpose (1, 3, 5)
    b = cupy.ones((1, 5, 4), dtype="float64")
    kernels.matmul(a.transpose(0, 2, 1), b)
    ((_, args),) = recorder.calls
    assert args[0] == a.data.ptr  # the original buffer, not a copy
    assert args[3:] == (1, 1, 3, 4, 5, True, False, "float64", 0)


def test_outputs_are_allocated_on_the_inputs_gpu(fake_gpu, recorder):
    cupy = fake_gpu
    with cupy.cuda.Device(1):
        x = cupy.ones((2, 3, 8, 8), dtype="float32")
    y, indices = kernels.max_pool2d_forward(x, 2, 2, 0, 1)  # while cuda:0 is current
    assert y.device.id == 1 and indices.device.id == 1 and indices.dtype == "int64"
    ((name, args),) = recorder.calls
    assert name == "max_pool2d_forward"
    assert args[3:] == ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False, "float32", 0)


def test_conv_backward_and_softmax_arguments(fake_gpu, recorder):
    cupy = fake_gpu
    grad_out = cupy.ones((2, 6, 8, 8), dtype="float32")
    weight = cupy.ones((6, 2, 3, 3), dtype="float32")
    grad_x = kernels.conv2d_backward_input(grad_out, weight, (2, 4, 8, 8), 1, 1, 1, 2)
    assert grad_x.shape == (2, 4, 8, 8)
    kernels.log_softmax_backward(cupy.ones((3, 7)), cupy.ones((3, 7)))
    (conv, conv_args), (soft, soft_args) = recorder.calls
    assert conv == "conv2d_backward_input"
    assert conv_args[3:] == ((2, 4, 8, 8), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 2, "float32", 0)
    assert soft == "log_softmax_backward" and soft_args[3:] == (3, 7, "float64", 0)


def test_empty_outputs_launch_nothing(fake_gpu, recorder):
    cupy = fake_gpu
    y = kernels.softmax_forward(cupy.ones((0, 5), dtype="float32"))
    assert y.shape == (0, 5) and recorder.calls == []


def test_reference_setting_never_reaches_the_cuda_module(fake_gpu, recorder):
    cupy = fake_gpu
    with md.use_kernels("reference"):
        y = kernels.softmax_forward(cupy.ones((2, 5), dtype="float32"))
    assert recorder.calls == [] and isinstance(y, cupy.ndarray)


def test_out_of_memory_frees_cupys_cache_and_retries_once(fake_gpu, monkeypatch):
    cupy = fake_gpu
    oom = RuntimeError(
        "conv2d_backward_weight: CUDA error cudaErrorMemoryAllocation (out of memory) at cudaMallocAsync"
    )
    module = RecordingModule(failures=[oom])
    monkeypatch.setattr(native, "cuda_module", lambda: module)
    freed = []
    monkeypatch.setattr(
        cupy,
        "get_default_memory_pool",
        lambda: type("Pool", (), {"free_all_blocks": lambda self: freed.append(1)})(),
        raising=False,
    )
    x = cupy.ones((2, 4, 8, 8), dtype="float32")
    grad_out = cupy.ones((2, 6, 8, 8), dtype="float32")
    kernels.conv2d_backward_weight(grad_out, x, (6, 4, 3, 3), 1, 1, 1, 1)
    assert [name for name, _ in module.calls] == ["conv2d_backward_weight"] * 2 and freed == [1]

    # Any other CUDA error is raised as it is, without a retry.
    module = RecordingModule(
        failures=[RuntimeError("matmul: CUDA error cudaErrorIllegalAddress (x) at launch")]
    )
    monkeypatch.setattr(native, "cuda_module", lambda: module)
    with pytest.raises(RuntimeError, match="^matmul: CUDA error cudaErrorIllegalAddress"):
        kernels.matmul(cupy.ones((1, 2, 2)), cupy.ones((1, 2, 2)))
    assert len(module.calls) == 1 and freed == [1]


def test_the_cupy_reference_runs_on_the_arrays_gpu(fake_gpu):
    # fake_gpu sends CUDA arrays to the reference (no _C_cuda for host pointers); the fake refuses
    # to compute on cuda:1 arrays while cuda:0 is current, as CuPy does without peer access.
    cupy = fake_gpu
    with cupy.cuda.Device(1):
        x = cupy.asarray([[1.0, 2.0, 3.0]])
    y = kernels.softmax_forward(x)
    assert y.device.id == 1
    with cupy.cuda.Device(1):
        assert abs(float(y.sum().get()) - 1.0) < 1e-12


def test_bad_max_pool_indices_are_refused_on_the_reference_path(fake_gpu):
    cupy = fake_gpu
    grad_out = cupy.ones((1, 1, 2, 2), dtype="float32")
    indices = cupy.asarray([[[[0, 1], [2, 16]]]], dtype="int64")  # 16 is outside the 4x4 plane
    with pytest.raises(ValueError, match=r"max_pool2d_backward: indices must lie in 0\.\.15"):
        kernels.max_pool2d_backward(grad_out, indices, (1, 1, 4, 4))
