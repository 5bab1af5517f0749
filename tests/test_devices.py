"""Devices without a GPU: every CPU-side device path of minidl, run on the fake GPU of
``tests/fake_cupy.py`` (see ``tests/fake_gpu.py``), and the errors of a machine without CuPy or
without a GPU. Not marked ``gpu``: these run in CI, where there is none.

The fake refuses what real CuPy refuses (implicit conversion to NumPy, NumPy arrays mixed with
GPU arrays, operands on a device other than the current one), so an op that takes a NumPy path
for a CUDA tensor fails here instead of on the first real GPU.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import optim
from minidl.backend import device as _device

import fake_cupy
from fake_gpu import fake_gpu, no_cupy, no_gpu  # noqa: F401  (fixtures)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def on_gpu(t, index=0):
    """True when ``t`` is a CUDA tensor on ``cuda:index`` backed by a (fake) CuPy array."""
    return (
        isinstance(t.data, fake_cupy.ndarray)
        and t.data.device.id == index
        and t.device == minidl.device(f"cuda:{index}")
    )


def host(t):
    return t.detach().cpu().numpy()


# -- making tensors on the GPU --------------------------------------------------------------------


def test_tensor_and_factories_take_a_device(fake_gpu):
    made = [
        minidl.tensor([[1.0, 2.0]], device="cuda"),
        minidl.zeros(2, 3, device="cuda"),
        minidl.ones(2, device="cuda"),
        minidl.randn(3, device="cuda"),
        minidl.rand(3, device="cuda"),
        minidl.arange(5, device="cuda"),
        minidl.full((2,), 7.0, device="cuda"),
        minidl.eye(3, device="cuda"),
        minidl.linspace(0, 1, 4, device="cuda"),
        minidl.randint(0, 5, (4,), device="cuda"),
        minidl.randperm(4, device="cuda"),
        minidl.empty(2, device=minidl.device("cuda")),
    ]
    for t in made:
        assert on_gpu(t), t
    like = minidl.zeros_like(made[0])
    assert on_gpu(like) and like.shape == (1, 2)
    assert minidl.ones_like(made[0], device="cpu").device == "cpu"
    assert on_gpu(minidl.randn_like(made[0]))
    assert on_gpu(minidl.zeros(2, device="cuda", requires_grad=True))
    # the values are the ones the CPU would have made
    assert host(made[5]).tolist() == [0, 1, 2, 3, 4]
    assert made[5].dtype == minidl.int64


def test_randn_on_cuda_draws_the_cpu_numbers(fake_gpu):
    minidl.manual_seed(3)
    a = minidl.randn(4, device="cuda")
    minidl.manual_seed(3)
    b = minidl.randn(4)
    assert np.array_equal(host(a), b.numpy())


def test_to_cuda_cpu_and_back(fake_gpu):
    x = minidl.tensor([1.0, 2.0, 3.0])
    for moved in (x.to("cuda"), x.cuda(), x.to(minidl.device("cuda")), x.to("cuda", minidl.float64)):
        assert on_gpu(moved)
        assert np.array_equal(host(moved), x.numpy())
    assert x.to("cuda", minidl.float64).dtype == minidl.float64
    g = x.cuda()
    assert g.to("cuda") is g and g.cuda() is g  # nothing to do: the same tensor
    back = g.cpu()
    assert type(back.data) is np.ndarray and back.device == "cpu"
    assert np.array_equal(back.numpy(), x.numpy())
    assert g.tolist() == [1.0, 2.0, 3.0] and g[1].item() == 2.0
    assert "device='cuda:0'" in repr(g)


def test_a_gpu_copy_does_not_share_memory_with_the_cpu_tensor(fake_gpu):
    x = minidl.tensor([1.0, 2.0])
    g = x.cuda()
    with minidl.no_grad():
        g.add_(10.0)
    assert x.tolist() == [1.0, 2.0]
    assert minidl.tensor(g).data.data.ptr != g.data.data.ptr  # tensor(t) copies


def test_to_cuda_1_puts_the_array_on_the_second_gpu(fake_gpu):
    x = minidl.tensor([1.0, 2.0])
    g1 = x.to("cuda:1")
    assert on_gpu(g1, 1)
    # between GPUs: a real copy onto the other GPU (cupy.asarray alone would not move it)
    g0 = g1.to("cuda:0")
    assert on_gpu(g0, 0) and g0.data.data.ptr != g1.data.data.ptr
    assert np.array_equal(host(g0), [1.0, 2.0])
    assert on_gpu(minidl.zeros(2, device="cuda:1"), 1)
    assert on_gpu(minidl.tensor(g1), 1)  # a copy stays where it was


def test_cuda_index_beyond_the_visible_gpus_is_a_clear_error(fake_gpu):
    with pytest.raises(RuntimeError, match="cuda:5.*2 GPU"):
        minidl.zeros(2).to("cuda:5")


def test_moving_to_the_gpu_is_differentiable(fake_gpu):
    x = minidl.tensor([1.0, 2.0], requires_grad=True)
    y = (x.cuda() * minidl.tensor([3.0, 4.0], device="cuda")).sum()
    assert on_gpu(y)
    y.backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [3.0, 4.0]


def test_set_default_device_makes_new_tensors_on_the_gpu(fake_gpu):
    minidl.set_default_device("cuda")
    assert minidl.get_default_device() == "cuda:0"
    assert on_gpu(minidl.zeros(2)) and on_gpu(minidl.tensor([1.0])) and on_gpu(minidl.randn(2))
    assert on_gpu(nn.Linear(2, 3).weight)
    assert minidl.zeros(2, device="cpu").device == "cpu"
    minidl.set_default_device("cpu")
    assert minidl.zeros(2).device == "cpu"


def test_minidl_device_environment_variable(fake_gpu, monkeypatch):
    # The variable is read when minidl is imported; re-reading it is what a new process does.
    monkeypatch.setenv("MINIDL_DEVICE", "cuda")
    assert _device._initial_device() == "cuda:0"
    monkeypatch.setenv("MINIDL_DEVICE", "cuda:1")
    assert _device._initial_device() == "cuda:1"
    monkeypatch.setenv("MINIDL_DEVICE", "gpu")
    with pytest.raises(ValueError, match="MINIDL_DEVICE"):
        _device._initial_device()


def test_minidl_device_cuda_without_cupy_fails_at_first_use_with_the_reason():
    # A real new process (no fake here): importing works, making a tensor says what is missing.
    code = "import minidl\ntry:\n    minidl.zeros(1)\nexcept RuntimeError as e:\n    print('ERROR', e)\n"
    env = dict(os.environ, MINIDL_DEVICE="cuda", PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    if minidl.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert "ERROR cannot use device 'cuda:0'" in out.stdout
    assert minidl.cuda.unavailable_reason() in out.stdout


# -- every op, forward and backward, on the GPU and the CPU -------------------------------------


def _i64(*a):
    return np.array(a, dtype=np.int64)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal((3, 4))
IMG = RNG.standard_normal((2, 3, 6, 6))
W = RNG.standard_normal((4, 3, 3, 3))

# (name, function of tensors, inputs): float inputs require grad
OPS = [
    ("add_mul_div", lambda a, b: (a + b) * a / (b.abs() + 1) - 2**a, [X, Y]),
    ("broadcast", lambda a, b: a * b[0] + b[:, :1], [X, Y]),
    (
        "unary",
        lambda a: (
            a.exp()
            + (a.abs() + 1).log()
            + (a.abs() + 1).sqrt()
            + a.sin()
            + a.cos()
            + a.tanh()
            + a.sigmoid()
            + a.relu()
            + a.sign()
        ),
        [X],
    ),
    (
        "pow_clamp_minmax",
        lambda a, b: a.clamp(-0.5, 0.5) + minidl.maximum(a, b) * minidl.minimum(a, b) + a**2,
        [X, Y],
    ),
    ("where_compare", lambda a, b: minidl.where(a > b, a, b * 2) + (a >= 0).float() * a, [X, Y]),
    ("matmul", lambda a, b: a @ b.T, [X, Y]),
    ("batched_matmul", lambda a, b: a.reshape(3, 2, 2) @ b.reshape(3, 2, 2), [X, Y]),
    (
        "reductions",
        lambda a: (
            a.sum()
            + a.mean(0).sum()
            + a.max(1).values.sum()
            + a.min()
            + a.amax(0).sum()
            + a.var(1).sum()
            + a.std()
            + a.logsumexp(1).sum()
        ),
        [X],
    ),
    (
        "argmax_any",
        lambda a: (
            (a.argmax(1).float() + a.argmin(0).sum().float()).sum() * a.sum()
            + (a > 0).any().float()
            + (a > -9).all().float()
        ),
        [X],
    ),
    (
        "shape_ops",
        lambda a, b: (
            minidl.cat([a, b], 1)
            .permute(1, 0)
            .reshape(2, 12)
            .flatten()[None]
            .unsqueeze(0)
            .squeeze()
            .expand(2, 24)
            .sum(0)
            + minidl.stack([a, b]).transpose(0, 2).flatten()
        ),
        [X, Y],
    ),
    (
        "split_chunk_pad",
        lambda a: (
            sum(p.sum() for p in a.split(2, 1)) + a.chunk(3)[1].sum() + F.pad(a, (1, 2)).sum() * a[0, 0]
        ),
        [X],
    ),
    ("basic_index", lambda a: a[1:, ::2] * a[0, None, 1:3].sum() + a[..., -1].sum(), [X]),
    ("advanced_index_repeats", lambda a, i: a[i] * 2 + a[i[:3], i[2:]].sum(), [X, _i64(0, 2, 2, 1, 0)]),
    ("index_by_tensor_mask", lambda a: a[a > 0].sum() + a[[0, 0, 2]].sum(), [X]),
    ("index_by_cuda_index", lambda a, i: a[:, i].sum(0), [X, _i64(3, 3, 1)]),
    ("conv2d", lambda x, w: F.conv2d(x, w, padding=1, stride=2), [IMG, W]),
    (
        "conv2d_bias_groups",
        lambda x, w, b: F.conv2d(x, w, b, groups=3, dilation=2),
        [IMG, RNG.standard_normal((3, 1, 2, 2)), RNG.standard_normal(3)],
    ),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding=1), [IMG[:, :, 0], W[:, :, 0]]),
    (
        "pools",
        lambda x: (
            F.max_pool2d(x, 2).sum()
            + F.avg_pool2d(x, 3, 2, 1).sum() * 2
            + F.max_pool2d(x, 3, 2, 1, ceil_mode=True).sum()
            + F.max_pool1d(x[:, :, 0], 2).sum()
            + F.avg_pool1d(x[:, :, 0], 2).sum()
        ),
        [IMG],
    ),
    (
        "max_pool_indices",
        lambda x: F.max_pool2d(x, 2, return_indices=True)[1].float().sum() * F.max_pool2d(x, 2).mean(),
        [IMG],
    ),
    (
        "softmax",
        lambda a: F.softmax(a, 1) * F.log_softmax(a, 0) + F.softmax(a, -1, dtype=minidl.float64),
        [X],
    ),
    (
        "activations",
        lambda a: F.gelu(a) + F.gelu(a, approximate="tanh") + F.leaky_relu(a, 0.1) + F.softplus(a) + F.erf(a),
        [X],
    ),
    (
        "cross_entropy",
        lambda a, t: F.cross_entropy(a, t) + F.cross_entropy(a, t, label_smoothing=0.1, reduction="sum"),
        [X, _i64(0, 3, 1)],
    ),
    (
        "cross_entropy_weight_ignore",
        lambda a, t, w: F.cross_entropy(a, t, weight=w, ignore_index=1) + F.nll_loss(F.log_softmax(a, 1), t),
        [X, _i64(0, 1, 2), np.array([1.0, 2.0, 0.5, 1.0])],
    ),
    ("cross_entropy_probabilities", lambda a, p: F.cross_entropy(a, p), [X, np.full((3, 4), 0.25)]),
    (
        "regression_losses",
        lambda a, b: (
            F.mse_loss(a, b)
            + F.l1_loss(a, b, reduction="sum")
            + F.binary_cross_entropy(a.sigmoid(), b.sigmoid())
            + F.binary_cross_entropy_with_logits(a, (b > 0).float(), pos_weight=b.abs()[0])
        ),
        [X, Y],
    ),
    ("embedding", lambda w, i: F.embedding(i, w, padding_idx=0) * 3, [X, _i64(0, 2, 2, 1)]),
    ("layer_norm", lambda a, w, b: F.layer_norm(a, (4,), w, b), [X, Y[0], Y[1]]),
    (
        "batch_norm_eval",
        lambda a, m, v, w: F.batch_norm(a, m, v, w, training=False),
        [X, np.zeros(4), np.ones(4), Y[0]],
    ),
    ("batch_norm_train", lambda a: F.batch_norm(a, None, None, training=True), [X]),
]


def _run(fn, inputs, device):
    """Outputs and input gradients of ``fn`` on ``device``, both as NumPy arrays, checking on the
    way that the output and every gradient live on ``device``."""
    tensors = [minidl.tensor(a, requires_grad=a.dtype.kind == "f", device=device) for a in inputs]
    out = fn(*tensors)
    assert out.device == device, f"output on {out.device}"
    seed = minidl.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), dtype=out.dtype, device=device)
    (out * seed).sum().backward()
    grads = []
    for t in tensors:
        if t.requires_grad:
            assert t.grad is not None and t.grad.device == device, f"gradient on {t.grad and t.grad.device}"
            grads.append(host(t.grad))
    return host(out), grads


@pytest.mark.parametrize("name, fn, inputs", OPS, ids=[op[0] for op in OPS])
def test_op_on_cuda_matches_cpu_forward_and_backward(fake_gpu, name, fn, inputs):
    cpu_out, cpu_grads = _run(fn, inputs, "cpu")
    gpu_out, gpu_grads = _run(fn, inputs, "cuda")
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-6, atol=1e-6)
    for g, c in zip(gpu_grads, cpu_grads):
        np.testing.assert_allclose(g, c, rtol=1e-6, atol=1e-6)


def test_dropout_on_cuda_keeps_the_device_and_scales(fake_gpu):
    x = minidl.ones(1000, device="cuda", requires_grad=True)
    y = F.dropout(x, 0.5, training=True)
    assert on_gpu(y)
    values = set(np.unique(host(y)).tolist())
    assert values <= {0.0, 2.0} and len(values) == 2
    y.sum().backward()
    assert on_gpu(x.grad) and np.array_equal(host(x.grad), host(y))  # the same mask
    assert F.dropout(x, 0.5, training=False) is x or on_gpu(F.dropout(x, 0.5, training=False))


def test_create_graph_on_cuda(fake_gpu):
    x = minidl.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (g,) = minidl.grad((x**3).sum(), [x], create_graph=True)
    g.sum().backward()
    assert on_gpu(x.grad) and host(x.grad).tolist() == [6.0, 12.0]


def test_scalar_arithmetic_with_python_and_numpy_scalars(fake_gpu):
    x = minidl.tensor([1.0, 2.0], device="cuda")
    for y in (x + 1, 1 + x, x * np.float32(2), np.float64(2.0) * x, x / 2, 2 / x, x**2, 2**x, -x):
        assert on_gpu(y)


def test_in_place_updates_on_cuda(fake_gpu):
    x = minidl.zeros(3, device="cuda")
    x.fill_(2.0).add_(minidl.ones(3, device="cuda"), alpha=2).mul_(3).div_(2).sub_(1.0)
    assert host(x).tolist() == [5.0, 5.0, 5.0]  # (2 + 2) * 3 / 2 - 1
    x.copy_(minidl.tensor([1.0, 2.0, 3.0], device="cuda"))
    assert host(x).tolist() == [1.0, 2.0, 3.0]
    x.zero_()
    assert host(x).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="cpu.*cuda|cuda.*cpu"):
        x.copy_(minidl.ones(3))  # copy_ between devices: an error, not a silent transfer


# -- two devices in one op: an error naming both ---------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: a + b,
        lambda a, b: a @ b,
        lambda a, b: minidl.cat([a, b]),
        lambda a, b: minidl.where(a > 0, a, b),
        lambda a, b: F.mse_loss(a, b),
    ],
    ids=["add", "matmul", "cat", "where", "mse_loss"],
)
def test_cpu_and_cuda_in_one_op_is_an_error_naming_both(fake_gpu, make):
    a = minidl.ones(2, 2, device="cuda")
    b = minidl.ones(2, 2)
    for first, second, names in ((a, b, ("cuda:0", "cpu")), (b, a, ("cpu", "cuda:0"))):
        with pytest.raises(RuntimeError) as err:
            make(first, second)
        message = str(err.value)
        assert all(n in message for n in names), message


def test_cuda_0_and_cuda_1_in_one_op_is_an_error_naming_both(fake_gpu):
    a = minidl.ones(2, device="cuda:0")
    b = minidl.ones(2, device="cuda:1")
    with pytest.raises(RuntimeError) as err:
        a + b
    assert "cuda:0" in str(err.value) and "cuda:1" in str(err.value)


def test_ops_on_cuda_1_run_on_cuda_1(fake_gpu):
    # CuPy launches on the *current* GPU (cuda:0 unless changed), not on the operands' GPU, so ops
    # on cuda:1 tensors must make cuda:1 current themselves.
    x = minidl.tensor([1.0, -2.0], device="cuda:1", requires_grad=True)
    y = (x.relu() * x + 1).sum()
    assert on_gpu(y, 1)
    y.backward()
    assert on_gpu(x.grad, 1)


def test_optimizer_step_on_cuda_1(fake_gpu):
    model = nn.Linear(2, 1).to("cuda:1")
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(minidl.ones(3, 2, device="cuda:1")).sum().backward()
    opt.step()
    assert all(on_gpu(p, 1) for p in model.parameters())


def test_in_place_update_of_a_cuda_1_tensor_runs_on_cuda_1(fake_gpu):
    x = minidl.zeros(2, device="cuda:1")
    with minidl.no_grad():
        x.add_(minidl.ones(2, device="cuda:1"), alpha=3).mul_(2).fill_(4.0)
    assert on_gpu(x, 1) and host(x).tolist() == [4.0, 4.0]


def test_numpy_array_operand_of_a_cuda_tensor_is_an_error_naming_both(fake_gpu):
    x = minidl.ones(2, device="cuda")
    for op in (lambda: x + np.ones(2), lambda: np.ones(2) * x, lambda: minidl.where(x > 0, x, np.ones(2))):
        with pytest.raises(RuntimeError, match="cuda:0.*NumPy array"):
            op()
    with minidl.no_grad(), pytest.raises(RuntimeError, match="cuda:0.*NumPy array"):
        x.add_(np.ones(2))


# -- modules, optimizers, data, checkpoints ---------------------------------------------------------


def _net():
    minidl.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.0),
        nn.Linear(2 * 2 * 2, 3),
    )


def test_module_to_cuda_keeps_parameters_and_moves_buffers(fake_gpu):
    model = _net()
    params = list(model.parameters())
    model.to("cuda")
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(on_gpu(p) for p in model.parameters())
    assert all(on_gpu(b) for b in model.buffers())
    bn = model[1]
    out = model(minidl.randn(5, 1, 4, 4, device="cuda"))
    assert on_gpu(out)
    assert on_gpu(bn.running_mean) and on_gpu(bn.num_batches_tracked) and int(bn.num_batches_tracked) == 1
    assert not np.array_equal(host(bn.running_mean), np.zeros(2))  # the stats were updated, on the GPU
    model.cpu()
    assert all(p.device == "cpu" for p in model.parameters()) and bn.running_var.device == "cpu"
    assert model.to(minidl.zeros(1, device="cuda")) is model and on_gpu(model[0].weight)


def test_module_to_cuda_moves_gradients_too(fake_gpu):
    lin = nn.Linear(2, 1)
    lin(minidl.ones(1, 2)).sum().backward()
    lin.cuda()
    assert on_gpu(lin.weight.grad)


def test_model_on_cuda_matches_cpu(fake_gpu):
    x = np.random.default_rng(1).standard_normal((5, 1, 4, 4)).astype(np.float32)
    t = minidl.tensor([0, 1, 2, 1, 0])
    results = []
    for device in ("cpu", "cuda"):
        model = _net().to(device)
        loss = F.cross_entropy(model(minidl.tensor(x, device=device)), t.to(device))
        loss.backward()
        results.append((loss.item(), [host(p.grad) for p in model.parameters()]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
        lambda p: optim.AdamW(p, lr=0.01),
        lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop"],
)
def test_optimizer_steps_on_cuda_match_cpu_and_keep_state_on_cuda(fake_gpu, make):
    finals = []
    for device in ("cpu", "cuda"):
        minidl.manual_seed(0)
        model = nn.Linear(3, 2).to(device)
        opt = make(model.parameters())
        x = minidl.tensor(np.arange(6.0).reshape(2, 3), dtype=minidl.float32, device=device)
        for _ in range(3):
            opt.zero_grad()
            ((model(x) - 1) ** 2).mean().backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
        if device == "cuda":
            state = [v for s in opt.state.values() for v in s.values() if isinstance(v, minidl.Tensor)]
            assert state and all(on_gpu(v) for v in state)
            assert all(on_gpu(p) for p in model.parameters())
        finals.append([host(p) for p in model.parameters()])
    for a, b in zip(*finals):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_optimizer_state_dict_round_trip_on_cuda(fake_gpu, tmp_path):
    model = nn.Linear(2, 2).cuda()
    opt = optim.Adam(model.parameters())
    model(minidl.ones(1, 2, device="cuda")).sum().backward()
    opt.step()
    minidl.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
    loaded = minidl.load(tmp_path / "c.npz")
    assert all(on_gpu(v) for v in loaded["model"].values())
    fresh = nn.Linear(2, 2).cuda()
    opt2 = optim.Adam(fresh.parameters())
    fresh.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["opt"])
    state = [v for s in opt2.state.values() for v in s.values() if isinstance(v, minidl.Tensor)]
    assert state and all(on_gpu(v) for v in state)


def test_clip_grad_norm_on_cuda(fake_gpu):
    p = nn.Parameter(minidl.zeros(4, device="cuda"))
    p.grad = minidl.full((4,), 3.0, device="cuda")
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert float(total) == pytest.approx(6.0)
    assert np.linalg.norm(host(p.grad)) == pytest.approx(1.0, rel=1e-5)
    assert on_gpu(p.grad)


def test_dataloader_batches_move_with_to(fake_gpu):
    data = minidl.data.TensorDataset(minidl.randn(10, 3), minidl.arange(10))
    loader = minidl.data.DataLoader(data, batch_size=4, shuffle=True, generator=0)
    seen = 0
    for x, y in loader:
        x, y = x.to("cuda"), y.to("cuda")
        assert on_gpu(x) and on_gpu(y) and y.dtype == minidl.int64
        seen += len(y)
    assert seen == 10


def test_checkpoint_saved_from_the_gpu_loads_on_the_cpu(fake_gpu, tmp_path):
    model = _net().cuda()
    model(minidl.randn(2, 1, 4, 4, device="cuda"))  # non-trivial running stats
    path = tmp_path / "gpu.npz"
    minidl.save(model.state_dict(), path)
    for loaded in (minidl.load(path, map_location="cpu"),):
        for key, value in model.state_dict().items():
            assert type(loaded[key].data) is np.ndarray, key
            assert np.array_equal(loaded[key].numpy(), host(value)), key
    # without map_location the tensors go back to the GPU they came from
    assert all(on_gpu(v) for v in minidl.load(path).values())
    cpu_model = _net()
    cpu_model.load_state_dict(minidl.load(path, map_location="cpu"))
    assert np.array_equal(cpu_model[1].running_mean.numpy(), host(model[1].running_mean))


def test_checkpoint_of_cuda_1_loads_on_cuda_1(fake_gpu, tmp_path):
    minidl.save({"w": minidl.ones(2, device="cuda:1")}, tmp_path / "c.npz")
    assert on_gpu(minidl.load(tmp_path / "c.npz")["w"], 1)


def test_cpu_state_dict_loads_into_a_cuda_model(fake_gpu):
    model = nn.Linear(2, 2).cuda()
    model.load_state_dict(nn.Linear(2, 2).state_dict())
    assert on_gpu(model.weight)


def test_train_run_on_cuda_completes(fake_gpu, tmp_path):
    from minidl.train import TrainConfig, run

    config = TrainConfig(
        dataset="digits", model="mlp", epochs=1, batch_size=128, device="cuda", out=str(tmp_path), quiet=True
    )
    result = run(config, log=None)
    assert all(on_gpu(p) for p in result.model.parameters())
    assert 0.0 <= result.final_accuracy <= 1.0
    assert os.path.exists(result.files["checkpoint"])
    cpu = run(
        TrainConfig(
            dataset="digits",
            model="mlp",
            epochs=1,
            batch_size=128,
            device="cpu",
            out=str(tmp_path / "cpu"),
            quiet=True,
        ),
        log=None,
    )
    assert result.final_accuracy == pytest.approx(cpu.final_accuracy, abs=1e-9)  # same seed, same run


def test_cuda_module_functions(fake_gpu):
    assert minidl.cuda.is_available() and minidl.cuda.unavailable_reason() == ""
    assert minidl.cuda.device_count() == 2
    minidl.cuda.synchronize()


def test_doctor_reports_the_gpu(fake_gpu):
    import io

    out = io.StringIO()
    facts = minidl.doctor(file=out)
    assert facts["cuda_available"] is True
    line = [row for row in out.getvalue().splitlines() if row.startswith("GPU usable")][0]
    assert "yes" in line and "Fake GPU 0" in line and "Fake GPU 1" in line, line


# -- without CuPy, without a GPU: the reason, in every entry point ---------------------------------


def _entry_points():
    return [
        lambda: minidl.tensor([1.0], device="cuda"),
        lambda: minidl.zeros(1, device="cuda"),
        lambda: minidl.zeros(1).to("cuda"),
        lambda: minidl.zeros(1).cuda(),
        lambda: minidl.set_default_device("cuda"),
        lambda: nn.Linear(1, 1).to("cuda"),
        lambda: minidl.cuda.synchronize(),
    ]


def test_without_cupy_every_entry_point_says_cupy_is_not_installed(no_cupy):
    assert not minidl.cuda.is_available() and minidl.cuda.device_count() == 0
    for enter in _entry_points():
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            enter()
    assert minidl.get_default_device() == "cpu"


def test_without_a_gpu_every_entry_point_says_no_gpu(no_gpu):
    assert not minidl.cuda.is_available()
    for enter in _entry_points():
        with pytest.raises(RuntimeError, match="no GPU") as err:
            enter()
        assert "CuPy is not installed" not in str(err.value)


def test_loading_a_gpu_checkpoint_without_cupy_says_so(fake_gpu, tmp_path, monkeypatch):
    minidl.save({"w": minidl.ones(2, device="cuda")}, tmp_path / "c.npz")
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(_device, "_cupy", None)
    monkeypatch.setattr(_device, "_cuda_reason", None)
    with pytest.raises(RuntimeError, match="CuPy is not installed.*map_location='cpu'"):
        minidl.load(tmp_path / "c.npz")
    assert minidl.load(tmp_path / "c.npz", map_location="cpu")["w"].tolist() == [1.0, 1.0]


def test_cli_train_on_cuda_without_cupy_exits_with_the_reason(tmp_path):
    if minidl.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "minidl",
            "train",
            "--device",
            "cuda",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert minidl.cuda.unavailable_reason() in out.stdout + out.stderr


# -- every layer, initialiser and transform on the GPU ------------------------------------------------

LAYERS = [
    (lambda: nn.Linear(4, 3), (2, 4)),
    (lambda: nn.Conv2d(2, 3, 3, padding=1, groups=1), (2, 2, 5, 5)),
    (lambda: nn.Conv1d(2, 4, 3, groups=2), (2, 2, 6)),
    (lambda: nn.BatchNorm1d(4), (5, 4)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 4, 4)),
    (lambda: nn.LayerNorm(4), (3, 4)),
    (lambda: nn.MaxPool2d(2), (1, 2, 4, 4)),
    (lambda: nn.AvgPool2d(2), (1, 2, 4, 4)),
    (lambda: nn.MaxPool1d(2), (1, 2, 4)),
    (lambda: nn.AvgPool1d(2), (1, 2, 4)),
    (
        lambda: nn.Sequential(
            nn.GELU(),
            nn.LeakyReLU(),
            nn.Tanh(),
            nn.Sigmoid(),
            nn.Softmax(1),
            nn.LogSoftmax(1),
            nn.Identity(),
            nn.Flatten(),
        ),
        (2, 3),
    ),
]


@pytest.mark.parametrize(
    "make, shape",
    LAYERS,
    ids=[
        "linear",
        "conv2d",
        "conv1d",
        "batchnorm1d",
        "batchnorm2d",
        "layernorm",
        "maxpool2d",
        "avgpool2d",
        "maxpool1d",
        "avgpool1d",
        "activations",
    ],
)
def test_layer_on_cuda_matches_cpu(fake_gpu, make, shape):
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    results = []
    for device in ("cpu", "cuda"):
        minidl.manual_seed(0)
        layer = make().to(device)
        inp = minidl.tensor(x, device=device, requires_grad=True)
        out = layer(inp)
        assert out.device == device
        (out * out).sum().backward()
        assert inp.grad.device == device and all(p.grad.device == device for p in layer.parameters())
        results.append([host(out), host(inp.grad)] + [host(p.grad) for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_embedding_and_loss_modules_on_cuda(fake_gpu):
    emb = nn.Embedding(5, 3, padding_idx=0).cuda()
    idx = minidl.tensor([[0, 4], [2, 2]], device="cuda")
    out = emb(idx)
    logits = out.reshape(4, 3)
    target = minidl.tensor([0, 1, 2, 1], device="cuda")
    losses = [
        nn.CrossEntropyLoss()(logits, target),
        nn.NLLLoss()(logits.log_softmax(1), target),
        nn.MSELoss()(logits, logits.detach() * 0),
        nn.L1Loss()(logits, logits.detach() + 1),
        nn.BCEWithLogitsLoss()(logits, (logits.detach() > 0).float()),
        nn.BCELoss()(logits.sigmoid(), (logits.detach() > 0).float()),
    ]
    sum(losses).backward()
    assert all(on_gpu(loss) for loss in losses) and on_gpu(emb.weight.grad)
    assert host(emb.weight.grad)[0].tolist() == [0.0, 0.0, 0.0]  # the padding row learns nothing


def test_initialisers_on_cuda_parameters(fake_gpu):
    w = nn.Parameter(minidl.zeros(4, 3, device="cuda"))
    inits = [
        lambda: nn.init.uniform_(w),
        lambda: nn.init.normal_(w),
        lambda: nn.init.constant_(w, 2.0),
        lambda: nn.init.zeros_(w),
        lambda: nn.init.ones_(w),
        lambda: nn.init.xavier_uniform_(w),
        lambda: nn.init.xavier_normal_(w),
        lambda: nn.init.kaiming_uniform_(w),
        lambda: nn.init.kaiming_normal_(w),
    ]
    for init in inits:
        assert init() is w and on_gpu(w)
    assert host(w).std() > 0


def test_dataloader_over_a_dataset_that_lives_on_the_gpu(fake_gpu):
    data = minidl.data.TensorDataset(minidl.randn(10, 3, device="cuda"), minidl.arange(10, device="cuda"))
    loader = minidl.data.DataLoader(data, batch_size=4, shuffle=True, generator=0)
    labels = []
    for x, y in loader:
        assert on_gpu(x) and on_gpu(y)
        labels += y.tolist()
    assert sorted(labels) == list(range(10))
    sample = minidl.data.default_collate([data[0], data[1]])
    assert on_gpu(sample[0]) and sample[0].shape == (2, 3)
    train, test = minidl.data.random_split(data, [7, 3], generator=0)
    assert on_gpu(train[0][0]) and len(test) == 3


def test_transforms_on_cuda_batches(fake_gpu):
    from minidl.data import transforms as T

    x = minidl.randn(4, 2, 6, 6, device="cuda")
    pipeline = T.Compose(
        [T.Normalize([0.5, 0.1], [2.0, 1.0]), T.RandomCrop(4, padding=1), T.RandomHorizontalFlip(0.5)]
    )
    for out in (T.apply_to_batch(pipeline, x), pipeline(x[0])):
        assert on_gpu(out)
    assert T.apply_to_batch(pipeline, x).shape == (4, 2, 4, 4)
    cpu = T.Normalize([0.5, 0.1], [2.0, 1.0])(x[0].cpu())
    np.testing.assert_allclose(host(T.Normalize([0.5, 0.1], [2.0, 1.0])(x[0])), cpu.numpy(), rtol=1e-6)


def test_cli_train_and_eval_on_the_fake_gpu(fake_gpu, tmp_path, capsys):
    from minidl import cli

    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--dataset",
                "digits",
                "--model",
                "mlp",
                "--epochs",
                "1",
                "--device",
                "cuda",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert "final test accuracy" in capsys.readouterr().out
    assert cli.main(["eval", str(out / "checkpoint.npz"), "--device", "cuda"]) == 0
    assert cli.main(["eval", str(out / "checkpoint.npz")]) == 0  # a GPU run's checkpoint, on the CPU
