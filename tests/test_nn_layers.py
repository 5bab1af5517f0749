"""Every layer of minidl.nn: forward against values worked out here by hand (or by a direct NumPy
formula written in this file), a float64 gradcheck through the layer's input and parameters, and a
clear error for bad input. A last section compares with PyTorch when it is installed."""

import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import gradcheck


def _t(values, dtype=minidl.float64, requires_grad=False):
    return minidl.tensor(values, dtype=dtype, requires_grad=requires_grad)


def _set(param, values):
    """Overwrite a parameter's values (as a test fixture would), outside the graph."""
    with minidl.no_grad():
        param.copy_(np.asarray(values, dtype=param.dtype))


def _np(t):
    return t.detach().numpy()


def check_layer(layer, *inputs):
    """gradcheck of ``layer`` w.r.t. its float inputs and all its parameters, in float64.

    The parameters are passed to gradcheck as extra inputs: it perturbs their arrays in place, and
    the layer reads them from there."""
    params = tuple(layer.parameters())
    n = len(inputs)
    assert gradcheck(lambda *args: layer(*args[:n]), inputs + params)


def _randn(*shape, requires_grad=True):
    return _t(np.random.default_rng(sum(shape)).standard_normal(shape), requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# Linear


def test_linear_forward_by_hand():
    lin = nn.Linear(2, 3).double()
    _set(lin.weight, [[1, 2], [3, 4], [5, 6]])
    _set(lin.bias, [0.5, -0.5, 1])
    # y_j = W_j . x + b_j with x = (1, -1): 1-2+0.5, 3-4-0.5, 5-6+1
    assert lin(_t([[1, -1]])).tolist() == [[-0.5, -1.5, 0.0]]
    # leading dims are batch dims; a 1-d input is one sample
    y = lin(_t([[[1, -1], [0, 1]]]))
    assert y.shape == (1, 2, 3) and y.tolist() == [[[-0.5, -1.5, 0.0], [2.5, 3.5, 7.0]]]
    assert lin(_t([0, 1])).tolist() == [2.5, 3.5, 7.0]


def test_linear_without_bias():
    lin = nn.Linear(2, 1, bias=False).double()
    _set(lin.weight, [[2, 3]])
    assert lin.bias is None and len(list(lin.parameters())) == 1
    assert lin(_t([[1, 1]])).tolist() == [[5.0]]


def test_linear_gradcheck():
    check_layer(nn.Linear(3, 2).double(), _randn(4, 3))


def test_linear_gradients_by_hand():
    lin = nn.Linear(2, 1).double()
    _set(lin.weight, [[2, 3]])
    x = _t([[1, 4], [2, 5]], requires_grad=True)
    lin(x).sum().backward()
    # d(sum y)/dW = sum over samples of x; d/db = the number of samples; d/dx = W for each sample
    assert lin.weight.grad.tolist() == [[3.0, 9.0]]
    assert lin.bias.grad.tolist() == [2.0]
    assert x.grad.tolist() == [[2.0, 3.0], [2.0, 3.0]]


def test_linear_bad_input_names_layer_and_shapes():
    lin = nn.Linear(784, 10)
    with pytest.raises(ValueError) as err:
        lin(minidl.zeros(32, 40))
    assert (
        str(err.value) == "Linear(in_features=784, out_features=10) expected input (..., 784), got (32, 40)"
    )
    with pytest.raises(ValueError, match="got \\(\\)"):
        lin(minidl.tensor(1.0))
    with pytest.raises(
        TypeError,
        match="Linear\\(in_features=784, .* has float32 parameters but got a "
        "float64 input \\(2, 784\\); .*x.to\\(minidl.float32\\)",
    ):
        lin(minidl.zeros(2, 784, dtype=minidl.float64))
    with pytest.raises(TypeError, match="expected a floating-point input, got int64"):
        lin(minidl.zeros(2, 784, dtype=minidl.int64))


# ---------------------------------------------------------------------------------------------
# Convolutions: an independent NumPy formula (direct loops over the output positions)


def conv2d_loops(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation by its definition: out[n, o, i, j] = b[o] + sum over the group's input
    channels c and kernel offsets (p, q) of x_padded[n, c, i*s + p*d, j*s + q*d] * w[o, c', p, q]."""
    n, c_in, h, wd = x.shape
    c_out, c_per, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c_in, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c_out, oh, ow))
    per_group_out = c_out // groups
    for o in range(c_out):
        g = o // per_group_out
        for i in range(oh):
            for j in range(ow):
                patch = xp[
                    :,
                    g * c_per : (g + 1) * c_per,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                ]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3)) + (b[o] if b is not None else 0)
    return out


def test_conv2d_forward_by_hand():
    conv = nn.Conv2d(1, 1, 2).double()
    _set(conv.weight, [[[[1, 0], [0, -1]]]])
    _set(conv.bias, [10])
    x = _t([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    # out[i, j] = x[i, j] - x[i+1, j+1] + 10 = -4 + 10 everywhere
    assert conv(x).tolist() == [[[[6.0, 6.0], [6.0, 6.0]]]]
    # unbatched (C, H, W) input gives (C_out, OH, OW)
    assert conv(x[0]).tolist() == [[[6.0, 6.0], [6.0, 6.0]]]


@pytest.mark.parametrize(
    "stride,padding,dilation,groups",
    [
        ((1, 1), (0, 0), (1, 1), 1),
        ((2, 1), (1, 2), (1, 1), 1),
        ((1, 2), (1, 1), (2, 1), 2),
    ],
)
def test_conv2d_matches_the_definition(stride, padding, dilation, groups):
    conv = nn.Conv2d(4, 6, (3, 2), stride=stride, padding=padding, dilation=dilation, groups=groups).double()
    x = np.random.default_rng(1).standard_normal((2, 4, 7, 6))
    expected = conv2d_loops(x, _np(conv.weight), _np(conv.bias), stride, padding, dilation, groups)
    np.testing.assert_allclose(_np(conv(_t(x))), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_weight_shape_and_same_padding():
    conv = nn.Conv2d(4, 6, 3, groups=2, padding="same", bias=False)
    assert conv.weight.shape == (6, 2, 3, 3) and conv.bias is None
    assert conv(minidl.randn(1, 4, 5, 7)).shape == (1, 6, 5, 7)


def test_conv2d_gradcheck(kernels):
    check_layer(nn.Conv2d(2, 4, 2, stride=2, padding=1, groups=2).double(), _randn(2, 2, 3, 3))


def test_conv1d_forward_by_hand():
    conv = nn.Conv1d(1, 1, 2, padding=1).double()
    _set(conv.weight, [[[1, -1]]])
    _set(conv.bias, [0])
    # padded x = (0, 1, 2, 3, 4, 0); out[i] = xp[i] - xp[i+1]
    assert conv(_t([[[1, 2, 3, 4]]])).tolist() == [[[-1.0, -1.0, -1.0, -1.0, 4.0]]]


def test_conv1d_matches_the_definition():
    conv = nn.Conv1d(4, 2, 3, stride=2, padding=1, dilation=2, groups=2).double()
    x = np.random.default_rng(2).standard_normal((3, 4, 9))
    expected = conv2d_loops(
        x[:, :, None, :], _np(conv.weight)[:, :, None, :], _np(conv.bias), (1, 2), (0, 1), (1, 2), 2
    )[:, :, 0, :]
    np.testing.assert_allclose(_np(conv(_t(x))), expected, rtol=1e-12, atol=1e-12)


def test_conv1d_gradcheck(kernels):
    check_layer(nn.Conv1d(2, 3, 3, padding=1).double(), _randn(2, 2, 5))


def test_conv_bad_input_names_layer_and_shapes():
    conv = nn.Conv2d(3, 16, 3)
    with pytest.raises(ValueError) as err:
        conv(minidl.zeros(8, 4, 32, 32))
    assert str(err.value) == (
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)) expected input "
        "(N, 3, H, W) or (3, H, W), got (8, 4, 32, 32)"
    )
    with pytest.raises(ValueError, match="expected input \\(N, 3, H, W\\).*got \\(3, 32\\)"):
        conv(minidl.zeros(3, 32))
    with pytest.raises(
        ValueError, match="Conv1d\\(2, 1, .*expected input \\(N, 2, L\\) or \\(2, L\\), got \\(1, 3, 5\\)"
    ):
        nn.Conv1d(2, 1, 3)(minidl.zeros(1, 3, 5))
    with pytest.raises(TypeError, match="floating-point"):
        conv(minidl.zeros(1, 3, 4, 4, dtype=minidl.int64))
    with pytest.raises(TypeError, match="Conv2d\\(3, 16, .* has float32 parameters but got a float64 input"):
        conv(minidl.zeros(1, 3, 4, 4, dtype=minidl.float64))


def test_conv_bad_construction():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")


# ---------------------------------------------------------------------------------------------
# Pooling

GRID = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]


def test_max_pool2d_by_hand():
    x = _t([[GRID]])
    assert nn.MaxPool2d(2)(x).tolist() == [[[[6.0, 8.0], [14.0, 16.0]]]]
    assert nn.MaxPool2d(3, stride=1)(x).tolist() == [[[[11.0, 12.0], [15.0, 16.0]]]]
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    assert indices.tolist() == [[[[5, 7], [13, 15]]]]


def test_avg_pool2d_by_hand():
    x = _t([[GRID]])
    # window means: (1+2+5+6)/4 = 3.5, (3+4+7+8)/4 = 5.5, ...
    assert nn.AvgPool2d(2)(x).tolist() == [[[[3.5, 5.5], [11.5, 13.5]]]]
    # padding 1, count_include_pad: the corner window holds 1 real value out of 4 slots
    y = nn.AvgPool2d(2, stride=2, padding=1)(x)
    assert y.tolist()[0][0][0] == [0.25, (2 + 3) / 4, 4 / 4]


def test_pool1d_by_hand():
    x = _t([[[1, 3, 2, 5, 4, 0]]])
    assert nn.MaxPool1d(2)(x).tolist() == [[[3.0, 5.0, 4.0]]]
    assert nn.MaxPool1d(3, stride=1)(x).tolist() == [[[3.0, 5.0, 5.0, 5.0]]]
    assert nn.AvgPool1d(2)(x).tolist() == [[[2.0, 3.5, 2.0]]]


def test_pool_gradcheck(kernels):
    # distinct values, so no window has a tie for its maximum
    x = _t(np.random.default_rng(3).permutation(2 * 3 * 5 * 4).reshape(2, 3, 5, 4) / 10, requires_grad=True)
    check_layer(nn.MaxPool2d(2, stride=1, padding=1), x)
    check_layer(nn.AvgPool2d(3, stride=2, padding=1), x)
    check_layer(nn.MaxPool1d(2), x[0])
    check_layer(nn.AvgPool1d(2, stride=1), x[0])


def test_max_pool_gradient_goes_to_the_winner():
    x = _t([[GRID]], requires_grad=True)
    nn.MaxPool2d(2)(x).sum().backward()
    expected = np.zeros((4, 4))
    expected[1, 1] = expected[1, 3] = expected[3, 1] = expected[3, 3] = 1
    np.testing.assert_array_equal(_np(x.grad)[0, 0], expected)


def test_pool_bad_input_names_layer():
    with pytest.raises(ValueError) as err:
        nn.MaxPool2d(2)(minidl.zeros(2, 3, 4, 4, 4))
    assert str(err.value).startswith("MaxPool2d(kernel_size=2, stride=2") and "got (2, 3, 4, 4, 4)" in str(
        err.value
    )
    with pytest.raises(
        ValueError, match="AvgPool2d.*expected input \\(N, C, H, W\\) or \\(C, H, W\\), got \\(4,\\)"
    ):
        nn.AvgPool2d(2)(minidl.zeros(4))
    with pytest.raises(ValueError, match="MaxPool1d.*\\(N, C, L\\) or \\(C, L\\), got \\(1, 1, 2, 2\\)"):
        nn.MaxPool1d(2)(minidl.zeros(1, 1, 2, 2))


# ---------------------------------------------------------------------------------------------
# Flatten


def test_flatten_shapes_and_values():
    x = _t(np.arange(120.0).reshape(2, 3, 4, 5))
    y = nn.Flatten()(x)
    assert y.shape == (2, 60) and y.tolist() == np.arange(120.0).reshape(2, 60).tolist()
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)


def test_flatten_gradcheck_and_error():
    check_layer(nn.Flatten(), _randn(2, 2, 3))
    with pytest.raises(ValueError, match="Flatten\\(start_dim=1, end_dim=-1\\) cannot flatten.*got \\(5,\\)"):
        nn.Flatten()(minidl.zeros(5))


# ---------------------------------------------------------------------------------------------
# Activations

XS = [-2.0, -0.5, 0.0, 0.5, 3.0]


def test_elementwise_activations_by_hand():
    x = _t(XS)
    assert nn.ReLU()(x).tolist() == [0.0, 0.0, 0.0, 0.5, 3.0]
    assert nn.LeakyReLU(0.1)(x).tolist() == pytest.approx([-0.2, -0.05, 0.0, 0.5, 3.0])
    assert nn.LeakyReLU()(x).tolist()[0] == pytest.approx(-0.02)
    assert nn.Sigmoid()(x).tolist() == pytest.approx([1 / (1 + math.exp(-v)) for v in XS], rel=1e-12)
    assert nn.Tanh()(x).tolist() == pytest.approx([math.tanh(v) for v in XS], rel=1e-12)
    gelu = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in XS]
    assert nn.GELU()(x).tolist() == pytest.approx(gelu, rel=1e-12, abs=1e-15)
    gelu_tanh = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) for v in XS]
    assert nn.GELU("tanh")(x).tolist() == pytest.approx(gelu_tanh, rel=1e-12, abs=1e-15)


def test_softmax_and_log_softmax_by_hand():
    x = _t([[1.0, 2.0, 3.0], [0.0, 0.0, math.log(2.0)]])
    total = math.exp(1) + math.exp(2) + math.exp(3)
    expected = [[math.exp(1) / total, math.exp(2) / total, math.exp(3) / total], [0.25, 0.25, 0.5]]
    y = nn.Softmax(dim=1)(x)
    np.testing.assert_allclose(_np(y), expected, rtol=1e-12)
    np.testing.assert_allclose(_np(nn.LogSoftmax(dim=-1)(x)), np.log(expected), rtol=1e-12)
    # along dim 0 each column sums to one
    np.testing.assert_allclose(_np(nn.Softmax(dim=0)(x)).sum(axis=0), [1, 1, 1], rtol=1e-12)


def test_softmax_without_dim_warns_and_uses_pytorchs_choice():
    x = _t([[1.0, 2.0], [3.0, 5.0]])
    with pytest.warns(UserWarning, match="no dim given; using dim=1"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(_np(y).sum(axis=1), [1, 1])


@pytest.mark.parametrize(
    "layer",
    [
        nn.ReLU(),
        nn.LeakyReLU(0.2),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.GELU(),
        nn.GELU("tanh"),
        nn.Softmax(1),
        nn.LogSoftmax(0),
    ],
    ids=repr,
)
def test_activation_gradcheck(layer, kernels):
    x = _t([[-1.3, -0.2, 0.4], [0.7, 1.9, -2.5]], requires_grad=True)  # away from relu's kink at 0
    check_layer(layer, x)


def test_activation_bad_input():
    with pytest.raises(TypeError, match="ReLU\\(\\) expected a Tensor input, got list"):
        nn.ReLU()([1.0, 2.0])
    with pytest.raises(TypeError, match="Sigmoid\\(\\) expected a floating-point input, got int64"):
        nn.Sigmoid()(minidl.tensor([1, 2]))
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ---------------------------------------------------------------------------------------------
# Dropout


def test_dropout_train_zeroes_about_p_and_scales_the_rest():
    x = minidl.ones(200, 500, dtype=minidl.float64)
    y = _np(nn.Dropout(0.3)(x))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01  # 100,000 draws: the std of the fraction is 0.0014
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_eval_and_p0_are_identity_and_p1_zeroes():
    x = _randn(3, 4)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    y = nn.Dropout(1.0)(x)
    assert y.tolist() == [[0.0] * 4] * 3
    y.sum().backward()
    assert x.grad.tolist() == [[0.0] * 4] * 3


def test_dropout_is_repeatable_with_a_seed():
    x = minidl.ones(10, 10)
    minidl.manual_seed(7)
    a = _np(nn.Dropout()(x))
    minidl.manual_seed(7)
    b = _np(nn.Dropout()(x))
    np.testing.assert_array_equal(a, b)


def test_dropout_gradient_is_the_mask():
    x = _randn(4, 5)
    minidl.manual_seed(11)
    y = nn.Dropout(0.4)(x)
    y.sum().backward()
    mask = _np(y) / _np(x)  # 0 or 1/(1 - p) at each element
    np.testing.assert_allclose(_np(x.grad), mask, rtol=1e-12)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.6, 12)}


def test_dropout_gradcheck_with_a_fixed_mask():
    drop = nn.Dropout(0.5)

    def seeded(x):
        minidl.manual_seed(5)  # the same mask at every evaluation
        return drop(x)

    assert gradcheck(seeded, (_randn(3, 4),))


def test_dropout_bad_p():
    with pytest.raises(ValueError, match="Dropout: p must be a probability"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout: p must be a probability"):
        minidl.functional.dropout(minidl.ones(2), -0.1)


# ---------------------------------------------------------------------------------------------
# BatchNorm

A = [[1.0, 2.0], [3.0, 6.0]]  # channel means (2, 4); biased variances (1, 4); unbiased (2, 8)
B = [[0.0, 1.0], [4.0, 3.0]]  # channel means (2, 2); biased variances (4, 1); unbiased (8, 2)


def test_batchnorm1d_train_forward_by_hand():
    bn = nn.BatchNorm1d(2, eps=0.0).double()
    # channel 0: (1, 3) -> mean 2, std 1 -> (-1, 1); channel 1: (2, 6) -> mean 4, std 2 -> (-1, 1)
    assert bn(_t(A)).tolist() == [[-1.0, -1.0], [1.0, 1.0]]
    _set(bn.weight, [2.0, 3.0])
    _set(bn.bias, [0.5, -1.0])
    assert bn(_t(A)).tolist() == [[-1.5, -4.0], [2.5, 2.0]]


def test_batchnorm_running_stats_after_two_steps():
    bn = nn.BatchNorm1d(2).double()
    bn(_t(A))
    bn(_t(B))
    # step 1: mean = 0.9 * 0 + 0.1 * (2, 4) = (0.2, 0.4);  var = 0.9 * 1 + 0.1 * (2, 8) = (1.1, 1.7)
    # step 2: mean = 0.9 * (0.2, 0.4) + 0.1 * (2, 2) = (0.38, 0.56)
    #         var  = 0.9 * (1.1, 1.7) + 0.1 * (8, 2) = (1.79, 1.73)
    np.testing.assert_allclose(_np(bn.running_mean), [0.38, 0.56], rtol=1e-12)
    np.testing.assert_allclose(_np(bn.running_var), [1.79, 1.73], rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 2
    # eval mode normalises with the running statistics
    bn.eval()
    x = [[1.0, 1.0]]
    expected = [[(1 - 0.38) / math.sqrt(1.79 + 1e-5), (1 - 0.56) / math.sqrt(1.73 + 1e-5)]]
    np.testing.assert_allclose(_np(bn(_t(x))), expected, rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 2  # eval does not count


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    bn(_t(A))
    bn(_t(B))
    # the plain average of the batch statistics: means ((2+2)/2, (4+2)/2), unbiased vars ((2+8)/2, (8+2)/2)
    np.testing.assert_allclose(_np(bn.running_mean), [2.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(_np(bn.running_var), [5.0, 5.0], rtol=1e-12)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(2, eps=0.0, affine=False, track_running_stats=False).double().eval()
    assert bn.running_mean is None and list(bn.parameters()) == [] and list(bn.state_dict()) == []
    assert bn(_t(A)).tolist() == [[-1.0, -1.0], [1.0, 1.0]]


def test_batchnorm2d_and_3d_input_match_the_formula():
    x = np.random.default_rng(4).standard_normal((3, 2, 4, 5)) * 3 + 1
    bn = nn.BatchNorm2d(2).double()
    _set(bn.weight, [1.5, -0.5])
    _set(bn.bias, [0.25, 2.0])
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * np.array([1.5, -0.5]).reshape(1, 2, 1, 1) + np.array(
        [0.25, 2.0]
    ).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(_np(bn(_t(x))), expected, rtol=1e-10, atol=1e-12)
    n = 3 * 4 * 5
    np.testing.assert_allclose(_np(bn.running_var), 0.9 + 0.1 * var.reshape(2) * n / (n - 1), rtol=1e-12)
    # BatchNorm1d on (N, C, L) takes statistics over N and L
    x3 = x.reshape(3, 2, 20)
    np.testing.assert_allclose(
        _np(nn.BatchNorm1d(2, eps=1e-5).double()(_t(x3))),
        ((x - mean) / np.sqrt(var + 1e-5)).reshape(3, 2, 20),
        rtol=1e-10,
        atol=1e-12,
    )


def test_batchnorm_gradcheck_train_and_eval():
    bn = nn.BatchNorm2d(2).double()
    _set(bn.weight, [1.5, -0.5])
    _set(bn.bias, [0.25, 2.0])
    x = _randn(3, 2, 2, 2)
    check_layer(bn, x)  # train mode: the gradient flows through the batch mean and variance too
    bn1 = nn.BatchNorm1d(3).double()
    check_layer(bn1, _randn(4, 3))
    bn1.eval()
    _set(bn1.running_mean, [0.5, -1.0, 2.0])
    _set(bn1.running_var, [2.0, 0.5, 1.0])
    check_layer(bn1, _randn(4, 3))


def test_batchnorm_bad_input_names_features():
    bn = nn.BatchNorm2d(16)
    with pytest.raises(ValueError) as err:
        bn(minidl.zeros(8, 3, 32, 32))
    assert str(err.value) == (
        "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True) "
        "expected input (N, 16, H, W), got (8, 3, 32, 32)"
    )
    with pytest.raises(
        ValueError,
        match="BatchNorm1d\\(4, .*expected input \\(N, 4\\) or \\(N, 4, L\\), got \\(2, 4, 3, 3\\)",
    ):
        nn.BatchNorm1d(4)(minidl.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(4)(minidl.zeros(1, 4))


# ---------------------------------------------------------------------------------------------
# LayerNorm


def test_layernorm_forward_by_hand():
    ln = nn.LayerNorm(3, eps=0.0).double()
    # row (1, 2, 3): mean 2, var 2/3; row (2, 4, 6): mean 4, var 8/3 -> both (-1, 0, 1) * sqrt(3/2)
    s = math.sqrt(1.5)
    np.testing.assert_allclose(_np(ln(_t([[1, 2, 3], [2, 4, 6]]))), [[-s, 0, s], [-s, 0, s]], rtol=1e-12)
    _set(ln.weight, [1.0, 2.0, -1.0])
    _set(ln.bias, [0.0, 1.0, 1.0])
    np.testing.assert_allclose(_np(ln(_t([[1, 2, 3]]))), [[-s, 1.0, 1 - s]], rtol=1e-12)


def test_layernorm_over_two_dims_matches_the_formula():
    x = np.random.default_rng(5).standard_normal((4, 2, 3))
    ln = nn.LayerNorm((2, 3), elementwise_affine=False).double()
    assert list(ln.parameters()) == []
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_np(ln(_t(x))), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10, atol=1e-12)
    # the same in eval mode: layer norm has no running statistics
    np.testing.assert_allclose(
        _np(ln.eval()(_t(x))), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10, atol=1e-12
    )


def test_layernorm_gradcheck():
    ln = nn.LayerNorm(4).double()
    _set(ln.weight, [1.0, -2.0, 0.5, 3.0])
    _set(ln.bias, [0.1, 0.2, 0.3, 0.4])
    check_layer(ln, _randn(3, 4))


def test_layernorm_bad_input():
    with pytest.raises(ValueError) as err:
        nn.LayerNorm(10)(minidl.zeros(3, 5))
    assert str(err.value) == (
        "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True) expected input (*, 10), got (3, 5)"
    )
    with pytest.raises(ValueError, match="expected input \\(\\*, 2, 3\\), got \\(3,\\)"):
        nn.LayerNorm((2, 3))(minidl.zeros(3))


# ---------------------------------------------------------------------------------------------
# Embedding


def test_embedding_lookup_and_gradient_by_hand():
    emb = nn.Embedding(4, 3).double()
    _set(emb.weight, np.arange(12.0).reshape(4, 3))
    idx = minidl.tensor([[0, 2], [3, 3]])
    y = emb(idx)
    assert y.shape == (2, 2, 3)
    assert y.tolist() == [[[0, 1, 2], [6, 7, 8]], [[9, 10, 11], [9, 10, 11]]]
    y.sum().backward()
    # row 3 was looked up twice: its gradient adds up; row 1 was never used
    assert emb.weight.grad.tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1], [2, 2, 2]]


def test_embedding_padding_idx_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(3, 2, padding_idx=1).double()
    assert emb.weight.tolist()[1] == [0.0, 0.0]
    _set(emb.weight, [[1, 2], [3, 4], [5, 6]])
    y = emb(minidl.tensor([1, 0, 1]))
    assert y.tolist() == [[3, 4], [1, 2], [3, 4]]  # the padding row's value is still returned
    y.sum().backward()
    assert emb.weight.grad.tolist() == [[1, 1], [0, 0], [0, 0]]


def test_embedding_gradcheck():
    emb = nn.Embedding(5, 2).double()
    check_layer(emb, minidl.tensor([[4, 0, 4], [1, 2, 0]]))


def test_embedding_bad_indices():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError) as err:
        emb(minidl.tensor([1, 12]))
    assert str(err.value).startswith("Embedding(10, 3): index 12 is out of range for 10 embeddings")
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(minidl.tensor([-1, 2]))
    with pytest.raises(
        TypeError, match="Embedding\\(10, 3\\): expected integer indices \\(int64\\), got float32"
    ):
        emb(minidl.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="expected the indices as an integer Tensor, got list"):
        emb([1, 2])


# ---------------------------------------------------------------------------------------------
# Loss modules


def test_loss_modules_by_hand():
    x, t = _t([1.0, 2.0]), _t([0.0, 4.0])
    assert float(nn.MSELoss()(x, t)) == pytest.approx((1 + 4) / 2)
    assert float(nn.MSELoss(reduction="sum")(x, t)) == pytest.approx(5.0)
    assert float(nn.L1Loss()(x, t)) == pytest.approx((1 + 2) / 2)
    assert nn.L1Loss(reduction="none")(x, t).tolist() == [1.0, 2.0]
    # two equal logits: p = 1/2 for each class -> -log(1/2)
    assert float(nn.CrossEntropyLoss()(_t([[0.0, 0.0]]), minidl.tensor([1]))) == pytest.approx(math.log(2))
    assert float(nn.NLLLoss()(_t([[-1.0, -2.0], [-3.0, -4.0]]), minidl.tensor([1, 0]))) == pytest.approx(2.5)
    w = _t([1.0, 3.0])
    # weighted mean: (1 * 2 + 3 * 3) / (1 + 3) for targets (0, 1) at log-probs -2 and -3
    assert float(
        nn.NLLLoss(weight=w)(_t([[-2.0, -1.0], [-1.0, -3.0]]), minidl.tensor([0, 1]))
    ) == pytest.approx(11 / 4)
    assert float(nn.BCELoss()(_t([0.5, 0.8]), _t([1.0, 0.0]))) == pytest.approx(
        (math.log(2) - math.log(0.2)) / 2
    )
    assert float(nn.BCEWithLogitsLoss()(_t([0.0]), _t([1.0]))) == pytest.approx(math.log(2))
    # pos_weight 3 triples the positive term: 3 * -log(sigmoid(0))
    assert float(nn.BCEWithLogitsLoss(pos_weight=_t([3.0]))(_t([0.0]), _t([1.0]))) == pytest.approx(
        3 * math.log(2)
    )


def test_loss_weights_are_buffers_that_move_with_the_module():
    loss = nn.CrossEntropyLoss(weight=minidl.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    loss.double()
    assert loss.weight.dtype == minidl.float64
    assert list(nn.MSELoss().state_dict()) == []


def test_loss_modules_gradcheck():
    x = _randn(3, 4)
    assert gradcheck(nn.CrossEntropyLoss(label_smoothing=0.1), (x, minidl.tensor([0, 3, 1])))
    assert gradcheck(nn.MSELoss(), (x, _randn(3, 4, requires_grad=False) + 1))
    assert gradcheck(nn.BCEWithLogitsLoss(), (x, _t(np.eye(3, 4))))


def test_loss_module_bad_reduction():
    with pytest.raises(ValueError, match="MSELoss: reduction must be"):
        nn.MSELoss(reduction="avg")


# ---------------------------------------------------------------------------------------------
# Second derivatives: the new functional ops are composed of differentiable tensor ops


def test_norm_dropout_embedding_gradgradcheck():
    F = minidl.nn.functional
    w, b = _t([1.5, -0.5], requires_grad=True), _t([0.2, 0.3], requires_grad=True)
    assert minidl.gradgradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (_randn(3, 2, 2), w, b)
    )
    assert minidl.gradgradcheck(lambda x, w, b: F.layer_norm(x, 2, w, b), (_randn(3, 2), w, b))
    assert minidl.gradgradcheck(lambda x: F.layer_norm(x, (2, 3)), (_randn(2, 2, 3),))

    def seeded(x):
        minidl.manual_seed(1)
        return F.dropout(x, 0.3) ** 2

    assert minidl.gradgradcheck(seeded, (_randn(2, 3),))
    assert minidl.gradgradcheck(lambda wt: F.embedding(minidl.tensor([1, 1, 3]), wt) ** 2, (_randn(4, 2),))


def test_functional_norm_and_embedding_errors():
    F = minidl.nn.functional
    x = minidl.zeros(4, 3)
    with pytest.raises(ValueError, match="batch_norm: training=False needs running_mean and running_var"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="batch_norm: weight must have shape \\(3,\\) .*got \\(2,\\)"):
        F.batch_norm(x, None, None, weight=minidl.ones(2), training=True)
    with pytest.raises(ValueError, match="batch_norm: momentum must be"):
        F.batch_norm(x, minidl.zeros(3), minidl.ones(3), training=True, momentum=2.0)
    with pytest.raises(ValueError, match="batch_norm: expected an input .* got shape \\(3,\\)"):
        F.batch_norm(minidl.zeros(3), None, None, training=True)
    with pytest.raises(
        ValueError, match="layer_norm: expected an input whose last 1 dim\\(s\\) are \\(4,\\)"
    ):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match="layer_norm: weight must have the normalized shape \\(3,\\)"):
        F.layer_norm(x, 3, weight=minidl.ones(4))
    with pytest.raises(IndexError, match="embedding: index 5 is out of range for 5 embeddings"):
        F.embedding(minidl.tensor([5]), minidl.zeros(5, 2))
    with pytest.raises(ValueError, match="embedding: weight must be 2-d"):
        F.embedding(minidl.tensor([0]), minidl.zeros(5))


def test_functional_batch_norm_eval_uses_the_given_statistics():
    F = minidl.nn.functional
    x = _t([[1.0, 2.0], [3.0, 4.0]])
    y = F.batch_norm(x, _t([1.0, 0.0]), _t([4.0, 1.0]), _t([2.0, 1.0]), _t([0.0, 1.0]), eps=0.0)
    # channel 0: (x - 1) / 2 * 2 ; channel 1: (x - 0) / 1 * 1 + 1
    assert y.tolist() == [[0.0, 3.0], [2.0, 5.0]]


# ---------------------------------------------------------------------------------------------
# A small network end to end: gradients reach every parameter


def test_network_gradcheck_end_to_end():
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8, 3),
        nn.LayerNorm(3),
        nn.Tanh(),
    ).double()
    x = _randn(2, 1, 4, 4)
    check_layer(net, x)


# ---------------------------------------------------------------------------------------------
# Against PyTorch, when it is installed (never a dependency)


def _torch_pair(torch, ours, theirs):
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value.numpy())))
    return ours, theirs


@pytest.mark.parametrize(
    "make",
    [
        lambda nn_: nn_.Linear(5, 3),
        lambda nn_: nn_.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
        lambda nn_: nn_.Conv1d(4, 2, 3, dilation=2),
        lambda nn_: nn_.BatchNorm2d(4),
        lambda nn_: nn_.LayerNorm(5),
        lambda nn_: nn_.GELU(),
        lambda nn_: nn_.MaxPool2d(2),
        lambda nn_: nn_.AvgPool2d(3, 1, 1),
    ],
    ids=["Linear", "Conv2d", "Conv1d", "BatchNorm2d", "LayerNorm", "GELU", "MaxPool2d", "AvgPool2d"],
)
def test_layers_agree_with_pytorch(make):
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_pair(torch, make(nn).double(), make(torch.nn).double())
    shape = {"Conv1d": (2, 4, 9), "Linear": (3, 5), "LayerNorm": (3, 5)}.get(
        type(ours).__name__, (2, 4, 6, 5)
    )
    x = np.random.default_rng(6).standard_normal(shape)
    xm, xt = _t(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm), theirs(xt)  # one step each: BatchNorm's running statistics move once
    g = np.random.default_rng(7).standard_normal(ym.shape)
    np.testing.assert_allclose(_np(ym), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    ym.backward(_t(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(_np(xm.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(p.grad), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    for (name, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
