"""nn.RNN, nn.LSTM, nn.GRU and their cells: gradients (float64 gradcheck through the real path, on
the native and the reference kernels), agreement with PyTorch on weights copied by state_dict, the
parameter layout, dropout between layers, the fake-GPU path, and the errors for bad input."""

import math
import warnings

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import gradcheck

from fake_gpu import fake_gpu  # noqa: F401  (fixture)

LAYERS = {"RNN": {}, "RNN_relu": {"nonlinearity": "relu"}, "LSTM": {}, "GRU": {}}
CELLS = {"RNNCell": {}, "RNNCell_relu": {"nonlinearity": "relu"}, "LSTMCell": {}, "GRUCell": {}}


def _class(lib, name):
    return getattr(lib.nn, name.split("_")[0])


def _tensor(array, requires_grad=False):
    return minidl.tensor(array, requires_grad=requires_grad)


def _np(t):
    return t.detach().numpy()


def _flat(result):
    """(output, h_n) or (output, (h_n, c_n)) or a cell's h / (h, c) as a flat tuple of tensors."""
    if not isinstance(result, tuple):
        return (result,)
    return tuple(t for item in result for t in (item if isinstance(item, tuple) else (item,)))


def _states(name, rng, shape, requires_grad=True):
    """The initial state argument: h0, or (h0, c0) for an LSTM."""
    h = _tensor(rng.standard_normal(shape), requires_grad)
    if "LSTM" not in name:
        return h
    return h, _tensor(rng.standard_normal(shape), requires_grad)


# ---------------------------------------------------------------------------------------------
# float64 gradcheck through the real path


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradcheck(kernels, name):
    rng = np.random.default_rng(0)
    layer = _class(minidl, name)(2, 3, num_layers=2, bidirectional=True, dtype=minidl.float64, **LAYERS[name])
    x = _tensor(rng.standard_normal((3, 2, 2)), True)
    hx = _states(name, rng, (4, 2, 3))
    states = hx if isinstance(hx, tuple) else (hx,)
    params = tuple(layer.parameters())
    k = len(states)

    def run(x, *rest):
        state = rest[:k] if k == 2 else rest[0]
        return _flat(layer(x, state))

    assert gradcheck(run, (x, *states, *params))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_layer_gradcheck_batch_first_without_state_or_bias(kernels, name):
    rng = np.random.default_rng(1)
    layer = _class(minidl, name)(2, 2, bias=False, batch_first=True, dtype=minidl.float64)
    x = _tensor(rng.standard_normal((2, 4, 2)), True)
    assert gradcheck(lambda x, *p: _flat(layer(x)), (x, *layer.parameters()))


@pytest.mark.parametrize("name", CELLS)
def test_cell_gradcheck(kernels, name):
    rng = np.random.default_rng(2)
    cell = _class(minidl, name)(2, 3, dtype=minidl.float64, **CELLS[name])
    x = _tensor(rng.standard_normal((2, 2)), True)
    hx = _states(name, rng, (2, 3))
    states = hx if isinstance(hx, tuple) else (hx,)
    k = len(states)

    def run(x, *rest):
        return _flat(cell(x, rest[:k] if k == 2 else rest[0]))

    assert gradcheck(run, (x, *states, *cell.parameters()))


def test_second_derivative_is_a_clear_error():
    layer = nn.LSTM(2, 2, dtype=minidl.float64)
    x = _tensor(np.ones((2, 1, 2)), True)
    with pytest.raises(RuntimeError, match="second derivatives"):
        minidl.autograd.grad(layer(x)[0].sum(), x, create_graph=True)


# ---------------------------------------------------------------------------------------------
# Parameters


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_parameter_names_shapes_and_init(name):
    torch = pytest.importorskip("torch")
    ours = _class(minidl, name)(5, 4, num_layers=2, bidirectional=True)
    theirs = _class(torch, name)(5, 4, num_layers=2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    bound = 1 / math.sqrt(4)
    for p in ours.parameters():
        values = _np(p)
        assert np.all(np.abs(values) <= bound) and values.std() > bound / 4


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_parameter_names_and_shapes(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _class(minidl, name)(5, 4, bias=False), _class(torch, name)(5, 4, bias=False)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert ours.bias_ih is None and len(list(ours.parameters())) == 2


# ---------------------------------------------------------------------------------------------
# Against PyTorch, weights copied by state_dict

CONFIGS = [
    # batch_first, bidirectional, num_layers, initial state, unbatched
    (False, False, 1, False, False),
    (True, False, 2, True, False),
    (False, True, 2, True, False),
    (True, True, 2, False, False),
    (False, True, 2, True, True),
]
TOLERANCE = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _compare(torch, ours, theirs, out, tout, leaves, tleaves, dtype):
    tol = TOLERANCE[dtype]
    outs, touts = _flat(out), _flat(tout)
    assert len(outs) == len(touts)
    for a, b in zip(outs, touts):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(a), b.detach().numpy(), **tol)
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal(tuple(a.shape)).astype(dtype) for a in outs]
    sum(
        ((a * _tensor(w)).sum() for a, w in zip(outs, weights)), start=_tensor(np.zeros((), dtype))
    ).backward()
    sum((b * torch.from_numpy(w)).sum() for b, w in zip(touts, weights)).backward()
    for a, b in zip(leaves, tleaves):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), **tol)
    for key, p in theirs.named_parameters():
        np.testing.assert_allclose(_np(getattr(ours, key).grad), p.grad.numpy(), **tol, err_msg=key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "bf{}-bi{}-L{}-h0{}-unb{}".format(*c))
@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_pytorch(name, config, dtype):
    torch = pytest.importorskip("torch")
    batch_first, bidirectional, num_layers, with_state, unbatched = config
    kwargs = dict(num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional, **LAYERS[name])
    torch.manual_seed(0)
    theirs = _class(torch, name)(3, 4, **kwargs).to(getattr(torch, dtype))
    ours = _class(minidl, name)(3, 4, dtype=dtype, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    shape = (5, 3) if unbatched else ((2, 5, 3) if batch_first else (5, 2, 3))
    x = rng.standard_normal(shape).astype(dtype)
    leaves, tleaves = [_tensor(x, True)], [torch.from_numpy(x).requires_grad_()]
    args, targs = [], []
    if with_state:
        d = 2 if bidirectional else 1
        state_shape = (num_layers * d, 4) if unbatched else (num_layers * d, 2, 4)
        states = [rng.standard_normal(state_shape).astype(dtype) for _ in range(2 if name == "LSTM" else 1)]
        leaves += [_tensor(s, True) for s in states]
        tleaves += [torch.from_numpy(s).requires_grad_() for s in states]
        args = [tuple(leaves[1:])] if name == "LSTM" else [leaves[1]]
        targs = [tuple(tleaves[1:])] if name == "LSTM" else [tleaves[1]]
    _compare(torch, ours, theirs, ours(leaves[0], *args), theirs(tleaves[0], *targs), leaves, tleaves, dtype)


@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("name", CELLS)
def test_cell_matches_pytorch(name, unbatched):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    theirs = _class(torch, name)(3, 4, **CELLS[name]).double()
    ours = _class(minidl, name)(3, 4, dtype=minidl.float64, **CELLS[name])
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(4)
    shape, state_shape = ((3,), (4,)) if unbatched else ((2, 3), (2, 4))
    arrays = [rng.standard_normal(shape)] + [
        rng.standard_normal(state_shape) for _ in range(2 if "LSTM" in name else 1)
    ]
    leaves = [_tensor(a, True) for a in arrays]
    tleaves = [torch.from_numpy(a).requires_grad_() for a in arrays]
    hx = tuple(leaves[1:]) if "LSTM" in name else leaves[1]
    thx = tuple(tleaves[1:]) if "LSTM" in name else tleaves[1]
    _compare(torch, ours, theirs, ours(leaves[0], hx), theirs(tleaves[0], thx), leaves, tleaves, "float64")
    # without a state: zeros, as PyTorch
    np.testing.assert_allclose(
        _np(_flat(ours(leaves[0]))[0]), _flat(theirs(tleaves[0]))[0].detach().numpy(), rtol=1e-10
    )


# ---------------------------------------------------------------------------------------------
# Dropout between layers


def test_dropout_sits_between_layers_in_training_only():
    minidl.manual_seed(0)
    layer = nn.GRU(3, 4, num_layers=2, dropout=1.0)
    rng = np.random.default_rng(5)
    a, b = (_tensor(rng.standard_normal((4, 2, 3)).astype(np.float32)) for _ in range(2))
    # p = 1 zeroes the first layer's output: the second layer sees zeros whatever the input ...
    out_a, h_a = layer(a)
    out_b, _ = layer(b)
    np.testing.assert_array_equal(_np(out_a), _np(out_b))
    assert np.abs(_np(out_a)).max() > 0  # ... and its own output is not dropped
    assert not np.array_equal(_np(h_a[0]), _np(layer(b)[1][0]))  # the first layer's h_n is its own
    layer.eval()
    assert not np.array_equal(_np(layer(a)[0]), _np(layer(b)[0]))


def test_dropout_with_one_layer_warns_as_pytorch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.5)


# ---------------------------------------------------------------------------------------------
# The CuPy path (on the fake GPU of tests/fake_cupy.py)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_layer_runs_on_the_fake_gpu_with_the_cpu_values(fake_gpu, name):
    minidl.manual_seed(2)
    layer = _class(minidl, name)(
        3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=minidl.float64
    )
    x = np.random.default_rng(6).standard_normal((2, 5, 3))
    cpu_x = _tensor(x, True)
    cpu_out = _flat(layer(cpu_x))
    sum(t.sum() for t in cpu_out).backward()
    cpu_grads = [_np(p.grad) for p in layer.parameters()]
    layer.zero_grad()
    layer.to("cuda")
    gpu_x = _tensor(x).to("cuda").requires_grad_()
    gpu_out = _flat(layer(gpu_x))
    sum(t.sum() for t in gpu_out).backward()
    assert all(t.device == "cuda:0" for t in gpu_out)
    for a, b in zip(gpu_out, cpu_out):
        np.testing.assert_allclose(a.detach().cpu().numpy(), _np(b), rtol=1e-12, atol=1e-12)
    for p, g in zip(layer.parameters(), cpu_grads):
        np.testing.assert_allclose(p.grad.cpu().numpy(), g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gpu_x.grad.cpu().numpy(), _np(cpu_x.grad), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad input


def test_constructor_errors_name_the_argument():
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="input_size"):
        nn.GRU(-1, 4)
    with pytest.raises(ValueError, match="num_layers"):
        nn.RNN(3, 4, num_layers=0)
    for p in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="dropout"):
            nn.LSTM(3, 4, num_layers=2, dropout=p)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTMCell(3, 0)


def test_forward_errors_name_the_argument():
    lstm, gru = nn.LSTM(3, 4, num_layers=2), nn.GRU(3, 4, batch_first=True)
    x = minidl.zeros(5, 2, 3)
    with pytest.raises(ValueError, match="input_size=3"):
        lstm(minidl.zeros(5, 2, 6))
    with pytest.raises(ValueError, match="4-d"):
        lstm(minidl.zeros(5, 2, 3, 1))
    with pytest.raises(ValueError, match=r"h0 of shape \(2, 2, 4\)"):
        lstm(x, (minidl.zeros(1, 2, 4), minidl.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match=r"c0 of shape \(2, 2, 4\)"):
        lstm(x, (minidl.zeros(2, 2, 4), minidl.zeros(2, 3, 4)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h0, c0\)"):
        lstm(x, minidl.zeros(2, 2, 4))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h0, c0\)"):
        lstm(x, (minidl.zeros(2, 2, 4),))
    with pytest.raises(ValueError, match=r"hx of shape \(1, 5, 4\)"):  # batch_first: N is dim 0
        gru(x, minidl.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="hx must be one Tensor"):
        gru(x, (minidl.zeros(1, 5, 4),))
    with pytest.raises(ValueError, match=r"hx of shape \(1, 4\)"):  # unbatched input, batched state
        gru(minidl.zeros(5, 3), minidl.zeros(1, 1, 4))
    with pytest.raises(TypeError, match="float64 input"):
        gru(minidl.zeros(5, 2, 3, dtype=minidl.float64))
    with pytest.raises(TypeError, match="floating-point"):
        gru(minidl.zeros(5, 2, 3, dtype=minidl.int64))
    with pytest.raises(TypeError, match="Tensor"):
        gru(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(ValueError, match="length >= 1"):
        lstm(minidl.zeros(0, 2, 3))


def test_cell_forward_errors_name_the_argument():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"input \(N, 3\)"):
        cell(minidl.zeros(2, 5))
    with pytest.raises(ValueError, match=r"h of shape \(2, 4\)"):
        cell(minidl.zeros(2, 3), (minidl.zeros(3, 4), minidl.zeros(2, 4)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h, c\)"):
        cell(minidl.zeros(2, 3), minidl.zeros(2, 4))
    with pytest.raises(ValueError, match=r"hx of shape \(4,\)"):
        nn.GRUCell(3, 4)(minidl.zeros(3), minidl.zeros(1, 4))
