"""conv_transpose1d/2d and nn.ConvTranspose1d/2d (minidl/functional/conv.py, nn/conv.py): PyTorch's
values, dtypes and gradients under both kernel settings, gradcheck, the layers against torch.nn
with copied weights, PyTorch's initialisation bounds, and the errors.

Geometries are drawn: stride, padding, dilation, groups, output_padding (up to the largest that
PyTorch allows: below the stride or the dilation, the second case taking the crop path), size-1
sizes, an empty batch, unbatched inputs, non-contiguous layouts.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, compare, torch

import minidl
import minidl.nn.functional as F
from minidl import gradcheck, gradgradcheck, nn
from minidl.backend import geometry
from minidl.errors import ShapeError

from strategies import LAYOUTS, fill, leaf, with_fixtures, with_layout


@st.composite
def geometries(draw, dims=2, min_batch=0):
    """Arrays (x, weight, bias) and the keyword arguments of one transposed convolution."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    window = {}
    for name, low, high in (("stride", 1, 3), ("dilation", 1, 2)):
        window[name] = tuple(draw(st.integers(low, high)) for _ in range(dims))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    window["padding"] = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    window["output_padding"] = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(window["stride"], window["dilation"])
    )
    out = [
        geometry.conv_transpose2d_output_size(n, k, s, p, d, o)
        for n, k, s, p, d, o in zip(
            sizes, kernel, *(window[a] for a in ("stride", "padding", "dilation", "output_padding"))
        )
    ]
    assume(min(out) >= 1)
    batch = draw(st.one_of(st.just(None), st.integers(min_batch, 2)))  # None: unbatched
    x_shape = ((batch,) if batch is not None else ()) + (c_in,) + sizes
    seeds = draw(st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3))
    layouts = draw(st.lists(st.sampled_from(LAYOUTS), min_size=2, max_size=2))
    x = with_layout(fill(x_shape, "real", seeds[0]), layouts[0])
    w = with_layout(fill((c_in, c_out // groups) + kernel, "real", seeds[1]), layouts[1])
    b = fill((c_out,), "real", seeds[2]) if draw(st.booleans()) else None
    return x, w, b, dict(window, groups=groups)


def _ours(dims):
    return F.conv_transpose2d if dims == 2 else F.conv_transpose1d


def _theirs(dims):
    return torch.nn.functional.conv_transpose2d if dims == 2 else torch.nn.functional.conv_transpose1d


@settings(with_fixtures, max_examples=60)
@given(dims=st.sampled_from([1, 2]), data=st.data())
def test_matches_pytorch(kernels, dims, data):
    x, w, b, kw = data.draw(geometries(dims))
    arrays = (x, w) if b is None else (x, w, b)
    compare(
        lambda *t: _ours(dims)(*t, **kw),
        lambda *t: _theirs(dims)(*t, **kw),
        *arrays,
    )


@settings(with_fixtures, max_examples=40)
@given(data=st.data())
def test_float32_matches_pytorch(kernels, data):
    x, w, b, kw = data.draw(geometries(2))
    compare(
        lambda x, w: F.conv_transpose2d(x, w, **kw),
        lambda x, w: torch.nn.functional.conv_transpose2d(x, w, **kw),
        x.astype(np.float32),
        w.astype(np.float32),
    )


@settings(with_fixtures, max_examples=10)
@given(dims=st.sampled_from([1, 2]), data=st.data())
def test_gradcheck(kernels, dims, data):
    x, w, b, kw = data.draw(geometries(dims, min_batch=1))
    leaves = tuple(leaf(a) for a in ((x, w) if b is None else (x, w, b)))
    assert gradcheck(lambda *t: _ours(dims)(*t, **kw), leaves)


def test_second_derivative(kernels):
    x, w = fill((1, 2, 3, 3), "real", 1), fill((2, 2, 2, 2), "real", 2)
    kw = dict(stride=2, padding=1, output_padding=1)
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, **kw), (leaf(x), leaf(w)))
    # the crop path: output_padding >= stride, allowed by the dilation
    kw = dict(stride=1, padding=1, output_padding=1, dilation=2)
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, **kw), (leaf(x), leaf(w)))


def test_is_the_input_gradient_of_conv2d(kernels):
    # conv_transpose2d(g, W) = d<conv2d(x, W), g>/dx: the definition, checked through autograd
    x = minidl.from_numpy(fill((2, 3, 7, 7), "real", 3)).requires_grad_()
    w = minidl.from_numpy(fill((4, 3, 3, 2), "real", 4))
    y = F.conv2d(x, w, stride=2, padding=1)
    g = minidl.from_numpy(fill(y.shape, "real", 5))
    (y * g).sum().backward()
    got = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1))
    assert got.shape == x.shape
    np.testing.assert_allclose(got.numpy(), x.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dims", [1, 2])
def test_layer_matches_torch_nn(dims, kernels):
    Ours = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose1d
    Theirs = torch.nn.ConvTranspose2d if dims == 2 else torch.nn.ConvTranspose1d
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    ours, theirs = Ours(4, 6, 3, dtype="float64", **kw), Theirs(4, 6, 3, **kw).double()
    assert ours.weight.shape == tuple(theirs.weight.shape) == (4, 3) + (3,) * dims
    ours.weight.data[...] = theirs.weight.detach().numpy()
    ours.bias.data[...] = theirs.bias.detach().numpy()
    x = fill((2, 4) + (5,) * dims, "real", 6)
    assert_same(ours(minidl.from_numpy(x)), theirs(torch.from_numpy(x)))
    assert_same(ours(minidl.from_numpy(x[0])), theirs(torch.from_numpy(x[0])))  # unbatched
    wanted = (2, 6) + (10,) * dims  # output_size picks output_padding (0 here, not the layer's 1)
    assert_same(
        ours(minidl.from_numpy(x), output_size=wanted), theirs(torch.from_numpy(x), output_size=wanted)
    )
    assert repr(ours) == repr(theirs)


def test_layer_initialisation_is_pytorchs():
    # fan_in of a transposed weight (C_in, C_out/groups, k, k) is C_out/groups * k * k
    layer = nn.ConvTranspose2d(8, 6, 3, groups=2)
    bound = 1 / math.sqrt(3 * 9)
    for p in (layer.weight, layer.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound
        assert np.abs(a).max() > 0.8 * bound  # uniform over the whole range, not a narrower one
    assert nn.ConvTranspose2d(2, 3, 2, bias=False).bias is None


def test_layer_output_size_errors():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2)
    x = minidl.randn(1, 2, 3, 3)
    with pytest.raises(ValueError, match=r"requested an output size of \[9, 9\].*\[7, 7\] to \[8, 8\]"):
        layer(x, output_size=(9, 9))
    with pytest.raises(ValueError, match="output_size must have 2 spatial sizes"):
        layer(x, output_size=(7,))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(TypeError, match="padding"):
        nn.ConvTranspose2d(2, 3, 3, padding="same")


@pytest.mark.parametrize(
    "kwargs, weight, words",
    [
        (dict(output_padding=1), (4, 3, 3, 3), ["output_padding (1, 1)", "smaller than either stride"]),
        (dict(stride=2, dilation=2, output_padding=2), (4, 3, 3, 3), ["output_padding (2, 2)"]),
        (dict(padding=3), (4, 3, 3, 3), ["padding (3, 3)", "no output"]),
        (dict(padding=-1), (4, 3, 3, 3), ["padding", "non-negative"]),
        (dict(stride=0), (4, 3, 3, 3), ["stride", "positive"]),
        (dict(groups=3), (4, 3, 3, 3), ["4 input channels", "groups=3"]),
        (dict(), (3, 3, 3, 3), ["4 channels", "expects 3"]),
        (dict(), (4, 3, 3), ["4-d weight", "(C_in, C_out/groups, kh, kw)"]),
    ],
)
def test_errors(kwargs, weight, words):
    x = minidl.randn(2, 4, 3, 3)
    with pytest.raises(ShapeError) as info:
        F.conv_transpose2d(x, minidl.randn(*weight), **kwargs)
    assert isinstance(info.value, RuntimeError)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"


def test_input_errors():
    w = minidl.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv_transpose2d: expected a 4-d or 3-d input.*\(3, 3\)"):
        F.conv_transpose2d(minidl.randn(3, 3), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        F.conv_transpose2d(minidl.randn(2, 4, 3, 3), w, minidl.randn(4))
    with pytest.raises(TypeError, match="one dtype"):
        F.conv_transpose2d(minidl.randn(2, 4, 3, 3, dtype="float64"), w)
    with pytest.raises(ValueError, match="spatial sizes must be at least 1"):
        F.conv_transpose2d(minidl.randn(2, 4, 0, 3), w)
    with pytest.raises(TypeError, match="output_padding"):
        F.conv_transpose2d(minidl.randn(2, 4, 3, 3), w, output_padding=0.5)
