"""Softmax family (kernels and ops), the other activations, and the losses.

- native kernels against the NumPy reference, over hypothesis-drawn shapes, float32 and float64;
- numerical stability: logits of +-1e4, NaN, rows of -inf;
- float64 gradcheck (and gradgradcheck) of every op and loss, under each kernel setting;
- loss values against independent NumPy formulas written here, and hand-computed numbers;
- bad input: a clear error for each;
- PyTorch, when installed, as a second oracle (skipped otherwise).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl as md
import minidl.functional as F
from minidl.backend import native, reference

from strategies import assert_softmax_close, softmax_inputs

_C = native.cpu_module()
needs_native = pytest.mark.native  # the run stops without _C (tests/conftest.py)

KERNELS = ("softmax_forward", "log_softmax_forward", "softmax_backward", "log_softmax_backward")


# ---------------------------------------------------------------------------------------------
# Kernels: native against reference


@needs_native
@settings(max_examples=100)  # cheap (small arrays, no finite differences): more examples
@given(
    rows=st.integers(0, 50),
    cols=st.integers(1, 300),
    dtype=st.sampled_from([np.float32, np.float64]),
    name=st.sampled_from(KERNELS),
    scale=st.sampled_from([0.1, 3.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_native_matches_reference(rows, cols, dtype, name, scale, seed):
    args = softmax_inputs(name, rows, cols, dtype, np.random.default_rng(seed), scale)
    got = getattr(_C, name)(*args)
    want = getattr(reference, name)(*args)
    assert got.dtype == dtype and got.shape == (rows, cols)
    assert_softmax_close(name, got, want, args, dtype)


@needs_native
@pytest.mark.parametrize("shape", [(257, 333), (3, 20000), (40000, 1), (1, 1)])
@pytest.mark.parametrize("name", KERNELS)
def test_native_matches_reference_large(shape, name):
    # Past the size where the kernels go parallel, and rows far longer than a SIMD vector.
    args = softmax_inputs(name, *shape, np.float32, np.random.default_rng(1))
    assert_softmax_close(name, getattr(_C, name)(*args), getattr(reference, name)(*args), args, np.float32)


@needs_native
@pytest.mark.parametrize("dtype, max_ulp", [(np.float32, 2), (np.float64, 2)])
def test_native_exp_accuracy(dtype, max_ulp):
    # log_softmax_backward(g, y) with g = [0, 1] gives grad_x[0] = 0 - exp(y[0]) * 1: the kernel's
    # own exp, exactly. Compared with NumPy's exp in units in the last place.
    lo, hi = (-87.0, 88.0) if dtype == np.float32 else (-707.0, 709.0)
    v = np.concatenate([np.linspace(lo, hi, 200001), np.linspace(-1, 1, 100001)]).astype(dtype)
    g = np.tile(np.array([0, 1], dtype), (v.size, 1))
    y = np.stack([v, np.zeros_like(v)], axis=1)
    got = -_C.log_softmax_backward(g, y)[:, 0]
    want = np.exp(v.astype(np.float64)).astype(dtype)
    ulps = np.abs(got.astype(np.float64) - want) / np.spacing(want)
    assert ulps.max() <= max_ulp
    # The ends: underflow to 0, overflow to inf, NaN stays NaN.
    ends = np.array([[-np.inf, 0], [-1e4, 0], [1e4, 0], [np.nan, 0]], dtype)
    out = -_C.log_softmax_backward(np.tile(np.array([0, 1], dtype), (4, 1)), ends)[:, 0]
    assert out[0] == 0 and out[1] == 0 and out[2] == np.inf and np.isnan(out[3])


IMPLEMENTATIONS = [pytest.param(lambda: _C, id="native", marks=needs_native)] + [
    pytest.param(lambda: reference, id="reference")
]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", [(0, 5), (4, 0), (0, 0)])
@pytest.mark.parametrize("name", KERNELS)
def test_kernels_empty(impl, shape, name):
    args = [np.zeros(shape, np.float32)] * (1 if name.endswith("forward") else 2)
    out = getattr(impl(), name)(*args)
    assert out.shape == shape and out.dtype == np.float32


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_stable_for_huge_logits(impl, dtype):
    module = impl()
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1], [-1e4, -1e4 + 2, -1e4, -1e4]], dtype)
    # Row 0: shifted by the max 1e4 -> [0, -2e4, -1e4, -1]; the sum is 1 + e^-1.
    # Row 1: shifted by -1e4 + 2 -> [-2, 0, -2, -2]; the sum is 1 + 3 e^-2.
    s0, s1 = 1 + math.exp(-1), 1 + 3 * math.exp(-2)
    want = [
        [1 / s0, 0, 0, math.exp(-1) / s0],
        [math.exp(-2) / s1, 1 / s1, math.exp(-2) / s1, math.exp(-2) / s1],
    ]
    y = module.softmax_forward(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-30)
    log_y = module.log_softmax_forward(x)
    assert np.isfinite(log_y).all()
    l0, l1 = math.log(s0), math.log(s1)
    want_log = [[-l0, -2e4 - l0, -1e4 - l0, -1 - l0], [-2 - l1, -l1, -2 - l1, -2 - l1]]
    np.testing.assert_allclose(log_y, want_log, rtol=1e-6)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_kernels_nan_and_minus_inf_rows(impl):
    module = impl()
    x = np.array(
        [[1.0, np.nan, 2.0], [-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 0.0], [1.0, 2.0, 3.0]], np.float32
    )
    for fn in (module.softmax_forward, module.log_softmax_forward):
        y = fn(x)
        assert np.isnan(y[0]).all()  # a NaN reaches the whole row
        assert np.isnan(y[1]).all()  # all -inf: NaN, as in PyTorch (documented in reference.py)
        assert not np.isnan(y[2:]).any()  # other rows untouched
    np.testing.assert_allclose(module.softmax_forward(x)[2], [0.5, 0, 0.5])
    assert module.log_softmax_forward(x)[2, 1] == -np.inf


# ---------------------------------------------------------------------------------------------
# Kernels: the dispatcher's checks, and the native module's own


@pytest.mark.parametrize("name", KERNELS)
def test_dispatch_rejects_bad_arrays(kernels, name):
    fn = getattr(md.backend.kernels, name)
    two = name.endswith("backward")
    good = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=name):
        fn(*([np.zeros(3, np.float32)] * (2 if two else 1)))
    with pytest.raises(TypeError, match=name):
        fn(*([np.zeros((2, 3), np.int64)] * (2 if two else 1)))
    if two:
        with pytest.raises(ValueError, match=f"{name}.*\\(2, 3\\), \\(3, 2\\)"):
            fn(good, np.zeros((3, 2), np.float32))
        with pytest.raises(TypeError, match=name):
            fn(good, good.astype(np.float64))


def test_dispatch_accepts_non_contiguous(kernels):
    x = np.random.default_rng(0).standard_normal((6, 10))
    view = x[::2, ::3]
    np.testing.assert_allclose(
        md.backend.kernels.softmax_forward(view),
        reference.softmax_forward(np.ascontiguousarray(view)),
        rtol=1e-12,
    )


@needs_native
def test_native_module_checks_its_arguments():
    with pytest.raises(ValueError, match="softmax_forward: expected a 2-d"):
        _C.softmax_forward(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="log_softmax_backward: .*\\(2, 3\\), \\(2, 4\\)"):
        _C.log_softmax_backward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError):  # noconvert: no silent int -> float copy
        _C.softmax_forward(np.zeros((2, 3), np.int32))
    with pytest.raises(TypeError):  # nor a non-contiguous view
        _C.softmax_forward(np.zeros((4, 6), np.float32)[:, ::2])


# ---------------------------------------------------------------------------------------------
# softmax / log_softmax ops


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


SHAPES_DIMS = [
    ((5,), 0),
    ((3, 4), 1),
    ((3, 4), 0),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 1, 3), 1),
    ((), 0),
    ((4, 1), 0),
]


@pytest.mark.parametrize("shape, dim", SHAPES_DIMS)
def test_softmax_ops_values(kernels, shape, dim):
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_allclose(F.softmax(md.tensor(x), dim).numpy(), _np_softmax(x, dim), rtol=1e-12)
    np.testing.assert_allclose(
        F.log_softmax(md.tensor(x), dim).numpy(), np.log(_np_softmax(x, dim)), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(md.tensor(x).softmax(dim).numpy(), _np_softmax(x, dim), rtol=1e-12)


@pytest.mark.parametrize("shape, dim", SHAPES_DIMS)
@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax_ops_gradcheck(kernels, op, shape, dim):
    x = (
        md.randn(*shape, dtype=md.float64, requires_grad=True)
        if shape
        else md.tensor(0.3, dtype=md.float64, requires_grad=True)
    )
    assert md.gradcheck(lambda a: op(a, dim), (x,))
    assert md.gradgradcheck(lambda a: op(a, dim), (x,))


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
    transpose=st.booleans(),
    log=st.booleans(),
)
def test_softmax_ops_gradcheck_drawn(shape, data, transpose, log):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    op = F.log_softmax if log else F.softmax
    x = md.tensor(np.random.default_rng(len(shape)).standard_normal(shape) * 2, requires_grad=True)

    def fn(a):
        # .T makes the kernel's input non-contiguous (and moves which axis dim names)
        return op(a.T if transpose else a, dim)

    for setting in ("native", "reference") if _C is not None else ("reference",):
        with md.use_kernels(setting):
            assert md.gradcheck(fn, (x,))


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax_ops_non_contiguous_input(kernels, op):
    base = md.randn(4, 5, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda a: op(a.transpose(0, 1) * 2, 0), (base,))


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax_ops_float32_and_dtype_argument(kernels, op):
    x = md.randn(3, 4)
    assert op(x, 1).dtype == md.float32
    assert op(x, 1, dtype=md.float64).dtype == md.float64


def test_softmax_ops_bad_input():
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        F.softmax(md.randn(3, 4), 2)
    with pytest.raises(IndexError, match="log_softmax: dim -3"):
        F.log_softmax(md.randn(3, 4), -3)
    with pytest.raises(TypeError, match="softmax: expected a float32 or float64 tensor, got int64"):
        F.softmax(md.tensor([1, 2, 3]), 0)
    with pytest.raises(TypeError, match="softmax: expected a Tensor"):
        F.softmax(np.zeros(3), 0)


# ---------------------------------------------------------------------------------------------
# Other activations


def test_activation_values():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, 40.0])
    t = md.tensor(x)
    np.testing.assert_allclose(F.leaky_relu(t, 0.1).numpy(), np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(F.softplus(t).numpy(), np.where(x > 20, x, np.log1p(np.exp(x))), rtol=1e-12)
    erf = np.array([math.erf(v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(F.gelu(t).numpy(), 0.5 * x * (1 + erf), rtol=1e-12)
    tanh = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
    np.testing.assert_allclose(F.gelu(t, approximate="tanh").numpy(), 0.5 * x * (1 + tanh), rtol=1e-12)
    assert F.gelu(md.tensor([1.0])).item() == pytest.approx(0.8413447460685429)  # 1 * Phi(1)


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: F.leaky_relu(a, 0.2),
        lambda a: F.softplus(a),
        lambda a: F.softplus(a * 30, beta=2, threshold=5),
        lambda a: F.gelu(a),
        lambda a: F.gelu(a, approximate="tanh"),
    ],
    ids=["leaky", "softplus", "softplus-thr", "gelu", "gelu-tanh"],
)
def test_activation_gradcheck(fn):
    x = md.randn(3, 4, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(fn, (x,))
    assert md.gradgradcheck(fn, (x,))


def test_activation_bad_input():
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(md.randn(2), approximate="fast")
    with pytest.raises(ValueError, match="softplus: beta"):
        F.softplus(md.randn(2), beta=0)


# ---------------------------------------------------------------------------------------------
# Losses: independent NumPy formulas, written with explicit loops over the targets


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """Class-index cross-entropy for x (N, C, ...), t (N, ...), one target at a time."""
    logp = np.moveaxis(_np_log_softmax(x, 1), 1, -1)  # (N, ..., C)
    C = logp.shape[-1]
    w = np.ones(C) if weight is None else weight
    losses = np.zeros(t.shape)
    total_weight = 0.0
    for idx in np.ndindex(*t.shape):
        c = t[idx]
        if c == ignore_index:
            continue
        target = np.full(C, eps / C)
        target[c] += 1 - eps
        # nll part weighted by w[c]; smoothing part by each class's own weight
        losses[idx] = -(1 - eps) * w[c] * logp[idx][c] - (eps / C) * (w * logp[idx]).sum()
        total_weight += w[c]
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / total_weight


CE_CASES = [
    dict(),
    dict(weight=True),
    dict(ignore_index=2),
    dict(ignore_index=-100, ignore_some=True),
    dict(weight=True, ignore_some=True, eps=0.1),
    dict(eps=0.25),
]


def _ce_case(case, shape, rng):
    x = rng.standard_normal(shape)
    C = shape[1]
    t = rng.integers(0, C, (shape[0],) + shape[2:])
    ignore_index = case.get("ignore_index", -100)
    if case.get("ignore_some"):
        t.reshape(-1)[::3] = ignore_index
    weight = rng.uniform(0.5, 2.0, C) if case.get("weight") else None
    return x, t, weight, ignore_index, case.get("eps", 0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: "-".join(c) or "plain")
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 2, 3)], ids=["NC", "NCHW"])
def test_cross_entropy_values_and_gradcheck(kernels, reduction, case, shape):
    x, t, weight, ignore_index, eps = _ce_case(case, shape, np.random.default_rng(7))
    want = np_cross_entropy(x, t, weight, ignore_index, reduction, eps)
    w = None if weight is None else md.tensor(weight)

    def loss(a):
        return F.cross_entropy(
            a, md.tensor(t), weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=eps
        )

    got = loss(md.tensor(x))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    xt = md.tensor(x, requires_grad=True)
    assert md.gradcheck(loss, (xt,))


def test_cross_entropy_hand_values(kernels):
    # Two equal logits: p = 1/2 each, loss = log 2. One class certain: loss 0 (and no NaN).
    assert F.cross_entropy(md.tensor([[0.0, 0.0]]), md.tensor([1])).item() == pytest.approx(math.log(2))
    assert F.cross_entropy(md.tensor([[1e4, 0.0]]), md.tensor([0])).item() == 0.0
    assert F.cross_entropy(md.tensor([[1e4, 0.0]]), md.tensor([1])).item() == pytest.approx(1e4)
    # Unbatched: input (C,), target ().
    x = np.array([1.0, 2.0, 3.0])
    assert F.cross_entropy(md.tensor(x), md.tensor(2)).item() == pytest.approx(
        -x[2] + math.log(np.exp(x).sum())
    )
    # Class weights: mean = sum(w_t * l) / sum(w_t).
    got = F.cross_entropy(
        md.tensor([[0.0, 0.0], [0.0, 0.0]]), md.tensor([0, 1]), weight=md.tensor([1.0, 3.0])
    ).item()
    assert got == pytest.approx(math.log(2))
    # Every target ignored: 0/0 = NaN under 'mean' (PyTorch agrees), 0 under 'sum'.
    assert math.isnan(F.cross_entropy(md.randn(2, 3), md.tensor([-100, -100])).item())
    assert F.cross_entropy(md.randn(2, 3), md.tensor([-100, -100]), reduction="sum").item() == 0.0
    # Label smoothing 1: the uniform target; with equal logits the loss is log C.
    assert F.cross_entropy(md.zeros(1, 4), md.tensor([0]), label_smoothing=1.0).item() == pytest.approx(
        math.log(4)
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(kernels, reduction, smoothing):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    p = rng.random((4, 5))
    p /= p.sum(1, keepdims=True)
    weight = rng.uniform(0.5, 2, 5)
    q = p * (1 - smoothing) + smoothing / 5
    per_sample = -(weight * q * _np_log_softmax(x, 1)).sum(1)
    want = {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]

    def loss(a):
        return F.cross_entropy(
            a, md.tensor(p), weight=md.tensor(weight), reduction=reduction, label_smoothing=smoothing
        )

    np.testing.assert_allclose(loss(md.tensor(x)).numpy(), want, rtol=1e-12)
    assert md.gradcheck(loss, (md.tensor(x, requires_grad=True),))


def test_cross_entropy_gradgradcheck(kernels):
    t = md.tensor([0, 2, 1])
    x = md.randn(3, 4, dtype=md.float64, requires_grad=True)
    assert md.gradgradcheck(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), (x,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(kernels, reduction, weighted):
    rng = np.random.default_rng(5)
    logp = _np_log_softmax(rng.standard_normal((6, 4)), 1)
    t = np.array([0, 3, -100, 1, 1, 2])
    w = rng.uniform(0.5, 2, 4) if weighted else np.ones(4)
    per = np.array([0.0 if c == -100 else -w[c] * logp[i, c] for i, c in enumerate(t)])
    denom = sum(w[c] for c in t if c != -100)
    want = {"mean": per.sum() / denom, "sum": per.sum(), "none": per}[reduction]

    def loss(a):
        return F.nll_loss(a, md.tensor(t), weight=md.tensor(w) if weighted else None, reduction=reduction)

    np.testing.assert_allclose(loss(md.tensor(logp)).numpy(), want, rtol=1e-12)
    assert md.gradcheck(loss, (md.tensor(logp, requires_grad=True),))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1(kernels, reduction):
    a, b = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[3.0, 5.0], [0.5, 1.0]])
    sq, ab = (a - b) ** 2, np.abs(a - b)
    pick = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    np.testing.assert_allclose(F.mse_loss(md.tensor(a), md.tensor(b), reduction=reduction).numpy(), pick(sq))
    np.testing.assert_allclose(F.l1_loss(md.tensor(a), md.tensor(b), reduction=reduction).numpy(), pick(ab))
    assert F.mse_loss(md.tensor([1.0, 2.0]), md.tensor([3.0, 5.0])).item() == 6.5  # (4 + 9) / 2
    x = md.tensor(a + 0.1, requires_grad=True)  # away from |x - y| = 0, where l1 has a kink
    y = md.tensor(b, requires_grad=True)
    assert md.gradcheck(lambda u, v: F.mse_loss(u, v, reduction=reduction), (x, y))
    assert md.gradcheck(lambda u, v: F.l1_loss(u, v, reduction=reduction), (x, y))


def _np_bce(p, t, w):
    return -w * (t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(kernels, reduction):
    rng = np.random.default_rng(2)
    p = rng.uniform(0.05, 0.95, (4, 3))
    t = rng.random((4, 3))
    w = rng.uniform(0.5, 2, 3)
    pick = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    got = F.binary_cross_entropy(md.tensor(p), md.tensor(t), weight=md.tensor(w), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), pick(_np_bce(p, t, w)), rtol=1e-12)
    assert md.gradcheck(
        lambda u, v: F.binary_cross_entropy(u, v, weight=md.tensor(w), reduction=reduction),
        (md.tensor(p, requires_grad=True), md.tensor(t, requires_grad=True)),
    )
    assert md.gradgradcheck(
        lambda u: F.binary_cross_entropy(u, md.tensor(t), reduction=reduction),
        (md.tensor(p, requires_grad=True),),
    )


def test_binary_cross_entropy_clamps_logs():
    # p = 0 with t = 1: log 0 is clamped to -100, so the loss is 100, not inf.
    p = md.tensor([0.0, 1.0, 0.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, md.tensor([1.0, 0.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, 0.0])
    loss.sum().backward()
    # PyTorch's gradient: (p - t) / max(p (1 - p), 1e-12)
    np.testing.assert_allclose(p.grad.numpy(), [-1e12, 1e12, 0.0])


def _np_bce_logits(x, t, w, pw):
    sig = 1 / (1 + np.exp(-x))
    return -w * (pw * t * np.log(sig) + (1 - t) * np.log(1 - sig))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(kernels, reduction, with_pos_weight):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3)) * 3
    t = rng.random((4, 3))
    w = rng.uniform(0.5, 2, 3)
    pw = rng.uniform(0.5, 3, 3) if with_pos_weight else np.ones(3)
    pick = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]

    def loss(u, v):
        return F.binary_cross_entropy_with_logits(
            u,
            v,
            weight=md.tensor(w),
            reduction=reduction,
            pos_weight=md.tensor(pw) if with_pos_weight else None,
        )

    np.testing.assert_allclose(
        loss(md.tensor(x), md.tensor(t)).numpy(), pick(_np_bce_logits(x, t, w, pw)), rtol=1e-10
    )
    assert md.gradcheck(loss, (md.tensor(x, requires_grad=True), md.tensor(t, requires_grad=True)))


def test_binary_cross_entropy_with_logits_is_stable():
    # Logits of +-1e4 would overflow exp in the textbook formula.
    x = md.tensor([1e4, -1e4, 1e4, 0.0], requires_grad=True)
    t = md.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1e4, math.log(2)])
    loss.sum().backward()
    # d/dx = sigmoid(x) - t; exactly 1/2 - 1 at x = 0
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -0.5])


# ---------------------------------------------------------------------------------------------
# Losses: bad input


def test_loss_bad_input():
    x = md.randn(3, 4)
    with pytest.raises(IndexError, match="cross_entropy: target 4 is out of range for 4 classes"):
        F.cross_entropy(x, md.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="nll_loss: target -1 is out of range"):
        F.nll_loss(x, md.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match="cross_entropy: a float target .* \\(3,\\)"):
        F.cross_entropy(x, md.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="nll_loss: class-index targets must be integers"):
        F.nll_loss(x, md.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="cross_entropy: class-index targets must be integers"):
        F.cross_entropy(x, md.tensor([True, False, True]))
    with pytest.raises(
        ValueError, match="cross_entropy: target shape \\(2,\\) does not match input shape \\(3, 4\\)"
    ):
        F.cross_entropy(x, md.tensor([0, 1]))
    with pytest.raises(ValueError, match="expected target shape \\(2, 5\\)"):
        F.cross_entropy(md.randn(2, 3, 5), md.tensor(np.zeros((2, 4), np.int64)))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be"):
        F.cross_entropy(x, md.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing"):
        F.cross_entropy(x, md.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="cross_entropy: weight must be a 1-d float tensor of 4"):
        F.cross_entropy(x, md.tensor([0, 1, 2]), weight=md.ones(3))
    with pytest.raises(ValueError, match="cross_entropy: input must have a class dimension"):
        F.cross_entropy(md.tensor(1.0), md.tensor(0))
    with pytest.raises(ValueError, match="mse_loss: input shape \\(3, 4\\) and target shape \\(4,\\)"):
        F.mse_loss(x, md.randn(4))
    with pytest.raises(ValueError, match="l1_loss: reduction"):
        F.l1_loss(x, x, reduction="max")
    with pytest.raises(TypeError, match="mse_loss: expected a floating-point target"):
        F.mse_loss(md.randn(3), md.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="binary_cross_entropy: input must hold probabilities"):
        F.binary_cross_entropy(md.tensor([0.5, 1.5]), md.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: input shape"):
        F.binary_cross_entropy_with_logits(md.randn(3, 1), md.randn(3))


def test_losses_accept_numpy_targets():
    x = md.randn(3, 4)
    a = F.cross_entropy(x, np.array([0, 1, 2]))
    b = F.cross_entropy(x, md.tensor([0, 1, 2]))
    assert a.item() == b.item()


# ---------------------------------------------------------------------------------------------
# PyTorch as a second oracle (for developers who have it; never a requirement)


def test_against_pytorch(kernels):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(11)
    x = rng.standard_normal((6, 5, 3))
    t = rng.integers(0, 5, (6, 3))
    t[0, 0] = -100
    w = rng.uniform(0.5, 2, 5)
    for dim in (0, 1, 2):
        for ours, theirs in ((F.softmax, tf.softmax), (F.log_softmax, tf.log_softmax)):
            a = md.tensor(x, requires_grad=True)
            b = torch.tensor(x, requires_grad=True)
            g = rng.standard_normal(x.shape)
            ours(a, dim).backward(md.tensor(g))
            theirs(b, dim).backward(torch.tensor(g))
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    for reduction in ("mean", "sum", "none"):
        for eps in (0.0, 0.2):
            a = md.tensor(x, requires_grad=True)
            b = torch.tensor(x, requires_grad=True)
            la = F.cross_entropy(
                a, md.tensor(t), weight=md.tensor(w), reduction=reduction, label_smoothing=eps
            )
            lb = tf.cross_entropy(
                b, torch.tensor(t), weight=torch.tensor(w), reduction=reduction, label_smoothing=eps
            )
            np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-10)
            la.sum().backward()
            lb.sum().backward()
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    p = rng.uniform(0, 1, (4, 3))
    p[0, 0], p[1, 1] = 0.0, 1.0
    y = rng.random((4, 3))
    logits = rng.standard_normal((4, 3)) * 4
    pw = rng.uniform(0.5, 2, 3)
    checks = [
        (
            F.binary_cross_entropy(md.tensor(p), md.tensor(y)),
            tf.binary_cross_entropy(torch.tensor(p), torch.tensor(y)),
        ),
        (
            F.binary_cross_entropy_with_logits(md.tensor(logits), md.tensor(y), pos_weight=md.tensor(pw)),
            tf.binary_cross_entropy_with_logits(
                torch.tensor(logits), torch.tensor(y), pos_weight=torch.tensor(pw)
            ),
        ),
        (F.gelu(md.tensor(logits)), tf.gelu(torch.tensor(logits))),
        (
            F.softplus(md.tensor(logits * 10), beta=0.5, threshold=3),
            tf.softplus(torch.tensor(logits * 10), 0.5, 3),
        ),
        (F.leaky_relu(md.tensor(logits)), tf.leaky_relu(torch.tensor(logits))),
    ]
    for ours, theirs in checks:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: F.leaky_relu([1.0, -1.0]), TypeError, "leaky_relu: expected a Tensor"),
        (lambda: F.leaky_relu(md.ones(2), "a"), TypeError, "leaky_relu: negative_slope must be a number"),
        (
            lambda: F.leaky_relu(md.tensor([1, -2])),
            TypeError,
            "leaky_relu: expected a floating-point tensor, got int64",
        ),
        (lambda: F.erf(3.0), TypeError, "erf: expected a Tensor"),
        (lambda: F.erf(md.tensor([1, 2])), TypeError, "erf: expected a floating-point tensor, got int64"),
    ],
)
def test_leaky_relu_and_erf_refuse_bad_input(call, error, words):
    with pytest.raises(error, match=words):
        call()
