"""Errors a program ported from PyTorch can catch (minidl/errors.py): where PyTorch raises
RuntimeError for a shape (or dtype) problem, minidl's error is caught by ``except RuntimeError``
and by ``except ValueError`` (TypeError for dtypes), and its message still names the op and the
shapes."""

import numpy as np
import pytest
from torch_oracle import torch

import minidl as md
import minidl.nn.functional as F
from minidl.backend import kernels
from minidl.errors import DTypeError, ShapeError

TF = torch.nn.functional


# name -> (the call, given the module: minidl or torch; fragments minidl's message must contain)
SHAPE_CASES = {
    "matmul": (lambda m: m.ones(2, 4) @ m.ones(1, 3), ["matmul", "(2, 4)", "(1, 3)"]),
    "matmul batch": (lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 4), ["matmul", "(2,)", "(3,)"]),
    "matmul 0-d": (lambda m: m.matmul(m.ones(()), m.ones(3)), ["matmul", "()", "(3,)"]),
    "broadcast": (lambda m: m.ones(2, 3) + m.ones(4), ["add", "(2, 3)", "(4,)"]),
    "broadcast where": (
        lambda m: m.where(m.ones(2, 3) > 0, m.ones(2, 3), m.ones(4)),
        ["where", "(2, 3)", "(4,)"],
    ),
    "reshape": (lambda m: m.ones(2, 3).reshape(4), ["reshape", "(2, 3)", "(4,)"]),
    "view": (lambda m: m.ones(2, 3).view(3, -1, 5), ["reshape", "(2, 3)", "(3, -1, 5)"]),
    "permute": (lambda m: m.ones(2, 3).permute(1, 1), ["permute", "(1, 1)", "(2, 3)"]),
    "permute rank": (lambda m: m.ones(2, 3).permute(0, 1, 2), ["permute", "(0, 1, 2)", "(2, 3)"]),
    "expand": (lambda m: m.ones(2, 3).expand(4, 3), ["expand", "(2, 3)", "(4, 3)"]),
    "cat": (lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), ["cat", "(2, 4)", "(2, 3)"]),
    "stack": (lambda m: m.stack([m.ones(2, 3), m.ones(2, 4)]), ["stack", "(2, 3)", "(2, 4)"]),
    "conv kernel too large": (
        lambda m: _f(m).conv2d(m.ones(1, 1, 2, 2), m.ones(1, 1, 3, 3)),
        ["conv2d", "(3, 3)", "(2, 2)"],
    ),
    "conv channels": (
        lambda m: _f(m).conv2d(m.ones(1, 2, 5, 5), m.ones(1, 3, 3, 3)),
        ["conv2d", "2 channels", "3"],
    ),
    "conv1d kernel too large": (
        lambda m: _f(m).conv1d(m.ones(1, 1, 2), m.ones(1, 1, 3)),
        ["conv1d", "(3,)", "(2,)"],
    ),
    "pool window too large": (lambda m: _f(m).max_pool2d(m.ones(1, 1, 2, 2), 3), ["max_pool2d", "(2, 2)"]),
    "pool padding": (lambda m: _f(m).max_pool2d(m.ones(1, 1, 4, 4), 2, padding=2), ["max_pool2d", "padding"]),
    "avg pool window too large": (
        lambda m: _f(m).avg_pool2d(m.ones(1, 1, 2, 2), 3),
        ["avg_pool2d", "(2, 2)"],
    ),
    "conv negative stride": (
        lambda m: _f(m).conv2d(m.ones(1, 1, 4, 4), m.ones(1, 1, 3, 3), stride=-1),
        ["conv2d", "stride"],
    ),
}


def _f(m):
    return F if m is md else TF


@pytest.mark.parametrize("name", SHAPE_CASES)
def test_shape_errors_are_runtime_and_value_errors(name):
    call, fragments = SHAPE_CASES[name]
    with pytest.raises(RuntimeError):  # what PyTorch raises, so what ported code catches
        call(torch)
    for kind in (RuntimeError, ValueError, ShapeError):
        with pytest.raises(kind) as info:
            call(md)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_kernel_shape_checks_are_shape_errors():
    a = np.ones((1, 2, 3), np.float32)
    for bad in (
        lambda: kernels.matmul(a, a),
        lambda: kernels.matmul(a[0], a[0]),
        lambda: kernels.softmax_forward(a),
        lambda: kernels.conv2d_forward(a, a, 1, 0, 1, 1),
    ):
        with pytest.raises(ShapeError) as info:
            bad()
        assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)


def test_dtype_errors_are_runtime_and_type_errors():
    cases = [
        (lambda m: m.ones(2, 2) @ m.ones(2, 2, dtype=m.float64), ["matmul", "float32", "float64"]),
        (lambda m: m.tensor([True]) - m.tensor([True]), ["sub", "bool"]),
        (lambda m: -m.tensor([True]), ["neg", "bool"]),
    ]
    for call, fragments in cases:
        with pytest.raises(RuntimeError):
            call(torch)
        for kind in (RuntimeError, TypeError, DTypeError):
            with pytest.raises(kind) as info:
                call(md)
        for fragment in fragments:
            assert fragment in str(info.value)


def test_out_of_range_dims_stay_index_errors():
    # PyTorch raises IndexError here; so does minidl (not a ShapeError)
    for m in (torch, md):
        with pytest.raises(IndexError):
            m.ones(2, 3).permute(0, 5)
        with pytest.raises(IndexError):
            m.ones(2, 3).sum(4)
        with pytest.raises(IndexError):
            m.tensor(1.0).squeeze(10)


def test_the_classes_are_exported():
    assert md.ShapeError is md.errors.ShapeError is ShapeError
    assert md.DTypeError is DTypeError
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, RuntimeError)
    assert issubclass(DTypeError, TypeError) and issubclass(DTypeError, RuntimeError)
