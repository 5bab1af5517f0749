"""F.scaled_dot_product_attention and nn.MultiheadAttention: float64 gradcheck through the real path
(native and reference kernels), agreement with PyTorch (outputs and gradients; for the layer with
weights copied by state_dict), the fully masked row, dropout, the fake-GPU path, and the errors."""

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import gradcheck
from minidl.backend import kernels as _kernels

from fake_gpu import fake_gpu  # noqa: F401  (fixture)

SDPA = F.scaled_dot_product_attention
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def _torch():
    return pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def _mask_rows_dead(rng, shape, dead_row=1):
    """A bool (True = attend) mask of ``shape`` (..., L, S) with row ``dead_row`` fully masked."""
    mask = rng.random(shape) > 0.4
    mask[..., dead_row, :] = False
    return mask


# Each case: (q shape, k shape, v shape, mask maker or None, keyword arguments)
CASES = {
    "plain": ((2, 3, 4), (2, 5, 4), (2, 5, 3), None, {}),
    "bool_mask_dead_row": ((2, 3, 4), (2, 5, 4), (2, 5, 2), lambda r: _mask_rows_dead(r, (3, 5)), {}),
    "float_mask": (
        (2, 2, 3, 4),
        (2, 2, 5, 4),
        (2, 2, 5, 4),
        lambda r: np.where(r.random((2, 1, 3, 5)) > 0.3, r.standard_normal((2, 1, 3, 5)), -np.inf),
        {},
    ),
    "causal_l_lt_s": ((2, 3, 4), (2, 5, 4), (2, 5, 3), None, {"is_causal": True}),
    "causal_l_gt_s": ((1, 2, 5, 3), (1, 2, 3, 3), (1, 2, 3, 2), None, {"is_causal": True}),
    "broadcast_heads": ((2, 3, 4, 3), (1, 3, 5, 3), (5, 2), lambda r: r.random((4, 5)) > 0.3, {}),
    "unbatched_scale": ((4, 3), (5, 3), (5, 3), None, {"scale": 0.7}),
}


def _inputs(case, dtype, seed=0):
    qs, ks, vs, make_mask, kwargs = CASES[case]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (qs, ks, vs)]
    mask = None if make_mask is None else make_mask(rng)
    if mask is not None and mask.dtype != np.bool_:
        mask = mask.astype(dtype)
    return arrays, mask, kwargs


@pytest.mark.parametrize("case", sorted(CASES))
def test_sdpa_gradcheck(case, kernels):
    (q, k, v), mask, kwargs = _inputs(case, np.float64)
    tensors = [minidl.tensor(a, requires_grad=True) for a in (q, k, v)]
    m = None if mask is None else minidl.tensor(mask, requires_grad=mask.dtype != np.bool_)
    if m is not None and m.requires_grad:
        # finite differences cannot step an entry of -inf: check the mask's gradient on finite entries
        m = minidl.tensor(np.where(np.isinf(mask), -50.0, mask), requires_grad=True)
    assert gradcheck(lambda q, k, v, m: SDPA(q, k, v, attn_mask=m, **kwargs), (*tensors, m))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sdpa_matches_pytorch(case, dtype):
    torch = _torch()
    (q, k, v), mask, kwargs = _inputs(case, dtype, seed=1)
    ours = [minidl.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = SDPA(*ours, attn_mask=None if mask is None else minidl.tensor(mask), **kwargs)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), **kwargs
    )
    assert out.shape == tuple(ref.shape) and out.dtype == dtype
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), **TOL[dtype])
    upstream = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    (out * minidl.tensor(upstream)).sum().backward()
    (ref * torch.tensor(upstream)).sum().backward()
    for name, a, b in zip("qkv", ours, theirs):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), err_msg=f"d{name}", **TOL[dtype])


def test_fully_masked_row_is_zero_with_zero_gradient_as_pytorch(kernels):
    (q, k, v), mask, _ = _inputs("bool_mask_dead_row", np.float64)
    for m in (mask, np.where(mask, 0.0, -np.inf)):  # bool, and the float mask that says the same
        tensors = [minidl.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = SDPA(*tensors, attn_mask=minidl.tensor(m))
        out.sum().backward()
        assert np.isfinite(_np(out)).all()
        assert (_np(out)[:, 1] == 0).all()  # row 1 attends nothing: 0, not NaN
        assert (_np(tensors[0].grad)[:, 1] == 0).all()
        assert all(np.isfinite(_np(t.grad)).all() for t in tensors)
        torch = pytest.importorskip("torch")
        ref = torch.nn.functional.scaled_dot_product_attention(
            *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(m)
        )
        np.testing.assert_allclose(_np(out), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_the_softmax_runs_on_the_framework_kernels(monkeypatch):
    calls = []
    for name in ("softmax_forward", "softmax_backward"):
        original = getattr(_kernels, name)
        monkeypatch.setattr(_kernels, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    (q, k, v), _, _ = _inputs("plain", np.float32)
    q = minidl.tensor(q, requires_grad=True)
    SDPA(q, minidl.tensor(k), minidl.tensor(v)).sum().backward()
    assert calls == ["softmax_forward", "softmax_backward"]


def test_dropout_drops_weights_from_the_generator_and_scales_the_rest():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 6, 3))
    eye = minidl.tensor(np.eye(6))  # O = P' I: the output is the dropped-out weights themselves
    weights = _np(SDPA(minidl.tensor(q), minidl.tensor(k), eye))
    minidl.manual_seed(7)
    dropped = _np(SDPA(minidl.tensor(q), minidl.tensor(k), eye, dropout_p=0.5))
    kept = dropped != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(dropped[kept], 2 * weights[kept], rtol=1e-12)
    minidl.manual_seed(7)
    again = _np(SDPA(minidl.tensor(q), minidl.tensor(k), eye, dropout_p=0.5))
    np.testing.assert_array_equal(again, dropped)  # the same seed drops the same weights
    assert not _np(SDPA(minidl.tensor(q), minidl.tensor(k), eye, dropout_p=1.0)).any()


def test_sdpa_gradcheck_with_dropout(kernels):
    (q, k, v), _, _ = _inputs("plain", np.float64)

    def attend(q, k, v):
        minidl.manual_seed(5)  # the same dropout mask at every finite-difference step
        return SDPA(q, k, v, dropout_p=0.3)

    assert gradcheck(attend, tuple(minidl.tensor(a, requires_grad=True) for a in (q, k, v)))


def test_sdpa_on_the_fake_gpu_gives_the_cpu_values(fake_gpu):
    (q, k, v), mask, _ = _inputs("bool_mask_dead_row", np.float64)
    cpu = [minidl.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = SDPA(*cpu, attn_mask=minidl.tensor(mask))
    out.sum().backward()
    gpu = [minidl.tensor(a).to("cuda").requires_grad_() for a in (q, k, v)]
    gout = SDPA(*gpu, attn_mask=minidl.tensor(mask).to("cuda"), dropout_p=0.0)
    gout.sum().backward()
    assert gout.device == "cuda:0" and gpu[0].grad.device == "cuda:0"
    np.testing.assert_allclose(_np(gout.to("cpu")), _np(out), rtol=1e-12)
    for a, b in zip(gpu, cpu):
        np.testing.assert_allclose(_np(a.grad.to("cpu")), _np(b.grad), rtol=1e-12, atol=1e-14)
    causal = SDPA(*gpu, is_causal=True, dropout_p=0.5)  # the triangle and the dropout mask on the GPU
    assert causal.device == "cuda:0"


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"attn_mask": np.ones((3, 4), bool)}, ValueError, "attn_mask"),  # (L, S) = (3, 5)
        ({"attn_mask": np.ones((3, 5), np.int64)}, TypeError, "attn_mask"),
        ({"attn_mask": np.ones((3, 5)), "is_causal": True}, ValueError, "is_causal"),
        ({"dropout_p": 1.5}, ValueError, "dropout_p"),
        ({"key": np.ones((2, 5, 3))}, ValueError, "same E"),
        ({"value": np.ones((2, 4, 3))}, ValueError, "same S"),
        ({"key": np.ones((3, 5, 4))}, ValueError, "batch dims"),
        ({"query": np.ones(4)}, ValueError, "query"),
        ({"value": np.ones((2, 5, 3), np.float32)}, TypeError, "dtype"),
    ],
)
def test_sdpa_bad_input_is_a_clear_error(kwargs, error, words):
    args = {"query": np.ones((2, 3, 4)), "key": np.ones((2, 5, 4)), "value": np.ones((2, 5, 3))}
    args.update(kwargs)
    tensors = {n: minidl.tensor(a) if isinstance(a, np.ndarray) else a for n, a in args.items()}
    with pytest.raises(error, match=words):
        SDPA(**tensors)


# -- bmm and baddbmm ----------------------------------------------------------------------------

BADDBMM_INPUTS = [(2, 3, 5), (5,), (3, 1), (2, 1, 5)]


@pytest.mark.parametrize("input_shape", BADDBMM_INPUTS)
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 1.5)])
def test_baddbmm_gradcheck(input_shape, beta, alpha, kernels):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in (input_shape, (2, 3, 4), (2, 4, 5))]
    tensors = tuple(minidl.tensor(a, requires_grad=True) for a in arrays)
    assert gradcheck(lambda i, a, b: minidl.baddbmm(i, a, b, beta=beta, alpha=alpha), tensors)


def test_bmm_gradcheck(kernels):
    rng = np.random.default_rng(5)
    a = minidl.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    b = minidl.tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    assert gradcheck(minidl.bmm, (a, b))
    assert gradcheck(lambda a, b: a.bmm(b.mT.contiguous().mT), (a, b))  # a transposed view


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_shape", BADDBMM_INPUTS)
def test_bmm_and_baddbmm_match_pytorch(input_shape, dtype):
    torch = _torch()
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (input_shape, (2, 3, 4), (2, 4, 5))]
    arrays[0][...] = np.nan if input_shape == (5,) else arrays[0]  # beta = 0 must ignore NaN
    beta = 0 if input_shape == (5,) else 0.5
    ours = [minidl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = minidl.baddbmm(*ours, beta=beta, alpha=1.5) + minidl.bmm(ours[1], ours[2])
    ref = torch.baddbmm(*theirs, beta=beta, alpha=1.5) + torch.bmm(theirs[1], theirs[2])
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), **TOL[dtype])
    upstream = rng.standard_normal(out.shape).astype(dtype)
    (out * minidl.tensor(upstream)).sum().backward()
    (ref * torch.tensor(upstream)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: minidl.bmm(minidl.ones(3, 4), minidl.ones(2, 4, 5)), ValueError, "input must be a 3-d"),
        (
            lambda: minidl.bmm(minidl.ones(2, 3, 4), minidl.ones(3, 4, 5)),
            ValueError,
            r"mat2 of shape \(2, 4, p\)",
        ),
        (lambda: minidl.bmm(minidl.ones(2, 3, 4), minidl.ones(2, 5, 5)), ValueError, "mat2"),
        (
            lambda: minidl.bmm(minidl.ones(2, 3, 4), minidl.ones(2, 4, 5, dtype=minidl.float64)),
            TypeError,
            "mat2 is float64",
        ),
        (
            lambda: minidl.baddbmm(minidl.ones(4, 5), minidl.ones(2, 3, 4), minidl.ones(2, 4, 5)),
            ValueError,
            "input",
        ),
        (
            lambda: minidl.baddbmm(minidl.ones(5), minidl.ones(2, 3, 4), minidl.ones(2, 4, 5), beta="x"),
            TypeError,
            "beta",
        ),
    ],
)
def test_bmm_bad_input_is_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- nn.MultiheadAttention ----------------------------------------------------------------------

E, HEADS, L_Q, L_K, N = 8, 2, 4, 5, 3


def _mha_pair(torch, dtype, **kwargs):
    """A PyTorch MultiheadAttention with random weights (biases too) and ours with its state_dict."""
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, dtype=getattr(torch, np.dtype(dtype).name), **kwargs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-0.5, 0.5)
    ours = nn.MultiheadAttention(E, HEADS, dtype=dtype, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _mha_masks(rng, kind, batched, n_k=L_K):
    """(key_padding_mask, attn_mask) arrays of ``kind``; PyTorch's convention: True = not allowed."""
    padding = rng.random((N, n_k) if batched else (n_k,)) > 0.6
    padding[..., 0] = False
    causal = np.triu(np.ones((L_Q, n_k), bool), 1)
    heads = N * HEADS if batched else HEADS
    return {
        "none": (None, None),
        "padding_bool": (padding, None),
        "padding_float": (np.where(padding, -np.inf, rng.standard_normal(padding.shape)), None),
        "causal_bool_and_padding": (padding, causal),
        "attn_float_3d": (None, rng.standard_normal((heads, L_Q, n_k))),
    }[kind]


MHA_SETTINGS = {
    "seq_first": dict(kwargs={}, self_attention=False),
    "batch_first": dict(kwargs={"batch_first": True}, self_attention=False),
    "self_attention": dict(kwargs={"batch_first": True}, self_attention=True),
    "kdim_vdim": dict(kwargs={"kdim": 6, "vdim": 3}, self_attention=False),
    "no_bias": dict(kwargs={"bias": False}, self_attention=False),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weights", ["none", "averaged", "per_head"])
@pytest.mark.parametrize(
    "masks", ["none", "padding_bool", "padding_float", "causal_bool_and_padding", "attn_float_3d"]
)
@pytest.mark.parametrize("setting", sorted(MHA_SETTINGS))
def test_mha_matches_pytorch(setting, masks, weights, dtype):
    torch = _torch()
    need_weights, average = weights != "none", weights == "averaged"
    kwargs, self_attention = MHA_SETTINGS[setting]["kwargs"], MHA_SETTINGS[setting]["self_attention"]
    ours, theirs = _mha_pair(torch, dtype, **kwargs)
    rng = np.random.default_rng(7)
    bf = kwargs.get("batch_first", False)
    n_k = L_Q if self_attention else L_K

    def shape(length, features):
        return (N, length, features) if bf else (length, N, features)

    if self_attention:
        x = rng.standard_normal(shape(L_Q, E)).astype(dtype)
        arrays = [x]
    else:
        arrays = [
            rng.standard_normal(shape(L_Q, E)).astype(dtype),
            rng.standard_normal(shape(n_k, kwargs.get("kdim", E))).astype(dtype),
            rng.standard_normal(shape(n_k, kwargs.get("vdim", E))).astype(dtype),
        ]
    padding, attn = _mha_masks(rng, masks, batched=True, n_k=n_k)
    md_in = [minidl.tensor(a, requires_grad=True) for a in arrays]
    th_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    md_args, th_args = (md_in * 3, th_in * 3) if self_attention else (md_in, th_in)

    def as_(lib, a):
        return None if a is None else lib.tensor(a.astype(dtype) if a.dtype != np.bool_ else a)

    common = dict(need_weights=need_weights, average_attn_weights=average)
    out, w = ours(*md_args, key_padding_mask=as_(minidl, padding), attn_mask=as_(minidl, attn), **common)
    ref, rw = theirs(*th_args, key_padding_mask=as_(torch, padding), attn_mask=as_(torch, attn), **common)
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), **TOL[dtype])
    assert (w is None) == (rw is None)
    if w is not None:
        assert w.shape == tuple(rw.shape)
        np.testing.assert_allclose(_np(w), rw.detach().numpy(), **TOL[dtype])
    upstream = rng.standard_normal(out.shape).astype(dtype)
    loss = (out * minidl.tensor(upstream)).sum()
    ref_loss = (ref * torch.tensor(upstream)).sum()
    if w is not None:  # the weights' gradients too
        loss = loss + w.sum()
        ref_loss = ref_loss + rw.sum()
    loss.backward()
    ref_loss.backward()
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(_np(p.grad), named[name].grad.numpy(), err_msg=name, **TOL[dtype])
    for a, b in zip(md_in, th_in):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched_matches_pytorch(need_weights):
    torch = _torch()
    ours, theirs = _mha_pair(torch, np.float64)
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal((n, E)) for n in (L_Q, L_K, L_K))
    padding, attn = _mha_masks(rng, "causal_bool_and_padding", batched=False)
    out, w = ours(
        *(minidl.tensor(a) for a in (q, k, v)),
        key_padding_mask=minidl.tensor(padding),
        attn_mask=minidl.tensor(attn),
        need_weights=need_weights,
    )
    ref, rw = theirs(
        *(torch.tensor(a) for a in (q, k, v)),
        key_padding_mask=torch.tensor(padding),
        attn_mask=torch.tensor(attn),
        need_weights=need_weights,
    )
    assert out.shape == (L_Q, E)
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    if need_weights:
        np.testing.assert_allclose(_np(w), rw.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mha_parameters_names_and_init_are_pytorchs():
    minidl.manual_seed(0)
    layer = nn.MultiheadAttention(E, HEADS)
    assert [n for n, _ in layer.named_parameters()] == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    bound = np.sqrt(6 / (E + 3 * E))  # xavier_uniform_ over the (3E, E) matrix
    w = _np(layer.in_proj_weight)
    assert w.shape == (3 * E, E) and np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert not _np(layer.in_proj_bias).any() and not _np(layer.out_proj.bias).any()
    split = nn.MultiheadAttention(E, HEADS, kdim=6, vdim=3, bias=False)
    assert [n for n, _ in split.named_parameters()] == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "out_proj.weight",
    ]
    assert split.in_proj_weight is None and split.k_proj_weight.shape == (E, 6)


def test_mha_fully_masked_row_is_finite_on_both_paths():
    layer = nn.MultiheadAttention(E, HEADS, dtype=np.float64)
    x = minidl.tensor(np.random.default_rng(9).standard_normal((L_Q, N, E)), requires_grad=True)
    attn = np.zeros((L_Q, L_Q), bool)
    attn[1] = True  # query 1 may attend nothing
    for need_weights in (True, False):
        out, w = layer(x, x, x, attn_mask=minidl.tensor(attn), need_weights=need_weights)
        out.sum().backward()
        assert np.isfinite(_np(out)).all() and np.isfinite(_np(x.grad)).all()
        np.testing.assert_allclose(_np(out)[1], np.broadcast_to(_np(layer.out_proj.bias), (N, E)))
        if w is not None:
            assert not _np(w)[:, 1].any()


def test_mha_gradcheck(kernels):
    minidl.manual_seed(1)
    layer = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, batch_first=True, dtype=np.float64)
    rng = np.random.default_rng(10)
    q, k, v = (
        minidl.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (2, 4, 3), (2, 4, 2))
    )
    padding = minidl.tensor(np.array([[False, False, True, False], [False, True, True, False]]))

    def attend(q, k, v, *params):
        return layer(q, k, v, key_padding_mask=padding)[0]

    assert gradcheck(attend, (q, k, v, *layer.parameters()))


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: nn.MultiheadAttention(10, 3), ValueError, "divisible by num_heads"),
        (lambda: nn.MultiheadAttention(8, 2, add_bias_kv=True), NotImplementedError, "add_bias_kv"),
    ],
)
def test_mha_bad_construction(make, error, words):
    with pytest.raises(error, match=words):
        make()


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda m, x: m(minidl.ones(4, 3, 6), x, x), ValueError, "query of embedding size 8"),
        (
            lambda m, x: m(x, minidl.ones(5, 3, 7), minidl.ones(5, 3, 7)),
            ValueError,
            "key of embedding size 8",
        ),
        (lambda m, x: m(x, x, x, attn_mask=minidl.ones(3, 4, dtype=minidl.bool)), ValueError, "attn_mask"),
        (
            lambda m, x: m(x, x, x, key_padding_mask=minidl.ones(4, 3, dtype=minidl.bool)),
            ValueError,
            "key_padding_mask",
        ),
        (
            lambda m, x: m(x, x, x, key_padding_mask=minidl.ones(3, 4, dtype=minidl.int64)),
            TypeError,
            "key_padding_mask",
        ),
        (lambda m, x: m(x, x, x, attn_mask=minidl.ones(4, 4, dtype=minidl.int32)), TypeError, "attn_mask"),
        (lambda m, x: m(x, x, x, is_causal=True), ValueError, "is_causal"),
        (lambda m, x: m(x.double(), x.double(), x.double()), TypeError, "dtype"),
        (lambda m, x: m(minidl.ones(4, 2, 8), x, x), ValueError, "batch sizes"),
    ],
)
def test_mha_bad_input_is_a_clear_error(call, error, words):
    layer = nn.MultiheadAttention(E, HEADS)
    with pytest.raises(error, match=words):
        call(layer, minidl.ones(4, 3, E))


def test_mha_on_the_fake_gpu_gives_the_cpu_values(fake_gpu):
    layer = nn.MultiheadAttention(E, HEADS, dtype=np.float64)
    x = np.random.default_rng(11).standard_normal((L_Q, N, E))
    padding = np.zeros((N, L_Q), bool)
    padding[:, -1] = True
    out, w = layer(*[minidl.tensor(x)] * 3, key_padding_mask=minidl.tensor(padding))
    layer.to("cuda")
    gx = minidl.tensor(x).to("cuda")
    gout, gw = layer(gx, gx, gx, key_padding_mask=minidl.tensor(padding).to("cuda"))
    assert gout.device == "cuda:0"
    np.testing.assert_allclose(_np(gout.to("cpu")), _np(out), rtol=1e-12)
    np.testing.assert_allclose(_np(gw.to("cpu")), _np(w), rtol=1e-12)
