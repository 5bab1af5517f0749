"""PyTorch as the oracle for minidl's ops: run one op on both, compare values, dtypes and gradients.

Imported by the op test files; PyTorch is a test dependency (``.[dev]`` -> ``.[test-oracles]``),
so a missing torch skips the importing module with "could not import 'torch'", which CI's skip
guard (tests/skip_guard.py) refuses: in CI these comparisons always run.

    from torch_oracle import torch, compare

    compare(md.nn.functional.silu, torch.nn.functional.silu, x)   # x: a NumPy array

``compare`` hands minidl the array as it is (a non-contiguous view stays one: ``strategies.leaf``)
and PyTorch a contiguous copy, runs both, checks the result's shape, dtype and values, then, for
floating-point results, backpropagates the same random upstream gradient through both and
compares every input's gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minidl  # noqa: E402

# float64 agreement is limited by summation order; float32 by float32 rounding.
TOLERANCE = {
    np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12),
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
    np.dtype(np.float16): dict(rtol=2e-3, atol=2e-3),
}


def to_minidl(array: np.ndarray, requires_grad: bool = False) -> minidl.Tensor:
    """A tensor sharing ``array``'s memory, so its layout (strides) is kept."""
    t = minidl.from_numpy(np.asarray(array))
    return t.requires_grad_() if requires_grad else t


def to_torch(array: np.ndarray, requires_grad: bool = False) -> Any:
    # PyTorch refuses negative strides; ascontiguousarray makes a 0-d array 1-d, so reshape back
    t = torch.from_numpy(np.ascontiguousarray(array).reshape(np.shape(array)))
    return t.requires_grad_() if requires_grad else t


def as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, minidl.Tensor):
        return np.asarray(value.detach().numpy())
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def torch_dtype_name(t: Any) -> str:
    return str(t.dtype).removeprefix("torch.")


def assert_same(ours: Any, theirs: Any, what: str = "result", **tolerance: float) -> None:
    """Same shape, same dtype, same values (NaN where PyTorch has NaN) as PyTorch's tensor."""
    got, want = as_numpy(ours), as_numpy(theirs)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, PyTorch {want.shape}"
    if isinstance(theirs, torch.Tensor) and isinstance(ours, minidl.Tensor):
        assert str(ours.dtype) == torch_dtype_name(theirs), (
            f"{what}: dtype {ours.dtype}, PyTorch {torch_dtype_name(theirs)}"
        )
    if want.dtype.kind in "fc":
        tol = tolerance or TOLERANCE.get(np.dtype(want.dtype), TOLERANCE[np.dtype(np.float64)])
        np.testing.assert_allclose(got, want, equal_nan=True, err_msg=what, **tol)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def compare(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    *arrays: np.ndarray,
    grad: bool = True,
    seed: int = 0,
    **tolerance: float,
) -> None:
    """Run ``ours`` on minidl tensors and ``theirs`` on PyTorch tensors made from ``arrays``, and
    check that the results, and (with ``grad``, for float inputs) the gradients, agree.

    ``ours`` / ``theirs`` may return a tensor or a tuple of tensors (e.g. ``sort``: values and
    indices); gradients flow from every floating-point output."""
    floats = [grad and np.asarray(a).dtype.kind == "f" for a in arrays]
    md_in = [to_minidl(a, g) for a, g in zip(arrays, floats)]
    th_in = [to_torch(a, g) for a, g in zip(arrays, floats)]
    md_out, th_out = ours(*md_in), theirs(*th_in)
    md_outs = list(md_out) if isinstance(md_out, (tuple, list)) else [md_out]
    th_outs = list(th_out) if isinstance(th_out, (tuple, list)) else [th_out]
    assert len(md_outs) == len(th_outs), f"{len(md_outs)} outputs, PyTorch {len(th_outs)}"
    for i, (m, t) in enumerate(zip(md_outs, th_outs)):
        assert_same(m, t, f"output {i}", **tolerance)
    if not any(floats):
        return
    rng = np.random.default_rng(seed)
    md_roots: list[minidl.Tensor] = []
    th_roots: list[Any] = []
    for m, t in zip(md_outs, th_outs):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            upstream = rng.uniform(-1, 1, t.shape).astype(as_numpy(t).dtype)
            md_roots.append((m * minidl.from_numpy(upstream)).sum())
            th_roots.append((t * torch.from_numpy(upstream)).sum())
    if not th_roots:
        return
    sum(md_roots[1:], md_roots[0]).backward()
    sum(th_roots[1:], th_roots[0]).backward()
    for i, (m, t) in enumerate(zip(md_in, th_in)):
        if not floats[i]:
            continue
        if t.grad is None:
            assert m.grad is None or not as_numpy(m.grad).any(), (
                f"input {i}: a gradient where PyTorch has none"
            )
            continue
        assert m.grad is not None, f"input {i}: no gradient, PyTorch has one"
        assert_same(m.grad, t.grad, f"gradient of input {i}", **tolerance)


def dtype_of_result(ours: Callable[..., Any], theirs: Callable[..., Any], *values: Any) -> None:
    """The result dtype of one op on scalars/arrays of given dtypes matches PyTorch's promotion.

    ``values`` are NumPy arrays (their dtype is the tensor's) or Python numbers (passed as they are)."""
    md_args = [to_minidl(v) if isinstance(v, np.ndarray) else v for v in values]
    th_args = [to_torch(v) if isinstance(v, np.ndarray) else v for v in values]
    m, t = ours(*md_args), theirs(*th_args)
    assert str(m.dtype) == torch_dtype_name(t), f"dtype {m.dtype}, PyTorch {torch_dtype_name(t)}"


def layouts_of(shape: Sequence[int]) -> list[str]:
    """The layouts ``strategies.with_layout`` can give an array of ``shape``."""
    return ["contiguous"] if len(shape) == 0 else ["contiguous", "transposed", "strided", "reversed"]
