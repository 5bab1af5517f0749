"""F.interpolate (minidl/functional/interpolate.py) and nn.Upsample against PyTorch: every mode,
size= and scale_factor= (with and without recompute_scale_factor), align_corners, float32 and
float64, size-1 and empty-batch inputs, non-contiguous layouts; gradcheck; the errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import assert_same, compare, torch

import minidl
import minidl.nn.functional as F
from minidl import gradcheck, gradgradcheck, nn
from minidl.errors import ShapeError

from strategies import LAYOUTS, fill, leaf, with_layout

RANKS = {
    "nearest": (3, 4, 5),
    "nearest-exact": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "trilinear": (5,),
}


@st.composite
def resizes(draw, min_batch=0):
    """(array, keyword arguments) of one interpolate call that PyTorch accepts."""
    mode = draw(st.sampled_from(sorted(RANKS)))
    rank = draw(st.sampled_from(RANKS[mode]))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(rank - 2))
    shape = (draw(st.integers(min_batch, 2)), draw(st.integers(1, 2))) + spatial
    kw = {"mode": mode}
    if mode not in ("nearest", "nearest-exact"):
        kw["align_corners"] = draw(st.booleans())
    if draw(st.booleans()):
        sizes = tuple(draw(st.integers(1, 9)) for _ in spatial)
        kw["size"] = sizes if draw(st.booleans()) or len(set(sizes)) > 1 else sizes[0]
    else:
        factors = tuple(draw(st.sampled_from([0.5, 0.75, 1.0, 1.5, 1.7, 2.0, 2.3, 3.0])) for _ in spatial)
        factors = tuple(f if n * f >= 1 else 1.0 for n, f in zip(spatial, factors))
        kw["scale_factor"] = factors if len(set(factors)) > 1 else factors[0]
        kw["recompute_scale_factor"] = draw(st.sampled_from([None, False, True]))
    seed = draw(st.integers(0, 2**32 - 1))
    return with_layout(fill(shape, "real", seed), draw(st.sampled_from(LAYOUTS))), kw


def _pytorch_grad_differs(a, kw):
    """PyTorch's 1-d/3-d nearest backward takes the m = n and m = 2n shortcuts its forward does not
    (see interpolate.py), so with the caller's scale there, its gradient is not its forward's."""
    if kw["mode"] != "nearest" or a.ndim == 4 or "scale_factor" not in kw or kw["recompute_scale_factor"]:
        return False
    factors = (
        kw["scale_factor"] if isinstance(kw["scale_factor"], tuple) else (kw["scale_factor"],) * (a.ndim - 2)
    )
    return any(int(n * f) in (n, 2 * n) and f not in (1.0, 2.0) for n, f in zip(a.shape[2:], factors))


@settings(max_examples=200)
@given(case=resizes(), dtype=st.sampled_from([np.float64, np.float32]))
def test_matches_pytorch(case, dtype):
    a, kw = case
    compare(
        lambda x: F.interpolate(x, **kw),
        lambda x: torch.nn.functional.interpolate(x, **kw),
        a.astype(dtype),
        grad=not _pytorch_grad_differs(a, kw),
    )


@settings(max_examples=30)
@given(case=resizes(min_batch=1))
def test_gradcheck(case):
    a, kw = case
    assert gradcheck(lambda x: F.interpolate(x, **kw), (leaf(a),))


def test_second_derivative():
    a = fill((1, 2, 3, 4), "real", 0)
    assert gradgradcheck(lambda x: F.interpolate(x, size=(5, 7), mode="bilinear") ** 2, (leaf(a),))
    assert gradgradcheck(lambda x: F.interpolate(x, scale_factor=1.5) ** 2, (leaf(a),))


def test_coordinate_mapping():
    x = minidl.tensor([[[0.0, 1.0, 2.0, 3.0]]])
    half = [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0]  # pixel centres: src = (j + 0.5) / 2 - 0.5
    assert F.interpolate(x, scale_factor=2, mode="linear").tolist() == [[half]]
    corners = F.interpolate(x, size=7, mode="linear", align_corners=True).tolist()
    assert corners == [[[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]]]  # src = j * (4 - 1) / (7 - 1)
    assert F.interpolate(x, size=3, mode="nearest").tolist() == [[[0.0, 1.0, 2.0]]]  # floor(j * 4/3)
    assert F.interpolate(x, size=3, mode="nearest-exact").tolist() == [[[0.0, 2.0, 3.0]]]


def test_upsample_matches_torch_nn():
    a = fill((2, 3, 4, 5), "real", 1)
    for kw in (
        dict(scale_factor=2, mode="bilinear"),
        dict(size=(3, 7)),
        dict(scale_factor=1.5, mode="nearest-exact"),
    ):
        ours, theirs = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert repr(ours) == repr(theirs)
        assert_same(ours(minidl.from_numpy(a)), theirs(torch.from_numpy(a)))


@pytest.mark.parametrize(
    "kwargs, shape, error, words",
    [
        (dict(size=4, scale_factor=2), (1, 1, 3), ValueError, ["only one of size or scale_factor"]),
        (dict(), (1, 1, 3), ValueError, ["either size or scale_factor"]),
        (dict(size=4, mode="bicubic"), (1, 1, 3, 3), ValueError, ["mode", "'bicubic'"]),
        (dict(size=4, align_corners=True), (1, 1, 3), ValueError, ["align_corners", "'nearest'"]),
        (dict(size=4, recompute_scale_factor=True), (1, 1, 3), ValueError, ["recompute_scale_factor"]),
        (dict(size=(4, 4)), (1, 1, 3), ShapeError, ["size (4, 4)", "(1, 1, 3)"]),
        (dict(scale_factor=(2.0,)), (1, 1, 3, 3), ShapeError, ["scale_factor (2.0,)"]),
        (dict(size=4, mode="bilinear"), (1, 1, 3), ShapeError, ["'bilinear' needs a 4-d input", "(1, 1, 3)"]),
        (dict(size=4, mode="linear"), (1, 1, 3, 3), ShapeError, ["'linear' needs a 3-d input"]),
        (dict(size=4), (1, 3), ShapeError, ["3-d, 4-d or 5-d", "(1, 3)"]),
        (dict(size=0), (1, 1, 3), ShapeError, ["must be positive", "(0,)"]),
        (dict(scale_factor=0.2), (1, 1, 3), ShapeError, ["must be positive"]),
        (dict(size=4), (1, 0, 3), ShapeError, ["only the batch may be empty"]),
        (dict(size=4.0), (1, 1, 3), TypeError, ["size must be an int"]),
        (dict(size=4, antialias=True), (1, 1, 3, 3), NotImplementedError, ["antialias"]),
    ],
)
def test_errors(kwargs, shape, error, words):
    with pytest.raises(error) as info:
        F.interpolate(minidl.zeros(*shape), **kwargs)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match="interpolate: expected a floating-point input, got int64"):
        F.interpolate(minidl.zeros(1, 1, 3, dtype="int64"), size=4)
