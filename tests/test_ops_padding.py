"""F.pad in its four modes (minidl/functional/padding.py) against PyTorch, by gradcheck, and its errors.

Shapes: 1 to 3 padded dims of inputs with one or two leading dims (the ranks reflect, replicate
and circular take), size-1 dims, an empty batch, non-contiguous layouts; widths may be negative
(a crop) and are kept within each mode's limits (reflect: < the size; circular: <= the size).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_oracle import compare, torch

import minidl
import minidl.nn.functional as F
from minidl import gradcheck
from minidl.errors import ShapeError

from strategies import LAYOUTS, fill, leaf, with_layout

MODES = ("constant", "reflect", "replicate", "circular")


@st.composite
def padded(draw, modes=MODES, allow_empty_batch=True):
    """(mode, array, pad): an input of rank k+1 or k+2 and k (before, after) pairs that its mode
    accepts, the last dim's pair first."""
    mode = draw(st.sampled_from(modes))
    k = draw(st.integers(1, 3))
    lead = draw(st.integers(1, 2))
    first = draw(st.integers(0 if allow_empty_batch and lead == 2 else 1, 2))
    shape = (first,) + tuple(draw(st.integers(1, 3)) for _ in range(lead - 1 + k))
    pad = []
    for n in reversed(shape[-k:]):
        top = {"reflect": n - 1, "circular": n}.get(mode, 3)
        before = draw(st.integers(-(n - 1), top))  # a crop leaves at least one element
        after = draw(st.integers(-(n - 1 + min(before, 0)), top))
        if mode == "circular":  # circular crops first; then it may wrap at most once
            left = n + min(before, 0) + min(after, 0)
            before, after = min(before, left), min(after, left)
        pad += [before, after]
    seed = draw(st.integers(0, 2**32 - 1))
    layout = draw(st.sampled_from(LAYOUTS))
    return mode, with_layout(fill(shape, "real", seed), layout), tuple(pad)


@settings(max_examples=150)
@given(case=padded())
def test_pad_matches_pytorch(case):
    mode, a, pad = case
    compare(lambda x: F.pad(x, pad, mode), lambda x: torch.nn.functional.pad(x, pad, mode), a)


@settings(max_examples=40)
@given(case=padded(allow_empty_batch=False))
def test_pad_gradcheck(case):
    mode, a, pad = case
    assert gradcheck(lambda x: F.pad(x, pad, mode), (leaf(a),))


@given(mode=st.sampled_from(MODES), dtype=st.sampled_from(["float32", "int64", "int32"]))
def test_pad_keeps_dtype(mode, dtype):
    a = (np.arange(12).reshape(1, 3, 4) % 2).astype(dtype)
    compare(lambda x: F.pad(x, (2, 1), mode), lambda x: torch.nn.functional.pad(x, (2, 1), mode), a)


def test_constant_value_and_any_rank():
    a = np.arange(24.0).reshape(2, 3, 4)
    for pad in [(1, 2), (0, 1, 2, 0), (1, 1, 0, 2, 3, 0), (-1, 2, 0, 0, 1, -1)]:
        compare(lambda x: F.pad(x, pad, value=-1.5), lambda x: torch.nn.functional.pad(x, pad, value=-1.5), a)
    compare(lambda x: F.pad(x, (1, 1)), lambda x: torch.nn.functional.pad(x, (1, 1)), np.arange(3.0))


def test_reflect_replicate_circular_values():
    x = minidl.tensor([[[0.0, 1.0, 2.0, 3.0]]])
    assert F.pad(x, (3, 2), "reflect").tolist() == [[[3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    assert F.pad(x, (2, 1), "replicate").tolist() == [[[0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0]]]
    assert F.pad(x, (4, 1), "circular").tolist() == [[[0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0]]]


def test_border_gradients_accumulate_into_their_sources():
    # reflect (2, 0) of [a, b, c] is [c, b, a, b, c]: b is read twice, c twice, a once
    x = minidl.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    F.pad(x, (2, 0), "reflect").sum().backward()
    assert x.grad.tolist() == [[[1.0, 2.0, 2.0]]]
    x.grad = None
    F.pad(x, (2, 3), "replicate").sum().backward()
    assert x.grad.tolist() == [[[3.0, 1.0, 4.0]]]


def test_second_derivative():
    a = fill((1, 2, 3, 3), "real", 0)
    for mode in ("reflect", "replicate", "circular"):
        assert minidl.gradgradcheck(lambda x, mode=mode: F.pad(x, (1, 2, 2, 1), mode) ** 2, (leaf(a),))


def test_pad_is_importable_where_it_was():
    from minidl.functional.shape import pad

    assert pad is F.pad is minidl.pad


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda x: F.pad(x, (1, 1), "wrap"), ValueError, ["pad", "mode", "'wrap'"]),
        (lambda x: F.pad(x, (1,)), ShapeError, ["pad", "divisible by 2"]),
        (lambda x: F.pad(x, (1, 1) * 4), ShapeError, ["pad", "4", "(2, 3, 4)"]),
        (lambda x: F.pad(x, (1.0, 1)), TypeError, ["pad", "ints"]),
        (lambda x: F.pad(x, (-5, 0)), ShapeError, ["pad", "crops", "(2, 3, 4)"]),
        (
            lambda x: F.pad(x, (4, 0), "reflect"),
            ShapeError,
            ["reflect", "less than the input size", "(4, 0)"],
        ),
        (lambda x: F.pad(x, (0, 0, 3, 0), "reflect"), ShapeError, ["reflect", "less than", "size 3"]),
        (lambda x: F.pad(x, (5, 0), "circular"), ShapeError, ["circular", "wrap around more than once"]),
        (lambda x: F.pad(x[0, 0], (1, 1), "replicate"), ShapeError, ["replicate", "2-d or 3-d", "(4,)"]),
        (lambda x: F.pad(x, (1, 1) * 3, "reflect"), ShapeError, ["reflect", "4-d or 5-d", "(2, 3, 4)"]),
        (lambda x: F.pad(x, (1, 1), "reflect", value=2.0), ValueError, ["reflect", "no value"]),
        (lambda x: F.pad(x[:, :0], (1, 1), "reflect"), ShapeError, ["non-empty", "(2, 0, 4)"]),
        (lambda x: F.pad(x.numpy(), (1, 1)), TypeError, ["pad", "Tensor"]),
    ],
)
def test_pad_errors(call, error, words):
    x = minidl.randn(2, 3, 4)
    with pytest.raises(error) as info:
        call(x)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {info.value}"
    if error is ShapeError:  # catchable as PyTorch's RuntimeError too
        assert isinstance(info.value, RuntimeError)
