"""minidl.nn.init: gains and fans exactly; the random fills statistically, on large tensors with
loose but meaningful bounds; and the layers' default initialisation (PyTorch's)."""

import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.nn import init

# 400 x 500 = 200,000 draws: a sample std is within ~0.2% of the true one (1 standard error
# ~ 1/sqrt(2n)); the bounds below allow 2%, which a wrong formula (a factor sqrt(2), sqrt(3),
# fan_in vs fan_out) misses by far.
ROWS, COLS = 400, 500


def _big(*shape):
    return minidl.empty(*(shape or (ROWS, COLS)), dtype=minidl.float64)


def _np(t):
    return t.detach().numpy()


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(minidl.empty(3, 4)) == (4, 3)  # Linear(4, 3): (out, in)
    # Conv2d weight (out=6, in/groups=4, 3, 5): each output sees 4*3*5 inputs, each input feeds 6*3*5
    assert init._calculate_fan_in_and_fan_out(minidl.empty(6, 4, 3, 5)) == (60, 90)
    assert init._calculate_fan_in_and_fan_out(minidl.empty(2, 3, 7)) == (21, 14)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(minidl.empty(5))


def test_uniform_and_normal_statistics():
    u = _np(init.uniform_(_big(), -2.0, 4.0))
    assert u.min() >= -2.0 and u.max() < 4.0
    assert abs(u.mean() - 1.0) < 0.02 and abs(u.std() - 6 / math.sqrt(12)) < 0.02 * 6 / math.sqrt(12)
    n = _np(init.normal_(_big(), mean=3.0, std=0.5))
    assert abs(n.mean() - 3.0) < 0.01 and abs(n.std() - 0.5) < 0.01
    with pytest.raises(ValueError):
        init.uniform_(_big(2, 2), 1.0, 0.0)


def test_constant_zeros_ones():
    t = _big(3, 4)
    assert init.constant_(t, 2.5) is t and t.tolist() == [[2.5] * 4] * 3
    assert init.zeros_(t).tolist() == [[0.0] * 4] * 3
    assert init.ones_(t).tolist() == [[1.0] * 4] * 3


@pytest.mark.parametrize("mode,fan", [("fan_in", COLS), ("fan_out", ROWS)])
def test_kaiming_uniform_bound(mode, fan):
    w = _np(init.kaiming_uniform_(_big(), mode=mode, nonlinearity="relu"))
    bound = math.sqrt(2) * math.sqrt(3 / fan)  # gain * sqrt(3 / fan)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # the samples reach the bound: it is not smaller either
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound / math.sqrt(3)


def test_kaiming_uniform_default_is_leaky_relu_with_a_zero():
    # PyTorch's defaults: a=0, nonlinearity='leaky_relu' -> gain sqrt(2 / (1 + 0)) = sqrt(2)
    w = _np(init.kaiming_uniform_(_big()))
    assert abs(np.abs(w).max() - math.sqrt(6 / COLS)) < 0.01 * math.sqrt(6 / COLS)


@pytest.mark.parametrize("mode,fan", [("fan_in", COLS), ("fan_out", ROWS)])
def test_kaiming_normal_std(mode, fan):
    w = _np(init.kaiming_normal_(_big(), mode=mode, nonlinearity="relu"))
    std = math.sqrt(2 / fan)
    assert abs(w.std() - std) < 0.02 * std and abs(w.mean()) < 0.02 * std


def test_xavier_uniform_and_normal():
    w = _np(init.xavier_uniform_(_big(), gain=2.0))
    bound = 2.0 * math.sqrt(6 / (ROWS + COLS))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = _np(init.xavier_normal_(_big(), gain=init.calculate_gain("tanh")))
    std = 5 / 3 * math.sqrt(2 / (ROWS + COLS))
    assert abs(w.std() - std) < 0.02 * std


def test_xavier_uses_the_receptive_field():
    # (out=200, in=100, 5, 2): fan_in 100*10 = 1000, fan_out 200*10 = 2000 -> std sqrt(2/3000)
    w = _np(init.xavier_normal_(_big(200, 100, 5, 2)))
    std = math.sqrt(2 / 3000)
    assert abs(w.std() - std) < 0.02 * std


def test_init_is_in_place_on_parameters_and_outside_the_graph():
    p = nn.Parameter(minidl.zeros(30, 20))
    data = p.data
    assert init.kaiming_normal_(p) is p
    assert p.data is data and p.requires_grad and p.grad_fn is None and p.dtype == minidl.float32
    assert float(abs(p).sum()) > 0


def test_init_is_repeatable_with_a_seed():
    minidl.manual_seed(3)
    a = _np(nn.Linear(5, 4).weight).copy()
    minidl.manual_seed(3)
    b = _np(nn.Linear(5, 4).weight)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# The layers' defaults


def test_linear_default_init_is_uniform_one_over_sqrt_fan_in():
    lin = nn.Linear(400, 500)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_ with a = sqrt(5): sqrt(1/3) * sqrt(3/400)
    w, b = _np(lin.weight), _np(lin.bias)
    assert w.shape == (500, 400) and np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound / math.sqrt(3)
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound


def test_conv_default_init_uses_fan_in_with_kernel_and_groups():
    conv = nn.Conv2d(32, 400, (3, 5), groups=4)
    fan_in = 32 // 4 * 3 * 5  # 120
    bound = 1 / math.sqrt(fan_in)
    w, b = _np(conv.weight), _np(conv.bias)
    assert w.shape == (400, 8, 3, 5)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound / math.sqrt(3)
    assert np.abs(b).max() <= bound
    conv1 = nn.Conv1d(10, 4, 7)
    assert np.abs(_np(conv1.weight)).max() <= 1 / math.sqrt(70)


def test_embedding_and_norm_defaults():
    e = _np(nn.Embedding(1000, 200).weight)
    assert abs(e.mean()) < 0.01 and abs(e.std() - 1) < 0.01
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert int(bn.num_batches_tracked.item()) == 0 and bn.num_batches_tracked.dtype == minidl.int64
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.tolist() == [[1.0] * 3] * 2 and ln.bias.tolist() == [[0.0] * 3] * 2


def test_layers_take_dtype():
    assert nn.Linear(2, 3, dtype=minidl.float64).weight.dtype == minidl.float64
    assert nn.Conv2d(1, 2, 3, dtype=minidl.float64).bias.dtype == minidl.float64
    assert nn.BatchNorm1d(2, dtype=minidl.float64).running_var.dtype == minidl.float64
