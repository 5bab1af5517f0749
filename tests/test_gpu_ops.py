"""The ops, layers, optimizers and training on CUDA tensors: float64 gradcheck on the GPU, and
the GPU against the CPU.

- every op family (elementwise, reductions, shape and indexing, matmul, conv1d/conv2d, pooling,
  softmax/log_softmax, the losses, the norms, dropout, embedding, the other activations): the
  forward on the GPU equals the CPU's (float64, to rounding) and returns CUDA tensors, and
  ``minidl.gradcheck`` passes on CUDA tensors in float64. The ops that reach a native kernel run
  under both kernel settings (the CUDA kernels, and the CuPy reference);
- inputs arrive both contiguous and as transposed views (a permute of a leaf);
- layers: a small CNN's forward and backward, and SGD/Adam steps, match the CPU in float64;
  ``Module.to('cuda')`` keeps the Parameter objects; a checkpoint saved from the GPU loads on the
  CPU; DataLoader batches move with ``.to('cuda')``; a CPU and a CUDA tensor in one op is an
  error naming both devices;
- end to end: ``minidl.train.run(TrainConfig(device='cuda'))`` and tutorial 9's GPU branch.

Every test is marked ``gpu``: skipped without a GPU unless MINIDL_REQUIRE_GPU=1 (tests/conftest.py).
CuPy is imported by the ``cp`` fixture, never at module level, so this file is collected without it.
"""

import operator
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minidl as md
import minidl.functional as F
from minidl import nn

from strategies import BINARY_OPS, arrays, broadcastable_shapes, dims, fill, shapes

pytestmark = pytest.mark.gpu

ROOT = Path(__file__).resolve().parent.parent
# gradcheck on the GPU costs two forward passes, each a few kernel launches and a copy back, per
# input element: few, small examples.
GPU_GC = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
small_shapes = shapes(max_dims=3, max_side=3)


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


@pytest.fixture(params=["native", "reference"])
def gpu_kernels(request, cp):
    """Run the test once on the CUDA kernels and once on the CuPy reference."""
    with md.use_kernels(request.param):
        yield request.param


def _outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, md.Tensor)]


def check(fn, *arrays_, layouts=None, gradgrad=False, rtol=1e-10, atol=1e-12):
    """``fn`` of float64 leaves made from ``arrays_``: on the GPU its outputs are CUDA tensors equal to
    the CPU's, and its gradient passes gradcheck on the GPU.

    layouts: per array, 'contiguous' or 'transposed'; a transposed leaf holds the array's
    transpose and ``fn`` sees it through a permute, a non-contiguous view of the GPU's memory.
    """
    layouts = layouts or ["contiguous"] * len(arrays_)

    def leaves(device):
        return tuple(
            md.tensor(
                np.ascontiguousarray(a.T) if lay == "transposed" else a,
                dtype=md.float64,
                device=device,
                requires_grad=True,
            )
            for a, lay in zip(arrays_, layouts)
        )

    def viewed(*xs):
        return fn(
            *(
                x.permute(*reversed(range(x.ndim))) if lay == "transposed" else x
                for x, lay in zip(xs, layouts)
            )
        )

    want = _outputs(viewed(*leaves("cpu")))
    gpu = leaves("cuda")
    got = _outputs(viewed(*gpu))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.device.type == "cuda", f"an output is on {g.device}"
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g.detach().cpu().numpy(), w.detach().numpy(), rtol=rtol, atol=atol)
    assert md.gradcheck(viewed, gpu)
    if gradgrad:
        assert md.gradgradcheck(viewed, gpu)


layouts_for = st.sampled_from(["contiguous", "transposed"])


# ---------------------------------------------------------------------------------------------
# Elementwise


@pytest.mark.parametrize("name", BINARY_OPS)
@GPU_GC
@given(data=st.data(), shape_pair=broadcastable_shapes(max_side=3))
def test_binary(cp, name, data, shape_pair):
    op, left, right = BINARY_OPS[name]
    a = data.draw(arrays(shape_pair[0], left, layouts=("contiguous",)), label="a")
    b = data.draw(arrays(shape_pair[1], right, layouts=("contiguous",)), label="b")
    check(op, a, b, gradgrad=name == "mul")
    check(lambda x: op(x, 0.55), a)  # a Python number on either side
    check(lambda y: op(1.45, y), b)


UNARY = {
    "neg": (operator.neg, "real"),
    "exp": (md.exp, "real"),
    "log": (md.log, "positive"),
    "sqrt": (md.sqrt, "positive"),
    "abs": (md.abs, "nonzero"),
    "sin": (md.sin, "real"),
    "cos": (md.cos, "real"),
    "tanh": (md.tanh, "real"),
    "sigmoid": (md.sigmoid, "real"),
    "relu": (md.relu, "nonzero"),
    "gelu": (F.gelu, "real"),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "real"),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), "nonzero"),
    "softplus": (F.softplus, "real"),
    "erf": (F.erf, "real"),
}


@pytest.mark.parametrize("name", UNARY)
@GPU_GC
@given(data=st.data(), shape=small_shapes, layout=layouts_for)
def test_unary(cp, name, data, shape, layout):
    op, kind = UNARY[name]
    check(op, data.draw(arrays(shape, kind, layouts=("contiguous",)), label="a"), layouts=[layout])


@GPU_GC
@given(data=st.data(), shape_triple=broadcastable_shapes(num_shapes=3, max_side=3))
def test_clamp_and_where(cp, data, shape_triple):
    x = data.draw(arrays(shape_triple[0], "grid0", layouts=("contiguous",)), label="x")
    lo = data.draw(arrays(shape_triple[1], "grid1", layouts=("contiguous",)), label="lo") - 1.0
    check(lambda v, low: md.clamp(v, low, low + 1.5), x, lo)
    check(lambda v: v.clamp(-0.45, 0.45), x)
    check(lambda v, w: md.where(v > 0, v, w), x, lo)


# ---------------------------------------------------------------------------------------------
# Reductions

REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(dim=d, keepdim=k), "real"),
    "mean": (lambda x, d, k: x.mean(dim=d, keepdim=k), "real"),
    "var": (lambda x, d, k: x.var(dim=d, keepdim=k), "distinct"),
    "std": (lambda x, d, k: x.std(dim=d, keepdim=k), "distinct"),
    "logsumexp": (lambda x, d, k: x.logsumexp(d if d is not None else 0, keepdim=k), "real"),
    "amax": (lambda x, d, k: md.amax(x, dim=d, keepdim=k), "distinct"),
    "amin": (lambda x, d, k: md.amin(x, dim=d, keepdim=k), "distinct"),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@GPU_GC
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=3, min_side=2, max_side=3), keepdim=st.booleans())
def test_reduction(cp, name, data, shape, keepdim):
    fn, kind = REDUCTIONS[name]
    dim = data.draw(dims(len(shape)), label="dim")
    check(
        lambda x: fn(x, dim, keepdim),
        data.draw(arrays(shape, kind, layouts=("contiguous",)), label="a"),
        layouts=[data.draw(layouts_for, label="layout")],
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_indices(cp, name):
    a = fill((3, 4), "distinct", 1)
    values, indices = getattr(md, name)(md.tensor(a, device="cuda"), 1)
    assert indices.device.type == "cuda" and indices.dtype == md.int64
    np.testing.assert_array_equal(indices.cpu().numpy(), getattr(np, f"arg{name}")(a, axis=1))
    check(lambda x: getattr(x, name)(dim=0).values, a)
    check(lambda x: getattr(x, name)(), a)


# ---------------------------------------------------------------------------------------------
# Shape ops and indexing

SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, -1),
    "view": lambda x: x.view(-1),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2),
    "mT": lambda x: x.mT,
    "flatten": lambda x: x.flatten(1),
    "squeeze/unsqueeze": lambda x: x.unsqueeze(1).squeeze(1),
    "expand": lambda x: x[:, :1].expand(2, 3, 4),
    "cat": lambda x: md.cat([x, x[:, :2] * 2], dim=1),
    "stack": lambda x: md.stack([x, x * 2], dim=-1),
    "split": lambda x: x.split([1, 2], dim=1),
    "chunk": lambda x: md.chunk(x, 2, dim=2),
    "pad": lambda x: md.pad(x, (1, 0, 0, 2), value=-1.5),
    "basic index": lambda x: x[1:, None, ..., ::2],
    "int list": lambda x: x[[0, 0, 1]],
    "int array": lambda x: x[np.array([1, 1, 0]), :, np.array([3, 0, 3])],
    "cuda int tensor": lambda x: x[md.tensor([1, 0, 1], device=x.device)],
    "bool mask": lambda x: x[x > 0],
    "negative step": lambda x: x[::-1],
}


@pytest.mark.parametrize("name", SHAPE_OPS)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_shape_and_indexing(cp, name, layout):
    a = fill((2, 3, 4), "nonzero", 2)
    check(
        SHAPE_OPS[name],
        a,
        layouts=[layout],
        gradgrad=layout == "contiguous" and name in ("cat", "int list", "bool mask"),
    )


# ---------------------------------------------------------------------------------------------
# Through the native kernels: matmul, convolution, pooling, softmax

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((4, 3), (3,)),
    ((4, 3), (3, 2)),
    ((2, 4, 3), (2, 3, 2)),
    ((2, 4, 3), (3, 2)),
    ((4, 3), (2, 3, 2)),
    ((2, 1, 4, 3), (3, 3, 2)),
    ((1, 4, 3), (2, 3, 2)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul(gpu_kernels, a_shape, b_shape):
    a, b = fill(a_shape, "real", 3), fill(b_shape, "real", 4)
    check(operator.matmul, a, b, gradgrad=len(a_shape) == 2 and len(b_shape) == 2)
    if len(a_shape) >= 2 and len(b_shape) >= 2:
        check(operator.matmul, a, b, layouts=["transposed", "transposed"])  # transpose flags, not copies


def test_small_network(gpu_kernels):
    x, w1, b1, w2 = (
        fill((3, 4), "real", 5),
        fill((4, 5), "real", 6),
        fill((5,), "real", 7),
        fill((2, 5), "real", 8),
    )
    check(lambda x, w1, b1, w2: ((x @ w1 + b1).tanh() @ w2.T).logsumexp(dim=1).mean(), x, w1, b1, w2)


CONV2D_CASES = [
    # x shape, weight shape, stride, padding, dilation, groups, bias
    ((2, 3, 5, 6), (4, 3, 3, 3), 1, 1, 1, 1, True),
    ((1, 4, 7, 5), (6, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2, True),
    ((2, 3, 4, 4), (3, 1, 2, 2), 2, 1, 1, 3, False),  # depthwise
    ((1, 2, 5, 5), (2, 2, 1, 1), 1, 0, 1, 1, True),  # pointwise
    ((1, 2, 6, 6), (3, 2, 3, 3), 1, "same", 2, 1, True),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups, bias", CONV2D_CASES)
def test_conv2d(gpu_kernels, x_shape, w_shape, stride, padding, dilation, groups, bias):
    arrays_ = [fill(x_shape, "real", 9), fill(w_shape, "real", 10)] + (
        [fill(w_shape[:1], "real", 11)] if bias else []
    )
    check(
        lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups),
        *arrays_,
        gradgrad=x_shape == (2, 3, 5, 6),
    )
    check(
        lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, stride, padding, dilation, groups),
        *arrays_,
        layouts=["transposed"] + ["contiguous"] * (len(arrays_) - 1),
    )


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 2, 2, 1), (1, "same", 1, 2)])
def test_conv1d(gpu_kernels, stride, padding, dilation, groups):
    x, w, b = fill((2, 4, 9), "real", 12), fill((4, 4 // groups, 3), "real", 13), fill((4,), "real", 14)
    check(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups), x, w, b)


POOL_CASES = [
    # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    ((2, 3), (1, 2), (1, 1), (2, 1), False),
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", POOL_CASES)
def test_max_pool2d(gpu_kernels, kernel, stride, padding, dilation, ceil_mode):
    x = fill((2, 2, 6, 5), "distinct", 15)  # no ties: max pooling is differentiable everywhere
    check(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode), x, gradgrad=kernel == 2)
    check(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode), x, layouts=["transposed"])
    y, idx = F.max_pool2d(
        md.tensor(x, device="cuda"), kernel, stride, padding, dilation, ceil_mode, return_indices=True
    )
    _, want = F.max_pool2d(md.tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    assert idx.device.type == "cuda"
    np.testing.assert_array_equal(idx.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d(gpu_kernels, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = fill((2, 2, 6, 5), "real", 16)
    check(
        lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad),
        x,
        gradgrad=kernel == 2,
    )


def test_pool1d(gpu_kernels):
    x = fill((2, 3, 9), "distinct", 17)
    check(lambda t: F.max_pool1d(t, 3, 2, 1), x)
    check(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True), x)
    check(lambda t: F.max_pool2d(t, 2), x[0].reshape(3, 3, 3))  # unbatched (C, H, W)


@pytest.mark.parametrize(
    "shape, dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 1, 3), -1), ((3, 40), 1)]
)
@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax(gpu_kernels, op, shape, dim):
    x = fill(shape, "real", 18) * 2
    check(lambda t: op(t, dim), x, gradgrad=shape == (3, 4))
    if len(shape) >= 2:
        check(lambda t: op(t, dim), x, layouts=["transposed"])


# ---------------------------------------------------------------------------------------------
# Losses, norms, dropout, embedding


def test_cross_entropy_and_nll(gpu_kernels):
    logits = fill((5, 4), "real", 19)
    target = md.tensor([0, 3, 1, 1, 2], device="cuda")
    weight = md.tensor([0.5, 1.0, 2.0, 1.5], dtype=md.float64, device="cuda")
    ignored = md.tensor([0, -100, 1, 1, -100], device="cuda")
    cases = [
        lambda x: F.cross_entropy(x, _on(target, x)),
        lambda x: F.cross_entropy(x, _on(target, x), weight=_on(weight, x), reduction="sum"),
        lambda x: F.cross_entropy(x, _on(ignored, x), label_smoothing=0.1),
        lambda x: F.cross_entropy(x, _on(target, x), reduction="none"),
        lambda x: F.cross_entropy(
            x, F.softmax(_on(md.tensor(fill((5, 4), "real", 20)), x), 1)
        ),  # probabilities
        lambda x: F.nll_loss(F.log_softmax(x, 1), _on(ignored, x), weight=_on(weight, x)),
        lambda x: F.cross_entropy(
            x.reshape(1, 5, 2, 2), _on(md.tensor([[[0, 1], [4, 2]]]), x)
        ),  # (N, C, d1, d2)
    ]
    for fn in cases:
        check(fn, logits)
    check(cases[0], logits, gradgrad=True)


def _on(t, like):
    """``t`` on ``like``'s device: the same helper serves the CPU and the GPU pass of ``check``."""
    return t.to(like.device)


def test_regression_and_binary_losses(cp):
    x, y = fill((3, 4), "real", 21), fill((3, 4), "real", 22)
    p = 1 / (1 + np.exp(-x))
    labels = md.tensor((fill((3, 4), "real", 23) > 0).astype(np.float64))
    check(lambda a, b: F.mse_loss(a, b), x, y, gradgrad=True)
    check(lambda a, b: F.l1_loss(a, b, reduction="sum"), fill((3, 4), "nonzero", 24), np.zeros((3, 4)))
    check(lambda a: F.binary_cross_entropy(a, _on(labels, a)), p)
    pos_weight = md.tensor([1.0, 2.0, 0.5, 1.0], dtype=md.float64)
    check(lambda a: F.binary_cross_entropy_with_logits(a, _on(labels, a), pos_weight=_on(pos_weight, a)), x)


def test_norms(cp):
    x = fill((4, 3, 2, 2), "real", 25)
    w, b = fill((3,), "positive", 26), fill((3,), "real", 27)

    def batch_norm(t, weight, bias, training):
        mean, var = (
            md.zeros(3, dtype=md.float64, device=t.device),
            md.ones(3, dtype=md.float64, device=t.device),
        )
        return F.batch_norm(t, mean, var, weight, bias, training=training)

    check(lambda t, weight, bias: batch_norm(t, weight, bias, True), x, w, b)
    check(lambda t, weight, bias: batch_norm(t, weight, bias, False), x, w, b)
    check(
        lambda t, weight, bias: F.layer_norm(
            t, (2, 2), weight.reshape(1, 1).expand(2, 2), bias[:1].expand(2, 2)
        ),
        x,
        w[:1],
        b,
    )
    check(lambda t: F.layer_norm(t, (3, 2, 2)), x, gradgrad=True)


def test_dropout(cp):
    x = fill((4, 5), "real", 28)
    check(lambda t: F.dropout(t, 0.3, training=False), x)

    def seeded_dropout(t):
        md.manual_seed(1)  # the same mask at every call, on every device (drawn on the CPU)
        return F.dropout(t, 0.3, training=True)

    check(seeded_dropout, x)


def test_embedding(cp):
    weight = fill((6, 3), "real", 29)
    ids = md.tensor([[0, 5, 5], [2, 0, 1]])
    check(lambda w: F.embedding(_on(ids, w), w), weight)
    # padding_idx: row 5 is returned but gets no gradient (so no gradcheck: by design it disagrees)
    w = md.tensor(weight, device="cuda", requires_grad=True)
    F.embedding(ids.to("cuda"), w, padding_idx=5).sum().backward()
    assert w.grad.device.type == "cuda"
    np.testing.assert_array_equal(
        w.grad.cpu().numpy(), [[2] * 3, [1] * 3, [1] * 3, [0] * 3, [0] * 3, [0] * 3]
    )
    layer = nn.Embedding(6, 3).to("cuda")
    assert layer(ids.to("cuda")).device.type == "cuda"
    with pytest.raises(RuntimeError, match="cpu.*cuda|cuda.*cpu"):
        layer(ids)


# ---------------------------------------------------------------------------------------------
# Layers, optimizers, checkpoints, data


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
        nn.GELU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(6, 5),
        nn.LayerNorm(5),
        nn.Linear(5, 3),
    )


def twin_models(builder=small_cnn):
    """The same freshly initialised float64 model twice: on the CPU and on the GPU."""
    md.manual_seed(0)
    cpu = builder().double()
    md.manual_seed(0)
    gpu = builder().double().to("cuda")
    return cpu, gpu


def test_cnn_forward_and_backward_match_the_cpu(gpu_kernels):
    cpu, gpu = twin_models()
    x, y = fill((4, 1, 8, 8), "real", 30), np.array([0, 2, 1, 2])
    for training in (True, False):
        cpu.train(training)
        gpu.train(training)
        md.manual_seed(5)  # dropout's mask (train mode) is drawn on the CPU: the same on both
        loss_cpu = F.cross_entropy(cpu(md.tensor(x, dtype=md.float64)), md.tensor(y))
        md.manual_seed(5)
        loss_gpu = F.cross_entropy(
            gpu(md.tensor(x, dtype=md.float64, device="cuda")), md.tensor(y, device="cuda")
        )
        assert loss_gpu.device.type == "cuda"
        np.testing.assert_allclose(loss_gpu.item(), loss_cpu.item(), rtol=1e-10)
        cpu.zero_grad()
        gpu.zero_grad()
        loss_cpu.backward()
        loss_gpu.backward()
        for (name, p), q in zip(cpu.named_parameters(), gpu.parameters()):
            assert q.grad.device.type == "cuda", name
            np.testing.assert_allclose(
                q.grad.cpu().numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
            )
    for (name, b), c in zip(cpu.named_buffers(), gpu.buffers()):  # BatchNorm's running statistics
        np.testing.assert_allclose(c.cpu().numpy(), b.numpy(), rtol=1e-10, err_msg=name)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: md.optim.SGD(ps, lr=0.1),
        lambda ps: md.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: md.optim.Adam(ps, lr=0.01),
        lambda ps: md.optim.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    ],
    ids=["sgd", "sgd-nesterov", "adam", "adamw-amsgrad"],
)
def test_optimizer_steps_match_the_cpu(cp, make):
    cpu, gpu = twin_models()
    opt_cpu, opt_gpu = make(cpu.parameters()), make(gpu.parameters())
    x, y = fill((4, 1, 8, 8), "real", 31), np.array([1, 0, 2, 2])
    for _ in range(3):
        for model, opt, device in ((cpu, opt_cpu, "cpu"), (gpu, opt_gpu, "cuda")):
            md.manual_seed(7)  # the same dropout mask on both (drawn on the CPU)
            loss = F.cross_entropy(
                model(md.tensor(x, dtype=md.float64, device=device)), md.tensor(y, device=device)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    for (name, p), q in zip(cpu.named_parameters(), gpu.parameters()):
        assert q.device.type == "cuda"
        np.testing.assert_allclose(
            q.detach().cpu().numpy(), p.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )
    for state in opt_gpu.state.values():
        for key, value in state.items():
            if isinstance(value, md.Tensor):
                assert value.device.type == "cuda", key


def test_module_to_cuda_keeps_the_parameters(cp):
    md.manual_seed(0)
    model = small_cnn()
    before = list(model.parameters())
    buffers = list(model.buffers())
    optimizer = md.optim.SGD(model.parameters(), lr=0.1)  # made before the move: must still work
    assert model.to("cuda") is model
    after = list(model.parameters())
    assert all(a is b for a, b in zip(before, after)) and len(before) == len(after)
    assert all(isinstance(p, nn.Parameter) and p.device.type == "cuda" and p.requires_grad for p in after)
    assert all(a is b and b.device.type == "cuda" for a, b in zip(buffers, model.buffers()))
    loss = model(md.randn(2, 1, 8, 8, device="cuda")).sum()
    loss.backward()
    optimizer.step()
    assert all(p.grad.device.type == "cuda" for p in after)
    model.cpu()
    assert all(
        a is b and b.device.type == "cpu" and b.grad.device.type == "cpu"
        for a, b in zip(before, model.parameters())
    )
    model.cuda()
    assert all(p.device.type == "cuda" for p in model.parameters())


def test_checkpoint_saved_from_the_gpu_loads_on_the_cpu(cp, tmp_path):
    _, gpu = twin_models()
    gpu.eval()
    path = tmp_path / "model.npz"
    md.save(gpu.state_dict(), path)
    x = fill((3, 1, 8, 8), "real", 32)
    want = gpu(md.tensor(x, dtype=md.float64, device="cuda")).detach().cpu().numpy()

    state = md.load(path, map_location="cpu")
    assert all(t.device.type == "cpu" for t in state.values())
    md.manual_seed(123)  # other initial weights: the loaded ones must replace them all
    cpu = small_cnn().double()
    cpu.load_state_dict(state)
    cpu.eval()
    np.testing.assert_allclose(
        cpu(md.tensor(x, dtype=md.float64)).detach().numpy(), want, rtol=1e-10, atol=1e-12
    )
    # Without map_location the tensors go back to the GPU they came from.
    assert all(t.device.type == "cuda" for t in md.load(path).values())


def test_dataloader_batches_move_to_the_gpu(cp):
    x, y = fill((10, 3), "real", 33).astype(np.float32), np.arange(10)
    loader = md.data.DataLoader(md.data.TensorDataset(x, y), batch_size=4, shuffle=True, seed=0)
    seen = []
    for xb, yb in loader:
        xg, yg = xb.to("cuda"), yb.to("cuda")
        assert xg.device.type == yg.device.type == "cuda"
        assert xg.dtype == md.float32 and yg.dtype == md.int64
        np.testing.assert_array_equal(xg.cpu().numpy(), x[yg.cpu().numpy()])
        seen.extend(yg.cpu().numpy().tolist())
    assert sorted(seen) == list(range(10))


def test_dataloader_over_cuda_tensors_gives_cuda_batches(cp):
    x, y = md.randn(10, 3, device="cuda"), md.arange(10, device="cuda")
    for xb, yb in md.data.DataLoader(md.data.TensorDataset(x, y), batch_size=4, shuffle=True, seed=0):
        assert xb.device.type == yb.device.type == "cuda"
        np.testing.assert_array_equal(xb.cpu().numpy(), x.cpu().numpy()[yb.cpu().numpy()])


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: a @ b.T,
        lambda a, b: md.cat([a, b]),
        lambda a, b: md.where(a > 0, a, b),
        lambda a, b: F.conv2d(a.reshape(1, 1, 2, 3), b.reshape(1, 1, 2, 3)),
        lambda a, b: F.mse_loss(a, b),
    ],
    ids=["add", "mul", "matmul", "cat", "where", "conv2d", "mse_loss"],
)
@pytest.mark.parametrize("cuda_first", [True, False])
def test_a_cpu_and_a_cuda_tensor_in_one_op_is_an_error(cp, op, cuda_first):
    a, b = md.ones(2, 3), md.ones(2, 3, device="cuda")
    if cuda_first:
        a, b = b, a
    with pytest.raises(RuntimeError) as info:
        op(a, b)
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value), str(info.value)


def test_losses_name_the_devices_of_input_and_target(cp):
    logits = md.randn(3, 4, device="cuda")
    with pytest.raises(RuntimeError, match="cross_entropy: input is on cuda:0 but target is on cpu"):
        F.cross_entropy(logits, md.tensor([0, 1, 2]))


# ---------------------------------------------------------------------------------------------
# End to end


def test_train_run_on_cuda(cp, tmp_path):
    pytest.importorskip("sklearn")  # the digits dataset ships with scikit-learn
    from minidl.train import TrainConfig, run

    result = run(
        TrainConfig(dataset="digits", model="cnn", epochs=2, device="cuda", out=str(tmp_path), quiet=True),
        log=None,
    )
    assert all(p.device.type == "cuda" for p in result.model.parameters())
    assert result.final_accuracy >= 0.5  # two epochs of the digits CNN: far above the 10 % of chance
    assert (tmp_path / "checkpoint.npz").stat().st_size > 0
    # The checkpoint of a GPU run is evaluated on the CPU to the same accuracy, to the last digit.
    from minidl.train import evaluate_checkpoint

    assert evaluate_checkpoint(tmp_path / "checkpoint.npz", log=None) == pytest.approx(
        result.final_accuracy, abs=1.5 / 360
    )


def test_train_command_line_on_cuda(cp, tmp_path, capsys):
    pytest.importorskip("mnist1d")  # MNIST-1D is generated by its package
    from minidl import cli

    code = cli.main(
        [
            "train",
            "--device",
            "cuda",
            "--epochs",
            "1",
            "--data-root",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "run"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "on cuda" in printed and "final test accuracy" in printed


@pytest.mark.slow
def test_tutorial_9_runs_its_gpu_branch(cp, tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("mnist1d")
    env = dict(
        os.environ,
        MINIDL_TUTORIAL_OUT=str(tmp_path / "out"),
        MINIDL_DATA=str(tmp_path / "data"),
        MPLBACKEND="Agg",
    )
    env.pop("MINIDL_DEVICE", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tutorials" / "09_gpu.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"GPU usable:\s+True", done.stdout), done.stdout[-2000:]
    assert "2 epochs on cuda" in done.stdout
    assert (tmp_path / "out" / "09_gpu_timings.png").stat().st_size > 0
