"""Type promotion (minidl/functional/promotion.py) against PyTorch's: the dtype of every elementwise
op's result over a grid of dtypes x operand kinds (dimensioned tensor, 0-d tensor, Python number).

Each op runs on both sides; where PyTorch refuses a combination (bool - bool, -bool), minidl must
refuse it too, with a catchable error rather than NumPy's.
"""

import numpy as np
import pytest
from torch_oracle import dtype_of_result, torch, torch_dtype_name

import minidl as md
from minidl.functional import promotion

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
NUMBERS = [True, 2, 2.5]


def _extreme_theirs(fn, bound):
    """torch.maximum takes tensors only; beside a Python number, torch.clamp with that bound is the
    same op with the number promoting as a Python number (``clamp(t, min=2.5)`` is ``maximum``)."""

    def theirs(a, b):
        a, b = (torch.tensor(v) if isinstance(v, bool) else v for v in (a, b))  # clamp has no bool kernel
        if not isinstance(b, torch.Tensor):
            return torch.clamp(a, **{bound: b})
        if not isinstance(a, torch.Tensor):
            return torch.clamp(b, **{bound: a})
        return fn(a, b)

    return theirs


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (md.maximum, _extreme_theirs(torch.maximum, "min")),
    "minimum": (md.minimum, _extreme_theirs(torch.minimum, "max")),
    "where": (
        lambda a, b: md.where(md.tensor(True), a, b),
        lambda a, b: torch.where(torch.tensor(True), a, b),
    ),
    "lt": (lambda a, b: a < b, lambda a, b: a < b),
    "eq": (lambda a, b: a == b, lambda a, b: a == b),
}

UNARY = {
    name: (getattr(md, name), getattr(torch, name))
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "neg", "abs", "relu", "sign")
}


def _same_outcome(ours, theirs, *values):
    """Both refuse, or both give the same result dtype."""
    th_args = [torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in values]
    try:
        theirs(*th_args)
    except (RuntimeError, TypeError, NotImplementedError):
        md_args = [md.from_numpy(v) if isinstance(v, np.ndarray) else v for v in values]
        with pytest.raises((RuntimeError, TypeError)):
            ours(*md_args)
        return
    dtype_of_result(ours, theirs, *values)


def _operands(dtype):
    """One dtype as a dimensioned array and as a 0-d array (values 1: valid for every op)."""
    return [np.ones((2,), dtype), np.ones((), dtype)]


@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_promote_as_pytorch(name):
    ours, theirs = BINARY[name]
    failures = []
    for da in DTYPES:
        for db in DTYPES:
            for a in _operands(da):
                for b in _operands(db):
                    try:
                        _same_outcome(ours, theirs, a, b)
                    except AssertionError as err:
                        failures.append(f"{da}{list(a.shape)} {name} {db}{list(b.shape)}: {err}")
        for number in NUMBERS:
            for a in _operands(da):
                for args in ((a, number), (number, a)):
                    try:
                        _same_outcome(ours, theirs, *args)
                    except AssertionError as err:
                        failures.append(f"{name}{tuple(type(v).__name__ for v in args)} {da}: {err}")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_ops_promote_as_pytorch(name, dtype):
    ours, theirs = UNARY[name]
    for a in _operands(dtype):
        _same_outcome(ours, theirs, a)


def test_the_cases_from_the_issue():
    i32 = md.ones(3, dtype=md.int32)
    assert (i32 + 0.5).dtype == md.float32
    assert i32.cos().dtype == md.float32
    assert (i32 / i32).dtype == md.float32
    assert (i32**0.5).dtype == md.float32
    assert md.maximum(i32, md.tensor(2.5)).dtype == md.float32
    assert (i32 * 2).dtype == md.int32  # an int number keeps the tensor's integer dtype
    np.testing.assert_array_equal((i32 / md.tensor([2, 4, 8], dtype=md.int32)).numpy(), [0.5, 0.25, 0.125])


def test_clamp_promotes_its_bounds():
    ints = np.arange(4, dtype=np.int32)
    dtype_of_result(lambda t: t.clamp(1.5), lambda t: t.clamp(1.5), ints)
    dtype_of_result(lambda t: t.clamp(1, 2), lambda t: t.clamp(1, 2), ints)


def test_the_default_dtype_is_the_float_of_int_results():
    md.set_default_dtype(md.float64)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        ints = np.ones(3, np.int32)
        dtype_of_result(lambda t: t + 0.5, lambda t: t + 0.5, ints)
        dtype_of_result(lambda t: t.cos(), lambda t: t.cos(), ints)
        dtype_of_result(lambda t: t / t, lambda t: t / t, ints)
        dtype_of_result(lambda t: t * 0.5, lambda t: t * 0.5, np.ones(3, np.float32))  # floats stay
    finally:
        md.set_default_dtype(md.float32)
        torch.set_default_dtype(previous)


def test_result_type_matches_torch_result_type():
    for da in DTYPES:
        for db in DTYPES:
            for a in _operands(da):
                for b in (*_operands(db), *NUMBERS):
                    th_b = torch.from_numpy(b) if isinstance(b, np.ndarray) else b
                    want = torch_dtype_name(
                        torch.empty(0, dtype=torch.result_type(torch.from_numpy(a), th_b))
                    )
                    assert str(promotion.result_type(a, b)) == want, (da, a.shape, b)


def test_values_are_computed_in_the_promoted_dtype():
    # int32 + 0.1 in float32, as PyTorch: not float64 rounded afterwards, nor truncated to int
    x = np.array([1, 2, 16777217], np.int32)
    ours = (md.from_numpy(x) + 0.1).numpy()
    theirs = (torch.from_numpy(x) + 0.1).numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_fast_path_keeps_the_float_dtype():
    for dtype in (md.float16, md.float32, md.float64):
        x = md.ones(2, dtype=dtype)
        assert (x + x).dtype == (x * 2.0).dtype == (2 * x).dtype == (x + True).dtype == dtype


def test_numpy_scalars_count_as_numbers():
    i32 = md.ones(2, dtype=md.int32)
    assert (i32 + np.float64(0.5)).dtype == md.float32
    assert (md.ones(2, dtype=md.float16) * np.float64(2)).dtype == md.float16
    assert (i32 + np.int64(2)).dtype == md.int32
