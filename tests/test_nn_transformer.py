"""nn.TransformerEncoderLayer and nn.TransformerEncoder: PyTorch's state_dict loads and gives the same
outputs and parameter gradients (eval mode, both layouts, both norm placements, relu and gelu, the
masks), float64 gradcheck through the real path, dropout in training, deep copies, the errors."""

import copy

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import gradcheck

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}
D, HEADS, FF, L, N = 8, 2, 16, 5, 3


def _np(t):
    return t.detach().numpy()


def _pair(torch, dtype, num_layers, final_norm, **kwargs):
    """PyTorch's encoder with random weights (norms too) and ours loaded from its state_dict."""
    torch.manual_seed(0)
    tdtype = getattr(torch, np.dtype(dtype).name)
    layer = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dtype=tdtype, **kwargs)
    norm = torch.nn.LayerNorm(D, dtype=tdtype) if final_norm else None
    theirs = torch.nn.TransformerEncoder(layer, num_layers, norm=norm, enable_nested_tensor=False)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))  # biases and norms away from their 0 / 1 init
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, HEADS, FF, dtype=dtype, **kwargs),
        num_layers,
        norm=nn.LayerNorm(D, dtype=dtype) if final_norm else None,
    )
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "both"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(batch_first=True, norm_first=True, activation="gelu"),
        dict(batch_first=True, activation="gelu"),
        dict(norm_first=True, activation="relu", bias=False),
    ],
    ids=["post_relu", "pre_gelu_bf", "post_gelu_bf", "pre_relu_nobias"],
)
def test_encoder_matches_pytorch(kwargs, masks, dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, dtype, num_layers=2, final_norm=True, **kwargs)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, L, D) if kwargs.get("batch_first") else (L, N, D)).astype(dtype)
    md_kw, th_kw = {}, {}
    if masks in ("causal", "both"):
        causal = np.triu(np.ones((L, L), bool), 1)
        md_kw.update(mask=minidl.tensor(causal), is_causal=True)
        th_kw.update(mask=torch.tensor(causal), is_causal=True)
    if masks in ("padding", "both"):
        padding = rng.random((N, L)) > 0.6
        padding[:, 0] = False
        md_kw["src_key_padding_mask"] = minidl.tensor(padding)
        th_kw["src_key_padding_mask"] = torch.tensor(padding)
    mx, tx = minidl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(mx, **md_kw), theirs(tx, **th_kw)
    np.testing.assert_allclose(_np(out), ref.detach().numpy(), **TOL[dtype])
    upstream = rng.standard_normal(out.shape).astype(dtype)
    (out * minidl.tensor(upstream)).sum().backward()
    (ref * torch.tensor(upstream)).sum().backward()
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(_np(p.grad), named[name].grad.numpy(), err_msg=name, **TOL[dtype])
    np.testing.assert_allclose(_np(mx.grad), tx.grad.numpy(), **TOL[dtype])


def test_unbatched_layer_and_callable_activation_match_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(
        D, HEADS, FF, activation=torch.nn.GELU(approximate="tanh"), dtype=torch.float64
    ).eval()
    ours = nn.TransformerEncoderLayer(D, HEADS, FF, activation=nn.GELU(approximate="tanh"), dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((L, D))
    out = ours.eval()(minidl.tensor(x))
    assert out.shape == (L, D)
    np.testing.assert_allclose(_np(out), theirs(torch.tensor(x)).detach().numpy(), **TOL[np.float64])


def test_submodule_names_are_pytorchs():
    layer = nn.TransformerEncoderLayer(D, HEADS, FF)
    names = [n for n, _ in layer.named_children()]
    assert names == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    encoder = nn.TransformerEncoder(layer, 3)
    assert "layers.2.self_attn.in_proj_weight" in encoder.state_dict()


def test_encoder_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(D, HEADS, FF)
    encoder = nn.TransformerEncoder(layer, 2)
    a, b = encoder.layers[0], encoder.layers[1]
    assert a is not layer and a is not b
    assert a.linear1.weight is not b.linear1.weight
    np.testing.assert_array_equal(_np(a.linear1.weight), _np(layer.linear1.weight))  # copies of it
    a.linear1.weight.data[...] = 0
    assert _np(b.linear1.weight).any() and _np(layer.linear1.weight).any()
    clone = copy.deepcopy(encoder)
    assert clone.layers[1].self_attn.in_proj_weight is not b.self_attn.in_proj_weight


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradcheck(norm_first, kernels):
    minidl.manual_seed(3)
    layer = nn.TransformerEncoderLayer(
        4, 2, 6, dropout=0.0, activation="gelu", norm_first=norm_first, batch_first=True, dtype=np.float64
    )
    x = minidl.tensor(np.random.default_rng(4).standard_normal((2, 3, 4)), requires_grad=True)
    causal = minidl.tensor(np.triu(np.ones((3, 3), bool), 1))

    def encode(x, *params):
        return layer(x, src_mask=causal)

    assert gradcheck(encode, (x, *layer.parameters()))


def test_dropout_is_active_in_training_and_off_in_eval():
    minidl.manual_seed(5)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.5, dtype=np.float64)
    x = minidl.tensor(np.random.default_rng(6).standard_normal((L, N, D)))
    first, second = _np(layer(x)), _np(layer(x))
    assert not np.allclose(first, second)  # two draws of the dropout masks
    layer.eval()
    np.testing.assert_array_equal(_np(layer(x)), _np(layer(x)))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: nn.TransformerEncoderLayer(10, 3), ValueError, "divisible by num_heads"),
        (lambda: nn.TransformerEncoderLayer(D, HEADS, activation="tanh"), ValueError, "activation"),
        (lambda: nn.TransformerEncoderLayer(D, HEADS, activation=3), TypeError, "activation"),
        (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS), 0), ValueError, "num_layers"),
        (lambda: nn.TransformerEncoder("layer", 2), TypeError, "encoder_layer"),
        (
            lambda: nn.TransformerEncoderLayer(D, HEADS)(minidl.ones(L, N, D + 1)),
            ValueError,
            "embedding size",
        ),
        (
            lambda: nn.TransformerEncoderLayer(D, HEADS)(
                minidl.ones(L, N, D), src_mask=minidl.ones(L, L + 1)
            ),
            ValueError,
            "attn_mask",
        ),
    ],
)
def test_bad_input_is_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()
